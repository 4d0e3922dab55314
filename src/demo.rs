//! Demo data: `folio demo`, or `folio serve --demo` on an empty platform.
//!
//! Everything goes in through the same doors as a client's: two admins as `folio admin
//! create` makes them (the only way an admin comes to be), then, through the router's
//! GraphQL API, users registering, writing stories with tags and cover pictures,
//! following, reading, liking and commenting, admins stocking the shop, and a few carts and
//! an order. So every rule, event and counter is the API's own, and what GraphiQL shows
//! afterwards is what clients would have made.

use anyhow::{Context as _, bail};
use folio_common::Config;
use folio_users::UsersState;
use serde_json::{Value, json};

/// The password of every demo account (documented in the README's "First run").
pub const PASSWORD: &str = "folio-demo-password";

/// The demo admins: email, first and last name.
const ADMINS: [(&str, &str, &str); 2] = [
    ("ada@example.com", "Ada", "Lovelace"),
    ("grace@example.com", "Grace", "Hopper"),
];

/// The demo writers and readers: email, first and last name.
const USERS: [(&str, &str, &str); 4] = [
    ("alan@example.com", "Alan", "Turing"),
    ("katherine@example.com", "Katherine", "Johnson"),
    ("edsger@example.com", "Edsger", "Dijkstra"),
    ("barbara@example.com", "Barbara", "Liskov"),
];

/// The stories: author (an index into every account, admins first), title,
/// description, story, tags.
const STORIES: [(usize, &str, &str, &str, &[&str]); 10] = [
    (
        0,
        "Notes on the Analytical Engine",
        "What a machine that weaves algebra could do.",
        "The engine might act upon other things besides number. Supposing the fundamental relations of pitched sounds were expressed this way, it might compose elaborate pieces of music of any degree of complexity.",
        &["computing", "history"],
    ),
    (
        1,
        "The first bug",
        "A moth, a relay, and a logbook entry.",
        "We found the moth trapped in relay 70 of panel F and taped it into the logbook: the first actual case of a bug being found. Debugging has been with us ever since.",
        &["computing", "debugging"],
    ),
    (
        2,
        "Can machines think?",
        "An imitation game instead of a definition.",
        "Rather than define thinking, play a game: can an interrogator tell the machine from the person by their answers alone? The question becomes one we can test.",
        &["ai", "philosophy"],
    ),
    (
        3,
        "Trajectories by hand",
        "Orbits checked with pencil and paper.",
        "Before the electronic computers were trusted, every orbit was checked by hand. Get the numbers right and the capsule comes home; the astronauts asked for it by name.",
        &["space", "mathematics"],
    ),
    (
        4,
        "Go to considered harmful",
        "Structure makes programs readable.",
        "The quality of programmers is a decreasing function of the density of go to statements in the programs they produce. Structure the flow, and the text shows the process.",
        &["programming", "structure"],
    ),
    (
        5,
        "Substitutability",
        "What a subtype owes its clients.",
        "If for each object of a subtype there is an object of the supertype such that programs behave the same when one replaces the other, the subtype keeps its promise.",
        &["programming", "types"],
    ),
    (
        2,
        "Morphogenesis",
        "Spots and stripes from chemistry.",
        "Two chemicals reacting and diffusing at different rates can turn a uniform tissue into spots and stripes: a pattern from nothing but local rules.",
        &["biology", "mathematics"],
    ),
    (
        4,
        "The shortest path",
        "Twenty minutes on a café terrace.",
        "Settle the nearest unsettled node, relax its neighbours, repeat. The algorithm took twenty minutes to design, without pencil and paper, which kept it simple.",
        &["algorithms", "programming"],
    ),
    (
        3,
        "Counting to the Moon",
        "Numbers that had to be right.",
        "A rendezvous in orbit is arithmetic with no second try. Every figure was checked twice, by two different people, before it flew.",
        &["space", "history"],
    ),
    (
        1,
        "Nanoseconds",
        "A foot of wire.",
        "Hand out a length of wire as long as light travels in a nanosecond, and admirals understand why satellite messages take so long.",
        &["computing", "teaching"],
    ),
];

/// The shop's products: name, description, price in cents, stock.
const PRODUCTS: [(&str, &str, i64, i64); 4] = [
    ("Folio mug", "Holds a day's worth of coffee.", 1200, 40),
    ("Notebook", "Squared paper, for trajectories.", 800, 100),
    ("Relay 70 sticker", "The moth, in vinyl.", 300, 500),
    ("Punched-card bookmark", "Eighty columns of wisdom.", 450, 0),
];

