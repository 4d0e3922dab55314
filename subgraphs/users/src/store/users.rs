//! Users: create, read (by ids, by email, filtered lists), update, delete.

use super::entity::users::{self, Column, Entity as Users};
use super::{Store, UserRow};
use crate::domain::Email;
use chrono::Utc;
use folio_common::error::is_unique_violation;
use folio_common::events::Payload;
use folio_common::events::catalog::{PasswordChanged, UserDeleted};
use folio_common::pagination::{Page, PageRequest};
use folio_common::{Error, Id, Result};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;

/// A user to create, already validated.
pub struct NewUser {
    pub email: String,
    pub email_normalized: String,
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub phone_no: Option<String>,
    pub address: Option<String>,
    pub is_admin: bool,
}

/// A partial update, already validated: `None` leaves a field as it is; for optional
/// fields `Some(None)` clears it.
#[derive(Default)]
pub struct UserChanges {
    pub email: Option<(String, String)>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone_no: Option<Option<String>>,
    pub address: Option<Option<String>>,
}

/// The `users` query's filter: exact (case-insensitive) matches and a substring search.
#[derive(Default, Debug)]
pub struct UserQuery {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub search: Option<String>,
    /// Whether `search` also looks at emails (admins only).
    pub search_email: bool,
}

/// The case-insensitive key of a name or email: trimmed and lower-cased by Rust, so
/// every database compares the same Unicode-aware keys.
pub fn name_key(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Whether every text value of the query can match stored text at all. These are names,
/// emails and search words, not ids: text that can be no name or email matches nothing.
fn is_storable(q: &UserQuery) -> bool {
    [&q.first_name, &q.last_name, &q.email, &q.search]
        .into_iter()
        .flatten()
        .all(|s| folio_common::db::is_storable_text(s))
}

/// A LIKE pattern matching `needle` anywhere, with LIKE's wildcards taken literally.
fn contains_pattern(needle: &str) -> LikeExpr {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    LikeExpr::new(p).escape('\\')
}

impl UserQuery {
    fn condition(&self) -> Condition {
        let mut cond = Condition::all();
        let exact = [
            (Column::FirstNameKey, &self.first_name),
            (Column::LastNameKey, &self.last_name),
            (Column::EmailNormalized, &self.email),
        ];
        for (col, value) in exact {
            if let Some(v) = value {
                cond = cond.add(Expr::col(col).eq(name_key(v)));
            }
        }
        if let Some(s) = self
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let mut any = Condition::any()
                .add(Expr::col(Column::FirstNameKey).like(contains_pattern(s)))
                .add(Expr::col(Column::LastNameKey).like(contains_pattern(s)));
            if self.search_email {
                any = any.add(Expr::col(Column::EmailNormalized).like(contains_pattern(s)));
            }
            cond = cond.add(any);
        }
        cond
    }
}

