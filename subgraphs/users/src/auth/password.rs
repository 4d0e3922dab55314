//! Argon2id password hashing, off the async runtime and bounded in parallelism.
//!
//! OWASP's parameters (m = 19 MiB, t = 2, p = 1) make each hash cost tens of milliseconds
//! of one core. Hashing runs on `spawn_blocking` so cheap requests keep their latency,
//! and at most one hash per core runs at a time, so a login storm queues instead of
//! exhausting memory. A login for an unknown email verifies against a dummy hash: it
//! costs the same as a wrong password and timing reveals nothing.

use crate::domain::Password;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use folio_common::{Error, Result};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Hashes and verifies passwords.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    dummy_hash: Arc<str>,
}

fn argon2() -> Argon2<'static> {
    // Params::DEFAULT is OWASP's recommendation: 19 MiB, 2 passes, 1 lane.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&folio_common::random_bytes(16)).map_err(Error::internal)?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(Error::internal)
}

fn verify_blocking(password: &str, hash: &str) -> Result<bool> {
    let parsed = PasswordHash::new(hash).map_err(Error::internal)?;
    Ok(argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

impl PasswordHasher {
    /// A hasher allowing `parallelism` hashes at once (one per core is plenty).
    pub fn new(parallelism: usize) -> Result<Self> {
        let dummy = hex(&folio_common::random_bytes(16));
        Ok(PasswordHasher {
            permits: Arc::new(Semaphore::new(parallelism.max(1))),
            dummy_hash: hash_blocking(&dummy)?.into(),
        })
    }

    /// The PHC string of a new hash of `password`.
    pub async fn hash(&self, password: &Password) -> Result<String> {
        let password = password.expose().to_owned();
        self.run(move || hash_blocking(&password)).await
    }

    /// Whether `password` matches `hash`; with no hash (unknown user) it spends the same
    /// time on a dummy hash and answers `false`.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool> {
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy_hash.to_string(), str::to_owned);
        let password = password.to_owned();
        let ok = self.run(move || verify_blocking(&password, &hash)).await?;
        Ok(ok && known)
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self.permits.acquire().await.map_err(Error::internal)?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(Error::internal)?
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_never_match() {
        let h = PasswordHasher::new(1).expect("hasher");
        let pw = Password::parse("correct horse").expect("pw");
        let hash = h.hash(&pw).await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            h.verify("correct horse", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(!h.verify("wrong horse!", Some(&hash)).await.expect("verify"));
        assert!(!h.verify("correct horse", None).await.expect("verify"));
    }
}
