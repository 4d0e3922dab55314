//! Stage 3, auth: verify the caller's access token once, for every subgraph.
//!
//! No `Authorization` header: anonymous. A bearer token that is malformed, signed by an
//! unknown key, expired, or lacks `exp`/`iss`/`aud`/`sub`: refused with 401. The
//! algorithm is pinned to EdDSA whatever the token's header says, with no leeway; a token
//! naming an unknown key id makes the router fetch the JWKS again, at most once per 30 s.

use crate::jwks::JwksSource;
use axum::http::{HeaderMap, header};
use folio_common::Viewer;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Least time between two JWKS fetches caused by unknown key ids.
const REFETCH_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    adm: bool,
}

/// Verifies access tokens against the users subgraph's JWKS.
pub struct Verifier {
    source: JwksSource,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_fetch: RwLock<Instant>,
    validation: Validation,
}

impl Verifier {
    /// Fetches the JWKS, retrying for up to `wait` while the users subgraph starts.
    pub async fn new(
        source: JwksSource,
        issuer: &str,
        audience: &str,
        wait: Duration,
    ) -> anyhow::Result<Self> {
        let deadline = Instant::now() + wait;
        let keys = loop {
            match source.fetch().await {
                Ok(keys) => break keys,
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!(error = %e, url = source.url(), "JWKS not reachable yet");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => anyhow::bail!("fetching the JWKS from {}: {e}", source.url()),
            }
        };
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        Ok(Verifier {
            source,
            keys: RwLock::new(keys),
            last_fetch: RwLock::new(Instant::now()),
            validation,
        })
    }

    /// The viewer of a request: anonymous without a token, the token's user with a
    /// valid one; `Err` (a message for the client) for a bad token.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        client_ip: IpAddr,
    ) -> Result<Viewer, &'static str> {
        let mut viewer = Viewer {
            client_ip: Some(client_ip),
            ..Viewer::default()
        };
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Ok(viewer);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or("the Authorization header must be `Bearer <accessToken>`")?;
        let invalid = "the access token is invalid or expired";
        let kid = jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|h| h.kid)
            .ok_or(invalid)?;
        if !self.knows(&kid) {
            self.refetch().await;
        }
        let claims = {
            let keys = self.keys.read().map_err(|_| invalid)?;
            let key = keys.get(&kid).ok_or(invalid)?;
            jsonwebtoken::decode::<Claims>(token, key, &self.validation)
                .map_err(|_| invalid)?
                .claims
        };
        if claims.sub.is_empty() || !claims.sub.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid);
        }
        viewer.user_id = Some(claims.sub);
        viewer.is_admin = claims.adm;
        Ok(viewer)
    }

    fn knows(&self, kid: &str) -> bool {
        self.keys.read().is_ok_and(|k| k.contains_key(kid))
    }

    /// Fetches the JWKS again (the users subgraph may have rotated its key), at most
    /// once per `REFETCH_INTERVAL` so unknown kids cannot make us hammer it.
    async fn refetch(&self) {
        {
            let Ok(mut last) = self.last_fetch.write() else {
                return;
            };
            if last.elapsed() < REFETCH_INTERVAL {
                return;
            }
            *last = Instant::now();
        }
        match self.source.fetch().await {
            Ok(keys) => {
                if let Ok(mut k) = self.keys.write() {
                    *k = keys;
                }
            }
            Err(e) => tracing::warn!(error = %e, "refreshing the JWKS failed"),
        }
    }
}
