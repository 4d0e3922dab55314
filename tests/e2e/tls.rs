//! TLS: every listener serving HTTPS with a certificate from a private CA made here
//! (rcgen), the router reaching the subgraphs and the users subgraph's JWKS over HTTPS
//! (trusting that CA through `FOLIO_TLS_CA_FILE`), and a subgraph reaching another
//! (`topContents` → interactions' `contentRanking`).

use folio_testkit::TestApp;
use serde_json::json;
use std::path::PathBuf;

/// A CA, and a certificate it signed for 127.0.0.1 and localhost, written into `dir`:
/// (CA, certificate, key) PEM files.
fn private_ca(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Folio test CA");
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let leaf_params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("leaf params");
    let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
    let leaf = leaf_params
        .signed_by(&leaf_key, &ca, &ca_key)
        .expect("leaf certificate");
    let paths = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).expect("write");
    std::fs::write(&paths.1, leaf.pem()).expect("write");
    std::fs::write(&paths.2, leaf_key.serialize_pem()).expect("write");
    paths
}

#[tokio::test]
async fn the_platform_serves_and_calls_itself_over_https_with_a_private_ca() {
    let app = TestApp::spawn_with(|cfg| {
        let (ca, cert, key) = private_ca(&cfg.data_dir);
        cfg.tls_ca_file = Some(ca);
        cfg.tls_cert_file = Some(cert);
        cfg.tls_key_file = Some(key);
    })
    .await;
    assert!(app.url.starts_with("https://127.0.0.1:"), "{}", app.url);
    assert!(app.subgraph_url("users").starts_with("https://"));

    // Signed in: the router verified the token with keys it fetched over HTTPS from the
    // users subgraph, and fetched `me` from it over HTTPS.
    let ada = app.register("ada-tls@example.com", "correct horse 1").await;
    let me = app
        .gql(Some(&ada.access_token), "{ me { email } }", json!({}))
        .await;
    assert_eq!(
        me["data"]["me"]["email"],
        json!("ada-tls@example.com"),
        "{me}"
    );

    // Content, interactions and users across HTTPS; topContents is content asking
    // interactions directly.
    let content = app.create_content(&ada, "Over TLS").await;
    app.like(&ada, &content).await;
    let top = app
        .gql(
            None,
            "{ topContents(first: 1) { id likeCount author { firstName } } }",
            json!({}),
        )
        .await;
    assert!(top.get("errors").is_none(), "{top}");
    assert_eq!(top["data"]["topContents"][0]["id"], json!(content), "{top}");
    assert_eq!(
        top["data"]["topContents"][0]["likeCount"],
        json!(1),
        "{top}"
    );

    // Plain HTTP is not served on a TLS listener.
    let plain = app.base.replacen("https://", "http://", 1);
    let res = reqwest::Client::new()
        .get(format!("{plain}/health"))
        .send()
        .await;
    assert!(res.map_or(true, |r| !r.status().is_success()));
    // And a client that does not trust the private CA is refused: the certificate is
    // checked, by the services' own client as by any other.
    let untrusting = folio_common::tls::client_builder(&folio_common::Config::default())
        .expect("builder")
        .build()
        .expect("client");
    let refused = untrusting.get(format!("{}/health", app.base)).send().await;
    assert!(refused.is_err(), "{refused:?}");
    let trusting = folio_common::tls::client_builder(&app.cfg)
        .expect("builder")
        .build()
        .expect("client");
    let ok = trusting
        .get(format!("{}/health", app.base))
        .send()
        .await
        .expect("trusted");
    assert!(ok.status().is_success());
    app.stop().await;
}

#[tokio::test]
async fn a_certificate_without_its_key_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, cert, _) = private_ca(dir.path());
    let cfg = folio_common::Config {
        tls_cert_file: Some(cert),
        ..folio_common::Config::default()
    };
    let err = folio_common::tls::server_config(&cfg).expect_err("refused");
    assert!(err.to_string().contains("FOLIO_TLS_KEY_FILE"), "{err}");
    let cfg = folio_common::Config {
        tls_ca_file: Some(dir.path().join("missing.pem")),
        ..folio_common::Config::default()
    };
    let err = folio_common::tls::client_builder(&cfg).expect_err("refused");
    assert!(err.to_string().contains("FOLIO_TLS_CA_FILE"), "{err}");
}
