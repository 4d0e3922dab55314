//! CSV import, one engine behind two doors (the `importContentsCsv` mutation and the
//! `folio import-csv` command).
//!
//! The file is parsed record by record from any [`Read`] on a blocking thread: each row
//! goes through the `domain` newtypes, and at most [`MAX_REPORTED_ERRORS`] bad rows are
//! described (all are counted). Validated rows are gathered in batches of
//! [`INSERT_CHUNK`], prepared for the database on that same thread (ids, columns, the
//! events' JSON: [`PreparedContents`]) and sent over a bounded channel to the async side,
//! which inserts each batch as it arrives inside one transaction
//! ([`Store::begin_import`]), so memory holds a few batches, not the file's rows. The first bad row stops the sending and the transaction is rolled back; it is
//! committed only when the whole file was valid, so either every row is created or none
//! (an I/O or database error rolls back too).
//!
//! The two doors: the mutation's file arrives as a GraphQL multipart upload, which the
//! router holds in memory (within `FOLIO_MAX_UPLOAD_BYTES`) and forwards to this subgraph
//! as a multipart request of its own, where async-graphql reads it into an `Upload`; the
//! resolver requires a signed-in viewer. `folio import-csv FILE --as USER_ID` gives the
//! engine a `BufReader` over the file, so it is streamed from disk; the operator counts as
//! an admin. A row naming an `author_id` other than the importer's needs an admin.
//!
//! The header names the columns in any order (a BOM is skipped); a wrong header, an empty
//! file or more than `FOLIO_IMPORT_MAX_ROWS` data rows is a problem of the whole file,
//! reported on line 1. A row is reported on the line its record *starts* on, so quoted
//! fields spanning lines keep later numbers right; a small reader wrapper follows the
//! quoting byte by byte, so a file that ends inside an open quote (which `csv` accepts
//! silently) is reported on that record's line, and that late problem still rolls back.
//!
//! Memory: the channel is `CHANNEL_BATCHES` (2) deep and the parser blocks on it, so a slow
//! database slows the parser instead of letting rows pile up; at most about four batches
//! are held at once, plus the `csv` reader's buffer and the reported errors. At the first
//! bad row the parser stops sending and the async side rolls back at once (releasing
//! SQLite's write lock); the parser reads on only to report and count.
//!
//! On SQLite that transaction starts with `BEGIN IMMEDIATE`: an import holds the content
//! database's write lock from its first batch until it commits or rolls back, and other
//! writers (`createContent`, view counts, a second import) wait up to the busy timeout
//! (10 s) and then fail; reads go on (WAL). Large imports belong in quiet hours or on
//! PostgreSQL, where the transaction locks only its own new rows.

use crate::domain::{Description, Story, Tags, Title};
use crate::store::{ContentImport, INSERT_CHUNK, NewContent, PreparedContents, Store};
use folio_common::events::outbox::Outbox;
use folio_common::{Error, Id, Result};
use std::io::Read;
use tokio::sync::mpsc;

/// Bad rows described in a report; more are only counted in `failed`.
pub const MAX_REPORTED_ERRORS: usize = 1_000;

/// One bad row (or a problem with the whole file, on line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line its record starts on (the header is line 1).
    pub line: u64,
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Rows created: all of them, or 0 when any row is bad.
    pub created: u64,
    /// Bad rows.
    pub failed: u64,
    /// The first [`MAX_REPORTED_ERRORS`] problems, in file order.
    pub errors: Vec<RowError>,
}

/// Who imports, and how much they may.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The importer: the author of rows without an `author_id`.
    pub viewer_id: String,
    /// Whether rows may name another author.
    pub is_admin: bool,
    /// Most data rows one file may hold.
    pub max_rows: u64,
}

/// [`ImportOptions`] with the importer's id parsed, as the parser uses them.
struct Importer {
    id: Id,
    is_admin: bool,
    max_rows: u64,
}

/// The columns a header may name.
const COLUMNS: [&str; 5] = ["title", "story", "description", "author_id", "tags"];

#[derive(Default)]
struct Columns {
    title: usize,
    story: usize,
    description: Option<usize>,
    author_id: Option<usize>,
    tags: Option<usize>,
}

/// Batches of validated rows in flight between the parser and the inserter; with one
/// batch being filled and one being inserted, at most `CHANNEL_BATCHES + 2` are held.
const CHANNEL_BATCHES: usize = 2;

/// What the parser sends to the async side.
enum Batch {
    /// Up to [`INSERT_CHUNK`] validated rows, in file order, prepared for the database.
    Rows(PreparedContents),
    /// A bad row was found: nothing will be created, roll back now. Sent at most once,
    /// and nothing follows it.
    Abandon,
}

