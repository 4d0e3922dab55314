//! OpenTelemetry: the `folio` binary, with `FOLIO_OTLP_ENDPOINT` pointing at an OTLP/HTTP
//! receiver in this test, exports one trace per client request, joined to the client's
//! own `traceparent`: the router's request, stages and fetches, each subgraph's request,
//! resolvers and SQL statements, content's direct call to interactions; and the spans
//! that publish and apply an event link to the mutation that caused it.
//!
//! The platform runs as its own process: tracing is set up once per process, and the
//! test process's subscriber is the test kit's.

use axum::routing::post;
use folio_testkit::process::Served;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A span as the receiver got it.
#[derive(Debug, Clone)]
struct Span {
    trace: String,
    id: String,
    parent: String,
    name: String,
    /// The process's `service.name`.
    process: String,
    attributes: HashMap<String, String>,
    /// `(trace id, span id)` of each link.
    links: Vec<(String, String)>,
}

/// An OTLP/HTTP receiver on a free port: every span it was sent.
async fn receiver() -> (String, Arc<Mutex<Vec<Span>>>) {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let store = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                let request: Value = serde_json::from_slice(&body).expect("OTLP JSON");
                store.lock().expect("lock").extend(parse(&request));
                axum::Json(json!({}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), spans)
}

fn string_attributes(list: &Value) -> HashMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|kv| {
            let value = &kv["value"];
            let text = value["stringValue"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| value["intValue"].as_str().map(str::to_owned))
                .or_else(|| value["intValue"].as_i64().map(|n| n.to_string()))?;
            Some((kv["key"].as_str()?.to_owned(), text))
        })
        .collect()
}

/// The spans of an `ExportTraceServiceRequest` in OTLP's JSON encoding.
fn parse(request: &Value) -> Vec<Span> {
    let mut out = Vec::new();
    for resource in request["resourceSpans"].as_array().into_iter().flatten() {
        let process = string_attributes(&resource["resource"]["attributes"])
            .remove("service.name")
            .unwrap_or_default();
        for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
            for span in scope["spans"].as_array().into_iter().flatten() {
                let text = |key: &str| span[key].as_str().unwrap_or_default().to_lowercase();
                out.push(Span {
                    trace: text("traceId"),
                    id: text("spanId"),
                    parent: text("parentSpanId"),
                    name: text("name"),
                    process: process.clone(),
                    attributes: string_attributes(&span["attributes"]),
                    links: span["links"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|l| {
                            let id = |k: &str| l[k].as_str().unwrap_or_default().to_lowercase();
                            (id("traceId"), id("spanId"))
                        })
                        .collect(),
                });
            }
        }
    }
    out
}

