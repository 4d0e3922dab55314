//! The media subgraph's schema: `Content.image` and `User.avatar` on the content and
//! users subgraphs' entities, and the mutations that set and remove them.

use crate::MediaState;
use crate::objects::Objects;
use crate::picture::thumbnail_key;
use crate::picture::{self, Picture};
use crate::store::{ImageRow, Owner, RenditionRow, thumbnail_sizes};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, ID, Object, Result, SimpleObject, Upload};
use folio_common::client::lookup_content;
use folio_common::identity::Viewer;
use folio_common::{Error, Id};
use std::collections::HashMap;
use std::io::Read;

/// A smaller copy of an image.
#[derive(SimpleObject, Clone)]
pub struct Thumbnail {
    /// The actual width; the aspect ratio is kept.
    pub width: i32,
    pub height: i32,
    pub url: String,
}

/// Image URLs are public (no token needed) and served with Content-Type, an ETag and a
/// Cache-Control header; a deleted or replaced image's URLs answer 404 soon after. Served
/// files carry no metadata (EXIF, XMP, IPTC, text chunks); a JPEG's orientation is
/// applied to its pixels, so width and height are as displayed.
#[derive(SimpleObject, Clone)]
pub struct Image {
    pub url: String,
    pub width: i32,
    pub height: i32,
    /// image/jpeg, image/png, image/webp or image/gif, decided from the bytes.
    pub content_type: String,
    /// Size of the file as served.
    pub bytes: i32,
    /// Empty until generated (in the background), then one per configured width that is
    /// smaller than the image (e.g. 160, 480, 1080), smallest first. An animated GIF's
    /// thumbnails show its first frame.
    pub thumbnails: Vec<Thumbnail>,
    /// A tiny placeholder to show before the image loads (a BlurHash); null only while
    /// the image is still being processed.
    pub placeholder: Option<String>,
}

impl Image {
    /// An image row, with what was made from its object so far and the URLs they are
    /// served at.
    async fn new(
        row: ImageRow,
        rendition: Option<&RenditionRow>,
        objects: &Objects,
    ) -> Result<Self, Error> {
        let mut thumbnails = Vec::new();
        for (width, height) in rendition.map(thumbnail_sizes).unwrap_or_default() {
            thumbnails.push(Thumbnail {
                width: width as i32,
                height: height as i32,
                url: objects.url(&thumbnail_key(&row.key, width)).await?,
            });
        }
        Ok(Image {
            url: objects.url(&row.key).await?,
            width: row.width,
            height: row.height,
            content_type: row.content_type,
            bytes: i32::try_from(row.bytes).unwrap_or(i32::MAX),
            thumbnails,
            placeholder: rendition.map(|r| r.placeholder.clone()),
        })
    }
}

/// Loads the images of the entities of one response with one query per kind.
#[derive(Clone)]
pub struct ImageLoader {
    pub store: crate::store::Store,
    pub objects: Objects,
}

impl Loader<(Owner, String)> for ImageLoader {
    type Value = Image;
    type Error = Error;

    /// One query per kind of owner, and one for the renditions of their objects.
    async fn load(
        &self,
        keys: &[(Owner, String)],
    ) -> Result<HashMap<(Owner, String), Image>, Error> {
        let mut found = HashMap::with_capacity(keys.len());
        for owner in [Owner::Content, Owner::User] {
            let ids: Vec<String> = keys
                .iter()
                .filter(|(o, _)| *o == owner)
                .map(|(_, id)| id.clone())
                .collect();
            if ids.is_empty() {
                continue;
            }
            for (id, row) in self.store.images(owner, &ids).await? {
                found.insert((owner, id), row);
            }
        }
        let objects: Vec<&str> = found.values().map(|row| row.key.as_str()).collect();
        let renditions = if objects.is_empty() {
            HashMap::new()
        } else {
            self.store.renditions(&objects).await?
        };
        let mut images = HashMap::with_capacity(found.len());
        for (owner, row) in found {
            let rendition = renditions.get(&row.key);
            images.insert(owner, Image::new(row, rendition, &self.objects).await?);
        }
        Ok(images)
    }
}

async fn image_of(ctx: &Context<'_>, owner: Owner, id: &str) -> Result<Option<Image>> {
    let loader = ctx.data::<DataLoader<ImageLoader>>()?;
    Ok(loader.load_one((owner, id.to_owned())).await?)
}

// A content of the content subgraph (no doc comment: the description would become the
// public type's).
pub struct Content {
    pub id: ID,
}

#[Object]
impl Content {
    async fn id(&self) -> &ID {
        &self.id
    }

    /// The content's picture, if it has one.
    async fn image(&self, ctx: &Context<'_>) -> Result<Option<Image>> {
        image_of(ctx, Owner::Content, &self.id).await
    }
}

// A user of the users subgraph (no doc comment, as for `Content`).
pub struct User {
    pub id: ID,
}

#[Object]
impl User {
    async fn id(&self) -> &ID {
        &self.id
    }

    /// The user's picture, if they set one.
    async fn avatar(&self, ctx: &Context<'_>) -> Result<Option<Image>> {
        image_of(ctx, Owner::User, &self.id).await
    }
}

pub struct Query;

