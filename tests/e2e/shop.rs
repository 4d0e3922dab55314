//! The shop subgraph through the router: products (managed by admins, listed, searched and
//! paged), carts and their limits, checkout and its stock rules (also under concurrency),
//! cancelling, deleting products, and the joins with users (private carts and orders,
//! orders that outlive their buyer).

use folio_testkit::{Session, TestApp, assert_ok, code, connection_ids, eventually, field};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse";
const ADMIN_EMAIL: &str = "root@example.com";
const ADMIN_PASSWORD: &str = "admin password";

macro_rules! product_fields {
    () => {
        "id name description price { amount currency } stock active createdAt updatedAt"
    };
}

macro_rules! cart_fields {
    () => {
        "items { product { id name active } quantity lineTotal { amount currency } } \
         total { amount currency } updatedAt"
    };
}

macro_rules! order_fields {
    () => {
        "id status placedAt buyer { id } total { amount currency } \
         items { product { id name price { amount } } quantity unitPrice { amount currency } lineTotal { amount currency } }"
    };
}

const CREATE: &str = concat!(
    "mutation($i: ProductInput!) { createProduct(input: $i) { ",
    product_fields!(),
    " } }"
);
const UPDATE: &str = concat!(
    "mutation($id: ID!, $p: ProductPatch!) { updateProduct(id: $id, patch: $p) { ",
    product_fields!(),
    " } }"
);
const DELETE: &str = "mutation($id: ID!) { deleteProduct(id: $id) }";
const PRODUCT: &str = concat!(
    "query($id: ID!) { product(id: $id) { ",
    product_fields!(),
    " } }"
);
const PRODUCTS: &str = "query($s: String, $first: Int, $after: String) { \
    products(search: $s, first: $first, after: $after) { \
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } nodes { id name active } } }";

const MY_CART: &str = concat!("{ myCart { ", cart_fields!(), " } }");
const ADD: &str = concat!(
    "mutation($p: ID!, $q: Int!) { addToCart(productId: $p, quantity: $q) { ",
    cart_fields!(),
    " } }"
);
const ADD_ONE: &str = concat!(
    "mutation($p: ID!) { addToCart(productId: $p) { ",
    cart_fields!(),
    " } }"
);
const SET: &str = concat!(
    "mutation($p: ID!, $q: Int!) { setCartQuantity(productId: $p, quantity: $q) { ",
    cart_fields!(),
    " } }"
);
const REMOVE: &str = concat!(
    "mutation($p: ID!) { removeFromCart(productId: $p) { ",
    cart_fields!(),
    " } }"
);
const CLEAR: &str = concat!("mutation { clearCart { ", cart_fields!(), " } }");

const CHECKOUT: &str = concat!("mutation { checkout { ", order_fields!(), " } }");
const ORDER: &str = concat!(
    "query($id: ID!) { order(id: $id) { ",
    order_fields!(),
    " } }"
);
const CANCEL: &str = concat!(
    "mutation($id: ID!) { cancelOrder(id: $id) { ",
    order_fields!(),
    " } }"
);
const USER_SHOP: &str =
    "query($id: ID!) { user(id: $id) { id cart { total { amount } } orders { totalCount } } }";
const USER_ORDERS: &str = "query($id: ID!, $first: Int, $after: String) { user(id: $id) { \
    orders(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } \
    edges { cursor node { id } } nodes { id status } } } }";
const DELETE_USER: &str = "mutation($id: ID!) { deleteUser(id: $id) }";

/// A product input in the shop's currency.
fn input(name: &str, price: i64, stock: i64) -> Value {
    json!({ "name": name, "priceAmount": price, "currency": "EUR", "stock": stock })
}

fn token(who: Option<&Session>) -> Option<&str> {
    who.map(|s| s.access_token.as_str())
}

fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

fn money(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "EUR" })
}

/// Asserts `s` is an RFC 3339 time in UTC written with `Z`.
fn assert_utc_time(v: &Value) {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{v} is not a time string"));
    let b = s.as_bytes();
    let ok = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && s.ends_with('Z');
    assert!(ok, "{s:?} is not an RFC 3339 UTC time ending in Z");
}

/// `createProduct` with this input as `who` (anyone); the whole answer.
async fn create_product_body(app: &TestApp, who: Option<&Session>, input: Value) -> Value {
    app.gql(token(who), CREATE, json!({ "i": input })).await
}

/// Creates an active product in EUR as `admin`; its id.
async fn create_product(
    app: &TestApp,
    admin: &Session,
    name: &str,
    price: i64,
    stock: i64,
) -> String {
    let data = app
        .ok(admin, CREATE, json!({ "i": input(name, price, stock) }))
        .await;
    id_of(&data["createProduct"])
}

/// `updateProduct` as `who`; the whole answer.
async fn update_body(app: &TestApp, who: Option<&Session>, id: &str, patch: Value) -> Value {
    app.gql(token(who), UPDATE, json!({ "id": id, "p": patch }))
        .await
}

/// `updateProduct` as `admin` (an error fails the test); the product.
async fn update_product(app: &TestApp, admin: &Session, id: &str, patch: Value) -> Value {
    let data = app.ok(admin, UPDATE, json!({ "id": id, "p": patch })).await;
    data["updateProduct"].clone()
}

/// `product(id)` as `who` sees it (asserting the query succeeds): the product or null.
async fn product_as(app: &TestApp, who: Option<&Session>, id: &str) -> Value {
    let body = app.gql(token(who), PRODUCT, json!({ "id": id })).await;
    assert_ok(&body);
    body["data"]["product"].clone()
}

/// A product's stock, as an admin reads it.
async fn stock_of(app: &TestApp, admin: &Session, id: &str) -> i64 {
    let p = product_as(app, Some(admin), id).await;
    p["stock"]
        .as_i64()
        .unwrap_or_else(|| panic!("no stock for {id}: {p}"))
}

/// `products` as `who` (asserting the query succeeds).
async fn products_as(
    app: &TestApp,
    who: Option<&Session>,
    search: Option<&str>,
    first: Option<i64>,
    after: Option<&str>,
) -> Value {
    let body = app
        .gql(
            token(who),
            PRODUCTS,
            json!({ "s": search, "first": first, "after": after }),
        )
        .await;
    assert_ok(&body);
    body["data"]["products"].clone()
}

/// `addToCart` as `who`; the whole answer.
async fn add_body(app: &TestApp, who: &Session, product: &str, quantity: i64) -> Value {
    app.gql(
        Some(&who.access_token),
        ADD,
        json!({ "p": product, "q": quantity }),
    )
    .await
}

