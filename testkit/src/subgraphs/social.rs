//! The `social` fixture's subgraphs: real federation v2 servers for the executor's tests
//! and the router benchmark.
//!
//! [`spawn_social`] starts the `users`, `content` and `interactions` subgraphs of
//! `router/src/plan/fixtures/social/*.graphql` (composed into
//! `router/src/plan/fixtures/social.supergraph.graphql`, see [`social_supergraph_sdl`]) on `127.0.0.1:0`, each as `POST /graphql`, over a small
//! fixed in-memory dataset. Every request body is logged ([`Social::log`]); [`SocialOptions`]
//! takes subgraphs down, slows them, or makes one field fail.
//!
//! Dataset (shared by the three subgraphs; only `rename` and `createPost` change it):
//! - users: u1 Ada (ada@example.com, riskScore 7, legacyHandle "ada"), u2 Bob
//!   (bob@example.com, riskScore 1), u3 Cy (no email, riskScore or handle). `me` is u1.
//! - posts: p1 "Hello"/"First post"/2026-01-01/u1, p2 "Second"/"Second post"/2026-01-02/u2,
//!   p3 "Third"/"Third post"/2026-01-04/u1; photo ph1 https://img/1.png/2026-01-03/u2.
//!   `feed` is [ph1, p2, p1]; `createPost` adds p4, p5, … by u1 dated 2026-02-01.
//! - likes p1 3, p2 0, p3 1 (others 0); comments c1 "Nice" u2 on p1, c2 "Agreed" u3 on p1,
//!   c3 "Hmm" u1 on p2.
//!
//! Errors behave as async-graphql 7 makes them (as in Folio's own subgraphs): a field that
//! fails is left out of its object, with an error, and nothing is nulled, even when the
//! field is non-null. One deviation: `_entities` with its representations in a variable
//! answers per entity, as Apollo subgraphs do (see [`execute_one`]).

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{
    BatchRequest, EmptyMutation, EmptySubscription, Executor, PathSegment, QueryPathSegment,
    Schema, ServerError, ServerResult, Value,
};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use folio_router::execute::fetch::Uploads;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The composed fixture supergraph the three subgraphs implement.
pub fn social_supergraph_sdl() -> &'static str {
    include_str!("../../../router/src/plan/fixtures/social.supergraph.graphql")
}

/// The running subgraphs.
pub struct Social {
    /// subgraph name ("users", "content", "interactions") -> URL of its POST /graphql endpoint
    pub urls: BTreeMap<String, String>,
    /// every request each subgraph received: (subgraph name, the GraphQL request body as JSON)
    pub log: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
}

impl Social {
    /// Plans `query` on the `social` supergraph and executes it against these subgraphs
    /// (see [`super::execute`]).
    pub async fn run(&self, query: &str, variables: serde_json::Value) -> serde_json::Value {
        self.run_with_uploads(query, variables, &Default::default())
            .await
    }

    /// [`Social::run`] with the files of a multipart request; the variables are coerced
    /// first, as the pipeline does (upload markers must pass for an `Upload!`).
    pub async fn run_with_uploads(
        &self,
        query: &str,
        variables: serde_json::Value,
        uploads: &Uploads,
    ) -> serde_json::Value {
        super::execute(
            social_supergraph_sdl(),
            &self.urls,
            query,
            variables,
            uploads,
            1,
        )
        .await
        .pop()
        .unwrap_or_default()
    }

    /// The `_entities` request bodies `subgraph` received, in order.
    pub fn entity_requests(&self, subgraph: &str) -> Vec<serde_json::Value> {
        self.requests_to(subgraph)
            .into_iter()
            .filter(|r| r["query"].as_str().is_some_and(|q| q.contains("_entities")))
            .collect()
    }

    /// The request bodies `subgraph` received, in order.
    pub fn requests_to(&self, subgraph: &str) -> Vec<serde_json::Value> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(name, _)| name == subgraph)
            .map(|(_, body)| body.clone())
            .collect()
    }
}

