//! The identity the router forwards to subgraphs, and the proof that it came from the router.
//!
//! The router verifies the caller's JWT once, then sends the viewer's id, admin flag and
//! the client's IP in `x-folio-*` headers with a timestamp and an HMAC-SHA256 over all of
//! them, keyed by a secret only the router and the subgraphs hold. A subgraph accepts
//! identity only with a valid, fresh proof:
//! - no proof header: the request is anonymous (any other identity header is ignored);
//! - a proof that is malformed, does not verify, or whose timestamp is more than
//!   [`MAX_SKEW_SECS`] from the subgraph's clock: the request is refused (HTTP 401,
//!   UNAUTHENTICATED).
//!
//! | Header | Value |
//! |---|---|
//! | `x-folio-user-id` | the user's id, empty when anonymous |
//! | `x-folio-user-admin` | `1` or `0` (the `adm` claim of the access token) |
//! | `x-folio-client-ip` | the TCP peer the router saw (behind a proxy, the proxy) |
//! | `x-folio-identity-ts` | Unix seconds when the router signed |
//! | `x-folio-identity-sig` | base64url HMAC-SHA256 of `"v1\n{ts}\n{user}\n{admin}\n{ip}"` |
//!
//! The key is `FOLIO_IDENTITY_SECRET` (at least 32 characters), or a secret generated once
//! into `{data_dir}/identity.secret` so that the services of one machine share it
//! ([`load_key`]). The router strips every header of the scheme ([`ALL_HEADERS`]) from
//! what clients send and builds each subgraph request afresh.

use crate::error::Error;
use crate::id::Id;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::IpAddr;

/// The viewer's user id.
pub const USER_ID_HEADER: &str = "x-folio-user-id";
/// `1` when the viewer is an admin.
pub const ADMIN_HEADER: &str = "x-folio-user-admin";
/// The client's IP as the router saw it.
pub const CLIENT_IP_HEADER: &str = "x-folio-client-ip";
/// Unix seconds when the router signed the headers.
pub const TIMESTAMP_HEADER: &str = "x-folio-identity-ts";
/// The HMAC proof.
pub const SIGNATURE_HEADER: &str = "x-folio-identity-sig";

/// Every header of the scheme; the router strips them all from client requests.
pub const ALL_HEADERS: [&str; 5] = [
    USER_ID_HEADER,
    ADMIN_HEADER,
    CLIENT_IP_HEADER,
    TIMESTAMP_HEADER,
    SIGNATURE_HEADER,
];

/// How far a proof's timestamp may be from the subgraph's clock.
pub const MAX_SKEW_SECS: i64 = 60;

/// Who is asking, as far as a subgraph knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Viewer {
    /// The signed-in user's id; `None` when anonymous.
    pub user_id: Option<String>,
    /// Whether the signed-in user was an admin when their access token was issued.
    pub is_admin: bool,
    /// The client's IP, when the router forwarded one.
    pub client_ip: Option<IpAddr>,
}

impl Viewer {
    /// An anonymous viewer.
    pub fn anonymous() -> Self {
        Viewer::default()
    }

    /// The signed-in user's id; `None` when anonymous. A verified identity always holds
    /// an [`Id`] (header values cannot carry a NUL, and an empty one is anonymous), so a
    /// user id that is not one can only come from code, and counts as anonymous.
    pub fn id(&self) -> Option<Id> {
        self.user_id.as_deref().and_then(|id| Id::parse(id).ok())
    }

    /// The signed-in user's id, or `UNAUTHENTICATED`.
    pub fn require_user(&self) -> Result<Id, Error> {
        self.id().ok_or(Error::Unauthenticated("sign in first"))
    }

    /// Whether the viewer is `user_id` or an admin.
    pub fn is_self_or_admin(&self, user_id: &str) -> bool {
        self.is_admin || self.user_id.as_deref() == Some(user_id)
    }

