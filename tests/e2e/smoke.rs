//! The README's first steps: register, login, me.

use crate::support::{TestApp, code};
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
