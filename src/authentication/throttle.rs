//! In-memory attempt throttles. Nothing here reaches the disk, and entries expire.
//! Staff logins are counted per account (no addresses); reporter attempts per keyed hash of
//! the address's network (/24 for IPv4, /64 for IPv6) under a key that lives only in memory
//! and changes with each start (P4).
//!
//! P9: a throttle holds at most `capacity` entries whatever a flood sends, and each call does
//! a hash look-up plus an amortized-constant sweep of expired entries from the front of an
//! insertion-ordered queue (every entry's window has the same length, so insertion order is
//! expiry order): no call walks the whole table.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Entries a throttle holds by default: 65,536 keys of 16 bytes is a few MiB at most.
pub const DEFAULT_CAPACITY: usize = 1 << 16;

/// What a full throttle does with a key it has no entry for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Forget the oldest entry to make room. For counts whose loss costs nothing that
    /// matters (refused card attempts: a card has 95 random bits).
    EvictOldest,
    /// Refuse the new key and keep every live count. For password guesses: an attacker
    /// must never be able to flush an account's count by sending other names.
    RefuseNew,
}

/// Why `try_count` did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The key used up its attempts in this window.
    Exhausted,
    /// The table is full of live entries and refuses new keys (`WhenFull::RefuseNew`).
    Full,
}

struct Slot {
    count: u32,
    since: Instant,
}

struct Table<K> {
    slots: HashMap<K, Slot>,
    /// One record per slot, oldest first, plus records left behind by `clear` (their slot
    /// is gone or newer); the queue's length is what the capacity bounds.
    order: VecDeque<(K, Instant)>,
}

/// Counts attempts per key within a fixed window that starts at the key's first attempt.
pub struct Throttle<K> {
    limit: u32,
    window: Duration,
    capacity: usize,
    when_full: WhenFull,
    table: Mutex<Table<K>>,
}