/// How [`spawn_social_with`] deviates from healthy subgraphs.
#[derive(Default)]
pub struct SocialOptions {
    /// These subgraphs get a URL where nothing listens.
    pub down: Vec<&'static str>,
    /// Delay before answering, per subgraph.
    pub slow: Vec<(&'static str, Duration)>,
    /// `(type, field)` that returns a GraphQL error "boom" with `extensions.code`
    /// "TEST_FAILURE" instead of its value, e.g. `("Post", "likes")`; in every subgraph.
    pub fail_field: Option<(&'static str, &'static str)>,
}

/// The three subgraphs, healthy, until the test (its runtime) ends.
pub async fn spawn_social() -> Social {
    spawn_social_with(SocialOptions::default()).await
}

/// The three subgraphs, with `opts` applied.
pub async fn spawn_social_with(opts: SocialOptions) -> Social {
    let world: Store = Arc::new(Mutex::new(World::seed()));
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut urls = BTreeMap::new();
    for name in ["users", "content", "interactions"] {
        let url = if opts.down.contains(&name) {
            // Bind to learn a free port, then close it: connections are refused.
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            drop(listener);
            format!("http://{addr}/graphql")
        } else {
            let delay = opts.slow.iter().find(|(n, _)| *n == name).map(|(_, d)| *d);
            let fail = opts.fail_field;
            let log = log.clone();
            match name {
                "users" => serve(name, users::schema(world.clone(), fail), log, delay).await,
                "content" => serve(name, content::schema(world.clone(), fail), log, delay).await,
                _ => serve(name, interactions::schema(world.clone(), fail), log, delay).await,
            }
        };
        urls.insert(name.to_owned(), url);
    }
    Social { urls, log }
}

type Log = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

async fn serve<E: Executor>(
    name: &'static str,
    schema: E,
    log: Log,
    delay: Option<Duration>,
) -> String {
    let handler = move |headers: axum::http::HeaderMap, bytes: bytes::Bytes| {
        let schema = schema.clone();
        let log = log.clone();
        async move {
            let content_type = headers
                .get(axum::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            if content_type.starts_with("multipart/form-data") {
                return multipart(&schema, name, &log, &headers, &content_type, &bytes).await;
            }
            let body: serde_json::Value = match serde_json::from_slice(&bytes) {
                Ok(b) => b,
                Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
            };
            log.lock().unwrap().push((name.to_owned(), body.clone()));
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            let answer = if body.is_object() {
                execute_one(&schema, body).await
            } else {
                match serde_json::from_value::<BatchRequest>(body) {
                    Ok(req) => serde_json::to_value(schema.execute_batch(req).await)
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            };
            match answer {
                Ok(json) => axum::Json(json).into_response(),
                Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
            }
        }
    };
    let app = axum::Router::new().route("/graphql", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    format!("http://{addr}/graphql")
}

/// A GraphQL multipart request (file upload), read by async-graphql. The log gets
/// `{"multipart": {"preflight": <apollo-require-preflight header>, "signed": <identity
/// header present>}, "query": …, "variables": <as async-graphql saw them>}`.
async fn multipart<E: Executor>(
    schema: &E,
    name: &'static str,
    log: &Log,
    headers: &axum::http::HeaderMap,
    content_type: &str,
    bytes: &[u8],
) -> axum::response::Response {
    let header = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let request = match async_graphql::http::receive_body(
        Some(content_type),
        bytes,
        async_graphql::http::MultipartOptions::default(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    log.lock().unwrap().push((
        name.to_owned(),
        serde_json::json!({
            "multipart": {
                "preflight": header("apollo-require-preflight"),
                "signed": header("x-folio-identity-ts").is_some(),
            },
            "query": request.query,
            "variables": serde_json::to_value(&request.variables).unwrap_or_default(),
        }),
    ));
    axum::Json(serde_json::to_value(schema.execute(request).await).unwrap_or_default())
        .into_response()
}

/// Executes one request. async-graphql resolves `_entities` all-or-nothing (one failed
/// entity nulls the whole list, an unknown one fails it with "Entity not found.") and
/// leaves the list index out of error paths. Subgraphs built on Apollo's libraries null
/// just the entity and report `["_entities", i, …]`, so an `_entities` query whose
/// representations come in a variable runs once per representation and is merged that way.
async fn execute_one<E: Executor>(
    schema: &E,
    body: serde_json::Value,
) -> Result<serde_json::Value, String> {
    use serde_json::Value as Json;
    let req: async_graphql::Request =
        serde_json::from_value(body.clone()).map_err(|e| e.to_string())?;
    let split =
        entities_variable(&req.query, req.operation_name.as_deref()).and_then(|(key, var)| {
            match body.get("variables").and_then(|v| v.get(&var)) {
                Some(Json::Array(reps)) if !reps.is_empty() => Some((key, var, reps.clone())),
                _ => None,
            }
        });
    let Some((key, var, reps)) = split else {
        return serde_json::to_value(schema.execute(req).await).map_err(|e| e.to_string());
    };
    let mut entities = Vec::new();
    let mut errors = Vec::new();
    for (i, rep) in reps.into_iter().enumerate() {
        let mut one = body.clone();
        one["variables"][&var] = Json::Array(vec![rep]);
        let req = serde_json::from_value(one).map_err(|e| e.to_string())?;
        let resp = serde_json::to_value(schema.execute(req).await).map_err(|e| e.to_string())?;
        let errs = resp
            .get("errors")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        if resp.get("data").is_none_or(Json::is_null)
            && errs.iter().any(|e| e.get("path").is_none())
        {
            // A request error (parse, validation, variables): the same for every entity.
            return Ok(resp);
        }
        entities.push(resp["data"][&key].get(0).cloned().unwrap_or(Json::Null));
        for mut e in errs {
            if e["message"] == "Entity not found." {
                continue;
            }
            if let Some(path) = e.get_mut("path").and_then(Json::as_array_mut)
                && path.first().and_then(Json::as_str) == Some(key.as_str())
            {
                path.insert(1, Json::from(i));
            }
            errors.push(e);
        }
    }
    let mut out = serde_json::json!({ "data": { key: entities } });
    if !errors.is_empty() {
        out["errors"] = Json::Array(errors);
    }
    Ok(out)
}

/// `(response key, variable name)` of the operation's root `_entities(representations: $v)`.
fn entities_variable(query: &str, operation_name: Option<&str>) -> Option<(String, String)> {
    use async_graphql::parser::types::{DocumentOperations, Selection};
    let doc = async_graphql::parser::parse_query(query).ok()?;
    let op = match &doc.operations {
        DocumentOperations::Single(op) => op,
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops.get(name)?,
            None if ops.len() == 1 => ops.values().next()?,
            None => return None,
        },
    };
    let mut found = op
        .node
        .selection_set
        .node
        .items
        .iter()
        .filter_map(|s| match &s.node {
            Selection::Field(f) if f.node.name.node == "_entities" => Some(&f.node),
            _ => None,
        });
    let field = found.next()?;
    if found.next().is_some() {
        return None;
    }
    // The parser's (non-const) `Value` is not exported; a variable displays as `$name`.
    let arg = field.get_argument("representations")?.node.to_string();
    let var = arg.strip_prefix('$')?;
    Some((field.response_key().node.to_string(), var.to_owned()))
}

// ---------------------------------------------------------------------------------------
// Data

type Store = Arc<Mutex<World>>;

#[derive(Clone)]
struct UserRow {
    id: &'static str,
    name: String,
    email: Option<&'static str>,
    risk_score: Option<i32>,
    legacy_handle: Option<&'static str>,
}

#[derive(Clone)]
struct PostRow {
    id: String,
    title: String,
    body: String,
    created_at: &'static str,
    author: &'static str,
}

#[derive(Clone)]
struct PhotoRow {
    id: &'static str,
    url: &'static str,
    created_at: &'static str,
    author: &'static str,
}

#[derive(Clone)]
struct CommentRow {
    id: &'static str,
    text: &'static str,
    author: &'static str,
    post: &'static str,
}

struct World {
    users: Vec<UserRow>,
    posts: Vec<PostRow>,
    photos: Vec<PhotoRow>,
    comments: Vec<CommentRow>,
    likes: BTreeMap<&'static str, i32>,
}

impl World {
    fn seed() -> World {
        let user = |id, name: &str, email, risk_score, legacy_handle| UserRow {
            id,
            name: name.to_owned(),
            email,
            risk_score,
            legacy_handle,
        };
        let post = |id: &str, title: &str, body: &str, created_at, author| PostRow {
            id: id.to_owned(),
            title: title.to_owned(),
            body: body.to_owned(),
            created_at,
            author,
        };
        let comment = |id, text, author, post| CommentRow {
            id,
            text,
            author,
            post,
        };
        World {
            users: vec![
                user("u1", "Ada", Some("ada@example.com"), Some(7), Some("ada")),
                user("u2", "Bob", Some("bob@example.com"), Some(1), None),
                user("u3", "Cy", None, None, None),
            ],
            posts: vec![
                post("p1", "Hello", "First post", "2026-01-01", "u1"),
                post("p2", "Second", "Second post", "2026-01-02", "u2"),
                post("p3", "Third", "Third post", "2026-01-04", "u1"),
            ],
            photos: vec![PhotoRow {
                id: "ph1",
                url: "https://img/1.png",
                created_at: "2026-01-03",
                author: "u2",
            }],
            comments: vec![
                comment("c1", "Nice", "u2", "p1"),
                comment("c2", "Agreed", "u3", "p1"),
                comment("c3", "Hmm", "u1", "p2"),
            ],
            likes: BTreeMap::from([("p1", 3), ("p2", 0), ("p3", 1)]),
        }
    }
}

fn world<'a>(ctx: &async_graphql::Context<'a>) -> &'a Store {
    ctx.data_unchecked::<Store>()
}

// ---------------------------------------------------------------------------------------
// fail_field: an extension failing one (type, field) everywhere it is resolved.

struct FailField(&'static str, &'static str);

impl ExtensionFactory for FailField {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FailFieldExt(self.0, self.1))
    }
}

struct FailFieldExt(&'static str, &'static str);

// `Extension` is an `#[async_trait]`; this is its desugared `resolve` (the router does not
// depend on the async-trait crate).
impl Extension for FailFieldExt {
    fn resolve<'life0, 'life1, 'life2, 'life3, 'life4, 'async_trait>(
        &'life0 self,
        ctx: &'life1 ExtensionContext<'life2>,
        info: ResolveInfo<'life3>,
        next: NextResolve<'life4>,
    ) -> Pin<Box<dyn Future<Output = ServerResult<Option<Value>>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        'life3: 'async_trait,
        'life4: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            if info.parent_type == self.0 && info.name == self.1 {
                let mut path = Vec::new();
                let mut node = Some(info.path_node);
                while let Some(n) = node {
                    path.push(match n.segment {
                        QueryPathSegment::Index(i) => PathSegment::Index(i),
                        QueryPathSegment::Name(s) => PathSegment::Field(s.to_owned()),
                    });
                    node = n.parent;
                }
                path.reverse();
                let mut err = ServerError::new("boom", None);
                err.path = path;
                let mut ext = async_graphql::ErrorExtensionValues::default();
                ext.set("code", "TEST_FAILURE");
                err.extensions = Some(ext);
                return Err(err);
            }
            next.run(ctx, info).await
        })
    }
}

