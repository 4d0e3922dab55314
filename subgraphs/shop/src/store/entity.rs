//! sea-orm entities of the shop database. These are storage rows, never GraphQL types.

pub mod products {
    use sea_orm::entity::prelude::*;

    /// A product of the catalogue.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "products")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub name: String,
        /// `name` lower-cased, for `search`.
        pub name_key: String,
        pub description: Option<String>,
        /// Minor units of `currency`.
        pub price_amount: i64,
        pub currency: String,
        /// Never negative.
        pub stock: i64,
        pub active: bool,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod carts {
    use sea_orm::entity::prelude::*;

    /// A user's cart, once something was added to it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "carts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod cart_items {
    use sea_orm::entity::prelude::*;

    /// A product in a user's cart.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cart_items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub product_id: String,
        /// 1 to 99.
        pub quantity: i32,
        pub added_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod orders {
    use sea_orm::entity::prelude::*;

    /// What a checkout sold.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// `None` once the buyer's account is deleted.
        pub buyer_id: Option<String>,
        pub total_amount: i64,
        pub currency: String,
        /// `PLACED` or `CANCELLED`.
        pub status: String,
        pub placed_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod order_items {
    use sea_orm::entity::prelude::*;

    /// One line of an order, with the price it was sold at.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub order_id: String,
        /// The line's place in the order (the cart's order: oldest added first).
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub product_id: String,
        pub quantity: i32,
        pub unit_amount: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
