//! The router's health, readiness and metrics endpoints, and how it answers when a
//! subgraph is down or hangs.

use folio_testkit::{TestApp, code};
use serde_json::json;

#[tokio::test]
async fn ready_and_metrics_report_what_happened() {
    let app = TestApp::spawn().await;
    let ready = app
        .client
        .get(format!("{}/ready", app.base))
        .send()
        .await
        .expect("answered");
    assert_eq!(ready.status().as_u16(), 200);
    app.gql(None, "{ me { id } }", json!({})).await;
    app.gql(None, "{ me { id }", json!({})).await;
    let text = app.metrics_text().await;
    assert!(
        text.contains(r#"folio_router_requests_total{operation_type="query",outcome="ok"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"folio_router_requests_total{operation_type="none",outcome="error"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"folio_router_subgraph_fetch_duration_seconds_count{subgraph="users"} 1"#),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_subgraph_that_is_down_gives_a_coded_error_and_not_ready() {
    let dead_addr = folio_testkit::dead_addr().await;
    let app = TestApp::spawn_with(|cfg| {
        cfg.service_mut("users").url = Some(format!("http://{dead_addr}/graphql"));
    })
    .await;
    let (status, body) = app.post(None, "{ me { id } }", json!({})).await;
    // The request itself was fine: partial data (here, all of it null) and a coded error.
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({ "me": null }), "{body}");
    assert_eq!(code(&body), "SUBGRAPH_UNAVAILABLE", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["service"], json!("users"));
    let ready = app
        .client
        .get(format!("{}/ready", app.base))
        .send()
        .await
        .expect("answered");
    assert_eq!(ready.status().as_u16(), 503);
    app.stop().await;
}

#[tokio::test]
async fn a_subgraph_that_hangs_is_cut_off_at_the_timeout() {
    // A subgraph that accepts connections and never answers.
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hung_addr = hung.local_addr().expect("addr");
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hung.accept().await {
            held.push(socket);
        }
    });
    let app = TestApp::spawn_with(|cfg| {
        cfg.service_mut("users").url = Some(format!("http://{hung_addr}/graphql"));
        cfg.subgraph_timeout_ms = 300;
    })
    .await;
    let (status, body) = app.post(None, "{ me { id } }", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({ "me": null }), "{body}");
    assert_eq!(code(&body), "SUBGRAPH_UNAVAILABLE", "{body}");
    holder.abort();
    app.stop().await;
}

#[tokio::test]
async fn the_router_recovers_when_a_subgraph_comes_back() {
    // The router reaches users through a port where nothing listens at first: bound (so
    // no other test can take it) but not listening, so connections are refused.
    let gap = tokio::net::TcpSocket::new_v4().expect("socket");
    gap.bind("127.0.0.1:0".parse().expect("address"))
        .expect("bind");
    let gap_addr = gap.local_addr().expect("addr");
    let app = TestApp::spawn_with(|cfg| {
        cfg.service_mut("users").url = Some(format!("http://{gap_addr}/graphql"));
    })
    .await;
    let body = app.gql(None, "{ __typename me { id } }", json!({})).await;
    assert_eq!(code(&body), "SUBGRAPH_UNAVAILABLE", "{body}");

    // The subgraph "comes back": a TCP relay on that port to the real users subgraph.
    let users_addr = app
        .users_url
        .trim_start_matches("http://")
        .trim_end_matches("/graphql")
        .to_owned();
    let relay = gap.listen(64).expect("listen");
    let relay_task = tokio::spawn(async move {
        while let Ok((mut inbound, _)) = relay.accept().await {
            let target = users_addr.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    let body = app.gql(None, "{ __typename me { id } }", json!({})).await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(body["data"], json!({ "__typename": "Query", "me": null }));
    relay_task.abort();
    app.stop().await;
}
