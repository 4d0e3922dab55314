//! The CSV engine against a temporary SQLite store.

use super::*;
use crate::store::INSERT_CHUNK;
use crate::store::tests::temp_store;
use folio_common::pagination::PageRequest;

fn opts(viewer: &str, is_admin: bool) -> ImportOptions {
    ImportOptions {
        viewer_id: viewer.to_owned(),
        is_admin,
        max_rows: 100,
    }
}

async fn run(bytes: &[u8], o: ImportOptions) -> (ImportReport, u64) {
    let (store, _dir) = temp_store().await;
    let report = import_csv(&store, std::io::Cursor::new(bytes.to_vec()), o)
        .await
        .expect("import");
    let page = PageRequest {
        limit: 100,
        after: None,
    };
    let total = store
        .list_contents(None, &page)
        .await
        .expect("list")
        .total_count;
    assert_eq!(report.created, total, "the report matches the database");
    (report, total)
}

fn lines(r: &ImportReport) -> Vec<u64> {
    r.errors.iter().map(|e| e.line).collect()
}

#[tokio::test]
async fn a_good_file_creates_every_row() {
    let csv = "story,title,tags,description\nOnce.,First,rust|Web,\n\"Twice, \"\"quoted\"\".\",Second,,about\n";
    let (r, n) = run(csv.as_bytes(), opts("u1", false)).await;
    assert_eq!((r.created, r.failed, n), (2, 0, 2), "{r:?}");
    assert!(r.errors.is_empty());
}

#[tokio::test]
async fn a_wrong_header_is_a_line_1_error() {
    for csv in [
        "title,body\nT,S\n",
        "title\nT\n",
        "title,story,title\nT,S,T\n",
    ] {
        let (r, n) = run(csv.as_bytes(), opts("u1", false)).await;
        assert_eq!((r.created, n, lines(&r)), (0, 0, vec![1]), "{csv:?}: {r:?}");
    }
}

#[tokio::test]
async fn an_empty_file_is_a_line_1_error() {
    let (r, n) = run(b"", opts("u1", false)).await;
    assert_eq!((r.created, n, lines(&r)), (0, 0, vec![1]));
}

#[tokio::test]
async fn an_unterminated_quote_is_reported_on_its_line() {
    let csv = "title,story\nA,ok\nB,\"never closed\nC,more\n";
    let (r, n) = run(csv.as_bytes(), opts("u1", false)).await;
    assert_eq!((r.created, n, lines(&r)), (0, 0, vec![3]), "{r:?}");
    assert!(r.errors[0].message.contains("unterminated"), "{r:?}");
}

#[tokio::test]
async fn non_utf8_bytes_are_a_bad_row() {
    let mut csv = b"title,story\nA,ok\nB,caf".to_vec();
    csv.extend_from_slice(&[0xff, 0xfe]);
    csv.extend_from_slice(b"\nC,ok\n");
    let (r, n) = run(&csv, opts("u1", false)).await;
    assert_eq!(
        (r.created, r.failed, n, lines(&r)),
        (0, 1, 0, vec![3]),
        "{r:?}"
    );
    assert!(r.errors[0].message.starts_with("story:"), "{r:?}");
}

#[tokio::test]
async fn a_row_with_too_many_fields_is_bad() {
    let csv = "title,story\nA,ok\nB,ok,extra\nC,ok\n";
    let (r, n) = run(csv.as_bytes(), opts("u1", false)).await;
    assert_eq!(
        (r.created, r.failed, n, lines(&r)),
        (0, 1, 0, vec![3]),
        "{r:?}"
    );
}

#[tokio::test]
async fn a_bad_last_row_creates_nothing_and_names_the_column() {
    let csv = "title,story\nA,ok\nB,ok\n  ,ok\n";
    let (r, n) = run(csv.as_bytes(), opts("u1", false)).await;
    assert_eq!(
        (r.created, r.failed, n, lines(&r)),
        (0, 1, 0, vec![4]),
        "{r:?}"
    );
    assert_eq!(r.errors[0].message, "title: must not be empty");
}

#[tokio::test]
async fn a_quoted_field_over_two_lines_keeps_later_lines_right() {
    let csv = "title,story\nA,\"line one\nline two\"\nB,\n";
    let (r, _) = run(csv.as_bytes(), opts("u1", false)).await;
    assert_eq!(lines(&r), vec![4], "{r:?}");
    assert_eq!(r.errors[0].message, "story: must not be empty");
}

#[tokio::test]
async fn another_author_needs_an_admin() {
    let csv = "title,story,author_id\nA,ok,u2\nB,ok,\n";
    let (r, n) = run(csv.as_bytes(), opts("u1", false)).await;
    assert_eq!((r.created, n, lines(&r)), (0, 0, vec![2]), "{r:?}");
    assert!(r.errors[0].message.starts_with("author_id:"));
    let (r, n) = run(csv.as_bytes(), opts("admin", true)).await;
    assert_eq!((r.created, n), (2, 2), "{r:?}");
}

