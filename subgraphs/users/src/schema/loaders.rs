//! Per-request batch loaders: every field that a list of users asks for is one query.

use crate::store::social::Direction;
use crate::store::{Store, UserRow};
use async_graphql::dataloader::Loader;
use folio_common::{Error, Id};
use std::collections::HashMap;

/// Batches the users subgraph's lookups within one request.
pub struct UsersLoader {
    store: Store,
    viewer: Option<Id>,
}

impl UsersLoader {
    pub fn new(store: Store, viewer: Option<Id>) -> Self {
        UsersLoader { store, viewer }
    }
}

/// A user by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserKey(pub Id);

/// How many followers (or followed users) a user has.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CountKey(pub Direction, pub Id);

/// Whether the viewer follows a user.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ViewerFollows(pub Id);

/// The ids whose content a user's feed shows: followed users, minus blocks either way.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FeedAuthors(pub Id);

impl Loader<FeedAuthors> for UsersLoader {
    type Value = Vec<String>;
    type Error = Error;

    async fn load(&self, keys: &[FeedAuthors]) -> Result<HashMap<FeedAuthors, Vec<String>>, Error> {
        let ids: Vec<Id> = keys.iter().map(|k| k.0.clone()).collect();
        let mut authors = self.store.feed_authors(&ids).await?;
        Ok(keys
            .iter()
            .filter_map(|k| authors.remove(k.0.as_str()).map(|a| (k.clone(), a)))
            .collect())
    }
}

impl Loader<UserKey> for UsersLoader {
    type Value = UserRow;
    type Error = Error;

    async fn load(&self, keys: &[UserKey]) -> Result<HashMap<UserKey, UserRow>, Error> {
        let ids: Vec<Id> = keys.iter().map(|k| k.0.clone()).collect();
        let mut rows = self.store.users_by_ids(&ids).await?;
        Ok(keys
            .iter()
            .filter_map(|k| rows.remove(k.0.as_str()).map(|u| (k.clone(), u)))
            .collect())
    }
}

impl Loader<CountKey> for UsersLoader {
    type Value = i64;
    type Error = Error;

    async fn load(&self, keys: &[CountKey]) -> Result<HashMap<CountKey, i64>, Error> {
        let mut out = HashMap::with_capacity(keys.len());
        for direction in [Direction::Followers, Direction::Following] {
            let ids: Vec<Id> = keys
                .iter()
                .filter(|k| k.0 == direction)
                .map(|k| k.1.clone())
                .collect();
            if ids.is_empty() {
                continue;
            }
            let counts = self.store.follow_counts(direction, &ids).await?;
            for id in ids {
                let n = counts.get(id.as_str()).copied().unwrap_or(0);
                out.insert(CountKey(direction, id), n);
            }
        }
        Ok(out)
    }
}

impl Loader<ViewerFollows> for UsersLoader {
    type Value = bool;
    type Error = Error;

    async fn load(&self, keys: &[ViewerFollows]) -> Result<HashMap<ViewerFollows, bool>, Error> {
        let Some(viewer) = &self.viewer else {
            return Ok(keys.iter().map(|k| (k.clone(), false)).collect());
        };
        let ids: Vec<Id> = keys.iter().map(|k| k.0.clone()).collect();
        let followed = self.store.followed_among(viewer, &ids).await?;
        Ok(ids
            .into_iter()
            .map(|id| {
                let f = followed.contains(id.as_str());
                (ViewerFollows(id), f)
            })
            .collect())
    }
}
