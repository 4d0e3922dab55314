//! GraphiQL: the page at `/` and at `/graphql` for browsers, its assets from a CDN or
//! from `graphiql_assets_dir`, and nothing outside that directory. (That the page works in
//! a real browser is `tools/graphiql-check`, run by `.ci/run`.)

use folio_testkit::TestApp;
use std::path::Path;

const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// A small stand-in for `tools/graphiql/node_modules`, and a file next to it that must
/// stay out of reach.
fn fake_assets(root: &Path) -> std::path::PathBuf {
    let dir = root.join("node_modules");
    for (file, text) in [
        (
            "graphiql/graphiql.min.js",
            "window.GraphiQL = function () {};",
        ),
        (
            "graphiql/graphiql.min.css",
            ".graphiql-container { color: red }",
        ),
        ("graphiql/graphiql.min.js.map", "{\"version\":3}"),
        ("graphiql/package.json", "{\"version\":\"0.0.0-fake\"}"),
        ("react/umd/react.production.min.js", "window.React = {};"),
        (
            "react-dom/umd/react-dom.production.min.js",
            "window.ReactDOM = {};",
        ),
        ("graphiql/notes.txt", "not a web asset"),
        (".bin/hidden.js", "hidden"),
    ] {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write asset");
    }
    std::fs::write(root.join("secret.js"), "TOP SECRET").expect("write secret");
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("secret.js"), dir.join("graphiql/link.js"))
        .expect("symlink");
    dir
}

#[tokio::test]
async fn the_page_loads_pinned_cdn_assets_by_default() {
    let app = TestApp::spawn().await;
    for path in ["/", "/graphql"] {
        let (status, content_type, body) = app.get_page(path, HTML).await;
        assert_eq!(status, 200, "GET {path}");
        assert!(content_type.starts_with("text/html"), "{content_type}");
        assert!(body.contains("<title>Folio GraphiQL</title>"), "{body}");
        for url in [
            "https://unpkg.com/graphiql@4.1.2/graphiql.min.js",
            "https://unpkg.com/graphiql@4.1.2/graphiql.min.css",
            "https://unpkg.com/react@18.3.1/umd/react.production.min.js",
            "https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js",
        ] {
            assert!(body.contains(&format!("\"{url}\"")), "{path} lacks {url}");
        }
        assert!(!body.contains("/graphiql/assets/"), "{body}");
        assert_eq!(body.matches("integrity=\"sha384-").count(), 4, "{body}");
        // The fetcher POSTs JSON to /graphql with the headers editor's headers.
        assert!(body.contains(r#"const endpoint = "/graphql";"#), "{body}");
        assert!(body.contains("opts && opts.headers"), "{body}");
    }
    // Without a directory, nothing is served locally.
    let (status, _, _) = app
        .get_page("/graphiql/assets/graphiql/graphiql.min.js", "*/*")
        .await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn the_page_loads_assets_from_the_configured_directory() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = fake_assets(tmp.path());
    let app = TestApp::spawn_with(|cfg| cfg.graphiql_assets_dir = Some(dir)).await;
    for path in ["/", "/graphql"] {
        let (status, content_type, body) = app.get_page(path, HTML).await;
        assert_eq!(status, 200, "GET {path}");
        assert!(content_type.starts_with("text/html"), "{content_type}");
        for url in [
            "/graphiql/assets/graphiql/graphiql.min.js",
            "/graphiql/assets/graphiql/graphiql.min.css",
            "/graphiql/assets/react/umd/react.production.min.js",
            "/graphiql/assets/react-dom/umd/react-dom.production.min.js",
        ] {
            assert!(body.contains(&format!("\"{url}\"")), "{path} lacks {url}");
        }
        assert!(!body.contains("unpkg.com"), "{body}");
    }

    for (path, want_type, want_body) in [
        (
            "graphiql/graphiql.min.js",
            "text/javascript",
            "window.GraphiQL = function () {};",
        ),
        (
            "graphiql/graphiql.min.css",
            "text/css",
            ".graphiql-container { color: red }",
        ),
        (
            "graphiql/graphiql.min.js.map",
            "application/json",
            "{\"version\":3}",
        ),
        (
            "react/umd/react.production.min.js",
            "text/javascript",
            "window.React = {};",
        ),
    ] {
        let res = app
            .client
            .get(format!("{}/graphiql/assets/{path}", app.base))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let headers = res.headers().clone();
        let content_type = headers["content-type"].to_str().expect("ascii");
        assert!(
            content_type.starts_with(want_type),
            "{path}: {content_type}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(res.text().await.expect("body"), want_body, "{path}");
    }

    // Missing files, directories, hidden files and types a page does not load: 404.
    for path in [
        "graphiql/missing.js",
        "graphiql",
        "graphiql/",
        "react/umd",
        ".bin/hidden.js",
        "graphiql/notes.txt",
    ] {
        let (status, _, _) = app
            .get_page(&format!("/graphiql/assets/{path}"), "*/*")
            .await;
        assert_eq!(status, 404, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn nothing_outside_the_assets_directory_is_served() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = fake_assets(tmp.path());
    let app = TestApp::spawn_with(|cfg| cfg.graphiql_assets_dir = Some(dir)).await;
    for path in [
        "/graphiql/assets/../Cargo.toml",
        "/graphiql/assets/../secret.js",
        "/graphiql/assets/graphiql/../../secret.js",
        "/graphiql/assets/..%2Fsecret.js",
        "/graphiql/assets/..%2fCargo.toml",
        "/graphiql/assets/%2e%2e%2fsecret.js",
        "/graphiql/assets/%2E%2E/secret.js",
        "/graphiql/assets/graphiql%2F..%2F..%2Fsecret.js",
        "/graphiql/assets/..%5Csecret.js",
        "/graphiql/assets//etc/passwd",
        "/graphiql/assets/%2Fetc%2Fpasswd",
        &format!(
            "/graphiql/assets/{}",
            tmp.path().join("secret.js").display()
        ),
        "/graphiql/assets/graphiql/link.js",
        "/graphiql/assets/graphiql/graphiql.min.js%00.js",
        "/graphiql/assets/%ff.js",
    ] {
        let (status, response) = app.get_verbatim(path).await;
        assert!(
            status == 404 || status == 400,
            "{path}: HTTP {status}\n{response}"
        );
        assert!(!response.contains("TOP SECRET"), "{path}: {response}");
        assert!(!response.contains("[workspace]"), "{path}: {response}");
        assert!(!response.contains("root:"), "{path}: {response}");
    }
    // The same server does serve a real asset.
    let (status, response) = app
        .get_verbatim("/graphiql/assets/graphiql/graphiql.min.js")
        .await;
    assert_eq!(status, 200, "{response}");
    app.stop().await;
}

#[tokio::test]
async fn the_directory_may_be_where_npm_install_ran() {
    let tmp = tempfile::tempdir().expect("temp dir");
    fake_assets(tmp.path());
    let parent = tmp.path().to_path_buf();
    let app = TestApp::spawn_with(|cfg| cfg.graphiql_assets_dir = Some(parent)).await;
    let (status, content_type, body) = app
        .get_page("/graphiql/assets/react/umd/react.production.min.js", "*/*")
        .await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("text/javascript"),
        "{content_type}"
    );
    assert_eq!(body, "window.React = {};");
    app.stop().await;
}