/// What the demo made, to print.
pub struct DemoReport {
    pub accounts: Vec<String>,
    pub contents: usize,
    pub products: usize,
}

impl DemoReport {
    /// How to sign in, for the terminal.
    pub fn lines(&self, graphiql: &str) -> Vec<String> {
        let mut out = vec![
            format!(
                "demo data: {} accounts, {} stories with tags, follows, likes, reads and comments, {} products, carts and an order",
                self.accounts.len(),
                self.contents,
                self.products
            ),
            format!("every demo account's password: {PASSWORD}"),
            format!(
                "admins: {}; users: {}",
                self.accounts[..ADMINS.len()].join(", "),
                self.accounts[ADMINS.len()..].join(", ")
            ),
        ];
        out.push(format!(
            "sign in at {graphiql}: mutation {{ login(email: \"{}\", password: \"{PASSWORD}\") {{ accessToken }} }}, then add the header {{\"Authorization\": \"Bearer <accessToken>\"}}",
            ADMINS[0].0
        ));
        out
    }
}

/// Whether the platform holds no user yet (so `serve --demo` fills it).
pub async fn is_empty(users: &UsersState) -> anyhow::Result<bool> {
    let count = users.store.count_users().await;
    let count = count.map_err(|e| anyhow::anyhow!("counting users: {}", e.log_message()))?;
    Ok(count == 0)
}

/// Fills the platform behind `router` (its `/graphql` URL) with the demo data; the admins
/// are made through `users` (the users service's state over its database), as `folio
/// admin create` makes them.
pub async fn seed(cfg: &Config, users: &UsersState, router: &str) -> anyhow::Result<DemoReport> {
    for (email, first, last) in ADMINS {
        folio_users::ensure_admin(users, email, PASSWORD, first, last).await?;
    }
    let api = Api {
        client: folio_common::tls::client_builder(cfg)?.build()?,
        url: router.to_owned(),
    };
    // Every account signed in, admins first.
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for (email, _, _) in ADMINS {
        let d = api
            .run(None, LOGIN, json!({ "e": email, "p": PASSWORD }))
            .await?;
        tokens.push(text(&d, "/login/accessToken")?);
        ids.push(text(&d, "/login/user/id")?);
    }
    for (email, first, last) in USERS {
        let input =
            json!({ "email": email, "password": PASSWORD, "firstName": first, "lastName": last });
        let d = api.run(None, REGISTER, json!({ "i": input })).await?;
        tokens.push(text(&d, "/register/accessToken")?);
        ids.push(text(&d, "/register/user/id")?);
    }

    let mut contents = Vec::new();
    for (i, (author, title, description, story, tags)) in STORIES.iter().enumerate() {
        let input =
            json!({ "title": title, "description": description, "story": story, "tags": tags });
        let d = api
            .run(
                Some(&tokens[*author]),
                CREATE_CONTENT,
                json!({ "i": input }),
            )
            .await?;
        let id = text(&d, "/createContent/id")?;
        api.upload(&tokens[*author], &id, cover(i)?).await?;
        contents.push(id);
    }

    // Everyone follows the next two accounts round the circle.
    for (i, token) in tokens.iter().enumerate() {
        for step in 1..=2 {
            let who = &ids[(i + step) % ids.len()];
            api.run(Some(token), FOLLOW, json!({ "u": who })).await?;
        }
    }
    // Reader i reads every story whose index is not a multiple of i + 2 (earlier stories
    // get more readers), and likes one in three of them; some leave a word.
    let remarks = [
        "Beautifully put.",
        "I had never thought of it this way.",
        "Sharing this with my team.",
        "Short and to the point.",
    ];
    for (i, token) in tokens.iter().enumerate() {
        for (c, content) in contents.iter().enumerate() {
            if c % (i + 2) == 0 && c > 0 {
                continue;
            }
            api.run(Some(token), READ, json!({ "c": content })).await?;
            if (c + i) % 3 == 0 {
                api.run(Some(token), LIKE, json!({ "c": content })).await?;
            }
            if (c + i) % 5 == 0 {
                let body = remarks[(c + i) % remarks.len()];
                api.run(Some(token), COMMENT, json!({ "c": content, "b": body }))
                    .await?;
            }
        }
    }

    let mut products = Vec::new();
    for (name, description, price, stock) in PRODUCTS {
        let input = json!({ "name": name, "description": description, "priceAmount": price,
            "currency": cfg.shop_currency, "stock": stock });
        let d = api
            .run(Some(&tokens[0]), CREATE_PRODUCT, json!({ "i": input }))
            .await?;
        products.push(text(&d, "/createProduct/id")?);
    }
    // Two users with something in their carts; one of them has already bought once.
    let (alan, katherine) = (&tokens[ADMINS.len()], &tokens[ADMINS.len() + 1]);
    api.run(Some(alan), ADD_TO_CART, json!({ "p": products[0], "q": 1 }))
        .await?;
    api.run(Some(alan), ADD_TO_CART, json!({ "p": products[2], "q": 3 }))
        .await?;
    api.run(Some(alan), CHECKOUT, json!({})).await?;
    api.run(Some(alan), ADD_TO_CART, json!({ "p": products[1], "q": 2 }))
        .await?;
    api.run(
        Some(katherine),
        ADD_TO_CART,
        json!({ "p": products[1], "q": 1 }),
    )
    .await?;

    Ok(DemoReport {
        accounts: ADMINS
            .iter()
            .chain(USERS.iter())
            .map(|(email, _, _)| (*email).to_owned())
            .collect(),
        contents: contents.len(),
        products: products.len(),
    })
}

