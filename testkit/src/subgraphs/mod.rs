//! Subgraphs made for the router's executor tests, and the executor in front of them:
//! [`social`] (real async-graphql subgraphs of the `social` fixture) and [`scripted`]
//! (closures answering whatever a test needs), both run through [`execute`] — the
//! router's planner and executor, as the pipeline drives them, without its HTTP stage.
//! The fixture supergraphs stay in `router/src/plan/fixtures/` ([`fixture`]).

pub mod scripted;
pub mod social;

use folio_common::{IdentityKey, Viewer};
use folio_router::execute::fetch::{SubgraphClient, UploadFile, Uploads};
use folio_router::execute::{ExecutionContext, Executor};
use folio_router::metrics::Metrics;
use folio_router::plan::{HivePlanner, PlanRequest, QueryPlanner};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The fixture supergraph `router/src/plan/fixtures/<name>.supergraph.graphql`.
pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../router/src/plan/fixtures/{name}.supergraph.graphql",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The signing key of the test executors' identity headers.
pub fn identity_key() -> IdentityKey {
    IdentityKey::new(&[7u8; 32]).expect("key")
}

/// A subgraph client for `urls` as the executor tests use it: the test identity key, an
/// 800 ms timeout, 16 requests in flight per subgraph.
pub fn client(urls: &BTreeMap<String, String>) -> SubgraphClient {
    SubgraphClient::new(
        reqwest::Client::builder(),
        urls.clone(),
        identity_key(),
        Duration::from_millis(800),
        16,
        Arc::new(Metrics::new()),
    )
    .expect("client")
}

/// Plans `query` on `supergraph` and executes it `times` times at once through one
/// executor (fetch sharing on), anonymously, against the subgraphs at `urls`; the
/// response bodies. A plan error is `{"planError": <code>}` (its message on stderr).
/// With `uploads`, the variables are coerced first, as the pipeline does (upload markers
/// must pass for an `Upload!`); otherwise they go as given.
pub async fn execute(
    supergraph: &str,
    urls: &BTreeMap<String, String>,
    query: &str,
    variables: Value,
    uploads: &Uploads,
    times: usize,
) -> Vec<Value> {
    let planner = HivePlanner::from_supergraph_sdl(supergraph).expect("supergraph");
    let executor = Executor::new(client(urls));
    let planned = match planner.plan(&PlanRequest::new(query, None)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("plan error: {e}");
            return vec![json!({ "planError": e.code() })];
        }
    };
    let variables: Map<String, Value> = match variables {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let variables = if uploads.is_empty() {
        variables
    } else {
        match folio_router::execute::variables::coerce(&planned, &variables) {
            Ok(v) => v,
            Err(errors) => return vec![json!({ "errors": errors })],
        }
    };
    let viewer = Viewer::anonymous();
    let cx = ExecutionContext {
        variables: &variables,
        viewer: &viewer,
        traceparent: None,
        uploads,
    };
    let runs = (0..times).map(|_| executor.execute(&planned, planner.introspection(), &cx));
    async_graphql::futures_util::future::join_all(runs)
        .await
        .into_iter()
        .map(|r| r.into_json())
        .collect()
}

/// Posts a GraphQL request straight to a subgraph at `url`; the JSON answer.
pub async fn post(url: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("the subgraph answers")
        .json()
        .await
        .expect("a JSON body")
}

/// The `extensions.code` of every error in `body`, in order ("" for none).
pub fn error_codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// A file of a multipart request, as the router hands it to the executor.
pub fn upload_file(filename: &str, bytes: Vec<u8>) -> UploadFile {
    UploadFile::in_memory(
        Some(filename.to_owned()),
        Some("application/octet-stream".to_owned()),
        bytes.into(),
    )
}
