//! Mutations of the interactions subgraph.

use super::comment::Comment;
use super::interaction::Interaction;
use crate::InteractionsState;
use crate::domain::{CommentBody, Kind};
use crate::store::CommentRow;
use async_graphql::{Context, ID, Object, Result};
use folio_common::{Error, Id, Viewer};

pub struct Mutation;

async fn record(ctx: &Context<'_>, content_id: &str, kind: Kind) -> Result<Interaction> {
    let viewer = ctx.data::<Viewer>()?;
    let user = viewer.require_user()?;
    let content_id = Id::parse_or_not_found(content_id, "content")?;
    let state = ctx.data::<InteractionsState>()?;
    state.contents.require(&content_id).await?;
    let row = state.store.record(&user, &content_id, kind).await?;
    Ok(Interaction::new(row, kind))
}

async fn existing_comment(state: &InteractionsState, id: &Id) -> Result<CommentRow, Error> {
    state
        .store
        .comment(id)
        .await?
        .ok_or(Error::NotFound("comment"))
}

fn body(raw: &str) -> Result<CommentBody, Error> {
    CommentBody::parse(raw).map_err(|e| e.on("body"))
}

#[Object]
impl Mutation {
    /// Signed in. Idempotent: one READ per user and content; a repeat returns the first.
    async fn record_read(&self, ctx: &Context<'_>, content_id: ID) -> Result<Interaction> {
        record(ctx, &content_id, Kind::Read).await
    }

    /// Signed in. Idempotent: one LIKE per user and content.
    async fn like(&self, ctx: &Context<'_>, content_id: ID) -> Result<Interaction> {
        record(ctx, &content_id, Kind::Like).await
    }

    /// Signed in. True if a like was removed.
    async fn unlike(&self, ctx: &Context<'_>, content_id: ID) -> Result<bool> {
        let viewer = ctx.data::<Viewer>()?;
        let user = viewer.require_user()?;
        let content_id = Id::parse_or_not_found(&content_id, "content")?;
        let state = ctx.data::<InteractionsState>()?;
        state.contents.require(&content_id).await?;
        Ok(state.store.unlike(&user, &content_id).await?)
    }

    /// Signed in.
    async fn add_comment(
        &self,
        ctx: &Context<'_>,
        content_id: ID,
        body: String,
    ) -> Result<Comment> {
        let viewer = ctx.data::<Viewer>()?;
        let user = viewer.require_user()?;
        let body = self::body(&body)?;
        let content_id = Id::parse_or_not_found(&content_id, "content")?;
        let state = ctx.data::<InteractionsState>()?;
        state.contents.require(&content_id).await?;
        let row = state.store.add_comment(&content_id, &user, &body).await?;
        Ok(Comment::new(row))
    }

    /// The comment's author.
    async fn edit_comment(&self, ctx: &Context<'_>, id: ID, body: String) -> Result<Comment> {
        let viewer = ctx.data::<Viewer>()?;
        let user = viewer.require_user()?;
        let body = self::body(&body)?;
        let state = ctx.data::<InteractionsState>()?;
        let id = Id::parse_or_not_found(&id, "comment")?;
        let comment = existing_comment(state, &id).await?;
        if comment.author_id != user {
            return Err(Error::forbidden("only the comment's author may edit it").into());
        }
        let row = state
            .store
            .edit_comment(&id, &body, &user)
            .await?
            .ok_or(Error::NotFound("comment"))?;
        Ok(Comment::new(row))
    }

    /// The comment's author, the content's author, or an admin.
    async fn delete_comment(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let viewer = ctx.data::<Viewer>()?;
        let user = viewer.require_user()?;
        let id = Id::parse_or_not_found(&id, "comment")?;
        let state = ctx.data::<InteractionsState>()?;
        let comment = existing_comment(state, &id).await?;
        let allowed = viewer.is_admin
            || comment.author_id == user
            || state
                .store
                .known_content(&Id::stored(&comment.content_id)?)
                .await?
                .is_some_and(|c| c.author_id == user);
        if !allowed {
            return Err(Error::forbidden(
                "only the comment's author, the content's author or an admin may delete it",
            )
            .into());
        }
        if !state.store.delete_comment(&comment, &user).await? {
            return Err(Error::NotFound("comment").into());
        }
        Ok(true)
    }
}
