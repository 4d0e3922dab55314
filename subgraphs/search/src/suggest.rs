//! Autocomplete (`suggest`): a second, small tantivy index beside the contents' one, in
//! `<index dir>/suggest`, written by the same indexer thread and committed with it (by a
//! committing thread of its own, while the indexer goes on).
//!
//! One document per entry a reader may be offered:
//!
//! | entry | `key` | text | counts |
//! |---|---|---|---|
//! | TITLE | `t:<content id>` | the title | its content's reads |
//! | TAG | `g:<tag>` | the tag | the reads of the contents with the tag, and how many they are |
//! | AUTHOR | `a:<user id>` | first and last name | the reads of the author's contents, and how many they are |
//!
//! Every word of the text (lower-cased, split at anything but letters and digits) is
//! indexed with each of its prefixes up to [`MAX_PREFIX`] characters, as whole terms of
//! `prefixes`: a suggestion is one term lookup, however short the prefix. The order
//! (most read first, ties newer first) comes from two fast fields, `reads` and
//! `published` (of the entry's newest content, in milliseconds); each segment keeps
//! its best entries per frequent prefix ([`crate::tops`]), so a suggestion reads a few
//! short lists, without scoring.
//!
//! Counts change by read-modify-write of an entry: the indexer thread reads it from the
//! documents changed since the last commit began (`pending`), or else from the commit
//! the committing thread is writing (`in_flight`), or else from the last commit, and
//! writes it back whole. The thread is the only writer, so nothing is lost between
//! the two. A TAG or AUTHOR entry goes when its last content does; an AUTHOR entry's
//! text is the author's names when the search database knows them (`user.*` events), and
//! it is offered only once it has a name.

use crate::newest::Newest;
use crate::rank::AnswerCache;
use crate::tops::Tops;
use folio_common::{Error, Result};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::TermQuery;
use tantivy::schema::{FAST, Field, IndexRecordOption, STORED, STRING, Schema, Value};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Longest prefix indexed; a longer one is looked up by its first [`MAX_PREFIX`]
/// characters and the rest checked on the texts found.
pub const MAX_PREFIX: usize = 20;

/// Indexing memory of the suggestion writer.
const WRITER_BYTES: usize = 16 << 20;

/// What a suggestion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Title,
    Tag,
    Author,
}

impl Kind {
    fn code(self) -> u64 {
        match self {
            Kind::Title => 0,
            Kind::Tag => 1,
            Kind::Author => 2,
        }
    }

    fn from_code(code: u64) -> Option<Kind> {
        match code {
            0 => Some(Kind::Title),
            1 => Some(Kind::Tag),
            2 => Some(Kind::Author),
            _ => None,
        }
    }
}

/// One entry, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    /// What a reader sees (empty for an author whose names are not known yet).
    pub text: String,
    /// TITLE: the content.
    pub content_id: Option<String>,
    /// TITLE: the content's author; AUTHOR: the user.
    pub author_id: Option<String>,
    /// TITLE: the content's tags (lower-cased), to move their counts with its reads.
    pub tags: Vec<String>,
    pub reads: u64,
    /// TAG, AUTHOR: how many contents; TITLE: 1.
    pub contents: u64,
    /// Milliseconds since 1970 of the newest content behind the entry.
    pub published_ms: i64,
}

impl Entry {
    fn key(&self) -> String {
        match self.kind {
            Kind::Title => title_key(self.content_id.as_deref().unwrap_or_default()),
            Kind::Tag => tag_key(&self.text),
            Kind::Author => author_key(self.author_id.as_deref().unwrap_or_default()),
        }
    }
}

/// What the keys of TITLE entries start with.
const TITLE_KEY: &str = "t:";

fn title_key(content_id: &str) -> String {
    format!("{TITLE_KEY}{content_id}")
}

fn tag_key(tag: &str) -> String {
    format!("g:{tag}")
}

fn author_key(user_id: &str) -> String {
    format!("a:{user_id}")
}

/// The lower-cased words of `text` (letters and digits).
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Every prefix (1 to [`MAX_PREFIX`] characters) of every word of `text`, once.
fn prefixes(text: &str) -> FxHashSet<String> {
    let mut out = FxHashSet::default();
    for word in words(text) {
        let mut prefix = String::new();
        for c in word.chars().take(MAX_PREFIX) {
            prefix.push(c);
            out.insert(prefix.clone());
        }
    }
    out
}