/// The parser's end of the channel: collects validated rows into batches, prepares each
/// when full ([`PreparedContents::new`]: ids, columns, the events' JSON) and sends it,
/// until the first bad row. Preparing here, on the parser's thread, leaves the async
/// side nothing to do but the database's round trips.
struct Sender {
    tx: mpsc::Sender<Batch>,
    outbox: Outbox,
    importer: Id,
    batch: Vec<NewContent>,
    /// Whether rows are still wanted (no bad row yet).
    sending: bool,
}

/// The async side stopped listening (it failed, or the import was dropped).
fn receiver_gone() -> std::io::Error {
    std::io::Error::other("the import stopped receiving rows")
}

impl Sender {
    fn new(tx: mpsc::Sender<Batch>, outbox: Outbox, importer: Id) -> Self {
        Sender {
            tx,
            outbox,
            importer,
            batch: Vec::with_capacity(INSERT_CHUNK),
            sending: true,
        }
    }

    /// Whether the async side is gone, so parsing on is pointless.
    fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    fn push(&mut self, row: NewContent) -> std::io::Result<()> {
        if !self.sending {
            return Ok(());
        }
        self.batch.push(row);
        if self.batch.len() >= INSERT_CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.sending || self.batch.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.batch, Vec::with_capacity(INSERT_CHUNK));
        let prepared = PreparedContents::new(full, &self.outbox, &self.importer)
            .map_err(|e| std::io::Error::other(e.log_message()))?;
        self.tx
            .blocking_send(Batch::Rows(prepared))
            .map_err(|_| receiver_gone())
    }

    /// A bad row: drop the pending batch, send nothing more, tell the async side.
    fn abandon(&mut self) {
        if self.sending {
            self.sending = false;
            self.batch = Vec::new();
            // If the async side is gone, there is nothing to roll back on its behalf.
            let _ = self.tx.blocking_send(Batch::Abandon);
        }
    }
}

fn file_error(message: impl Into<String>) -> ImportReport {
    ImportReport {
        created: 0,
        failed: 0,
        errors: vec![RowError {
            line: 1,
            message: message.into(),
        }],
    }
}

impl ImportReport {
    fn bad_row(&mut self, line: u64, message: String) {
        self.failed += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(RowError { line, message });
        }
    }

    fn is_clean(&self) -> bool {
        self.failed == 0 && self.errors.is_empty()
    }
}

/// Follows RFC 4180 quoting over the raw bytes, the way `csv` reads them, so that a file
/// ending inside a quoted field (which `csv` accepts silently) can be reported.
struct QuoteTracker<R> {
    inner: R,
    state: QuoteState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl<R> QuoteTracker<R> {
    /// Moves the state over `bytes`. Inside a quoted field only a `"` matters and in an
    /// unquoted one only a separator, so those stretches are skipped with `memchr`.
    fn follow(&mut self, mut bytes: &[u8]) {
        while let Some(&b) = bytes.first() {
            let skip = match self.state {
                QuoteState::Quoted => memchr::memchr(b'"', bytes),
                QuoteState::Unquoted => memchr::memchr3(b',', b'\n', b'\r', bytes),
                QuoteState::FieldStart | QuoteState::QuoteInQuoted => Some(0),
            };
            let Some(i) = skip else { return };
            self.state = Self::step(self.state, if i == 0 { b } else { bytes[i] });
            bytes = &bytes[i + 1..];
        }
    }

    fn step(state: QuoteState, b: u8) -> QuoteState {
        let sep = matches!(b, b',' | b'\n' | b'\r');
        match (state, b) {
            (QuoteState::FieldStart, b'"') => QuoteState::Quoted,
            (QuoteState::Quoted, b'"') => QuoteState::QuoteInQuoted,
            (QuoteState::Quoted, _) => QuoteState::Quoted,
            (QuoteState::QuoteInQuoted, b'"') => QuoteState::Quoted,
            (_, _) if sep => QuoteState::FieldStart,
            (_, _) => QuoteState::Unquoted,
        }
    }
}

impl<R: Read> Read for QuoteTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.follow(&buf[..n]);
        Ok(n)
    }
}

fn utf8<'a>(field: &'a [u8], column: &str) -> std::result::Result<&'a str, String> {
    std::str::from_utf8(field).map_err(|_| format!("{column}: is not valid UTF-8"))
}

