//! In-memory attempt throttles. Nothing here reaches the disk, and entries expire.
//! Staff logins are counted per account (no addresses); reporter attempts per keyed hash of
//! the address's network (/24 for IPv4, /64 for IPv6) under a key that lives only in memory
//! and changes with each start (P4).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Counts failures per key within a window.
pub struct Throttle<K> {
    limit: u32,
    window: Duration,
    entries: Mutex<HashMap<K, (u32, Instant)>>,
}

impl<K: Eq + Hash> Throttle<K> {
    pub fn new(limit: u32, window: Duration) -> Self {
        Throttle {
            limit,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<K, (u32, Instant)>> {
        // A poisoned lock only means another thread panicked mid-update of a counter.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `key` has used up its attempts.
    pub fn is_blocked(&self, key: &K) -> bool {
        let now = Instant::now();
        let mut entries = self.entries();
        entries.retain(|_, (_, since)| now.duration_since(*since) < self.window);
        entries.get(key).is_some_and(|(n, _)| *n >= self.limit)
    }

    pub fn fail(&self, key: K) {
        let now = Instant::now();
        let mut entries = self.entries();
        let e = entries.entry(key).or_insert((0, now));
        if now.duration_since(e.1) >= self.window {
            *e = (0, now);
        }
        e.0 += 1;
    }

    pub fn clear(&self, key: &K) {
        self.entries().remove(key);
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
}