/// `addToCart` as `who` (an error fails the test); the cart.
async fn add_to_cart(app: &TestApp, who: &Session, product: &str, quantity: i64) -> Value {
    let body = add_body(app, who, product, quantity).await;
    assert_ok(&body);
    body["data"]["addToCart"].clone()
}

/// `setCartQuantity` as `who`; the whole answer.
async fn set_body(app: &TestApp, who: &Session, product: &str, quantity: i64) -> Value {
    app.gql(
        Some(&who.access_token),
        SET,
        json!({ "p": product, "q": quantity }),
    )
    .await
}

/// `who`'s cart (`myCart`, asserting it succeeds).
async fn cart_of(app: &TestApp, who: &Session) -> Value {
    app.ok(who, MY_CART, json!({})).await["myCart"].clone()
}

/// A cart's lines as (product id, quantity), in the cart's order.
fn lines(cart: &Value) -> Vec<(String, i64)> {
    cart["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {cart}"))
        .iter()
        .map(|i| {
            (
                i["product"]["id"].as_str().expect("product id").to_owned(),
                i["quantity"].as_i64().expect("quantity"),
            )
        })
        .collect()
}

/// `checkout` as `who`; the whole answer.
async fn checkout_body(app: &TestApp, who: &Session) -> Value {
    app.gql(Some(&who.access_token), CHECKOUT, json!({})).await
}

/// Fills `who`'s cart with these (product, quantity) and checks out (an error fails the
/// test); the order.
async fn place_order(app: &TestApp, who: &Session, items: &[(&str, i64)]) -> Value {
    for (product, quantity) in items {
        add_to_cart(app, who, product, *quantity).await;
    }
    let body = checkout_body(app, who).await;
    assert_ok(&body);
    body["data"]["checkout"].clone()
}

/// An order's lines as (product id, quantity, unit price, line total), sorted by product.
fn order_lines(order: &Value) -> Vec<(String, i64, i64, i64)> {
    let mut lines: Vec<_> = order["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {order}"))
        .iter()
        .map(|i| {
            assert_eq!(i["unitPrice"]["currency"], json!("EUR"), "{order}");
            assert_eq!(i["lineTotal"]["currency"], json!("EUR"), "{order}");
            (
                i["product"]["id"].as_str().expect("product id").to_owned(),
                i["quantity"].as_i64().expect("quantity"),
                i["unitPrice"]["amount"].as_i64().expect("unit price"),
                i["lineTotal"]["amount"].as_i64().expect("line total"),
            )
        })
        .collect();
    lines.sort();
    lines
}

/// The product ids of a CONFLICT's `extensions.products`, sorted.
fn conflict_products(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> = body["errors"][0]["extensions"]["products"]
        .as_array()
        .unwrap_or_else(|| panic!("no extensions.products in {body}"))
        .iter()
        .map(|v| v.as_str().expect("a product id").to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    ids.sort();
    ids
}

// ---------------------------------------------------------------------------------------
// Products.

#[tokio::test]
async fn admins_create_products_that_everyone_lists_newest_first() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;

    let body = create_product_body(
        &app,
        Some(&admin),
        json!({ "name": "Blue mug", "description": "Holds coffee.", "priceAmount": 1299,
                "currency": "EUR", "stock": 5 }),
    )
    .await;
    assert_ok(&body);
    let mug = &body["data"]["createProduct"];
    let blue = id_of(mug);
    assert!(!blue.is_empty());
    assert_eq!(mug["name"], json!("Blue mug"));
    assert_eq!(mug["description"], json!("Holds coffee."));
    assert_eq!(mug["price"], money(1299));
    assert_eq!(mug["stock"], json!(5));
    assert_eq!(mug["active"], json!(true), "active defaults to true");
    assert_utc_time(&mug["createdAt"]);
    assert_utc_time(&mug["updatedAt"]);

    let body = create_product_body(
        &app,
        Some(&admin),
        json!({ "name": "Hidden Mug", "priceAmount": 0, "currency": "EUR", "stock": 0, "active": false }),
    )
    .await;
    assert_ok(&body);
    let hidden_mug = &body["data"]["createProduct"];
    let hidden = id_of(hidden_mug);
    assert_eq!(hidden_mug["description"], Value::Null);
    assert_eq!(hidden_mug["price"], money(0));
    assert_eq!(hidden_mug["stock"], json!(0));
    assert_eq!(hidden_mug["active"], json!(false));

    let teapot = create_product(&app, &admin, "Teapot", 4500, 2).await;
    let red = create_product(&app, &admin, "Red MUG", 1399, 1).await;

    // Anonymous users and signed-in non-admins see the active products, newest first.
    for who in [None, Some(&ada)] {
        let list = products_as(&app, who, None, None, None).await;
        assert_eq!(
            connection_ids(&list),
            vec![red.clone(), teapot.clone(), blue.clone()],
            "{list}"
        );
        assert_eq!(list["totalCount"], json!(3), "{list}");
        assert_eq!(list["pageInfo"]["hasNextPage"], json!(false), "{list}");
        assert_eq!(
            list["nodes"][2],
            json!({ "id": blue, "name": "Blue mug", "active": true })
        );
    }
    // Admins see every product.
    let list = products_as(&app, Some(&admin), None, None, None).await;
    assert_eq!(
        connection_ids(&list),
        vec![red.clone(), teapot.clone(), hidden.clone(), blue.clone()],
        "{list}"
    );
    assert_eq!(list["totalCount"], json!(4), "{list}");
    assert_eq!(list["nodes"][2]["active"], json!(false), "{list}");

    // search matches a substring of the name, whatever its case.
    for search in ["mug", "MUG", "Mu"] {
        let found = products_as(&app, None, Some(search), None, None).await;
        assert_eq!(
            connection_ids(&found),
            vec![red.clone(), blue.clone()],
            "{search}: {found}"
        );
        assert_eq!(found["totalCount"], json!(2), "{found}");
        let found = products_as(&app, Some(&admin), Some(search), None, None).await;
        assert_eq!(
            connection_ids(&found),
            vec![red.clone(), hidden.clone(), blue.clone()],
            "{search}: {found}"
        );
        assert_eq!(found["totalCount"], json!(3), "{found}");
    }
    let none = products_as(&app, None, Some("kettle"), None, None).await;
    assert_eq!(none["totalCount"], json!(0), "{none}");
    assert_eq!(connection_ids(&none), Vec::<String>::new());

    // product(id): null for an unknown id, and for an inactive product unless an admin asks.
    for unknown in ["nope", "0192f0c0-0000-7000-8000-000000000000"] {
        assert_eq!(product_as(&app, None, unknown).await, Value::Null);
        assert_eq!(product_as(&app, Some(&admin), unknown).await, Value::Null);
    }
    assert_eq!(product_as(&app, None, &hidden).await, Value::Null);
    assert_eq!(product_as(&app, Some(&ada), &hidden).await, Value::Null);
    assert_eq!(
        product_as(&app, Some(&admin), &hidden).await["active"],
        json!(false)
    );
    let seen = product_as(&app, None, &blue).await;
    assert_eq!(seen["name"], json!("Blue mug"), "{seen}");
    assert_eq!(seen["price"], money(1299));
    assert_eq!(seen["createdAt"], mug["createdAt"]);
    app.stop().await;
}

