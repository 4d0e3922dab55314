//! The router's executor on the small fixture supergraphs of `router/src/plan/fixtures/`
//! (covariant interface fields, `@requires` with arguments, `@inaccessible` values and
//! types, null keys, side effects), each in front of subgraphs made for the test (the
//! test kit's scripted subgraphs): async-graphql schemas where the behaviour under test
//! is the router's, and closures from the request to the response where a subgraph must
//! answer what a well-behaved server never would.

use async_graphql::{EmptyMutation, EmptySubscription, Schema};
use folio_testkit::subgraphs::scripted::{
    Handler, Subgraphs, entities, schema_handler, spawn, spawn_slow,
};
use folio_testkit::subgraphs::{error_codes, fixture};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// @requires on a field with arguments

mod prices {
    use async_graphql::{ComplexObject, Context, Enum, ID, Object, SimpleObject};

    #[derive(Enum, Copy, Clone, PartialEq, Eq)]
    pub enum Currency {
        Usd,
        Eur,
    }

    #[derive(SimpleObject)]
    #[graphql(complex)]
    pub struct Product {
        pub id: ID,
        pub name: String,
    }

    #[ComplexObject]
    impl Product {
        /// 12 dollars or 10 euros, whatever the product.
        async fn price(&self, currency: Currency) -> f64 {
            match currency {
                Currency::Usd => 12.0,
                Currency::Eur => 10.0,
            }
        }
    }

