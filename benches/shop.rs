//! Benchmark: the shop's `addToCart` and `checkout` through the router.
//!
//! An admin creates 20 products with plenty of stock; `FOLIO_BENCH_CONCURRENCY` users
//! (default 8) register, one per client. Each part runs for `FOLIO_BENCH_SECS` seconds
//! (default 5) after a 1 s warm-up, and prints requests/s, p50 and p99:
//!
//! - **addToCart**: every client adds one unit to its own user's cart, cycling through
//!   the 20 products (`addToCart(productId, quantity: 1) { total { amount } }`); a cart
//!   is cleared (inside the timed request, once per 1,900 adds) before it would pass the
//!   99-unit limit.
//! - **checkout**: every client adds one unit (untimed) and then checks out (timed): one
//!   transaction that decrements stock, writes the order and empties the cart. Twice: each
//!   client buying its own product (no two checkouts touch the same row), and every
//!   client buying the same product (each checkout waits for the row's lock).
//!
//! Every answer must be HTTP 200 without `errors`; failures are counted and the first
//! few printed. Afterwards each product's stock must equal what it started with less
//! what the placed orders sold. The platform runs in-process on SQLite in a temporary
//! directory, or on PostgreSQL when `FOLIO_TEST_DATABASE_URL` is set (with NATS when
//! `FOLIO_TEST_NATS_URL` is). `cargo bench --bench shop`.

// What a benchmark prints is its report.
#![allow(clippy::print_stdout)]

/// The allocator the `folio` binary ships with (`src/main.rs`), so the figures are
/// the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use folio_testkit::TestApp;
use folio_testkit::load::{closed_loop, env_or, graphql, ms, percentile};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

const PASSWORD: &str = "correct horse battery";
const PRODUCTS: usize = 20;
const STOCK: i64 = 1_000_000;
const WARM_UP: Duration = Duration::from_secs(1);
const SHOWN_FAILURES: usize = 5;
/// Adds to one cart before it is cleared (20 products × 99 units hold 1,980).
const ADDS_PER_CART: u64 = 1_900;

const CREATE: &str = "mutation($i: ProductInput!) { createProduct(input: $i) { id } }";
const ADD: &str =
    "mutation($p: ID!) { addToCart(productId: $p, quantity: 1) { total { amount } } }";
const CLEAR: &str = "mutation { clearCart { total { amount } } }";
const CHECKOUT: &str = "mutation { checkout { id status total { amount } } }";
const STOCK_OF: &str = "query($id: ID!) { product(id: $id) { stock } }";

/// One signed-in client: its HTTP client, the router's URL and its access token.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    url: Arc<str>,
    token: Arc<str>,
}

impl Client {
    /// Sends `query`; its `data`, or why it failed.
    async fn send(&self, query: &str, variables: Value) -> Result<Value, String> {
        graphql(&self.http, &self.url, Some(&self.token), query, variables).await
    }
}

/// What one checkout run measured.
struct Checkouts {
    done: u64,
    failures: u64,
    shown: Vec<String>,
    secs: f64,
    p50: Duration,
    p99: Duration,
}

/// Each client adds one unit of `product(client)` (untimed) and checks out (timed),
/// back to back, for the warm-up and `secs`.
async fn checkouts(
    clients: &[Client],
    products: Arc<Vec<String>>,
    product: fn(usize) -> usize,
    secs: Duration,
) -> Checkouts {
    let measure_from = Instant::now() + WARM_UP;
    let end = measure_from + secs;
    let mut set = JoinSet::new();
    for (w, client) in clients.iter().cloned().enumerate() {
        let products = products.clone();
        set.spawn(async move {
            let (mut lat, mut failures, mut shown) = (Vec::new(), 0u64, Vec::new());
            while Instant::now() < end {
                let p = &products[product(w) % products.len()];
                let added = client.send(ADD, json!({ "p": p })).await;
                let start = Instant::now();
                let placed = match added {
                    Ok(_) => client.send(CHECKOUT, json!({})).await.and_then(|d| {
                        (d["checkout"]["status"] == json!("PLACED"))
                            .then_some(())
                            .ok_or_else(|| format!("not placed: {d}"))
                    }),
                    Err(e) => Err(e),
                };
                if start < measure_from {
                    continue;
                }
                match placed {
                    Ok(()) => lat.push(start.elapsed()),
                    Err(e) => {
                        failures += 1;
                        if shown.len() < SHOWN_FAILURES {
                            shown.push(e);
                        }
                    }
                }
            }
            (lat, failures, shown)
        });
    }
    let (mut lat, mut failures, mut shown) = (Vec::new(), 0, Vec::new());
    while let Some(done) = set.join_next().await {
        let (l, f, s) = done.expect("a load worker panicked");
        lat.extend(l);
        failures += f;
        shown.extend(s);
    }
    lat.sort();
    shown.truncate(SHOWN_FAILURES);
    Checkouts {
        done: lat.len() as u64,
        failures,
        shown,
        secs: secs.as_secs_f64(),
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
    }
}

fn failures(n: u64, shown: &[String]) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("   {n} FAILED: {shown:?}")
    }
}

