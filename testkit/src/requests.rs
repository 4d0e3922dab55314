//! The request helpers of `TestApp`: HTTP at the router (JSON, GET, raw bodies,
//! multipart, extra headers, pages), and the operations tests use to set the scene
//! (accounts, contents, follows, comments, counts), each with the selection its tests read.

use crate::app::{Session, TestApp, code, session};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::{Read, Write};

/// A GraphQL multipart request (the upload spec) of `query` with `variables`, sending
/// `file` (named `name`, declared `mime`) as the variable `f`
/// ([`folio_common::client::upload_form`]).
pub fn upload_form(
    query: &str,
    variables: Value,
    file: Vec<u8>,
    name: &str,
    mime: &str,
) -> reqwest::multipart::Form {
    folio_common::client::upload_form(query, variables, file, name, mime).expect("mime")
}

/// Asserts `body` carries no error code (with the body as the message).
pub fn assert_ok(body: &Value) {
    assert_eq!(code(body), "", "{body}");
}

/// A set of ids, to compare with one a test collected.
pub fn id_set(ids: &[&str]) -> HashSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

/// The ids of a connection's `nodes`.
pub fn node_ids(conn: &Value) -> Vec<String> {
    conn["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {conn}"))
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The ids of a connection's nodes, after checking its edges agree with them (same ids,
/// non-empty cursors, `pageInfo.endCursor` the last edge's).
pub fn connection_ids(conn: &Value) -> Vec<String> {
    let nodes = conn["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {conn}"));
    let edges = conn["edges"].as_array().expect("edges");
    assert_eq!(nodes.len(), edges.len(), "{conn}");
    for (edge, node) in edges.iter().zip(nodes) {
        assert_eq!(edge["node"]["id"], node["id"], "{conn}");
        assert!(
            edge["cursor"].as_str().is_some_and(|c| !c.is_empty()),
            "{conn}"
        );
    }
    if let Some(last) = edges.last() {
        assert_eq!(conn["pageInfo"]["endCursor"], last["cursor"], "{conn}");
    }
    node_ids(conn)
}

fn response_type(res: &reqwest::Response) -> String {
    res.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

const REGISTER: &str = "mutation($i: RegisterInput!) { register(input: $i) { \
    accessToken refreshToken expiresIn \
    user { id email firstName lastName phoneNo address isAdmin } } }";

const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { \
    accessToken refreshToken expiresIn user { id email } } }";

const REFRESH: &str = "mutation($t: String!) { refreshToken(refreshToken: $t) { \
    accessToken refreshToken expiresIn user { id email } } }";

const FOLLOW: &str = "mutation($id: ID!) { follow(userId: $id) { \
    id followerCount followingCount viewerIsFollowing } }";

const UNFOLLOW: &str = "mutation($id: ID!) { unfollow(userId: $id) { \
    id followerCount followingCount viewerIsFollowing } }";

const FOLLOW_COUNTS: &str =
    "query($id: ID!) { user(id: $id) { followerCount followingCount viewerIsFollowing } }";

const CREATE_CONTENT: &str = "mutation($i: CreateContentInput!) { createContent(input: $i) {
    id title description story tags viewCount publishedAt updatedAt author { id firstName } } }";

const IMPORT_CSV: &str = "mutation($f: Upload!) { importContentsCsv(file: $f) { created failed errors { line message } } }";

const INTERACTION_COUNTS: &str = "query($c: ID!) { content(id: $c) { likeCount readCount commentCount viewerHasRead viewerHasLiked } }";

