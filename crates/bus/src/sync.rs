//! Locking that tolerates poisoning, for the crate's plain-data mutexes.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, ignoring poison. Every mutex in this crate guards plain
/// collections that a panicking holder cannot leave half-updated in a way
/// that matters, and a consumer's handler panics are caught and expected,
/// so refusing the lock afterwards would only spread one failure.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
