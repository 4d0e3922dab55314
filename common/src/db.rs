//! Opening a service's database: the same code for SQLite (embedded) and PostgreSQL.

use sea_orm::sqlx;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// Whether `url` names a SQLite database.
pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// SQLite's page size for a new database file, unless its service asks for another
/// ([`connect_for_migrations`]); a file keeps the page size it was created with.
pub const SQLITE_PAGE_SIZE: u32 = 4096;

/// Connects to `url`. On SQLite the file (and its folder) is created if missing, with WAL
/// and a busy timeout so concurrent writers wait instead of failing, and its WAL is
/// checkpointed in the background ([`CHECKPOINT_EVERY`]). On PostgreSQL, when `schema`
/// is given, that schema is created if missing and becomes the search path.
pub async fn connect(url: &str, schema: Option<&str>) -> Result<DatabaseConnection, DbErr> {
    if is_sqlite(url) {
        return connect_sqlite(url, 8, SQLITE_PAGE_SIZE).await;
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
///
/// This is the first connection to a service's database, so a SQLite file it creates
/// gets `page_size` (bytes, a power of two from 512 to 65,536); an existing file keeps
/// its own.
pub async fn connect_for_migrations(
    url: &str,
    schema: Option<&str>,
    page_size: u32,
) -> Result<DatabaseConnection, DbErr> {
    if is_sqlite(url) {
        return connect_sqlite(url, 1, page_size).await;
    }
    connect(url, schema).await
}

/// How often a SQLite database's WAL is copied into its file: a passive checkpoint on
/// a connection of the pool, off the commits' path. SQLite's automatic checkpoint
/// (off on our connections) runs inside the commit that fills 1,000 pages of WAL, and
/// that commit waits for two fsyncs: a write now and then took several milliseconds
/// longer, and with it the events it emitted.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

async fn connect_sqlite(
    url: &str,
    connections: u32,
    page_size: u32,
) -> Result<DatabaseConnection, DbErr> {
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
        .map_sqlx_sqlite_opts(move |o| {
            o.page_size(page_size)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("wal_autocheckpoint", "0")
        });
    let db = Database::connect(opts).await?;
    if !is_in_memory(&db) {
        tokio::spawn(checkpoints(db.get_sqlite_connection_pool().clone()));
    }
    Ok(db)
}

/// Checkpoints `pool`'s database every [`CHECKPOINT_EVERY`] until the pool is closed
/// (or the runtime ends).
async fn checkpoints(pool: sqlx::SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
            && !pool.is_closed()
        {
            tracing::warn!(error = %e, "checkpointing the SQLite WAL failed; the next tick retries");
        }
    }
}

/// Whether `db` is an in-memory SQLite database (`mode=memory`, or `:memory:`).
fn is_in_memory(db: &DatabaseConnection) -> bool {
    use sqlx::ConnectOptions as _;
    let opts = db.get_sqlite_connection_pool().connect_options();
    opts.get_filename().as_os_str() == ":memory:"
        || opts
            .to_url_lossy()
            .query_pairs()
            .any(|(k, v)| k == "mode" && v == "memory")
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

/// A write transaction for a bulk load (the CSV import), on the driver's own connection
/// (sqlx), so that its rows go in the fastest way each database has (see
/// [`insert`](Self::insert)).
///
/// On a SQLite file it runs on a connection of its own, opened with the pool's options
/// plus a 16 MiB page cache (the pages being filled stay in memory instead of spilling
/// to the WAL mid-transaction) and no automatic checkpoint: otherwise the commit would
/// wait while the whole load is copied from the WAL into the database file. That copy
/// (a passive checkpoint) runs in the background right after the commit; until then
/// readers read the new rows from the WAL. It begins with `BEGIN IMMEDIATE`, as
/// [`begin_write`] does. On PostgreSQL (and an in-memory SQLite database, which a second
/// connection would not share) it is a transaction on a connection of the pool.
///
/// Dropping it without [`commit`](Self::commit) rolls it back.
pub struct BulkTransaction {
    inner: Bulk,
}

enum Bulk {
    Sqlite {
        txn: sqlx::Transaction<'static, sqlx::Sqlite>,
        /// The connection of its own, on a SQLite file.
        own: Option<sqlx::SqlitePool>,
    },
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// A driver error as sea-orm reports one.
fn sqlx_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e.into()))
}

