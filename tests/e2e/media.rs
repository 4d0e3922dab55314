//! Pictures through the router: `setContentImage`, `removeContentImage` and `setAvatar` as
//! real GraphQL multipart uploads, the files served at `/media/<key>`, refusals of bad
//! files with nothing stored, permissions, and a deleted content's image going with it.
//!
//! `.ci/run` runs this module a second time against an S3 server
//! (`FOLIO_TEST_MEDIA_STORE_URL=s3://…`): `url`s are then presigned URLs of the S3 server,
//! fetched as they are, and the router's `/media/<key>` reads from S3.

use folio_media::picture::testing::{animated_gif, picture, with_exif};
use folio_testkit::{Session, TestApp, eventually, upload_form};
use image::ImageFormat;
use serde_json::{Value, json};

const SET_CONTENT_IMAGE: &str = "mutation($c: ID!, $f: Upload!) { setContentImage(contentId: $c, file: $f) { id title image { url width height contentType bytes thumbnails { width } placeholder } } }";
const SET_AVATAR: &str = "mutation($f: Upload!) { setAvatar(file: $f) { id firstName avatar { url width height contentType } } }";
const CONTENT_IMAGE: &str =
    "query($id: ID!) { content(id: $id) { id image { url width height contentType bytes } } }";

/// A multipart upload of `file` (named `name`, declared `mime`) as variable `f`.
async fn upload(
    app: &TestApp,
    who: Option<&Session>,
    query: &str,
    variables: Value,
    file: Vec<u8>,
    name: &str,
    mime: &str,
) -> Value {
    let form = upload_form(query, variables, file, name, mime);
    let (status, body) = app
        .post_multipart(who.map(|s| s.access_token.as_str()), form)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Sets a JPEG as the image of `content`, as `who`: its URL.
async fn set_image(app: &TestApp, who: &Session, content: &str, jpeg: Vec<u8>) -> String {
    let body = upload(
        app,
        Some(who),
        SET_CONTENT_IMAGE,
        json!({ "c": content }),
        jpeg,
        "picture.jpg",
        "image/jpeg",
    )
    .await;
    body["data"]["setContentImage"]["image"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

fn code(body: &Value) -> (&str, &str) {
    let e = &body["errors"][0]["extensions"];
    (
        e["code"].as_str().unwrap_or_default(),
        e["field"].as_str().unwrap_or_default(),
    )
}

/// A GET of an image URL (through the router when it is relative, from the S3 server when
/// presigned): status, headers, body.
async fn get(
    app: &TestApp,
    url: &str,
    etag: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let url = if url.starts_with("http") {
        url.to_owned()
    } else {
        format!("{}{url}", app.base)
    };
    let mut req = app.client.get(url);
    if let Some(tag) = etag {
        req = req.header("if-none-match", tag);
    }
    let res = req.send().await.expect("answered");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn an_uploaded_picture_is_served_without_its_metadata() {
    let app = TestApp::spawn().await;
    let ada = app
        .register("ada-media@example.com", "correct horse 1")
        .await;
    let content = app.create_content(&ada, "With a picture").await;
    let plain = picture(ImageFormat::Jpeg, 64, 48);
    let body = upload(
        &app,
        Some(&ada),
        SET_CONTENT_IMAGE,
        json!({ "c": content }),
        with_exif(&plain, 1),
        "holiday.jpg",
        "image/jpeg",
    )
    .await;
    assert!(body["errors"].is_null(), "{body}");
    let image = &body["data"]["setContentImage"]["image"];
    assert_eq!(body["data"]["setContentImage"]["title"], "With a picture");
    assert_eq!(
        (&image["width"], &image["height"], &image["contentType"]),
        (&json!(64), &json!(48), &json!("image/jpeg"))
    );
    assert_eq!(image["bytes"], json!(plain.len()), "{image}");
    let url = image["url"].as_str().expect("url").to_owned();
    let key = key_of(&url);
    assert!(key.ends_with(".jpg") && key.len() == 64 + 4, "{url}");
    let s3 = std::env::var("FOLIO_TEST_MEDIA_STORE_URL").is_ok_and(|u| u.starts_with("s3://"));
    if s3 {
        assert!(
            url.starts_with("http") && url.contains("X-Amz-Signature="),
            "a presigned URL: {url}"
        );
    } else {
        assert_eq!(url, format!("/media/{key}"));
    }

    // The same bytes, EXIF (and its GPS pointer) gone, with the headers a cache needs: at
    // the URL handed out, and at the router's /media/<key> whatever the store.
    for at in [url.clone(), format!("/media/{key}")] {
        let (status, headers, served) = get(&app, &at, None).await;
        assert_eq!(status, 200, "{at}");
        assert_eq!(served, plain, "{at}");
        assert_eq!(headers["content-type"], "image/jpeg", "{at}");
        assert!(
            headers["cache-control"]
                .to_str()
                .expect("ascii")
                .contains("immutable"),
            "{at}"
        );
        let etag = headers["etag"].to_str().expect("ascii").to_owned();
        let (status, _, _) = get(&app, &at, Some(&etag)).await;
        assert_eq!(status, 304, "{at}");
    }

    // Read back through the content.
    let read = app.gql(None, CONTENT_IMAGE, json!({ "id": content })).await;
    assert_eq!(
        read["data"]["content"]["image"]["url"],
        json!(url),
        "{read}"
    );

    // A turned photo is served upright.
    let turned = upload(
        &app,
        Some(&ada),
        SET_CONTENT_IMAGE,
        json!({ "c": content }),
        with_exif(&plain, 6),
        "turned.jpg",
        "image/jpeg",
    )
    .await;
    let image = &turned["data"]["setContentImage"]["image"];
    assert_eq!(
        (&image["width"], &image["height"]),
        (&json!(48), &json!(64)),
        "{turned}"
    );
    // The replaced picture's file goes.
    let (status, _, _) = get(&app, &url, None).await;
    assert_eq!(status, 404);

    // Removing it.
    let removed = app
        .ok(
            &ada,
            "mutation($c: ID!) { removeContentImage(contentId: $c) }",
            json!({ "c": content }),
        )
        .await;
    assert_eq!(removed["removeContentImage"], json!(true));
    let read = app.gql(None, CONTENT_IMAGE, json!({ "id": content })).await;
    assert_eq!(read["data"]["content"]["image"], Value::Null, "{read}");
    let again = app
        .ok(
            &ada,
            "mutation($c: ID!) { removeContentImage(contentId: $c) }",
            json!({ "c": content }),
        )
        .await;
    assert_eq!(again["removeContentImage"], json!(false));

    // An avatar, PNG.
    let avatar = upload(
        &app,
        Some(&ada),
        SET_AVATAR,
        json!({}),
        picture(ImageFormat::Png, 20, 30),
        "me.png",
        "image/png",
    )
    .await;
    let got = &avatar["data"]["setAvatar"]["avatar"];
    assert_eq!(
        (&got["width"], &got["contentType"]),
        (&json!(20), &json!("image/png")),
        "{avatar}"
    );
    let (status, headers, _) = get(&app, got["url"].as_str().expect("url"), None).await;
    assert_eq!(
        (status, headers["content-type"].to_str().expect("ascii")),
        (200, "image/png")
    );

    // The replaced picture is gone from the router's path too.
    assert_eq!(get(&app, &format!("/media/{key}"), None).await.0, 404);

    // Unknown keys are 404, whatever they look like.
    for path in [
        "/media/nothing.jpg",
        &format!("/media/{}.jpg", "0".repeat(64)),
    ] {
        assert_eq!(get(&app, path, None).await.0, 404, "{path}");
    }
}

const THUMBNAILS: &str = "query($id: ID!) { content(id: $id) { image { url thumbnails { width height url } placeholder } } }";

#[tokio::test]
async fn thumbnails_and_a_placeholder_appear_in_the_background() {
    let app = TestApp::spawn().await;
    let ada = app
        .register("ada-thumbs@example.com", "correct horse 1")
        .await;
    let content = app.create_content(&ada, "Thumbnails").await;
    let original = set_image(&app, &ada, &content, picture(ImageFormat::Jpeg, 600, 400)).await;
    // The original is there at once.
    assert_eq!(get(&app, &original, None).await.0, 200);
    let (sizes, image) = rendered(&app, &content).await;
    assert_eq!(sizes, [(160, 107), (480, 320)], "{image}");
    let mut thumbnail_urls = Vec::new();
    for (thumbnail, (width, height)) in image["thumbnails"]
        .as_array()
        .expect("thumbnails")
        .iter()
        .zip(sizes)
    {
        let url = thumbnail["url"].as_str().expect("url").to_owned();
        let (status, headers, bytes) = get(&app, &url, None).await;
        assert_eq!(
            (status, headers["content-type"].to_str().expect("ascii")),
            (200, "image/jpeg"),
            "{url}"
        );
        assert!(
            headers["cache-control"]
                .to_str()
                .expect("ascii")
                .contains("immutable")
        );
        let decoded = image::load_from_memory(&bytes).expect("a picture");
        assert_eq!(
            (u64::from(decoded.width()), u64::from(decoded.height())),
            (width, height)
        );
        thumbnail_urls.push(url);
    }

    // Removing the picture removes its thumbnails too.
    app.ok(
        &ada,
        "mutation($c: ID!) { removeContentImage(contentId: $c) }",
        json!({ "c": content }),
    )
    .await;
    for url in thumbnail_urls.iter().chain([&original]) {
        assert_eq!(get(&app, url, None).await.0, 404, "{url}");
    }
}

#[tokio::test]
async fn bad_files_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let ada = app
        .register("ada-bad-media@example.com", "correct horse 1")
        .await;
    let content = app.create_content(&ada, "Refusals").await;
    let good = picture(ImageFormat::Png, 32, 32);
    let first = upload(
        &app,
        Some(&ada),
        SET_CONTENT_IMAGE,
        json!({ "c": content }),
        good,
        "a.png",
        "image/png",
    )
    .await;
    let kept = first["data"]["setContentImage"]["image"]["url"].clone();
    assert!(kept.is_string(), "{first}");

    let mut truncated = picture(ImageFormat::Jpeg, 64, 64);
    truncated.truncate(truncated.len() / 2);
    // A PNG header declaring 10,000 × 10,000 pixels (100 megapixels), almost no data.
    let mut bomb = picture(ImageFormat::Png, 1, 1);
    bomb[16..20].copy_from_slice(&10_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&10_000u32.to_be_bytes());
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let cases: [(&str, Vec<u8>, &str, &str); 4] = [
        (
            "text named .jpg",
            b"just words, not a picture".to_vec(),
            "photo.jpg",
            "not a JPEG",
        ),
        (
            "a PDF",
            b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n".to_vec(),
            "scan.png",
            "not a JPEG",
        ),
        ("truncated", truncated, "cut.jpg", "truncated"),
        ("decompression bomb", bomb, "bomb.png", "million"),
    ];
    for (what, file, name, says) in cases {
        let body = upload(
            &app,
            Some(&ada),
            SET_CONTENT_IMAGE,
            json!({ "c": content }),
            file,
            name,
            "image/jpeg",
        )
        .await;
        assert_eq!(code(&body), ("BAD_USER_INPUT", "file"), "{what}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{what}: {message}");
        let read = app.gql(None, CONTENT_IMAGE, json!({ "id": content })).await;
        assert_eq!(
            read["data"]["content"]["image"]["url"], kept,
            "{what} changed nothing"
        );
    }
}

/// The thumbnails' sizes once they are there, and the image.
async fn rendered(app: &TestApp, content: &str) -> (Vec<(u64, u64)>, Value) {
    let read = || async {
        let read = app.gql(None, THUMBNAILS, json!({ "id": content })).await;
        read["data"]["content"]["image"].clone()
    };
    eventually("the thumbnails appear", || async {
        read().await["placeholder"].is_string()
    })
    .await;
    let image = read().await;
    let sizes = image["thumbnails"]
        .as_array()
        .expect("thumbnails")
        .iter()
        .map(|t| {
            (
                t["width"].as_u64().unwrap_or(0),
                t["height"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    (sizes, image)
}

#[tokio::test]
async fn webp_and_animated_gif_pictures_keep_their_kind() {
    let app = TestApp::spawn().await;
    let ada = app
        .register("ada-kinds@example.com", "correct horse 1")
        .await;

    // WebP (named .png, declared PNG: the bytes decide).
    let webp = picture(ImageFormat::WebP, 500, 300);
    let first = app.create_content(&ada, "WebP").await;
    let body = upload(
        &app,
        Some(&ada),
        SET_CONTENT_IMAGE,
        json!({ "c": first }),
        webp.clone(),
        "actually.png",
        "image/png",
    )
    .await;
    let image = &body["data"]["setContentImage"]["image"];
    assert_eq!(
        (&image["contentType"], &image["width"], &image["height"]),
        (&json!("image/webp"), &json!(500), &json!(300)),
        "{body}"
    );
    let url = image["url"].as_str().expect("url").to_owned();
    assert!(key_of(&url).ends_with(".webp"), "{url}");
    let (status, headers, served) = get(&app, &url, None).await;
    assert_eq!(
        (status, headers["content-type"].to_str().expect("ascii")),
        (200, "image/webp")
    );
    assert_eq!(served, webp, "a WebP without metadata is served as it came");
    let (sizes, image) = rendered(&app, &first).await;
    assert_eq!(sizes, [(160, 96), (480, 288)], "{image}");
    let thumbnail = image["thumbnails"][0]["url"].as_str().expect("url");
    let (status, headers, _) = get(&app, thumbnail, None).await;
    assert_eq!(
        (status, headers["content-type"].to_str().expect("ascii")),
        (200, "image/png")
    );

    // An animated GIF stays animated, loses its comment, and its thumbnail is its first
    // frame.
    let gif = animated_gif(240, 120, 3);
    let second = app.create_content(&ada, "GIF").await;
    let body = upload(
        &app,
        Some(&ada),
        SET_CONTENT_IMAGE,
        json!({ "c": second }),
        gif,
        "moving.gif",
        "image/gif",
    )
    .await;
    let image = &body["data"]["setContentImage"]["image"];
    assert_eq!(
        (&image["contentType"], &image["width"], &image["height"]),
        (&json!("image/gif"), &json!(240), &json!(120)),
        "{body}"
    );
    let (status, _, served) = get(&app, image["url"].as_str().expect("url"), None).await;
    assert_eq!(status, 200);
    assert!(
        !served.windows(6).any(|w| w == b"secret"),
        "the comment is not served"
    );
    let frames = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&served))
        .and_then(|d| image::AnimationDecoder::into_frames(d).collect_frames())
        .expect("a GIF");
    assert_eq!(frames.len(), 3, "every frame is kept");
    let (sizes, image) = rendered(&app, &second).await;
    assert_eq!(sizes, [(160, 80)], "{image}");
    let (_, headers, thumbnail) = get(
        &app,
        image["thumbnails"][0]["url"].as_str().expect("url"),
        None,
    )
    .await;
    assert_eq!(headers["content-type"], "image/png");
    let first_frame = image::load_from_memory(&thumbnail).expect("a PNG");
    assert_eq!((first_frame.width(), first_frame.height()), (160, 80));
}

#[tokio::test]
async fn a_picture_over_the_size_limit_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn_with(|cfg| cfg.max_image_bytes = 4096).await;
    let ada = app
        .register("ada-large@example.com", "correct horse 1")
        .await;
    let content = app.create_content(&ada, "Too large").await;
    let large = picture(ImageFormat::Jpeg, 400, 400);
    assert!(large.len() > 4096, "{} bytes", large.len());
    let body = upload(
        &app,
        Some(&ada),
        SET_CONTENT_IMAGE,
        json!({ "c": content }),
        large,
        "large.jpg",
        "image/jpeg",
    )
    .await;
    assert_eq!(code(&body), ("BAD_USER_INPUT", "file"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("larger than 4096 bytes"), "{message}");
    let read = app.gql(None, CONTENT_IMAGE, json!({ "id": content })).await;
    assert_eq!(read["data"]["content"]["image"], Value::Null, "{read}");
    // A file under the limit is taken.
    let small = upload(
        &app,
        Some(&ada),
        SET_CONTENT_IMAGE,
        json!({ "c": content }),
        picture(ImageFormat::Png, 16, 16),
        "small.png",
        "image/png",
    )
    .await;
    assert!(small["errors"].is_null(), "{small}");
}

#[tokio::test]
async fn only_the_author_or_an_admin_sets_a_content_image_and_deletion_removes_it() {
    let app = TestApp::spawn().await;
    let ada = app
        .register("ada-perm-media@example.com", "correct horse 1")
        .await;
    let bob = app
        .register("bob-perm-media@example.com", "correct horse 1")
        .await;
    let content = app.create_content(&ada, "Mine").await;
    let file = || picture(ImageFormat::Png, 8, 8);
    let vars = json!({ "c": content });
    let anonymous = upload(
        &app,
        None,
        SET_CONTENT_IMAGE,
        vars.clone(),
        file(),
        "a.png",
        "image/png",
    )
    .await;
    assert_eq!(code(&anonymous).0, "UNAUTHENTICATED", "{anonymous}");
    let other = upload(
        &app,
        Some(&bob),
        SET_CONTENT_IMAGE,
        vars.clone(),
        file(),
        "a.png",
        "image/png",
    )
    .await;
    assert_eq!(code(&other).0, "FORBIDDEN", "{other}");
    let missing = upload(
        &app,
        Some(&ada),
        SET_CONTENT_IMAGE,
        json!({ "c": "0190f0e0-0000-7000-8000-000000000000" }),
        file(),
        "a.png",
        "image/png",
    )
    .await;
    assert_eq!(code(&missing).0, "NOT_FOUND", "{missing}");
    let admin = app.admin("root-media@example.com", "correct horse 1").await;
    let by_admin = upload(
        &app,
        Some(&admin),
        SET_CONTENT_IMAGE,
        vars.clone(),
        file(),
        "a.png",
        "image/png",
    )
    .await;
    let url = by_admin["data"]["setContentImage"]["image"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("{by_admin}"))
        .to_owned();

    let deleted = app
        .ok(
            &ada,
            "mutation($id: ID!) { deleteContent(id: $id) }",
            json!({ "id": content }),
        )
        .await;
    assert_eq!(deleted["deleteContent"], json!(true));
    eventually("the deleted content's picture goes", || async {
        get(&app, &url, None).await.0 == 404
    })
    .await;
}

/// The object key at the end of an image URL (`/media/<key>` or a presigned URL).
fn key_of(url: &str) -> String {
    let path = url.split('?').next().unwrap_or_default();
    path.rsplit('/').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_image_set_on_a_deleted_content_or_user_is_not_found_and_nothing_stays() {
    let app = TestApp::spawn().await;
    let ada = app
        .register("ada-gone-media@example.com", "correct horse 1")
        .await;
    let content = app.create_content(&ada, "Soon gone").await;
    let deleted = app
        .ok(
            &ada,
            "mutation($id: ID!) { deleteContent(id: $id) }",
            json!({ "id": content }),
        )
        .await;
    assert_eq!(deleted["deleteContent"], json!(true));
    // The content subgraph still answers for the deleted content from its tombstone; until
    // media has applied `content.deleted` an upload may go through (and is then removed
    // with the content), after it every upload is NOT_FOUND.
    let vars = json!({ "c": content });
    let taken = upload_until_not_found(&app, &ada, SET_CONTENT_IMAGE_ID, vars).await;
    for url in &taken {
        eventually(
            "an image taken before the deletion was applied goes",
            || async { get(&app, url, None).await.0 == 404 },
        )
        .await;
    }

    // The same for a deleted user's avatar (their access token outlives them a while).
    let bob = app
        .register("bob-gone-media@example.com", "correct horse 1")
        .await;
    let gone = app
        .ok(
            &bob,
            "mutation($id: ID!) { deleteUser(id: $id) }",
            json!({ "id": bob.id }),
        )
        .await;
    assert_eq!(gone["deleteUser"], json!(true));
    let taken = upload_until_not_found(&app, &bob, SET_AVATAR_ID, json!({})).await;
    for url in &taken {
        eventually(
            "an avatar taken before the deletion was applied goes",
            || async { get(&app, url, None).await.0 == 404 },
        )
        .await;
    }
}

/// The mutations selecting only what media answers itself: the owner's other fields come
/// from its own subgraph, where a deleted owner is already gone (a null non-null field),
/// while media may still take the upload until it has applied the deletion event.
const SET_CONTENT_IMAGE_ID: &str =
    "mutation($c: ID!, $f: Upload!) { setContentImage(contentId: $c, file: $f) { id } }";
const SET_AVATAR_ID: &str = "mutation($f: Upload!) { setAvatar(file: $f) { id } }";

/// Uploads a new picture with `mutation` every 50 ms until one is NOT_FOUND: the router
/// paths (`/media/<key>`) of those taken before.
async fn upload_until_not_found(
    app: &TestApp,
    who: &Session,
    mutation: &str,
    variables: Value,
) -> Vec<String> {
    let mut taken = Vec::new();
    for height in 8..208 {
        let file = picture(ImageFormat::Png, 8, height);
        let key = folio_media::picture::parse(file.clone(), 1 << 20)
            .expect("a picture")
            .key;
        let body = upload(
            app,
            Some(who),
            mutation,
            variables.clone(),
            file,
            "late.png",
            "image/png",
        )
        .await;
        if !body["errors"].is_null() {
            assert_eq!(code(&body).0, "NOT_FOUND", "{body}");
            return taken;
        }
        // Taken (its image may already be gone again when the answer is made).
        taken.push(format!("/media/{key}"));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "{mutation} was never refused ({} uploads taken)",
        taken.len()
    );
}

#[tokio::test]
async fn files_no_image_names_are_swept_and_named_ones_stay() {
    let app = TestApp::spawn_with(|cfg| cfg.media_sweep_secs = 1).await;
    let ada = app
        .register("ada-sweep@example.com", "correct horse 1")
        .await;
    let content = app.create_content(&ada, "Kept").await;
    let kept = set_image(&app, &ada, &content, picture(ImageFormat::Jpeg, 400, 300)).await;
    let (_, image) = rendered(&app, &content).await;
    let kept_thumbnail = image["thumbnails"][0]["url"]
        .as_str()
        .expect("a thumbnail")
        .to_owned();

    // What a deletion that failed leaves behind: a picture and its thumbnail that no
    // image names, written straight into the platform's store; and a file that is not
    // one of the service's, which the sweep leaves alone.
    let objects = folio_media::objects::Objects::open(&app.cfg).expect("the store");
    let left = folio_media::picture::parse(picture(ImageFormat::Png, 300, 200), 1 << 20)
        .expect("a picture");
    let left_thumbnail = folio_media::picture::thumbnail_key(&left.key, 160);
    for key in [&left.key, &left_thumbnail] {
        objects.put(key, left.bytes.clone()).await.expect("put");
        assert_eq!(get(&app, &format!("/media/{key}"), None).await.0, 200);
    }
    objects
        .put("notes.txt", &b"not a picture"[..])
        .await
        .expect("put");

    eventually("the unnamed files are swept", || async {
        get(&app, &format!("/media/{}", left.key), None).await.0 == 404
            && get(&app, &format!("/media/{left_thumbnail}"), None).await.0 == 404
    })
    .await;
    for url in [&kept, &kept_thumbnail] {
        assert_eq!(get(&app, url, None).await.0, 200, "{url}");
    }
    assert!(
        objects
            .written_at("notes.txt")
            .await
            .expect("head")
            .is_some(),
        "a file the service never writes stays"
    );
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(bytes);
    hasher.finalize()
}