#[tokio::test]
async fn products_are_paged_with_first_and_after() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut ids = Vec::new();
    for i in 0..22 {
        ids.push(create_product(&app, &admin, &format!("Product {i}"), 100 + i, 1).await);
    }
    ids.reverse(); // Newest first.

    // `first` defaults to 20.
    let page = products_as(&app, None, None, None, None).await;
    assert_eq!(connection_ids(&page), ids[..20].to_vec(), "{page}");
    assert_eq!(page["totalCount"], json!(22));
    assert_eq!(page["pageInfo"]["hasNextPage"], json!(true));
    let cursor = page["pageInfo"]["endCursor"].as_str().expect("cursor");
    let rest = products_as(&app, None, None, None, Some(cursor)).await;
    assert_eq!(connection_ids(&rest), ids[20..].to_vec(), "{rest}");
    assert_eq!(rest["totalCount"], json!(22));
    assert_eq!(rest["pageInfo"]["hasNextPage"], json!(false));

    // Two pages of a search, with an explicit `first`.
    let first = products_as(&app, None, Some("product 1"), Some(5), None).await;
    // "Product 1" and "Product 10" to "Product 19": 11 matches, newest first.
    let matching: Vec<String> = (0..22)
        .rev()
        .filter(|i| i.to_string().starts_with('1'))
        .map(|i| ids[21 - i].clone())
        .collect();
    assert_eq!(matching.len(), 11);
    assert_eq!(connection_ids(&first), matching[..5].to_vec(), "{first}");
    assert_eq!(first["totalCount"], json!(11));
    assert_eq!(first["pageInfo"]["hasNextPage"], json!(true));
    let cursor = first["pageInfo"]["endCursor"].as_str().expect("cursor");
    let second = products_as(&app, None, Some("product 1"), Some(10), Some(cursor)).await;
    assert_eq!(connection_ids(&second), matching[5..].to_vec(), "{second}");
    assert_eq!(second["pageInfo"]["hasNextPage"], json!(false));

    let body = app
        .gql(None, "{ products(first: 101) { totalCount } }", json!({}))
        .await;
    assert_eq!(
        (code(&body), field(&body)),
        ("BAD_USER_INPUT", "first"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_product_input_names_its_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let with = |k: &str, v: Value| {
        let mut i = input("Mug", 1000, 5);
        i[k] = v;
        i
    };
    let cases = [
        (with("name", json!("")), "name"),
        (with("name", json!("n".repeat(201))), "name"),
        (with("description", json!("d".repeat(2_001))), "description"),
        (with("priceAmount", json!(-1)), "priceAmount"),
        (with("priceAmount", json!(1_000_001)), "priceAmount"),
        (with("currency", json!("USD")), "currency"),
        (with("currency", json!("eur")), "currency"),
        (with("stock", json!(-1)), "stock"),
        (with("stock", json!(1_000_001)), "stock"),
    ];
    for (input, expected) in cases {
        let body = create_product_body(&app, Some(&admin), input.clone()).await;
        assert_eq!(
            (code(&body), field(&body)),
            ("BAD_USER_INPUT", expected),
            "{input}: {body}"
        );
    }
    let list = products_as(&app, Some(&admin), None, None, None).await;
    assert_eq!(list["totalCount"], json!(0), "nothing was created: {list}");

    // The limits themselves are allowed.
    let edge = json!({ "name": "n".repeat(200), "description": "d".repeat(2_000),
        "priceAmount": 1_000_000, "currency": "EUR", "stock": 1_000_000 });
    let body = create_product_body(&app, Some(&admin), edge).await;
    assert_ok(&body);
    let p = &body["data"]["createProduct"];
    assert_eq!(p["name"], json!("n".repeat(200)));
    assert_eq!(p["price"], money(1_000_000));
    assert_eq!(p["stock"], json!(1_000_000));
    let free = create_product(&app, &admin, "Free", 0, 0).await;
    assert_eq!(stock_of(&app, &admin, &free).await, 0);

    // The same rules on update, and nothing changes.
    let id = create_product(&app, &admin, "Mug", 1000, 5).await;
    let before = product_as(&app, Some(&admin), &id).await;
    let patches = [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "n".repeat(201) }), "name"),
        (json!({ "name": null }), "name"),
        (json!({ "description": "d".repeat(2_001) }), "description"),
        (json!({ "priceAmount": -1 }), "priceAmount"),
        (json!({ "priceAmount": 1_000_001 }), "priceAmount"),
        (json!({ "priceAmount": null }), "priceAmount"),
        (json!({ "stock": -1 }), "stock"),
        (json!({ "stock": 1_000_001 }), "stock"),
    ];
    for (patch, expected) in patches {
        let body = update_body(&app, Some(&admin), &id, patch.clone()).await;
        assert_eq!(
            (code(&body), field(&body)),
            ("BAD_USER_INPUT", expected),
            "{patch}: {body}"
        );
    }
    assert_eq!(product_as(&app, Some(&admin), &id).await, before);

    let body = update_body(
        &app,
        Some(&admin),
        "0192f0c0-0000-7000-8000-000000000000",
        json!({ "name": "Ghost" }),
    )
    .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let body = update_body(&app, Some(&admin), "nope", json!({ "stock": 1 })).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");

    // A good patch changes what it names and only that.
    let updated = update_product(
        &app,
        &admin,
        &id,
        json!({ "name": "Big mug", "priceAmount": 1500, "stock": 7 }),
    )
    .await;
    assert_eq!(updated["name"], json!("Big mug"), "{updated}");
    assert_eq!(updated["price"], money(1500));
    assert_eq!(updated["stock"], json!(7));
    assert_eq!(updated["active"], json!(true));
    assert_eq!(updated["description"], before["description"]);
    assert_eq!(updated["createdAt"], before["createdAt"]);
    assert_utc_time(&updated["updatedAt"]);
    let updated = update_product(
        &app,
        &admin,
        &id,
        json!({ "description": "Bigger.", "active": false }),
    )
    .await;
    assert_eq!(updated["description"], json!("Bigger."));
    assert_eq!(updated["active"], json!(false));
    assert_eq!(updated["name"], json!("Big mug"));
    let updated = update_product(&app, &admin, &id, json!({ "description": null })).await;
    assert_eq!(
        updated["description"],
        Value::Null,
        "an optional field set to null is cleared"
    );
    app.stop().await;
}

