//! Stage 2, documents: the operation's text when a request names it by its hash —
//! trusted documents (a manifest of the operations a team's clients send,
//! `FOLIO_PERSISTED_DOCUMENTS_FILE`) and automatic persisted queries (APQ, the protocol of
//! Apollo Client's persisted-queries link, `FOLIO_APQ`).
//!
//! A request names a document with `documentId` (`"<sha256 hex>"` or `"sha256:<hex>"`, the
//! GraphQL-over-HTTP persisted documents form) or with `extensions.persistedQuery`
//! (`{"version": 1, "sha256Hash": "<hex>"}`, Apollo's). An id is the lower-case hex
//! SHA-256 of the document's text.
//! - An id alone: the manifest's document, else the one the APQ store remembers; else
//!   `PERSISTED_QUERY_NOT_FOUND` with the message `PersistedQueryNotFound` (what Apollo
//!   Client looks for before it sends the text).
//! - An id with `query`: the id must be the text's SHA-256 (`BAD_REQUEST` otherwise), and
//!   the APQ store remembers the text (at most [`APQ_STORE_BYTES`] of texts, the least
//!   recently used going first).
//! - `FOLIO_PERSISTED_DOCUMENTS_ONLY=true` (production lock-down): whatever way the text
//!   came, it must be one of the manifest's (`PERSISTED_QUERY_REQUIRED`); nothing is
//!   remembered from APQ.
//!
//! The manifest is read once at start in either format tools write: graphql-codegen's
//! client preset (`{"<id>": "<document>", …}`) or Apollo's persisted query manifest
//! (`{"format": …, "operations": [{"id", "body", "name", "type"}]}`); each id must be its
//! document's SHA-256, or the router does not start.

use super::http::GraphQLRequest;
use crate::error::RouterError;
use lru::LruCache;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::ops::Deref;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// How much document text the APQ store keeps at most.
pub const APQ_STORE_BYTES: usize = 32 * 1024 * 1024;

/// The documents stage's settings and state.
pub struct Documents {
    manifest: Option<Manifest>,
    only_listed: bool,
    apq: Option<Mutex<ApqStore>>,
}

/// A request's operation text: as it was sent, or a stored document.
#[derive(Debug)]
pub enum Text {
    Sent(String),
    Stored(Arc<str>),
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Text::Sent(text) => text,
            Text::Stored(text) => text,
        }
    }
}

impl Documents {
    /// `manifest` (if any) and the two switches; locked to the manifest only when there
    /// is one (the router refuses to start locked without one).
    pub fn new(manifest: Option<Manifest>, only_listed: bool, apq: bool) -> Self {
        let only_listed = only_listed && manifest.is_some();
        Documents {
            only_listed,
            apq: (apq && !only_listed).then(|| Mutex::new(ApqStore::default())),
            manifest,
        }
    }

    /// The operation text of `request`.
    pub fn resolve(&self, request: &mut GraphQLRequest) -> Result<Text, RouterError> {
        let id = requested_id(request)?;
        let text = match (id, request.query.take()) {
            (None, Some(query)) => Text::Sent(query),
            (None, None) => {
                return Err(RouterError::BadRequest(
                    "a GraphQL request needs a `query` (or a `documentId`)".into(),
                ));
            }
            (Some(id), None) => Text::Stored(self.find(&id)?),
            (Some(id), Some(query)) => {
                if sha256_hex(&query) != id.hex {
                    return Err(RouterError::BadRequest(
                        "provided sha does not match query".into(),
                    ));
                }
                if id.apq && !self.only_listed {
                    match &self.apq {
                        Some(store) => store
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .put(id.hex, &query),
                        None if !self.listed(&id.hex) => {
                            return Err(RouterError::PersistedQueryNotSupported);
                        }
                        None => {}
                    }
                }
                Text::Sent(query)
            }
        };
        if self.only_listed && !self.listed(&sha256_hex(&text)) {
            return Err(RouterError::PersistedQueryRequired);
        }
        Ok(text)
    }

