//! Scripted subgraphs: each a closure from the request body to the response body, for
//! answers a well-behaved server never gives (or an async-graphql schema run in the
//! closure, [`schema_handler`]), on `127.0.0.1:0`, with every request they received.

use async_graphql::{EmptySubscription, Schema};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A subgraph made of a closure: request body in, response body out.
pub type Handler = Arc<dyn Fn(&Value) -> Value + Send + Sync>;

/// Subgraphs listening on 127.0.0.1:0, with every request they received.
pub struct Subgraphs {
    /// Subgraph name -> URL of its `POST /graphql`.
    pub urls: BTreeMap<String, String>,
    log: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Subgraphs {
    /// The request bodies `subgraph` received, in order.
    pub fn requests_to(&self, subgraph: &str) -> Vec<Value> {
        self.log
            .lock()
            .expect("log")
            .iter()
            .filter(|(name, _)| name == subgraph)
            .map(|(_, body)| body.clone())
            .collect()
    }

    /// The representations of every `_entities` request `subgraph` received.
    pub fn representations(&self, subgraph: &str) -> Vec<Value> {
        self.requests_to(subgraph)
            .into_iter()
            .filter(|r| r["query"].as_str().is_some_and(|q| q.contains("_entities")))
            .map(|r| r["variables"]["representations"].clone())
            .collect()
    }

    /// Plans `query` on `supergraph` and executes it against these subgraphs (see
    /// [`super::execute`]).
    pub async fn run(&self, supergraph: &str, query: &str, variables: Value) -> Value {
        self.run_concurrently(supergraph, query, variables, 1)
            .await
            .pop()
            .unwrap_or(Value::Null)
    }

    /// Executes `query` `times` times at once, through one executor (fetch sharing on).
    pub async fn run_concurrently(
        &self,
        supergraph: &str,
        query: &str,
        variables: Value,
        times: usize,
    ) -> Vec<Value> {
        super::execute(
            supergraph,
            &self.urls,
            query,
            variables,
            &Default::default(),
            times,
        )
        .await
    }
}

/// The subgraphs `handlers` name, answering at once.
pub async fn spawn(handlers: Vec<(&'static str, Handler)>) -> Subgraphs {
    spawn_slow(handlers, Duration::ZERO).await
}

/// [`spawn`], each subgraph waiting `delay` before it answers (so that identical
/// requests overlap in flight).
pub async fn spawn_slow(handlers: Vec<(&'static str, Handler)>, delay: Duration) -> Subgraphs {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut urls = BTreeMap::new();
    for (name, handler) in handlers {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let log = log.clone();
        let app = axum::Router::new().route(
            "/graphql",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let handler = handler.clone();
                let log = log.clone();
                async move {
                    log.lock()
                        .expect("log")
                        .push((name.to_owned(), body.clone()));
                    tokio::time::sleep(delay).await;
                    axum::Json(handler(&body))
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        urls.insert(name.to_owned(), format!("http://{addr}/graphql"));
    }
    Subgraphs { urls, log }
}

/// A handler serving an async-graphql schema.
pub fn schema_handler<Q, M>(schema: Schema<Q, M, EmptySubscription>) -> Handler
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
{
    Arc::new(move |body: &Value| {
        let schema = schema.clone();
        let request: async_graphql::Request = match serde_json::from_value(body.clone()) {
            Ok(r) => r,
            Err(e) => return json!({ "errors": [{ "message": e.to_string() }] }),
        };
        // The handler is synchronous; these schemas resolve without awaiting anything.
        let response = futures_executor(schema.execute(request));
        serde_json::to_value(response).unwrap_or(Value::Null)
    })
}

/// Runs a future that never waits on I/O to completion on this thread.
fn futures_executor<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// `_entities` answered per representation by `answer`, as Apollo subgraphs do.
pub fn entities(body: &Value, answer: impl Fn(&Value) -> Value) -> Value {
    let reps = body["variables"]["representations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    json!({ "data": { "_entities": reps.iter().map(answer).collect::<Vec<_>>() } })
}
