//! sea-orm entities of the content database. These are storage rows, never GraphQL types.

pub mod contents {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "contents")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// A user of the users subgraph (no foreign key across databases).
        pub author_id: String,
        pub title: String,
        pub description: Option<String>,
        pub story: String,
        /// Lower-case tags between bars: `|rust|web|`, or `|` for none.
        pub tags: String,
        pub view_count: i64,
        pub published_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    impl Model {
        /// The tags as a list, in their stored order.
        pub fn tag_list(&self) -> Vec<String> {
            super::super::split_tags(&self.tags)
        }
    }
}