/// HTTP at the router.
impl TestApp {
    /// Posts an operation to the router; returns the HTTP status and the JSON body.
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut req = self
            .client
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request reaches the router");
        let status = res.status().as_u16();
        let body = res.json().await.expect("a JSON body");
        (status, body)
    }

    /// Posts an operation to the router and returns the JSON body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.post(token, query, variables).await.1
    }

    /// Runs an operation as `who`, asserts it had no error, and returns its `data`.
    pub async fn ok(&self, who: &Session, query: &str, variables: Value) -> Value {
        let body = self.gql(Some(&who.access_token), query, variables).await;
        assert_ok(&body);
        body["data"].clone()
    }

    /// Posts `body` as it is with this `Content-Type` (and `Accept`, if given); returns
    /// the status, the response's content type and its JSON (`null` if it is none).
    pub async fn post_raw(
        &self,
        content_type: &str,
        accept: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, String, Value) {
        let mut req = self
            .client
            .post(&self.url)
            .header("content-type", content_type)
            .body(body);
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        let res = req.send().await.expect("answered");
        let status = res.status().as_u16();
        let ct = response_type(&res);
        (status, ct, res.json().await.unwrap_or(Value::Null))
    }

    /// `GET /graphql` with these query parameters; the status and the JSON (or `null`).
    pub async fn get_graphql(&self, params: &[(&str, &str)]) -> (u16, Value) {
        let res = self
            .client
            .get(&self.url)
            .query(params)
            .send()
            .await
            .expect("answered");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// A GraphQL multipart request (the file upload spec) with the preflight header; the
    /// status and the JSON (or `null`).
    pub async fn post_multipart(
        &self,
        token: Option<&str>,
        form: reqwest::multipart::Form,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .post(&self.url)
            .header("apollo-require-preflight", "true")
            .multipart(form);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("answered");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Posts `query` to `url` (the router's or a subgraph's) with raw extra headers.
    pub async fn post_with_headers(
        &self,
        url: &str,
        headers: &[(String, String)],
        query: &str,
    ) -> (u16, Value) {
        let mut req = self.client.post(url).json(&json!({ "query": query }));
        for (name, value) in headers {
            req = req.header(name.as_str(), value.as_str());
        }
        let res = req.send().await.expect("request is answered");
        let status = res.status().as_u16();
        (status, res.json().await.expect("a JSON body"))
    }

    /// `GET <base><path>` with this `Accept`; the status, content type and text.
    pub async fn get_page(&self, path: &str, accept: &str) -> (u16, String, String) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .header("Accept", accept)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        let ct = response_type(&res);
        (status, ct, res.text().await.expect("body"))
    }

    /// A GET with the path sent exactly as written (reqwest would resolve `..` itself);
    /// returns the status and the whole response.
    pub async fn get_verbatim(&self, path: &str) -> (u16, String) {
        let addr = self.base.trim_start_matches("http://").to_owned();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
            stream.write_all(request.as_bytes()).expect("send");
            let mut response = Vec::new();
            stream.read_to_end(&mut response).expect("read");
            let response = String::from_utf8_lossy(&response).into_owned();
            let status = response
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            (status, response)
        })
        .await
        .expect("raw request")
    }

    /// The router's `GET /metrics` text.
    pub async fn metrics_text(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("answered")
            .text()
            .await
            .expect("text")
    }

    /// How many fetches the router has sent to `subgraph`, from its `GET /metrics` (the
    /// fetch latency histogram counts every fetch, failed or not).
    pub async fn subgraph_fetches(&self, subgraph: &str) -> u64 {
        let text = self.metrics_text().await;
        let series = format!(
            "folio_router_subgraph_fetch_duration_seconds_count{{subgraph=\"{subgraph}\"}} "
        );
        text.lines()
            .find_map(|l| l.strip_prefix(&series))
            .map_or(0, |n| n.trim().parse().unwrap_or_else(|_| panic!("{text}")))
    }
}

/// Accounts.
impl TestApp {
    /// `register` with this input (as `token`'s holder, if any); the whole answer, with
    /// `accessToken refreshToken expiresIn` and the user's private fields.
    pub async fn register_body(&self, token: Option<&str>, input: Value) -> Value {
        self.gql(token, REGISTER, json!({ "i": input })).await
    }

    /// Registers a user (first name "Test", last name the email's local part) and
    /// returns their session.
    pub async fn register(&self, email: &str, password: &str) -> Session {
        let last = email.split('@').next().unwrap_or("User");
        self.register_named(email, password, "Test", last, json!({}))
            .await
    }

