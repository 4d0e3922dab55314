//! The catalog of every event Folio emits: its type (the wire `type` string and the
//! service that publishes it) and its payload (the wire `data`), as Rust types.
//!
//! Producers build a [`Payload`] and record it with
//! [`Outbox::emit`](super::outbox::Outbox::emit); consumers get a decoded [`Payload`]
//! and `match` on it. Changing a payload struct therefore changes every producer and
//! consumer of it at compile time, and the JSON stays what these structs say.
//!
//! | `type` | published by | `data` |
//! |---|---|---|
//! | `user.created`, `user.updated` | users | [`UserData`]: `{id, firstName, lastName, isAdmin, createdAt, updatedAt}` |
//! | `user.password_changed` | users | [`PasswordChanged`]: `{id}` (that it changed, never what to) |
//! | `user.deleted` | users | [`UserDeleted`]: `{id}` |
//! | `user.followed`, `user.unfollowed` | users | [`FollowData`]: `{followerId, followeeId}` |
//! | `user.blocked`, `user.unblocked` | users | [`BlockData`]: `{blockerId, blockedId}` |
//! | `content.created`, `content.updated` | content | [`ContentData`]: `{id, authorId, title, description, story, tags, publishedAt, updatedAt}` |
//! | `content.imported` | content | [`ContentsImported`]: `{contents: [ContentData…]}` (a CSV import's contents, a chunk per event) |
//! | `content.deleted` | content | [`ContentDeleted`]: `{id}` |
//! | `interaction.created`, `interaction.deleted` | interactions | [`InteractionData`]: `{id, kind, userId, contentId, createdAt}` |
//! | `comment.created`, `comment.updated` | interactions | [`CommentData`]: `{id, contentId, authorId, body, createdAt, updatedAt}` |
//! | `comment.deleted` | interactions | [`CommentDeleted`]: `{id, contentId}` |
//! | `product.created`, `product.updated` | shop | [`ProductData`]: `{id, name, description, priceAmount, currency, stock, active, createdAt, updatedAt}` |
//! | `product.deleted` | shop | [`ProductDeleted`]: `{id}` |
//! | `cart.updated` | shop | [`CartData`]: `{userId, items: [{productId, quantity}], updatedAt}` (the cart after the change) |
//! | `image.stored` | media | [`ImageStored`]: `{key}` (a new picture's object, whose thumbnails are to be made) |
//! | `order.placed`, `order.cancelled` | shop | [`OrderData`]: `{id, buyerId, items: [{productId, quantity, unitAmount}], totalAmount, currency, status, placedAt}` |
//!
//! Times are RFC 3339 in UTC with milliseconds (`2026-11-23T20:41:22.123Z`). User
//! payloads carry the public profile only (no email, phone, address or credential);
//! content payloads carry the story (search indexes it) but not the view count. Types
//! that describe the same entity after a change share one payload struct, so they cannot
//! drift apart.

use super::rfc3339;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `user.created`, `user.updated`: the user's public profile after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserData {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub is_admin: bool,
    #[serde(with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// `user.password_changed`: whose password changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChanged {
    pub id: String,
}

/// `user.deleted`: the user that is gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDeleted {
    pub id: String,
}

/// `user.followed`, `user.unfollowed`: who follows (or stopped following) whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowData {
    pub follower_id: String,
    pub followee_id: String,
}

/// `user.blocked`, `user.unblocked`: who blocks (or stopped blocking) whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockData {
    pub blocker_id: String,
    pub blocked_id: String,
}

/// `content.created`, `content.updated`: the content after the change, with its story
/// (the search subgraph indexes it) but not its view count (views are reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentData {
    pub id: String,
    pub author_id: String,
    pub title: String,
    /// `null` on the wire when there is none (the key is always present).
    pub description: Option<String>,
    pub story: String,
    pub tags: Vec<String>,
    #[serde(with = "rfc3339")]
    pub published_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// `content.imported`: contents a CSV import published, as many per event as fit in
/// about [`ContentsImported::TARGET_BYTES`] of JSON (always at least one). A consumer
/// treats each as a `content.created`; one event per chunk instead of per row is what
/// lets a million-row import be written, relayed and consumed in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentsImported {
    pub contents: Vec<ContentData>,
}

impl ContentsImported {
    /// The size a producer fills an event up to (well under NATS's 1 MiB message limit,
    /// even with a story of the longest kind, 100,000 characters, as the last one).
    pub const TARGET_BYTES: usize = 128 * 1024;