/// The page cache of a bulk load's own SQLite connection, in KiB. 16 MiB: with 32 the
/// 1,000,000-row import was no faster within this machine's noise (88,531–102,593 rows/s
/// against 89,887–90,316) and peaked 15–20 MiB higher.
const BULK_CACHE_KIB: u32 = 16 * 1024;

/// Starts a [`BulkTransaction`] on `db`'s database.
pub async fn begin_bulk(db: &DatabaseConnection) -> Result<BulkTransaction, DbErr> {
    let inner = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => Bulk::Postgres(
            db.get_postgres_connection_pool()
                .begin()
                .await
                .map_err(sqlx_err)?,
        ),
        sea_orm::DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            let own = if is_in_memory(db) {
                None
            } else {
                let opts = (*pool.connect_options())
                    .clone()
                    .pragma("cache_size", format!("-{BULK_CACHE_KIB}"));
                Some(
                    sqlx::sqlite::SqlitePoolOptions::new()
                        .max_connections(1)
                        .connect_with(opts)
                        .await
                        .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())))?,
                )
            };
            let txn = own
                .as_ref()
                .unwrap_or(pool)
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(sqlx_err)?;
            Bulk::Sqlite { txn, own }
        }
        other => {
            return Err(DbErr::Custom(format!(
                "bulk loads run on SQLite or PostgreSQL, not {other:?}"
            )));
        }
    };
    Ok(BulkTransaction { inner })
}

impl BulkTransaction {
    /// Inserts rows given column by column into `table`, as [`insert_columns`] does
    /// (one `INSERT … SELECT * FROM UNNEST($1::text[], …)` on PostgreSQL, multi-row
    /// `INSERT … VALUES` of up to 1,000 rows on SQLite), with the values handed to the
    /// driver as they are (no copy on the way).
    ///
    /// Not `COPY … FROM STDIN`: a binary `COPY` per batch measured 15,072–15,107 rows/s
    /// on the import benchmark against 24,416–24,812 with `UNNEST` (200,000 rows, same
    /// build and session). A `COPY` writes through a small ring of buffers and, each
    /// time it wraps, must flush the WAL before reusing a page; an `INSERT` leaves the
    /// pages to the background writer. (psql, the same 200,000 rows and events from a
    /// file: `COPY` 7.3 s, `INSERT … SELECT` 4.8 s.) Every column must hold as many
    /// values as the first. Names are the code's own identifiers (quoted, never user
    /// input).
    pub async fn insert(&mut self, table: &str, columns: Vec<BulkColumn>) -> Result<(), DbErr> {
        let rows = row_count(table, &columns)?;
        if rows == 0 {
            return Ok(());
        }
        match &mut self.inner {
            Bulk::Postgres(txn) => pg_unnest(txn, table, columns).await,
            Bulk::Sqlite { txn, .. } => sqlite_insert(txn, table, columns, rows).await,
        }
    }

    /// Commits; on a SQLite file the checkpoint follows in the background.
    pub async fn commit(self) -> Result<(), DbErr> {
        match self.inner {
            Bulk::Postgres(txn) => txn.commit().await.map_err(sqlx_err),
            Bulk::Sqlite { txn, own } => {
                txn.commit().await.map_err(sqlx_err)?;
                if let Some(own) = own {
                    tokio::spawn(async move {
                        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                            .execute(&own)
                            .await
                        {
                            tracing::warn!(error = %e, "checkpoint after a bulk load failed; a later write's automatic checkpoint will do it");
                        }
                        own.close().await;
                    });
                }
                Ok(())
            }
        }
    }

