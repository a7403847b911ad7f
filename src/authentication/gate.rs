//! P9: the one way in for every Argon2 evaluation of a staff password — the login, a password
//! change, the second factor's set-up, the command line's export — so that no flood of
//! logins can exhaust the server and no burst of guesses gets more than five evaluated.
//!
//! - **A few evaluations at once.** Argon2 runs only on the gate's own `EVALUATORS` threads,
//!   with at most `QUEUE` more checks waiting; beyond that a check is refused at once
//!   (`Refusal::Busy`, a 503 the user can retry). A login costs Argon2id 19 MiB for the
//!   password hash and, for an investigator, Argon2id 64 MiB × 3 passes more to unwrap their
//!   own key (`desk::unlock`); a password change also re-wraps it. The whole check runs on one
//!   gate thread, so the memory all the checks ever hold at once is about
//!   `EVALUATORS` × (64 + 19) MiB, whatever arrives. Two, because the development and
//!   production machines have two cores: Argon2 is CPU-bound, so a third thread would add
//!   ~83 MiB and wait time without adding throughput. Keeping the work on fixed threads also
//!   keeps the allocator's freed Argon2 buffers in two arenas rather than one per thread of
//!   the blocking pool. The job owns what it needs, so a client that hangs up mid-check does
//!   not free a slot while its Argon2 still runs.
//! - **Guesses counted before they are evaluated.** Each check first takes one of the
//!   account's `GUESSES` attempts per `WINDOW` (`Throttle::try_count`); a check that is
//!   refused as busy gives it back, one whose password was right gives it back
//!   (`Guess::right`), every other keeps it. So however many guesses arrive together, at
//!   most five per account per window are evaluated. Names are counted whether or not an
//!   account has them, so the throttle tells nothing about which names exist, and the table
//!   refuses new names rather than forget a live count when it is full (`WhenFull::RefuseNew`).
//! - **Names capped before any work**: longer than any account's name (`MAX_USERNAME_BYTES`)
//!   is refused before it is counted, hashed or written anywhere.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::throttle::{self, Throttle, WhenFull};

/// Threads that run Argon2 (see the module comment for why two).
pub const EVALUATORS: usize = 2;
/// Checks that may wait for a free thread; a login waits at most about
/// `QUEUE / EVALUATORS` investigator logins (≈ 0.4 s each here), under 2 s.
pub const QUEUE: usize = 8;
/// Password guesses evaluated per account per window (P8, P9).
pub const GUESSES: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest username an account can have (`accounts::validate`: 2 to 32 ASCII
/// characters); anything longer cannot be an account and costs nothing.
pub const MAX_USERNAME_BYTES: usize = 32;

/// Why a password was not checked. None of them evaluated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the username is longer than any account's")]
    NameTooLong,
    #[error("too many password attempts for this account; wait 15 minutes")]
    TooManyGuesses,
    #[error("too many password checks at once; try again in a moment")]
    Busy,
    #[error("the password checker has stopped")]
    Stopped,
}

type Job = Box<dyn FnOnce() + Send>;

/// See the module comment. Held in `AppState`; the command line makes its own.
pub struct PasswordGate {
    jobs: mpsc::SyncSender<Job>,
    guesses: Arc<Throttle<[u8; 16]>>,
}

/// One admitted guess at an account's password, handed to the check while it runs.
pub struct Guess {
    key: [u8; 16],
    guesses: Arc<Throttle<[u8; 16]>>,
    right: AtomicBool,
}

impl Guess {
    /// The password was right (and any second factor too): this guess does not count
    /// against the account. Other guesses in the window still do.
    pub fn right(&self) {
        self.right.store(true, Ordering::SeqCst);
    }
}

impl Drop for Guess {
    fn drop(&mut self) {
        if self.right.load(Ordering::SeqCst) {
            self.guesses.release(&self.key);
        }
    }
}

impl PasswordGate {
    /// The service's gate: `EVALUATORS` threads, `QUEUE` waiting checks.
    pub fn start() -> std::io::Result<PasswordGate> {
        Self::with_threads(EVALUATORS, QUEUE)
    }

