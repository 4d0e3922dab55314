//! The README's first steps: register, login, me.

use folio_testkit::{TestApp, code};
use serde_json::json;

#[tokio::test]
async fn register_login_me_through_the_router() {
    let app = TestApp::spawn().await;
    let reg = app.register("ada@example.com", "correct horse").await;
    let login = app.login("ADA@example.com", "correct horse").await;
    assert_eq!(reg.id, login.id);
    let body = app
        .gql(Some(&login.access_token), "{ me { id email } }", json!({}))
        .await;
    assert_eq!(body["data"]["me"]["id"], json!(reg.id));
    assert_eq!(body["data"]["me"]["email"], json!("ada@example.com"));
    let anonymous = app.gql(None, "{ me { id } }", json!({})).await;
    assert_eq!(anonymous["data"]["me"], json!(null));
    assert_eq!(code(&anonymous), "");
    app.stop().await;
}

#[tokio::test]
async fn serve_makes_sure_the_bootstrap_admin_exists() {
    let app = TestApp::spawn_with(|cfg| {
        cfg.bootstrap_admin_email = Some("root@example.com".into());
        cfg.bootstrap_admin_password = Some("bootstrap password".into());
    })
    .await;
    let admin = app.login("root@example.com", "bootstrap password").await;
    let body = app
        .gql(Some(&admin.access_token), "{ me { isAdmin } }", json!({}))
        .await;
    assert_eq!(body["data"]["me"]["isAdmin"], json!(true), "{body}");
    app.stop().await;
}
