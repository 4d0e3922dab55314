//! For the event modules' tests: an in-memory SQLite database (one connection, so one
//! database) with the content service's event tables as the migration creates them.

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

pub async fn content_event_tables() -> DatabaseConnection {
    let mut opts = ConnectOptions::new("sqlite::memory:");
    opts.max_connections(1).sqlx_logging(false);
    let db = Database::connect(opts).await.expect("sqlite");
    db.execute_unprepared(
        "CREATE TABLE content_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, \
         event_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, payload TEXT NOT NULL, \
         created_at TEXT NOT NULL, published_at TEXT NULL); \
         CREATE TABLE content_processed_events (consumer TEXT NOT NULL, \
         event_id TEXT NOT NULL, processed_at TEXT NOT NULL, \
         PRIMARY KEY (consumer, event_id))",
    )
    .await
    .expect("the event tables");
    db
}