    /// The document `id` names: the manifest's, or the APQ store's.
    fn find(&self, id: &Id) -> Result<Arc<str>, RouterError> {
        if let Some(text) = self.manifest.as_ref().and_then(|m| m.by_id.get(&id.hex)) {
            return Ok(text.clone());
        }
        match &self.apq {
            Some(store) => store
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&id.hex)
                .ok_or(RouterError::PersistedQueryNotFound),
            // Apollo's protocol without the store: tell the client not to try again.
            None if id.apq && self.manifest.is_none() => {
                Err(RouterError::PersistedQueryNotSupported)
            }
            None => Err(RouterError::PersistedQueryNotFound),
        }
    }

    fn listed(&self, hex: &str) -> bool {
        self.manifest
            .as_ref()
            .is_some_and(|m| m.by_id.contains_key(hex))
    }
}

/// A document id from a request, normalised.
struct Id {
    hex: String,
    /// Whether it came as Apollo's `extensions.persistedQuery`.
    apq: bool,
}

fn requested_id(request: &GraphQLRequest) -> Result<Option<Id>, RouterError> {
    let bad = |m: &str| RouterError::BadRequest(m.to_owned());
    if let Some(id) = &request.document_id {
        let hex = normalise(id).ok_or_else(|| {
            bad("`documentId` must be a SHA-256 in hex (64 digits), optionally after `sha256:`")
        })?;
        return Ok(Some(Id { hex, apq: false }));
    }
    let Some(pq) = request
        .extensions
        .as_ref()
        .and_then(|e| e.get("persistedQuery"))
    else {
        return Ok(None);
    };
    if pq.get("version").and_then(Value::as_i64) != Some(1) {
        return Err(bad(
            "`extensions.persistedQuery.version` must be 1 (the only version there is)",
        ));
    }
    let hex = pq
        .get("sha256Hash")
        .and_then(Value::as_str)
        .and_then(normalise)
        .ok_or_else(|| bad("`extensions.persistedQuery.sha256Hash` must be a SHA-256 in hex"))?;
    Ok(Some(Id { hex, apq: true }))
}

/// `<64 hex digits>` or `sha256:<64 hex digits>`, in lower case.
fn normalise(id: &str) -> Option<String> {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// The lower-case hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// The trusted documents, by id.
#[derive(Debug)]
pub struct Manifest {
    by_id: HashMap<String, Arc<str>>,
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn load(path: &Path) -> anyhow::Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "FOLIO_PERSISTED_DOCUMENTS_FILE: cannot read {}: {e}",
                path.display()
            )
        })?;
        Manifest::parse(&text)
            .map_err(|e| anyhow::anyhow!("FOLIO_PERSISTED_DOCUMENTS_FILE {}: {e}", path.display()))
    }

    /// A manifest in either format (see the module's documentation).
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let pairs: Vec<(String, String)> = match &value {
            Value::Object(map) if map.contains_key("operations") => map["operations"]
                .as_array()
                .ok_or("`operations` must be an array")?
                .iter()
                .map(|op| {
                    let field = |name: &str| {
                        op.get(name)
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                            .ok_or_else(|| format!("an operation without a string `{name}`: {op}"))
                    };
                    Ok((field("id")?, field("body")?))
                })
                .collect::<Result<_, String>>()?,
            Value::Object(map) => map
                .iter()
                .map(|(id, body)| {
                    body.as_str()
                        .map(|b| (id.clone(), b.to_owned()))
                        .ok_or_else(|| format!("the document of `{id}` is not a string"))
                })
                .collect::<Result<_, String>>()?,
            _ => {
                return Err(
                    "neither `{\"<id>\": \"<document>\"}` nor `{\"operations\": [{\"id\", \"body\"}]}`"
                        .into(),
                );
            }
        };
        let mut by_id = HashMap::with_capacity(pairs.len());
        for (id, body) in pairs {
            let hex = normalise(&id)
                .ok_or_else(|| format!("`{id}` is not a SHA-256 in hex (64 digits)"))?;
            if sha256_hex(&body) != hex {
                return Err(format!(
                    "`{id}` is not the SHA-256 of its document (generate the manifest with SHA-256 hashes)"
                ));
            }
            by_id.insert(hex, Arc::from(body));
        }
        Ok(Manifest { by_id })
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// The texts APQ clients registered, least recently used first out, at most
/// [`APQ_STORE_BYTES`] of them.
struct ApqStore {
    texts: LruCache<String, Arc<str>>,
    bytes: usize,
}

impl Default for ApqStore {
    fn default() -> Self {
        ApqStore {
            texts: LruCache::unbounded(),
            bytes: 0,
        }
    }
}

