//! Logs and traces.
//!
//! **Logs**: `tracing` with pretty or JSON output on stderr, filtered by `FOLIO_LOG`, in
//! colour only when stderr is a terminal (a file or a pipe gets plain text). JSON lines
//! carry the fields of the spans they happen in, among them the `trace_id` and `span_id`
//! that every request span records ([`request_span`]).
//!
//! **Traces** (`FOLIO_OTLP_ENDPOINT`; off when unset): the spans of Folio's crates and of
//! sea-orm's SQL statements (`tracing-opentelemetry`), exported over OTLP/HTTP with JSON
//! bodies through this process's own HTTP client (so `FOLIO_TLS_CA_FILE` applies) by a
//! batch processor. W3C `traceparent` is read from every request ([`request_span`]) and
//! written on every outgoing call ([`traceparent`]): router → subgraph, subgraph →
//! subgraph; events carry the `traceparent` of the operation that caused them, and the
//! spans that publish and apply them link to it. The trace ids also exist when only JSON
//! logs are on (an exporter-less provider), so log lines can be joined up.

use crate::Config;
use axum::extract::Request;
use axum::middleware::Next;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{SpanContext, TraceContextExt as _, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::OnceLock;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{EnvFilter, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Whether spans become OpenTelemetry spans in this process (traces exported, or JSON
/// logs wanting trace ids).
static TRACING: OnceLock<bool> = OnceLock::new();

/// What flushes the traces at exit ([`Telemetry::shutdown`]).
#[must_use = "call shutdown() before the runtime stops, or the last spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still buffered and stops the exporter. Blocks: call it from a
    /// thread that is not a runtime worker the export needs (the exporter sends on the
    /// runtime it was created on).
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            tracing::warn!(error = %e, "flushing the traces failed");
        }
    }
}

/// Installs logging only (tests, benches, commands): the global subscriber, once; later
/// calls are no-ops.
pub fn init(format: &str, filter: &str) {
    let _ = install(format, filter, None, false);
}

/// Installs logging and, as `cfg` says, tracing, for the process that runs `service`
/// (`folio`, or the one service of `serve --only`). Call it inside the Tokio runtime: the
/// trace exporter sends on it.
pub fn init_with_traces(cfg: &Config, service: &str) -> anyhow::Result<Telemetry> {
    let wants_ids = cfg.log_format == "json";
    let provider = match (&cfg.otlp_endpoint, wants_ids) {
        (Some(endpoint), _) => Some(exporting_provider(cfg, endpoint, service)?),
        (None, true) => Some(
            SdkTracerProvider::builder()
                .with_resource(resource(service))
                .build(),
        ),
        (None, false) => None,
    };
    let exporting = cfg.otlp_endpoint.is_some();
    install(&cfg.log_format, &cfg.log, provider.clone(), exporting);
    Ok(Telemetry { provider })
}

fn resource(service: &str) -> opentelemetry_sdk::Resource {
    opentelemetry_sdk::Resource::builder()
        .with_service_name(service.to_owned())
        .build()
}

/// A provider whose batch processor exports to `endpoint` (`/v1/traces` appended unless
/// it is there already).
fn exporting_provider(
    cfg: &Config,
    endpoint: &str,
    service: &str,
) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
    let url = if endpoint.trim_end_matches('/').ends_with("/v1/traces") {
        endpoint.to_owned()
    } else {
        format!("{}/v1/traces", endpoint.trim_end_matches('/'))
    };
    let client = OtlpClient {
        http: crate::tls::client_builder(cfg)?
            .timeout(std::time::Duration::from_secs(10))
            .build()?,
        runtime: tokio::runtime::Handle::try_current()
            .map_err(|_| anyhow::anyhow!("traces need the Tokio runtime to be running"))?,
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpJson)
        .with_endpoint(url)
        .with_http_client(client)
        .build()
        .map_err(|e| anyhow::anyhow!("FOLIO_OTLP_ENDPOINT {endpoint}: {e}"))?;
    Ok(SdkTracerProvider::builder()
        .with_resource(resource(service))
        .with_batch_exporter(exporter)
        .build())
}

