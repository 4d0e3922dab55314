//! GraphiQL: the page at `/` and at `/graphql` for browsers, and its assets, built into the
//! router and served by it (nothing from a CDN), each matching the integrity hash the page
//! gives it. (That the page works in a real browser, loading nothing from outside the
//! router, is `tools/graphiql-check`, run by `.ci/run`.)

use base64::Engine as _;
use folio_router::graphiql::{ASSETS, ASSETS_PREFIX};
use folio_testkit::TestApp;
use sha2::{Digest as _, Sha384};

const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[tokio::test]
async fn the_page_loads_built_in_assets_that_match_their_integrity() {
    let app = TestApp::spawn().await;
    for path in ["/", "/graphql"] {
        let (status, content_type, body) = app.get_page(path, HTML).await;
        assert_eq!(status, 200, "GET {path}");
        assert!(content_type.starts_with("text/html"), "{content_type}");
        assert!(body.contains("<title>Folio GraphiQL</title>"), "{body}");
        for url in [
            "/graphiql/assets/graphiql@4.1.2/graphiql.min.js",
            "/graphiql/assets/graphiql@4.1.2/graphiql.min.css",
            "/graphiql/assets/react@18.3.1/umd/react.production.min.js",
            "/graphiql/assets/react-dom@18.3.1/umd/react-dom.production.min.js",
        ] {
            assert!(body.contains(&format!("\"{url}\"")), "{path} lacks {url}");
        }
        assert!(!body.contains("https://"), "{body}");
        assert_eq!(body.matches("integrity=\"sha384-").count(), 4, "{body}");
        // The fetcher POSTs JSON to /graphql with the headers editor's headers.
        assert!(body.contains(r#"const endpoint = "/graphql";"#), "{body}");
        assert!(body.contains("opts && opts.headers"), "{body}");
        // It opens on an example query, and a one-line hint to sign in as the demo's
        // first admin.
        assert!(body.contains("newContents(first: 5)"), "{body}");
        assert!(body.contains(folio::demo::PASSWORD), "{body}");
        assert!(body.contains("ada@example.com"), "{body}");
    }

    // Each asset: served with its type, cacheable for good, and its bytes are those the
    // page's integrity hash names (else a browser refuses them).
    let (_, _, page) = app.get_page("/", HTML).await;
    for asset in ASSETS {
        let url = format!("{ASSETS_PREFIX}{}", asset.path());
        let tag = format!("\"{url}\" integrity=\"{}\"", asset.integrity);
        assert!(page.contains(&tag), "the page lacks {tag}");
        let res = app
            .client
            .get(format!("{}{url}", app.base))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status().as_u16(), 200, "{url}");
        let headers = res.headers().clone();
        let content_type = headers["content-type"].to_str().expect("ascii");
        let want = if asset.file.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(content_type.starts_with(want), "{url}: {content_type}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{url}");
        assert!(
            headers["cache-control"]
                .to_str()
                .expect("ascii")
                .contains("immutable"),
            "{url}"
        );
        let bytes = res.bytes().await.expect("body");
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha384::digest(&bytes));
        assert_eq!(format!("sha384-{hash}"), asset.integrity, "{url}");
    }
    app.stop().await;
}

#[tokio::test]
async fn only_the_built_in_assets_are_served() {
    let app = TestApp::spawn().await;
    for path in [
        "/graphiql/assets/graphiql/graphiql.min.js",
        "/graphiql/assets/graphiql@4.1.2/graphiql.min.js.map",
        "/graphiql/assets/graphiql@4.1.2/",
        "/graphiql/assets/graphiql@9.9.9/graphiql.min.js",
        "/graphiql/assets/../Cargo.toml",
        "/graphiql/assets/graphiql@4.1.2/../../Cargo.toml",
        "/graphiql/assets/..%2fCargo.toml",
        "/graphiql/assets/%2e%2e%2fCargo.toml",
        "/graphiql/assets//etc/passwd",
        "/graphiql/assets/%2Fetc%2Fpasswd",
        "/graphiql/assets/graphiql@4.1.2/graphiql.min.js%00.js",
        "/graphiql/assets/%ff.js",
    ] {
        let (status, response) = app.get_verbatim(path).await;
        assert!(
            status == 404 || status == 400,
            "{path}: HTTP {status}\n{response}"
        );
        assert!(!response.contains("[workspace]"), "{path}: {response}");
        assert!(!response.contains("root:"), "{path}: {response}");
    }
    let (status, response) = app
        .get_verbatim("/graphiql/assets/graphiql@4.1.2/graphiql.min.js")
        .await;
    assert_eq!(status, 200, "{response}");
    app.stop().await;
}