    /// About how many bytes a content adds to the event's JSON, from its parts: its id,
    /// author id, title, description and story (`texts`), and its tags, plus the keys,
    /// quotes and times around them; escapes are not counted.
    pub fn weight<'a>(texts: [&str; 5], tags: impl IntoIterator<Item = &'a str>) -> usize {
        const FIXED: usize = 200;
        FIXED
            + texts.iter().map(|t| t.len()).sum::<usize>()
            + tags.into_iter().map(|t| t.len() + 3).sum::<usize>()
    }
}

/// How the content outbox records a `content.imported` event: the ids of its contents,
/// in order (`outbox::Outbox::prepare_claims`). The content service's relay publishes
/// the [`ContentsImported`] event it stands for, with those contents as they are then
/// (one deleted since is left out: its `content.deleted` follows), so that an import
/// writes each content once rather than twice. Never on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentsImportedClaim {
    pub content_ids: Vec<String>,
}

/// `content.deleted`: the content that is gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentDeleted {
    pub id: String,
}

/// `interaction.created`, `interaction.deleted`: the read or like, as it was stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InteractionData {
    pub id: String,
    /// `READ` or `LIKE`, as the interactions subgraph stores it.
    pub kind: String,
    pub user_id: String,
    pub content_id: String,
    #[serde(with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// `comment.created`, `comment.updated`: the comment after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentData {
    pub id: String,
    pub content_id: String,
    pub author_id: String,
    pub body: String,
    #[serde(with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// `comment.deleted`: the comment that is gone, and the content it was on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentDeleted {
    pub id: String,
    pub content_id: String,
}

/// `product.created`, `product.updated`: the product after the change (stock included;
/// a checkout or a cancellation moves stock without a product event: its order event
/// says by how much).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductData {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// Minor units of `currency`.
    pub price_amount: i64,
    pub currency: String,
    pub stock: i64,
    pub active: bool,
    #[serde(with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// `product.deleted`: the product that is gone (it was in no cart and no order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductDeleted {
    pub id: String,
}

/// `image.stored`: an object a picture was stored as, not rendered yet (its thumbnails
/// and placeholder are made in the background).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageStored {
    pub key: String,
}

/// One line of a cart, as `cart.updated` carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartLine {
    pub product_id: String,
    pub quantity: i64,
}

/// `cart.updated`: a user's cart after a change (empty after `clearCart` or a checkout).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartData {
    pub user_id: String,
    pub items: Vec<CartLine>,
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// One line of an order, with the price it was sold at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub product_id: String,
    pub quantity: i64,
    pub unit_amount: i64,
}

/// `order.placed`, `order.cancelled`: the order after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderData {
    pub id: String,
    /// `null` once the buyer's account is deleted.
    pub buyer_id: Option<String>,
    pub items: Vec<OrderLine>,
    pub total_amount: i64,
    pub currency: String,
    /// `PLACED` or `CANCELLED`.
    pub status: String,
    #[serde(with = "rfc3339")]
    pub placed_at: DateTime<Utc>,
}

/// Writes [`EventType`] and [`Payload`] from one list, so that a type, its wire string,
/// its publishing service and its payload struct are stated once and cannot disagree.
macro_rules! catalog {
    ($($(#[$doc:meta])* $variant:ident($payload:ty) = $wire:literal by $service:literal;)*) => {
        /// Every type of event Folio emits.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($(#[$doc])* $variant,)*
        }

        impl EventType {
            /// Every type, in catalog order.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),*];

            /// The wire `type` string, e.g. `user.deleted`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $wire,)*
                }
            }

            /// The service that publishes events of this type (the only one whose outbox
            /// may hold them): `users`, `content`, `interactions` or `shop`.
            pub const fn service(self) -> &'static str {
                match self {
                    $(EventType::$variant => $service,)*
                }
            }

            /// The type a wire `type` string names, if the catalog has it.
            pub fn from_wire(kind: &str) -> Option<Self> {
                match kind {
                    $($wire => Some(EventType::$variant),)*
                    _ => None,
                }
            }
        }

        /// One event's payload: its type and its `data`, typed.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Payload {
            $($(#[$doc])* $variant($payload),)*
        }

        impl Payload {
            /// The type of this payload.
            pub const fn event_type(&self) -> EventType {
                match self {
                    $(Payload::$variant(_) => EventType::$variant,)*
                }
            }

            /// Writes the wire `data` of this payload straight to `s`.
            pub(super) fn serialize_data<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                match self {
                    $(Payload::$variant(p) => serde::Serialize::serialize(p, s),)*
                }
            }

            /// The payload of an event of type `kind` with wire `data` (its JSON text,
            /// decoded straight into the type's struct).
            pub(super) fn from_data(kind: EventType, data: &str) -> serde_json::Result<Self> {
                match kind {
                    $(EventType::$variant => serde_json::from_str::<$payload>(data).map(Payload::$variant),)*
                }
            }
        }
    };
}