fn finish<Q, M>(
    builder: async_graphql::SchemaBuilder<Q, M, EmptySubscription>,
    world: Store,
    fail: Option<(&'static str, &'static str)>,
) -> Schema<Q, M, EmptySubscription>
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
{
    let mut builder = builder.data(world).enable_federation();
    if let Some((ty, field)) = fail {
        builder = builder.extension(FailField(ty, field));
    }
    builder.finish()
}

// ---------------------------------------------------------------------------------------
// users

mod users {
    use super::*;
    use async_graphql::{Context, ID, Object, SimpleObject};

    pub(super) fn schema(
        world: Store,
        fail: Option<(&'static str, &'static str)>,
    ) -> Schema<Query, Mutation, EmptySubscription> {
        finish(
            Schema::build(Query, Mutation, EmptySubscription),
            world,
            fail,
        )
    }

    #[derive(SimpleObject)]
    pub(super) struct User {
        id: ID,
        #[graphql(shareable)]
        name: String,
        email: Option<String>,
        #[graphql(inaccessible)]
        risk_score: Option<i32>,
        #[graphql(deprecation = "use name")]
        legacy_handle: Option<String>,
    }

    fn find(ctx: &Context<'_>, id: &str) -> Option<User> {
        let w = world(ctx).lock().unwrap();
        w.users.iter().find(|u| u.id == id).map(|u| User {
            id: ID(u.id.to_owned()),
            name: u.name.clone(),
            email: u.email.map(str::to_owned),
            risk_score: u.risk_score,
            legacy_handle: u.legacy_handle.map(str::to_owned),
        })
    }