    /// Registers a user with these names and `extra` input fields (`phoneNo`, …) and
    /// returns their session.
    pub async fn register_named(
        &self,
        email: &str,
        password: &str,
        first: &str,
        last: &str,
        extra: Value,
    ) -> Session {
        let mut input =
            json!({ "email": email, "password": password, "firstName": first, "lastName": last });
        for (k, v) in extra.as_object().expect("an object of extra fields") {
            input[k] = v.clone();
        }
        session(&self.register_body(None, input).await, "register")
    }

    /// `login`; the whole answer (`accessToken refreshToken expiresIn user { id email }`).
    pub async fn login_body(&self, email: &str, password: &str) -> Value {
        self.gql(None, LOGIN, json!({ "e": email, "p": password }))
            .await
    }

    /// Signs in and returns the session.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        session(&self.login_body(email, password).await, "login")
    }

    /// `refreshToken`; the whole answer, as `login_body`'s.
    pub async fn refresh_body(&self, refresh_token: &str) -> Value {
        self.gql(None, REFRESH, json!({ "t": refresh_token })).await
    }

    /// Creates (or promotes) an admin directly, as `folio admin create` does, and signs in.
    pub async fn admin(&self, email: &str, password: &str) -> Session {
        let users = folio_users::init(&self.cfg).await.expect("users service");
        folio_users::ensure_admin(&users, email, password, "Ada", "Admin")
            .await
            .expect("admin created");
        self.login(email, password).await
    }
}

/// The social graph.
impl TestApp {
    /// `follow` as `who`; the answer, with the target's counts as `who` sees them.
    pub async fn follow(&self, who: &Session, target: &str) -> Value {
        self.gql(Some(&who.access_token), FOLLOW, json!({ "id": target }))
            .await
    }

    /// `unfollow` as `who`; the answer, as `follow`'s.
    pub async fn unfollow(&self, who: &Session, target: &str) -> Value {
        self.gql(Some(&who.access_token), UNFOLLOW, json!({ "id": target }))
            .await
    }

    /// `block` as `who`; the answer.
    pub async fn block(&self, who: &Session, target: &str) -> Value {
        self.gql(
            Some(&who.access_token),
            "mutation($id: ID!) { block(userId: $id) }",
            json!({ "id": target }),
        )
        .await
    }

    /// `unblock` as `who`; the answer.
    pub async fn unblock(&self, who: &Session, target: &str) -> Value {
        self.gql(
            Some(&who.access_token),
            "mutation($id: ID!) { unblock(userId: $id) }",
            json!({ "id": target }),
        )
        .await
    }

    /// (followerCount, followingCount, viewerIsFollowing) of user `id` as `viewer` sees it.
    pub async fn follow_counts(&self, viewer: Option<&Session>, id: &str) -> (i64, i64, bool) {
        let token = viewer.map(|s| s.access_token.as_str());
        let body = self.gql(token, FOLLOW_COUNTS, json!({ "id": id })).await;
        let u = &body["data"]["user"];
        (
            u["followerCount"]
                .as_i64()
                .unwrap_or_else(|| panic!("no counts in {body}")),
            u["followingCount"].as_i64().expect("followingCount"),
            u["viewerIsFollowing"].as_bool().expect("viewerIsFollowing"),
        )
    }
}

/// Contents.
impl TestApp {
    /// `createContent` as `who`; the whole answer (every field, and the author's id and
    /// first name).
    pub async fn create_content_body(&self, who: &Session, input: Value) -> Value {
        self.gql(
            Some(&who.access_token),
            CREATE_CONTENT,
            json!({ "i": input }),
        )
        .await
    }