    /// Undoes everything, now.
    pub async fn rollback(self) -> Result<(), DbErr> {
        match self.inner {
            Bulk::Postgres(txn) => txn.rollback().await.map_err(sqlx_err),
            Bulk::Sqlite { txn, own } => {
                txn.rollback().await.map_err(sqlx_err)?;
                if let Some(own) = own {
                    own.close().await;
                }
                Ok(())
            }
        }
    }
}

/// One value of a [`BulkColumn`].
enum BulkValue {
    Text(String),
    Null,
    Time(chrono::DateTime<chrono::Utc>),
}

/// `columns` into `table` with one `INSERT … SELECT … FROM UNNEST($1::text[], …)`: a
/// parameter per column, whatever the row count.
async fn pg_unnest(
    conn: &mut sqlx::PgConnection,
    table: &str,
    columns: Vec<BulkColumn>,
) -> Result<(), DbErr> {
    use sqlx::Arguments as _;
    let names = column_list(&columns);
    let unnest = unnest_params(&columns);
    let mut args = sqlx::postgres::PgArguments::default();
    for column in columns {
        match column {
            BulkColumn::Text(_, v) => args.add(v),
            BulkColumn::NonEmptyText(_, v) => args.add(v),
            BulkColumn::Time(_, v) => args.add(v),
        }
        .map_err(|e| sqlx_err(sqlx::Error::Encode(e)))?;
    }
    let sql = format!("INSERT INTO \"{table}\" ({names}) SELECT * FROM UNNEST({unnest})");
    sqlx::query_with(sqlx::AssertSqlSafe(sql), args)
        .execute(conn)
        .await
        .map_err(sqlx_err)?;
    Ok(())
}

/// `columns` into `table` with multi-row `INSERT … VALUES` statements.
async fn sqlite_insert(
    conn: &mut sqlx::SqliteConnection,
    table: &str,
    columns: Vec<BulkColumn>,
    rows: usize,
) -> Result<(), DbErr> {
    use sqlx::Arguments as _;
    let names = column_list(&columns);
    let width = columns.len();
    let per_statement = sqlite_rows_per_statement(width);
    let mut values: Vec<_> = columns
        .into_iter()
        .map(BulkColumn::into_bulk_values)
        .collect();
    let mut left = rows;
    while left > 0 {
        let n = left.min(per_statement);
        left -= n;
        let mut args = sqlx::sqlite::SqliteArguments::default();
        args.reserve(n * width, 0);
        for _ in 0..n {
            for column in &mut values {
                let added = match column.next() {
                    Some(BulkValue::Text(s)) => args.add(s),
                    Some(BulkValue::Null) => args.add(Option::<String>::None),
                    Some(BulkValue::Time(t)) => args.add(t),
                    None => return Err(column_ran_out(table)),
                };
                added.map_err(|e| sqlx_err(sqlx::Error::Encode(e)))?;
            }
        }
        let sql = insert_values_sql(table, &names, width, n);
        sqlx::query_with(sqlx::AssertSqlSafe(sql), args)
            .execute(&mut *conn)
            .await
            .map_err(sqlx_err)?;
    }
    Ok(())
}

/// The quoted names of `columns`, comma-separated.
fn column_list(columns: &[BulkColumn]) -> String {
    let names: Vec<String> = columns
        .iter()
        .map(|c| format!("\"{}\"", c.name()))
        .collect();
    names.join(", ")
}

/// `$1::text[], $2::timestamptz[], …`: one array parameter per column, as `UNNEST`
/// takes them.
fn unnest_params(columns: &[BulkColumn]) -> String {
    let params: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{}", i + 1, c.pg_array_type()))
        .collect();
    params.join(", ")
}