    pub(super) struct Query;

    #[Object]
    impl Query {
        async fn me(&self, ctx: &Context<'_>) -> Option<User> {
            find(ctx, "u1")
        }

        async fn user(&self, ctx: &Context<'_>, id: ID) -> Option<User> {
            find(ctx, &id)
        }

        #[graphql(entity)]
        async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Option<User> {
            find(ctx, &id)
        }
    }

    pub(super) struct Mutation;

    #[Object]
    impl Mutation {
        /// Renames `me` (u1).
        async fn rename(&self, ctx: &Context<'_>, name: String) -> Option<User> {
            {
                let mut w = world(ctx).lock().unwrap();
                w.users.iter_mut().find(|u| u.id == "u1")?.name = name;
            }
            find(ctx, "u1")
        }
    }
}

// ---------------------------------------------------------------------------------------
// content

mod content {
    use super::*;
    use async_graphql::{Context, Enum, ID, InputObject, Interface, Object, Result, Union};

    pub(super) fn schema(
        world: Store,
        fail: Option<(&'static str, &'static str)>,
    ) -> Schema<Query, Mutation, EmptySubscription> {
        finish(
            Schema::build(Query, Mutation, EmptySubscription),
            world,
            fail,
        )
    }

    #[derive(Enum, Clone, Copy, PartialEq, Eq)]
    pub(super) enum Visibility {
        Public,
        Followers,
    }

