//! The search database: who the authors are (`search_authors`), by id and by name.

use folio_common::Result;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

folio_common::service_store! {
    /// Handle on the search database (cheap to clone: a connection pool).
    pub struct Store("search");
}

const AUTHORS: &str = "search_authors";

/// A user's names, as `user.created` and `user.updated` carry them.
pub struct Author<'a> {
    pub id: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
}

/// Remembers (or renames) an author, in `tx`.
pub async fn put_author(tx: &DatabaseTransaction, a: &Author<'_>) -> Result<()> {
    let cols = ["id", "first_name", "last_name", "first_key", "last_key"].map(Alias::new);
    let insert = Query::insert()
        .into_table(Alias::new(AUTHORS))
        .columns(cols.clone())
        .values_panic([
            a.id.into(),
            a.first_name.into(),
            a.last_name.into(),
            a.first_name.to_lowercase().into(),
            a.last_name.to_lowercase().into(),
        ])
        .on_conflict(
            OnConflict::column(Alias::new("id"))
                .update_columns(cols[1..].iter().cloned())
                .to_owned(),
        )
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

/// Forgets an author, in `tx`.
pub async fn delete_author(tx: &DatabaseTransaction, id: &str) -> Result<()> {
    let delete = Query::delete()
        .from_table(Alias::new(AUTHORS))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    tx.execute(&delete).await?;
    Ok(())
}

/// The first and last names (joined by a space) of those of `ids` the search database
/// knows.
pub async fn author_names<C: ConnectionTrait>(
    db: &C,
    ids: &[&str],
) -> Result<Vec<(String, String)>> {
    let select = Query::select()
        .columns(["id", "first_name", "last_name"].map(Alias::new))
        .from(Alias::new(AUTHORS))
        .and_where(Expr::col(Alias::new("id")).is_in(ids.iter().copied()))
        .to_owned();
    let rows = db.query_all(&select).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let id: String = r.try_get("", "id").ok()?;
            let first: String = r.try_get("", "first_name").ok()?;
            let last: String = r.try_get("", "last_name").ok()?;
            Some((id, format!("{first} {last}")))
        })
        .collect())
}

/// How many ids one `author:` clause may stand for (a very common name): enough for any
/// real query, and a bound on the query the index runs.
pub const MAX_AUTHORS_PER_NAME: u64 = 1_000;

impl Store {
    /// The ids of the authors whose first or last name is `name` (lower-cased).
    pub async fn authors_named(&self, name: &str) -> Result<Vec<String>> {
        let select = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(AUTHORS))
            .cond_where(
                Expr::col(Alias::new("first_key"))
                    .eq(name)
                    .or(Expr::col(Alias::new("last_key")).eq(name)),
            )
            .limit(MAX_AUTHORS_PER_NAME)
            .to_owned();
        let rows = self.db.query_all(&select).await?;
        Ok(rows
            .iter()
            .filter_map(|r| r.try_get::<String>("", "id").ok())
            .collect())
    }
}
