//! Slowing down password guessing: after too many recent failures for one login name, further
//! attempts are refused until the oldest of those failures leaves the window.

use jiff::{SignedDuration, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    pub max_failures: usize,
    pub window: SignedDuration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: SignedDuration::from_mins(15),
        }
    }
}

/// Attempts are refused for this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: SignedDuration,
}

impl Throttled {
    /// Whole seconds, rounded up, as `Retry-After` wants them.
    pub fn retry_after_secs(&self) -> i64 {
        let secs = self.retry_after.as_secs();
        if self.retry_after.subsec_nanos() > 0 {
            secs + 1
        } else {
            secs
        }
    }
}

impl LoginThrottle {
    /// The instant from which failures still count.
    pub fn window_start(&self, now: Timestamp) -> Timestamp {
        now - self.window
    }

    /// Decides whether a login attempt may be checked at all, given the times of earlier failed
    /// attempts for the same login name (in any order; those outside the window are ignored).
    pub fn check(&self, failures: &[Timestamp], now: Timestamp) -> Result<(), Throttled> {
        let start = self.window_start(now);
        let mut recent: Vec<Timestamp> = failures
            .iter()
            .copied()
            .filter(|t| *t > start && *t <= now)
            .collect();
        if recent.len() < self.max_failures {
            return Ok(());
        }
        recent.sort_unstable_by(|a, b| b.cmp(a));
        // Once the max_failures-th most recent failure leaves the window, one attempt is free.
        let oldest_counted = recent[self.max_failures - 1];
        Err(Throttled {
            retry_after: (oldest_counted + self.window).duration_since(now),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn attempts_are_free_until_the_limit() {
        let policy = LoginThrottle::default();
        let failures: Vec<_> = (0..4).map(t).collect();
        assert!(policy.check(&failures, t(10)).is_ok());
    }

    #[test]
    fn the_fifth_failure_locks_until_the_oldest_leaves_the_window() {
        let policy = LoginThrottle::default();
        let failures: Vec<_> = (0..5).map(|i| t(i * 60)).collect();
        let now = t(5 * 60);
        let throttled = policy.check(&failures, now).unwrap_err();
        assert_eq!(throttled.retry_after, SignedDuration::from_mins(10));
        assert_eq!(throttled.retry_after_secs(), 600);
        assert!(policy.check(&failures, t(15 * 60 + 1)).is_ok());
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let policy = LoginThrottle::default();
        let failures: Vec<_> = (0..10).map(|i| t(i - 3600)).collect();
        assert!(policy.check(&failures, t(0)).is_ok());
    }
}