impl<K: Eq + Hash + Clone> Throttle<K> {
    /// `limit` attempts per `window`, `DEFAULT_CAPACITY` entries, the oldest forgotten first.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self::bounded(limit, window, DEFAULT_CAPACITY, WhenFull::EvictOldest)
    }

    pub fn bounded(limit: u32, window: Duration, capacity: usize, when_full: WhenFull) -> Self {
        let capacity = capacity.max(1);
        Throttle {
            limit,
            window,
            capacity,
            when_full,
            table: Mutex::new(Table {
                slots: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    /// The table with its expired entries swept out.
    fn table(&self, now: Instant) -> std::sync::MutexGuard<'_, Table<K>> {
        // A poisoned lock only means another thread panicked mid-update of a counter.
        let mut t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((_, since)) = t.order.front() {
            if now.duration_since(*since) < self.window {
                break;
            }
            t.pop_oldest();
        }
        t
    }

    /// Whether `key` has used up its attempts.
    pub fn is_blocked(&self, key: &K) -> bool {
        let t = self.table(Instant::now());
        t.slots.get(key).is_some_and(|s| s.count >= self.limit)
    }

    /// Counts one attempt of `key`, whatever the count already is (an attempt that has
    /// already happened). A full `RefuseNew` table does not count a new key.
    pub fn fail(&self, key: K) {
        let now = Instant::now();
        let mut t = self.table(now);
        if let Some(slot) = t.slots.get_mut(&key) {
            slot.count = slot.count.saturating_add(1);
            return;
        }
        let _ = self.insert(&mut t, key, now);
    }

    /// Counts one attempt of `key` *before* it is made: refused when `key` has no attempt
    /// left, so however many arrive together at most `limit` are ever let through per
    /// window. An attempt that turns out not to count calls `release`.
    pub fn try_count(&self, key: K) -> Result<(), Refused> {
        let now = Instant::now();
        let mut t = self.table(now);
        if let Some(slot) = t.slots.get_mut(&key) {
            if slot.count >= self.limit {
                return Err(Refused::Exhausted);
            }
            slot.count += 1;
            return Ok(());
        }
        if self.limit == 0 {
            return Err(Refused::Exhausted);
        }
        self.insert(&mut t, key, now)
    }

    /// Gives back one attempt counted by `try_count` (it succeeded, or was never made).
    /// The key's window and its other attempts stay.
    pub fn release(&self, key: &K) {
        let mut t = self.table(Instant::now());
        if let Some(slot) = t.slots.get_mut(key) {
            slot.count = slot.count.saturating_sub(1);
        }
    }

    /// Forgets `key` altogether.
    pub fn clear(&self, key: &K) {
        self.table(Instant::now()).slots.remove(key);
    }

    /// Live entries (for tests and figures).
    pub fn len(&self) -> usize {
        self.table(Instant::now()).slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Room the table has allocated, in entries (hash table and queue): the memory bound.
    pub fn allocated(&self) -> usize {
        let t = self.table(Instant::now());
        t.slots.capacity() + t.order.capacity()
    }

    fn insert(&self, t: &mut Table<K>, key: K, now: Instant) -> Result<(), Refused> {
        while t.order.len() >= self.capacity {
            match self.when_full {
                WhenFull::EvictOldest => t.pop_oldest(),
                WhenFull::RefuseNew => return Err(Refused::Full),
            }
        }
        t.order.push_back((key.clone(), now));
        t.slots.insert(
            key,
            Slot {
                count: 1,
                since: now,
            },
        );
        Ok(())
    }
}

impl<K: Eq + Hash> Table<K> {
    /// Drops the oldest record, and its slot if the record is that slot's (not one left
    /// behind by `clear` before the key came back).
    fn pop_oldest(&mut self) {
        if let Some((key, since)) = self.order.pop_front() {
            if self.slots.get(&key).is_some_and(|s| s.since == since) {
                self.slots.remove(&key);
            }
        }
    }
}

/// Turns an address into a keyed hash of its network, under a per-process random key.
pub struct AddressHasher {
    key: Zeroizing<[u8; 32]>,
}

impl Default for AddressHasher {
    fn default() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut());
        AddressHasher { key }
    }
}

impl AddressHasher {
    pub fn hash(&self, ip: IpAddr) -> [u8; 16] {
        let network: Vec<u8> = match ip {
            IpAddr::V4(v4) => v4.octets()[..3].to_vec(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.octets()[..3].to_vec(),
                None => v6.octets()[..8].to_vec(),
            },
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref())
            // Invariant: HMAC accepts keys of any length.
            .expect("HMAC takes any key length");
        mac.update(&network);
        let mut out = [0u8; 16];
        out.copy_from_slice(&mac.finalize().into_bytes()[..16]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_and_forgets_after_window() {
        let t = Throttle::new(3, Duration::from_millis(50));
        for _ in 0..3 {
            assert!(!t.is_blocked(&"a"));
            t.fail("a");
        }
        assert!(t.is_blocked(&"a"));
        assert!(!t.is_blocked(&"b"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!t.is_blocked(&"a"));
        assert!(t.is_empty(), "expired entries are swept");
    }

    #[test]
    fn try_count_counts_before_and_release_gives_one_back() {
        let t = Throttle::new(5, Duration::from_secs(60));
        for _ in 0..5 {
            assert_eq!(t.try_count("acct"), Ok(()));
        }
        assert_eq!(t.try_count("acct"), Err(Refused::Exhausted));
        t.release(&"acct");
        assert_eq!(t.try_count("acct"), Ok(()));
        assert_eq!(t.try_count("acct"), Err(Refused::Exhausted));
        t.clear(&"acct");
        assert_eq!(t.try_count("acct"), Ok(()));
    }

    #[test]
    fn concurrent_attempts_are_let_through_at_most_limit_times() {
        let t = std::sync::Arc::new(Throttle::new(5, Duration::from_secs(60)));
        let admitted = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let threads: Vec<_> = (0..40)
            .map(|_| {
                let (t, admitted) = (t.clone(), admitted.clone());
                std::thread::spawn(move || {
                    if t.try_count("acct").is_ok() {
                        admitted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        assert_eq!(admitted.load(std::sync::atomic::Ordering::SeqCst), 5);
    }

    /// P9: 100,000 distinct networks (a flood from many addresses) leave the table at its
    /// capacity, in entries and in allocated room, and the newest keys are still counted.
    #[test]
    fn memory_stays_bounded_under_100_000_distinct_networks() {
        let capacity = 4096;
        let t = Throttle::bounded(
            20,
            Duration::from_secs(600),
            capacity,
            WhenFull::EvictOldest,
        );
        let hasher = AddressHasher::default();
        for i in 0..100_000u32 {
            let [_, a, b, c] = i.to_be_bytes();
            // A /24 of its own for each i.
            let network = hasher.hash(IpAddr::from([a, b, c, 7]));
            t.fail(network);
            t.fail(network);
            assert!(!t.is_blocked(&network));
            if i % 7 == 0 {
                t.clear(&network);
            }
        }
        assert!(t.len() <= capacity, "{} entries", t.len());
        // hashbrown rounds up to a power of two with a 7/8 load factor; the queue doubles.
        assert!(t.allocated() <= 5 * capacity, "{} allocated", t.allocated());
        let last = hasher.hash(IpAddr::from([1, 134, 159, 7])); // i = 99,999
        assert!(
            t.slots_count(&last) == Some(2),
            "the newest network is still counted"
        );
    }

    /// A full `RefuseNew` table keeps every live count: flooding it with other names never
    /// unblocks an account.
    #[test]
    fn a_full_refusing_table_never_forgets_a_blocked_key() {
        let t = Throttle::bounded(5, Duration::from_secs(600), 1000, WhenFull::RefuseNew);
        for _ in 0..5 {
            t.try_count(0u32).unwrap();
        }
        let mut refused_full = 0;
        for i in 1..100_000u32 {
            match t.try_count(i) {
                Ok(()) => {}
                Err(Refused::Full) => refused_full += 1,
                Err(Refused::Exhausted) => unreachable!("each name tried once"),
            }
        }
        assert_eq!(refused_full, 100_000 - 1000);
        assert!(t.len() <= 1000);
        assert_eq!(t.try_count(0), Err(Refused::Exhausted));
        assert!(t.is_blocked(&0));
    }

    #[test]
    fn same_network_same_hash() {
        let h = AddressHasher::default();
        let a = h.hash("10.1.2.3".parse().unwrap());
        assert_eq!(a, h.hash("10.1.2.200".parse().unwrap()));
        assert_ne!(a, h.hash("10.1.3.3".parse().unwrap()));
        assert_ne!(
            a,
            AddressHasher::default().hash("10.1.2.3".parse().unwrap())
        );
    }

    impl<K: Eq + Hash + Clone> Throttle<K> {
        fn slots_count(&self, key: &K) -> Option<u32> {
            self.table(Instant::now()).slots.get(key).map(|s| s.count)
        }
    }
}
