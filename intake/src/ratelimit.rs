//! Rate limits per client address and per registered client (token buckets, per node): a caller
//! over its limit gets 429 with Retry-After.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::IntakeError;

pub struct RateLimits {
    per_ip: DefaultKeyedRateLimiter<String>,
    per_client: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn quota(per_minute: u32) -> Quota {
    let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(n).allow_burst(n)
}

impl RateLimits {
    /// `per_ip` and `per_client` requests a minute, each with a burst of the same size.
    pub fn new(per_ip: u32, per_client: u32) -> Self {
        Self {
            per_ip: RateLimiter::keyed(quota(per_ip)),
            per_client: RateLimiter::keyed(quota(per_client)),
            clock: DefaultClock::default(),
        }
    }

    fn check(
        &self,
        limiter: &DefaultKeyedRateLimiter<String>,
        key: &str,
    ) -> Result<(), IntakeError> {
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            IntakeError::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }

    pub fn check_ip(&self, ip: &str) -> Result<(), IntakeError> {
        self.check(&self.per_ip, ip)
    }

    pub fn check_client(&self, client: &str) -> Result<(), IntakeError> {
        self.check(&self.per_client, client)
    }

    /// Forgets callers that are back to a full bucket (bounded memory).
    pub fn shrink(&self) {
        self.per_ip.retain_recent();
        self.per_client.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_over_the_limit_is_told_when_to_retry() {
        let limits = RateLimits::new(3, 100);
        for _ in 0..3 {
            limits.check_ip("10.0.0.1").unwrap();
        }
        match limits.check_ip("10.0.0.1") {
            Err(IntakeError::RateLimited { retry_after_secs }) => {
                assert!((1..=20).contains(&retry_after_secs))
            }
            other => panic!("{other:?}"),
        }
        limits.check_ip("10.0.0.2").unwrap();
    }
}
