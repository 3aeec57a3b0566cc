//! The IdP's notion of time: the system clock, or a frozen one tests can move by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the IdP reads the time from. Cloning shares the same clock.
///
/// A frozen clock makes tokens reproducible and lets a test expire a code or a token
/// without sleeping:
///
/// ```
/// let clock = mock_idp::Clock::frozen(1_700_000_000);
/// clock.advance(301);
/// assert_eq!(clock.now(), 1_700_000_301);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Clock {
    frozen: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { frozen: None }
    }

    /// A clock stopped at `unix_secs`; it moves only through [`Clock::advance`] and [`Clock::set`].
    pub fn frozen(unix_secs: i64) -> Self {
        Self {
            frozen: Some(Arc::new(AtomicI64::new(unix_secs))),
        }
    }

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        match &self.frozen {
            Some(t) => t.load(Ordering::SeqCst),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        }
    }

    /// Whether this clock is frozen.
    pub fn is_frozen(&self) -> bool {
        self.frozen.is_some()
    }

    /// Moves a frozen clock forward (or back, with a negative value). Returns false on the
    /// system clock, which cannot be moved.
    pub fn advance(&self, secs: i64) -> bool {
        match &self.frozen {
            Some(t) => {
                t.fetch_add(secs, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Sets a frozen clock. Returns false on the system clock.
    pub fn set(&self, unix_secs: i64) -> bool {
        match &self.frozen {
            Some(t) => {
                t.store(unix_secs, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }
}