    #[derive(InputObject)]
    pub(super) struct NewPost {
        title: String,
        body: String,
        #[graphql(default_with = "Some(Visibility::Public)")]
        visibility: Option<Visibility>,
    }

    #[derive(Interface)]
    #[graphql(
        field(name = "id", ty = "ID"),
        field(name = "created_at", ty = "String"),
        field(name = "author", ty = "User")
    )]
    pub(super) enum FeedItem {
        Post(Post),
        Photo(Photo),
    }

    #[derive(Union)]
    pub(super) enum SearchResult {
        Post(Post),
        Photo(Photo),
    }

    pub(super) struct Post(PostRow);

    #[Object]
    impl Post {
        async fn id(&self) -> ID {
            ID(self.0.id.clone())
        }
        #[graphql(shareable)]
        async fn title(&self) -> String {
            self.0.title.clone()
        }
        async fn body(&self) -> String {
            self.0.body.clone()
        }
        async fn created_at(&self) -> String {
            self.0.created_at.to_owned()
        }
        async fn author(&self) -> User {
            User::reference(self.0.author)
        }
    }

    pub(super) struct Photo(PhotoRow);

    #[Object]
    impl Photo {
        async fn id(&self) -> ID {
            ID(self.0.id.to_owned())
        }
        async fn url(&self) -> String {
            self.0.url.to_owned()
        }
        async fn created_at(&self) -> String {
            self.0.created_at.to_owned()
        }
        async fn author(&self) -> User {
            User::reference(self.0.author)
        }
    }

    /// A user as content knows it: an id, and the external `name` when the router sent it.
    pub(super) struct User {
        id: String,
        name: Option<String>,
    }

    impl User {
        fn reference(id: &str) -> User {
            User {
                id: id.to_owned(),
                name: None,
            }
        }
        fn name(&self) -> Result<String> {
            self.name
                .clone()
                .ok_or_else(|| "the representation carries no `name`".into())
        }
    }

    #[Object]
    impl User {
        async fn id(&self) -> ID {
            ID(self.id.clone())
        }
        async fn posts(&self, ctx: &Context<'_>) -> Vec<Post> {
            let w = world(ctx).lock().unwrap();
            w.posts
                .iter()
                .filter(|p| p.author == self.id)
                .cloned()
                .map(Post)
                .collect()
        }
        #[graphql(external, name = "name")]
        async fn external_name(&self) -> Result<String> {
            self.name()
        }
        #[graphql(requires = "name")]
        async fn byline(&self) -> Result<String> {
            Ok(format!("by {}", self.name()?))
        }
    }

    fn post(ctx: &Context<'_>, id: &str) -> Option<Post> {
        let w = world(ctx).lock().unwrap();
        w.posts.iter().find(|p| p.id == id).cloned().map(Post)
    }

    fn photo(ctx: &Context<'_>, id: &str) -> Option<Photo> {
        let w = world(ctx).lock().unwrap();
        w.photos.iter().find(|p| p.id == id).cloned().map(Photo)
    }

    pub(super) struct Query;

    #[Object]
    impl Query {
        async fn post(&self, ctx: &Context<'_>, id: ID) -> Option<Post> {
            post(ctx, &id)
        }

        /// [ph1, p2, p1], truncated to `first`.
        async fn feed(
            &self,
            ctx: &Context<'_>,
            #[graphql(default = 10)] first: Option<i32>,
        ) -> Vec<FeedItem> {
            let items = [
                photo(ctx, "ph1").map(FeedItem::Photo),
                post(ctx, "p2").map(FeedItem::Post),
                post(ctx, "p1").map(FeedItem::Post),
            ];
            let n = usize::try_from(first.unwrap_or(10)).unwrap_or(0);
            items.into_iter().flatten().take(n).collect()
        }

        /// Posts whose title contains `text`, then photos whose url does.
        async fn search(&self, ctx: &Context<'_>, text: String) -> Vec<SearchResult> {
            let w = world(ctx).lock().unwrap();
            let posts = w
                .posts
                .iter()
                .filter(|p| p.title.contains(&text))
                .cloned()
                .map(|p| SearchResult::Post(Post(p)));
            let photos = w
                .photos
                .iter()
                .filter(|p| p.url.contains(&text))
                .cloned()
                .map(|p| SearchResult::Photo(Photo(p)));
            posts.chain(photos).collect()
        }

        #[graphql(entity)]
        async fn find_post_by_id(&self, ctx: &Context<'_>, id: ID) -> Option<Post> {
            post(ctx, &id)
        }

        #[graphql(entity)]
        async fn find_photo_by_id(&self, ctx: &Context<'_>, id: ID) -> Option<Photo> {
            photo(ctx, &id)
        }

        #[graphql(entity)]
        async fn find_user_by_id(&self, #[graphql(key)] id: ID, name: Option<String>) -> User {
            User { id: id.0, name }
        }
    }

    pub(super) struct Mutation;

    #[Object]
    impl Mutation {
        /// Adds p4 (then p5, …) by u1.
        async fn create_post(&self, ctx: &Context<'_>, input: NewPost) -> Post {
            let _ = input.visibility;
            let mut w = world(ctx).lock().unwrap();
            let row = PostRow {
                id: format!("p{}", w.posts.len() + 1),
                title: input.title,
                body: input.body,
                created_at: "2026-02-01",
                author: "u1",
            };
            w.posts.push(row.clone());
            Post(row)
        }

        /// "<filename>:<size>:<first 16 bytes>" of the uploaded file (the post must exist).
        async fn attach_to_post(
            &self,
            ctx: &Context<'_>,
            post_id: ID,
            file: async_graphql::Upload,
        ) -> Result<String> {
            use std::io::Read;
            if post(ctx, &post_id).is_none() {
                return Err(format!("no post {}", post_id.as_str()).into());
            }
            let value = file.value(ctx)?;
            let filename = value.filename.clone();
            let mut content = Vec::new();
            value.into_read().read_to_end(&mut content)?;
            let first = String::from_utf8_lossy(&content[..content.len().min(16)]).into_owned();
            Ok(format!("{filename}:{}:{first}", content.len()))
        }
    }
}

