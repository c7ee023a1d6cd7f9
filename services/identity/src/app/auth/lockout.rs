//! Slowing down password guessing: after `auth.max_failed_logins` failures
//! for one user name within `auth.lockout_window_secs`, further attempts on
//! that name are refused without looking at the password until the window
//! has passed. Names that do not exist are counted too, so the lockout
//! reveals nothing about which users exist.
//!
//! The counts live in this process: with several identity instances an
//! attacker gets the allowance once per instance, which still turns a
//! guessing attack from thousands of tries a second into a handful a window.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Beyond this many tracked names the oldest are forgotten, so a flood of
/// made-up names cannot exhaust memory.
const MAX_TRACKED: usize = 100_000;

pub struct Lockout {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, Failures>>,
}

struct Failures {
    count: u32,
    first: Instant,
}

impl Lockout {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Lockout {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` may try now.
    pub fn allows(&self, key: &str, now: Instant) -> bool {
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        match failures.get(key) {
            Some(f) if now.duration_since(f.first) < self.window => f.count < self.max_failures,
            _ => true,
        }
    }

    pub fn record_failure(&self, key: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() >= MAX_TRACKED && !failures.contains_key(key) {
            let window = self.window;
            failures.retain(|_, f| now.duration_since(f.first) < window);
            if failures.len() >= MAX_TRACKED
                && let Some(oldest) = failures
                    .iter()
                    .min_by_key(|(_, f)| f.first)
                    .map(|(k, _)| k.clone())
            {
                failures.remove(&oldest);
            }
        }
        let entry = failures.entry(key.to_string()).or_insert(Failures {
            count: 0,
            first: now,
        });
        if now.duration_since(entry.first) >= self.window {
            *entry = Failures {
                count: 0,
                first: now,
            };
        }
        entry.count = entry.count.saturating_add(1);
    }

    /// A successful login clears the name's failures.
    pub fn record_success(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_allowance_and_reopens_after_the_window() {
        let lock = Lockout::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(lock.allows("default/alice", t0));
            lock.record_failure("default/alice", t0);
        }
        assert!(!lock.allows("default/alice", t0));
        assert!(
            lock.allows("default/bob", t0),
            "other names are not affected"
        );
        assert!(lock.allows("default/alice", t0 + Duration::from_secs(61)));
    }

    #[test]
    fn success_clears_failures() {
        let lock = Lockout::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        lock.record_failure("k", t0);
        lock.record_success("k");
        lock.record_failure("k", t0);
        assert!(lock.allows("k", t0));
    }
}