    /// A gate with `evaluators` threads and room for `queue` waiting checks.
    pub fn with_threads(evaluators: usize, queue: usize) -> std::io::Result<PasswordGate> {
        let (jobs, rx) = mpsc::sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..evaluators.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    // The lock is held only while waiting for the next job; a poisoned lock
                    // means another evaluator panicked between jobs, which left nothing
                    // half-done.
                    let job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // the gate is gone
                    }
                })?;
        }
        Ok(PasswordGate {
            jobs,
            guesses: Arc::new(Throttle::bounded(
                GUESSES,
                WINDOW,
                throttle::DEFAULT_CAPACITY,
                WhenFull::RefuseNew,
            )),
        })
    }

    /// Checks a password of `username` with `check`, which runs on an evaluator thread and
    /// calls `Guess::right` when the password was right. Refused before any work when the
    /// name is too long, the account has no guess left in this window, or the evaluators
    /// and their queue are taken.
    pub async fn check<T, F>(&self, username: &str, check: F) -> Result<T, Refusal>
    where
        T: Send + 'static,
        F: FnOnce(&Guess) -> T + Send + 'static,
    {
        let reply = self.submit(username, check)?;
        reply.await.map_err(|_| Refusal::Stopped)
    }

    /// `check` for the command line: waits on the calling thread (never call it on an
    /// async worker).
    pub fn check_blocking<T, F>(&self, username: &str, check: F) -> Result<T, Refusal>
    where
        T: Send + 'static,
        F: FnOnce(&Guess) -> T + Send + 'static,
    {
        let reply = self.submit(username, check)?;
        reply.blocking_recv().map_err(|_| Refusal::Stopped)
    }

    /// Argon2 work that is not a guess (hashing a new password at enrolment, wrapping keys
    /// at a rotation): the same threads and queue, no account counted.
    pub async fn work<T, F>(&self, work: F) -> Result<T, Refusal>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Box::new(move || {
            let _ = tx.send(work());
        }))?;
        rx.await.map_err(|_| Refusal::Stopped)
    }

    fn submit<T, F>(
        &self,
        username: &str,
        check: F,
    ) -> Result<tokio::sync::oneshot::Receiver<T>, Refusal>
    where
        T: Send + 'static,
        F: FnOnce(&Guess) -> T + Send + 'static,
    {
        if username.len() > MAX_USERNAME_BYTES {
            return Err(Refusal::NameTooLong);
        }
        let key = account_key(username);
        self.guesses.try_count(key).map_err(|e| match e {
            throttle::Refused::Exhausted => Refusal::TooManyGuesses,
            throttle::Refused::Full => Refusal::Busy,
        })?;
        let guess = Guess {
            key,
            guesses: self.guesses.clone(),
            right: AtomicBool::new(false),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let sent = self.send(Box::new(move || {
            let out = check(&guess);
            drop(guess);
            let _ = tx.send(out);
        }));
        if let Err(refusal) = sent {
            // Never evaluated: the guess does not count.
            self.guesses.release(&key);
            return Err(refusal);
        }
        Ok(rx)
    }

    fn send(&self, job: Job) -> Result<(), Refusal> {
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => Refusal::Busy,
            TrySendError::Disconnected(_) => Refusal::Stopped,
        })
    }
}

/// The throttle's key for a name: fixed-size, so a full table is a few MiB.
fn account_key(username: &str) -> [u8; 16] {
    let digest = Sha256::digest(username.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn the_cap_matches_the_longest_possible_username() {
        let longest = "a".repeat(MAX_USERNAME_BYTES);
        assert!(crate::accounts::validate(&longest, "long enough password").is_ok());
        let longer = "a".repeat(MAX_USERNAME_BYTES + 1);
        assert!(crate::accounts::validate(&longer, "long enough password").is_err());
    }

    #[test]
    fn a_long_name_is_refused_without_running_anything() {
        let gate = PasswordGate::with_threads(1, 1).unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let name = "x".repeat(16 * 1024);
        let out = gate.check_blocking(&name, move |_| r.store(true, Ordering::SeqCst));
        assert_eq!(out, Err(Refusal::NameTooLong));
        assert!(!ran.load(Ordering::SeqCst));
    }

    /// Forty guesses at once: five are evaluated, the rest refused before Argon2.
    #[test]
    fn concurrent_guesses_are_counted_before_they_are_evaluated() {
        let gate = Arc::new(PasswordGate::with_threads(2, 64).unwrap());
        let evaluated = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..40)
            .map(|_| {
                let (gate, evaluated) = (gate.clone(), evaluated.clone());
                std::thread::spawn(move || {
                    gate.check_blocking("desk1", move |_wrong| {
                        std::thread::sleep(Duration::from_millis(20));
                        evaluated.fetch_add(1, Ordering::SeqCst);
                    })
                })
            })
            .collect();
        let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(evaluated.load(Ordering::SeqCst), 5);
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 5);
        assert!(outcomes
            .iter()
            .all(|o| o.is_ok() || *o == Err(Refusal::TooManyGuesses)));
        // The right password later in the window is not evaluated either.
        assert_eq!(
            gate.check_blocking("desk1", |g| g.right()),
            Err(Refusal::TooManyGuesses)
        );
        // Another account is not affected.
        assert_eq!(gate.check_blocking("admin1", |g| g.right()), Ok(()));
    }

    #[test]
    fn a_right_password_gives_its_guess_back_and_a_busy_refusal_costs_none() {
        let gate = Arc::new(PasswordGate::with_threads(1, 1).unwrap());
        for _ in 0..10 {
            gate.check_blocking("a", |g| g.right()).unwrap();
        }
        for _ in 0..4 {
            gate.check_blocking("a", |_| ()).unwrap();
        }
        gate.check_blocking("a", |g| g.right()).unwrap();
        gate.check_blocking("a", |_| ()).unwrap();
        assert_eq!(
            gate.check_blocking("a", |g| g.right()),
            Err(Refusal::TooManyGuesses),
            "a right password does not forgive the other guesses"
        );
        // One check running and one waiting take the evaluator and its queue: the next is
        // refused as busy, and that refusal costs the account nothing.
        let (started_tx, started) = mpsc::channel::<()>();
        let (release, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let holders: Vec<_> = ["c", "d"]
            .into_iter()
            .map(|name| {
                let (gate, started_tx, release_rx) =
                    (gate.clone(), started_tx.clone(), release_rx.clone());
                let t = std::thread::spawn(move || {
                    gate.check_blocking(name, move |_| {
                        started_tx.send(()).unwrap();
                        release_rx.lock().unwrap().recv().unwrap();
                    })
                });
                if name == "c" {
                    started.recv().unwrap();
                } else {
                    std::thread::sleep(Duration::from_millis(100)); // "d" is queued
                }
                t
            })
            .collect();
        for _ in 0..20 {
            assert_eq!(gate.check_blocking("b", |_| ()), Err(Refusal::Busy));
        }
        release.send(()).unwrap();
        release.send(()).unwrap();
        for t in holders {
            t.join().unwrap().unwrap();
        }
        for _ in 0..5 {
            gate.check_blocking("b", |_| ()).unwrap();
        }
        assert_eq!(
            gate.check_blocking("b", |_| ()),
            Err(Refusal::TooManyGuesses)
        );
    }
}
