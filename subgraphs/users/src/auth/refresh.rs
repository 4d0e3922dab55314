//! Refresh tokens: random, shown to the client once, stored only as a SHA-256 hash.
//!
//! Tokens of one sign-in form a family (`store::tokens`): `refreshToken` marks the
//! presented token used and stores its successor in one transaction, and a token presented
//! again (leaked or replayed) revokes its whole family. `logout` revokes the family,
//! `changePassword` every token of the user; deleting a user deletes their tokens
//! (foreign keys cascade).

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