#[tokio::test]
async fn only_admins_create_update_and_delete_products() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let id = create_product(&app, &admin, "Mug", 1000, 5).await;
    let before = product_as(&app, Some(&admin), &id).await;

    for (who, expected) in [(None, "UNAUTHENTICATED"), (Some(&ada), "FORBIDDEN")] {
        let body = create_product_body(&app, who, input("Mine", 1, 1)).await;
        assert_eq!(code(&body), expected, "createProduct: {body}");
        let body = update_body(&app, who, &id, json!({ "priceAmount": 1 })).await;
        assert_eq!(code(&body), expected, "updateProduct: {body}");
        let body = app.gql(token(who), DELETE, json!({ "id": id })).await;
        assert_eq!(code(&body), expected, "deleteProduct: {body}");
    }
    assert_eq!(product_as(&app, Some(&admin), &id).await, before);
    let list = products_as(&app, Some(&admin), None, None, None).await;
    assert_eq!(list["totalCount"], json!(1), "{list}");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Who sees carts and orders.

#[tokio::test]
async fn carts_and_orders_are_for_their_user_and_admins_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let mug = create_product(&app, &admin, "Mug", 1000, 10).await;
    let order = place_order(&app, &ada, &[(&mug, 2)]).await;
    let order_id = id_of(&order);
    add_to_cart(&app, &ada, &mug, 3).await;

    // Signed-in-only operations, anonymous.
    for op in [
        MY_CART,
        CHECKOUT,
        CLEAR,
        "mutation($p: ID!) { addToCart(productId: $p, quantity: 1) { total { amount } } }",
        "mutation($p: ID!) { setCartQuantity(productId: $p, quantity: 1) { total { amount } } }",
        "mutation($p: ID!) { removeFromCart(productId: $p) { total { amount } } }",
    ] {
        let body = app.gql(None, op, json!({ "p": mug })).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{op}: {body}");
    }

    // Another user (or nobody) reads ada's cart and orders as null.
    for who in [None, Some(&bob)] {
        let body = app
            .gql(token(who), USER_SHOP, json!({ "id": ada.id }))
            .await;
        assert_ok(&body);
        assert_eq!(
            body["data"]["user"],
            json!({ "id": ada.id, "cart": null, "orders": null }),
            "{body}"
        );
    }
    // Ada herself and an admin see them.
    for who in [&ada, &admin] {
        let body = app.ok(who, USER_SHOP, json!({ "id": ada.id })).await;
        assert_eq!(
            body["user"],
            json!({ "id": ada.id, "cart": { "total": { "amount": 3000 } }, "orders": { "totalCount": 1 } }),
            "{body}"
        );
    }

    // order(id): the buyer and admins; null for anyone else signed in; anonymous is refused.
    for who in [&ada, &admin] {
        let body = app.ok(who, ORDER, json!({ "id": order_id })).await;
        let read = &body["order"];
        assert_eq!(read["id"], json!(order_id), "{body}");
        assert_eq!(read["buyer"], json!({ "id": ada.id }), "{body}");
        assert_eq!(read["status"], json!("PLACED"), "{body}");
        assert_eq!(read["total"], money(2000), "{body}");
        assert_eq!(read["placedAt"], order["placedAt"], "{body}");
        assert_eq!(
            order_lines(read),
            vec![(mug.clone(), 2, 1000, 2000)],
            "{body}"
        );
    }
    let body = app.ok(&bob, ORDER, json!({ "id": order_id })).await;
    assert_eq!(body["order"], Value::Null, "{body}");
    let body = app.gql(None, ORDER, json!({ "id": order_id })).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let body = app
        .ok(
            &admin,
            ORDER,
            json!({ "id": "0192f0c0-0000-7000-8000-000000000000" }),
        )
        .await;
    assert_eq!(body["order"], Value::Null, "an unknown order: {body}");

    // cancelOrder: anyone but the buyer or an admin is refused, and nothing changes.
    let body = app
        .gql(Some(&bob.access_token), CANCEL, json!({ "id": order_id }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = app.gql(None, CANCEL, json!({ "id": order_id })).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let body = app.ok(&ada, ORDER, json!({ "id": order_id })).await;
    assert_eq!(body["order"]["status"], json!("PLACED"), "{body}");
    assert_eq!(stock_of(&app, &admin, &mug).await, 8);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Carts.

#[tokio::test]
async fn a_fresh_cart_is_empty_with_a_zero_total() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let cart = cart_of(&app, &ada).await;
    assert_eq!(cart["items"], json!([]), "{cart}");
    assert_eq!(cart["total"], money(0), "{cart}");
    assert_utc_time(&cart["updatedAt"]);
    let body = app.ok(&ada, USER_SHOP, json!({ "id": ada.id })).await;
    assert_eq!(
        body["user"],
        json!({ "id": ada.id, "cart": { "total": { "amount": 0 } }, "orders": { "totalCount": 0 } }),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn adding_to_a_cart_sums_quantities_and_totals_exactly() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let mug = create_product(&app, &admin, "Mug", 1999, 1).await;
    let tea = create_product(&app, &admin, "Tea", 250, 0).await;
    let pot = create_product(&app, &admin, "Pot", 4500, 3).await;

    // The quantity defaults to 1.
    let body = app
        .gql(Some(&ada.access_token), ADD_ONE, json!({ "p": mug }))
        .await;
    assert_ok(&body);
    let cart = &body["data"]["addToCart"];
    assert_eq!(
        cart["items"],
        json!([{ "product": { "id": mug, "name": "Mug", "active": true }, "quantity": 1,
                 "lineTotal": { "amount": 1999, "currency": "EUR" } }]),
        "{cart}"
    );
    assert_eq!(cart["total"], money(1999));

    // Adding again adds to what the cart holds (stock is not checked here).
    let cart = add_to_cart(&app, &ada, &mug, 2).await;
    assert_eq!(lines(&cart), vec![(mug.clone(), 3)], "{cart}");
    assert_eq!(cart["items"][0]["lineTotal"], money(5997), "{cart}");
    assert_eq!(cart["total"], money(5997), "{cart}");

    let cart = add_to_cart(&app, &ada, &tea, 4).await;
    let cart2 = add_to_cart(&app, &ada, &pot, 1).await;
    assert_eq!(
        lines(&cart),
        vec![(mug.clone(), 3), (tea.clone(), 4)],
        "{cart}"
    );
    assert_eq!(cart["items"][1]["lineTotal"], money(1000), "{cart}");
    assert_eq!(cart["total"], money(6997), "{cart}");
    assert_eq!(
        lines(&cart2),
        vec![(mug.clone(), 3), (tea.clone(), 4), (pot.clone(), 1)],
        "oldest added first: {cart2}"
    );
    assert_eq!(cart2["total"], money(11_497), "{cart2}");

    // myCart and user.cart read the same cart.
    let mine = cart_of(&app, &ada).await;
    assert_eq!(mine["items"], cart2["items"]);
    assert_eq!(mine["total"], cart2["total"]);
    let body = app.ok(&ada, USER_SHOP, json!({ "id": ada.id })).await;
    assert_eq!(body["user"]["cart"]["total"]["amount"], json!(11_497));
    app.stop().await;
}

#[tokio::test]
async fn cart_quantities_stay_between_one_and_ninety_nine() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let mug = create_product(&app, &admin, "Mug", 100, 1000).await;

    for quantity in [0, 100, -1] {
        let body = add_body(&app, &ada, &mug, quantity).await;
        assert_eq!(
            code(&body),
            "BAD_USER_INPUT",
            "addToCart {quantity}: {body}"
        );
    }
    for quantity in [100, -1] {
        let body = set_body(&app, &ada, &mug, quantity).await;
        assert_eq!(
            code(&body),
            "BAD_USER_INPUT",
            "setCartQuantity {quantity}: {body}"
        );
    }
    assert_eq!(
        lines(&cart_of(&app, &ada).await),
        Vec::<(String, i64)>::new()
    );

    add_to_cart(&app, &ada, &mug, 60).await;
    let body = add_body(&app, &ada, &mug, 40).await;
    assert_eq!(
        code(&body),
        "BAD_USER_INPUT",
        "60 + 40 is more than 99: {body}"
    );
    assert_eq!(lines(&cart_of(&app, &ada).await), vec![(mug.clone(), 60)]);
    let cart = add_to_cart(&app, &ada, &mug, 39).await;
    assert_eq!(lines(&cart), vec![(mug.clone(), 99)]);
    assert_eq!(cart["total"], money(9_900));
    let body = add_body(&app, &ada, &mug, 1).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let body = set_body(&app, &ada, &mug, 100).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(lines(&cart_of(&app, &ada).await), vec![(mug.clone(), 99)]);
    app.stop().await;
}

#[tokio::test]
async fn a_cart_holds_at_most_twenty_different_products() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let mut ids = Vec::new();
    for i in 0..21 {
        ids.push(create_product(&app, &admin, &format!("Product {i}"), 1_000_000, 1).await);
    }
    for id in &ids[..20] {
        add_to_cart(&app, &ada, id, 1).await;
    }
    let body = add_body(&app, &ada, &ids[20], 1).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "a 21st product: {body}");
    let body = set_body(&app, &ada, &ids[20], 1).await;
    assert_eq!(
        code(&body),
        "BAD_USER_INPUT",
        "a 21st product by setCartQuantity: {body}"
    );
    let cart = cart_of(&app, &ada).await;
    let expected: Vec<(String, i64)> = ids[..20].iter().map(|id| (id.clone(), 1)).collect();
    assert_eq!(lines(&cart), expected, "{cart}");
    // 20 items of 99 units at the highest price still fit in an Int.
    for id in &ids[..20] {
        assert_ok(&set_body(&app, &ada, id, 99).await);
    }
    let cart = cart_of(&app, &ada).await;
    assert_eq!(cart["total"], money(20 * 99 * 1_000_000), "{cart}");
    app.stop().await;
}

