//! The search index: one tantivy document per content, on local disk.
//!
//! | field | analysed as | used for |
//! |---|---|---|
//! | `id` | the raw id, stored | the hit's content; deleting and replacing a document |
//! | `author_id` | the raw id | `author:` (through the names the store knows); a deleted user's contents |
//! | `title`, `description`, `story`, `tag_words` | words, lower-cased, English stems, positions | words and phrases, BM25 |
//! | `tags` | each whole tag | `tag:` |
//! | `title_raw` | the title's words, lower-cased, no stems, no positions | the trailing prefix in titles |
//! | `published` | publication time (ms), a fast field | ties: newer first |
//!
//! Ranking: every clause must match. A word found in the title adds [`TITLE_TIER`], so a
//! title match ranks above a story-only match whatever BM25 says; within a tier BM25
//! decides (title ×2, description and tags ×1.5, story ×1); ties go to the newer content.
//!
//! Writes go through one `IndexWriter`, owned by an indexer thread. A batch of events is
//! handed to it and acknowledged at once (unless [`MAX_QUEUED_CHANGES`] wait); it
//! commits what is pending [`COMMIT_EVERY`] after the first uncommitted change (at most
//! [`LATE_COMMIT`] later while batches keep coming) and reloads the reader, so a write is
//! searchable within that delay, and one commit (about 20 ms of fsyncs here) serves many
//! batches instead of holding up each: the relays that deliver to search and to other
//! subgraphs never wait for it. Dropping the last handle on the index commits what is
//! pending. A crash loses the changes since the last commit from this replica's index
//! (they were acknowledged); a replayed event replaces its document again, so applying
//! twice changes nothing.

use crate::query::Clause;
use crate::rank::{AnswerCache, PrefixQuery, Ranked, Tiered};
use crate::suggest::{SuggestWriter, SuggestedContent, Suggestion, Suggestions};
use folio_common::{Error, Result};
use std::path::Path;
use std::time::Duration;
use tantivy::collector::Count;
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, PhraseQuery, Query, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// The score a word or phrase found in the title adds: above any BM25 sum of a query
/// of [`crate::query::MAX_CLAUSES`] clauses.
pub const TITLE_TIER: f32 = 1_000.0;

const STEMMED: &str = "folio_en";
const RAW: &str = "folio_raw";
/// Indexing memory of the writer (tantivy's arena; a commit flushes it).
const WRITER_BYTES: usize = 64 << 20;

/// Longest a change waits for the commit that makes it searchable (while the indexer
/// keeps up; under a bulk load, at most [`LATE_COMMIT`] more).
pub const COMMIT_EVERY: Duration = Duration::from_millis(50);

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
    /// Whether it was just created (`content.created`, `content.imported`): nothing of
    /// it is in the index yet.
    pub fresh: bool,
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
    description: Field,
    story: Field,
    tag_words: Field,
    tags: Field,
    title_raw: Field,
    published: Field,
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
    thread: Option<std::thread::JoinHandle<()>>,
    /// Changes handed over and not applied yet.
    queued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the search indexer thread panicked");
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

/// Batches waiting for the indexer thread, at most (then `apply` waits: back-pressure).
const QUEUED_BATCHES: usize = 16;

/// Changes waiting for the indexer thread past which `apply` waits for its batch.
pub const MAX_QUEUED_CHANGES: usize = 10_000;