#[tokio::test]
async fn rows_beyond_the_limit_are_rejected_and_errors_are_capped() {
    let mut csv = String::from("title,story\n");
    for _ in 0..101 {
        csv.push_str("T,ok\n");
    }
    let (r, n) = run(csv.as_bytes(), opts("u1", false)).await;
    assert_eq!((r.created, n, lines(&r)), (0, 0, vec![1]), "{r:?}");
    assert!(r.errors[0].message.contains("at most 100 rows"));

    let mut csv = String::from("title,story\n");
    for _ in 0..(MAX_REPORTED_ERRORS + 5) {
        csv.push_str(",ok\n");
    }
    let o = ImportOptions {
        max_rows: 10_000,
        ..opts("u1", false)
    };
    let (r, _) = run(csv.as_bytes(), o).await;
    assert_eq!(r.failed, MAX_REPORTED_ERRORS as u64 + 5);
    assert_eq!(r.errors.len(), MAX_REPORTED_ERRORS);
}

#[tokio::test]
async fn many_rows_go_in_batches_in_one_transaction() {
    let mut csv = String::from("title,story,tags\n");
    for i in 0..1_203 {
        csv.push_str(&format!("Title {i},Story {i},t{}\n", i % 7));
    }
    let o = ImportOptions {
        max_rows: 10_000,
        ..opts("u1", false)
    };
    let (r, n) = run(csv.as_bytes(), o).await;
    assert_eq!((r.created, n), (1_203, 1_203));
}

#[tokio::test]
async fn a_bad_row_after_more_than_a_batch_of_good_rows_creates_nothing() {
    // More than two batches were already inserted in the open transaction when the bad
    // row comes; it is rolled back, and later bad rows are still counted.
    let mut csv = String::from("title,story\n");
    let good = 2 * INSERT_CHUNK + 7;
    for i in 0..good {
        csv.push_str(&format!("Title {i},Story {i}\n"));
    }
    csv.push_str(",no title\nFine,ok\n,again\n");
    let o = ImportOptions {
        max_rows: 10_000,
        ..opts("u1", false)
    };
    let (r, n) = run(csv.as_bytes(), o).await;
    let first_bad = good as u64 + 2;
    assert_eq!(
        (r.created, r.failed, n, lines(&r)),
        (0, 2, 0, vec![first_bad, first_bad + 2]),
        "{r:?}"
    );
}

#[tokio::test]
async fn an_unterminated_quote_after_a_batch_of_good_rows_creates_nothing() {
    // The last record's quote is only found open at the end of the file, after every
    // batch of good rows was inserted: the transaction is still rolled back.
    let mut csv = String::from("title,story\n");
    for i in 0..INSERT_CHUNK + 1 {
        csv.push_str(&format!("Title {i},Story {i}\n"));
    }
    // Lines 2 to INSERT_CHUNK + 2 are good; the open quote starts on the next.
    csv.push_str("Last,\"never closed\n");
    let o = ImportOptions {
        max_rows: 10_000,
        ..opts("u1", false)
    };
    let (r, n) = run(csv.as_bytes(), o).await;
    assert_eq!(
        (r.created, n, lines(&r)),
        (0, 0, vec![INSERT_CHUNK as u64 + 3]),
        "{r:?}"
    );
}

/// A reader that fails after handing out `ok` bytes.
struct FailingReader {
    data: std::io::Cursor<Vec<u8>>,
    ok: u64,
}

impl std::io::Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.data.position() >= self.ok {
            return Err(std::io::Error::other("disk on fire"));
        }
        let room = (self.ok - self.data.position()) as usize;
        let n = buf.len().min(room);
        self.data.read(&mut buf[..n])
    }
}

#[tokio::test]
async fn an_io_error_after_a_batch_of_good_rows_creates_nothing() {
    let mut csv = String::from("title,story\n");
    for i in 0..3 * INSERT_CHUNK {
        csv.push_str(&format!("Title {i},Story {i}\n"));
    }
    let ok = csv.len() as u64 * 2 / 3;
    let (store, _dir) = temp_store().await;
    let reader = FailingReader {
        data: std::io::Cursor::new(csv.into_bytes()),
        ok,
    };
    let o = ImportOptions {
        max_rows: 10_000,
        ..opts("u1", false)
    };
    assert!(import_csv(&store, reader, o).await.is_err());
    let page = PageRequest {
        limit: 1,
        after: None,
    };
    let total = store.list_contents(None, &page).await.expect("list");
    assert_eq!(total.total_count, 0);
}

/// The quote tracker skips stretches with `memchr`; it must end in the state a
/// byte-by-byte walk ends in, however the input is cut into reads.
#[test]
fn the_quote_tracker_agrees_with_a_byte_by_byte_walk() {
    let alphabet = [b'a', b'"', b',', b'\n', b'\r', b' '];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..2_000 {
        let len = (next() % 40) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let mut expected = QuoteState::FieldStart;
        for &b in &bytes {
            expected = QuoteTracker::<()>::step(expected, b);
        }
        let cut = if len == 0 { 0 } else { (next() as usize) % len };
        let mut tracker = QuoteTracker {
            inner: (),
            state: QuoteState::FieldStart,
        };
        tracker.follow(&bytes[..cut]);
        tracker.follow(&bytes[cut..]);
        assert!(
            tracker.state == expected,
            "{:?} cut at {cut}",
            String::from_utf8_lossy(&bytes)
        );
    }
}