/// Whether a word of `text` (lower-cased) starts with `prefix` (lower-cased), which may
/// itself hold several words: then the text's words from that one on start with them.
fn matches(text: &str, prefix: &str) -> bool {
    let text = text.to_lowercase();
    let at_word = |i: usize| {
        text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric())
    };
    text.match_indices(prefix).any(|(i, _)| at_word(i))
}

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    kind: Field,
    prefixes: Field,
    text: Field,
    content_id: Field,
    author_id: Field,
    tags: Field,
    reads: Field,
    contents: Field,
    published: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        key: b.add_text_field("key", STRING | STORED),
        kind: b.add_u64_field("kind", STORED),
        prefixes: b.add_text_field("prefixes", STRING),
        text: b.add_text_field("text", STORED),
        content_id: b.add_text_field("content_id", STORED),
        author_id: b.add_text_field("author_id", STRING | STORED),
        tags: b.add_text_field("tags", STORED),
        reads: b.add_u64_field("reads", STORED | FAST),
        contents: b.add_u64_field("contents", STORED),
        published: b.add_i64_field("published", STORED | FAST),
    };
    (b.build(), fields)
}

fn document(f: Fields, e: &Entry) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(f.key, e.key());
    doc.add_u64(f.kind, e.kind.code());
    for p in prefixes(&e.text) {
        doc.add_text(f.prefixes, p);
    }
    doc.add_text(f.text, &e.text);
    if let Some(id) = &e.content_id {
        doc.add_text(f.content_id, id);
    }
    if let Some(id) = &e.author_id {
        doc.add_text(f.author_id, id);
    }
    for tag in &e.tags {
        doc.add_text(f.tags, tag);
    }
    doc.add_u64(f.reads, e.reads);
    doc.add_u64(f.contents, e.contents);
    doc.add_i64(f.published, e.published_ms);
    doc
}

