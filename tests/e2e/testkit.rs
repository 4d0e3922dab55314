//! The test kit's own promises: a `TestApp` dropped without `stop()` (a failed assertion)
//! still stops its platform and drops its PostgreSQL schema.

use folio_testkit::{TestApp, eventually};
use sea_orm::{ConnectionTrait, Statement};

#[tokio::test]
async fn a_dropped_test_app_stops_its_platform_and_drops_its_schema() {
    let app = TestApp::spawn().await;
    let health = format!("{}/health", app.base);
    let client = reqwest::Client::new();
    assert!(client.get(&health).send().await.is_ok(), "serving");
    let database = app
        .cfg
        .service("users")
        .database_url
        .zip(app.cfg.database_schema.clone());
    drop(app);

    eventually("the router stops listening", || async {
        client.get(&health).send().await.is_err()
    })
    .await;
    if let Some((url, schema)) = database {
        let db = sea_orm::Database::connect(&url).await.expect("connect");
        eventually("the schema is dropped", || async {
            db.query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT 1 AS one FROM pg_namespace WHERE nspname = '{schema}'"),
            ))
            .await
            .expect("query")
            .is_none()
        })
        .await;
        let _ = db.close().await;
    }
}
