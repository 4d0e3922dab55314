//! Against password guessing: `login`, `register` and `refreshToken` attempts are
//! counted per email and per client address (`FOLIO_AUTH_LIMIT_PER_MINUTE`, 10 by
//! default; 0 turns it off), before any password is hashed, right password or not.
//!
//! Each key has a token bucket of that many attempts refilling over a minute
//! (`governor`'s GCRA): a burst of N, then one every 60/N seconds. An attempt takes a
//! token from the client address's bucket and, when it names one, from the email's; an
//! empty bucket is `RATE_LIMITED` with the seconds to wait in `extensions.retryAfter`.
//! An email is keyed as it is normalised for uniqueness, so `Ada@X.org` and `ada@x.org`
//! share a bucket. A loopback client address is not counted (the per-email limit still
//! is): it is this machine itself — a local script, or a proxy left out of
//! `FOLIO_TRUSTED_PROXIES`, whose clients would otherwise all share one bucket — the
//! exemption fail2ban's `ignoreip` and rack-attack's documented safelist make. The
//! buckets live in each users replica (N replicas allow N times the rate).

use folio_common::rate_limit::KeyedLimiter;
use folio_common::{Error, Result};
use governor::Quota;
use std::net::IpAddr;
use std::num::NonZeroU32;

/// The per-email and per-address attempt limits.
#[derive(Clone)]
pub struct AuthAttempts {
    limiter: Option<KeyedLimiter>,
}

impl AuthAttempts {
    /// `per_minute` attempts a minute per key; 0: no limit. Needs a Tokio runtime.
    pub fn new(per_minute: u32) -> Self {
        AuthAttempts {
            limiter: NonZeroU32::new(per_minute).map(|n| KeyedLimiter::new(Quota::per_minute(n))),
        }
    }

    /// Counts one attempt from `client` (when known) at `email` (when the operation
    /// names one, as typed: it is normalised here).
    pub fn check(&self, client: Option<IpAddr>, email: Option<&str>) -> Result<()> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        let keys = client
            .filter(|ip| !ip.to_canonical().is_loopback())
            .map(|ip| format!("ip:{ip}"))
            .into_iter()
            .chain(email.map(|e| format!("email:{}", normalize(e))));
        for key in keys {
            limiter
                .check(key)
                .map_err(|retry_after_secs| Error::RateLimited { retry_after_secs })?;
        }
        Ok(())
    }
}

/// The email as accounts are unique by (trimmed, lower-cased), whether or not it is a
/// valid address: a guesser gains nothing by varying case or spacing.
fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limited(r: Result<()>) -> Option<u64> {
        match r {
            Ok(()) => None,
            Err(Error::RateLimited { retry_after_secs }) => Some(retry_after_secs),
            Err(e) => panic!("unexpected error {}", e.client_message()),
        }
    }

    #[tokio::test]
    async fn an_address_and_an_email_each_get_their_own_bucket() {
        let attempts = AuthAttempts::new(3);
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        for i in 0..3 {
            assert_eq!(
                limited(attempts.check(Some(a), Some(&format!("u{i}@x.org")))),
                None
            );
        }
        // The address is spent, whatever the email.
        let wait = limited(attempts.check(Some(a), Some("new@x.org"))).expect("limited");
        assert!((1..=20).contains(&wait), "{wait}");
        // Another address may still try, and spend an email's bucket across addresses.
        for _ in 0..2 {
            assert_eq!(limited(attempts.check(Some(b), Some(" U0@X.org"))), None);
        }
        assert!(limited(attempts.check(Some(b), Some("u0@x.org"))).is_some());
        // That refused attempt still spent b's third.
        assert!(limited(attempts.check(Some(b), None)).is_some());
        // refreshToken names no email: the address alone.
        let c: IpAddr = "2001:db8::7".parse().expect("ip");
        assert_eq!(limited(attempts.check(Some(c), None)), None);
    }

    #[tokio::test]
    async fn loopback_is_counted_by_email_only() {
        let attempts = AuthAttempts::new(2);
        for ip in ["127.0.0.1", "::1", "::ffff:127.0.0.9"] {
            let ip: IpAddr = ip.parse().expect("ip");
            for i in 0..5 {
                let email = format!("{ip}-{i}@x.org");
                assert_eq!(limited(attempts.check(Some(ip), Some(&email))), None);
            }
            assert_eq!(limited(attempts.check(Some(ip), None)), None);
        }
        let local: IpAddr = "127.0.0.1".parse().expect("ip");
        for _ in 0..2 {
            assert_eq!(limited(attempts.check(Some(local), Some("a@x.org"))), None);
        }
        assert!(limited(attempts.check(Some(local), Some("a@x.org"))).is_some());
    }

    #[tokio::test]
    async fn zero_is_no_limit() {
        let attempts = AuthAttempts::new(0);
        for _ in 0..100 {
            assert_eq!(limited(attempts.check(None, Some("a@x.org"))), None);
        }
    }
}
