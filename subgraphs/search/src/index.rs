//! The search index: one tantivy document per content, on local disk.
//!
//! | field | holds | used for |
//! |---|---|---|
//! | `id` | the raw id, stored | the hit's content; deleting and replacing a document |
//! | `author_id` | the raw id | `author:` (through the names the store knows); a deleted user's contents |
//! | `body` | the English stems of the title, description, story and tags, positions | words (BM25), phrases |
//! | `pairs` | each two neighbouring frequent stems of those texts, as `stem stem` (`pairs.rs`) | two-word phrases of frequent words (BM25) |
//! | `title`, `title_pairs` | the same, of the title alone | the title tier, the title's BM25 |
//! | `early` | `1` when indexed before the frequent stems were chosen (no pairs) | those phrases in those contents |
//! | `title_raw` | the title's words, lower-cased, no stems, no positions | the trailing prefix in titles |
//! | `tags` | each whole tag | `tag:` |
//! | `published` | publication time (ms), a fast field | ties: newer first |
//!
//! Ranking (`rank.rs`): every clause must match. A word or phrase found in the title adds
//! [`TITLE_TIER`], so a title match ranks above a story-only match whatever BM25 says;
//! within a tier BM25 decides (title ×2, body ×1); ties go to the newer content. A word
//! is one postings list of `body` (and one of `title`), and so is a phrase of two
//! frequent words (`pairs`); other phrases read positions. The indexer stems each text
//! once (remembering stems, `stem.rs`) and hands tantivy each field's stems, one per
//! line.
//!
//! The index lives in a directory named after [`SCHEMA_VERSION`]: an index of another
//! version is left alone, and the replica starts from nothing, rebuilding or replaying.
//!
//! Writes go through one `IndexWriter`, owned by an indexer thread. A batch of events is
//! handed to a stemming thread before it (which makes each content's document, so that
//! stemming goes on while the indexer waits for a commit) and acknowledged at once
//! (unless [`MAX_QUEUED_CHANGES`] wait); the indexer
//! commits what is pending [`COMMIT_EVERY`] after the first uncommitted change (at most
//! [`LATE_COMMIT`] later while batches keep coming) and reloads the reader, so a write is
//! searchable within that delay, and one commit (about 20 ms of fsyncs here) serves many
//! batches instead of holding up each: the relays that deliver to search and to other
//! subgraphs never wait for it. Dropping the last handle on the index commits what is
//! pending. A crash loses the changes since the last commit from this replica's index
//! (they were acknowledged); a replayed event replaces its document again, so applying
//! twice changes nothing.

use crate::dense::{Dense, MIN_SEGMENT};
use crate::newest::Newest;
use crate::pairs::{Common, SharedCommon};
use crate::query::Clause;
pub use crate::rank::TITLE_TIER;
use crate::rank::{AnswerCache, Early, Part, Prefix};
use crate::stem::{LINE, StemLines};
use crate::suggest::{SuggestWriter, SuggestedContent, Suggestion, Suggestions};
use folio_common::{Error, Result};
use std::path::Path;
use std::time::Duration;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, TermQuery, TermSetQuery};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, OwnedValue, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
    TextAnalyzerBuilder, Tokenizer,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// The layout of the index's fields: an index of another version (in its own directory)
/// is not opened.
pub const SCHEMA_VERSION: &str = "v3";

/// The stemmed fields' tokenizer: their values are stems (or pairs) one per line.
const STEM_LINES: &str = "folio_stem_lines";
const RAW: &str = "folio_raw";
/// Indexing memory of the writer (tantivy's arena; a commit flushes it).
const WRITER_BYTES: usize = 64 << 20;

/// Longest a change waits for the commit that makes it searchable (while the indexer
/// keeps up; under a bulk load, at most [`LATE_COMMIT`] more).
pub const COMMIT_EVERY: Duration = Duration::from_millis(50);

/// Changes since the last commit from which the indexer takes the flow for a flood and
/// commits [`LATE_COMMIT`] late rather than [`COMMIT_EVERY`] (from about 1,300 changes/s).
const FLOOD_CHANGES: usize = 64;

/// How late a commit may fall behind [`COMMIT_EVERY`] while batches keep coming.
pub const LATE_COMMIT: Duration = Duration::from_secs(1);

/// A content as the index holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedContent {
    pub id: String,
    pub author_id: String,
    pub title: String,
    pub description: Option<String>,
    pub story: String,
    pub tags: Vec<String>,
    /// Publication time, in milliseconds since 1970.
    pub published_ms: i64,
    /// The author's first and last name, when the search database knows them (for
    /// the author's suggestion).
    pub author_name: Option<String>,
}

/// A change to the index, from one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Adds or replaces a content.
    Put(IndexedContent),
    /// Removes a content.
    DeleteContent(String),
    /// Removes every content of an author.
    DeleteAuthor(String),
    /// An author's first and last name changed (suggestions show them).
    RenameAuthor { id: String, name: String },
    /// A content was read (`delta` 1) or a read of it went (-1): suggestions rank by
    /// reads.
    Read { content_id: String, delta: i64 },
    /// A content as a rebuild read it from the content subgraph, with its reads: put
    /// unless an event changed or deleted it (or its author) since the rebuild began,
    /// since the event is newer.
    Restore { content: IndexedContent, reads: u64 },
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    author_id: Field,
    title: Field,
    title_pairs: Field,
    title_raw: Field,
    body: Field,
    pairs: Field,
    early: Field,
    tags: Field,
    published: Field,
}

impl Fields {
    /// The fields whose frequent terms big segments keep as bit sets (`dense.rs`).
    fn dense(&self) -> [Field; 5] {
        [
            self.title,
            self.title_raw,
            self.title_pairs,
            self.body,
            self.pairs,
        ]
    }
}

/// One page of hits: content ids, best first, and how many match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Hits {
    pub ids: Vec<String>,
    pub total: u64,
}