/// `folio serve`, every service on a free port, traces to `otlp`, JSON logs to
/// `data/folio.log`.
fn serve(data: &std::path::Path, otlp: &str) -> Served {
    let log = std::fs::File::create(data.join("folio.log")).expect("log file");
    Served::start(
        env!("CARGO_BIN_EXE_folio"),
        data,
        &[],
        &[
            // JSON logs with every service's access log line (debug): its lines carry
            // the trace and span ids of the request they are about.
            ("FOLIO_LOG", "warn,folio_common::telemetry=debug"),
            ("FOLIO_LOG_FORMAT", "json"),
            ("FOLIO_OTLP_ENDPOINT", otlp),
            // Export every 100 ms instead of every 5 s.
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
        log.into(),
    )
}

/// A W3C `traceparent` of a client span of our own: (header, trace id, span id).
fn client_traceparent(seed: u8) -> (String, String, String) {
    let trace = format!("{:032x}", 0x4f_6c_69_6f_u128 * 1_000_003 + u128::from(seed));
    let span = format!("{:016x}", 0x000f_0110_u64 + u64::from(seed));
    (format!("00-{trace}-{span}-01"), trace, span)
}

async fn gql(url: &str, token: Option<&str>, traceparent: &str, query: &str, vars: Value) -> Value {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("traceparent", traceparent)
        .json(&json!({ "query": query, "variables": vars }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let body: Value = req
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

/// Waits until `check` holds of the spans received so far; they are returned.
async fn spans_until(
    spans: &Arc<Mutex<Vec<Span>>>,
    what: &str,
    check: impl Fn(&[Span]) -> bool,
) -> Vec<Span> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = spans.lock().expect("lock").clone();
        if check(&now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within 30 s; got {now:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_top_contents_query_is_one_trace_across_router_content_interactions_and_users() {
    let (otlp, spans) = receiver().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let served = serve(dir.path(), &otlp);
    let url = format!("{}/graphql", served.url);

    // The scene, the creation of the content carrying a traceparent of our own.
    let (setup, _, _) = client_traceparent(1);
    let register = "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }";
    let input = json!({ "email": "ada-traces@example.com", "password": "correct horse 1",
        "firstName": "Ada", "lastName": "Traced" });
    let data = gql(&url, None, &setup, register, json!({ "i": input })).await;
    let token = data["register"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let (created, created_trace, _) = client_traceparent(2);
    let create = "mutation($i: CreateContentInput!) { createContent(input: $i) { id } }";
    let input = json!({ "title": "Traced", "story": "A story with a trace." });
    let data = gql(&url, Some(&token), &created, create, json!({ "i": input })).await;
    let content = data["createContent"]["id"].as_str().expect("id").to_owned();
    let like = "mutation($c: ID!) { like(contentId: $c) { id } }";
    gql(&url, Some(&token), &setup, like, json!({ "c": content })).await;

    // The query: content's topContents asks interactions' contentRanking directly; the
    // router then fetches likeCount from interactions and the author from users.
    let (top, trace, client_span) = client_traceparent(3);
    let query = "{ topContents(first: 1) { id likeCount author { firstName } } }";
    let data = gql(&url, None, &top, query, json!({})).await;
    assert_eq!(data["topContents"][0]["id"], json!(content), "{data}");

    let services = ["router", "content", "interactions", "users"];
    let all = spans_until(&spans, "the query's request spans of every service", |s| {
        let requests: HashSet<&str> = s
            .iter()
            .filter(|span| span.trace == trace && span.attributes.contains_key("url.path"))
            .filter_map(|span| span.attributes.get("service").map(String::as_str))
            .collect();
        services.iter().all(|svc| requests.contains(svc))
    })
    .await;
    let trace_spans: Vec<&Span> = all.iter().filter(|s| s.trace == trace).collect();
    let by_id: HashMap<&str, &Span> = trace_spans.iter().map(|s| (s.id.as_str(), *s)).collect();
    let request_of = |service: &str| -> Vec<&Span> {
        trace_spans
            .iter()
            .copied()
            .filter(|s| {
                s.attributes.get("service").map(String::as_str) == Some(service)
                    && s.attributes.contains_key("url.path")
            })
            .collect()
    };
    // The router's request is the child of our client span.
    let router = request_of("router");
    assert_eq!(router.len(), 1, "{trace_spans:#?}");
    assert_eq!(router[0].parent, client_span, "{:#?}", router[0]);
    // Every other span of the trace has its parent in the trace.
    for span in &trace_spans {
        if span.id != router[0].id {
            assert!(
                by_id.contains_key(span.parent.as_str()),
                "{span:#?} has a parent outside the trace"
            );
        }
    }
    // Walking up from a span: the names of its ancestors.
    let ancestors = |span: &Span| -> Vec<String> {
        let mut names = Vec::new();
        let mut at = by_id.get(span.parent.as_str());
        while let Some(s) = at {
            names.push(s.name.clone());
            at = by_id.get(s.parent.as_str());
        }
        names
    };
    // Each subgraph's request is the child of a router fetch of that subgraph, or (for
    // interactions) of content's direct call.
    for service in ["content", "interactions", "users"] {
        let requests = request_of(service);
        assert!(
            !requests.is_empty(),
            "no {service} request in {trace_spans:#?}"
        );
        for request in requests {
            let parent = by_id[request.parent.as_str()];
            let via_router = parent.name == format!("fetch {service}");
            let via_content = service == "interactions" && parent.name == "call interactions";
            assert!(via_router || via_content, "{service}: parent {parent:#?}");
            if via_content {
                assert!(
                    ancestors(parent).iter().any(|n| n == "fetch content"),
                    "{:?}",
                    ancestors(parent)
                );
            }
        }
    }
    assert!(
        request_of("interactions")
            .iter()
            .any(|r| by_id[r.parent.as_str()].name == "call interactions"),
        "content's direct call to interactions is in the trace"
    );
    // The router's stages, and SQL statements inside the subgraphs' requests.
    for stage in ["http", "documents", "auth", "plan", "execute"] {
        assert!(
            trace_spans
                .iter()
                .any(|s| s.name == stage && s.process == "folio"),
            "no {stage} stage in {trace_spans:#?}"
        );
    }
    let sql: Vec<&&Span> = trace_spans
        .iter()
        .filter(|s| s.attributes.contains_key("db.system"))
        .collect();
    assert!(!sql.is_empty(), "no SQL span in {trace_spans:#?}");
    for statement in sql {
        let up = ancestors(statement);
        assert!(
            up.iter().any(|n| n.starts_with("content ")
                || n.starts_with("interactions ")
                || n.starts_with("users ")),
            "{up:?}"
        );
    }

    // The JSON access log lines of the query's requests name its trace, and the span.
    let log = std::fs::read_to_string(dir.path().join("folio.log")).expect("the log");
    let mut joined = 0;
    for line in log.lines().filter(|l| l.contains(&trace)) {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let request = entry["spans"]
            .as_array()
            .and_then(|spans| spans.iter().find(|s| s["trace_id"].is_string()))
            .unwrap_or_else(|| panic!("no span with a trace_id in {line}"));
        assert_eq!(request["trace_id"], json!(trace), "{line}");
        let span_id = request["span_id"].as_str().expect("span_id");
        assert!(by_id.contains_key(span_id), "{line}");
        joined += 1;
    }
    assert!(joined > 0, "no log line names the trace:\n{log}");

    // The content created under our traceparent: its event's publication and its
    // application (by interactions and search) link to that mutation's trace.
    let all = spans_until(&spans, "the event spans linked to createContent", |s| {
        let linked = |name: &str| {
            s.iter().any(|span| {
                span.name == name && span.links.iter().any(|(t, _)| *t == created_trace)
            })
        };
        linked("publish") && linked("consume_batch")
    })
    .await;
    let consumers: HashSet<&str> = all
        .iter()
        .filter(|s| s.name == "consume_batch" && s.links.iter().any(|(t, _)| *t == created_trace))
        .filter_map(|s| s.attributes.get("service").map(String::as_str))
        .collect();
    assert!(consumers.contains("interactions"), "{consumers:?}");
}
