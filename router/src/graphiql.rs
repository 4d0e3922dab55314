//! GraphiQL, the in-browser playground: its HTML page and the assets it loads, built into
//! the binary, so the playground works with no network at all (no CDN, no npm at run
//! time).
//!
//! The page loads three browser bundles with plain `<script>`/`<link>` tags: React and
//! ReactDOM (UMD builds) and GraphiQL's UMD build, plus GraphiQL's stylesheet. The files
//! are in `router/assets/graphiql/`, copied from the npm packages `tools/graphiql` pins
//! (`tools/graphiql/vendor.sh` refreshes them and prints their integrity). They are served
//! at `/graphiql/assets/<package>@<version>/<file>`: a versioned URL, so browsers may cache
//! them for good. Every tag carries a Subresource Integrity hash, which the e2e tests check
//! against the bytes served and CI's headless browser check enforces.
//!
//! GraphiQL 4 is the last major version with a UMD build; version 5 ships only ES modules
//! with bare imports, which need a bundler or an import-map CDN.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::sync::Arc;

/// Where the asset handler is mounted (axum route syntax); the page's asset URLs start
/// with [`ASSETS_PREFIX`].
pub const ASSETS_ROUTE: &str = "/graphiql/assets/{*path}";

/// URL prefix of the assets.
pub const ASSETS_PREFIX: &str = "/graphiql/assets/";

/// One file of an npm package that the page loads, with its bytes.
pub struct Asset {
    pub package: &'static str,
    pub version: &'static str,
    pub file: &'static str,
    /// Subresource Integrity of the file as published in that npm version.
    pub integrity: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

impl Asset {
    /// Its path under [`ASSETS_PREFIX`].
    pub fn path(&self) -> String {
        format!("{}@{}/{}", self.package, self.version, self.file)
    }
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

// Keep in step with tools/graphiql/package.json (and its lockfile); `tools/graphiql/
// vendor.sh` copies the files and prints these integrity values (`sha384-` + base64 of
// the file's SHA-384).
const REACT: Asset = Asset {
    package: "react",
    version: "18.3.1",
    file: "umd/react.production.min.js",
    integrity: "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
    content_type: JS,
    bytes: include_bytes!("../assets/graphiql/react.production.min.js"),
};
const REACT_DOM: Asset = Asset {
    package: "react-dom",
    version: "18.3.1",
    file: "umd/react-dom.production.min.js",
    integrity: "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
    content_type: JS,
    bytes: include_bytes!("../assets/graphiql/react-dom.production.min.js"),
};
const GRAPHIQL_JS: Asset = Asset {
    package: "graphiql",
    version: "4.1.2",
    file: "graphiql.min.js",
    integrity: "sha384-9XdHu7ajgGJziD4J1zNBKQ842Q/+zZfDv+ib1eMhZWBH6hPAs806x+Jbcf0yNO6B",
    content_type: JS,
    bytes: include_bytes!("../assets/graphiql/graphiql.min.js"),
};
const GRAPHIQL_CSS: Asset = Asset {
    package: "graphiql",
    version: "4.1.2",
    file: "graphiql.min.css",
    integrity: "sha384-1el1QShFBnnXTx9x/Cprg82hZWKt0ry29OAYIXt05swbi0KcZDFoj0CWguMpopJr",
    content_type: CSS,
    bytes: include_bytes!("../assets/graphiql/graphiql.min.css"),
};

/// Every asset the page loads.
pub const ASSETS: [&Asset; 4] = [&REACT, &REACT_DOM, &GRAPHIQL_JS, &GRAPHIQL_CSS];

/// The playground: its page, rendered once. Cheap to clone.
#[derive(Clone)]
pub struct Playground {
    page: Arc<str>,
}

impl Default for Playground {
    fn default() -> Self {
        Playground::new()
    }
}

impl Playground {
    pub fn new() -> Playground {
        Playground {
            page: Arc::from(render_page()),
        }
    }

    /// The GraphiQL page (`GET /`, and `GET /graphql` for browsers).
    pub fn page(&self) -> Response {
        let mut res = Html(self.page.to_string()).into_response();
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        res
    }

    /// One asset, `path` being what follows [`ASSETS_PREFIX`]; anything else is 404.
    pub fn asset(&self, path: &str) -> Response {
        let Some(asset) = ASSETS.iter().find(|a| a.path() == path) else {
            return (StatusCode::NOT_FOUND, "not found").into_response();
        };
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                // The URL names the version: the bytes behind it never change.
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            asset.bytes,
        )
            .into_response()
    }
}

/// The page. Its script POSTs JSON to `/graphql` with the headers of GraphiQL's headers
/// editor, so `{"Authorization": "Bearer …"}` there authenticates the queries.
fn render_page() -> String {
    let script = |a: &Asset| {
        format!(
            r#"    <script src="{ASSETS_PREFIX}{}" integrity="{}" crossorigin="anonymous"></script>"#,
            a.path(),
            a.integrity
        )
    };
    let css = format!(
        r#"    <link rel="stylesheet" href="{ASSETS_PREFIX}{}" integrity="{}" crossorigin="anonymous" />"#,
        GRAPHIQL_CSS.path(),
        GRAPHIQL_CSS.integrity
    );
    let scripts = [&REACT, &REACT_DOM, &GRAPHIQL_JS].map(script).join("\n");
    format!(
        r##"<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="robots" content="noindex" />
    <link rel="icon" href="data:," />
    <title>Folio GraphiQL</title>
    <style>
      body {{ margin: 0; height: 100vh; overflow: hidden; }}
      #graphiql {{ height: 100vh; }}
    </style>
{css}
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
{scripts}
    <script>
      const endpoint = "/graphql";
      // POSTs the operation as JSON; the headers editor's headers (Authorization) go along.
      async function fetcher(params, opts) {{
        const headers = Object.assign(
          {{ "Content-Type": "application/json", Accept: "application/json" }},
          opts && opts.headers,
        );
        const res = await fetch(endpoint, {{ method: "POST", headers, body: JSON.stringify(params) }});
        const text = await res.text();
        try {{
          return JSON.parse(text);
        }} catch (e) {{
          return {{ errors: [{{ message: "HTTP " + res.status + ": " + text }}] }};
        }}
      }}
      const defaultQuery = [
        "# Folio's GraphQL API. Ctrl-Enter (Cmd-Enter on a Mac) runs the operation.",
        "# Sign in: mutation {{ login(email: \"ada@example.com\", password: \"folio-demo-password\") {{ accessToken }} }} (the demo's admin: `folio demo`), then put {{\"Authorization\": \"Bearer <accessToken>\"}} in Headers below.",
        "",
        "{{",
        "  newContents(first: 5) {{",
        "    totalCount",
        "    nodes {{ title tags author {{ firstName lastName }} likeCount readCount commentCount }}",
        "  }}",
        "}}",
        "",
      ].join("\n");
      ReactDOM.createRoot(document.getElementById("graphiql")).render(
        React.createElement(GraphiQL, {{
          fetcher,
          defaultQuery,
          defaultEditorToolsVisibility: "headers",
          isHeadersEditorEnabled: true,
        }}),
      );
    </script>
  </body>
</html>
"##
    )
}