// ---------------------------------------------------------------------------------------
// interactions

mod interactions {
    use super::*;
    use async_graphql::{Context, ID, Object, Result};

    pub(super) fn schema(
        world: Store,
        fail: Option<(&'static str, &'static str)>,
    ) -> Schema<Query, EmptyMutation, EmptySubscription> {
        finish(
            Schema::build(Query, EmptyMutation, EmptySubscription),
            world,
            fail,
        )
    }

    pub(super) struct Post {
        id: String,
    }

    #[Object]
    impl Post {
        async fn id(&self) -> ID {
            ID(self.id.clone())
        }
        /// Shareable: the same titles as content (unknown posts: an error).
        #[graphql(shareable)]
        async fn title(&self, ctx: &Context<'_>) -> Result<String> {
            let w = world(ctx).lock().unwrap();
            w.posts
                .iter()
                .find(|p| p.id == self.id)
                .map(|p| p.title.clone())
                .ok_or_else(|| format!("no post {}", self.id).into())
        }
        async fn likes(&self, ctx: &Context<'_>) -> i32 {
            let w = world(ctx).lock().unwrap();
            w.likes.get(self.id.as_str()).copied().unwrap_or(0)
        }
        async fn comments(&self, ctx: &Context<'_>) -> Vec<Comment> {
            let w = world(ctx).lock().unwrap();
            w.comments
                .iter()
                .filter(|c| c.post == self.id)
                .cloned()
                .map(Comment)
                .collect()
        }
    }