/// The index of a search service (cheap to clone).
#[derive(Clone)]
pub struct SearchIndex {
    fields: Fields,
    reader: IndexReader,
    stemmed: TextAnalyzer,
    /// The suggestions' index (`suggest`), written by the same indexer thread.
    suggestions: Suggestions,
    /// The indexer thread; when the last clone is dropped, it commits and stops.
    indexer: std::sync::Arc<Indexer>,
    /// Pages of recent searches, valid until the next commit.
    answers: std::sync::Arc<AnswerCache<SearchKey, Hits>>,
    /// The frequent stems whose pairs are indexed, once chosen (see `pairs.rs`).
    common: SharedCommon,
    /// The big segments' frequent terms as bit sets (see `dense.rs`).
    dense: Dense,
}

/// What a search answers: its clauses, the author ids of its `author:` clauses, the
/// offset and the limit.
type SearchKey = (Vec<Clause>, Vec<Vec<String>>, usize, usize);

/// How many answers of recent searches (and, apart, of suggestions) a replica keeps
/// unless configured (`FOLIO_SEARCH_CACHE_ENTRIES`).
pub const ANSWER_CACHE: usize = 1024;

/// The indexer thread and the way to it. Dropping it closes the way and waits for the
/// thread's last commit, so the index can be opened again at once.
struct Indexer {
    jobs: Option<std::sync::mpsc::SyncSender<Job>>,
    /// The stemming thread, then the indexer thread (which ends after it).
    threads: Vec<std::thread::JoinHandle<()>>,
    /// Changes handed over and not applied yet.
    queued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.jobs = None;
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!("a search indexing thread panicked");
            }
        }
    }
}

/// What the indexer thread is asked to do.
enum Job {
    /// Applies the changes, in order, then says so when asked (the handing side is
    /// over [`MAX_QUEUED_CHANGES`] and waits).
    Apply(Vec<Change>, Option<tokio::sync::oneshot::Sender<()>>),
    /// A rebuild begins (`true`: from now on remember what events touch) or ends.
    Rebuilding(bool),
    /// Empties both indexes (what a rebuild starts from).
    Clear,
    /// Commit now, and say when done.
    Commit(tokio::sync::oneshot::Sender<Result<()>>),
}

/// What the stemming thread hands the indexer thread: the jobs, in order, with each
/// content's document made.
enum Ready {
    /// Changes to apply, in order; how many were handed over (skipped ones included);
    /// whom to tell once applied.
    Apply(
        Vec<Prepared>,
        usize,
        Option<tokio::sync::oneshot::Sender<()>>,
    ),
    Clear,
    Commit(tokio::sync::oneshot::Sender<Result<()>>),
}

/// A change, with a content's document made (see [`Change`]).
enum Prepared {
    /// Adds or replaces a content (with reads: a rebuild's copy, `Change::Restore`).
    Put(Box<Made>, Option<u64>),
    DeleteContent(String),
    DeleteAuthor(String),
    RenameAuthor {
        id: String,
        name: String,
    },
    Read {
        content_id: String,
        delta: i64,
    },
}

/// A content's suggestion and its document.
struct Made {
    suggested: SuggestedContent,
    doc: Doc,
}

/// Batches waiting for the stemming thread, at most (then `apply` waits: back-pressure).
const QUEUED_BATCHES: usize = 16;

/// Batches made and waiting for the indexer thread, at most (then the stemming thread
/// waits). A few, so that the stemming goes on while the indexer commits.
const READY_BATCHES: usize = 4;

/// The stemming thread: makes each content's document (stems, pairs) and hands the
/// jobs, in order, to the indexer thread; skips a rebuild's copies that events made
/// stale. Ends when the way to it closes (and then so does the indexer thread).
fn stemmer(
    jobs: std::sync::mpsc::Receiver<Job>,
    ready: std::sync::mpsc::SyncSender<Ready>,
    fields: Fields,
    shared: SharedCommon,
) {
    let mut stems = indexing_analyzer();
    let mut common: Option<std::sync::Arc<Common>> = None;
    // While a rebuild runs: the contents and authors events touched since it began.
    let mut touched: Option<Touched> = None;
    for job in jobs {
        let ready_job = match job {
            Job::Apply(changes, done) => {
                // The frequent stems, once the indexer has chosen them.
                if common.is_none() {
                    common = shared.read().ok().and_then(|c| c.clone());
                }
                let n = changes.len();
                let mut made = Vec::with_capacity(n);
                for change in changes {
                    if let Some(t) = &mut touched
                        && t.skips(&change)
                    {
                        continue;
                    }
                    let mut make = |c: IndexedContent| {
                        let suggested = SuggestedContent {
                            id: c.id.clone(),
                            author_id: c.author_id.clone(),
                            title: c.title.clone(),
                            tags: c.tags.clone(),
                            published_ms: c.published_ms,
                            author_name: c.author_name.clone(),
                        };
                        let doc = document(fields, (&mut stems, common.as_deref()), c);
                        Box::new(Made { suggested, doc })
                    };
                    made.push(match change {
                        Change::Put(c) => Prepared::Put(make(c), None),
                        Change::Restore { content, reads } => {
                            Prepared::Put(make(content), Some(reads))
                        }
                        Change::DeleteContent(id) => Prepared::DeleteContent(id),
                        Change::DeleteAuthor(id) => Prepared::DeleteAuthor(id),
                        Change::RenameAuthor { id, name } => Prepared::RenameAuthor { id, name },
                        Change::Read { content_id, delta } => Prepared::Read { content_id, delta },
                    });
                }
                Ready::Apply(made, n, done)
            }
            Job::Rebuilding(on) => {
                touched = on.then(Touched::default);
                continue;
            }
            Job::Clear => Ready::Clear,
            Job::Commit(done) => Ready::Commit(done),
        };
        if ready.send(ready_job).is_err() {
            return;
        }
    }
}

/// Changes waiting for the indexer thread past which `apply` waits for its batch.
pub const MAX_QUEUED_CHANGES: usize = 10_000;

