//! Folio's test kit (a dev-dependency): [`TestApp`], the whole platform in-process with
//! every request helper the end-to-end tests use; watching and disturbing events
//! ([`events`]); `folio serve` as a process of its own ([`process`]); the benchmarks'
//! closed-loop load generator ([`load`]); and subgraphs
//! made for the router's executor tests ([`subgraphs`]).

mod app;
pub mod events;
pub mod load;
pub mod process;
mod requests;
pub mod subgraphs;

pub use app::{Session, TestApp, code, drop_schema, field, fresh_database, session};
pub use requests::{assert_ok, connection_ids, id_set, node_ids, upload_form};

use std::time::{Duration, Instant};

/// How long a test waits for something that should happen: long enough for a relay that
/// backs off (at most 5 s) after the broker comes back.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Waits until `check` holds (polling), or fails with `what` after [`PATIENCE`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within {PATIENCE:?}");
}

/// An address nothing listens on (a listener bound to port 0 and dropped at once), for a
/// subgraph that is down.
pub async fn dead_addr() -> std::net::SocketAddr {
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    dead.local_addr().expect("addr")
}