catalog! {
    /// A user registered (or was created by an operator or an import).
    UserCreated(UserData) = "user.created" by "users";
    /// A user's profile or admin flag changed.
    UserUpdated(UserData) = "user.updated" by "users";
    /// A user's password changed.
    UserPasswordChanged(PasswordChanged) = "user.password_changed" by "users";
    /// A user was deleted; the other services remove what the user had there.
    UserDeleted(UserDeleted) = "user.deleted" by "users";
    /// A user followed another.
    UserFollowed(FollowData) = "user.followed" by "users";
    /// A user stopped following another.
    UserUnfollowed(FollowData) = "user.unfollowed" by "users";
    /// A user blocked another.
    UserBlocked(BlockData) = "user.blocked" by "users";
    /// A user lifted a block.
    UserUnblocked(BlockData) = "user.unblocked" by "users";
    /// A content was published.
    ContentCreated(ContentData) = "content.created" by "content";
    /// Contents were published by a CSV import (a chunk of its rows per event).
    ContentImported(ContentsImported) = "content.imported" by "content";
    /// A content was edited.
    ContentUpdated(ContentData) = "content.updated" by "content";
    /// A content was deleted; the interactions subgraph forgets it.
    ContentDeleted(ContentDeleted) = "content.deleted" by "content";
    /// A user read or liked a content.
    InteractionCreated(InteractionData) = "interaction.created" by "interactions";
    /// A like was withdrawn, or an interaction went with its user or content.
    InteractionDeleted(InteractionData) = "interaction.deleted" by "interactions";
    /// A comment was added.
    CommentCreated(CommentData) = "comment.created" by "interactions";
    /// A comment was edited.
    CommentUpdated(CommentData) = "comment.updated" by "interactions";
    /// A comment was deleted, or went with its user or content.
    CommentDeleted(CommentDeleted) = "comment.deleted" by "interactions";
    /// An admin added a product to the shop.
    ProductCreated(ProductData) = "product.created" by "shop";
    /// A product was edited, or deactivated instead of deleted.
    ProductUpdated(ProductData) = "product.updated" by "shop";
    /// A product that was in no cart and no order was deleted.
    ProductDeleted(ProductDeleted) = "product.deleted" by "shop";
    /// A user's cart changed.
    CartUpdated(CartData) = "cart.updated" by "shop";
    /// A checkout turned a cart into an order.
    OrderPlaced(OrderData) = "order.placed" by "shop";
    /// An order was cancelled; its stock returned.
    OrderCancelled(OrderData) = "order.cancelled" by "shop";
    /// A picture was stored; its thumbnails are to be made.
    ImageStored(ImageStored) = "image.stored" by "media";
}

impl Payload {
    /// The wire `type` string of this payload, e.g. `user.deleted`.
    pub const fn kind(&self) -> &'static str {
        self.event_type().as_str()
    }
}

impl EventType {
    /// The subject events of this type travel on: `<prefix>.<service>.<type>`, e.g.
    /// `folio.users.user.created`.
    pub fn subject(self, prefix: &str) -> String {
        format!("{prefix}.{}.{}", self.service(), self.as_str())
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Event;
    use super::*;
    use serde_json::{Value, json};

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a time")
            .with_timezone(&Utc)
    }

    fn user() -> UserData {
        UserData {
            id: "u1".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            is_admin: false,
            created_at: at("2026-01-02T03:04:05.678Z"),
            updated_at: at("2026-01-03T03:04:05.000Z"),
        }
    }

    fn user_json() -> Value {
        json!({
            "id": "u1",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "isAdmin": false,
            "createdAt": "2026-01-02T03:04:05.678Z",
            "updatedAt": "2026-01-03T03:04:05.000Z",
        })
    }

    fn content(description: Option<&str>) -> ContentData {
        ContentData {
            id: "c1".into(),
            author_id: "u1".into(),
            title: "T".into(),
            description: description.map(str::to_owned),
            story: "S".into(),
            tags: vec!["rust".into(), "web".into()],
            published_at: at("2026-01-02T03:04:05.678Z"),
            updated_at: at("2026-01-02T03:04:05.678Z"),
        }
    }

