//! Mutations of the content subgraph.

use super::content::Content;
use crate::ContentState;
use crate::domain::{Description, Story, Tags, Title};
use crate::import::{self, ImportOptions};
use crate::store::{ContentChanges, NewContent};
use async_graphql::{
    Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject, Upload,
};
use folio_common::input::{optional, required};
use folio_common::{Error, Id, Viewer};

#[derive(InputObject)]
pub struct CreateContentInput {
    pub title: String,
    pub description: Option<String>,
    pub story: String,
    pub tags: Option<Vec<String>>,
}

// Partial update: a field left out is unchanged; description set to null clears it,
// any other field set to null is BAD_USER_INPUT. (No doc comment: the contract has none.)
#[derive(InputObject)]
pub struct UpdateContentInput {
    pub title: MaybeUndefined<String>,
    pub description: MaybeUndefined<String>,
    pub story: MaybeUndefined<String>,
    pub tags: MaybeUndefined<Vec<String>>,
}

fn parse_tags(raw: &[String]) -> Result<Tags, Error> {
    Tags::parse(raw.iter().map(String::as_str)).map_err(|e| e.on("tags"))
}

impl UpdateContentInput {
    fn parse(self) -> Result<ContentChanges, Error> {
        let description = optional(self.description, "description", |d| Description::parse(d))?
            .map(|d| d.flatten());
        Ok(ContentChanges {
            title: required(self.title, "title", |s| Title::parse(s))?,
            description,
            story: required(self.story, "story", |s| Story::parse(s))?,
            tags: required(self.tags, "tags", |t: &Vec<String>| {
                Tags::parse(t.iter().map(String::as_str))
            })?,
        })
    }
}

/// A content the viewer may change, and who the viewer is.
struct Editable {
    id: Id,
    viewer: Id,
}

/// The content `id` if the viewer may change it (signed in, and its author or an admin):
/// `UNAUTHENTICATED`, `NOT_FOUND` (an id no content can have included) or `FORBIDDEN`.
async fn editable(state: &ContentState, viewer: &Viewer, id: &str) -> Result<Editable, Error> {
    viewer.require_user()?;
    let id = Id::parse_or_not_found(id, "content")?;
    let row = state
        .store
        .content(&id)
        .await?
        .ok_or(Error::NotFound("content"))?;
    let me = viewer.require_self_or_admin(
        &row.author_id,
        "only the author or an admin may change this content",
    )?;
    Ok(Editable { id, viewer: me })
}

// One bad row of a CSV import. (No doc comment: the contract has none.)
#[derive(SimpleObject)]
pub struct ImportRowError {
    /// 1-based line number in the file (the header is line 1).
    pub line: i32,
    pub message: String,
}

// What a CSV import did. (No doc comment: the contract has none.)
#[derive(SimpleObject)]
pub struct ImportReport {
    /// Rows created: all of them, or 0 when any row is bad.
    pub created: i32,
    /// Bad rows (each listed in errors).
    pub failed: i32,
    pub errors: Vec<ImportRowError>,
}

fn int(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<import::ImportReport> for ImportReport {
    fn from(r: import::ImportReport) -> Self {
        ImportReport {
            created: int(r.created),
            failed: int(r.failed),
            errors: r
                .errors
                .into_iter()
                .map(|e| ImportRowError {
                    line: int(e.line),
                    message: e.message,
                })
                .collect(),
        }
    }
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Signed in; the viewer becomes the author.
    async fn create_content(
        &self,
        ctx: &Context<'_>,
        input: CreateContentInput,
    ) -> Result<Content> {
        let viewer = ctx.data::<Viewer>()?;
        let author_id = viewer.require_user()?;
        let new = NewContent {
            author_id,
            title: Title::parse(&input.title).map_err(|e| e.on("title"))?,
            description: match &input.description {
                Some(d) => Description::parse(d).map_err(|e| e.on("description"))?,
                None => None,
            },
            story: Story::parse(&input.story).map_err(|e| e.on("story"))?,
            tags: match &input.tags {
                Some(t) => parse_tags(t)?,
                None => Tags::default(),
            },
        };
        let state = ctx.data::<ContentState>()?;
        Ok(Content::new(state.store.insert_content(new).await?))
    }

    /// The author or an admin.
    async fn update_content(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateContentInput,
    ) -> Result<Content> {
        let viewer = ctx.data::<Viewer>()?;
        let state = ctx.data::<ContentState>()?;
        let content = editable(state, viewer, &id).await?;
        let changes = input.parse()?;
        // The author never changes, so the check above still holds; a content deleted
        // meanwhile is NOT_FOUND.
        let row = state
            .store
            .update_content(&content.id, changes, Some(&content.viewer))
            .await?
            .ok_or(Error::NotFound("content"))?;
        Ok(Content::new(row))
    }

    /// The author or an admin. Its interactions and comments go too.
    async fn delete_content(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let viewer = ctx.data::<Viewer>()?;
        let state = ctx.data::<ContentState>()?;
        let content = editable(state, viewer, &id).await?;
        if !state
            .store
            .delete_content(&content.id, Some(&content.viewer))
            .await?
        {
            return Err(Error::NotFound("content").into());
        }
        Ok(true)
    }

    /// Signed in. CSV (RFC 4180) with a header row naming the columns, in any order: title,
    /// story, and optionally description (empty means null), author_id and tags (separated
    /// by '|'). An author_id other than the viewer's own is a bad row unless the viewer is
    /// an admin. Either every row is valid and all are created, or nothing is created and
    /// every bad row is reported with the line its record starts on (the header is line 1).
    async fn import_contents_csv(&self, ctx: &Context<'_>, file: Upload) -> Result<ImportReport> {
        let viewer = ctx.data::<Viewer>()?;
        let viewer_id = viewer.require_user()?.into_string();
        let state = ctx.data::<ContentState>()?;
        let upload = file.value(ctx).map_err(Error::internal)?;
        let opts = ImportOptions {
            viewer_id,
            is_admin: viewer.is_admin,
            max_rows: state.import_max_rows,
        };
        let report = import::import_csv(&state.store, upload.into_read(), opts).await?;
        Ok(report.into())
    }
}
