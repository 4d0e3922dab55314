//! Credentials: password hashing, access tokens (JWT) and refresh tokens.

pub mod password;
pub mod refresh;
pub mod tokens;
