//! The media database: which image each content and user has. Every SQL the subgraph runs
//! lives here, behind `Store`.
//!
//! An object may be named by several rows (the same picture uploaded twice has one key):
//! a change that drops a row answers the objects no row names any more (the picture and
//! its thumbnails, whose rendition row goes with it), and the caller deletes them.

use crate::picture::{FORMATS, Picture, Rendition, thumbnail_key};
use chrono::Utc;
use folio_common::db::begin_write;
use folio_common::events::Payload;
use folio_common::events::catalog::ImageStored;
use folio_common::{Error, Result};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect,
};
use std::collections::{HashMap, HashSet};

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

pub mod renditions {
    use sea_orm::entity::prelude::*;

    /// What was made from an object in the background.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "renditions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        /// `<width>x<height>` of each thumbnail, comma-separated, smallest first (empty
        /// when the picture is no wider than the smallest thumbnail).
        pub thumbnails: String,
        /// A BlurHash.
        pub placeholder: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod forgotten_owners {
    use sea_orm::entity::prelude::*;

    /// A content or user whose deletion this subgraph applied.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "forgotten_owners")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub owner_kind: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub owner_id: String,
        pub forgotten_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use forgotten_owners::Entity as ForgottenOwners;
use images::Entity as Images;
pub use images::Model as ImageRow;
use renditions::Entity as Renditions;
pub use renditions::Model as RenditionRow;

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

    /// The renditions of `keys` made so far, by key.
    pub async fn renditions(&self, keys: &[&str]) -> Result<HashMap<String, RenditionRow>> {
        let rows = Renditions::find()
            .filter(renditions::Column::Key.is_in(keys.iter().copied()))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|r| (r.key.clone(), r)).collect())
    }

    /// Makes `picture` (already stored) the image of `owner_id`, as `actor`; the objects
    /// the replaced image leaves unnamed. A picture not rendered yet gets its
    /// `image.stored` event, in the same transaction.
    pub async fn set(
        &self,
        owner: Owner,
        owner_id: &str,
        picture: &Picture,
        actor: &str,
    ) -> Result<Vec<String>> {
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
        // Checked after the insert: on PostgreSQL a concurrent `forget` of this owner
        // either waits for this transaction (and then deletes its row) or has committed
        // before the insert went through (and is seen here).
        if ForgottenOwners::find_by_id((owner.kind().to_owned(), owner_id.to_owned()))
            .one(&tx)
            .await?
            .is_some()
        {
            return Err(Error::NotFound(owner.kind()));
        }
        let unnamed = match before {
            Some(old) if old.key != picture.key => release(&tx, old.key).await?,
            _ => Vec::new(),
        };
        if Renditions::find_by_id(picture.key.clone())
            .one(&tx)
            .await?
            .is_none()
        {
            let stored = Payload::ImageStored(ImageStored {
                key: picture.key.clone(),
            });
            self.outbox.emit(&tx, Some(actor), stored).await?;
        }
        self.outbox.commit(tx).await?;
        Ok(unnamed)
    }

    /// Removes the image of `owner_id`: whether there was one, and the objects it leaves
    /// unnamed.
    pub async fn remove(&self, owner: Owner, owner_id: &str) -> Result<(bool, Vec<String>)> {
        let tx = begin_write(&self.db).await?;
        let removed = remove(&tx, owner, owner_id).await?;
        tx.commit().await?;
        Ok((removed.is_some(), removed.unwrap_or_default()))
    }

    /// Records what was made from object `key`, if an image still names it (else the
    /// thumbnails just stored are unnamed: they are answered, to be deleted).
    pub async fn rendered(&self, key: &str, rendition: &Rendition) -> Result<Vec<String>> {
        let tx = begin_write(&self.db).await?;
        if !names(&tx, key).await? {
            return Ok(rendition.thumbnails.iter().map(|t| t.key.clone()).collect());
        }
        let row = renditions::ActiveModel {
            key: Set(key.to_owned()),
            thumbnails: Set(rendition
                .thumbnails
                .iter()
                .map(|t| format!("{}x{}", t.width, t.height))
                .collect::<Vec<_>>()
                .join(",")),
            placeholder: Set(rendition.placeholder.clone()),
            created_at: Set(Utc::now()),
        };
        Renditions::insert(row)
            .on_conflict(
                OnConflict::column(renditions::Column::Key)
                    .update_columns([
                        renditions::Column::Thumbnails,
                        renditions::Column::Placeholder,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&tx)
            .await?;
        tx.commit().await?;
        Ok(Vec::new())
    }

    /// Whether some image names object `key`.
    pub async fn is_named(&self, key: &str) -> Result<bool> {
        names(&self.db, key).await
    }

    /// Whether object `key` is rendered or named by no image (nothing to make).
    pub async fn needs_rendering(&self, key: &str) -> Result<bool> {
        Ok(names(&self.db, key).await?
            && Renditions::find_by_id(key.to_owned())
                .one(&self.db)
                .await?
                .is_none())
    }
}

impl Store {
    /// Of `keys` (objects found in the store), those whose picture no image names: the
    /// picture's object and its thumbnails alike (they share its 64-digit stem). Rendition
    /// rows of such pictures go in the same transaction, so that the picture, if uploaded
    /// again, is rendered again.
    pub async fn unnamed(&self, keys: &[String]) -> Result<Vec<String>> {
        let stem = |key: &str| key.get(..64).unwrap_or(key).to_owned();
        let stems: HashSet<String> = keys.iter().map(|k| stem(k)).collect();
        // The keys a picture with one of those stems could be stored under.
        let pictures: Vec<String> = stems
            .iter()
            .flat_map(|s| {
                FORMATS
                    .iter()
                    .map(move |f| format!("{s}.{}", f.extension()))
            })
            .collect();
        let tx = begin_write(&self.db).await?;
        let named: HashSet<String> = Images::find()
            .select_only()
            .column(images::Column::Key)
            .filter(images::Column::Key.is_in(pictures.iter().map(String::as_str)))
            .into_tuple::<String>()
            .all(&tx)
            .await?
            .iter()
            .map(|k| stem(k))
            .collect();
        let gone: Vec<&String> = pictures
            .iter()
            .filter(|p| !named.contains(&stem(p)))
            .collect();
        Renditions::delete_many()
            .filter(renditions::Column::Key.is_in(gone.iter().map(|k| k.as_str())))
            .exec(&tx)
            .await?;
        tx.commit().await?;
        Ok(keys
            .iter()
            .filter(|k| !named.contains(&stem(k)))
            .cloned()
            .collect())
    }
}

/// The thumbnails of a rendition row: `(width, height)`, smallest first.
pub fn thumbnail_sizes(row: &RenditionRow) -> Vec<(u32, u32)> {
    row.thumbnails
        .split(',')
        .filter_map(|size| {
            let (w, h) = size.split_once('x')?;
            Some((w.parse().ok()?, h.parse().ok()?))
        })
        .collect()
}

/// Removes the image of `owner_id` inside `tx`: `None` if there was none, else the
/// objects it leaves unnamed.
async fn remove(
    tx: &impl ConnectionTrait,
    owner: Owner,
    owner_id: &str,
) -> Result<Option<Vec<String>>> {
    let Some(old) = Images::find_by_id((owner.kind().to_owned(), owner_id.to_owned()))
        .one(tx)
        .await?
    else {
        return Ok(None);
    };
    Images::delete_by_id((owner.kind().to_owned(), owner_id.to_owned()))
        .exec(tx)
        .await?;
    Ok(Some(release(tx, old.key).await?))
}

/// Forgets `owner_id`, deleted, inside the transaction `tx` that applies its deletion
/// event: its image goes, and an image set on it afterwards is NOT_FOUND. The objects it
/// leaves unnamed.
pub async fn forget(tx: &DatabaseTransaction, owner: Owner, owner_id: &str) -> Result<Vec<String>> {
    // First claim the owner's row with a placeholder: on PostgreSQL this waits for a
    // `set` of the same owner still in flight (its insert holds the key), so the deletion
    // below sees its row; a `set` that starts later waits for this transaction and then
    // finds the owner forgotten. The placeholder goes before the commit.
    let placeholder = images::ActiveModel {
        owner_kind: Set(owner.kind().to_owned()),
        owner_id: Set(owner_id.to_owned()),
        key: Set(String::new()),
        content_type: Set(String::new()),
        width: Set(0),
        height: Set(0),
        bytes: Set(0),
        created_at: Set(Utc::now()),
    };
    Images::insert(placeholder)
        .on_conflict(
            OnConflict::columns([images::Column::OwnerKind, images::Column::OwnerId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(tx)
        .await?;
    let id = (owner.kind().to_owned(), owner_id.to_owned());
    let old = Images::find_by_id(id.clone()).one(tx).await?;
    Images::delete_by_id(id).exec(tx).await?;
    let unnamed = match old {
        Some(old) if !old.key.is_empty() => release(tx, old.key).await?,
        _ => Vec::new(),
    };
    let forgotten = forgotten_owners::ActiveModel {
        owner_kind: Set(owner.kind().to_owned()),
        owner_id: Set(owner_id.to_owned()),
        forgotten_at: Set(Utc::now()),
    };
    ForgottenOwners::insert(forgotten)
        .on_conflict(
            OnConflict::columns([
                forgotten_owners::Column::OwnerKind,
                forgotten_owners::Column::OwnerId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(tx)
        .await?;
    Ok(unnamed)
}

/// Whether some image names object `key`.
async fn names(db: &impl ConnectionTrait, key: &str) -> Result<bool> {
    Ok(Images::find()
        .filter(images::Column::Key.eq(key))
        .count(db)
        .await?
        > 0)
}

/// Object `key` and its thumbnails, if no image names it any more (its rendition row
/// goes); nothing otherwise.
async fn release(tx: &impl ConnectionTrait, key: String) -> Result<Vec<String>> {
    if names(tx, &key).await? {
        return Ok(Vec::new());
    }
    let mut unnamed = Vec::new();
    if let Some(rendition) = Renditions::find_by_id(key.clone()).one(tx).await? {
        unnamed.extend(
            thumbnail_sizes(&rendition)
                .into_iter()
                .map(|(w, _)| thumbnail_key(&key, w)),
        );
        Renditions::delete_by_id(key.clone()).exec(tx).await?;
    }
    unnamed.push(key);
    Ok(unnamed)
}