fn entry(f: Fields, doc: &TantivyDocument) -> Option<Entry> {
    let text = |field: Field| {
        doc.get_first(field)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let number = |field: Field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
    Some(Entry {
        kind: Kind::from_code(doc.get_first(f.kind)?.as_u64()?)?,
        text: text(f.text).unwrap_or_default(),
        content_id: text(f.content_id),
        author_id: text(f.author_id),
        tags: doc
            .get_all(f.tags)
            .filter_map(|v| v.as_str())
            .map(str::to_owned)
            .collect(),
        reads: number(f.reads),
        contents: number(f.contents),
        published_ms: doc
            .get_first(f.published)
            .and_then(|v| v.as_i64())
            .unwrap_or(0),
    })
}

/// The suggestion index's reading side (cheap to clone).
#[derive(Clone)]
pub struct Suggestions {
    fields: Fields,
    reader: IndexReader,
    /// Answers to recent `(prefix, first)`, valid until the next commit.
    answers: Arc<AnswerCache<(String, usize), Vec<Suggestion>>>,
    /// Each segment's best entries per frequent prefix.
    tops: Tops,
}

/// The suggestion index's writing side, owned by the indexer thread.
pub struct SuggestWriter {
    fields: Fields,
    reader: IndexReader,
    /// Entries written since the last commit began (`None`: deleted), newest state.
    pending: Entries,
    /// The entries of the last commit begun, which the committing thread writes while
    /// the indexer goes on: read after `pending` and before the committed index, until
    /// the next commit begins.
    in_flight: Arc<Entries>,
    /// The newest content with a TITLE entry, pending ones included, and as of the
    /// last commit begun: a content past it has none in the committed index nor in
    /// flight, so its entry is neither looked up nor deleted there (`crate::newest`).
    newest: Newest,
    committed: Newest,
    /// The way to the committing thread, and its answer to the commit in flight.
    committer: Option<std::sync::mpsc::Sender<Commit>>,
    done: std::sync::mpsc::Receiver<Result<()>>,
    busy: bool,
    /// Delete every entry committed before the next commit's (`clear`).
    clear: bool,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Entries by key, as written (`None`: deleted).
type Entries = FxHashMap<String, Option<Entry>>;

/// A commit the committing thread writes.
struct Commit {
    entries: Arc<Entries>,
    /// The newest content with a TITLE entry in the committed index (no delete past it).
    held: Newest,
    clear: bool,
}

/// The committing thread: owns the tantivy writer, writes each commit's entries,
/// commits, makes them readable and answers; ends when the way to it closes.
fn committer(
    fields: Fields,
    mut writer: IndexWriter,
    reader: IndexReader,
    commits: std::sync::mpsc::Receiver<Commit>,
    done: std::sync::mpsc::Sender<Result<()>>,
    tops: std::sync::mpsc::Sender<()>,
    gate: Option<std::sync::mpsc::Receiver<()>>,
) {
    for Commit {
        entries,
        held,
        clear,
    } in commits
    {
        // A test holds each commit until it lets it go.
        if let Some(gate) = &gate {
            let _ = gate.recv();
        }
        let result = (|| {
            if clear {
                writer.delete_all_documents().map_err(Error::internal)?;
            }
            for (key, entry) in entries.iter() {
                if may_hold(&held, key) {
                    writer.delete_term(Term::from_field_text(fields.key, key));
                }
                if let Some(e) = entry {
                    writer
                        .add_document(document(fields, e))
                        .map_err(Error::internal)?;
                }
            }
            writer.commit().map_err(Error::internal)?;
            reader.reload().map_err(Error::internal)
        })();
        if result.is_ok() {
            let _ = tops.send(());
        }
        if done.send(result).is_err() {
            return;
        }
    }
}

/// Whether an index holding contents up to `held` may hold an entry `key`.
fn may_hold(held: &Newest, key: &str) -> bool {
    key.strip_prefix(TITLE_KEY)
        .is_none_or(|id| held.may_hold(id))
}

/// A content as the suggestions see it.
#[derive(Debug, Clone)]
pub struct SuggestedContent {
    pub id: String,
    pub author_id: String,
    pub title: String,
    pub tags: Vec<String>,
    pub published_ms: i64,
    /// The author's first and last name, when the search database knows them.
    pub author_name: Option<String>,
}

/// Opens (or creates) the suggestion index in `dir`.
pub fn open(dir: &Path) -> anyhow::Result<(Suggestions, SuggestWriter)> {
    open_held(dir, None)
}

/// [`open`], its committing thread waiting for a word on `gate` before each commit.
fn open_held(
    dir: &Path,
    gate: Option<std::sync::mpsc::Receiver<()>>,
) -> anyhow::Result<(Suggestions, SuggestWriter)> {
    std::fs::create_dir_all(dir)?;
    let (schema, fields) = schema();
    let index = Index::open_or_create(MmapDirectory::open(dir)?, schema)?;
    let writer = index.writer_with_num_threads(1, WRITER_BYTES)?;
    let reader: IndexReader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    let newest = Newest::of(&reader.searcher(), fields.key, TITLE_KEY);
    let tops = Tops::default();
    let (thread_tops, thread_reader) = (tops.clone(), reader.clone());
    // Ends when the committing thread (holding `wake`) goes.
    let wake = crate::segments::refresher("search-suggest-tops", move || {
        if let Err(e) = thread_tops.refresh(&thread_reader.searcher(), fields.prefixes) {
            tracing::error!(error = %e, "writing the suggestions' best entries");
        }
    })?;
    let (commits, thread_commits) = std::sync::mpsc::channel();
    let (thread_done, done) = std::sync::mpsc::channel();
    let thread_reader = reader.clone();
    let thread = std::thread::Builder::new()
        .name("search-suggest-commit".into())
        .spawn(move || {
            committer(
                fields,
                writer,
                thread_reader,
                thread_commits,
                thread_done,
                wake,
                gate,
            )
        })?;
    Ok((
        Suggestions {
            fields,
            reader: reader.clone(),
            answers: Arc::new(AnswerCache::new(crate::index::ANSWER_CACHE)),
            tops,
        },
        SuggestWriter {
            fields,
            reader,
            pending: Entries::default(),
            in_flight: Arc::default(),
            committed: newest.clone(),
            newest,
            committer: Some(commits),
            done,
            busy: false,
            clear: false,
            thread: Some(thread),
        },
    ))
}

impl Drop for SuggestWriter {
    /// Waits for the commit in flight; the tantivy writer goes with its thread, so the
    /// index can be opened again at once.
    fn drop(&mut self) {
        self.committer = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the suggestions' committing thread panicked");
        }
    }
}

impl SuggestWriter {
    /// The entry `key` as it now is (pending changes first, then the commit in flight,
    /// then the last commit).
    fn get(&self, key: &str) -> Result<Option<Entry>> {
        if let Some(entry) = self.pending.get(key).or_else(|| self.in_flight.get(key)) {
            return Ok(entry.clone());
        }
        // A content newer than every one committed has no entry there: looking in the
        // committed index for each of an import's contents would cost more than the
        // rest of its indexing.
        if !may_hold(&self.committed, key) {
            return Ok(None);
        }
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.key, key),
            IndexRecordOption::Basic,
        );
        let top = searcher
            .search(&query, &TopDocs::with_limit(1))
            .map_err(Error::internal)?;
        let Some((_, address)) = top.into_iter().next() else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher.doc(address).map_err(Error::internal)?;
        Ok(entry(self.fields, &doc))
    }

    /// Writes `e` (at the next commit: an entry that changes many times between two
    /// commits, a popular tag, is written once).
    fn put(&mut self, e: Entry) {
        if let (Kind::Title, Some(id)) = (e.kind, &e.content_id) {
            self.newest.hold(id);
        }
        self.pending.insert(e.key(), Some(e));
    }

    fn delete(&mut self, key: String) {
        self.pending.insert(key, None);
    }

    /// Writes what changed since the last commit, commits, and makes it readable.
    pub fn commit(&mut self) -> Result<()> {
        self.begin_commit()?;
        self.wait()
    }

    /// Hands what changed since the last commit to the committing thread, which
    /// commits it while the indexer goes on (after the commit in flight, if any).
    pub fn begin_commit(&mut self) -> Result<()> {
        if let Err(e) = self.wait() {
            tracing::error!(error = %e.log_message(), "committing the suggestions");
        }
        let entries = Arc::new(std::mem::take(&mut self.pending));
        let held = std::mem::replace(&mut self.committed, self.newest.clone());
        let commit = Commit {
            entries: entries.clone(),
            held,
            clear: std::mem::take(&mut self.clear),
        };
        self.in_flight = entries;
        let sent = self.committer.as_ref().map(|c| c.send(commit).is_ok());
        if sent != Some(true) {
            return Err(Error::internal(
                "the suggestions' committing thread is gone",
            ));
        }
        self.busy = true;
        Ok(())
    }

    /// Waits for the commit in flight, if any. When it failed, its entries are pending
    /// again (under the newer ones), for the next commit.
    pub fn wait(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.busy) {
            return Ok(());
        }
        let result = self.done.recv().unwrap_or_else(|_| {
            Err(Error::internal(
                "the suggestions' committing thread is gone",
            ))
        });
        if result.is_err() {
            for (key, entry) in self.in_flight.iter() {
                self.pending
                    .entry(key.clone())
                    .or_insert_with(|| entry.clone());
            }
            self.in_flight = Arc::default();
        }
        result
    }

    /// Moves a TAG or AUTHOR entry's counts: `contents` and `reads` by the deltas, the
    /// newest publication to `published_ms` if later; gone at no contents. `make` gives
    /// a new entry (with no counts) when there is none.
    fn adjust(
        &mut self,
        key: String,
        make: impl FnOnce() -> Entry,
        contents: i64,
        reads: i64,
        published_ms: i64,
    ) -> Result<()> {
        let mut e = match self.get(&key)? {
            Some(e) => e,
            None if contents > 0 => make(),
            None => return Ok(()),
        };
        e.contents = e.contents.saturating_add_signed(contents);
        e.reads = e.reads.saturating_add_signed(reads);
        e.published_ms = e.published_ms.max(published_ms);
        if e.contents == 0 {
            self.delete(key);
        } else {
            self.put(e);
        }
        Ok(())
    }

    /// Moves the TAG and AUTHOR entries of a content's title entry `t`.
    fn adjust_around(&mut self, t: &Entry, contents: i64, reads: i64) -> Result<()> {
        for tag in &t.tags {
            let make = || Entry {
                kind: Kind::Tag,
                text: tag.clone(),
                content_id: None,
                author_id: None,
                tags: Vec::new(),
                reads: 0,
                contents: 0,
                published_ms: 0,
            };
            self.adjust(tag_key(tag), make, contents, reads, t.published_ms)?;
        }
        if let Some(author) = &t.author_id {
            let make = || Entry {
                kind: Kind::Author,
                text: String::new(),
                content_id: None,
                author_id: Some(author.clone()),
                tags: Vec::new(),
                reads: 0,
                contents: 0,
                published_ms: 0,
            };
            self.adjust(author_key(author), make, contents, reads, t.published_ms)?;
        }
        Ok(())
    }

    /// A content created or edited: its TITLE entry (keeping its reads), its tags' and
    /// its author's.
    pub fn put_content(&mut self, c: SuggestedContent) -> Result<()> {
        let key = title_key(&c.id);
        let old = self.get(&key)?;
        let reads = old.as_ref().map_or(0, |o| o.reads);
        if let Some(old) = &old {
            self.adjust_around(old, -1, -(old.reads as i64))?;
        }
        let title = Entry {
            kind: Kind::Title,
            text: c.title,
            content_id: Some(c.id),
            author_id: Some(c.author_id.clone()),
            tags: c.tags.iter().map(|t| t.to_lowercase()).collect(),
            reads,
            contents: 1,
            published_ms: c.published_ms,
        };
        self.adjust_around(&title, 1, reads as i64)?;
        if let Some(name) = c.author_name {
            self.rename_author(&c.author_id, &name)?;
        }
        self.put(title);
        Ok(())
    }

    /// A content deleted: its TITLE entry goes, and its counts from its tags and author.
    pub fn delete_content(&mut self, id: &str) -> Result<()> {
        let key = title_key(id);
        if let Some(old) = self.get(&key)? {
            self.adjust_around(&old, -1, -(old.reads as i64))?;
            self.delete(key);
        }
        Ok(())
    }

    /// An author deleted: their contents' entries go (and their counts from tags), then
    /// the author's.
    pub fn delete_author(&mut self, author_id: &str) -> Result<()> {
        let mut ids: HashSet<String> = self
            .pending
            .values()
            .chain(self.in_flight.values())
            .flatten()
            .filter(|e| e.kind == Kind::Title && e.author_id.as_deref() == Some(author_id))
            .filter_map(|e| e.content_id.clone())
            .collect();
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.author_id, author_id),
            IndexRecordOption::Basic,
        );
        let found = searcher
            .search(&query, &tantivy::collector::DocSetCollector)
            .map_err(Error::internal)?;
        for address in found {
            let doc: TantivyDocument = searcher.doc(address).map_err(Error::internal)?;
            if let Some(e) = entry(self.fields, &doc)
                && e.kind == Kind::Title
                && let Some(id) = e.content_id
            {
                ids.insert(id);
            }
        }
        for id in ids {
            self.delete_content(&id)?;
        }
        self.delete(author_key(author_id));
        Ok(())
    }

    /// An author's names changed (or became known): their AUTHOR entry, if they have
    /// published, shows them.
    pub fn rename_author(&mut self, author_id: &str, name: &str) -> Result<()> {
        if let Some(mut e) = self.get(&author_key(author_id))?
            && e.text != name
        {
            e.text = name.to_owned();
            self.put(e);
        }
        Ok(())
    }

    /// Sets a content's reads (a rebuild's count), moving its tags' and author's.
    pub fn set_reads(&mut self, content_id: &str, reads: u64) -> Result<()> {
        let current = self.get(&title_key(content_id))?.map_or(reads, |t| t.reads);
        let delta =
            i64::try_from(reads).unwrap_or(i64::MAX) - i64::try_from(current).unwrap_or(i64::MAX);
        if delta != 0 {
            self.read(content_id, delta)?;
        }
        Ok(())
    }

    /// Deletes every entry, pending ones too. The caller commits at once (the index's
    /// `Clear` job), before any entry is read again.
    pub fn clear(&mut self) -> Result<()> {
        let flown = self.wait();
        self.pending.clear();
        self.in_flight = Arc::default();
        self.clear = true;
        flown
    }

    /// A content was read (`delta` 1) or a read of it went (-1).
    ///
    /// Events of different services reach search in the order their relays published
    /// them, so a read may come before its content's `content.created`: it is then kept
    /// on a placeholder TITLE entry (no text, never offered) that the content, when it
    /// comes, takes the reads from.
    pub fn read(&mut self, content_id: &str, delta: i64) -> Result<()> {
        let mut t = self.get(&title_key(content_id))?.unwrap_or_else(|| Entry {
            kind: Kind::Title,
            text: String::new(),
            content_id: Some(content_id.to_owned()),
            author_id: None,
            tags: Vec::new(),
            reads: 0,
            contents: 0,
            published_ms: 0,
        });
        t.reads = t.reads.saturating_add_signed(delta);
        self.adjust_around(&t, 0, delta)?;
        self.put(t);
        Ok(())
    }
}