#[tokio::test]
async fn set_remove_and_clear_change_the_cart() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let mug = create_product(&app, &admin, "Mug", 1000, 10).await;
    let tea = create_product(&app, &admin, "Tea", 300, 10).await;
    let pot = create_product(&app, &admin, "Pot", 5000, 10).await;

    // A product not yet in the cart is added.
    let body = set_body(&app, &ada, &mug, 2).await;
    assert_ok(&body);
    let cart = &body["data"]["setCartQuantity"];
    assert_eq!(lines(cart), vec![(mug.clone(), 2)], "{body}");
    assert_eq!(cart["total"], money(2000));
    // It sets the quantity; it does not add to it.
    let body = set_body(&app, &ada, &mug, 5).await;
    assert_ok(&body);
    assert_eq!(
        lines(&body["data"]["setCartQuantity"]),
        vec![(mug.clone(), 5)]
    );
    add_to_cart(&app, &ada, &tea, 1).await;
    let body = set_body(&app, &ada, &tea, 3).await;
    assert_ok(&body);
    let cart = &body["data"]["setCartQuantity"];
    assert_eq!(
        lines(cart),
        vec![(mug.clone(), 5), (tea.clone(), 3)],
        "{body}"
    );
    assert_eq!(cart["total"], money(5900));

    // 0 removes.
    let body = set_body(&app, &ada, &mug, 0).await;
    assert_ok(&body);
    let cart = &body["data"]["setCartQuantity"];
    assert_eq!(lines(cart), vec![(tea.clone(), 3)], "{body}");
    assert_eq!(cart["total"], money(900));

    // Removing a product that is not in the cart changes nothing.
    let body = app
        .gql(Some(&ada.access_token), REMOVE, json!({ "p": pot }))
        .await;
    assert_ok(&body);
    assert_eq!(
        lines(&body["data"]["removeFromCart"]),
        vec![(tea.clone(), 3)],
        "{body}"
    );
    assert_eq!(body["data"]["removeFromCart"]["total"], money(900));

    add_to_cart(&app, &ada, &pot, 1).await;
    let body = app
        .gql(Some(&ada.access_token), REMOVE, json!({ "p": tea }))
        .await;
    assert_ok(&body);
    let cart = &body["data"]["removeFromCart"];
    assert_eq!(lines(cart), vec![(pot.clone(), 1)], "{body}");
    assert_eq!(cart["total"], money(5000));

    add_to_cart(&app, &ada, &mug, 1).await;
    let body = app.gql(Some(&ada.access_token), CLEAR, json!({})).await;
    assert_ok(&body);
    let cleared = &body["data"]["clearCart"];
    assert_eq!(cleared["items"], json!([]), "{body}");
    assert_eq!(cleared["total"], money(0));
    let cart = cart_of(&app, &ada).await;
    assert_eq!(cart["items"], json!([]), "{cart}");
    assert_eq!(cart["total"], money(0));
    app.stop().await;
}