fn parse_header(fields: &csv::ByteRecord) -> std::result::Result<Columns, String> {
    let mut seen: [Option<usize>; 5] = [None; 5];
    for (i, raw) in fields.iter().enumerate() {
        let raw = if i == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let name = std::str::from_utf8(raw)
            .map_err(|_| "header: a column name is not valid UTF-8".to_owned())?
            .trim()
            .to_ascii_lowercase();
        let Some(k) = COLUMNS.iter().position(|c| *c == name) else {
            return Err(format!(
                "header: unknown column {name:?} (expected title, story, and optionally description, author_id, tags)"
            ));
        };
        if seen[k].is_some() {
            return Err(format!("header: column {name:?} appears twice"));
        }
        seen[k] = Some(i);
    }
    let missing: Vec<&str> = [0, 1]
        .into_iter()
        .filter(|&k| seen[k].is_none())
        .map(|k| COLUMNS[k])
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "header: missing required column(s) {}",
            missing.join(", ")
        ));
    }
    Ok(Columns {
        title: seen[0].unwrap_or_default(),
        story: seen[1].unwrap_or_default(),
        description: seen[2],
        author_id: seen[3],
        tags: seen[4],
    })
}

fn check<T>(problems: &mut Vec<String>, r: std::result::Result<T, String>) -> Option<T> {
    r.map_err(|e| problems.push(e)).ok()
}

fn parse_row(
    record: &csv::ByteRecord,
    cols: &Columns,
    importer: &Importer,
) -> std::result::Result<NewContent, String> {
    let cell = |i: usize, name: &str| utf8(record.get(i).unwrap_or_default(), name);
    let opt_cell = |i: Option<usize>, name: &str| match i {
        Some(i) => cell(i, name),
        None => Ok(""),
    };
    let mut problems: Vec<String> = Vec::new();
    let title = check(
        &mut problems,
        cell(cols.title, "title")
            .and_then(|s| Title::parse(s).map_err(|e| format!("title: {}", e.0))),
    );
    let story = check(
        &mut problems,
        cell(cols.story, "story")
            .and_then(|s| Story::parse(s).map_err(|e| format!("story: {}", e.0))),
    );
    let description = check(
        &mut problems,
        opt_cell(cols.description, "description")
            .and_then(|s| Description::parse(s).map_err(|e| format!("description: {}", e.0))),
    );
    let tags = check(
        &mut problems,
        opt_cell(cols.tags, "tags")
            .and_then(|s| Tags::parse_cell(s).map_err(|e| format!("tags: {}", e.0))),
    );
    let author_id = check(
        &mut problems,
        opt_cell(cols.author_id, "author_id").and_then(|s| {
            let s = s.trim();
            if s.is_empty() || importer.id == s {
                Ok(importer.id.clone())
            } else if !importer.is_admin {
                Err("author_id: only an admin may import content for another author".to_owned())
            } else if s.chars().count() > 64 {
                Err("author_id: is not a user id".to_owned())
            } else {
                Id::parse(s).map_err(|_| "author_id: is not a user id".to_owned())
            }
        }),
    );
    match (title, story, description, tags, author_id) {
        (Some(title), Some(story), Some(description), Some(tags), Some(author_id)) => {
            Ok(NewContent {
                author_id,
                title,
                description,
                story,
                tags,
            })
        }
        _ => Err(problems.join("; ")),
    }
}

/// Reads and validates the whole file (blocking reads and sends), sending validated rows
/// in batches until the first bad row; the report is final only when this returns.
/// `Err` for an I/O failure, or when the async side stopped listening.
fn parse<R: Read>(
    reader: R,
    importer: &Importer,
    mut out: Sender,
) -> std::io::Result<ImportReport> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(QuoteTracker {
            inner: reader,
            state: QuoteState::FieldStart,
        });
    let mut record = csv::ByteRecord::new();
    let mut header_seen = false;
    let mut cols = Columns::default();
    let mut report = ImportReport::default();
    let mut data_rows: u64 = 0;
    // The last record and whether it was valid, in case the file ends inside its quotes.
    let mut last: Option<(u64, bool)> = None;
    loop {
        if out.is_closed() {
            return Err(receiver_gone());
        }
        let line_before = rdr.position().line();
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line_before, csv::Position::line);
                if !header_seen {
                    header_seen = true;
                    match parse_header(&record) {
                        Ok(c) => cols = c,
                        Err(e) => return Ok(file_error(e)),
                    }
                    continue;
                }
                data_rows += 1;
                if data_rows > importer.max_rows {
                    out.abandon();
                    return Ok(file_error(format!(
                        "too many rows: an import holds at most {} rows (line {line} is beyond)",
                        importer.max_rows
                    )));
                }
                match parse_row(&record, &cols, importer) {
                    Ok(row) => {
                        out.push(row)?;
                        last = Some((line, true));
                    }
                    Err(e) => {
                        // Nothing will be created: stop sending, roll back.
                        out.abandon();
                        report.bad_row(line, e);
                        last = Some((line, false));
                    }
                }
            }
            Err(e) => {
                let line = e.position().map_or(line_before, csv::Position::line);
                let message = match e.kind() {
                    csv::ErrorKind::Io(_) => {
                        return Err(match e.into_kind() {
                            csv::ErrorKind::Io(io) => io,
                            _ => std::io::Error::other("reading the CSV file"),
                        });
                    }
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("this row has {len} fields, the header has {expected_len}"),
                    _ => format!("malformed CSV: {e}"),
                };
                if !header_seen {
                    return Ok(file_error(format!("header: {message}")));
                }
                data_rows += 1;
                out.abandon();
                report.bad_row(line, message);
                last = Some((line, false));
            }
        }
    }
    if !header_seen {
        return Ok(file_error(
            "the file is empty: a header row naming the columns is expected",
        ));
    }
    if rdr.get_ref().state == QuoteState::Quoted {
        let message = "unterminated quoted field (a '\"' is never closed)".to_owned();
        match last {
            Some((line, true)) => {
                out.abandon();
                report.bad_row(line, message);
            }
            Some((line, false)) => {
                if let Some(err) = report.errors.last_mut().filter(|e| e.line == line) {
                    err.message = message;
                }
            }
            None => return Ok(file_error(format!("header: {message}"))),
        }
    }
    // The last, partial batch (nothing once a row was bad).
    out.flush()?;
    Ok(report)
}