#[Object]
impl Query {
    #[graphql(entity)]
    async fn find_content_by_id(&self, id: ID) -> Content {
        Content { id }
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User { id }
    }
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// The author or an admin. JPEG, PNG, WebP or GIF (by content, whatever the file is
    /// called), at most 10 MiB and 40,000,000 pixels; anything else is BAD_USER_INPUT with
    /// extensions.field "file" (a body over the router's upload limit may instead be
    /// refused with HTTP 413 PAYLOAD_TOO_LARGE) and nothing is stored. Replaces a previous
    /// image.
    async fn set_content_image(
        &self,
        ctx: &Context<'_>,
        content_id: ID,
        file: Upload,
    ) -> Result<Content> {
        let state = ctx.data::<MediaState>()?;
        let id = may_change_content(ctx, state, &content_id).await?;
        let picture = read_picture(ctx, state, file).await?;
        let actor = ctx.data::<Viewer>()?.require_user()?;
        store(state, Owner::Content, id.as_str(), picture, actor.as_str()).await?;
        Ok(Content { id: content_id })
    }

    /// The author or an admin. True if there was an image.
    async fn remove_content_image(&self, ctx: &Context<'_>, content_id: ID) -> Result<bool> {
        let state = ctx.data::<MediaState>()?;
        let id = may_change_content(ctx, state, &content_id).await?;
        let (removed, unnamed) = state.store.remove(Owner::Content, id.as_str()).await?;
        delete_unnamed(&state.objects, unnamed).await;
        Ok(removed)
    }

    /// Signed in: the viewer's avatar, same rules as setContentImage.
    async fn set_avatar(&self, ctx: &Context<'_>, file: Upload) -> Result<User> {
        let state = ctx.data::<MediaState>()?;
        let viewer = ctx.data::<Viewer>()?.require_user()?;
        let picture = read_picture(ctx, state, file).await?;
        store(
            state,
            Owner::User,
            viewer.as_str(),
            picture,
            viewer.as_str(),
        )
        .await?;
        Ok(User {
            id: ID(viewer.into_string()),
        })
    }
}

/// The content `id` if the viewer may change its image: signed in, and its author or an
/// admin.
async fn may_change_content(ctx: &Context<'_>, state: &MediaState, id: &ID) -> Result<Id> {
    let viewer = ctx.data::<Viewer>()?;
    let viewer_id = viewer.require_user()?;
    let id = Id::parse(id).map_err(|_| Error::NotFound("content"))?;
    let content = lookup_content(&state.content, &id)
        .await?
        .ok_or(Error::NotFound("content"))?;
    if content.author_id != viewer_id && !viewer.is_admin {
        return Err(
            Error::forbidden("only the author or an admin may change a content's image").into(),
        );
    }
    Ok(id)
}

/// The upload, read and parsed off the async runtime.
async fn read_picture(ctx: &Context<'_>, state: &MediaState, file: Upload) -> Result<Picture> {
    let upload = file.value(ctx).map_err(Error::internal)?;
    let max = state.max_image_bytes;
    let parsed = tokio::task::spawn_blocking(move || {
        let mut raw = Vec::new();
        // One byte more than allowed is enough to refuse it.
        upload
            .into_read()
            .take(max as u64 + 1)
            .read_to_end(&mut raw)
            .map_err(Error::internal)?;
        Ok::<_, Error>(picture::parse(raw, max))
    })
    .await
    .map_err(Error::internal)??;
    parsed.map_err(|refusal| Error::validation("file", refusal.0).into())
}

/// Stores the object, then the row; deletes what the row replaced. A row refused (the
/// owner deleted meanwhile, say) leaves its object unnamed, and it goes at once.
async fn store(
    state: &MediaState,
    owner: Owner,
    owner_id: &str,
    picture: Picture,
    actor: &str,
) -> Result<()> {
    state
        .objects
        .put(&picture.key, picture.bytes.clone())
        .await?;
    let unnamed = match state.store.set(owner, owner_id, &picture, actor).await {
        Ok(unnamed) => unnamed,
        Err(e) => {
            if let Ok(false) = state.store.is_named(&picture.key).await {
                delete_unnamed(&state.objects, vec![picture.key]).await;
            }
            return Err(e.into());
        }
    };
    // Keys are shared by owners of the same picture: removing another owner's copy at
    // this very moment may have deleted the object between the put and the row; it is
    // put again if a row still names it (this owner's may be gone already: deleted with
    // its owner, whose removal deleted the object). A removal that commits before the
    // check after the put leaves the key unnamed there, and the object goes again; one
    // that commits later deletes it itself. (A removal whose delete lands after the first
    // check still can: its window is the few milliseconds between its commit and its
    // delete.)
    let key = &picture.key;
    if state.objects.written_at(key).await?.is_none() && state.store.is_named(key).await? {
        state.objects.put(key, picture.bytes).await?;
        if !state.store.is_named(key).await? {
            delete_unnamed(&state.objects, vec![key.clone()]).await;
        }
    }
    delete_unnamed(&state.objects, unnamed).await;
    Ok(())
}

/// Deletes objects no row names any more; one that fails is logged (and stays until a
/// sweep).
pub async fn delete_unnamed(objects: &Objects, keys: Vec<String>) {
    for key in keys {
        if let Err(e) = objects.delete(&key).await {
            tracing::warn!(error = %e.log_message(), "deleting an unused image failed");
        }
    }
}

/// The media subgraph's executable schema.
pub type MediaSchema = async_graphql::Schema<Query, Mutation, async_graphql::EmptySubscription>;

/// Builds the schema with federation (entities, `_service`) enabled.
pub fn build_schema(state: MediaState) -> MediaSchema {
    folio_common::kit::federated_schema(Query, Mutation, state)
}

/// The federation v2 SDL that the router composes, the same text `_service { sdl }`
/// serves; `subgraphs/media/schema.graphql` is its golden copy.
pub fn sdl() -> String {
    folio_common::graphql::federation_sdl(Query, Mutation)
}
