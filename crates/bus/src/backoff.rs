//! Capped exponential backoff for reconnecting and resubscribing.

use std::time::Duration;

use tokio::time::Instant;

const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(5);
/// How long things must have worked before a failure starts again from the
/// shortest pause. Resetting on mere success would let a connection (or
/// subscription) that dies right after it is made retry in a tight loop.
const STABLE: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub(crate) struct Backoff {
    pause: Duration,
    up_since: Option<Instant>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            pause: FIRST_PAUSE,
            up_since: None,
        }
    }
}

impl Backoff {
    /// Records that the guarded thing works again, as of now.
    pub(crate) fn succeeded(&mut self) {
        self.up_since = Some(Instant::now());
    }

    /// How long to wait before the next attempt after a failure.
    pub(crate) fn pause(&mut self) -> Duration {
        if self.up_since.take().is_some_and(|t| t.elapsed() >= STABLE) {
            self.pause = FIRST_PAUSE;
        }
        let pause = self.pause;
        self.pause = (self.pause * 2).min(MAX_PAUSE);
        pause
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn grows_and_resets_only_after_a_stable_period() {
        let mut b = Backoff::default();
        assert_eq!(b.pause(), FIRST_PAUSE);
        b.succeeded();
        assert_eq!(b.pause(), FIRST_PAUSE * 2, "a short success keeps growing");
        for _ in 0..10 {
            b.pause();
        }
        assert_eq!(b.pause(), MAX_PAUSE);
        b.succeeded();
        tokio::time::advance(STABLE).await;
        assert_eq!(b.pause(), FIRST_PAUSE);
    }
}