/// The indexer thread: owns the writer, applies each batch as it comes, and commits
/// [`COMMIT_EVERY`] after the first uncommitted change (or when asked, or at the end).
#[allow(clippy::too_many_arguments)]
fn indexer(
    writer: IndexWriter<Doc>,
    reader: IndexReader,
    suggest: SuggestWriter,
    fields: Fields,
    jobs: std::sync::mpsc::Receiver<Ready>,
    queued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    common: SharedCommon,
    dir: std::path::PathBuf,
    sample: u64,
    dense: std::sync::mpsc::Sender<()>,
) {
    use std::sync::mpsc::RecvTimeoutError;
    let mut writer = Writers {
        newest: Newest::of(&reader.searcher(), fields.id, ""),
        index: writer,
        suggest,
        chosen: common.read().is_ok_and(|c| c.is_some()),
    };
    // `settled`: wait for the suggestions' commit too (asked for, or the last one);
    // otherwise it goes on in its own thread while the indexer takes the next changes,
    // and the next commit waits for it.
    let commit = |w: &mut Writers, settled: bool| -> Result<()> {
        let suggested = w.suggest.begin_commit();
        let indexed = w
            .index
            .commit()
            .map_err(Error::internal)
            .and_then(|_| reader.reload().map_err(Error::internal));
        let _ = dense.send(());
        let suggested = if settled {
            suggested.and_then(|()| w.suggest.wait())
        } else {
            suggested
        };
        indexed.and(suggested)?;
        // The frequent stems, once there are contents enough to choose them from.
        let searcher = reader.searcher();
        if !w.chosen && searcher.num_docs() >= sample {
            let picked = Common::choose(&searcher, fields.body).map_err(Error::internal)?;
            picked.save(&dir).map_err(Error::internal)?;
            w.chosen = true;
            if let Ok(mut shared) = common.write() {
                *shared = Some(std::sync::Arc::new(picked));
            }
        }
        Ok(())
    };
    // Since the first change after the last commit: when its commit falls due, and how
    // many changes it holds.
    let mut due: Option<(std::time::Instant, usize)> = None;
    loop {
        // Under a steady flow of batches the queue is never empty when a commit falls
        // due; commit anyway once it is [`LATE_COMMIT`] late, so changes still become
        // searchable and the suggestions' pending entries stay few, while a bulk load
        // pays for a commit (about 20 ms of fsyncs) once a second, not every 50 ms.
        if let Some((at, _)) = due
            && std::time::Instant::now() >= at + LATE_COMMIT
        {
            due = None;
            if let Err(e) = commit(&mut writer, false) {
                tracing::error!(error = %e.log_message(), "committing the search index");
            }
        }
        let job = match due {
            None => jobs.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some((at, uncommitted)) => {
                // A flood (more changes on their way, being stemmed, or many since the
                // last commit): wait for more rather than commit a sliver of it, up to
                // [`LATE_COMMIT`] late. Each commit writes a segment that merges later
                // rewrite: commits every 50 ms under a flood fed slower than the indexer
                // (an import's events) cost more CPU than the indexing itself.
                let more = queued.load(std::sync::atomic::Ordering::Relaxed) > 0
                    || uncommitted >= FLOOD_CHANGES;
                let until = if more { at + LATE_COMMIT } else { at };
                jobs.recv_timeout(until.saturating_duration_since(std::time::Instant::now()))
            }
        };
        match job {
            Ok(Ready::Apply(changes, n, done)) => {
                for change in changes {
                    if let Err(e) = apply_change(&mut writer, fields, change) {
                        tracing::error!(error = %e.log_message(), "indexing a change");
                    }
                }
                due.get_or_insert_with(|| (std::time::Instant::now() + COMMIT_EVERY, 0))
                    .1 += n;
                queued.fetch_sub(n, std::sync::atomic::Ordering::Relaxed);
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
            Ok(Ready::Clear) => {
                // Committed at once, so that nothing added later is caught by it.
                due = None;
                if let Err(e) = writer
                    .index
                    .delete_all_documents()
                    .map_err(Error::internal)
                    .and_then(|_| writer.suggest.clear())
                    .and_then(|()| commit(&mut writer, true))
                {
                    tracing::error!(error = %e.log_message(), "clearing the search index");
                }
            }
            Ok(Ready::Commit(done)) => {
                due = None;
                let _ = done.send(commit(&mut writer, true));
            }
            Err(RecvTimeoutError::Timeout) => {
                due = None;
                if let Err(e) = commit(&mut writer, false) {
                    tracing::error!(error = %e.log_message(), "committing the search index");
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                if due.is_some()
                    && let Err(e) = commit(&mut writer, true)
                {
                    tracing::error!(error = %e.log_message(), "committing the search index on close");
                }
                return;
            }
        }
    }
}

/// What events changed while a rebuild runs, so that its older copies do not undo them.
#[derive(Default)]
struct Touched {
    contents: std::collections::HashSet<String>,
    authors: std::collections::HashSet<String>,
}

impl Touched {
    /// Notes what an event's change touches; whether `change` (a rebuild's) must be
    /// skipped because an event came first.
    fn skips(&mut self, change: &Change) -> bool {
        match change {
            Change::Put(c) => {
                self.contents.insert(c.id.clone());
                false
            }
            Change::DeleteContent(id) => {
                self.contents.insert(id.clone());
                false
            }
            Change::DeleteAuthor(id) => {
                self.authors.insert(id.clone());
                false
            }
            Change::Restore { content, .. } => {
                self.contents.contains(&content.id) || self.authors.contains(&content.author_id)
            }
            Change::RenameAuthor { .. } | Change::Read { .. } => false,
        }
    }
}

/// What the indexer thread writes with.
struct Writers {
    index: IndexWriter<Doc>,
    suggest: SuggestWriter,
    /// Whether the frequent stems are chosen.
    chosen: bool,
    /// The newest content id given to the index.
    newest: Newest,
}

fn apply_change(w: &mut Writers, f: Fields, change: Prepared) -> Result<()> {
    match change {
        Prepared::Put(made, reads) => {
            let id = reads.map(|_| made.suggested.id.clone());
            put(w, f, *made)?;
            if let (Some(id), Some(reads)) = (id, reads) {
                w.suggest.set_reads(&id, reads)?;
            }
        }
        Prepared::DeleteContent(id) => {
            w.suggest.delete_content(&id)?;
            w.index.delete_term(Term::from_field_text(f.id, &id));
        }
        Prepared::DeleteAuthor(id) => {
            w.suggest.delete_author(&id)?;
            w.index.delete_term(Term::from_field_text(f.author_id, &id));
        }
        Prepared::RenameAuthor { id, name } => w.suggest.rename_author(&id, &name)?,
        Prepared::Read { content_id, delta } => w.suggest.read(&content_id, delta)?,
    }
    Ok(())
}

/// Adds or replaces a content, and its suggestions.
fn put(w: &mut Writers, f: Fields, Made { suggested, doc }: Made) -> Result<()> {
    if w.newest.may_hold(&suggested.id) {
        w.index
            .delete_term(Term::from_field_text(f.id, &suggested.id));
    }
    w.newest.hold(&suggested.id);
    w.suggest.put_content(suggested)?;
    w.index.add_document(doc).map_err(Error::internal)?;
    Ok(())
}

/// A document as the indexer hands it to tantivy: its fields' values as they are.
/// (tantivy's own document keeps a value in a compact serialized form, which for tokens
/// is JSON: writing and reading it back was a tenth of indexing.)
#[derive(Default)]
pub struct Doc(Vec<(Field, OwnedValue)>);

type DocValues<'a> = std::iter::Map<
    std::slice::Iter<'a, (Field, OwnedValue)>,
    fn(&'a (Field, OwnedValue)) -> (Field, &'a OwnedValue),
>;

impl tantivy::Document for Doc {
    type Value<'a> = &'a OwnedValue;
    type FieldsValuesIter<'a> = DocValues<'a>;

    fn iter_fields_and_values(&self) -> DocValues<'_> {
        self.0.iter().map(|(field, value)| (*field, value))
    }
}

impl Doc {
    fn text(&mut self, field: Field, text: impl Into<String>) {
        self.0.push((field, OwnedValue::Str(text.into())));
    }
}

/// The document of a content: each text stemmed once, its stems given to every field
/// that holds them (one per line: [`StemLines`]).
fn document(
    f: Fields,
    (stems, common): (&mut TextAnalyzer, Option<&Common>),
    c: IndexedContent,
) -> Doc {
    let mut doc = Doc::default();
    doc.text(f.id, c.id);
    doc.text(f.author_id, c.author_id);
    doc.0.push((f.published, OwnedValue::I64(c.published_ms)));
    let title = stem_lines(stems, &c.title);
    match common {
        Some(common) => {
            let pairs = common.pairs(&title);
            doc.text(f.title_pairs, pairs.clone());
            doc.text(f.pairs, pairs);
        }
        None => doc.text(f.early, "1"),
    }
    doc.text(f.title, title.clone());
    doc.text(f.body, title);
    let tags = c.tags.iter().map(String::as_str);
    for text in c
        .description
        .as_deref()
        .into_iter()
        .chain([c.story.as_str()])
        .chain(tags)
    {
        let words = stem_lines(stems, text);
        if let Some(common) = common {
            doc.text(f.pairs, common.pairs(&words));
        }
        doc.text(f.body, words);
    }
    for tag in &c.tags {
        doc.text(f.tags, tag.to_lowercase());
    }
    doc.text(f.title_raw, c.title);
    doc
}

/// The stems of `text`, one per line.
fn stem_lines(stems: &mut TextAnalyzer, text: &str) -> String {
    let mut stream = stems.token_stream(text);
    let mut out = String::with_capacity(text.len());
    while stream.advance() {
        if !out.is_empty() {
            out.push(LINE);
        }
        out.push_str(&stream.token().text);
    }
    out
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str, record: IndexRecordOption| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(record),
        )
    };
    let positions = text(STEM_LINES, IndexRecordOption::WithFreqsAndPositions);
    let freqs = text(STEM_LINES, IndexRecordOption::WithFreqs);
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        author_id: b.add_text_field("author_id", STRING),
        title: b.add_text_field("title", positions.clone()),
        title_pairs: b.add_text_field("title_pairs", freqs.clone()),
        title_raw: b.add_text_field("title_raw", text(RAW, IndexRecordOption::Basic)),
        body: b.add_text_field("body", positions),
        pairs: b.add_text_field("pairs", freqs),
        early: b.add_text_field("early", STRING),
        tags: b.add_text_field("tags", STRING),
        published: b.add_i64_field("published", FAST),
    };
    (b.build(), fields)
}