    fn content_json(description: Value) -> Value {
        json!({
            "id": "c1",
            "authorId": "u1",
            "title": "T",
            "description": description,
            "story": "S",
            "tags": ["rust", "web"],
            "publishedAt": "2026-01-02T03:04:05.678Z",
            "updatedAt": "2026-01-02T03:04:05.678Z",
        })
    }

    fn interaction() -> InteractionData {
        InteractionData {
            id: "i1".into(),
            kind: "LIKE".into(),
            user_id: "u2".into(),
            content_id: "c1".into(),
            created_at: at("2026-01-02T03:04:05.678Z"),
        }
    }

    fn interaction_json() -> Value {
        json!({
            "id": "i1",
            "kind": "LIKE",
            "userId": "u2",
            "contentId": "c1",
            "createdAt": "2026-01-02T03:04:05.678Z",
        })
    }

    fn comment() -> CommentData {
        CommentData {
            id: "m1".into(),
            content_id: "c1".into(),
            author_id: "u2".into(),
            body: "Nice".into(),
            created_at: at("2026-01-02T03:04:05.678Z"),
            updated_at: at("2026-01-02T03:04:06.000Z"),
        }
    }

    fn comment_json() -> Value {
        json!({
            "id": "m1",
            "contentId": "c1",
            "authorId": "u2",
            "body": "Nice",
            "createdAt": "2026-01-02T03:04:05.678Z",
            "updatedAt": "2026-01-02T03:04:06.000Z",
        })
    }

    /// Every type with a payload and the exact `data` the wire format had for it before
    /// the catalog (the `json!` the stores wrote), keys and values.
    fn table() -> Vec<(&'static str, Payload, Value)> {
        let follow = || FollowData {
            follower_id: "u1".into(),
            followee_id: "u2".into(),
        };
        let follow_json = json!({ "followerId": "u1", "followeeId": "u2" });
        let block = || BlockData {
            blocker_id: "u1".into(),
            blocked_id: "u2".into(),
        };
        let block_json = json!({ "blockerId": "u1", "blockedId": "u2" });
        vec![
            ("user.created", Payload::UserCreated(user()), user_json()),
            ("user.updated", Payload::UserUpdated(user()), user_json()),
            (
                "user.password_changed",
                Payload::UserPasswordChanged(PasswordChanged { id: "u1".into() }),
                json!({ "id": "u1" }),
            ),
            (
                "user.deleted",
                Payload::UserDeleted(UserDeleted { id: "u1".into() }),
                json!({ "id": "u1" }),
            ),
            (
                "user.followed",
                Payload::UserFollowed(follow()),
                follow_json.clone(),
            ),
            (
                "user.unfollowed",
                Payload::UserUnfollowed(follow()),
                follow_json,
            ),
            (
                "user.blocked",
                Payload::UserBlocked(block()),
                block_json.clone(),
            ),
            (
                "user.unblocked",
                Payload::UserUnblocked(block()),
                block_json,
            ),
            (
                "content.created",
                Payload::ContentCreated(content(None)),
                content_json(Value::Null),
            ),
            (
                "content.updated",
                Payload::ContentUpdated(content(Some("D"))),
                content_json(json!("D")),
            ),
            (
                "content.imported",
                Payload::ContentImported(ContentsImported {
                    contents: vec![content(None), content(Some("D"))],
                }),
                json!({ "contents": [content_json(Value::Null), content_json(json!("D"))] }),
            ),
            (
                "content.deleted",
                Payload::ContentDeleted(ContentDeleted { id: "c1".into() }),
                json!({ "id": "c1" }),
            ),
            (
                "interaction.created",
                Payload::InteractionCreated(interaction()),
                interaction_json(),
            ),
            (
                "interaction.deleted",
                Payload::InteractionDeleted(interaction()),
                interaction_json(),
            ),
            (
                "comment.created",
                Payload::CommentCreated(comment()),
                comment_json(),
            ),
            (
                "comment.updated",
                Payload::CommentUpdated(comment()),
                comment_json(),
            ),
            (
                "comment.deleted",
                Payload::CommentDeleted(CommentDeleted {
                    id: "m1".into(),
                    content_id: "c1".into(),
                }),
                json!({ "id": "m1", "contentId": "c1" }),
            ),
            (
                "product.created",
                Payload::ProductCreated(product()),
                product_json(),
            ),
            (
                "product.updated",
                Payload::ProductUpdated(product()),
                product_json(),
            ),
            (
                "product.deleted",
                Payload::ProductDeleted(ProductDeleted { id: "p1".into() }),
                json!({ "id": "p1" }),
            ),
            (
                "image.stored",
                Payload::ImageStored(ImageStored {
                    key: "ab.jpg".into(),
                }),
                json!({ "key": "ab.jpg" }),
            ),
            (
                "cart.updated",
                Payload::CartUpdated(CartData {
                    user_id: "u2".into(),
                    items: vec![CartLine {
                        product_id: "p1".into(),
                        quantity: 3,
                    }],
                    updated_at: at("2026-01-02T03:04:05.678Z"),
                }),
                json!({
                    "userId": "u2",
                    "items": [{ "productId": "p1", "quantity": 3 }],
                    "updatedAt": "2026-01-02T03:04:05.678Z",
                }),
            ),
            (
                "order.placed",
                Payload::OrderPlaced(order(Some("u2"))),
                order_json(json!("u2")),
            ),
            (
                "order.cancelled",
                Payload::OrderCancelled(order(None)),
                order_json(Value::Null),
            ),
        ]
    }