#[tokio::test]
async fn inactive_or_unknown_products_cannot_be_added_to_a_cart() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let body = create_product_body(
        &app,
        Some(&admin),
        json!({ "name": "Hidden", "priceAmount": 100, "currency": "EUR", "stock": 10, "active": false }),
    )
    .await;
    assert_ok(&body);
    let hidden = id_of(&body["data"]["createProduct"]);
    let retired = create_product(&app, &admin, "Retired", 100, 10).await;
    update_product(&app, &admin, &retired, json!({ "active": false })).await;

    for product in [
        hidden.as_str(),
        retired.as_str(),
        "0192f0c0-0000-7000-8000-000000000000",
        "nope",
    ] {
        let body = add_body(&app, &ada, product, 1).await;
        assert_eq!(code(&body), "NOT_FOUND", "addToCart {product}: {body}");
        let body = set_body(&app, &ada, product, 1).await;
        assert_eq!(
            code(&body),
            "NOT_FOUND",
            "setCartQuantity {product}: {body}"
        );
    }
    let cart = cart_of(&app, &ada).await;
    assert_eq!(cart["items"], json!([]), "{cart}");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Checkout.

#[tokio::test]
async fn checkout_turns_the_cart_into_a_placed_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let mug = create_product(&app, &admin, "Mug", 1999, 5).await;
    let tea = create_product(&app, &admin, "Tea", 250, 10).await;

    let body = checkout_body(&app, &ada).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "an empty cart: {body}");
    let body = app.ok(&ada, USER_SHOP, json!({ "id": ada.id })).await;
    assert_eq!(body["user"]["orders"]["totalCount"], json!(0), "{body}");

    let order = place_order(&app, &ada, &[(&mug, 3), (&tea, 4)]).await;
    let order_id = id_of(&order);
    assert_eq!(order["status"], json!("PLACED"), "{order}");
    assert_eq!(order["buyer"], json!({ "id": ada.id }), "{order}");
    assert_eq!(order["total"], money(6997), "{order}");
    assert_utc_time(&order["placedAt"]);
    let mut expected: Vec<(String, i64, i64, i64)> =
        vec![(mug.clone(), 3, 1999, 5997), (tea.clone(), 4, 250, 1000)];
    expected.sort();
    assert_eq!(order_lines(&order), expected, "{order}");

    assert_eq!(stock_of(&app, &admin, &mug).await, 2, "stock decremented");
    assert_eq!(stock_of(&app, &admin, &tea).await, 6, "stock decremented");
    let cart = cart_of(&app, &ada).await;
    assert_eq!(cart["items"], json!([]), "the cart is emptied: {cart}");
    assert_eq!(cart["total"], money(0));

    // A later price change leaves the order's prices alone.
    update_product(&app, &admin, &mug, json!({ "priceAmount": 2500 })).await;
    let body = app.ok(&ada, ORDER, json!({ "id": order_id })).await;
    let read = &body["order"];
    assert_eq!(order_lines(read), expected, "{read}");
    assert_eq!(read["total"], money(6997), "{read}");
    let mug_line = read["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["product"]["id"] == json!(mug))
        .expect("the mug's line");
    assert_eq!(
        mug_line["product"]["price"]["amount"],
        json!(2500),
        "the product itself has its new price: {read}"
    );

    // user.orders lists the newest first.
    let second = place_order(&app, &ada, &[(&mug, 1)]).await;
    assert_eq!(second["total"], money(2500), "{second}");
    assert_eq!(
        order_lines(&second),
        vec![(mug.clone(), 1, 2500, 2500)],
        "{second}"
    );
    let third = place_order(&app, &ada, &[(&tea, 1)]).await;
    let body = app
        .ok(
            &ada,
            USER_ORDERS,
            json!({ "id": ada.id, "first": null, "after": null }),
        )
        .await;
    let orders = &body["user"]["orders"];
    assert_eq!(
        connection_ids(orders),
        vec![id_of(&third), id_of(&second), order_id.clone()],
        "{body}"
    );
    assert_eq!(orders["totalCount"], json!(3));
    let body = app
        .ok(
            &ada,
            USER_ORDERS,
            json!({ "id": ada.id, "first": 2, "after": null }),
        )
        .await;
    let page = &body["user"]["orders"];
    assert_eq!(
        connection_ids(page),
        vec![id_of(&third), id_of(&second)],
        "{body}"
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], json!(true));
    let cursor = page["pageInfo"]["endCursor"].as_str().expect("cursor");
    let body = app
        .ok(
            &ada,
            USER_ORDERS,
            json!({ "id": ada.id, "first": 2, "after": cursor }),
        )
        .await;
    let rest = &body["user"]["orders"];
    assert_eq!(connection_ids(rest), vec![order_id.clone()], "{body}");
    assert_eq!(rest["pageInfo"]["hasNextPage"], json!(false));
    app.stop().await;
}