impl Store {
    /// Inserts a user; an email already registered (in any case) is `CONFLICT`.
    #[tracing::instrument(skip_all, fields(admin = new.is_admin))]
    pub async fn insert_user(&self, db: &impl ConnectionTrait, new: NewUser) -> Result<UserRow> {
        let now = Utc::now();
        let row = users::ActiveModel {
            id: Set(folio_common::new_id()),
            email: Set(new.email),
            email_normalized: Set(new.email_normalized),
            password_hash: Set(new.password_hash),
            first_name_key: Set(name_key(&new.first_name)),
            last_name_key: Set(name_key(&new.last_name)),
            first_name: Set(new.first_name),
            last_name: Set(new.last_name),
            phone_no: Set(new.phone_no),
            address: Set(new.address),
            is_admin: Set(new.is_admin),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let user = row.insert(db).await.map_err(email_conflict)?;
        let payload = Payload::UserCreated(super::user_event_data(&user));
        self.outbox.emit(db, None, payload).await?;
        Ok(user)
    }

    /// The users among `ids` that exist, in one query.
    #[tracing::instrument(skip_all, fields(ids = ids.len()))]
    pub async fn users_by_ids(&self, ids: &[Id]) -> Result<HashMap<String, UserRow>> {
        self.users_in(ids).await
    }

    /// The users whose ids are among `ids` (ids, or ids read from stored rows).
    pub(super) async fn users_in<V>(
        &self,
        ids: impl IntoIterator<Item = V>,
    ) -> Result<HashMap<String, UserRow>>
    where
        V: Into<sea_orm::Value>,
    {
        let rows = Users::find()
            .filter(Column::Id.is_in(ids))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|u| (u.id.clone(), u)).collect())
    }

    /// One user by id.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn user(&self, id: &Id) -> Result<Option<UserRow>> {
        Ok(Users::find_by_id(id.as_str()).one(&self.db).await?)
    }

    /// One user by email (compared normalized).
    #[tracing::instrument(skip_all)]
    pub async fn user_by_email(&self, email: &Email) -> Result<Option<UserRow>> {
        Ok(Users::find()
            .filter(Column::EmailNormalized.eq(email.normalized()))
            .one(&self.db)
            .await?)
    }

    /// How many users there are.
    #[tracing::instrument(skip_all)]
    pub async fn count_users(&self) -> Result<u64> {
        Ok(Users::find().count(&self.db).await?)
    }

    /// A page of users matching `q`, in creation order, with the total count.
    #[tracing::instrument(skip_all, fields(limit = page.limit))]
    pub async fn list_users(&self, q: &UserQuery, page: &PageRequest) -> Result<Page<UserRow>> {
        if !is_storable(q) {
            return Ok(Page::from_rows(page, Vec::new(), 0, |u: &UserRow| &u.id));
        }
        let cond = q.condition();
        let total = Users::find().filter(cond.clone()).count(&self.db).await?;
        let mut select = Users::find().filter(cond).order_by_asc(Column::Id);
        if let Some(after) = &page.after {
            select = select.filter(Column::Id.gt(after.clone()));
        }
        let rows = select.limit(page.fetch_limit()).all(&self.db).await?;
        Ok(Page::from_rows(page, rows, total, |u| &u.id))
    }

    /// Applies `changes` to user `id` on behalf of `actor`; `NOT_FOUND` if there is no
    /// such user.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_user(
        &self,
        id: &Id,
        changes: UserChanges,
        actor: Option<&Id>,
    ) -> Result<UserRow> {
        let row = self.user(id).await?.ok_or(Error::NotFound("user"))?;
        let mut am: users::ActiveModel = row.into();
        if let Some((email, normalized)) = changes.email {
            am.email = Set(email);
            am.email_normalized = Set(normalized);
        }
        if let Some(v) = changes.first_name {
            am.first_name_key = Set(name_key(&v));
            am.first_name = Set(v);
        }
        if let Some(v) = changes.last_name {
            am.last_name_key = Set(name_key(&v));
            am.last_name = Set(v);
        }
        if let Some(v) = changes.phone_no {
            am.phone_no = Set(v);
        }
        if let Some(v) = changes.address {
            am.address = Set(v);
        }
        am.updated_at = Set(Utc::now());
        let tx = folio_common::db::begin_write(&self.db).await?;
        let user = am.update(&tx).await.map_err(email_conflict)?;
        let payload = Payload::UserUpdated(super::user_event_data(&user));
        self.outbox
            .emit(&tx, actor.map(Id::as_str), payload)
            .await?;
        self.outbox.commit(tx).await?;
        Ok(user)
    }

    /// Sets the admin flag; `NOT_FOUND` if there is no such user.
    #[tracing::instrument(skip_all, fields(id = %id, admin = is_admin))]
    pub async fn set_admin(&self, id: &Id, is_admin: bool, actor: Option<&Id>) -> Result<UserRow> {
        let row = self.user(id).await?.ok_or(Error::NotFound("user"))?;
        let mut am: users::ActiveModel = row.into();
        am.is_admin = Set(is_admin);
        am.updated_at = Set(Utc::now());
        let tx = folio_common::db::begin_write(&self.db).await?;
        let user = am.update(&tx).await?;
        let payload = Payload::UserUpdated(super::user_event_data(&user));
        self.outbox
            .emit(&tx, actor.map(Id::as_str), payload)
            .await?;
        self.outbox.commit(tx).await?;
        Ok(user)
    }

    /// Replaces the password hash (in the caller's transaction).
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn set_password_hash(
        &self,
        db: &impl ConnectionTrait,
        id: &Id,
        hash: String,
    ) -> Result<()> {
        Users::update_many()
            .col_expr(Column::PasswordHash, Expr::val(hash))
            .col_expr(Column::UpdatedAt, Expr::val(Utc::now()))
            .filter(Column::Id.eq(id))
            .exec(db)
            .await?;
        // The event says that it changed, never what to.
        let payload = Payload::UserPasswordChanged(PasswordChanged { id: id.to_string() });
        self.outbox.emit(db, Some(id.as_str()), payload).await
    }

    /// Deletes a user on behalf of `actor`; their follows, blocks and refresh tokens go
    /// with them (the foreign keys cascade, in this transaction), and `user.deleted`
    /// tells the other services to remove what the user had there. Returns whether the
    /// user existed.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_user(&self, id: &Id, actor: Option<&Id>) -> Result<bool> {
        let tx = folio_common::db::begin_write(&self.db).await?;
        let res = Users::delete_by_id(id.as_str()).exec(&tx).await?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        let payload = Payload::UserDeleted(UserDeleted { id: id.to_string() });
        self.outbox
            .emit(&tx, actor.map(Id::as_str), payload)
            .await?;
        self.outbox.commit(tx).await?;
        Ok(true)
    }
}

fn email_conflict(e: sea_orm::DbErr) -> Error {
    if is_unique_violation(&e) {
        Error::Conflict {
            field: Some("email"),
            message: "email is already registered".into(),
        }
    } else {
        Error::from(e)
    }
}