#[tokio::main]
async fn main() {
    let workers = env_or("FOLIO_BENCH_CONCURRENCY", 8) as usize;
    let secs = Duration::from_secs(env_or("FOLIO_BENCH_SECS", 5));
    let app = TestApp::spawn().await;
    let database = if std::env::var("FOLIO_TEST_DATABASE_URL").is_ok() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "the shop through the router ({database}; {cores} cores shared with the load generator)"
    );
    let http = reqwest::Client::new();
    let url: Arc<str> = app.url.clone().into();
    let admin = app
        .admin("admin@example.com", "a long admin password")
        .await;
    let admin = Client {
        http: http.clone(),
        url: url.clone(),
        token: admin.access_token.clone().into(),
    };
    let mut products = Vec::new();
    for i in 0..PRODUCTS {
        let input = json!({ "name": format!("Product {i}"), "priceAmount": 100 + i, "currency": "EUR", "stock": STOCK });
        let data = admin
            .send(CREATE, json!({ "i": input }))
            .await
            .expect("createProduct");
        products.push(data["createProduct"]["id"].as_str().expect("id").to_owned());
    }
    let products = Arc::new(products);
    let mut clients = Vec::new();
    for i in 0..workers {
        let user = app
            .register(&format!("buyer{i}@example.com"), PASSWORD)
            .await;
        clients.push(Client {
            http: http.clone(),
            url: url.clone(),
            token: user.access_token.clone().into(),
        });
    }
    println!(
        "{:<34} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "operation", "clients", "requests", "req/s", "p50 ms", "p99 ms"
    );

    // addToCart: each client its own cart.
    let counters: Arc<Vec<AtomicU64>> = Arc::new((0..workers).map(|_| AtomicU64::new(0)).collect());
    let stats = {
        let (clients, products, counters) = (clients.clone(), products.clone(), counters.clone());
        closed_loop(workers, WARM_UP, secs, move |w| {
            let (client, products) = (clients[w].clone(), products.clone());
            let n = counters[w].fetch_add(1, Ordering::Relaxed);
            async move {
                if n > 0 && n.is_multiple_of(ADDS_PER_CART) {
                    client.send(CLEAR, json!({})).await?;
                }
                let p = &products[n as usize % products.len()];
                let data = client.send(ADD, json!({ "p": p })).await?;
                if data["addToCart"]["total"]["amount"].as_i64().unwrap_or(0) <= 0 {
                    return Err(format!("an empty cart after adding: {data}"));
                }
                Ok(())
            }
        })
        .await
    };
    println!(
        "{:<34} {:>8} {:>9} {:>9.0} {:>9.2} {:>9.2}{}",
        "addToCart (own carts)",
        workers,
        stats.ok,
        stats.rps,
        ms(stats.p50),
        ms(stats.p99),
        failures(stats.failures, &stats.shown)
    );
    for client in &clients {
        client.send(CLEAR, json!({})).await.expect("clearCart");
    }

    for (label, product) in [
        (
            "checkout (each its own product)",
            (|w| w) as fn(usize) -> usize,
        ),
        ("checkout (all the same product)", |_| 0),
    ] {
        let run = checkouts(&clients, products.clone(), product, secs).await;
        println!(
            "{:<34} {:>8} {:>9} {:>9.0} {:>9.2} {:>9.2}{}",
            label,
            workers,
            run.done,
            run.done as f64 / run.secs,
            ms(run.p50),
            ms(run.p99),
            failures(run.failures, &run.shown)
        );
    }

    // Stock is exact: what every placed order sold, and nothing more, left it.
    let mut sold = [0i64; PRODUCTS];
    for client in &clients {
        let mut after: Option<String> = None;
        loop {
            let data = client
                .send(
                    "query($a: String) { me { orders(first: 100, after: $a) { pageInfo { hasNextPage endCursor } nodes { status items { product { id } quantity } } } } }",
                    json!({ "a": after }),
                )
                .await
                .expect("the client's orders");
            let orders = &data["me"]["orders"];
            for order in orders["nodes"].as_array().expect("orders") {
                assert_eq!(order["status"], json!("PLACED"));
                for item in order["items"].as_array().expect("items") {
                    let id = item["product"]["id"].as_str().expect("a product id");
                    let i = products
                        .iter()
                        .position(|p| p == id)
                        .expect("a known product");
                    sold[i] += item["quantity"].as_i64().expect("a quantity");
                }
            }
            if orders["pageInfo"]["hasNextPage"] != json!(true) {
                break;
            }
            after = orders["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        }
    }
    for (i, id) in products.iter().enumerate() {
        let data = admin
            .send(STOCK_OF, json!({ "id": id }))
            .await
            .expect("a product's stock");
        assert_eq!(
            data["product"]["stock"].as_i64(),
            Some(STOCK - sold[i]),
            "product {i}: stock {STOCK} less {} sold",
            sold[i]
        );
    }
    println!(
        "stock checked: {} units sold in all, every product's stock is its start less its orders",
        sold.iter().sum::<i64>()
    );
    app.stop().await;
}