/// What `suggest` answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub kind: Kind,
    pub text: String,
    pub content_id: Option<String>,
    pub author_id: Option<String>,
}

/// A suggestion not kept: the index snapshot to compute it from, and its prefix and
/// `first`.
pub struct Miss {
    searcher: tantivy::Searcher,
    key: (String, usize),
}

impl Suggestions {
    /// Keeps the answers to up to `entries` recent prefixes (0: none).
    pub fn with_answer_cache(mut self, entries: usize) -> Self {
        self.answers = Arc::new(AnswerCache::new(entries));
        self
    }

    /// Up to `first` entries with a word starting with `prefix` (already lower-cased and
    /// trimmed, not empty), most read first, ties newer first.
    pub fn suggest(&self, prefix: &str, first: usize) -> Result<Vec<Suggestion>> {
        match self.kept(prefix, first) {
            Ok(answer) => Ok(answer),
            Err(miss) => self.answer(miss),
        }
    }

    /// The answer [`Suggestions::suggest`] gives, when it is kept for the current index
    /// snapshot (nothing is read); otherwise what [`Suggestions::answer`] needs.
    pub fn kept(&self, prefix: &str, first: usize) -> std::result::Result<Vec<Suggestion>, Miss> {
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        let key = (prefix.to_owned(), first);
        match self.answers.get(&key, generation) {
            Some(answer) => Ok(answer),
            None => Err(Miss { searcher, key }),
        }
    }

