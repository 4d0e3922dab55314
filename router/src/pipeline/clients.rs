//! Who the client is, and how often it may ask.
//!
//! The client's address is the connection's peer, unless the peer is one of
//! `FOLIO_TRUSTED_PROXIES` (CIDRs): then it is the right-most `X-Forwarded-For` entry that
//! is not a trusted proxy (each proxy appends the address it saw, so the entries to the
//! left of the last untrusted one could have been written by the client itself). The same
//! address goes to the subgraphs (the sign-up country rule reads it).
//!
//! Rate limits (`FOLIO_RATE_LIMIT_RPS`, `FOLIO_RATE_LIMIT_BURST`; off when unset): a token
//! bucket per client (`governor`'s GCRA) — the user id when the request is signed in, else
//! the client's address. Over it: HTTP 429, `Retry-After` (whole seconds) and
//! `RATE_LIMITED`. Buckets of clients quiet for a while are dropped every minute.

use crate::error::RouterError;
use axum::http::HeaderMap;
use folio_common::identity::Viewer;
use folio_common::rate_limit::KeyedLimiter;
use governor::Quota;
use ipnet::IpNet;
use std::net::IpAddr;
use std::num::NonZeroU32;

/// The client-address decision and the per-client rate limit.
pub struct Clients {
    proxies: Vec<IpNet>,
    limiter: Option<KeyedLimiter>,
}

impl Clients {
    /// From `FOLIO_TRUSTED_PROXIES` (comma-separated CIDRs or addresses) and the rate
    /// limit (`rps` requests a second, bursts of `burst`; `None`: no limit).
    pub fn new(
        trusted_proxies: &str,
        rps: Option<u32>,
        burst: Option<u32>,
    ) -> anyhow::Result<Self> {
        let proxies = trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!("FOLIO_TRUSTED_PROXIES: {p:?} is not a CIDR or an address")
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let limiter = match rps {
            None => None,
            Some(rps) => {
                let rps = NonZeroU32::new(rps)
                    .ok_or_else(|| anyhow::anyhow!("FOLIO_RATE_LIMIT_RPS must be at least 1"))?;
                let burst = NonZeroU32::new(burst.unwrap_or(rps.get()))
                    .ok_or_else(|| anyhow::anyhow!("FOLIO_RATE_LIMIT_BURST must be at least 1"))?;
                Some(KeyedLimiter::new(Quota::per_second(rps).allow_burst(burst)))
            }
        };
        Ok(Clients { proxies, limiter })
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.proxies.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: `peer`, or, behind trusted proxies, the right-most
    /// `X-Forwarded-For` entry that is not one of them.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusted(peer) {
            return peer;
        }
        let mut leftmost = None;
        let entries: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|e| e.trim().parse::<IpAddr>().ok())
            .collect();
        for ip in entries.iter().rev() {
            if !self.trusted(*ip) {
                return *ip;
            }
            leftmost = Some(*ip);
        }
        // Every hop is a trusted proxy: the farthest one is the best we know.
        leftmost.unwrap_or(peer)
    }

    /// Counts a request of `viewer` against its bucket.
    pub fn check(&self, viewer: &Viewer) -> Result<(), RouterError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        let key = match (&viewer.user_id, viewer.client_ip) {
            (Some(user), _) => format!("user:{user}"),
            (None, Some(ip)) => format!("ip:{ip}"),
            (None, None) => "anonymous".to_owned(),
        };
        limiter
            .check(key)
            .map_err(|retry_after_secs| RouterError::RateLimited { retry_after_secs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static(value));
        h
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop() {
        let clients = Clients::new("127.0.0.1, 10.0.0.0/8", None, None).expect("clients");
        let local: IpAddr = "127.0.0.1".parse().expect("ip");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        // Behind a trusted proxy: what the last untrusted hop was.
        let h = forwarded("198.51.100.1, 203.0.113.5, 10.1.2.3");
        assert_eq!(clients.client_ip(local, &h), ip("203.0.113.5"));
        // A peer that is not a proxy is the client, whatever it claims.
        assert_eq!(clients.client_ip(ip("192.0.2.7"), &h), ip("192.0.2.7"));
        // Only proxies in the chain: the farthest; no header: the peer.
        let h = forwarded("10.9.9.9, 10.1.2.3");
        assert_eq!(clients.client_ip(local, &h), ip("10.9.9.9"));
        assert_eq!(clients.client_ip(local, &HeaderMap::new()), local);
        assert!(Clients::new("not-a-net", None, None).is_err());
    }

    #[tokio::test]
    async fn a_client_over_its_burst_waits_and_others_do_not() {
        let clients = Clients::new("", Some(1), Some(2)).expect("clients");
        let viewer = |ip: &str| Viewer {
            client_ip: Some(ip.parse().expect("ip")),
            ..Viewer::default()
        };
        let a = viewer("203.0.113.1");
        assert!(clients.check(&a).is_ok() && clients.check(&a).is_ok());
        match clients.check(&a) {
            Err(RouterError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("{other:?}"),
        }
        assert!(clients.check(&viewer("203.0.113.2")).is_ok());
        // Signed in, the user is the client, from wherever it asks.
        let user = Viewer {
            user_id: Some("u1".into()),
            ..viewer("203.0.113.1")
        };
        assert!(clients.check(&user).is_ok());
    }
}
