//! Whose a content is: asked of the content subgraph over GraphQL (`_entities` with a
//! `Content` representation) when its image changes, so an upload right after
//! `createContent` never races an event. The media subgraph never reads the content
//! database.

use folio_common::{Error, Id, Result, ServiceClient};
use serde::Deserialize;
use serde_json::json;

const LOOKUP: &str = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Content { id author { id } } } }";

/// Answers "whose is this content".
#[derive(Clone, Debug)]
pub struct ContentDirectory {
    content: ServiceClient,
}

#[derive(Deserialize)]
struct Lookup {
    #[serde(rename = "_entities")]
    entities: Vec<Option<Found>>,
}

#[derive(Deserialize)]
struct Found {
    id: String,
    author: AuthorRef,
}

#[derive(Deserialize)]
struct AuthorRef {
    id: String,
}

impl ContentDirectory {
    pub fn new(content: ServiceClient) -> Self {
        ContentDirectory { content }
    }

    /// The author of content `id`: `NOT_FOUND` when it does not exist,
    /// `SUBGRAPH_UNAVAILABLE` when the content subgraph cannot say.
    pub async fn author_of(&self, id: &Id) -> Result<Id> {
        let answer: Lookup = self
            .content
            .query(
                LOOKUP,
                json!({ "r": [{ "__typename": "Content", "id": id.as_str() }] }),
            )
            .await?;
        let Some(Some(found)) = answer.entities.into_iter().next() else {
            return Err(Error::NotFound("content"));
        };
        if found.id != *id {
            return Err(Error::internal(
                "the content subgraph answered for another id",
            ));
        }
        Id::try_from(found.author.id).map_err(|_| {
            Error::internal("the content subgraph answered with an author id no user can have")
        })
    }
}
