//! Fetching the users subgraph's JSON Web Key Set.

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use std::collections::HashMap;

/// Where the JWKS comes from.
pub struct JwksSource {
    url: String,
    client: reqwest::Client,
}

impl JwksSource {
    pub fn new(url: String) -> Self {
        JwksSource {
            url,
            client: reqwest::Client::new(),
        }
    }

    /// The Ed25519 keys of the set, by `kid`. Keys of other types are ignored: the
    /// algorithm is pinned to EdDSA.
    pub async fn fetch(&self) -> anyhow::Result<HashMap<String, DecodingKey>> {
        let set: JwkSet = self
            .client
            .get(&self.url)
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let AlgorithmParameters::OctetKeyPair(okp) = &jwk.algorithm else {
                continue;
            };
            if okp.curve != EllipticCurve::Ed25519 {
                continue;
            }
            let Some(kid) = &jwk.common.key_id else {
                continue;
            };
            keys.insert(kid.clone(), DecodingKey::from_ed_components(&okp.x)?);
        }
        if keys.is_empty() {
            anyhow::bail!("{} holds no Ed25519 key with a kid", self.url);
        }
        Ok(keys)
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}