    /// Computes the answer [`Suggestions::kept`] did not have, from its snapshot, and
    /// keeps it.
    pub fn answer(&self, miss: Miss) -> Result<Vec<Suggestion>> {
        let Miss { searcher, key } = miss;
        let answer = self.suggest_in(&searcher, &key.0, key.1)?;
        let generation = searcher.generation().generation_id();
        self.answers.put(key, generation, answer.clone());
        Ok(answer)
    }

    fn suggest_in(
        &self,
        searcher: &tantivy::Searcher,
        prefix: &str,
        first: usize,
    ) -> Result<Vec<Suggestion>> {
        let Some(word) = words(prefix).next() else {
            return Ok(Vec::new());
        };
        let lookup: String = word.chars().take(MAX_PREFIX).collect();
        // When the term lookup alone does not decide (a longer prefix, several words,
        // punctuation), more are read and the texts checked.
        let exact = lookup == prefix;
        let top = if exact {
            self.tops
                .best(searcher, self.fields.prefixes, &lookup, first)
                .map_err(Error::internal)?
        } else {
            self.ranked(searcher, &lookup, first * 10 + 50)?
        };
        let mut out = Vec::with_capacity(first);
        for address in top {
            if out.len() == first {
                break;
            }
            let doc: TantivyDocument = searcher.doc(address).map_err(Error::internal)?;
            let Some(e) = entry(self.fields, &doc) else {
                continue;
            };
            if e.text.is_empty() || !(exact || matches(&e.text, prefix)) {
                continue;
            }
            out.push(Suggestion {
                kind: e.kind,
                content_id: if e.kind == Kind::Title {
                    e.content_id
                } else {
                    None
                },
                author_id: if e.kind == Kind::Tag {
                    None
                } else {
                    e.author_id
                },
                text: e.text,
            });
        }
        Ok(out)
    }