#[tokio::test]
async fn checkout_without_enough_stock_is_a_conflict_that_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let mug = create_product(&app, &admin, "Mug", 1000, 2).await;
    let tea = create_product(&app, &admin, "Tea", 300, 10).await;
    let pot = create_product(&app, &admin, "Pot", 5000, 1).await;
    add_to_cart(&app, &ada, &mug, 3).await;
    add_to_cart(&app, &ada, &tea, 1).await;
    add_to_cart(&app, &ada, &pot, 2).await;
    let before = cart_of(&app, &ada).await;

    let body = checkout_body(&app, &ada).await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    assert_eq!(
        conflict_products(&body),
        sorted(&[mug.as_str(), pot.as_str()]),
        "exactly the products lacking stock: {body}"
    );
    assert!(
        body.get("data").is_none_or(|d| d.is_null()),
        "no order: {body}"
    );

    let after = cart_of(&app, &ada).await;
    assert_eq!(after["items"], before["items"], "the cart is kept");
    assert_eq!(after["total"], before["total"]);
    assert_eq!(stock_of(&app, &admin, &mug).await, 2);
    assert_eq!(stock_of(&app, &admin, &tea).await, 10);
    assert_eq!(stock_of(&app, &admin, &pot).await, 1);
    let body = app.ok(&ada, USER_SHOP, json!({ "id": ada.id })).await;
    assert_eq!(body["user"]["orders"]["totalCount"], json!(0), "{body}");

    // With one product short, only that one is named.
    assert_ok(&set_body(&app, &ada, &pot, 1).await);
    let body = checkout_body(&app, &ada).await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    assert_eq!(conflict_products(&body), vec![mug.clone()], "{body}");

    // Exactly the stock there is can be bought.
    assert_ok(&set_body(&app, &ada, &mug, 2).await);
    let body = checkout_body(&app, &ada).await;
    assert_ok(&body);
    assert_eq!(stock_of(&app, &admin, &mug).await, 0);
    assert_eq!(stock_of(&app, &admin, &tea).await, 9);
    assert_eq!(stock_of(&app, &admin, &pot).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_product_deactivated_in_a_cart_stays_there_and_fails_checkout() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let mug = create_product(&app, &admin, "Mug", 1000, 10).await;
    let tea = create_product(&app, &admin, "Tea", 300, 10).await;
    add_to_cart(&app, &ada, &mug, 1).await;
    add_to_cart(&app, &ada, &tea, 2).await;
    update_product(&app, &admin, &mug, json!({ "active": false })).await;

    let cart = cart_of(&app, &ada).await;
    assert_eq!(
        lines(&cart),
        vec![(mug.clone(), 1), (tea.clone(), 2)],
        "{cart}"
    );
    assert_eq!(
        cart["items"][0]["product"],
        json!({ "id": mug, "name": "Mug", "active": false }),
        "shown as inactive: {cart}"
    );

    let body = checkout_body(&app, &ada).await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    assert_eq!(conflict_products(&body), vec![mug.clone()], "{body}");
    assert_eq!(lines(&cart_of(&app, &ada).await), lines(&cart));
    assert_eq!(stock_of(&app, &admin, &mug).await, 10);
    assert_eq!(stock_of(&app, &admin, &tea).await, 10);

    // Once it is out of the cart, the rest goes through.
    app.ok(&ada, REMOVE, json!({ "p": mug })).await;
    let body = checkout_body(&app, &ada).await;
    assert_ok(&body);
    assert_eq!(
        order_lines(&body["data"]["checkout"]),
        vec![(tea.clone(), 2, 300, 600)]
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Cancelling.

#[tokio::test]
async fn cancelling_an_order_returns_its_stock_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let mug = create_product(&app, &admin, "Mug", 1000, 5).await;
    let tea = create_product(&app, &admin, "Tea", 300, 10).await;

    let order = place_order(&app, &ada, &[(&mug, 3), (&tea, 1)]).await;
    let id = id_of(&order);
    assert_eq!(stock_of(&app, &admin, &mug).await, 2);
    let body = app.ok(&ada, CANCEL, json!({ "id": id })).await;
    let cancelled = &body["cancelOrder"];
    assert_eq!(cancelled["status"], json!("CANCELLED"), "{body}");
    assert_eq!(cancelled["id"], json!(id));
    assert_eq!(order_lines(cancelled), order_lines(&order));
    assert_eq!(cancelled["total"], order["total"]);
    assert_eq!(stock_of(&app, &admin, &mug).await, 5, "stock returns");
    assert_eq!(stock_of(&app, &admin, &tea).await, 10, "stock returns");

    let body = app
        .gql(Some(&ada.access_token), CANCEL, json!({ "id": id }))
        .await;
    assert_eq!(code(&body), "CONFLICT", "cancelling twice: {body}");
    assert_eq!(
        stock_of(&app, &admin, &mug).await,
        5,
        "stock returns only once"
    );
    let body = app.ok(&ada, ORDER, json!({ "id": id })).await;
    assert_eq!(body["order"]["status"], json!("CANCELLED"), "{body}");

    // An admin cancels someone else's order.
    let bobs = place_order(&app, &bob, &[(&mug, 4)]).await;
    assert_eq!(stock_of(&app, &admin, &mug).await, 1);
    let body = app.ok(&admin, CANCEL, json!({ "id": id_of(&bobs) })).await;
    assert_eq!(body["cancelOrder"]["status"], json!("CANCELLED"), "{body}");
    assert_eq!(body["cancelOrder"]["buyer"], json!({ "id": bob.id }));
    assert_eq!(stock_of(&app, &admin, &mug).await, 5);

    let body = app
        .gql(
            Some(&admin.access_token),
            CANCEL,
            json!({ "id": "0192f0c0-0000-7000-8000-000000000000" }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "an unknown order: {body}");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Deleting products.

#[tokio::test]
async fn deleting_a_product_in_use_deactivates_it_instead() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let unused = create_product(&app, &admin, "Unused", 100, 1).await;
    let carted = create_product(&app, &admin, "Carted", 200, 5).await;
    let ordered = create_product(&app, &admin, "Ordered", 300, 5).await;

    let body = app
        .gql(
            Some(&admin.access_token),
            DELETE,
            json!({ "id": "0192f0c0-0000-7000-8000-000000000000" }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");

    // In nobody's cart or order: gone.
    let body = app.ok(&admin, DELETE, json!({ "id": unused })).await;
    assert_eq!(body["deleteProduct"], json!(true), "{body}");
    assert_eq!(product_as(&app, Some(&admin), &unused).await, Value::Null);
    let body = app
        .gql(Some(&admin.access_token), DELETE, json!({ "id": unused }))
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "deleted already: {body}");

    // In an order only (the cart was emptied by checkout): deactivated.
    let order = place_order(&app, &ada, &[(&ordered, 2)]).await;
    // In a cart: deactivated.
    add_to_cart(&app, &ada, &carted, 3).await;
    for id in [&carted, &ordered] {
        let body = app.ok(&admin, DELETE, json!({ "id": id })).await;
        assert_eq!(body["deleteProduct"], json!(true), "{body}");
        let seen = product_as(&app, Some(&admin), id).await;
        assert_eq!(seen["active"], json!(false), "{seen}");
        assert_eq!(product_as(&app, None, id).await, Value::Null);
        assert_eq!(product_as(&app, Some(&ada), id).await, Value::Null);
    }
    let list = products_as(&app, Some(&admin), None, None, None).await;
    assert_eq!(
        connection_ids(&list),
        vec![ordered.clone(), carted.clone()],
        "{list}"
    );
    assert_eq!(
        products_as(&app, None, None, None, None).await["totalCount"],
        json!(0)
    );

    let cart = cart_of(&app, &ada).await;
    assert_eq!(
        cart["items"],
        json!([{ "product": { "id": carted, "name": "Carted", "active": false }, "quantity": 3,
                 "lineTotal": { "amount": 600, "currency": "EUR" } }]),
        "it stays in the cart, shown as inactive: {cart}"
    );
    let body = app.ok(&ada, ORDER, json!({ "id": id_of(&order) })).await;
    assert_eq!(
        body["order"]["items"][0]["product"]["name"],
        json!("Ordered"),
        "an order still resolves its product: {body}"
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Concurrency.

#[tokio::test]
async fn concurrent_checkouts_never_sell_more_than_the_stock() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mug = create_product(&app, &admin, "Mug", 1000, 10).await;
    let emails: Vec<String> = (0..50).map(|i| format!("buyer{i}@example.com")).collect();
    let buyers =
        futures_util::future::join_all(emails.iter().map(|e| app.register(e, PASSWORD))).await;
    for buyer in &buyers {
        add_to_cart(&app, buyer, &mug, 1).await;
    }

    let answers =
        futures_util::future::join_all(buyers.iter().map(|b| checkout_body(&app, b))).await;
    let mut placed = Vec::new();
    let mut conflicts = 0;
    for (buyer, body) in buyers.iter().zip(&answers) {
        match code(body) {
            "" => {
                let order = &body["data"]["checkout"];
                assert_eq!(order["status"], json!("PLACED"), "{body}");
                assert_eq!(order["buyer"], json!({ "id": buyer.id }), "{body}");
                placed.push(buyer);
            }
            "CONFLICT" => {
                assert_eq!(conflict_products(body), vec![mug.clone()], "{body}");
                conflicts += 1;
            }
            other => panic!("a checkout failed with {other:?}: {body}"),
        }
    }
    assert_eq!(placed.len(), 10, "exactly the stock is sold");
    assert_eq!(conflicts, 40);
    assert_eq!(stock_of(&app, &admin, &mug).await, 0);

    // The winners' carts are empty and they hold an order; the others keep their cart.
    for buyer in &buyers {
        let body = app.ok(buyer, USER_SHOP, json!({ "id": buyer.id })).await;
        let won = placed.iter().any(|p| p.id == buyer.id);
        let expected = if won {
            json!({ "id": buyer.id, "cart": { "total": { "amount": 0 } }, "orders": { "totalCount": 1 } })
        } else {
            json!({ "id": buyer.id, "cart": { "total": { "amount": 1000 } }, "orders": { "totalCount": 0 } })
        };
        assert_eq!(body["user"], expected, "{body}");
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Users and the shop.

#[tokio::test]
async fn a_deleted_buyers_orders_stay_without_them_and_their_cart_goes() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let mug = create_product(&app, &admin, "Mug", 1000, 5).await;
    let tea = create_product(&app, &admin, "Tea", 300, 5).await;
    let order = place_order(&app, &ada, &[(&mug, 2)]).await;
    let order_id = id_of(&order);
    // Tea is in ada's cart and in nobody's order.
    add_to_cart(&app, &ada, &tea, 1).await;

    let body = app.ok(&ada, DELETE_USER, json!({ "id": ada.id })).await;
    assert_eq!(body["deleteUser"], json!(true), "{body}");

    eventually("the order is kept without its buyer", || async {
        let body = app
            .gql(Some(&admin.access_token), ORDER, json!({ "id": order_id }))
            .await;
        code(&body).is_empty()
            && body["data"]["order"]["id"] == json!(order_id)
            && body["data"]["order"]["buyer"].is_null()
    })
    .await;
    // The cart goes too: once it has, deleting tea (in no order) removes it outright
    // instead of deactivating it.
    eventually("ada's cart is gone", || async {
        let body = app
            .gql(Some(&admin.access_token), DELETE, json!({ "id": tea }))
            .await;
        assert_ok(&body);
        product_as(&app, Some(&admin), &tea).await.is_null()
    })
    .await;

    let body = app.ok(&admin, ORDER, json!({ "id": order_id })).await;
    let kept = &body["order"];
    assert_eq!(kept["status"], json!("PLACED"), "{body}");
    assert_eq!(kept["buyer"], Value::Null, "{body}");
    assert_eq!(kept["total"], money(2000));
    assert_eq!(order_lines(kept), order_lines(&order));
    assert_eq!(stock_of(&app, &admin, &mug).await, 3, "the sale stands");
    // Admins may still cancel it.
    let body = app.ok(&admin, CANCEL, json!({ "id": order_id })).await;
    assert_eq!(body["cancelOrder"]["status"], json!("CANCELLED"), "{body}");
    assert_eq!(stock_of(&app, &admin, &mug).await, 5);
    app.stop().await;
}

#[tokio::test]
async fn one_query_joins_a_users_profile_with_their_cart_and_orders() {
    let app = TestApp::spawn().await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let mug = create_product(&app, &admin, "Mug", 1999, 5).await;
    let tea = create_product(&app, &admin, "Tea", 250, 10).await;
    let first = place_order(&app, &ada, &[(&mug, 2)]).await;
    let second = place_order(&app, &ada, &[(&tea, 1)]).await;
    add_to_cart(&app, &ada, &tea, 3).await;
    add_to_cart(&app, &ada, &mug, 1).await;
    app.create_content(&ada, "A story next to the shop").await;

    // users (firstName), content (contents) and shop (cart, orders) in one query.
    let query = "query($id: ID!) { user(id: $id) { firstName contents(first: 5) { nodes { title } }
        cart { items { product { name price { amount currency } } quantity } }
        orders(first: 5) { nodes { id total { amount } } } } }";
    let expected = json!({
        "firstName": "Ada",
        "contents": { "nodes": [{ "title": "A story next to the shop" }] },
        "cart": { "items": [
            { "product": { "name": "Tea", "price": { "amount": 250, "currency": "EUR" } }, "quantity": 3 },
            { "product": { "name": "Mug", "price": { "amount": 1999, "currency": "EUR" } }, "quantity": 1 },
        ] },
        "orders": { "nodes": [
            { "id": id_of(&second), "total": { "amount": 250 } },
            { "id": id_of(&first), "total": { "amount": 3998 } },
        ] },
    });
    for who in [&ada, &admin] {
        let body = app.ok(who, query, json!({ "id": ada.id })).await;
        assert_eq!(body["user"], expected, "{body}");
    }
    let me = app
        .ok(
            &ada,
            "{ me { lastName cart { total { amount currency } } orders { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["me"],
        json!({ "lastName": "Lovelace", "cart": { "total": { "amount": 2749, "currency": "EUR" } },
                "orders": { "totalCount": 2 } }),
        "{me}"
    );
    // An order's buyer comes back from users.
    let body = app
        .ok(
            &ada,
            "query($id: ID!) { order(id: $id) { buyer { id firstName lastName } } }",
            json!({ "id": id_of(&first) }),
        )
        .await;
    assert_eq!(
        body["order"]["buyer"],
        json!({ "id": ada.id, "firstName": "Ada", "lastName": "Lovelace" }),
        "{body}"
    );
    app.stop().await;
}