impl ApqStore {
    fn get(&mut self, hex: &str) -> Option<Arc<str>> {
        self.texts.get(hex).cloned()
    }

    fn put(&mut self, hex: String, text: &str) {
        if self.texts.get(&hex).is_some() || text.len() > APQ_STORE_BYTES {
            return;
        }
        self.bytes += text.len();
        self.texts.put(hex, Arc::from(text));
        while self.bytes > APQ_STORE_BYTES {
            match self.texts.pop_lru() {
                Some((_, old)) => self.bytes -= old.len(),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "query Me { me { id } }";

    fn request(json: Value) -> GraphQLRequest {
        serde_json::from_value(json).expect("a request")
    }

    fn code(r: Result<Text, RouterError>) -> &'static str {
        r.map(|_| "OK").unwrap_or_else(|e| e.code())
    }

    #[test]
    fn apollo_clients_flow_registers_then_finds_the_text() {
        let docs = Documents::new(None, false, true);
        let hash = sha256_hex(ME);
        let pq = serde_json::json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
        let alone = || request(serde_json::json!({ "extensions": pq }));
        assert_eq!(
            code(docs.resolve(&mut alone())),
            "PERSISTED_QUERY_NOT_FOUND"
        );
        let mut with_text = request(serde_json::json!({ "query": ME, "extensions": pq }));
        assert_eq!(&*docs.resolve(&mut with_text).expect("registered"), ME);
        assert_eq!(&*docs.resolve(&mut alone()).expect("found"), ME);
        // A hash that is not the text's.
        let other = serde_json::json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex("{ a }") } });
        let mut wrong = request(serde_json::json!({ "query": ME, "extensions": other }));
        assert_eq!(code(docs.resolve(&mut wrong)), "BAD_REQUEST");
        // Neither a text nor an id.
        let mut nothing = request(serde_json::json!({ "variables": {} }));
        assert_eq!(code(docs.resolve(&mut nothing)), "BAD_REQUEST");
        // APQ off: the client is told not to try.
        let off = Documents::new(None, false, false);
        assert_eq!(
            code(off.resolve(&mut alone())),
            "PERSISTED_QUERY_NOT_SUPPORTED"
        );
    }

    #[test]
    fn both_manifest_formats_load_and_ids_must_be_their_documents_hashes() {
        let hash = sha256_hex(ME);
        let codegen = serde_json::json!({ format!("sha256:{hash}"): ME }).to_string();
        let apollo = serde_json::json!({
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [{ "id": hash, "body": ME, "name": "Me", "type": "query" }]
        })
        .to_string();
        for text in [codegen, apollo] {
            let manifest = Manifest::parse(&text).expect("a manifest");
            assert_eq!(manifest.len(), 1);
            let docs = Documents::new(Some(manifest), true, true);
            let mut by_id = request(serde_json::json!({ "documentId": hash }));
            assert_eq!(&*docs.resolve(&mut by_id).expect("listed"), ME);
            let mut sent = request(serde_json::json!({ "query": ME }));
            assert_eq!(
                code(docs.resolve(&mut sent)),
                "OK",
                "a listed text may be sent"
            );
            let mut other = request(serde_json::json!({ "query": "{ __typename }" }));
            assert_eq!(code(docs.resolve(&mut other)), "PERSISTED_QUERY_REQUIRED");
            let unknown = sha256_hex("{ b }");
            let mut missing = request(serde_json::json!({ "documentId": unknown }));
            assert_eq!(
                code(docs.resolve(&mut missing)),
                "PERSISTED_QUERY_NOT_FOUND"
            );
        }
        let forged = serde_json::json!({ sha256_hex("{ a }"): ME }).to_string();
        assert!(
            Manifest::parse(&forged)
                .unwrap_err()
                .contains("not the SHA-256")
        );
        assert!(Manifest::parse("[1]").is_err());
    }

    #[test]
    fn the_apq_store_forgets_the_least_recently_used_past_its_size() {
        let mut store = ApqStore::default();
        let big = "x".repeat(APQ_STORE_BYTES / 2);
        store.put("a".into(), &big);
        store.put("b".into(), &big);
        assert!(store.get("a").is_some());
        store.put("c".into(), "{ c }");
        assert!(store.get("b").is_none(), "b was the least recently used");
        assert!(store.get("a").is_some() && store.get("c").is_some());
        assert!(store.bytes <= APQ_STORE_BYTES);
    }
}
