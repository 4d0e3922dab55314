//! Prometheus metrics of the router, served at `GET /metrics` (OpenMetrics text).
//!
//! Requests by operation type and outcome with their latency, and each subgraph fetch's
//! latency and errors. Labels have a small fixed set of values, so series stay few.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// `query`, `mutation`, `subscription`, or `none` when refused before parsing.
    operation_type: &'static str,
    /// `ok`, or `error` when the response carries errors or a non-2xx status.
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation_type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubgraphLabels {
    subgraph: String,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The router's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<OperationLabels, Histogram, fn() -> Histogram>,
    fetch_seconds: Family<SubgraphLabels, Histogram, fn() -> Histogram>,
    fetch_errors: Family<SubgraphLabels, Counter>,
    /// The estimated cost of each operation that reached demand control.
    operation_cost: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("folio_router");
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds =
            Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        let fetch_seconds =
            Family::<SubgraphLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        let fetch_errors = Family::<SubgraphLabels, Counter>::default();
        let operation_cost = Histogram::new(exponential_buckets(1.0, 4.0, 12));
        registry.register(
            "requests",
            "GraphQL requests by operation type and outcome",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time to answer a GraphQL request",
            request_seconds.clone(),
        );
        registry.register(
            "subgraph_fetch_duration_seconds",
            "Time of one subgraph fetch",
            fetch_seconds.clone(),
        );
        registry.register(
            "subgraph_fetch_errors",
            "Subgraph fetches that failed (unreachable, timeout, bad answer)",
            fetch_errors.clone(),
        );
        registry.register(
            "operation_cost",
            "Estimated cost of each operation (demand control), refused ones included",
            operation_cost.clone(),
        );
        Metrics {
            registry,
            requests,
            request_seconds,
            fetch_seconds,
            fetch_errors,
            operation_cost,
        }
    }

    /// Records one answered request.
    pub fn request(&self, operation_type: &'static str, ok: bool, took: Duration) {
        let outcome = if ok { "ok" } else { "error" };
        self.requests
            .get_or_create(&RequestLabels {
                operation_type,
                outcome,
            })
            .inc();
        self.request_seconds
            .get_or_create(&OperationLabels { operation_type })
            .observe(took.as_secs_f64());
    }

    /// Records an operation's estimated cost.
    pub fn cost(&self, cost: u64) {
        self.operation_cost.observe(cost as f64);
    }

    /// Records one subgraph fetch.
    pub fn fetch(&self, subgraph: &str, ok: bool, took: Duration) {
        let labels = SubgraphLabels {
            subgraph: subgraph.to_owned(),
        };
        self.fetch_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        if !ok {
            self.fetch_errors.get_or_create(&labels).inc();
        }
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_was_recorded() {
        let m = Metrics::new();
        m.request("query", true, Duration::from_millis(3));
        m.fetch("users", false, Duration::from_millis(2));
        let text = m.render();
        assert!(
            text.contains(r#"folio_router_requests_total{operation_type="query",outcome="ok"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"folio_router_subgraph_fetch_errors_total{subgraph="users"} 1"#),
            "{text}"
        );
        assert!(
            text.contains("folio_router_request_duration_seconds_bucket"),
            "{text}"
        );
    }
}