    fn lamp(id: &str) -> Product {
        Product {
            id: ID(id.to_owned()),
            name: format!("Lamp {id}"),
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn product(&self, id: ID) -> Option<Product> {
            Some(lamp(&id))
        }

        async fn products(&self) -> Vec<Product> {
            vec![lamp("1"), lamp("2")]
        }

        #[graphql(entity)]
        async fn find_product_by_id(&self, _ctx: &Context<'_>, id: ID) -> Option<Product> {
            Some(lamp(&id))
        }
    }
}

mod shipping {
    use async_graphql::{ID, Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct Product {
        pub id: ID,
        /// 10% of the euro price the representation carries.
        pub shipping_estimate: f64,
    }

    pub struct Query;

    #[Object]
    impl Query {
        /// The representation must carry `price`: the euro price the field requires.
        #[graphql(entity)]
        async fn find_product(&self, id: ID, price: f64) -> Product {
            Product {
                id,
                shipping_estimate: price / 10.0,
            }
        }
    }
}

async fn requires_args_subgraphs() -> Subgraphs {
    let prices = Schema::build(prices::Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    let shipping = Schema::build(shipping::Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    spawn(vec![
        ("prices", schema_handler(prices)),
        ("shipping", schema_handler(shipping)),
    ])
    .await
}

#[tokio::test]
async fn a_required_field_with_other_arguments_sends_the_planners_value() {
    let subgraphs = requires_args_subgraphs().await;
    let body = subgraphs
        .run(
            &fixture("requires_args"),
            "{ product(id: \"1\") { name price(currency: USD) shippingEstimate } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    // The client sees its dollar price; shipping was computed from the euro price.
    assert_eq!(
        body["data"],
        json!({ "product": { "name": "Lamp 1", "price": 12.0, "shippingEstimate": 1.0 } })
    );
    assert_eq!(
        subgraphs.representations("shipping"),
        [json!([{ "__typename": "Product", "price": 10.0, "id": "1" }])]
    );
}

#[tokio::test]
async fn a_required_field_with_the_clients_arguments_is_read_as_is() {
    let subgraphs = requires_args_subgraphs().await;
    let body = subgraphs
        .run(
            &fixture("requires_args"),
            "{ products { id euro: price(currency: EUR) shippingEstimate } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["products"],
        json!([
            { "id": "1", "euro": 10.0, "shippingEstimate": 1.0 },
            { "id": "2", "euro": 10.0, "shippingEstimate": 1.0 },
        ])
    );
}

// ---------------------------------------------------------------------------------------
// @inaccessible enum values and object types

/// The library answers with values the API schema hides: book b2 is `WITHDRAWN`, item a1
/// is an `Archive`; loans answers every book.
async fn library_subgraphs() -> Subgraphs {
    let book = |id: &str, status: &str, former: Value, statuses: Value| {
        json!({ "__typename": "Book", "id": id, "title": format!("Title {id}"),
                "status": status, "formerStatus": former, "statuses": statuses })
    };
    let books = json!([
        book(
            "b1",
            "AVAILABLE",
            json!("LENT"),
            json!(["LENT", "AVAILABLE"])
        ),
        book(
            "b2",
            "WITHDRAWN",
            json!("WITHDRAWN"),
            json!(["AVAILABLE", "WITHDRAWN"])
        ),
    ]);
    let library: Handler = Arc::new(move |body: &Value| {
        let query = body["query"].as_str().unwrap_or_default();
        if query.contains("_entities") {
            return entities(body, |_| json!(null));
        }
        let archive = json!({ "__typename": "Archive", "id": "a1" });
        let mut items = books.as_array().cloned().unwrap_or_default();
        items.push(archive.clone());
        json!({ "data": {
            "books": books,
            "items": items,
            "item": books[0].clone(),
            "one": archive.clone(),
            "find": [books[0].clone(), { "__typename": "Shelf", "label": "A" }, archive],
        } })
    });
    let loans: Handler = Arc::new(|body: &Value| {
        entities(
            body,
            |rep| json!({ "__typename": "Book", "id": rep["id"], "loans": 3 }),
        )
    });
    spawn(vec![("library", library), ("loans", loans)]).await
}

#[tokio::test]
async fn an_inaccessible_enum_value_is_never_sent() {
    let subgraphs = library_subgraphs().await;
    let body = subgraphs
        .run(
            &fixture("inaccessible"),
            "{ books { id formerStatus statuses } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["books"],
        json!([
            { "id": "b1", "formerStatus": "LENT", "statuses": ["LENT", "AVAILABLE"] },
            { "id": "b2", "formerStatus": null, "statuses": null },
        ]),
        "{body}"
    );
    assert_eq!(
        error_codes(&body),
        ["RESPONSE_VALIDATION_FAILED", "RESPONSE_VALIDATION_FAILED"],
        "{body}"
    );
    let paths: Vec<&Value> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["path"])
        .collect();
    assert_eq!(
        paths,
        [
            &json!(["books", 1, "formerStatus"]),
            &json!(["books", 1, "statuses", 1])
        ]
    );
    assert!(!body.to_string().contains("WITHDRAWN"), "{body}");
}

#[tokio::test]
async fn a_non_null_inaccessible_enum_value_nulls_its_parent_with_one_error() {
    let subgraphs = library_subgraphs().await;
    // status is Status!: b2 cannot be returned, and [Book!]! cannot hold a null: data is
    // null, with the one error that explains it.
    let body = subgraphs
        .run(
            &fixture("inaccessible"),
            "{ books { id status } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(error_codes(&body), ["RESPONSE_VALIDATION_FAILED"], "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["books", 1, "status"]));
    assert!(!body.to_string().contains("WITHDRAWN"), "{body}");
}

#[tokio::test]
async fn an_inaccessible_object_type_never_shows_in_typename() {
    let subgraphs = library_subgraphs().await;
    let body = subgraphs.run(&fixture("inaccessible"), "{ items { __typename id } find { __typename ... on Shelf { label } } one: item(id: \"a1\") { __typename id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body["data"],
        json!({
            "items": [
                { "__typename": "Book", "id": "b1" },
                { "__typename": "Book", "id": "b2" },
                null,
            ],
            "find": [{ "__typename": "Book" }, { "__typename": "Shelf", "label": "A" }, null],
            "one": null,
        }),
        "{body}"
    );
    assert_eq!(
        error_codes(&body),
        ["RESPONSE_VALIDATION_FAILED"; 3],
        "{body}"
    );
    assert!(!body.to_string().contains("Archive"), "{body}");
}

#[tokio::test]
async fn an_entity_fetch_after_an_inaccessible_type_still_joins_the_rest() {
    let subgraphs = library_subgraphs().await;
    let body = subgraphs
        .run(
            &fixture("inaccessible"),
            "{ items { id ... on Book { loans } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["items"],
        json!([{ "id": "b1", "loans": 3 }, { "id": "b2", "loans": 3 }, null]),
        "{body}"
    );
    assert_eq!(error_codes(&body), ["RESPONSE_VALIDATION_FAILED"], "{body}");
}

// ---------------------------------------------------------------------------------------
// Scalars a subgraph gets wrong

#[tokio::test]
async fn a_scalar_of_the_wrong_kind_is_null_with_an_error() {
    let shelves: Handler = Arc::new(|body: &Value| {
        if body["query"]
            .as_str()
            .unwrap_or_default()
            .contains("_entities")
        {
            return entities(body, |_| json!(null));
        }
        json!({ "data": { "books": [
            { "__typename": "Book", "isbn": 42, "title": ["not", "a", "string"] },
            { "__typename": "Book", "isbn": "x", "title": true },
        ] } })
    });
    let ratings: Handler = Arc::new(|body: &Value| entities(body, |_| json!(null)));
    let subgraphs = spawn(vec![("shelves", shelves), ("ratings", ratings)]).await;
    let body = subgraphs
        .run(&fixture("null_keys"), "{ books { isbn title } }", json!({}))
        .await;
    // An integer ID is a string to clients (as graphql-js serializes it); a list is no
    // String; a boolean is one, leniently.
    assert_eq!(
        body["data"]["books"],
        json!([{ "isbn": "42", "title": null }, { "isbn": "x", "title": "true" }]),
        "{body}"
    );
    assert_eq!(error_codes(&body), ["RESPONSE_VALIDATION_FAILED"], "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["books", 0, "title"]));
}

/// An answer that is JSON but not a GraphQL response object (here a two-item array, which
/// a derived struct parser would read as `[data, errors]`) is no answer at all.
#[tokio::test]
async fn an_answer_that_is_not_a_json_object_makes_the_subgraph_unavailable() {
    let shelves: Handler = Arc::new(
        |_: &Value| json!([{ "books": [{ "__typename": "Book", "isbn": "1", "title": "T" }] }, null]),
    );
    let ratings: Handler = Arc::new(|body: &Value| entities(body, |_| json!(null)));
    let subgraphs = spawn(vec![("shelves", shelves), ("ratings", ratings)]).await;
    let body = subgraphs
        .run(&fixture("null_keys"), "{ books { isbn title } }", json!({}))
        .await;
    assert_eq!(body["data"], json!({ "books": null }), "{body}");
    assert_eq!(error_codes(&body), ["SUBGRAPH_UNAVAILABLE"], "{body}");
}

// ---------------------------------------------------------------------------------------
// Entities with null or missing keys

/// shelves returns four books: 1 and 4 whole, 2 with a null key, 3 without one. ratings
/// rates every book it is asked about, and fails the field `votes` of isbn "4".
async fn null_key_subgraphs(error_path_style: &'static str) -> Subgraphs {
    let shelves: Handler = Arc::new(|body: &Value| {
        let books = json!([
            { "__typename": "Book", "isbn": "1", "title": "One" },
            { "__typename": "Book", "isbn": null, "title": "Two" },
            { "__typename": "Book", "title": "Three" },
            { "__typename": "Book", "isbn": "4", "title": "Four" },
        ]);
        let query = body["query"].as_str().unwrap_or_default();
        if query.contains("_entities") {
            return entities(body, |_| json!(null));
        }
        json!({ "data": { "books": books, "shelf": books } })
    });
    let ratings: Handler = Arc::new(move |body: &Value| {
        let reps = body["variables"]["representations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if reps.iter().any(|r| !r["isbn"].is_string()) {
            // A subgraph refuses a batch holding a representation without its key.
            return json!({ "data": null, "errors": [{ "message": "invalid representation" }] });
        }
        let failing = reps.iter().position(|r| r["isbn"] == "4");
        if failing.is_some() && error_path_style == "unindexed" {
            // async-graphql: one failed entity fails them all, and the path has no index.
            return json!({
                "data": { "_entities": null },
                "errors": [{
                    "message": "votes are being recounted",
                    "path": ["_entities", "votes"],
                    "extensions": { "code": "RECOUNT" },
                }],
            });
        }
        let mut answer = entities(body, |rep| {
            if rep["isbn"] == "4" {
                json!(null)
            } else {
                json!({ "__typename": "Book", "isbn": rep["isbn"], "rating": 5, "votes": 7 })
            }
        });
        if let Some(i) = failing {
            // Apollo's subgraph libraries null only that entity and name it.
            answer["errors"] = json!([{
                "message": "votes are being recounted",
                "path": ["_entities", i, "votes"],
                "extensions": { "code": "RECOUNT" },
            }]);
        }
        answer
    });
    spawn(vec![("shelves", shelves), ("ratings", ratings)]).await
}

#[tokio::test]
async fn an_entity_without_its_key_is_left_out_of_the_batch() {
    let subgraphs = null_key_subgraphs("indexed").await;
    let body = subgraphs
        .run(
            &fixture("null_keys"),
            "{ books { title rating } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["books"],
        json!([
            { "title": "One", "rating": 5 },
            { "title": "Two", "rating": null },
            { "title": "Three", "rating": null },
            { "title": "Four", "rating": null },
        ]),
        "{body}"
    );
    assert_eq!(
        subgraphs.representations("ratings"),
        [json!([
            { "__typename": "Book", "isbn": "1" },
            { "__typename": "Book", "isbn": "4" },
        ])]
    );
    assert_eq!(error_codes(&body), ["RECOUNT"], "{body}");
}

#[tokio::test]
async fn entity_errors_get_the_entitys_path_and_no_second_error() {
    for style in ["indexed", "unindexed"] {
        let subgraphs = null_key_subgraphs(style).await;
        let body = subgraphs
            .run(
                &fixture("null_keys"),
                "{ books { title votes } }",
                json!({}),
            )
            .await;
        // votes is Int!: a book the subgraph failed is null because of its error, reported
        // once at its place; books 2 and 3 could not be asked (no key), so their null gets
        // a response validation error each. An async-graphql subgraph fails the whole
        // batch, and its error (no index) belongs to every entity that did not come back.
        let (books, failed) = match style {
            "indexed" => (
                json!([{ "title": "One", "votes": 7 }, null, null, null]),
                vec![3],
            ),
            _ => (json!([null, null, null, null]), vec![0, 3]),
        };
        assert_eq!(body["data"]["books"], books, "{style}: {body}");
        let errors: Vec<(Value, Value)> = body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| (e["path"].clone(), e["extensions"]["code"].clone()))
            .collect();
        let mut expected: Vec<(Value, Value)> = failed
            .into_iter()
            .map(|i| (json!(["books", i, "votes"]), json!("RECOUNT")))
            .collect();
        for i in [1, 2] {
            expected.push((
                json!(["books", i, "votes"]),
                json!("RESPONSE_VALIDATION_FAILED"),
            ));
        }
        assert_eq!(errors, expected, "{style}: {body}");
        assert!(!error_codes(&body).contains(&"INTERNAL_SERVER_ERROR".to_owned()));
    }
}

// ---------------------------------------------------------------------------------------
// Covariant interface fields

#[tokio::test]
async fn a_narrowed_interface_field_is_planned_and_projected() {
    let catalog: Handler = Arc::new(|_body: &Value| {
        json!({ "data": { "products": [
            { "__typename": "Book", "id": "b1", "title": "Dune",
              "samePriceProduct": { "__typename": "Book", "id": "b2", "title": "Emma" } },
            { "__typename": "Film", "id": "f1", "samePriceProduct": null },
        ] } })
    });
    let reviews: Handler = Arc::new(|body: &Value| {
        entities(
            body,
            |rep| json!({ "__typename": "Book", "id": rep["id"], "stars": 4.5 }),
        )
    });
    let subgraphs = spawn(vec![("catalog", catalog), ("reviews", reviews)]).await;
    let body = subgraphs
        .run(
            &fixture("covariant"),
            "{ products { id ... on Book { samePriceProduct { title stars } } } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["products"],
        json!([
            { "id": "b1", "samePriceProduct": { "title": "Emma", "stars": 4.5 } },
            { "id": "f1" },
        ])
    );
}

// ---------------------------------------------------------------------------------------
// @sideEffect: fetches that change something are never shared

/// counter counts every request it gets; pages lists two pages.
async fn counter_subgraphs() -> (Subgraphs, Arc<std::sync::atomic::AtomicI64>) {
    use std::sync::atomic::{AtomicI64, Ordering};
    let count = Arc::new(AtomicI64::new(0));
    let counted = count.clone();
    let counter: Handler = Arc::new(move |body: &Value| {
        let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
        if body["query"]
            .as_str()
            .unwrap_or_default()
            .contains("_entities")
        {
            return entities(
                body,
                |rep| json!({ "__typename": "Page", "id": rep["id"], "views": n, "title": "T" }),
            );
        }
        json!({ "data": { "visit": n, "peek": n } })
    });
    let pages: Handler = Arc::new(|_| {
        json!({ "data": { "pages": [
            { "__typename": "Page", "id": "p1" }, { "__typename": "Page", "id": "p2" },
        ] } })
    });
    let subgraphs = spawn_slow(
        vec![("counter", counter), ("pages", pages)],
        Duration::from_millis(100),
    )
    .await;
    (subgraphs, count)
}

#[tokio::test]
async fn a_side_effect_root_field_is_fetched_for_every_request() {
    let (subgraphs, count) = counter_subgraphs().await;
    let supergraph = fixture("effects");
    let visits = subgraphs
        .run_concurrently(&supergraph, "{ visit(page: \"p1\") }", json!({}), 20)
        .await;
    let mut seen: Vec<i64> = visits
        .iter()
        .filter_map(|b| b["data"]["visit"].as_i64())
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=20).collect::<Vec<_>>(),
        "every visit counted once"
    );
    // The same query without a side effect shares one fetch.
    let before = count.load(std::sync::atomic::Ordering::SeqCst);
    let peeks = subgraphs
        .run_concurrently(&supergraph, "{ peek(page: \"p1\") }", json!({}), 20)
        .await;
    assert!(
        peeks.iter().all(|b| b["data"]["peek"].is_i64()),
        "{peeks:?}"
    );
    let fetches = count.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert_eq!(fetches, 1, "identical reads in flight share one fetch");
}

#[tokio::test]
async fn a_side_effect_entity_field_is_fetched_for_every_request() {
    let (subgraphs, count) = counter_subgraphs().await;
    let supergraph = fixture("effects");
    let bodies = subgraphs
        .run_concurrently(&supergraph, "{ pages { id views } }", json!({}), 10)
        .await;
    assert!(
        bodies.iter().all(|b| b.get("errors").is_none()),
        "{bodies:?}"
    );
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 10);
    assert!(
        subgraphs.requests_to("pages").len() < 10,
        "the pages list itself is shared"
    );
    let before = count.load(std::sync::atomic::Ordering::SeqCst);
    subgraphs
        .run_concurrently(&supergraph, "{ pages { id title } }", json!({}), 10)
        .await;
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst) - before, 1);
}
