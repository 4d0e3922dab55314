//! Refresh tokens: random, shown to the client once, stored only as a SHA-256 hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A new refresh token (256 random bits, base64url) and the hash we store.
pub fn generate() -> (String, String) {
    let token = URL_SAFE_NO_PAD.encode(folio_common::random_bytes(32));
    let hash = hash(&token);
    (token, hash)
}

/// The stored form of a refresh token. Tokens carry 256 bits of entropy, so a fast hash
/// suffices: there is nothing to brute-force.
pub fn hash(token: &str) -> String {
    super::password::hex(&Sha256::digest(token.as_bytes()))
}