const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken user { id } } }";
const REGISTER: &str =
    "mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }";
const CREATE_CONTENT: &str =
    "mutation($i: CreateContentInput!) { createContent(input: $i) { id } }";
const SET_IMAGE: &str =
    "mutation($c: ID!, $f: Upload!) { setContentImage(contentId: $c, file: $f) { id } }";
const FOLLOW: &str = "mutation($u: ID!) { follow(userId: $u) { id } }";
const READ: &str = "mutation($c: ID!) { recordRead(contentId: $c) { id } }";
const LIKE: &str = "mutation($c: ID!) { like(contentId: $c) { id } }";
const COMMENT: &str =
    "mutation($c: ID!, $b: String!) { addComment(contentId: $c, body: $b) { id } }";
const CREATE_PRODUCT: &str = "mutation($i: ProductInput!) { createProduct(input: $i) { id } }";
const ADD_TO_CART: &str =
    "mutation($p: ID!, $q: Int) { addToCart(productId: $p, quantity: $q) { updatedAt } }";
const CHECKOUT: &str = "mutation { checkout { id } }";

/// The router's GraphQL endpoint, as a client uses it.
struct Api {
    client: reqwest::Client,
    url: String,
}

impl Api {
    /// Runs `query`; its `data`, or the errors as an error.
    async fn run(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .client
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let body: Value = req
            .send()
            .await
            .with_context(|| format!("reaching the router at {}", self.url))?
            .json()
            .await
            .context("reading the router's answer")?;
        if let Some(errors) = body.get("errors") {
            bail!("{query}: {errors}");
        }
        Ok(body["data"].clone())
    }

    /// Sets `content`'s picture (a PNG) through the multipart upload, as a browser would.
    async fn upload(&self, token: &str, content: &str, png: Vec<u8>) -> anyhow::Result<()> {
        let form = folio_common::client::upload_form(
            SET_IMAGE,
            json!({ "c": content }),
            png,
            "cover.png",
            "image/png",
        )?;
        let body: Value = self
            .client
            .post(&self.url)
            .bearer_auth(token)
            .header("apollo-require-preflight", "true")
            .multipart(form)
            .send()
            .await?
            .json()
            .await?;
        if let Some(errors) = body.get("errors") {
            bail!("setContentImage: {errors}");
        }
        Ok(())
    }
}

/// `pointer` in `data`, as a string.
fn text(data: &Value, pointer: &str) -> anyhow::Result<String> {
    data.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("no {pointer} in {data}"))
}

/// A 640×360 cover picture for story `i`: a diagonal gradient between two colours of
/// its own, as PNG.
fn cover(i: usize) -> anyhow::Result<Vec<u8>> {
    let hue = |k: usize| -> [f32; 3] {
        let palette = [
            [0.93, 0.36, 0.29],
            [0.98, 0.75, 0.25],
            [0.31, 0.68, 0.56],
            [0.26, 0.47, 0.83],
            [0.55, 0.35, 0.75],
        ];
        palette[k % palette.len()]
    };
    let (a, b) = (hue(i), hue(i + 2));
    let img = image::RgbImage::from_fn(640, 360, |x, y| {
        let t = (x as f32 / 640.0 + y as f32 / 360.0) / 2.0;
        let mix = |c: usize| ((a[c] * (1.0 - t) + b[c] * t) * 255.0) as u8;
        image::Rgb([mix(0), mix(1), mix(2)])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)?;
    Ok(png.into_inner())
}
