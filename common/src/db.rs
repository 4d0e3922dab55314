//! Opening a service's database: the same code for SQLite (embedded) and PostgreSQL.

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// Whether `url` names a SQLite database.
pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Connects to `url`. On SQLite the file (and its folder) is created if missing, with WAL
/// and a busy timeout so concurrent writers wait instead of failing. On PostgreSQL, when
/// `schema` is given, that schema is created if missing and becomes the search path.
pub async fn connect(url: &str, schema: Option<&str>) -> Result<DatabaseConnection, DbErr> {
    if is_sqlite(url) {
        return connect_sqlite(url, 8).await;
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(16)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    if let Some(schema) = schema {
        if !is_identifier(schema) {
            return Err(DbErr::Custom(format!(
                "schema name {schema:?} must be lower-case letters, digits and '_'"
            )));
        }
        let admin = Database::connect(url).await?;
        admin
            .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .await?;
        admin.close().await?;
        opts.set_schema_search_path(schema.to_owned());
    }
    Database::connect(opts).await
}

/// Connects to `url` to run migrations. On SQLite that is one connection: SQLite checks a
/// connection's cached schema only when a statement names something missing, so a `CREATE`
/// prepared on a pooled connection that last looked before another connection's `DROP`
/// fails with "already exists". Migrations run their statements one by one (SQLite
/// migrations are not wrapped in a transaction), so on a pool they could land on such a
/// connection. PostgreSQL has no such cache: the pool is the usual one.
pub async fn connect_for_migrations(
    url: &str,
    schema: Option<&str>,
) -> Result<DatabaseConnection, DbErr> {
    if is_sqlite(url) {
        return connect_sqlite(url, 1).await;
    }
    connect(url, schema).await
}

async fn connect_sqlite(url: &str, connections: u32) -> Result<DatabaseConnection, DbErr> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path != ":memory:"
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }
    let url = if url.contains('?') {
        url.to_owned()
    } else {
        format!("{url}?mode=rwc")
    };
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    Database::connect(opts).await
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Starts a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes waits for other
/// writers (busy timeout) instead of failing when it upgrades its lock; on PostgreSQL it
/// is an ordinary transaction.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Whether a text value can be stored or compared at all. PostgreSQL rejects NUL bytes in
/// text, and nothing we store contains one, so such a value matches nothing. Ids are
/// checked once, by [`crate::Id`]; this is for other text a query compares (names,
/// search words).
pub fn is_storable_text(s: &str) -> bool {
    !s.contains('\0')
}
