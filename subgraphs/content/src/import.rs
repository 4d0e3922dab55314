//! CSV import, one engine behind two doors (the `importContentsCsv` mutation and the
//! `folio import-csv` command).
//!
//! The file is parsed record by record from any [`Read`]: each row goes through the
//! `domain` newtypes, only validated rows are kept, and at most [`MAX_REPORTED_ERRORS`]
//! bad rows are described (all are counted). Either every row is valid and all are
//! inserted in one transaction, or nothing is inserted.

use crate::domain::{Description, Story, Tags, Title};
use crate::store::{NewContent, Store};
use folio_common::db::is_storable_text;
use folio_common::{Error, Result};
use std::io::Read;

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

/// A validated file: the rows to create, or the report saying why none are.
struct Parsed {
    rows: Vec<NewContent>,
    report: ImportReport,
}

impl Parsed {
    fn file_error(message: impl Into<String>) -> Self {
        Parsed {
            rows: Vec::new(),
            report: ImportReport {
                created: 0,
                failed: 0,
                errors: vec![RowError {
                    line: 1,
                    message: message.into(),
                }],
            },
        }
    }

    fn bad_row(&mut self, line: u64, message: String) {
        self.report.failed += 1;
        if self.report.errors.len() < MAX_REPORTED_ERRORS {
            self.report.errors.push(RowError { line, message });
        }
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

impl<R: Read> Read for QuoteTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            let sep = matches!(b, b',' | b'\n' | b'\r');
            self.state = match (self.state, b) {
                (QuoteState::FieldStart, b'"') => QuoteState::Quoted,
                (QuoteState::Quoted, b'"') => QuoteState::QuoteInQuoted,
                (QuoteState::Quoted, _) => QuoteState::Quoted,
                (QuoteState::QuoteInQuoted, b'"') => QuoteState::Quoted,
                (_, _) if sep => QuoteState::FieldStart,
                (_, _) => QuoteState::Unquoted,
            };
        }
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
    opts: &ImportOptions,
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
            if s.is_empty() || s == opts.viewer_id {
                Ok(opts.viewer_id.clone())
            } else if !opts.is_admin {
                Err("author_id: only an admin may import content for another author".to_owned())
            } else if !is_storable_text(s) || s.chars().count() > 64 {
                Err("author_id: is not a user id".to_owned())
            } else {
                Ok(s.to_owned())
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

/// Reads and validates the whole file (blocking reads); `Err` only for an I/O failure.
fn parse<R: Read>(reader: R, opts: &ImportOptions) -> std::io::Result<Parsed> {
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
    let mut parsed = Parsed {
        rows: Vec::new(),
        report: ImportReport::default(),
    };
    let mut data_rows: u64 = 0;
    // The last record and whether it was kept, in case the file ends inside its quotes.
    let mut last: Option<(u64, bool)> = None;
    loop {
        let line_before = rdr.position().line();
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line_before, csv::Position::line);
                if !header_seen {
                    header_seen = true;
                    match parse_header(&record) {
                        Ok(c) => cols = c,
                        Err(e) => return Ok(Parsed::file_error(e)),
                    }
                    continue;
                }
                data_rows += 1;
                if data_rows > opts.max_rows {
                    return Ok(Parsed::file_error(format!(
                        "too many rows: an import holds at most {} rows (line {line} is beyond)",
                        opts.max_rows
                    )));
                }
                match parse_row(&record, &cols, opts) {
                    Ok(row) => {
                        if parsed.report.failed == 0 {
                            parsed.rows.push(row);
                        }
                        last = Some((line, true));
                    }
                    Err(e) => {
                        // Nothing will be created: drop the rows kept so far.
                        parsed.rows = Vec::new();
                        parsed.bad_row(line, e);
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
                    return Ok(Parsed::file_error(format!("header: {message}")));
                }
                data_rows += 1;
                parsed.rows = Vec::new();
                parsed.bad_row(line, message);
                last = Some((line, false));
            }
        }
    }
    if !header_seen {
        return Ok(Parsed::file_error(
            "the file is empty: a header row naming the columns is expected",
        ));
    }
    if rdr.get_ref().state == QuoteState::Quoted {
        let message = "unterminated quoted field (a '\"' is never closed)".to_owned();
        match last {
            Some((line, true)) => {
                parsed.rows = Vec::new();
                parsed.bad_row(line, message);
            }
            Some((line, false)) => {
                if let Some(err) = parsed.report.errors.last_mut().filter(|e| e.line == line) {
                    err.message = message;
                }
            }
            None => return Ok(Parsed::file_error(format!("header: {message}"))),
        }
    }
    Ok(parsed)
}

/// Imports a CSV file: validates every row (the reading runs on a blocking thread), then
/// creates all of them in one transaction, or none when any row is bad.
pub async fn import_csv<R>(store: &Store, reader: R, opts: ImportOptions) -> Result<ImportReport>
where
    R: Read + Send + 'static,
{
    let parsed = tokio::task::spawn_blocking(move || parse(reader, &opts))
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)?;
    let Parsed { rows, mut report } = parsed;
    if report.failed > 0 || !report.errors.is_empty() {
        report.created = 0;
        return Ok(report);
    }
    report.created = store.insert_contents(rows).await?;
    Ok(report)
}

#[cfg(test)]
mod tests;
