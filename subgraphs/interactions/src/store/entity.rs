//! sea-orm entities of the interactions database. These are storage rows, never GraphQL
//! types.

pub mod content_stats {
    use sea_orm::entity::prelude::*;

    /// A content this subgraph knows exists, with its counters.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "content_stats")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub content_id: String,
        /// The content's author (a user of the users subgraph), for `deleteComment`.
        pub author_id: String,
        /// The content's publication time: rankings put newer content first on ties.
        pub published_at: DateTimeUtc,
        /// Distinct readers (one READ per user).
        pub reads: i64,
        pub likes: i64,
        /// `reads + likes`.
        pub total: i64,
        pub comments: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod interactions {
    use sea_orm::entity::prelude::*;

    /// One READ or LIKE of a content by a user.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "interactions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub content_id: String,
        pub user_id: String,
        /// `READ` or `LIKE` ([`crate::domain::Kind::as_str`]).
        pub kind: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod comments {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "comments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub content_id: String,
        pub author_id: String,
        pub body: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
