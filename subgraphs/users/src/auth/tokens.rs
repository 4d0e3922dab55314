//! Access tokens: EdDSA (Ed25519) JWTs signed here, verified by the router with our JWKS.
//!
//! Claims: `sub` (user id), `iss`, `aud`, `iat`, `exp` (`FOLIO_ACCESS_TOKEN_TTL_SECS`,
//! 15 minutes by default) and `adm` (the admin flag); the header's `kid` is derived from
//! the public key. Access tokens are not revocable; they expire. The admin flag travels in
//! the token (then in the router's `x-folio-user-admin` header), so no subgraph looks it up;
//! the price is that `setAdmin` takes effect at the user's next token (next sign-in or
//! refresh), and a demoted admin keeps admin rights until then. `User.isAdmin` reads the
//! database and is current.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use folio_common::{Error, Result};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    /// Whether the user was an admin when the token was issued.
    #[serde(default)]
    pub adm: bool,
}

/// Issues and checks access tokens; publishes the public key as a JWKS.
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    public_x: String,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Reads the Ed25519 key at `path`, or generates one there (mode 0600) if missing.
pub fn load_or_generate_key(path: &Path) -> anyhow::Result<SigningKey> {
    if path.exists() {
        let pem = std::fs::read_to_string(path)?;
        return SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
            anyhow::anyhow!("{} is not an Ed25519 PKCS#8 PEM key: {e}", path.display())
        });
    }
    let seed: [u8; 32] = folio_common::random_bytes(32)
        .try_into()
        .map_err(|_| anyhow::anyhow!("random seed of the wrong length"))?;
    let key = SigningKey::from_bytes(&seed);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding the key: {e}"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_private(path, pem.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new access-token signing key");
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

impl TokenIssuer {
    /// An issuer signing with `key`.
    pub fn new(
        key: &SigningKey,
        issuer: &str,
        audience: &str,
        ttl_secs: u64,
    ) -> anyhow::Result<Self> {
        let der = key
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encoding the key: {e}"))?;
        let public = key.verifying_key().to_bytes();
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..12]);
        Ok(TokenIssuer {
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding: DecodingKey::from_ed_der(&public),
            kid,
            public_x: URL_SAFE_NO_PAD.encode(public),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX),
        })
    }

    /// Seconds an access token lives.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// A signed access token for `user_id`.
    pub fn issue(&self, user_id: &str, is_admin: bool) -> Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_owned(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + self.ttl_secs,
            adm: is_admin,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(Error::internal)
    }

    /// The claims of `token` if we signed it and it is still valid (no leeway).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 0;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .ok()
            .map(|d| d.claims)
    }

    /// The JSON Web Key Set with our public key (RFC 8037 OKP form).
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "x": self.public_x,
                "kid": self.kid,
                "alg": "EdDSA",
                "use": "sig",
            }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_foreign_ones_do_not() {
        let dir = std::env::temp_dir().join(format!("folio-key-{}", folio_common::new_id()));
        let key = load_or_generate_key(&dir.join("k.pem")).expect("key");
        let again = load_or_generate_key(&dir.join("k.pem")).expect("key");
        assert_eq!(
            key.to_bytes(),
            again.to_bytes(),
            "the key is kept across starts"
        );
        let issuer = TokenIssuer::new(&key, "folio", "folio-api", 900).expect("issuer");
        let token = issuer.issue("u1", true).expect("token");
        let claims = issuer.verify(&token).expect("valid");
        assert_eq!((claims.sub.as_str(), claims.adm), ("u1", true));

        let other = TokenIssuer::new(&SigningKey::from_bytes(&[9; 32]), "folio", "folio-api", 900)
            .expect("issuer");
        assert!(other.verify(&token).is_none());
        let wrong_aud = TokenIssuer::new(&key, "folio", "elsewhere", 900).expect("issuer");
        assert!(wrong_aud.verify(&token).is_none());
        let _ = std::fs::remove_dir_all(dir);
    }
}