    /// Creates a content titled `title` (story "The story of <title>") as `who`; its id.
    pub async fn create_content(&self, who: &Session, title: &str) -> String {
        let body = self
            .create_content_body(
                who,
                json!({ "title": title, "story": format!("The story of {title}") }),
            )
            .await;
        body["data"]["createContent"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    }

    /// Whether `content(id)` finds it.
    pub async fn content_exists(&self, id: &str) -> bool {
        let body = self
            .gql(
                None,
                "query($c: ID!) { content(id: $c) { id } }",
                json!({ "c": id }),
            )
            .await;
        !body["data"]["content"].is_null()
    }

    /// `contents.totalCount`.
    pub async fn content_count(&self) -> i64 {
        let body = self
            .gql(None, "{ contents(first: 1) { totalCount } }", json!({}))
            .await;
        body["data"]["contents"]["totalCount"]
            .as_i64()
            .unwrap_or_else(|| panic!("{body}"))
    }

    /// `searchContents` (asserting it succeeds): `totalCount nodes { id title } pageInfo`.
    pub async fn search_contents(&self, q: &str, first: Option<i32>, after: Option<&str>) -> Value {
        let body = self
            .gql(
                None,
                "query($q: String!, $first: Int, $after: String) {
                    searchContents(query: $q, first: $first, after: $after) {
                        totalCount nodes { id title } pageInfo { hasNextPage endCursor } } }",
                json!({ "q": q, "first": first, "after": after }),
            )
            .await;
        assert_eq!(code(&body), "", "{q:?}: {body}");
        body["data"]["searchContents"].clone()
    }

    /// `who`'s own feed (asserting it succeeds): `totalCount nodes { id title author { id } }
    /// pageInfo`.
    pub async fn feed(&self, who: &Session, first: Option<i32>, after: Option<&str>) -> Value {
        let body = self
            .gql(
                Some(&who.access_token),
                "query($id: ID!, $first: Int, $after: String) { user(id: $id) { feed(first: $first, after: $after) {
                    totalCount nodes { id title author { id } } pageInfo { hasNextPage endCursor } } } }",
                json!({ "id": who.id, "first": first, "after": after }),
            )
            .await;
        assert_ok(&body);
        body["data"]["user"]["feed"].clone()
    }

    /// `importContentsCsv` as a real GraphQL multipart request through the router; the
    /// answer (`created failed errors { line message }`).
    pub async fn import_csv(&self, who: &Session, csv: &str) -> Value {
        let form = upload_form(
            IMPORT_CSV,
            json!({}),
            csv.as_bytes().to_vec(),
            "contents.csv",
            "text/csv",
        );
        let (_, body) = self.post_multipart(Some(&who.access_token), form).await;
        assert!(!body.is_null(), "the import answers with JSON");
        body
    }
}

/// Interactions.
impl TestApp {
    /// `who` likes `content` (an error fails the test).
    pub async fn like(&self, who: &Session, content: &str) {
        self.ok(
            who,
            "mutation($c: ID!) { like(contentId: $c) { id } }",
            json!({ "c": content }),
        )
        .await;
    }

    /// `likeCount readCount commentCount viewerHasRead viewerHasLiked` of a content as
    /// `who` sees them (asserting the query succeeds).
    pub async fn interaction_counts(&self, who: Option<&Session>, content: &str) -> Value {
        let body = self
            .gql(
                who.map(|s| s.access_token.as_str()),
                INTERACTION_COUNTS,
                json!({ "c": content }),
            )
            .await;
        assert_ok(&body);
        body["data"]["content"].clone()
    }

    /// (reads, likes, 1) of a content's line in `contentRanking`, or (0, 0, 0) when it
    /// has none: the interactions subgraph's own counts, which outlive a content deleted
    /// elsewhere.
    pub async fn ranking_counts(&self, content: &str) -> (u64, u64, u64) {
        let body = self
            .gql(
                None,
                "{ contentRanking(first: 100) { content { id } reads likes } }",
                json!({}),
            )
            .await;
        let line = body["data"]["contentRanking"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .find(|l| l["content"]["id"] == json!(content))
            .cloned();
        match line {
            Some(l) => (
                l["reads"].as_u64().unwrap_or(0),
                l["likes"].as_u64().unwrap_or(0),
                1,
            ),
            None => (0, 0, 0),
        }
    }

    /// Comments `body` on a content as `who`; the comment's id.
    pub async fn comment(&self, who: &Session, content: &str, body: &str) -> String {
        let answer = self
            .gql(
                Some(&who.access_token),
                "mutation($c: ID!, $b: String!) { addComment(contentId: $c, body: $b) { id } }",
                json!({ "c": content, "b": body }),
            )
            .await;
        answer["data"]["addComment"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{answer}"))
            .to_owned()
    }
}