    /// The signed-in user's id if they are `owner` or an admin: `UNAUTHENTICATED` when
    /// anonymous, `FORBIDDEN` (saying `refusal`) otherwise.
    pub fn require_self_or_admin(&self, owner: &str, refusal: &str) -> Result<Id, Error> {
        let me = self.require_user()?;
        if self.is_self_or_admin(owner) {
            Ok(me)
        } else {
            Err(Error::forbidden(refusal))
        }
    }

    /// The signed-in user's id if they are an admin: `UNAUTHENTICATED` when anonymous,
    /// `FORBIDDEN` (saying `refusal`) otherwise.
    pub fn require_admin(&self, refusal: &str) -> Result<Id, Error> {
        let me = self.require_user()?;
        if self.is_admin {
            Ok(me)
        } else {
            Err(Error::forbidden(refusal))
        }
    }

    /// The signed-in user's id if they are not `target` (following, blocking yourself):
    /// `UNAUTHENTICATED` when anonymous, `FORBIDDEN` otherwise.
    pub fn require_other_than(&self, target: &str) -> Result<Id, Error> {
        let me = self.require_user()?;
        if me == target {
            return Err(Error::forbidden("you cannot do this to yourself"));
        }
        Ok(me)
    }
}

/// The shared secret behind the proof.
#[derive(Clone)]
pub struct IdentityKey(Vec<u8>);

impl std::fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityKey(..)")
    }
}

/// A request whose proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgedIdentity(pub &'static str);

impl IdentityKey {
    /// A key from a secret of at least 32 bytes.
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err("the identity secret must be at least 32 characters".into());
        }
        Ok(IdentityKey(secret.to_vec()))
    }

    fn mac(&self, ts: i64, user_id: &str, admin: bool, ip: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        // Fields are separated by a byte none of them can contain, so no two different
        // header sets produce the same signed message.
        let msg = format!("v1\n{ts}\n{user_id}\n{}\n{ip}", u8::from(admin));
        mac.update(msg.as_bytes());
        mac
    }

    /// The headers that carry `viewer` to a subgraph, signed at `now` (Unix seconds).
    pub fn sign(&self, viewer: &Viewer, now: i64) -> Vec<(HeaderName, HeaderValue)> {
        let user_id = viewer.user_id.as_deref().unwrap_or("");
        let ip = viewer.client_ip.map(|i| i.to_string()).unwrap_or_default();
        let sig = self
            .mac(now, user_id, viewer.is_admin, &ip)
            .finalize()
            .into_bytes();
        let header = |name: &'static str, value: String| {
            (
                HeaderName::from_static(name),
                HeaderValue::from_str(&value)
                    .expect("ids, digits, IPs and base64 are valid header values"),
            )
        };
        vec![
            header(USER_ID_HEADER, user_id.to_owned()),
            header(ADMIN_HEADER, u8::from(viewer.is_admin).to_string()),
            header(CLIENT_IP_HEADER, ip),
            header(TIMESTAMP_HEADER, now.to_string()),
            header(SIGNATURE_HEADER, URL_SAFE_NO_PAD.encode(sig)),
        ]
    }

    /// The viewer that `headers` prove, checked at `now` (Unix seconds).
    pub fn verify(&self, headers: &HeaderMap, now: i64) -> Result<Viewer, ForgedIdentity> {
        let Some(sig) = headers.get(SIGNATURE_HEADER) else {
            return Ok(Viewer::anonymous());
        };
        let text = |name: &str| -> Result<&str, ForgedIdentity> {
            match headers.get(name) {
                None => Ok(""),
                Some(v) => v
                    .to_str()
                    .map_err(|_| ForgedIdentity("malformed identity header")),
            }
        };
        let user_id = text(USER_ID_HEADER)?;
        let admin = match text(ADMIN_HEADER)? {
            "1" => true,
            "0" | "" => false,
            _ => return Err(ForgedIdentity("malformed identity header")),
        };
        let ip = text(CLIENT_IP_HEADER)?;
        let ts: i64 = text(TIMESTAMP_HEADER)?
            .parse()
            .map_err(|_| ForgedIdentity("malformed identity timestamp"))?;
        let sig = sig
            .to_str()
            .ok()
            .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .ok_or(ForgedIdentity("malformed identity proof"))?;
        self.mac(ts, user_id, admin, ip)
            .verify_slice(&sig)
            .map_err(|_| ForgedIdentity("identity proof does not verify"))?;
        if (now - ts).abs() > MAX_SKEW_SECS {
            return Err(ForgedIdentity("identity proof has expired"));
        }
        let client_ip = if ip.is_empty() {
            None
        } else {
            Some(
                ip.parse()
                    .map_err(|_| ForgedIdentity("malformed client IP"))?,
            )
        };
        Ok(Viewer {
            user_id: (!user_id.is_empty()).then(|| user_id.to_owned()),
            is_admin: admin && !user_id.is_empty(),
            client_ip,
        })
    }
}

