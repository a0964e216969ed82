//! Time is injected: use cases read it from a [`Clock`], never from the system directly.

use jiff::Timestamp;
use std::sync::{Arc, Mutex};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until moved; for tests and for running jobs "as of" a date.
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<Mutex<Timestamp>>);

impl FixedClock {
    pub fn at(now: Timestamp) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    pub fn advance(&self, by: jiff::SignedDuration) {
        let mut now = self.0.lock().expect("clock lock");
        *now += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock lock")
    }
}

/// Another clock moved by a whole number of days: runs jobs "as of" another date while time
/// still passes (retries wait in real time).
#[derive(Debug)]
pub struct ShiftedClock {
    pub inner: Arc<dyn Clock>,
    pub shift: jiff::SignedDuration,
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        self.inner.now() + self.shift
    }
}

/// How instants are stored: RFC 3339 in UTC with a fixed number of digits, so text order is time
/// order on both backends.
pub fn format_instant(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn parse_instant(stored: &str) -> anyhow::Result<Timestamp> {
    stored
        .parse()
        .map_err(|e| anyhow::anyhow!("stored instant `{stored}` is not RFC 3339: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_instants_sort_as_text_in_time_order_and_round_trip() {
        let a: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
        let b: Timestamp = "2026-01-02T03:04:05.5Z".parse().unwrap();
        assert_eq!(format_instant(a), "2026-01-02T03:04:05.000000Z");
        assert!(format_instant(a) < format_instant(b));
        assert_eq!(parse_instant(&format_instant(b)).unwrap(), b);
    }
}