/// The indexer thread: owns the writer, applies each batch as it comes, and commits
/// [`COMMIT_EVERY`] after the first uncommitted change (or when asked, or at the end).
fn indexer(
    writer: IndexWriter,
    reader: IndexReader,
    suggest: SuggestWriter,
    fields: Fields,
    jobs: std::sync::mpsc::Receiver<Job>,
    queued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::mpsc::RecvTimeoutError;
    let mut writer = (writer, suggest);
    // While a rebuild runs: the contents and authors events touched since it began.
    let mut touched: Option<Touched> = None;
    let commit = |(writer, suggest): &mut (IndexWriter, SuggestWriter)| -> Result<()> {
        writer.commit().map_err(Error::internal)?;
        reader.reload().map_err(Error::internal)?;
        suggest.commit()
    };
    let mut due: Option<std::time::Instant> = None;
    loop {
        // Under a steady flow of batches the queue is never empty when a commit falls
        // due; commit anyway once it is [`LATE_COMMIT`] late, so changes still become
        // searchable and the suggestions' pending entries stay few, while a bulk load
        // pays for a commit (about 20 ms of fsyncs) once a second, not every 50 ms.
        if let Some(at) = due
            && std::time::Instant::now() >= at + LATE_COMMIT
        {
            due = None;
            if let Err(e) = commit(&mut writer) {
                tracing::error!(error = %e.log_message(), "committing the search index");
            }
        }
        let job = match due {
            None => jobs.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(at) => jobs.recv_timeout(at.saturating_duration_since(std::time::Instant::now())),
        };
        match job {
            Ok(Job::Apply(changes, done)) => {
                let n = changes.len();
                for change in changes {
                    if let Some(t) = &mut touched
                        && t.skips(&change)
                    {
                        continue;
                    }
                    if let Err(e) = apply_change(&mut writer, fields, change) {
                        tracing::error!(error = %e.log_message(), "indexing a change");
                    }
                }
                due.get_or_insert_with(|| std::time::Instant::now() + COMMIT_EVERY);
                queued.fetch_sub(n, std::sync::atomic::Ordering::Relaxed);
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
            Ok(Job::Rebuilding(on)) => touched = on.then(Touched::default),
            Ok(Job::Clear) => {
                // Committed at once, so that nothing added later is caught by it.
                due = None;
                if let Err(e) = writer
                    .0
                    .delete_all_documents()
                    .map_err(Error::internal)
                    .and_then(|_| writer.1.clear())
                    .and_then(|()| commit(&mut writer))
                {
                    tracing::error!(error = %e.log_message(), "clearing the search index");
                }
            }
            Ok(Job::Commit(done)) => {
                due = None;
                let _ = done.send(commit(&mut writer));
            }
            Err(RecvTimeoutError::Timeout) => {
                due = None;
                if let Err(e) = commit(&mut writer) {
                    tracing::error!(error = %e.log_message(), "committing the search index");
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                if due.is_some()
                    && let Err(e) = commit(&mut writer)
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

fn apply_change(
    (writer, suggest): &mut (IndexWriter, SuggestWriter),
    f: Fields,
    change: Change,
) -> Result<()> {
    match change {
        Change::Put(c) => put(writer, suggest, f, c)?,
        Change::DeleteContent(id) => {
            suggest.delete_content(&id)?;
            writer.delete_term(Term::from_field_text(f.id, &id));
        }
        Change::DeleteAuthor(id) => {
            suggest.delete_author(&id)?;
            writer.delete_term(Term::from_field_text(f.author_id, &id));
        }
        Change::Restore { content: c, reads } => {
            let id = c.id.clone();
            put(writer, suggest, f, c)?;
            suggest.set_reads(&id, reads)?;
        }
        Change::RenameAuthor { id, name } => suggest.rename_author(&id, &name)?,
        Change::Read { content_id, delta } => suggest.read(&content_id, delta)?,
    }
    Ok(())
}

/// Adds or replaces a content, and its suggestions.
fn put(
    writer: &mut IndexWriter,
    suggest: &mut SuggestWriter,
    f: Fields,
    c: IndexedContent,
) -> Result<()> {
    suggest.put_content(SuggestedContent {
        id: c.id.clone(),
        author_id: c.author_id.clone(),
        title: c.title.clone(),
        tags: c.tags.clone(),
        published_ms: c.published_ms,
        author_name: c.author_name.clone(),
        fresh: c.fresh,
    })?;
    writer.delete_term(Term::from_field_text(f.id, &c.id));
    writer
        .add_document(document(f, c))
        .map_err(Error::internal)?;
    Ok(())
}

fn document(f: Fields, c: IndexedContent) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(f.id, &c.id);
    doc.add_text(f.author_id, &c.author_id);
    doc.add_text(f.title, &c.title);
    doc.add_text(f.title_raw, &c.title);
    if let Some(d) = &c.description {
        doc.add_text(f.description, d);
    }
    doc.add_i64(f.published, c.published_ms);
    doc.add_text(f.story, &c.story);
    for tag in &c.tags {
        doc.add_text(f.tags, tag.to_lowercase());
        doc.add_text(f.tag_words, tag);
    }
    doc
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
    let positions = text(STEMMED, IndexRecordOption::WithFreqsAndPositions);
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        author_id: b.add_text_field("author_id", STRING),
        title: b.add_text_field("title", positions.clone()),
        description: b.add_text_field("description", positions.clone()),
        story: b.add_text_field("story", positions),
        tag_words: b.add_text_field("tag_words", text(STEMMED, IndexRecordOption::WithFreqs)),
        tags: b.add_text_field("tags", STRING),
        title_raw: b.add_text_field("title_raw", text(RAW, IndexRecordOption::Basic)),
        published: b.add_i64_field("published", FAST),
    };
    (b.build(), fields)
}

fn analyzers() -> (TextAnalyzer, TextAnalyzer) {
    let stemmed = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build();
    let raw = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .build();
    (stemmed, raw)
}

impl SearchIndex {
    /// Opens the index in `dir` (created, with the directory, when there is none).
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema();
        let directory = MmapDirectory::open(dir)?;
        let index = Index::open_or_create(directory, schema)?;
        let (stemmed, raw) = analyzers();
        // Indexing remembers stems (the same tokens, see `stem.rs`); a query, which
        // clones its analyzer, stems afresh.
        let indexing = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(64))
            .filter(LowerCaser)
            .filter(crate::stem::RememberingStemmer)
            .build();
        index.tokenizers().register(STEMMED, indexing);
        index.tokenizers().register(RAW, raw);
        let writer = index.writer_with_num_threads(1, WRITER_BYTES)?;
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let (suggestions, suggest_writer) = crate::suggest::open(&dir.join("suggest"))?;
        let (indexer_tx, jobs) = std::sync::mpsc::sync_channel(QUEUED_BATCHES);
        let thread_reader = reader.clone();
        let queued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let thread_queued = queued.clone();
        let thread = std::thread::Builder::new()
            .name("search-indexer".into())
            .spawn(move || {
                indexer(
                    writer,
                    thread_reader,
                    suggest_writer,
                    fields,
                    jobs,
                    thread_queued,
                )
            })?;
        Ok(SearchIndex {
            fields,
            reader,
            stemmed,
            suggestions,
            indexer: std::sync::Arc::new(Indexer {
                jobs: Some(indexer_tx),
                thread: Some(thread),
                queued,
            }),
            answers: std::sync::Arc::new(AnswerCache::new(ANSWER_CACHE)),
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
        let query = self.query(clauses, authors)?;
        let (top, total) = if limit == 0 {
            (
                Vec::new(),
                searcher.search(&query, &Count).map_err(Error::internal)?,
            )
        } else {
            // Best score first; on a tie the newer content.
            let top = Ranked {
                keep: offset + limit,
                published: "published",
            };
            searcher
                .search(&query, &(top, Count))
                .map_err(Error::internal)?
        };
        let mut ids = Vec::with_capacity(top.len().saturating_sub(offset));
        for hit in top.into_iter().skip(offset) {
            let doc: TantivyDocument = searcher.doc(hit.address).map_err(Error::internal)?;
            if let Some(id) = doc.get_first(self.fields.id).and_then(|v| v.as_str()) {
                ids.push(id.to_owned());
            }
        }
        Ok(Hits {
            ids,
            total: total as u64,
        })
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

    fn query(&self, clauses: &[Clause], authors: &[Vec<String>]) -> Result<Box<dyn Query>> {
        let f = self.fields;
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut authors = authors.iter();
        for clause in clauses {
            let q: Box<dyn Query> = match clause {
                Clause::Word { text, prefix } => {
                    let mut should: Vec<Box<dyn Query>> = Vec::new();
                    if let Some(stem) = self.stems(text).into_iter().next() {
                        should.extend(self.scored(&[stem]));
                    }
                    if *prefix && !text.is_empty() {
                        // The title's unstemmed words; elsewhere the stems, which a word
                        // being typed starts (`progr`, `program`) until it is whole, when
                        // its own stem matches.
                        should.push(Box::new(PrefixQuery::new(
                            vec![f.title_raw],
                            text,
                            TITLE_TIER,
                        )));
                        should.push(Box::new(PrefixQuery::new(
                            vec![f.description, f.tag_words, f.story],
                            text,
                            0.5,
                        )));
                    }
                    if should.is_empty() {
                        return Ok(Box::new(EmptyQuery));
                    }
                    any_of(should)
                }
                Clause::Phrase(words) => {
                    let stems: Vec<String> = words.iter().flat_map(|w| self.stems(w)).collect();
                    if stems.is_empty() {
                        return Ok(Box::new(EmptyQuery));
                    }
                    any_of(self.scored(&stems))
                }
                Clause::Tag(tag) => Box::new(ConstScoreQuery::new(
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.tags, tag),
                        IndexRecordOption::Basic,
                    )),
                    1.0,
                )),
                Clause::Author(_) => {
                    let ids = authors.next().map(Vec::as_slice).unwrap_or_default();
                    if ids.is_empty() {
                        return Ok(Box::new(EmptyQuery));
                    }
                    let terms = ids.iter().map(|id| Term::from_field_text(f.author_id, id));
                    Box::new(ConstScoreQuery::new(
                        Box::new(TermSetQuery::new(terms)),
                        1.0,
                    ))
                }
            };
            must.push((Occur::Must, q));
        }
        if must.is_empty() {
            return Ok(Box::new(EmptyQuery));
        }
        Ok(Box::new(BooleanQuery::new(must)))
    }

    /// A word (one stem) or phrase (several) in each stemmed field, BM25-scored and
    /// boosted by field, with the title tier.
    fn scored(&self, stems: &[String]) -> Vec<Box<dyn Query>> {
        let f = self.fields;
        let one = |field: Field| -> Box<dyn Query> {
            let mut terms: Vec<Term> = stems
                .iter()
                .map(|s| Term::from_field_text(field, s))
                .collect();
            match terms.pop() {
                Some(term) if terms.is_empty() => {
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
                }
                Some(last) => {
                    terms.push(last);
                    Box::new(PhraseQuery::new(terms))
                }
                None => Box::new(EmptyQuery),
            }
        };
        let mut out: Vec<Box<dyn Query>> = vec![
            Box::new(Tiered::new(one(f.title), TITLE_TIER, 2.0)),
            Box::new(BoostQuery::new(one(f.description), 1.5)),
            one(f.story),
        ];
        if stems.len() == 1 {
            out.push(Box::new(BoostQuery::new(one(f.tag_words), 1.5)));
        }
        out
    }
}

fn any_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        queries.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
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
            fresh: false,
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
}
