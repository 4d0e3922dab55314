//! The media database: which image each content and user has. Every SQL the subgraph runs
//! lives here, behind `Store`.
//!
//! An object may be named by several rows (the same picture uploaded twice has one key):
//! a change that drops a row answers the keys no row names any more, and the caller
//! deletes those objects once the change has committed.

use crate::picture::Picture;
use chrono::Utc;
use folio_common::Result;
use folio_common::db::begin_write;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use std::collections::HashMap;

pub mod images {
    use sea_orm::entity::prelude::*;

    /// The image of a content or a user.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "images")]
    pub struct Model {
        /// [`super::Owner::kind`]: `content` or `user`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub owner_kind: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub owner_id: String,
        /// The object's key (`<sha256>.<ext>`).
        pub key: String,
        pub content_type: String,
        pub width: i32,
        pub height: i32,
        pub bytes: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use images::Entity as Images;
pub use images::Model as ImageRow;

folio_common::service_store! {
    /// Handle on the media database (cheap to clone: a connection pool).
    pub struct Store("media");
}

/// Whose image a row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    Content,
    User,
}

impl Owner {
    pub fn kind(self) -> &'static str {
        match self {
            Owner::Content => "content",
            Owner::User => "user",
        }
    }
}

impl Store {
    /// The images of `ids` (owners of one kind), by owner id.
    pub async fn images(&self, owner: Owner, ids: &[String]) -> Result<HashMap<String, ImageRow>> {
        let rows = Images::find()
            .filter(images::Column::OwnerKind.eq(owner.kind()))
            .filter(images::Column::OwnerId.is_in(ids.iter().map(String::as_str)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|r| (r.owner_id.clone(), r)).collect())
    }

    /// Makes `picture` (already stored) the image of `owner_id`; the replaced image's
    /// key if no row names it any more.
    pub async fn set(
        &self,
        owner: Owner,
        owner_id: &str,
        picture: &Picture,
    ) -> Result<Option<String>> {
        let tx = begin_write(&self.db).await?;
        let before = Images::find_by_id((owner.kind().to_owned(), owner_id.to_owned()))
            .one(&tx)
            .await?;
        let row = images::ActiveModel {
            owner_kind: Set(owner.kind().to_owned()),
            owner_id: Set(owner_id.to_owned()),
            key: Set(picture.key.clone()),
            content_type: Set(picture.format.content_type().to_owned()),
            width: Set(picture.width as i32),
            height: Set(picture.height as i32),
            bytes: Set(picture.bytes.len() as i64),
            created_at: Set(Utc::now()),
        };
        Images::insert(row)
            .on_conflict(
                OnConflict::columns([images::Column::OwnerKind, images::Column::OwnerId])
                    .update_columns([
                        images::Column::Key,
                        images::Column::ContentType,
                        images::Column::Width,
                        images::Column::Height,
                        images::Column::Bytes,
                        images::Column::CreatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&tx)
            .await?;
        let orphan = match before {
            Some(old) if old.key != picture.key => orphan(&tx, old.key).await?,
            _ => None,
        };
        tx.commit().await?;
        Ok(orphan)
    }

    /// Removes the image of `owner_id`: whether there was one, and its key if no row
    /// names it any more.
    pub async fn remove(&self, owner: Owner, owner_id: &str) -> Result<(bool, Option<String>)> {
        let tx = begin_write(&self.db).await?;
        let removed = remove(&tx, owner, owner_id).await?;
        tx.commit().await?;
        Ok((removed.is_some(), removed.flatten()))
    }
}

/// Removes the image of `owner_id` inside `tx`: `None` if there was none, else the key
/// if no row names it any more.
pub async fn remove(
    tx: &impl ConnectionTrait,
    owner: Owner,
    owner_id: &str,
) -> Result<Option<Option<String>>> {
    let Some(old) = Images::find_by_id((owner.kind().to_owned(), owner_id.to_owned()))
        .one(tx)
        .await?
    else {
        return Ok(None);
    };
    Images::delete_by_id((owner.kind().to_owned(), owner_id.to_owned()))
        .exec(tx)
        .await?;
    Ok(Some(orphan(tx, old.key).await?))
}

/// `key`, if no row names it.
async fn orphan(tx: &impl ConnectionTrait, key: String) -> Result<Option<String>> {
    let named = Images::find()
        .filter(images::Column::Key.eq(key.as_str()))
        .count(tx)
        .await?;
    Ok((named == 0).then_some(key))
}
