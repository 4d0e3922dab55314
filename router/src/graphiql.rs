//! GraphiQL, the in-browser playground: its HTML page and, for offline use, the handler
//! that serves its assets from `FOLIO_GRAPHIQL_ASSETS_DIR` at `/graphiql/assets/…`.
//!
//! The page loads three browser bundles with plain `<script>`/`<link>` tags: React and
//! ReactDOM (UMD builds) and GraphiQL's UMD build. By default they come from a CDN at
//! exact versions; with an assets directory they come from the router itself. The
//! directory holds the npm packages of `tools/graphiql` (`npm --prefix tools/graphiql ci`
//! fills `tools/graphiql/node_modules`), so the versions below must match that lockfile.
//! Every tag carries a Subresource Integrity hash in both modes: a CDN that serves other
//! bytes is refused by the browser, and CI's headless check of the local mode proves the
//! hashes match the pinned packages.
//!
//! GraphiQL 4 is the last major version with a UMD build; version 5 ships only ES modules
//! with bare imports, which need a bundler or an import-map CDN.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Where the asset handler is mounted (axum route syntax); the page's local URLs start
/// with [`ASSETS_PREFIX`].
pub const ASSETS_ROUTE: &str = "/graphiql/assets/{*path}";

/// URL prefix of the locally served assets.
pub const ASSETS_PREFIX: &str = "/graphiql/assets/";

/// The CDN the page loads its assets from when no assets directory is configured.
pub const CDN: &str = "https://unpkg.com/";

/// One file of an npm package that the page loads.
struct Asset {
    package: &'static str,
    version: &'static str,
    file: &'static str,
    /// Subresource Integrity of the file as published in that npm version.
    integrity: &'static str,
}

// Keep in step with tools/graphiql/package.json (and its lockfile). The integrity is
// `sha384-` + base64 of the file's SHA-384:
//   openssl dgst -sha384 -binary tools/graphiql/node_modules/<package>/<file> | base64 -w0
const REACT: Asset = Asset {
    package: "react",
    version: "18.3.1",
    file: "umd/react.production.min.js",
    integrity: "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
};
const REACT_DOM: Asset = Asset {
    package: "react-dom",
    version: "18.3.1",
    file: "umd/react-dom.production.min.js",
    integrity: "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
};
const GRAPHIQL_JS: Asset = Asset {
    package: "graphiql",
    version: "4.1.2",
    file: "graphiql.min.js",
    integrity: "sha384-9XdHu7ajgGJziD4J1zNBKQ842Q/+zZfDv+ib1eMhZWBH6hPAs806x+Jbcf0yNO6B",
};
const GRAPHIQL_CSS: Asset = Asset {
    package: "graphiql",
    version: "4.1.2",
    file: "graphiql.min.css",
    integrity: "sha384-1el1QShFBnnXTx9x/Cprg82hZWKt0ry29OAYIXt05swbi0KcZDFoj0CWguMpopJr",
};
const ASSETS: [&Asset; 4] = [&REACT, &REACT_DOM, &GRAPHIQL_JS, &GRAPHIQL_CSS];

/// Largest file the asset handler reads (GraphiQL's bundle and its source map are below
/// 5 MiB); anything bigger in the directory is not served.
const MAX_ASSET_BYTES: u64 = 16 * 1024 * 1024;

/// The playground: its page, rendered once, and where its assets live when served
/// locally. Cheap to clone.
#[derive(Clone)]
pub struct Playground {
    page: Arc<str>,
    assets: Option<Arc<Path>>,
}

impl Playground {
    /// A playground whose page loads its assets from `assets_dir` (through this router,
    /// see [`Playground::asset`]) or, when `None`, from the CDN.
    ///
    /// `assets_dir` is a `node_modules` directory holding `graphiql`, `react` and
    /// `react-dom`, or a directory with such a `node_modules` in it. Missing files or
    /// other versions than the page pins are logged as warnings, not refused: the API
    /// works without its playground.
    pub fn new(assets_dir: Option<&Path>) -> Playground {
        let assets = assets_dir.map(|dir| {
            let root = asset_root(dir);
            check_assets(&root);
            Arc::from(root)
        });
        let base = if assets.is_some() { ASSETS_PREFIX } else { CDN };
        Playground {
            page: Arc::from(render_page(base, assets.is_some())),
            assets,
        }
    }

    /// The GraphiQL page (`GET /`, and `GET /graphql` for browsers).
    pub fn page(&self) -> Response {
        let mut res = Html(self.page.to_string()).into_response();
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        res
    }