/// Words as every analyzer splits them: letters and digits, lower-cased, at most 64
/// bytes.
fn words() -> TextAnalyzerBuilder<impl Tokenizer> {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
}

/// The analyzers of queries: stems, and whole words.
fn analyzers() -> (TextAnalyzer, TextAnalyzer) {
    let stemmed = words().filter(Stemmer::new(Language::English)).build();
    (stemmed, words().build())
}

/// Whether opening failed because another writer holds the index's lock.
fn lock_busy(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<tantivy::TantivyError>(),
        Some(tantivy::TantivyError::LockFailure(
            tantivy::directory::error::LockError::LockBusy,
            _
        ))
    )
}

/// The indexer's analyzer: the same tokens as the query's stems (see `stem.rs`), each
/// word's stem computed once.
fn indexing_analyzer() -> TextAnalyzer {
    words().filter(crate::stem::RememberingStemmer).build()
}

impl SearchIndex {
    /// Opens the index in `dir` (created, with the directory, when there is none).
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        Self::open_sampling(dir, crate::pairs::SAMPLE)
    }

    /// [`SearchIndex::open`], waiting (up to 10 s) while another `SearchIndex` of this
    /// directory still holds its writer: one that is shutting down (a service restarted
    /// in the same process ends its event consumers a moment after its other tasks, and
    /// the writer goes with the last of them).
    pub async fn open_when_free(dir: &Path) -> anyhow::Result<Self> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match Self::open(dir) {
                Err(e) if lock_busy(&e) && std::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                opened => return opened,
            }
        }
    }

    /// [`SearchIndex::open`], choosing the frequent stems once `sample` contents are in.
    fn open_sampling(dir: &Path, sample: u64) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema();
        let directory = MmapDirectory::open(dir)?;
        let index = Index::open_or_create(directory, schema)?;
        let (stemmed, raw) = analyzers();
        // The stemmed fields get their stems from the indexer (`document`).
        index
            .tokenizers()
            .register(STEM_LINES, TextAnalyzer::from(StemLines::default()));
        index.tokenizers().register(RAW, raw);
        let writer = index.writer_with_num_threads(1, WRITER_BYTES)?;
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let (suggestions, suggest_writer) = crate::suggest::open(&dir.join("suggest"))?;
        let (indexer_tx, jobs) = std::sync::mpsc::sync_channel(QUEUED_BATCHES);
        let (ready_tx, ready) = std::sync::mpsc::sync_channel(READY_BATCHES);
        let thread_reader = reader.clone();
        let queued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let thread_queued = queued.clone();
        let common: SharedCommon = std::sync::Arc::new(std::sync::RwLock::new(
            Common::load(dir)?.map(std::sync::Arc::new),
        ));
        let (thread_common, thread_dir) = (common.clone(), dir.to_path_buf());
        // Writes the bit sets of new big segments, woken by the indexer at each commit;
        // ends with it.
        let dense = Dense::default();
        let (dense_sets, dense_reader) = (dense.clone(), reader.clone());
        let dense_fields = fields.dense();
        let dense_wake = crate::segments::refresher("search-dense", move || {
            let searcher = dense_reader.searcher();
            if let Err(e) = dense_sets.refresh(&searcher, &dense_fields, MIN_SEGMENT) {
                tracing::error!(error = %e, "writing the search index's dense bit sets");
            }
        })?;
        let stemmer_common = common.clone();
        let stemming = std::thread::Builder::new()
            .name("search-stemmer".into())
            .spawn(move || stemmer(jobs, ready_tx, fields, stemmer_common))?;
        let thread = std::thread::Builder::new()
            .name("search-indexer".into())
            .spawn(move || {
                indexer(
                    writer,
                    thread_reader,
                    suggest_writer,
                    fields,
                    ready,
                    thread_queued,
                    thread_common,
                    thread_dir,
                    sample,
                    dense_wake,
                )
            })?;
        Ok(SearchIndex {
            fields,
            reader,
            stemmed,
            suggestions,
            indexer: std::sync::Arc::new(Indexer {
                jobs: Some(indexer_tx),
                threads: vec![stemming, thread],
                queued,
            }),
            answers: std::sync::Arc::new(AnswerCache::new(ANSWER_CACHE)),
            common,
            dense,
        })
    }

    /// Keeps the answers of up to `entries` recent searches, and as many suggestions
    /// (0: none), each until the next commit.
    pub fn with_answer_cache(mut self, entries: usize) -> Self {
        self.answers = std::sync::Arc::new(AnswerCache::new(entries));
        self.suggestions = self.suggestions.with_answer_cache(entries);
        self
    }

    /// Hands `changes` to the indexer, in order; they are searchable after its next
    /// commit, at most [`COMMIT_EVERY`] later (or [`LATE_COMMIT`] more under a flood).
    /// Waits only while the indexer is behind (below): the in-process bus waits for
    /// every subscriber, so waiting for the indexer on every batch would hold up the
    /// other subgraphs' cascades (measured: in-process cascade p99 4.1-6.5 ms when
    /// handed over, 9.6-14.4 ms when waiting for the indexer to apply each).
    ///
    /// A flood (an import's events) is bounded by changes, not batches: once more than
    /// [`MAX_QUEUED_CHANGES`] wait for the indexer, the caller waits until its batch is
    /// applied, so the queue never holds millions of documents' worth of work.
    pub async fn apply(&self, changes: Vec<Change>) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let n = changes.len();
        let queued = self
            .indexer
            .queued
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed)
            + n;
        if queued <= MAX_QUEUED_CHANGES {
            return self.send(Job::Apply(changes, None)).await;
        }
        let (done, applied) = tokio::sync::oneshot::channel();
        self.send(Job::Apply(changes, Some(done))).await?;
        applied
            .await
            .map_err(|_| Error::internal("the search indexer stopped"))
    }

    /// Starts (`true`) or ends a rebuild: while one runs, a content that an event
    /// changed or deleted (or whose author it deleted) is not restored from the
    /// rebuild's older copy.
    pub async fn rebuilding(&self, on: bool) -> Result<()> {
        self.send(Job::Rebuilding(on)).await
    }

    /// Empties the index (and the suggestions), committed at once.
    pub async fn clear(&self) -> Result<()> {
        self.send(Job::Clear).await
    }

    /// How many contents the index holds (as of its last commit).
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether the index holds no content (as of its last commit).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Commits what the indexer has been given so far, and makes it searchable.
    pub async fn commit(&self) -> Result<()> {
        let (done, committed) = tokio::sync::oneshot::channel();
        self.send(Job::Commit(done)).await?;
        committed.await.map_err(Error::internal)?
    }

    async fn send(&self, job: Job) -> Result<()> {
        use std::sync::mpsc::TrySendError;
        let stopped = || Error::internal("the search indexer stopped");
        let Some(jobs) = &self.indexer.jobs else {
            return Err(stopped());
        };
        match jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Disconnected(_)) => Err(stopped()),
            Err(TrySendError::Full(job)) => {
                let indexer = jobs.clone();
                tokio::task::spawn_blocking(move || indexer.send(job).map_err(|_| stopped()))
                    .await
                    .map_err(Error::internal)?
            }
        }
    }

    /// Up to `first` suggestions for `prefix` (lower-cased, trimmed, not empty): see
    /// [`crate::suggest`].
    pub async fn suggest(&self, prefix: String, first: usize) -> Result<Vec<Suggestion>> {
        let miss = match self.suggestions.kept(&prefix, first) {
            Ok(answer) => return Ok(answer),
            Err(miss) => miss,
        };
        let suggestions = self.suggestions.clone();
        tokio::task::spawn_blocking(move || suggestions.answer(miss))
            .await
            .map_err(Error::internal)?
    }

    /// The hits `offset..offset + limit` of `clauses`, `authors` being the ids that each
    /// `author:` clause names (in order; an empty set matches nothing).
    pub async fn search(
        &self,
        clauses: Vec<Clause>,
        authors: Vec<Vec<String>>,
        offset: usize,
        limit: usize,
    ) -> Result<Hits> {
        // The snapshot the answer comes from: a cached answer serves its own only.
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        let key: SearchKey = (clauses, authors, offset, limit);
        if let Some(hits) = self.answers.get(&key, generation) {
            return Ok(hits);
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let (clauses, authors, offset, limit) = &key;
            let hits = this.search_blocking(&searcher, clauses, authors, *offset, *limit)?;
            this.answers.put(key, generation, hits.clone());
            Ok(hits)
        })
        .await
        .map_err(Error::internal)?
    }

    fn search_blocking(
        &self,
        searcher: &tantivy::Searcher,
        clauses: &[Clause],
        authors: &[Vec<String>],
        offset: usize,
        limit: usize,
    ) -> Result<Hits> {
        let Some(parts) = self.parts(clauses, authors) else {
            return Ok(Hits {
                ids: Vec::new(),
                total: 0,
            });
        };
        let keep = if limit == 0 { 0 } else { offset + limit };
        let (top, total) = crate::rank::search(searcher, &self.dense, &parts, keep, "published")
            .map_err(Error::internal)?;
        let mut ids = Vec::with_capacity(top.len().saturating_sub(offset));
        for hit in top.into_iter().skip(offset) {
            let doc: TantivyDocument = searcher.doc(hit.address).map_err(Error::internal)?;
            if let Some(id) = doc.get_first(self.fields.id).and_then(|v| v.as_str()) {
                ids.push(id.to_owned());
            }
        }
        Ok(Hits { ids, total })
    }

    /// The stems of `text`, as the stemmed fields index it.
    fn stems(&self, text: &str) -> Vec<String> {
        let mut analyzer = self.stemmed.clone();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    /// The parts the ranking runs for `clauses` (`None`: nothing can match).
    fn parts(&self, clauses: &[Clause], authors: &[Vec<String>]) -> Option<Vec<Part>> {
        let f = self.fields;
        let mut parts = Vec::with_capacity(clauses.len());
        let mut authors = authors.iter();
        for clause in clauses {
            let part = match clause {
                Clause::Word { text, prefix } => {
                    // A word too long to be indexed keeps its text, which matches nothing
                    // (but may still start a longer word's stem).
                    let stem = self.stems(text).into_iter().next();
                    let stem = stem.as_deref().unwrap_or(text);
                    Part::Scored {
                        title: Term::from_field_text(f.title, stem),
                        body: Term::from_field_text(f.body, stem),
                        // The title's whole words; elsewhere the stems, which a word being
                        // typed starts (`progr`, `program`) until it is whole, when its
                        // own stem matches.
                        prefix: (*prefix && !text.is_empty()).then(|| Prefix {
                            text: text.clone(),
                            title: f.title_raw,
                            body: f.body,
                        }),
                        early: None,
                    }
                }
                Clause::Phrase(words) => {
                    let stems: Vec<String> = words.iter().flat_map(|w| self.stems(w)).collect();
                    match stems.as_slice() {
                        [] => return None,
                        [one] => Part::Scored {
                            title: Term::from_field_text(f.title, one),
                            body: Term::from_field_text(f.body, one),
                            prefix: None,
                            early: None,
                        },
                        several => {
                            let phrase = |field: Field| {
                                PhraseQuery::new(
                                    several
                                        .iter()
                                        .map(|s| Term::from_field_text(field, s))
                                        .collect(),
                                )
                            };
                            let common = self.common.read().ok().and_then(|c| c.clone());
                            match (several, common) {
                                // Two frequent words: their pair, and positions in the
                                // contents indexed before pairs were.
                                ([first, second], Some(common))
                                    if common.contains(first) && common.contains(second) =>
                                {
                                    let both = crate::pairs::pair(first, second);
                                    let early = |q: PhraseQuery| -> Box<dyn Query> {
                                        let flag = TermQuery::new(
                                            Term::from_field_text(f.early, "1"),
                                            IndexRecordOption::Basic,
                                        );
                                        Box::new(BooleanQuery::new(vec![
                                            (Occur::Must, Box::new(flag)),
                                            (Occur::Must, Box::new(q)),
                                        ]))
                                    };
                                    Part::Scored {
                                        title: Term::from_field_text(f.title_pairs, &both),
                                        body: Term::from_field_text(f.pairs, &both),
                                        prefix: None,
                                        early: Some(Early {
                                            docs: early(phrase(f.body)),
                                            title: early(phrase(f.title)),
                                        }),
                                    }
                                }
                                _ => Part::Filter {
                                    docs: Box::new(phrase(f.body)),
                                    title: Some(Box::new(phrase(f.title))),
                                },
                            }
                        }
                    }
                }
                Clause::Tag(tag) => Part::Filter {
                    docs: Box::new(TermQuery::new(
                        Term::from_field_text(f.tags, tag),
                        IndexRecordOption::Basic,
                    )),
                    title: None,
                },
                Clause::Author(_) => {
                    let ids = authors.next().map(Vec::as_slice).unwrap_or_default();
                    if ids.is_empty() {
                        return None;
                    }
                    let terms = ids.iter().map(|id| Term::from_field_text(f.author_id, id));
                    Part::Filter {
                        docs: Box::new(TermSetQuery::new(terms)),
                        title: None,
                    }
                }
            };
            parts.push(part);
        }
        (!parts.is_empty()).then_some(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;

    fn content(id: &str, author: &str, title: &str, story: &str, tags: &[&str]) -> Change {
        Change::Put(IndexedContent {
            id: id.into(),
            author_id: author.into(),
            title: title.into(),
            description: None,
            story: story.into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            // Numbered ids are published in their order.
            published_ms: id.parse().unwrap_or(0),
            author_name: None,
        })
    }

    async fn find(index: &SearchIndex, q: &str) -> Vec<String> {
        find_by(index, q, vec![]).await
    }

    async fn find_by(index: &SearchIndex, q: &str, authors: Vec<Vec<String>>) -> Vec<String> {
        let hits = index
            .search(parse(q).expect("parses"), authors, 0, 100)
            .await
            .expect("searches");
        assert_eq!(hits.total as usize, hits.ids.len(), "{q}");
        hits.ids
    }

    #[tokio::test]
    async fn words_stems_phrases_tags_prefixes_and_authors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = SearchIndex::open(dir.path()).expect("opens");
        index
            .apply(vec![
                content(
                    "a",
                    "ada",
                    "Other things",
                    "A long tale about crabs and friends.",
                    &[],
                ),
                content(
                    "b",
                    "ada",
                    "Ferris the crab goes home",
                    "Nothing to see.",
                    &["rust"],
                ),
                content(
                    "c",
                    "bob",
                    "Programming",
                    "friends about the long tale",
                    &["async-io"],
                ),
            ])
            .await
            .expect("applies");
        index.commit().await.expect("commits");
        assert_eq!(index.reader.searcher().num_docs(), 3);
        // A stem matches, and the title match ranks first.
        assert_eq!(find(&index, "CRAB").await, ["b", "a"]);
        // Every word must match; words inside other words do not.
        assert_eq!(find(&index, "crab home").await, ["b"]);
        assert!(find(&index, "rab ome").await.is_empty());
        // A phrase is words next to each other, in order.
        let mut phrase = find(&index, r#""long tale""#).await;
        phrase.sort();
        assert_eq!(phrase, ["a", "c"]);
        assert!(find(&index, r#""tale long""#).await.is_empty());
        // Tags whole; tag words as words.
        assert_eq!(find(&index, "tag:async-io").await, ["c"]);
        assert!(find(&index, "tag:async").await.is_empty());
        assert_eq!(find(&index, "io").await, ["c"]);
        // The trailing word is a prefix.
        assert_eq!(find(&index, "progr").await, ["c"]);
        assert!(find(&index, "progr tale").await.is_empty());
        // author: is the ids the names resolved to.
        assert_eq!(
            find_by(&index, "tale author:ada", vec![vec!["ada".into()]]).await,
            ["a"]
        );
        assert!(
            find_by(&index, "tale author:nobody", vec![vec![]])
                .await
                .is_empty()
        );

        // Replacing, deleting one, deleting an author's.
        index
            .apply(vec![content("a", "ada", "Crabs", "Gone.", &[])])
            .await
            .expect("applies");
        index.commit().await.expect("commits");
        assert_eq!(find(&index, "crab").await, ["a", "b"]);
        index
            .apply(vec![Change::DeleteContent("b".into())])
            .await
            .expect("applies");
        index.commit().await.expect("commits");
        assert_eq!(find(&index, "crab").await, ["a"]);
        index
            .apply(vec![Change::DeleteAuthor("ada".into())])
            .await
            .expect("applies");
        index.commit().await.expect("commits");
        assert!(find(&index, "crab").await.is_empty());
        assert_eq!(index.reader.searcher().num_docs(), 1);
    }

    fn created(id: &str, story: &str) -> Change {
        content(id, "ada", "Created", story, &[])
    }

    #[tokio::test]
    async fn a_content_given_again_or_out_of_order_is_indexed_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let index = SearchIndex::open(dir.path()).expect("opens");
            index
                .apply(vec![created("2", "first copy")])
                .await
                .expect("applies");
            index.commit().await.expect("commits");
            // The same event again (after a failed consumer transaction), then an id
            // made earlier that arrives later, in the same commit.
            index
                .apply(vec![created("2", "second copy"), created("1", "older id")])
                .await
                .expect("applies");
            index.commit().await.expect("commits");
            assert_eq!(find(&index, "created").await, ["2", "1"]);
            assert!(find(&index, "first").await.is_empty());
            index
                .apply(vec![created("1", "older id again")])
                .await
                .expect("applies");
            index.commit().await.expect("commits");
            assert_eq!(find(&index, "created").await, ["2", "1"]);
        }
        // Reopened, the index knows the newest id it holds.
        let index = SearchIndex::open(dir.path()).expect("reopens");
        index
            .apply(vec![created("2", "third copy"), created("3", "new")])
            .await
            .expect("applies");
        index.commit().await.expect("commits");
        assert_eq!(find(&index, "created").await, ["3", "2", "1"]);
        assert_eq!(find(&index, "third").await, ["2"]);
        assert_eq!(index.reader.searcher().num_docs(), 3);
    }

    fn restored(change: Change, reads: u64) -> Change {
        match change {
            Change::Put(content) => Change::Restore { content, reads },
            other => other,
        }
    }

    #[tokio::test]
    async fn a_rebuilds_copy_never_undoes_a_newer_event() {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = SearchIndex::open(dir.path()).expect("opens");
        index.rebuilding(true).await.expect("starts");
        // Events while the rebuild runs: an edit, a deletion, an author's deletion.
        index
            .apply(vec![
                content("1", "ada", "Edited", "new words", &[]),
                content("2", "ada", "Kept", "gone later", &[]),
                Change::DeleteContent("2".into()),
                Change::DeleteAuthor("bob".into()),
            ])
            .await
            .expect("applies");
        // Then the rebuild's copies, read before those events.
        index
            .apply(vec![
                restored(content("1", "ada", "Original", "old words", &[]), 3),
                restored(content("2", "ada", "Kept", "gone later", &[]), 1),
                restored(content("3", "bob", "By bob", "old words", &[]), 0),
                restored(content("4", "cy", "Untouched", "old words", &[]), 0),
            ])
            .await
            .expect("applies");
        index.rebuilding(false).await.expect("ends");
        index.commit().await.expect("commits");
        assert_eq!(find(&index, "new").await, ["1"]);
        assert_eq!(find(&index, "old").await, ["4"]);
        assert!(find(&index, "kept").await.is_empty());
        // Once the rebuild is over, a copy is put like any content.
        index
            .apply(vec![restored(
                content("3", "bob", "By bob", "old words", &[]),
                0,
            )])
            .await
            .expect("applies");
        index.commit().await.expect("commits");
        assert_eq!(find(&index, "old").await, ["4", "3"]);
    }

    #[tokio::test]
    async fn pages_follow_each_other_newest_first_on_ties_and_reopening_keeps_the_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let index = SearchIndex::open(dir.path()).expect("opens");
            let changes = (0..25)
                .map(|i| content(&format!("{i:02}"), "ada", "Same", "same words", &[]))
                .collect();
            index.apply(changes).await.expect("applies");
        }
        let index = SearchIndex::open(dir.path()).expect("reopens");
        let clauses = parse("same").expect("parses");
        let mut seen = Vec::new();
        for offset in [0, 10, 20] {
            let hits = index
                .search(clauses.clone(), vec![], offset, 10)
                .await
                .expect("searches");
            assert_eq!(hits.total, 25);
            seen.extend(hits.ids);
        }
        let newest_first: Vec<String> = (0..25).rev().map(|i| format!("{i:02}")).collect();
        assert_eq!(seen, newest_first, "equal scores: newer first, each once");
    }

    /// The pruned ranking (bounds skipping blocks and contents) gives what scoring
    /// every match gives, over several segments with replaced and deleted contents.
    #[tokio::test]
    async fn pruning_ranks_as_scoring_every_match_does() {
        const WORDS: [&str; 24] = [
            "the",
            "then",
            "there",
            "them",
            "of",
            "offer",
            "and",
            "crab",
            "crabs",
            "rust",
            "ferris",
            "tale",
            "long",
            "program",
            "programming",
            "ocean",
            "shell",
            "claw",
            "sand",
            "tide",
            "reef",
            "wave",
            "kelp",
            "pearl",
        ];
        let mut seed: u64 = 7;
        let mut next = move |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % n
        };
        // Zipf-like: the first words far more often.
        let word = move |pick: &mut dyn FnMut(usize) -> usize| {
            let r = pick(WORDS.len());
            WORDS[pick(r + 1)]
        };
        let dir = tempfile::tempdir().expect("tempdir");
        // The frequent stems are chosen after the second batch: the first 600 contents
        // have no pairs, the later ones do.
        let index = SearchIndex::open_sampling(dir.path(), 500).expect("opens");
        let text = |n: usize, pick: &mut dyn FnMut(usize) -> usize| {
            (0..n).map(|_| word(pick)).collect::<Vec<_>>().join(" ")
        };
        let make = |i: usize, pick: &mut dyn FnMut(usize) -> usize| {
            let title_len = 1 + pick(4);
            let story_len = 3 + pick(30);
            let tag = ["rust", "sea"][pick(2)];
            let mut c = content(&i.to_string(), "ada", "", "", &[tag]);
            if let Change::Put(c) = &mut c {
                c.title = text(title_len, pick);
                c.story = text(story_len, pick);
                // Many equal publication times: the address decides those ties.
                c.published_ms = (i % 40) as i64;
            }
            c
        };
        for batch in 0..4 {
            let changes = (batch * 300..(batch + 1) * 300)
                .map(|i| make(i, &mut next))
                .collect();
            index.apply(changes).await.expect("applies");
            index.commit().await.expect("commits");
        }
        let mut changes: Vec<Change> = (0..80).map(|i| make(i * 13, &mut next)).collect();
        changes.extend((0..40).map(|i| Change::DeleteContent((i * 29 + 5).to_string())));
        index.apply(changes).await.expect("applies");
        index.commit().await.expect("commits");
        let searcher = index.reader.searcher();
        assert!(searcher.segment_readers().len() > 1, "several segments");
        assert!(
            index.common.read().expect("lock").is_some(),
            "the frequent stems are chosen"
        );
        // Every segment's frequent terms as bit sets, and none.
        let (dense, none) = (Dense::default(), Dense::default());
        dense
            .refresh(&searcher, &index.fields.dense(), 0)
            .expect("bit sets");
        assert!(dense.len() > 10, "frequent terms have bit sets");
        assert!(
            dense.alive_sets() > 0,
            "the live documents of segments with deletions too"
        );

        let queries = [
            "the",
            "crab",
            "tale",
            "pearl",
            "the of",
            "crab the",
            "rust tale ocean",
            "the",
            "then",
            "prog",
            "the cra",
            "tag:rust the",
            "\"the of\"",
            "\"crab tale\"",
            "\"the the\"",
            "\"of the crab\" tide",
            "tag:sea",
            "kelp tag:rust",
        ];
        for q in queries {
            let parts = index
                .parts(&parse(q).expect("parses"), &[])
                .expect("can match");
            for keep in [1, 7, 25, 200] {
                let run = |prune, dense: &Dense| {
                    let (hits, total) = crate::rank::search_pruned(
                        &searcher,
                        dense,
                        &parts,
                        keep,
                        "published",
                        prune,
                    )
                    .expect("searches");
                    let hits: Vec<_> = hits
                        .iter()
                        .map(|h| (h.address, h.score.to_bits(), h.published))
                        .collect();
                    (hits, total)
                };
                let (pruned, every) = (run(true, &none), run(false, &none));
                assert_eq!(pruned, every, "{q}, first {keep}");
                let with_sets = (run(true, &dense), run(false, &dense));
                assert_eq!(
                    with_sets,
                    (pruned, every.clone()),
                    "{q}, first {keep}, bit sets"
                );
                assert!(every.1 > 0, "{q} matches something");
            }
        }

        // A phrase of two frequent words, by its pair (and positions in the contents
        // indexed before pairs), finds what positions alone find.
        for q in [
            "\"the of\"",
            "\"crab tale\"",
            "\"the the\"",
            "\"shell claw\"",
        ] {
            let parts = index.parts(&parse(q).expect("parses"), &[]).expect("parts");
            assert!(matches!(parts[0], Part::Scored { .. }), "{q} uses its pair");
            let Clause::Phrase(words) = &parse(q).expect("parses")[0] else {
                panic!("{q} is a phrase");
            };
            let phrase = |field: Field| {
                PhraseQuery::new(
                    words
                        .iter()
                        .map(|w| Term::from_field_text(field, &index.stems(w)[0]))
                        .collect(),
                )
            };
            let by_positions = [Part::Filter {
                docs: Box::new(phrase(index.fields.body)),
                title: Some(Box::new(phrase(index.fields.title))),
            }];
            let found = |parts: &[Part]| {
                let (hits, total) =
                    crate::rank::search(&searcher, &none, parts, 5_000, "published")
                        .expect("searches");
                let mut ids: Vec<_> = hits.iter().map(|h| h.address).collect();
                ids.sort();
                // The title tier, content by content.
                let mut tiers: Vec<_> = hits
                    .iter()
                    .map(|h| (h.address, h.score >= TITLE_TIER))
                    .collect();
                tiers.sort();
                (ids, total, tiers)
            };
            let (pair, by_positions) = (found(&parts), found(&by_positions));
            assert!(pair.1 > 0, "{q} matches something");
            assert_eq!(pair, by_positions, "{q}");
        }
    }
}
