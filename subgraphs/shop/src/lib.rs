//! The shop subgraph: products, each signed-in user's cart, and orders whose stock stays
//! exact under concurrency.
//!
//! Layout (the same in every subgraph): `schema/` GraphQL types and thin resolvers,
//! `domain/` validated inputs, `store/` sea-orm queries (and how stock stays exact),
//! `consumer` the events it follows. [`SUBGRAPH`] declares it to the platform
//! (`folio_common::kit`).

pub mod consumer;
pub mod domain;
pub mod schema;
pub mod store;

use async_graphql::dataloader::DataLoader;
use domain::Currency;
use folio_common::Config;
use folio_common::kit::{Built, EventConsumer, Opened, Subgraph};
use folio_migrations::MigratorTrait;
use schema::ShopLoader;
use store::Store;

/// The shop subgraph, as the platform starts it.
pub const SUBGRAPH: Subgraph = Subgraph {
    name: "shop",
    port: 4005,
    sqlite_page_size: folio_common::db::SQLITE_PAGE_SIZE,
    migrate: |db| folio_migrations::shop::Migrator::up(db, None),
    build: |cfg, opened| Box::pin(build(cfg, opened)),
};

/// What the shop subgraph's resolvers share (cheap to clone).
#[derive(Clone)]
pub struct ShopState {
    pub store: Store,
    /// The shop's currency (`FOLIO_SHOP_CURRENCY`): every price is in it.
    pub currency: Currency,
}

async fn build(cfg: &Config, opened: Opened) -> anyhow::Result<Built> {
    let currency = Currency::configured(&cfg.shop_currency).map_err(anyhow::Error::msg)?;
    let store = Store::new(opened.db);
    let state = ShopState {
        store: store.clone(),
        currency,
    };
    let loaders = store.clone();
    let app = folio_common::kit::graphql_app(
        schema::build_schema(state),
        opened.identity,
        move |req, _viewer| {
            req.data(DataLoader::new(
                ShopLoader::new(loaders.clone()),
                tokio::spawn,
            ))
        },
    );
    Ok(Built {
        app,
        db: (*store).clone(),
        consumer: Some(EventConsumer::new(
            &consumer::KINDS,
            store,
            |store, tx, payloads| Box::pin(consumer::apply(store, tx, payloads)),
        )),
        expiring: Vec::new(),
        fill: None,
    })
}