/// Rows in one SQLite `INSERT … VALUES` of `width` columns: [`SQLITE_BULK_ROWS`], within
/// SQLite's 32,766 bound values.
fn sqlite_rows_per_statement(width: usize) -> usize {
    SQLITE_BULK_ROWS.min(32_766 / width.max(1)).max(1)
}

/// `INSERT INTO "table" (names) VALUES (?, …), …` for `rows` rows of `width` columns.
fn insert_values_sql(table: &str, names: &str, width: usize, rows: usize) -> String {
    let mut group = String::from("(?");
    group.push_str(&", ?".repeat(width.saturating_sub(1)));
    group.push(')');
    let mut sql = format!("INSERT INTO \"{table}\" ({names}) VALUES ");
    sql.reserve(rows * (group.len() + 2));
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&group);
    }
    sql
}

/// How many rows `columns` hold; an error when they do not all hold as many.
fn row_count(table: &str, columns: &[BulkColumn]) -> Result<usize, DbErr> {
    let rows = columns.first().map_or(0, BulkColumn::len);
    if columns.iter().any(|c| c.len() != rows) {
        return Err(DbErr::Custom(format!(
            "bulk insert into {table}: columns of different lengths"
        )));
    }
    Ok(rows)
}

fn column_ran_out(table: &str) -> DbErr {
    DbErr::Custom(format!("bulk insert into {table}: a column ran out"))
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

    /// The PostgreSQL array type its values travel as.
    fn pg_array_type(&self) -> &'static str {
        match self {
            BulkColumn::Text(..) | BulkColumn::NonEmptyText(..) => "text[]",
            BulkColumn::Time(..) => "timestamptz[]",
        }
    }

    /// The values as one array parameter (of [`pg_array_type`](Self::pg_array_type)).
    fn into_array(self) -> sea_orm::Value {
        use sea_orm::sea_query::ArrayType;
        match self {
            BulkColumn::Text(_, v) => pg_array(ArrayType::String, v),
            BulkColumn::NonEmptyText(_, v) => pg_array(
                ArrayType::String,
                v.into_iter().map(Option::unwrap_or_default),
            ),
            BulkColumn::Time(_, v) => pg_array(ArrayType::ChronoDateTimeUtc, v),
        }
    }

    /// The values one by one, for the driver.
    fn into_bulk_values(self) -> Box<dyn Iterator<Item = BulkValue> + Send> {
        match self {
            BulkColumn::Text(_, v) => Box::new(v.into_iter().map(BulkValue::Text)),
            BulkColumn::NonEmptyText(_, v) => Box::new(
                v.into_iter()
                    .map(|s| s.map_or(BulkValue::Null, BulkValue::Text)),
            ),
            BulkColumn::Time(_, v) => Box::new(v.into_iter().map(BulkValue::Time)),
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
    let rows = row_count(table, &columns)?;
    if rows == 0 {
        return Ok(());
    }
    let names = column_list(&columns);
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let unnest = unnest_params(&columns);
            let mut selected = String::new();
            let mut values = Vec::with_capacity(columns.len());
            for (i, column) in columns.into_iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                let name = column.name();
                if matches!(column, BulkColumn::NonEmptyText(..)) {
                    let _ = write!(selected, "{sep}NULLIF(t.\"{name}\", '')");
                } else {
                    let _ = write!(selected, "{sep}t.\"{name}\"");
                }
                values.push(column.into_array());
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
            let per_statement = sqlite_rows_per_statement(width);
            let mut values: Vec<_> = columns.into_iter().map(BulkColumn::into_values).collect();
            let mut left = rows;
            while left > 0 {
                let n = left.min(per_statement);
                left -= n;
                let mut bound = Vec::with_capacity(n * width);
                for _ in 0..n {
                    for column in &mut values {
                        bound.push(column.next().ok_or_else(|| column_ran_out(table))?);
                    }
                }
                let sql = insert_values_sql(table, &names, width, n);
                db.execute_raw(Statement::from_sql_and_values(backend, sql, bound))
                    .await?;
            }
        }
    }
    Ok(())
}