/// The identity key from `secret` when configured, or else from `data_dir/identity.secret`,
/// generated there on first start (so every service of one machine shares it).
pub fn load_key(secret: Option<&str>, data_dir: &std::path::Path) -> Result<IdentityKey, String> {
    if let Some(s) = secret {
        return IdentityKey::new(s.as_bytes());
    }
    let path = data_dir.join("identity.secret");
    let read = |p: &std::path::Path| std::fs::read_to_string(p).map(|s| s.trim().to_owned());
    let secret = match read(&path) {
        Ok(s) => s,
        Err(_) => {
            std::fs::create_dir_all(data_dir)
                .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
            let fresh = URL_SAFE_NO_PAD.encode(crate::random_bytes(32));
            // create_new: if another service of this machine wins the race, use its secret.
            let written = create_private(&path)
                .and_then(|mut f| std::io::Write::write_all(&mut f, fresh.as_bytes()));
            match written {
                Ok(()) => fresh,
                Err(_) => {
                    read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
                }
            }
        }
    };
    IdentityKey::new(secret.as_bytes())
}

/// Creates a file only its owner can read (the secret must not be world-readable).
fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> IdentityKey {
        IdentityKey::new(&[7u8; 32]).expect("key")
    }

    fn headers(pairs: Vec<(HeaderName, HeaderValue)>) -> HeaderMap {
        pairs.into_iter().collect()
    }

    #[test]
    fn signed_identity_round_trips() {
        let v = Viewer {
            user_id: Some("u1".into()),
            is_admin: true,
            client_ip: Some("203.0.113.9".parse().expect("ip")),
        };
        let h = headers(key().sign(&v, 1000));
        assert_eq!(key().verify(&h, 1010), Ok(v));
    }

    #[test]
    fn headers_without_proof_are_anonymous() {
        let mut h = HeaderMap::new();
        h.insert(USER_ID_HEADER, HeaderValue::from_static("u1"));
        h.insert(ADMIN_HEADER, HeaderValue::from_static("1"));
        assert_eq!(key().verify(&h, 0), Ok(Viewer::anonymous()));
    }

    #[test]
    fn tampered_or_stale_or_foreign_proofs_are_refused() {
        let v = Viewer {
            user_id: Some("u1".into()),
            ..Viewer::default()
        };
        let mut h = headers(key().sign(&v, 1000));
        assert!(key().verify(&h, 1000 + MAX_SKEW_SECS + 1).is_err());
        h.insert(ADMIN_HEADER, HeaderValue::from_static("1"));
        assert!(key().verify(&h, 1000).is_err());
        let other = IdentityKey::new(&[8u8; 32]).expect("key");
        assert!(other.verify(&headers(key().sign(&v, 1000)), 1000).is_err());
    }

    #[test]
    fn a_viewer_is_signed_in_only_with_an_id() {
        let as_user = |id: &str| Viewer {
            user_id: Some(id.to_owned()),
            ..Viewer::default()
        };
        assert_eq!(as_user("u1").require_user().ok(), Id::parse("u1").ok());
        assert!(Viewer::anonymous().require_user().is_err());
        assert_eq!(as_user("nul\0").id(), None);
        assert!(as_user("nul\0").require_user().is_err());
        assert!(as_user("u1").require_other_than("u1").is_err());
    }

    #[test]
    fn short_secrets_are_rejected() {
        assert!(IdentityKey::new(b"short").is_err());
    }
}
