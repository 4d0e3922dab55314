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

/// A write transaction for a bulk load (the CSV import); it derefs to the transaction.
///
/// On a SQLite file it runs on a connection of its own, opened with the pool's options
/// plus a 32 MiB page cache (the pages being filled stay in memory instead of spilling
/// to the WAL mid-transaction) and no automatic checkpoint: otherwise the commit would
/// wait while the whole load is copied from the WAL into the database file. That copy
/// (a passive checkpoint) runs in the background right after the commit; until then
/// readers read the new rows from the WAL. On PostgreSQL (and an in-memory SQLite
/// database, which a second connection would not share) it is an ordinary
/// [`begin_write`] transaction of the pool.
pub struct BulkTransaction {
    txn: sea_orm::DatabaseTransaction,
    /// The connection of its own, on SQLite.
    own: Option<DatabaseConnection>,
}

/// The page cache of a bulk load's own SQLite connection, in KiB.
const BULK_CACHE_KIB: u32 = 32 * 1024;

/// Starts a [`BulkTransaction`] on `db`'s database.
pub async fn begin_bulk(db: &DatabaseConnection) -> Result<BulkTransaction, DbErr> {
    use sea_orm::sqlx::ConnectOptions as _;
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        let opts = db.get_sqlite_connection_pool().connect_options();
        let in_memory = opts
            .to_url_lossy()
            .query_pairs()
            .any(|(k, v)| k == "mode" && v == "memory");
        if !in_memory {
            let opts = (*opts)
                .clone()
                .pragma("wal_autocheckpoint", "0")
                .pragma("cache_size", format!("-{BULK_CACHE_KIB}"));
            let pool = sea_orm::sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await
                .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())))?;
            let own = sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
            return Ok(BulkTransaction {
                txn: begin_write(&own).await?,
                own: Some(own),
            });
        }
    }
    Ok(BulkTransaction {
        txn: begin_write(db).await?,
        own: None,
    })
}

impl std::ops::Deref for BulkTransaction {
    type Target = sea_orm::DatabaseTransaction;
    fn deref(&self) -> &Self::Target {
        &self.txn
    }
}

impl BulkTransaction {
    /// Commits; on SQLite the checkpoint follows in the background.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await?;
        if let Some(own) = self.own {
            tokio::spawn(async move {
                if let Err(e) = own
                    .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                    .await
                {
                    tracing::warn!(error = %e, "checkpoint after a bulk load failed; a later write's automatic checkpoint will do it");
                }
                own.close().await.ok();
            });
        }
        Ok(())
    }

    /// Undoes everything, now.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await?;
        if let Some(own) = self.own {
            own.close().await?;
        }
        Ok(())
    }
}

