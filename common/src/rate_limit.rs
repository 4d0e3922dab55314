//! Keyed token buckets (`governor`'s GCRA), as the router's per-client limit and the users
//! subgraph's sign-in attempt limit use them: a check answers how long to wait, and the
//! buckets of keys quiet long enough to be full again are dropped every minute.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::sync::Arc;
use std::time::Duration;

/// Token buckets by key (cheap to clone: clones share the buckets).
#[derive(Clone)]
pub struct KeyedLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl KeyedLimiter {
    /// A bucket of `quota` per key. Needs a Tokio runtime: it spawns the pruning task,
    /// which ends when the last clone is dropped.
    pub fn new(quota: Quota) -> Self {
        let limiter = Arc::new(DefaultKeyedRateLimiter::keyed(quota));
        let weak = Arc::downgrade(&limiter);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            loop {
                every.tick().await;
                let Some(limiter) = weak.upgrade() else {
                    return;
                };
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        });
        KeyedLimiter {
            limiter,
            clock: DefaultClock::default(),
        }
    }

    /// Takes a token from `key`'s bucket; when it is empty, the whole seconds (rounded up,
    /// at least 1) until one comes back, for `Retry-After`.
    pub fn check(&self, key: String) -> Result<(), u64> {
        self.limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }
}