    /// One asset file, `path` being what follows [`ASSETS_PREFIX`] (percent-decoded).
    ///
    /// Serves only regular files inside the assets directory, of the types a browser
    /// needs for the page (scripts, styles, source maps, JSON, fonts, images). Anything
    /// else — no directory configured, a path with `..`, an empty, `.`-leading or absolute
    /// component, a backslash, a symlink leading outside the directory, an unknown type —
    /// is 404, the same as a missing file, so probing learns nothing. (A path that is not
    /// UTF-8 once decoded never gets here: axum answers 400.)
    pub async fn asset(&self, path: &str) -> Response {
        let Some(root) = self.assets.clone() else {
            return not_found();
        };
        let Some(relative) = safe_relative_path(path) else {
            return not_found();
        };
        let Some(content_type) = content_type(&relative) else {
            return not_found();
        };
        let read = tokio::task::spawn_blocking(move || read_inside(&root, &relative))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        match read {
            Ok(Some(bytes)) => (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                    (
                        header::X_CONTENT_TYPE_OPTIONS,
                        HeaderValue::from_static("nosniff"),
                    ),
                ],
                bytes,
            )
                .into_response(),
            Ok(None) => not_found(),
            Err(e) => {
                tracing::error!(error = %e, "reading a GraphiQL asset failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// The directory the packages are in: `dir` itself, or `dir/node_modules` when `dir` is
/// where `npm install` ran.
fn asset_root(dir: &Path) -> PathBuf {
    let nested = dir.join("node_modules");
    let root = if !dir.join("graphiql").is_dir() && nested.join("graphiql").is_dir() {
        nested
    } else {
        dir.to_path_buf()
    };
    root.canonicalize().unwrap_or(root)
}

/// Warns when the directory lacks a file the page loads or holds another version.
fn check_assets(root: &Path) {
    let mut checked: Vec<&str> = Vec::new();
    for asset in ASSETS {
        if !root.join(asset.package).join(asset.file).is_file() {
            tracing::warn!(
                dir = %root.display(),
                file = %format!("{}/{}", asset.package, asset.file),
                "GraphiQL asset missing: the playground will not load (fill the directory with `npm --prefix tools/graphiql ci`)"
            );
            continue;
        }
        if checked.contains(&asset.package) {
            continue;
        }
        checked.push(asset.package);
        let manifest = root.join(asset.package).join("package.json");
        let version = std::fs::read(&manifest)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["version"].as_str().map(str::to_owned));
        if version.as_deref() != Some(asset.version) {
            tracing::warn!(
                dir = %root.display(),
                package = asset.package,
                found = version.as_deref().unwrap_or("unknown"),
                expected = asset.version,
                "GraphiQL asset has another version: the browser will refuse it (use `npm --prefix tools/graphiql ci`)"
            );
        }
    }
}

/// `path` as a relative path of plain components, or `None` when it could leave the
/// directory or name something hidden.
fn safe_relative_path(path: &str) -> Option<PathBuf> {
    if path.is_empty() || path.contains(['\\', '\0']) {
        return None;
    }
    let mut out = PathBuf::new();
    for part in path.split('/') {
        if part.is_empty() || part.starts_with('.') {
            return None;
        }
        let mut components = Path::new(part).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(c)), None) => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

/// The file's bytes if it is a regular file that, symlinks resolved, lies inside `root`.
fn read_inside(root: &Path, relative: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let Ok(full) = root.join(relative).canonicalize() else {
        return Ok(None);
    };
    if !full.starts_with(root) {
        return Ok(None);
    }
    match std::fs::metadata(&full) {
        Ok(m) if m.is_file() && m.len() <= MAX_ASSET_BYTES => std::fs::read(&full).map(Some),
        _ => Ok(None),
    }
}

/// The `Content-Type` for a file the page may load, by extension.
fn content_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "js" | "mjs" | "cjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "map" | "json" => "application/json",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        _ => return None,
    })
}

fn asset_url(base: &str, local: bool, asset: &Asset) -> String {
    if local {
        format!("{base}{}/{}", asset.package, asset.file)
    } else {
        format!("{base}{}@{}/{}", asset.package, asset.version, asset.file)
    }
}

/// The page. Its script POSTs JSON to `/graphql` with the headers of GraphiQL's headers
/// editor, so `{"Authorization": "Bearer …"}` there authenticates the queries.
fn render_page(base: &str, local: bool) -> String {
    let script = |a: &Asset| {
        format!(
            r#"    <script src="{}" integrity="{}" crossorigin="anonymous"></script>"#,
            asset_url(base, local, a),
            a.integrity
        )
    };
    let css = format!(
        r#"    <link rel="stylesheet" href="{}" integrity="{}" crossorigin="anonymous" />"#,
        asset_url(base, local, &GRAPHIQL_CSS),
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
        "# Folio's GraphQL API. Run an operation with Ctrl-Enter (Cmd-Enter on a Mac).",
        "#",
        "# To act as a user, sign in with the login mutation and put its accessToken in",
        "# the Headers tab below: {{\"Authorization\": \"Bearer <accessToken>\"}}",
        "",
        "{{ me {{ id email }} }}",
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