/// One column of [`insert_columns`]: its name and its values, one per row.
pub enum BulkColumn {
    Text(&'static str, Vec<String>),
    /// Text that is never empty when present, so that PostgreSQL's arrays can carry
    /// `None` as `''` (read back as NULL with `NULLIF`).
    NonEmptyText(&'static str, Vec<Option<String>>),
    Time(&'static str, Vec<chrono::DateTime<chrono::Utc>>),
}

impl BulkColumn {
    fn name(&self) -> &'static str {
        match self {
            BulkColumn::Text(n, _) | BulkColumn::NonEmptyText(n, _) | BulkColumn::Time(n, _) => n,
        }
    }

    fn len(&self) -> usize {
        match self {
            BulkColumn::Text(_, v) => v.len(),
            BulkColumn::NonEmptyText(_, v) => v.len(),
            BulkColumn::Time(_, v) => v.len(),
        }
    }

    /// The values as one array parameter, and how UNNEST casts it.
    fn into_array(self) -> (sea_orm::Value, &'static str) {
        use sea_orm::sea_query::ArrayType;
        match self {
            BulkColumn::Text(_, v) => (pg_array(ArrayType::String, v), "text[]"),
            BulkColumn::NonEmptyText(_, v) => (
                pg_array(
                    ArrayType::String,
                    v.into_iter().map(Option::unwrap_or_default),
                ),
                "text[]",
            ),
            BulkColumn::Time(_, v) => (pg_array(ArrayType::ChronoDateTimeUtc, v), "timestamptz[]"),
        }
    }

    /// The values one by one.
    fn into_values(self) -> Box<dyn Iterator<Item = sea_orm::Value> + Send> {
        use sea_orm::Value;
        match self {
            BulkColumn::Text(_, v) => Box::new(v.into_iter().map(|s| Value::String(Some(s)))),
            BulkColumn::NonEmptyText(_, v) => Box::new(v.into_iter().map(Value::String)),
            BulkColumn::Time(_, v) => {
                Box::new(v.into_iter().map(|t| Value::ChronoDateTimeUtc(Some(t))))
            }
        }
    }
}

/// `values` as one PostgreSQL array parameter of element type `ty` (for `UNNEST($1)` or
/// `= ANY($1)`: one parameter, however many values). Its elements must not be NULL.
pub fn pg_array<T: Into<sea_orm::Value>>(
    ty: sea_orm::sea_query::ArrayType,
    values: impl IntoIterator<Item = T>,
) -> sea_orm::Value {
    sea_orm::Value::Array(
        ty,
        Some(Box::new(values.into_iter().map(Into::into).collect())),
    )
}

/// Most rows of one SQLite statement of [`insert_columns`] (and at most 32,766 bound
/// values, SQLite's limit).
const SQLITE_BULK_ROWS: usize = 1_000;

/// Inserts rows given column by column into `table`, with as few statements as the
/// database allows: on PostgreSQL one `INSERT … SELECT … FROM UNNEST($1::text[], …)`
/// (a parameter per column, whatever the row count: nothing for the server to parse
/// or plan per row); on SQLite multi-row `INSERT … VALUES` of up to 1,000 rows, whose
/// prepared statement is cached and reused for every full chunk. Every column must hold
/// as many values as the first. Names are the code's own identifiers (quoted, never
/// user input).
pub async fn insert_columns<C: ConnectionTrait>(
    db: &C,
    table: &str,
    columns: Vec<BulkColumn>,
) -> Result<(), DbErr> {
    use sea_orm::{DatabaseBackend, Statement};
    use std::fmt::Write as _;
    let rows = columns.first().map_or(0, BulkColumn::len);
    if rows == 0 {
        return Ok(());
    }
    if columns.iter().any(|c| c.len() != rows) {
        return Err(DbErr::Custom(format!(
            "bulk insert into {table}: columns of different lengths"
        )));
    }
    let names: Vec<String> = columns
        .iter()
        .map(|c| format!("\"{}\"", c.name()))
        .collect();
    let names = names.join(", ");
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let mut selected = String::new();
            let mut unnest = String::new();
            let mut values = Vec::with_capacity(columns.len());
            for (i, column) in columns.into_iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                let name = column.name();
                let nullable = matches!(column, BulkColumn::NonEmptyText(..));
                let (array, cast) = column.into_array();
                values.push(array);
                if nullable {
                    let _ = write!(selected, "{sep}NULLIF(t.\"{name}\", '')");
                } else {
                    let _ = write!(selected, "{sep}t.\"{name}\"");
                }
                let _ = write!(unnest, "{sep}${}::{cast}", i + 1);
            }
            let sql = format!(
                "INSERT INTO \"{table}\" ({names}) SELECT {selected} FROM UNNEST({unnest}) AS t({names})"
            );
            db.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                sql,
                values,
            ))
            .await?;
        }
        backend => {
            let width = columns.len();
            let per_statement = SQLITE_BULK_ROWS.min(32_766 / width).max(1);
            let mut values: Vec<_> = columns.into_iter().map(BulkColumn::into_values).collect();
            let mut group = String::from("(?");
            group.push_str(&", ?".repeat(width - 1));
            group.push(')');
            let mut left = rows;
            while left > 0 {
                let n = left.min(per_statement);
                left -= n;
                let mut sql = format!("INSERT INTO \"{table}\" ({names}) VALUES ");
                sql.reserve(n * (group.len() + 2));
                let mut bound = Vec::with_capacity(n * width);
                for r in 0..n {
                    if r > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&group);
                    for column in &mut values {
                        bound.push(column.next().ok_or_else(|| {
                            DbErr::Custom(format!("bulk insert into {table}: a column ran out"))
                        })?);
                    }
                }
                db.execute_raw(Statement::from_sql_and_values(backend, sql, bound))
                    .await?;
            }
        }
    }
    Ok(())
}