    /// The `limit` best entries with the term `lookup`, every one ranked.
    fn ranked(
        &self,
        searcher: &tantivy::Searcher,
        lookup: &str,
        limit: usize,
    ) -> Result<Vec<tantivy::DocAddress>> {
        let query = TermQuery::new(
            Term::from_field_text(self.fields.prefixes, lookup),
            IndexRecordOption::Basic,
        );
        // Most read first; on a tie the newer.
        let order = TopDocs::with_limit(limit).custom_score(|segment: &tantivy::SegmentReader| {
            let ranker = crate::tops::Ranker::new(segment);
            move |doc: tantivy::DocId| ranker.rank(doc)
        });
        let top = searcher.search(&query, &order).map_err(Error::internal)?;
        Ok(top.into_iter().map(|(_, address)| address).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tops::TOP;
    use std::collections::HashMap;

    fn content(id: &str, author: &str, title: &str, tags: &[&str], at: i64) -> SuggestedContent {
        SuggestedContent {
            id: id.into(),
            author_id: author.into(),
            title: title.into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            published_ms: at,
            author_name: Some(format!("Name {author}")),
        }
    }

    fn texts(s: &Suggestions, prefix: &str) -> Vec<(Kind, String)> {
        s.suggest(prefix, 20)
            .expect("suggest")
            .into_iter()
            .map(|x| (x.kind, x.text))
            .collect()
    }

    #[test]
    fn prefixes_cover_every_word_up_to_the_limit() {
        let p = prefixes("Rust, async!");
        for want in ["r", "ru", "rus", "rust", "a", "as", "async"] {
            assert!(p.contains(want), "{want}");
        }
        assert!(!p.contains("rust,"));
        let long = prefixes(&"x".repeat(30));
        assert_eq!(long.len(), MAX_PREFIX);
        assert!(matches("The Rust Book", "rust b"));
        assert!(!matches("Trust", "rust"));
    }

    #[test]
    fn a_content_given_again_or_after_its_reads_has_one_entry_counted_once() {
        let dir = tempfile::tempdir().expect("dir");
        let ru = || {
            vec![
                (Kind::Title, "Rust again".to_owned()),
                (Kind::Title, "Rust first".to_owned()),
            ]
        };
        {
            let (s, mut w) = open(dir.path()).expect("open");
            // Reads that came before their content, committed on a placeholder.
            w.read("c2", 3).expect("read");
            w.commit().expect("commit");
            w.put_content(content("c2", "u1", "Rust again", &["lang"], 200))
                .expect("put");
            w.commit().expect("commit");
            // The same content again (its event delivered twice), and an older id.
            w.put_content(content("c2", "u1", "Rust again", &["lang"], 200))
                .expect("put");
            w.put_content(content("c1", "u1", "Rust first", &["lang"], 100))
                .expect("put");
            w.commit().expect("commit");
            assert_eq!(texts(&s, "ru"), ru(), "c2 kept its reads, each once");
        }
        // Reopened, the newest committed content is read from the index.
        let (s, mut w) = open(dir.path()).expect("reopen");
        w.put_content(content("c2", "u1", "Rust again", &["lang"], 200))
            .expect("put");
        w.commit().expect("commit");
        assert_eq!(texts(&s, "ru"), ru());
        assert_eq!(texts(&s, "la"), vec![(Kind::Tag, "lang".to_owned())]);
        // The tag counted each content once: it goes with the two.
        w.delete_content("c1").expect("delete");
        w.commit().expect("commit");
        assert_eq!(texts(&s, "la"), vec![(Kind::Tag, "lang".to_owned())]);
        w.delete_content("c2").expect("delete");
        w.commit().expect("commit");
        assert!(texts(&s, "ru").is_empty());
        assert!(texts(&s, "la").is_empty());
    }

    #[test]
    fn entries_follow_contents_reads_and_deletions() {
        let dir = tempfile::tempdir().expect("dir");
        let (s, mut w) = open(dir.path()).expect("open");
        w.put_content(content("c1", "u1", "Rust in action", &["lang"], 100))
            .expect("put");
        w.put_content(content("c2", "u2", "Rusty nails", &["diy"], 200))
            .expect("put");
        // Read before any commit: the pending entries carry it.
        w.read("c1", 1).expect("read");
        w.read("c1", 1).expect("read");
        w.commit().expect("commit");
        // c1 has reads, so it comes first although c2 is newer; so does its author.
        assert_eq!(
            texts(&s, "ru"),
            vec![
                (Kind::Title, "Rust in action".to_owned()),
                (Kind::Title, "Rusty nails".to_owned()),
            ]
        );
        assert_eq!(texts(&s, "la"), vec![(Kind::Tag, "lang".to_owned())]);
        assert_eq!(
            texts(&s, "name"),
            vec![
                (Kind::Author, "Name u1".to_owned()),
                (Kind::Author, "Name u2".to_owned()),
            ]
        );
        w.read("c1", -2).expect("unread");
        w.commit().expect("commit");
        assert_eq!(
            texts(&s, "name"),
            vec![
                (Kind::Author, "Name u2".to_owned()),
                (Kind::Author, "Name u1".to_owned()),
            ],
            "without reads the newer comes first"
        );
        w.read("c1", 2).expect("read again");
        // An edit keeps the reads and moves the tags.
        w.put_content(content("c1", "u1", "Rust in action", &["systems"], 100))
            .expect("edit");
        w.commit().expect("commit");
        assert_eq!(
            texts(&s, "rust"),
            vec![
                (Kind::Title, "Rust in action".to_owned()),
                (Kind::Title, "Rusty nails".to_owned()),
            ]
        );
        assert_eq!(texts(&s, "sys"), vec![(Kind::Tag, "systems".to_owned())]);
        assert!(
            texts(&s, "la").is_empty(),
            "the tag went with its last content"
        );
        // Deleting the author takes their contents and the tags only they had.
        w.delete_author("u1").expect("delete author");
        w.commit().expect("commit");
        assert_eq!(
            texts(&s, "r"),
            vec![(Kind::Title, "Rusty nails".to_owned())]
        );
        assert!(texts(&s, "sys").is_empty());
        w.delete_content("c2").expect("delete");
        w.commit().expect("commit");
        assert!(texts(&s, "n").is_empty(), "{:?}", texts(&s, "n"));
    }

    #[test]
    fn a_commit_in_flight_is_read_before_the_index() {
        let dir = tempfile::tempdir().expect("dir");
        let (go, held) = std::sync::mpsc::channel();
        let (s, mut w) = open_held(dir.path(), Some(held)).expect("open");
        w.put_content(content("c1", "u1", "Rust in action", &["lang"], 100))
            .expect("put");
        w.put_content(content("c2", "u2", "Rusty nails", &["lang"], 200))
            .expect("put");
        w.read("c1", 2).expect("read");
        w.begin_commit().expect("begin");
        // Held: nothing is readable yet, and what follows reads the commit in flight.
        assert!(texts(&s, "ru").is_empty());
        w.put_content(content("c1", "u1", "Rust in action", &["systems"], 100))
            .expect("edit");
        w.delete_author("u2").expect("delete author");
        w.read("c1", 1).expect("read");
        go.send(()).expect("let the first commit go");
        go.send(()).expect("let the second commit go");
        w.commit().expect("commit");
        assert_eq!(
            texts(&s, "ru"),
            vec![(Kind::Title, "Rust in action".to_owned())],
            "the author's content in flight went with them"
        );
        assert!(texts(&s, "la").is_empty(), "the edit moved the tag away");
        // c1 kept the two reads in flight (three in all): a newer title with two comes
        // after it.
        w.put_content(content("c3", "u1", "Rust again", &[], 300))
            .expect("put");
        w.read("c3", 2).expect("read");
        go.send(()).expect("let the third commit go");
        w.commit().expect("commit");
        assert_eq!(
            texts(&s, "rust"),
            vec![
                (Kind::Title, "Rust in action".to_owned()),
                (Kind::Title, "Rust again".to_owned()),
            ]
        );
    }

    #[test]
    fn a_read_before_its_content_is_kept_for_it() {
        let dir = tempfile::tempdir().expect("dir");
        let (s, mut w) = open(dir.path()).expect("open");
        w.read("late", 1).expect("read");
        w.commit().expect("commit");
        assert!(texts(&s, "l").is_empty(), "a placeholder is never offered");
        w.put_content(content("early", "u1", "Lemurs", &[], 20))
            .expect("put");
        w.put_content(content("late", "u1", "Lions", &["cats"], 10))
            .expect("put");
        w.commit().expect("commit");
        assert_eq!(
            texts(&s, "l"),
            vec![
                (Kind::Title, "Lions".to_owned()),
                (Kind::Title, "Lemurs".to_owned()),
            ],
            "the older title has the read"
        );
        w.delete_content("late").expect("delete");
        w.commit().expect("commit");
        assert_eq!(texts(&s, "l"), vec![(Kind::Title, "Lemurs".to_owned())]);
    }

    #[test]
    fn ties_go_to_the_newer_and_long_prefixes_are_checked() {
        let dir = tempfile::tempdir().expect("dir");
        let (s, mut w) = open(dir.path()).expect("open");
        let long = "internationalisation matters";
        w.put_content(content("old", "u1", long, &[], 10))
            .expect("put");
        w.put_content(content("new", "u1", "internationalisations", &[], 20))
            .expect("put");
        w.commit().expect("commit");
        let got: Vec<String> = s
            .suggest("internationalisation", 5)
            .expect("suggest")
            .into_iter()
            .filter(|x| x.kind == Kind::Title)
            .map(|x| x.text)
            .collect();
        assert_eq!(got, vec!["internationalisations", long]);
        let got: Vec<String> = s
            .suggest("internationalisation m", 5)
            .expect("suggest")
            .into_iter()
            .map(|x| x.text)
            .collect();
        assert_eq!(got, vec![long]);
    }

    #[test]
    fn the_kept_best_entries_answer_as_ranking_every_entry_does() {
        let dir = tempfile::tempdir().expect("dir");
        let (s, mut w) = open(dir.path()).expect("open");
        let s = s.with_answer_cache(0);
        let vocabulary = [
            "alpha", "amber", "apple", "beta", "bravo", "berry", "cedar", "coral",
        ];
        let mut seed = 7u64;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        // id -> (title, reads, published)
        let mut model: HashMap<String, (String, u64, i64)> = HashMap::new();
        for batch in 0..4 {
            for i in 0..300 {
                let id = format!("c{batch}-{i}");
                let title: Vec<&str> = (0..3).map(|_| vocabulary[next(8) as usize]).collect();
                let title = title.join(" ");
                let published = batch * 1_000 + i;
                let mut c = content(&id, "u1", &title, &[], published);
                c.author_name = None;
                w.put_content(c).expect("put");
                let reads = next(5);
                if reads > 0 {
                    w.read(&id, reads as i64).expect("read");
                }
                model.insert(id, (title, reads, published));
            }
            w.commit().expect("commit");
        }
        let check = |model: &HashMap<String, (String, u64, i64)>, when: &str| {
            for prefix in ["a", "al", "b", "be", "c", "co", "alpha", "x"] {
                for first in [1, 8, 20] {
                    let mut want: Vec<(&String, &(String, u64, i64))> = model
                        .iter()
                        .filter(|(_, (title, _, _))| {
                            title.split(' ').any(|w| w.starts_with(prefix))
                        })
                        .collect();
                    want.sort_by_key(|(_, (_, reads, published))| {
                        (std::cmp::Reverse(*reads), std::cmp::Reverse(*published))
                    });
                    let want: Vec<String> = want
                        .into_iter()
                        .take(first)
                        .map(|(id, _)| id.clone())
                        .collect();
                    let got: Vec<String> = s
                        .suggest(prefix, first)
                        .expect("suggest")
                        .into_iter()
                        .filter_map(|x| x.content_id)
                        .collect();
                    assert_eq!(got, want, "{when}: {prefix:?}, first {first}");
                }
            }
        };
        check(&model, "before any list is written");
        s.tops
            .refresh(&s.reader.searcher(), s.fields.prefixes)
            .expect("refresh");
        assert!(
            s.tops.lists() > 0,
            "lists are written for the frequent prefixes"
        );
        check(&model, "from the lists");
        // Deleting the best entries with "a" uses up the lists in every segment: those
        // segments are ranked afresh, and their lists written again.
        let mut best_a: Vec<(String, u64, i64)> = model
            .iter()
            .filter(|(_, (title, _, _))| title.contains('a'))
            .map(|(id, (_, r, p))| (id.clone(), *r, *p))
            .collect();
        best_a.sort_by_key(|(_, r, p)| (std::cmp::Reverse(*r), std::cmp::Reverse(*p)));
        for (id, _, _) in best_a.iter().take(4 * TOP) {
            w.delete_content(id).expect("delete");
            model.remove(id);
        }
        w.commit().expect("commit");
        check(&model, "lists used up");
        s.tops
            .refresh(&s.reader.searcher(), s.fields.prefixes)
            .expect("refresh");
        check(&model, "lists written again");
        // Reads move entries into a new segment, above the listed ones.
        let ids: Vec<String> = model.keys().take(50).cloned().collect();
        for id in ids {
            w.read(&id, 10).expect("read");
            if let Some(m) = model.get_mut(&id) {
                m.1 += 10;
            }
        }
        w.commit().expect("commit");
        check(&model, "after reads");
    }
}