/// The async side: inserts each batch as it arrives, in one transaction begun with the
/// first batch, until the parser is done (it drops its sender). Returns the open
/// transaction (`None` if no row arrived, or the parser abandoned the import and it was
/// rolled back at once) and whether the parser abandoned it.
async fn receive(
    store: &Store,
    importer: &Id,
    rx: &mut mpsc::Receiver<Batch>,
) -> Result<(Option<ContentImport>, bool)> {
    let mut import: Option<ContentImport> = None;
    let mut abandoned = false;
    while let Some(batch) = rx.recv().await {
        match batch {
            Batch::Rows(rows) if !abandoned => {
                let txn = match &mut import {
                    Some(txn) => txn,
                    None => import.insert(store.begin_import(importer).await?),
                };
                txn.insert_prepared(rows).await?;
            }
            // Never sent after `Abandon`.
            Batch::Rows(_) => {}
            Batch::Abandon => {
                abandoned = true;
                // Release the transaction (and SQLite's write lock) now, while the
                // parser goes on counting bad rows.
                if let Some(txn) = import.take() {
                    txn.rollback().await?;
                }
            }
        }
    }
    Ok((import, abandoned))
}

/// Imports a CSV file: validates every row (the reading runs on a blocking thread) while
/// inserting the valid ones in one transaction, committed only when every row was valid.
/// When any row is bad nothing is created and the report says why. An importer id that
/// no user can have (`viewer_id`, from the command line) is `BAD_USER_INPUT`, before
/// anything is read.
pub async fn import_csv<R>(store: &Store, reader: R, opts: ImportOptions) -> Result<ImportReport>
where
    R: Read + Send + 'static,
{
    let importer = Importer {
        id: Id::parse(&opts.viewer_id)
            .map_err(|_| Error::validation("viewer_id", "is not a user id"))?,
        is_admin: opts.is_admin,
        max_rows: opts.max_rows,
    };
    let (tx, mut rx) = mpsc::channel(CHANNEL_BATCHES);
    let importer_id = importer.id.clone();
    let out = Sender::new(tx, store.outbox().clone(), importer.id.clone());
    let parser = tokio::task::spawn_blocking(move || parse(reader, &importer, out));
    let received = receive(store, &importer_id, &mut rx).await;
    // Whatever happened, nothing more is received: a parser still sending stops.
    drop(rx);
    let parsed = parser.await.map_err(Error::internal)?;
    // A database error (then the parser's error only says we stopped listening), or an
    // I/O error: the transaction, if any, is dropped, and so rolled back.
    let (import, abandoned) = received?;
    let mut report = parsed.map_err(Error::internal)?;
    if !report.is_clean() || abandoned {
        if let Some(txn) = import {
            txn.rollback().await?;
        }
        if report.is_clean() {
            // The parser abandons only for a bad row it reports.
            return Err(Error::internal(
                "the CSV import was abandoned without a reason",
            ));
        }
        report.created = 0;
        return Ok(report);
    }
    report.created = match import {
        Some(txn) => txn.commit().await?,
        None => 0,
    };
    Ok(report)
}

#[cfg(test)]
mod tests;
