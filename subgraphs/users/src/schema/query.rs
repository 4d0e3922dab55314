//! Queries of the users subgraph, and the `User` entity resolver.

use super::loaders::{UserKey, UsersLoader};
use super::user::{User, UserConnection};
use crate::UsersState;
use crate::store::UserQuery;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, InputObject, Object, Result};
use folio_common::pagination::PageRequest;
use folio_common::{Error, Id, Viewer};

/// Exact matches; fields combine with AND.
#[derive(InputObject, Default)]
pub struct UserFilter {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Admins only (FORBIDDEN for others).
    pub email: Option<String>,
}

pub struct Query;

async fn load_user(ctx: &Context<'_>, id: Id) -> Result<Option<User>> {
    let loader = ctx.data::<DataLoader<UsersLoader>>()?;
    Ok(loader.load_one(UserKey(id)).await?.map(User::new))
}

#[Object]
impl Query {
    /// The signed-in user; null when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match ctx.data::<Viewer>()?.id() {
            Some(id) => load_user(ctx, id).await,
            None => Ok(None),
        }
    }

    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        // An id no user can have names nobody, like any unknown id.
        let Ok(id) = Id::try_from(id.0) else {
            return Ok(None);
        };
        load_user(ctx, id).await
    }

    /// Signed in only. `search` matches first name, last name or email (email for admins
    /// only), case-insensitively.
    async fn users(
        &self,
        ctx: &Context<'_>,
        filter: Option<UserFilter>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<UserConnection> {
        let viewer = ctx.data::<Viewer>()?;
        viewer.require_user()?;
        let filter = filter.unwrap_or_default();
        if filter.email.is_some() && !viewer.is_admin {
            return Err(Error::forbidden("only admins may filter users by email").into());
        }
        let page = PageRequest::parse(first, after)?;
        let q = UserQuery {
            first_name: filter.first_name,
            last_name: filter.last_name,
            email: filter.email,
            search,
            search_email: viewer.is_admin,
        };
        let state = ctx.data::<UsersState>()?;
        Ok(state
            .store
            .list_users(&q, &page)
            .await?
            .map(User::new)
            .into())
    }

    /// Federation: resolves `User` references, batched into one query per request.
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        let Ok(id) = Id::try_from(id.0) else {
            return Ok(None);
        };
        load_user(ctx, id).await
    }
}
