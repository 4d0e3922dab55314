//! `Interaction` (a READ or LIKE) and `ContentScore` (a line of the ranking).

use super::content::Content;
use super::count as int;
use super::user::User;
use crate::domain::Kind;
use crate::store::{InteractionRow, StatsRow};
use async_graphql::{ID, Object};
use folio_common::DateTime;

/// A READ or LIKE of a content by a user.
pub struct Interaction {
    row: InteractionRow,
    kind: Kind,
}

impl Interaction {
    pub fn new(row: InteractionRow, kind: Kind) -> Self {
        Interaction { row, kind }
    }
}

#[Object]
impl Interaction {
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }
    async fn kind(&self) -> Kind {
        self.kind
    }
    async fn user(&self) -> User {
        User::reference(self.row.user_id.clone())
    }
    async fn content(&self) -> Content {
        Content::reference(self.row.content_id.clone())
    }
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }
}

/// A content's place in a ranking.
pub struct ContentScore {
    row: StatsRow,
}

impl ContentScore {
    pub fn new(row: StatsRow) -> Self {
        ContentScore { row }
    }
}

#[Object]
impl ContentScore {
    async fn content(&self) -> Content {
        Content::reference(self.row.content_id.clone())
    }
    async fn reads(&self) -> i32 {
        int(self.row.reads)
    }
    async fn likes(&self) -> i32 {
        int(self.row.likes)
    }
    async fn total(&self) -> i32 {
        int(self.row.total)
    }
}
