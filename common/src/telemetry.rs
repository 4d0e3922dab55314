//! Logging setup: `tracing` with pretty or JSON output, filtered by `FOLIO_LOG`.
//!
//! Logs go to stderr, in colour only when stderr is a terminal: a file or a pipe gets
//! plain text.

use std::io::IsTerminal as _;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests, benches) are no-ops.
pub fn init(format: &str, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