/// `exporting`: traces leave the process (every span worth seeing becomes one), rather
/// than only giving JSON logs their ids (the request spans and what they contain at info,
/// no SQL statement: less to do per request).
fn install(
    format: &str,
    filter: &str,
    provider: Option<SdkTracerProvider>,
    exporting: bool,
) -> bool {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal();
    let logs = if format == "json" {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_filter(filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
            .with_filter(filter)
            .boxed()
    };
    let tracing_on = provider.is_some();
    let spans = provider.map(|provider| {
        let tracer = provider.tracer("folio");
        // Folio's own spans (stages are at debug) and sea-orm's statements; never the
        // HTTP client's, or exporting would trace itself.
        let targets = if exporting {
            Targets::new()
                .with_target("folio", LevelFilter::DEBUG)
                .with_target("sea_orm", LevelFilter::INFO)
        } else {
            Targets::new().with_target("folio", LevelFilter::INFO)
        };
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(targets)
    });
    let installed = tracing_subscriber::registry()
        .with(logs)
        .with(spans)
        .try_init()
        .is_ok();
    if installed {
        let _ = TRACING.set(tracing_on);
    }
    installed
}

/// Whether this process makes OpenTelemetry spans.
pub fn tracing_enabled() -> bool {
    TRACING.get().copied().unwrap_or(false)
}

/// A span for one incoming request of `service`, the child of the `traceparent` it
/// carries (if any), recording its trace and span ids for the logs.
pub fn request_span(service: &'static str, request: &Request) -> tracing::Span {
    let span = tracing::info_span!(
        "request",
        otel.name = %format!("{service} {} {}", request.method(), request.uri().path()),
        otel.kind = "server",
        service,
        http.request.method = %request.method(),
        url.path = request.uri().path(),
        trace_id = tracing::field::Empty,
        span_id = tracing::field::Empty,
    );
    if tracing_enabled() && !span.is_disabled() {
        let parent = propagator().extract(&HeaderExtractor(request.headers()));
        let _ = span.set_parent(parent);
        record_ids(&span);
    }
    span
}

/// Wraps `app` so that every request but health checks and metrics runs in a
/// [`request_span`] of `service`, when this process makes spans (else `app` as it is:
/// no cost per request).
pub fn trace_requests(service: &'static str, app: axum::Router) -> axum::Router {
    if !tracing_enabled() {
        return app;
    }
    app.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| async move {
            match request.uri().path() {
                "/health" | "/ready" | "/metrics" => next.run(request).await,
                _ => {
                    let span = request_span(service, &request);
                    let started = std::time::Instant::now();
                    let response = next.run(request).instrument(span.clone()).await;
                    // An access log line (debug), in the request's span (entered: the
                    // JSON formatter lists the current spans): it carries the trace and
                    // span ids.
                    let _inside = span.enter();
                    tracing::debug!(
                        status = response.status().as_u16(),
                        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                        "request served"
                    );
                    response
                }
            }
        },
    ))
}

/// Records the span's trace and span ids in its `trace_id` and `span_id` fields.
pub fn record_ids(span: &tracing::Span) {
    let cx = span.context();
    let otel = cx.span();
    let ids = otel.span_context();
    if ids.is_valid() {
        span.record("trace_id", tracing::field::display(ids.trace_id()));
        span.record("span_id", tracing::field::display(ids.span_id()));
    }
}

fn propagator() -> &'static TraceContextPropagator {
    static PROPAGATOR: OnceLock<TraceContextPropagator> = OnceLock::new();
    PROPAGATOR.get_or_init(TraceContextPropagator::new)
}

/// The W3C `traceparent` of the current span, for an outgoing call or an event; `None`
/// when no trace is being made.
pub fn traceparent() -> Option<String> {
    if !tracing_enabled() {
        return None;
    }
    let cx = tracing::Span::current().context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    propagator().inject_context(&cx, &mut carrier);
    carrier.remove("traceparent")
}

/// The span context a `traceparent` names (to link to it), if it is well-formed.
pub fn linked(traceparent: &str) -> Option<SpanContext> {
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let cx = propagator().extract(&carrier);
    let linked = cx.span().span_context().clone();
    linked.is_valid().then_some(linked)
}

/// Links `span` to the operations whose `traceparent`s are given (an event's cause).
pub fn link_to<'a>(span: &tracing::Span, traceparents: impl IntoIterator<Item = &'a str>) {
    if !tracing_enabled() || span.is_disabled() {
        return;
    }
    for tp in traceparents {
        if let Some(cx) = linked(tp) {
            span.add_link(cx);
        }
    }
}

struct HeaderExtractor<'a>(&'a axum::http::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The exporter's HTTP client: this process's reqwest client, each export sent on the
/// runtime (the batch processor calls from a thread of its own).
#[derive(Debug)]
struct OtlpClient {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

type Exported = Result<axum::http::Response<axum::body::Bytes>, opentelemetry_http::HttpError>;

// `HttpClient` is an `#[async_trait]`; this is its desugared `send_bytes` (as the kit's
// extension, so that common does not depend on the async-trait crate).
impl opentelemetry_http::HttpClient for OtlpClient {
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: axum::http::Request<axum::body::Bytes>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Exported> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let http = self.http.clone();
        let sent = self.runtime.spawn(async move {
            let (parts, body) = request.into_parts();
            let response = http
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            let mut out = axum::http::Response::new(body);
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            Ok::<_, opentelemetry_http::HttpError>(out)
        });
        Box::pin(async move {
            sent.await
                .map_err(|e| Box::new(e) as opentelemetry_http::HttpError)?
        })
    }
}