    fn product() -> ProductData {
        ProductData {
            id: "p1".into(),
            name: "Mug".into(),
            description: None,
            price_amount: 1999,
            currency: "EUR".into(),
            stock: 7,
            active: true,
            created_at: at("2026-01-02T03:04:05.678Z"),
            updated_at: at("2026-01-02T03:04:05.678Z"),
        }
    }

    fn product_json() -> Value {
        json!({
            "id": "p1",
            "name": "Mug",
            "description": null,
            "priceAmount": 1999,
            "currency": "EUR",
            "stock": 7,
            "active": true,
            "createdAt": "2026-01-02T03:04:05.678Z",
            "updatedAt": "2026-01-02T03:04:05.678Z",
        })
    }

    fn order(buyer: Option<&str>) -> OrderData {
        OrderData {
            id: "o1".into(),
            buyer_id: buyer.map(str::to_owned),
            items: vec![OrderLine {
                product_id: "p1".into(),
                quantity: 2,
                unit_amount: 1999,
            }],
            total_amount: 3998,
            currency: "EUR".into(),
            status: "PLACED".into(),
            placed_at: at("2026-01-02T03:04:05.678Z"),
        }
    }

    fn order_json(buyer: Value) -> Value {
        json!({
            "id": "o1",
            "buyerId": buyer,
            "items": [{ "productId": "p1", "quantity": 2, "unitAmount": 1999 }],
            "totalAmount": 3998,
            "currency": "EUR",
            "status": "PLACED",
            "placedAt": "2026-01-02T03:04:05.678Z",
        })
    }

    #[test]
    fn every_type_is_in_the_table_once() {
        let table = table();
        assert_eq!(table.len(), EventType::ALL.len());
        for t in EventType::ALL {
            let rows = table
                .iter()
                .filter(|(_, p, _)| p.event_type() == *t)
                .count();
            assert_eq!(rows, 1, "{t}");
        }
    }

    #[test]
    fn every_payload_has_the_wire_json_and_round_trips() {
        for (kind, payload, data) in table() {
            assert_eq!(payload.kind(), kind);
            let event = Event::new(Some("u9"), payload.clone()).expect("an event");
            assert_eq!(event.kind, kind);
            assert_eq!(event.data.value(), data, "{kind}");
            // Through the text that travels (NATS, the outbox, `folio events tail`).
            let text = serde_json::to_string(&event).expect("json");
            let back: Event = serde_json::from_str(&text).expect("an event back");
            assert_eq!(back.payload().expect("decodes"), payload, "{kind}");
        }
    }

    #[test]
    fn types_know_their_wire_string_and_service() {
        for t in EventType::ALL {
            assert_eq!(EventType::from_wire(t.as_str()), Some(*t));
            // The entity word of the type names the publishing service.
            let entity = t.as_str().split('.').next().expect("a word");
            let service = match entity {
                "user" => "users",
                "content" => "content",
                "product" | "cart" | "order" => "shop",
                "image" => "media",
                _ => "interactions",
            };
            assert_eq!(t.service(), service, "{t}");
            assert_eq!(
                t.subject("folio"),
                format!("folio.{service}.{}", t.as_str())
            );
        }
        assert_eq!(EventType::from_wire("user.renamed"), None);
    }

    #[test]
    fn no_payload_names_a_secret() {
        for (kind, _, data) in table() {
            for key in data.as_object().expect("an object").keys() {
                let key = key.to_ascii_lowercase();
                for secret in ["password", "hash", "token", "email", "phone", "address"] {
                    assert!(!key.contains(secret), "{kind} carries {key}");
                }
            }
        }
    }
}
