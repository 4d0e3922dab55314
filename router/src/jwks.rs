//! The users subgraph's JSON Web Key Set: fetched from its URL, or read from a file (for
//! deployments that distribute keys out of band).

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use std::collections::HashMap;

/// Where the JWKS comes from.
pub struct JwksSource {
    url: String,
    file: Option<std::path::PathBuf>,
    client: reqwest::Client,
}

impl JwksSource {
    /// A JWKS served at `url`, fetched with `client` (which decides whom HTTPS trusts).
    pub fn new(url: String, client: reqwest::Client) -> Self {
        JwksSource {
            url,
            file: None,
            client,
        }
    }

    /// A JWKS in a file, read again whenever the keys are refreshed.
    pub fn from_file(path: std::path::PathBuf) -> Self {
        JwksSource {
            url: path.display().to_string(),
            file: Some(path),
            client: reqwest::Client::new(),
        }
    }

    async fn key_set(&self) -> anyhow::Result<JwkSet> {
        if let Some(path) = &self.file {
            let text = std::fs::read_to_string(path)?;
            return Ok(serde_json::from_str(&text)?);
        }
        Ok(self
            .client
            .get(&self.url)
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// The Ed25519 keys of the set, by `kid`. Keys of other types are ignored: the
    /// algorithm is pinned to EdDSA.
    pub async fn fetch(&self) -> anyhow::Result<HashMap<String, DecodingKey>> {
        let set = self.key_set().await?;
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
