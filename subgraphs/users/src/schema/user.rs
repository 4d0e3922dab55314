//! The `User` entity and its connection.

use super::loaders::{CountKey, FeedAuthors, UsersLoader, ViewerFollows};
use crate::UsersState;
use crate::store::UserRow;
use crate::store::social::Direction;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object, Result};
use folio_common::pagination::PageRequest;
use folio_common::{DateTime, Id, Viewer};
use std::sync::Arc;

/// A user as the API shows it. Private fields are shown only to the user themself and
/// admins, and to whoever just signed in as this user (`as_viewer`).
#[derive(Clone)]
pub struct User {
    row: Arc<UserRow>,
    as_viewer: bool,
}

impl User {
    pub fn new(row: UserRow) -> Self {
        User {
            row: Arc::new(row),
            as_viewer: false,
        }
    }

    /// The user of an `AuthPayload`, who counts as the viewer.
    pub fn as_viewer(row: UserRow) -> Self {
        User {
            row: Arc::new(row),
            as_viewer: true,
        }
    }

    fn shows_private(&self, ctx: &Context<'_>) -> bool {
        self.as_viewer
            || ctx
                .data_opt::<Viewer>()
                .is_some_and(|v| v.is_self_or_admin(&self.row.id))
    }

    async fn count(&self, ctx: &Context<'_>, direction: Direction) -> Result<i32> {
        let loader = ctx.data::<DataLoader<UsersLoader>>()?;
        let n = loader
            .load_one(CountKey(direction, Id::stored(&self.row.id)?))
            .await?
            .unwrap_or(0);
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }

    async fn list(
        &self,
        ctx: &Context<'_>,
        direction: Direction,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<UserConnection> {
        let page = PageRequest::parse(first, after)?;
        let state = ctx.data::<UsersState>()?;
        let page = state
            .store
            .follow_page(direction, &Id::stored(&self.row.id)?, &page)
            .await?;
        Ok(page.map(User::new).into())
    }
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }
    async fn first_name(&self) -> &str {
        &self.row.first_name
    }
    async fn last_name(&self) -> &str {
        &self.row.last_name
    }
    /// Only the user themself and admins see it; null for everyone else.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        self.shows_private(ctx).then_some(self.row.email.as_str())
    }
    /// Only the user themself and admins see it; null for everyone else.
    async fn phone_no(&self, ctx: &Context<'_>) -> Option<&str> {
        self.shows_private(ctx)
            .then_some(self.row.phone_no.as_deref())
            .flatten()
    }
    /// Only the user themself and admins see it; null for everyone else.
    async fn address(&self, ctx: &Context<'_>) -> Option<&str> {
        self.shows_private(ctx)
            .then_some(self.row.address.as_deref())
            .flatten()
    }
    async fn is_admin(&self) -> bool {
        self.row.is_admin
    }
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }
    async fn updated_at(&self) -> DateTime {
        self.row.updated_at.into()
    }
    async fn follower_count(&self, ctx: &Context<'_>) -> Result<i32> {
        self.count(ctx, Direction::Followers).await
    }
    async fn following_count(&self, ctx: &Context<'_>) -> Result<i32> {
        self.count(ctx, Direction::Following).await
    }
    /// Most recent follower first.
    async fn followers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<UserConnection> {
        self.list(ctx, Direction::Followers, first, after).await
    }
    /// Most recently followed first.
    async fn following(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<UserConnection> {
        self.list(ctx, Direction::Following, first, after).await
    }
    /// Whether the signed-in viewer follows this user (false when anonymous).
    async fn viewer_is_following(&self, ctx: &Context<'_>) -> Result<bool> {
        let loader = ctx.data::<DataLoader<UsersLoader>>()?;
        Ok(loader
            .load_one(ViewerFollows(Id::stored(&self.row.id)?))
            .await?
            .unwrap_or(false))
    }
    /// Internal, for the content subgraph's `feed` (@requires): the ids whose content
    /// this user's feed shows. Not in the public API (@inaccessible), and only the user
    /// themself gets the list; everyone else gets an empty one.
    #[graphql(inaccessible)]
    async fn feed_author_ids(&self, ctx: &Context<'_>) -> Result<Vec<ID>> {
        let is_self = ctx
            .data_opt::<Viewer>()
            .and_then(|v| v.user_id.as_deref())
            .is_some_and(|id| id == self.row.id);
        if !is_self {
            return Ok(Vec::new());
        }
        let loader = ctx.data::<DataLoader<UsersLoader>>()?;
        Ok(loader
            .load_one(FeedAuthors(Id::stored(&self.row.id)?))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ID)
            .collect())
    }
}

folio_common::connection!(UserConnection, UserEdge, User);