    pub(super) struct Comment(CommentRow);

    #[Object]
    impl Comment {
        async fn id(&self) -> ID {
            ID(self.0.id.to_owned())
        }
        async fn text(&self) -> String {
            self.0.text.to_owned()
        }
        /// With `name` filled in, as `@provides` promises.
        #[graphql(provides = "name")]
        async fn author(&self, ctx: &Context<'_>) -> User {
            let w = world(ctx).lock().unwrap();
            let name = w
                .users
                .iter()
                .find(|u| u.id == self.0.author)
                .map(|u| u.name.clone());
            User {
                id: self.0.author.to_owned(),
                name,
            }
        }
    }

    pub(super) struct User {
        id: String,
        name: Option<String>,
    }

    #[Object]
    impl User {
        async fn id(&self) -> ID {
            ID(self.id.clone())
        }
        #[graphql(external)]
        async fn name(&self) -> Result<String> {
            self.name
                .clone()
                .ok_or_else(|| "interactions only knows names it provides".into())
        }
    }

    pub(super) struct Query;

    #[Object]
    impl Query {
        /// c1, c2, c3, truncated to `first`.
        async fn top_comments(&self, ctx: &Context<'_>, first: i32) -> Vec<Comment> {
            let w = world(ctx).lock().unwrap();
            let n = usize::try_from(first).unwrap_or(0);
            w.comments.iter().take(n).cloned().map(Comment).collect()
        }

        /// Any post id: likes default to 0, comments to none.
        #[graphql(entity)]
        async fn find_post_by_id(&self, id: ID) -> Post {
            Post { id: id.0 }
        }

        #[graphql(entity)]
        async fn find_comment_by_id(&self, ctx: &Context<'_>, id: ID) -> Option<Comment> {
            let w = world(ctx).lock().unwrap();
            w.comments
                .iter()
                .find(|c| c.id == id.as_str())
                .cloned()
                .map(Comment)
        }

        #[graphql(entity)]
        async fn find_user_by_id(&self, id: ID) -> User {
            User {
                id: id.0,
                name: None,
            }
        }
    }
}
