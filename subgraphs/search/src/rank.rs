//! How a search is answered: the contents that match counted, the best of them ranked
//! (tantivy supplies the postings and BM25; the plan is ours), and the cache of recent
//! answers.
//!
//! A query is a list of [`Part`]s, every one of which must match. In each segment:
//!
//! 1. **Count.** Each part's documents become a bit set (postings decoded block by block,
//!    no scoring); their intersection, less deleted documents, is the matching set, and
//!    its size is the part of `totalCount` this segment holds. A word is one postings
//!    list of the `body` field, without positions.
//! 2. **Tiers.** A part found in the title adds [`TITLE_TIER`]: a content matching every
//!    part in its title ranks above one that does not, whatever BM25 says. The contents
//!    of the top tier are ranked first; lower tiers only while they can still enter the
//!    page.
//! 3. **Top k, pruned.** Within a tier a content's score is the sum of its parts' BM25
//!    (title ×2, body ×1, a prefix in the body +0.5). Before anything is read for a
//!    content, an upper bound of its score is checked against the worst of the page so
//!    far, which skips whole postings blocks of the first part's title (tantivy keeps
//!    each block's best BM25) and most single contents: for a word in half the titles
//!    only the blocks that hold its best-scoring titles are scored. A score equal to the
//!    page's worst is still scored, since newer wins a tie: the order is the same as
//!    scoring every match.
//!
//! Segments run one after the other into one page, so a later segment starts from the
//! bar the earlier ones set.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::Mutex;

use crate::dense::{Dense, Sets};
use tantivy::columnar::Column;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{Bm25Weight, EnableScoring, Query, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Searcher, SegmentReader, TERMINATED, Term};

/// What a part found in the title adds to a content's score.
pub const TITLE_TIER: f64 = 1_000.0;
/// What a word starting with the query's trailing prefix adds, outside the title.
pub const PREFIX_SCORE: f64 = 0.5;
/// The title's BM25 counts this many times the body's.
pub const TITLE_BOOST: f32 = 2.0;

/// One clause of a query, as the ranking runs it.
pub enum Part {
    /// A word (its stem): BM25 in the body and, found in the title too, the tier and
    /// the title's BM25. `prefix`: also the words that start with it (the tier in the
    /// title, [`PREFIX_SCORE`] in the body).
    Scored {
        title: Term,
        body: Term,
        prefix: Option<Prefix>,
        early: Option<Early>,
    },
    /// The contents a tantivy query matches (a tag, an author's, a phrase); the tier
    /// when `title` matches them too.
    Filter {
        docs: Box<dyn Query>,
        title: Option<Box<dyn Query>>,
    },
}

/// What matches a pair in the contents indexed before pairs were (see `pairs.rs`): in
/// the body (`docs`) and in the title. They score the tier only.
pub struct Early {
    pub docs: Box<dyn Query>,
    pub title: Box<dyn Query>,
}

/// The query's trailing word as a prefix: of the title's whole words (`title`, not
/// stemmed) and of the body's stems (`body`).
pub struct Prefix {
    pub text: String,
    pub title: Field,
    pub body: Field,
}

/// A hit, ordered best first by [`Hit::rank`].
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub score: f64,
    pub published: i64,
    pub address: DocAddress,
}

impl Hit {
    /// Higher score, then newer, then the lower address (a total, stable order).
    fn rank(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.published.cmp(&other.published))
            .then(other.address.cmp(&self.address))
    }
}

/// Ordered worst first, so that a `BinaryHeap` of them pops the worst.
struct Worst(Hit);

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.rank(&self.0)
    }
}

/// The best `keep` hits so far.
struct Page {
    keep: usize,
    heap: BinaryHeap<Worst>,
    /// Whether bounds may skip contents (off: every match is scored, for tests).
    prune: bool,
}

impl Page {
    /// The score a content must reach (a tie may still enter, by being newer), or
    /// `None` while the page has room.
    fn bar(&self) -> Option<f64> {
        if self.heap.len() < self.keep {
            return None;
        }
        self.heap.peek().map(|w| w.0.score)
    }

    /// Whether a content scoring at most `bound` cannot enter.
    fn excludes(&self, bound: f64) -> bool {
        self.keep == 0 || (self.prune && self.bar().is_some_and(|bar| bound < bar))
    }

    fn offer(&mut self, score: f64, address: DocAddress, published: &Column<i64>) {
        if self.excludes(score) {
            return;
        }
        let hit = Hit {
            score,
            published: published.first(address.doc_id).unwrap_or(0),
            address,
        };
        if self.heap.len() < self.keep {
            self.heap.push(Worst(hit));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && hit.rank(&worst.0) == Ordering::Greater
        {
            *worst = Worst(hit);
        }
    }
}

/// A set of a segment's documents, 64 to a word.
#[derive(Clone, Default)]
pub struct Bits(Vec<u64>);

impl Bits {
    pub fn empty(max_doc: DocId) -> Bits {
        Bits(vec![0; (max_doc as usize).div_ceil(64)])
    }

    #[inline]
    pub fn insert(&mut self, doc: DocId) {
        self.0[(doc / 64) as usize] |= 1 << (doc % 64);
    }

    #[inline]
    pub fn contains(&self, doc: DocId) -> bool {
        self.0
            .get((doc / 64) as usize)
            .is_some_and(|w| w & (1 << (doc % 64)) != 0)
    }

    /// How many documents the set holds.
    pub fn count(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    pub fn and(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    pub fn or(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    pub fn and_not(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= !b;
        }
    }

    /// The first document of the set at or after `from` ([`TERMINATED`] when none).
    #[inline]
    pub fn next(&self, from: DocId) -> DocId {
        let mut i = (from / 64) as usize;
        let Some(&first) = self.0.get(i) else {
            return TERMINATED;
        };
        let mut word = first & (u64::MAX << (from % 64));
        loop {
            if word != 0 {
                return i as DocId * 64 + word.trailing_zeros();
            }
            i += 1;
            match self.0.get(i) {
                Some(&w) => word = w,
                None => return TERMINATED,
            }
        }
    }

    /// Adds every document of a postings list.
    pub(crate) fn add_postings(&mut self, mut postings: BlockSegmentPostings) {
        loop {
            let block = postings.docs();
            if block.is_empty() {
                return;
            }
            for &doc in block {
                self.insert(doc);
            }
            postings.advance();
        }
    }

    /// Adds every document a tantivy weight matches.
    fn add_matches(&mut self, weight: &dyn Weight, reader: &SegmentReader) -> tantivy::Result<()> {
        let mut scorer = weight.scorer(reader, 1.0)?;
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            self.insert(doc);
            doc = scorer.advance();
        }
        Ok(())
    }

    /// Adds the documents with a word of `field` that starts with `prefix`, read from
    /// the term dictionary's range (every such term sorts at or after the prefix and
    /// before it with its last byte raised; UTF-8 has no 0xFF byte).
    fn add_prefix(
        &mut self,
        reader: &SegmentReader,
        sets: &Sets,
        field: Field,
        prefix: &str,
    ) -> tantivy::Result<()> {
        let start = prefix.as_bytes();
        let mut end = start.to_vec();
        match end.last_mut() {
            Some(last) if *last < u8::MAX => *last += 1,
            _ => return Ok(()),
        }
        let inverted = reader.inverted_index(field)?;
        let mut terms = inverted.terms().range().ge(start).lt(&end).into_stream()?;
        while terms.advance() {
            match sets.get(field, terms.key()) {
                Some(set) => self.or(set),
                None => {
                    self.add_postings(inverted.read_block_postings_from_terminfo(
                        terms.value(),
                        IndexRecordOption::Basic,
                    )?)
                }
            }
        }
        Ok(())
    }

    /// Adds the documents that hold `term` (from its bit set when the segment keeps
    /// one).
    fn add_term(
        &mut self,
        reader: &SegmentReader,
        sets: &Sets,
        term: &Term,
    ) -> tantivy::Result<()> {
        if let Some(set) = sets.get(term.field(), term.serialized_value_bytes()) {
            self.or(set);
            return Ok(());
        }
        let postings = reader
            .inverted_index(term.field())?
            .read_block_postings(term, IndexRecordOption::Basic)?;
        if let Some(p) = postings {
            self.add_postings(p);
        }
        Ok(())
    }
}

/// A term's postings walked in document order, scored by BM25.
struct Cursor {
    postings: BlockSegmentPostings,
    norms: FieldNormReader,
    weight: Bm25Weight,
    /// Where in the loaded block the last lookup stopped.
    at: usize,
    /// Nothing is left at or after the last document asked for.
    done: bool,
    /// The best BM25 of the loaded block, once computed.
    best: Option<f32>,
}

impl Cursor {
    fn open(
        reader: &SegmentReader,
        term: &Term,
        weight: &Bm25Weight,
    ) -> tantivy::Result<Option<Cursor>> {
        let inverted = reader.inverted_index(term.field())?;
        let Some(postings) = inverted.read_block_postings(term, IndexRecordOption::WithFreqs)?
        else {
            return Ok(None);
        };
        Ok(Some(Cursor {
            postings,
            norms: reader.get_fieldnorms_reader(term.field())?,
            weight: weight.clone(),
            at: 0,
            done: false,
            best: None,
        }))
    }

    /// Loads the block that may hold `doc` (documents only come in increasing order);
    /// false once the list has nothing at or after it.
    fn reach(&mut self, doc: DocId) -> bool {
        if self.done {
            return false;
        }
        match self.postings.docs().last() {
            Some(&last) if last >= doc => true,
            _ => {
                self.postings.seek(doc);
                self.at = 0;
                self.best = None;
                self.done = self.postings.docs().last().is_none_or(|&last| last < doc);
                !self.done
            }
        }
    }

    /// The BM25 of `doc` (0 when the term is not in it).
    fn score(&mut self, doc: DocId) -> f32 {
        if !self.reach(doc) {
            return 0.0;
        }
        let docs = self.postings.docs();
        while docs[self.at] < doc {
            self.at += 1;
        }
        if docs[self.at] != doc {
            return 0.0;
        }
        let freq = self.postings.freq(self.at);
        self.weight.score(self.norms.fieldnorm_id(doc), freq)
    }

    /// For the block that may hold `doc`: its last document and its best BM25 (`None`
    /// when nothing is at or after `doc`). The best is computed from the block's own
    /// frequencies and lengths: the one tantivy keeps was chosen with the segment's
    /// average length, and with several segments it can fall short.
    fn block(&mut self, doc: DocId) -> Option<(DocId, f32)> {
        if !self.reach(doc) {
            return None;
        }
        let docs = self.postings.docs();
        let last = *docs.last()?;
        let best = match self.best {
            Some(best) => best,
            None => {
                let freqs = self.postings.freqs();
                let best = docs
                    .iter()
                    .zip(freqs)
                    .map(|(&d, &tf)| self.weight.score(self.norms.fieldnorm_id(d), tf))
                    .fold(0.0f32, f32::max);
                self.best = Some(best);
                best
            }
        };
        Some((last, best))
    }
}

/// A part, ready for the segments: BM25 weights over the whole index, tantivy weights.
enum Prepared<'a> {
    Scored {
        title: &'a Term,
        body: &'a Term,
        prefix: Option<&'a Prefix>,
        title_weight: Box<Bm25Weight>,
        body_weight: Box<Bm25Weight>,
        early: Option<(Box<dyn Weight>, Box<dyn Weight>)>,
    },
    Filter {
        docs: Box<dyn Weight>,
        title: Option<Box<dyn Weight>>,
    },
}

impl Prepared<'_> {
    /// The most this part adds to a content's score beyond the tier.
    fn max_score(&self) -> f64 {
        match self {
            Prepared::Scored {
                prefix,
                title_weight,
                body_weight,
                ..
            } => {
                f64::from(title_weight.max_score())
                    + f64::from(body_weight.max_score())
                    + if prefix.is_some() { PREFIX_SCORE } else { 0.0 }
            }
            Prepared::Filter { .. } => 0.0,
        }
    }
}

/// A part within one segment.
struct Live {
    /// The contents it matches.
    docs: Bits,
    /// Those found in the title (`None`: the part has no tier).
    tier: Option<Bits>,
    /// Those with a body word starting with the prefix.
    prefixed: Option<Bits>,
    title: Option<Cursor>,
    body: Option<Cursor>,
    /// The most it adds beyond the tier.
    max: f64,
}

impl Live {
    /// The score of `doc` for this part, beyond the tier, without the body's BM25.
    fn partial(&mut self, doc: DocId) -> f64 {
        let mut score = 0.0;
        if let Some(title) = &mut self.title {
            score += f64::from(title.score(doc));
        }
        if self.prefixed.as_ref().is_some_and(|p| p.contains(doc)) {
            score += PREFIX_SCORE;
        }
        score
    }

    /// The most the body's BM25 adds.
    fn body_max(&self) -> f64 {
        self.body
            .as_ref()
            .map_or(0.0, |b| f64::from(b.weight.max_score()))
    }
}

/// The best `keep` contents that match every part (best first: see [`Hit::rank`]), and
/// how many match in all. The publication time is the i64 fast field `published`.
pub fn search(
    searcher: &Searcher,
    dense: &Dense,
    parts: &[Part],
    keep: usize,
    published: &str,
) -> tantivy::Result<(Vec<Hit>, u64)> {
    search_pruned(searcher, dense, parts, keep, published, true)
}

/// [`search`], with the bounds' pruning on or off (every match scored: the same answer).
pub(crate) fn search_pruned(
    searcher: &Searcher,
    dense: &Dense,
    parts: &[Part],
    keep: usize,
    published: &str,
    prune: bool,
) -> tantivy::Result<(Vec<Hit>, u64)> {
    if parts.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let scoring = EnableScoring::disabled_from_searcher(searcher);
    let mut prepared = Vec::with_capacity(parts.len());
    for part in parts {
        prepared.push(match part {
            Part::Scored {
                title,
                body,
                prefix,
                early,
            } => Prepared::Scored {
                early: match early {
                    Some(e) => Some((e.docs.weight(scoring)?, e.title.weight(scoring)?)),
                    None => None,
                },
                title,
                body,
                prefix: prefix.as_ref(),
                title_weight: Box::new(
                    Bm25Weight::for_terms(searcher, std::slice::from_ref(title))?
                        .boost_by(TITLE_BOOST),
                ),
                body_weight: Box::new(Bm25Weight::for_terms(searcher, std::slice::from_ref(body))?),
            },
            Part::Filter { docs, title } => Prepared::Filter {
                docs: docs.weight(scoring)?,
                title: title.as_ref().map(|t| t.weight(scoring)).transpose()?,
            },
        });
    }
    let mut page = Page {
        keep,
        heap: BinaryHeap::with_capacity(keep + 1),
        prune,
    };
    let mut total = 0;
    // The biggest segments first: they set the bar the others are pruned against.
    let mut segments: Vec<(u32, &SegmentReader)> = searcher
        .segment_readers()
        .iter()
        .enumerate()
        .map(|(i, r)| (i as u32, r))
        .collect();
    segments.sort_by_key(|(_, r)| std::cmp::Reverse(r.num_docs()));
    for (ord, reader) in segments {
        let sets = dense.sets(reader);
        total += segment(&prepared, ord, reader, &sets, &mut page, published)?;
    }
    let mut hits: Vec<Hit> = page.heap.into_iter().map(|w| w.0).collect();
    hits.sort_unstable_by(|a, b| b.rank(a));
    Ok((hits, total))
}

/// Counts one segment's matches, and offers the ones that can enter to the page.
fn segment(
    prepared: &[Prepared<'_>],
    ord: u32,
    reader: &SegmentReader,
    sets: &Sets,
    page: &mut Page,
    published: &str,
) -> tantivy::Result<u64> {
    let max_doc = reader.max_doc();
    let mut live = Vec::with_capacity(prepared.len());
    for part in prepared {
        live.push(open(part, reader, sets)?);
    }
    // A part's own set is not needed once intersected.
    let mut matched = std::mem::take(&mut live[0].docs);
    for part in &live[1..] {
        matched.and(&part.docs);
    }
    if let Some(live) = sets.alive(reader.num_deleted_docs()) {
        matched.and(live);
    } else if let Some(alive) = reader.alive_bitset() {
        let mut doc = matched.next(0);
        while doc != TERMINATED {
            if !alive.is_alive(doc) {
                matched.0[(doc / 64) as usize] &= !(1 << (doc % 64));
            }
            doc = matched.next(doc + 1);
        }
    }
    let count = matched.count();
    if count == 0 || page.keep == 0 {
        return Ok(count);
    }
    let published = reader
        .fast_fields()
        .i64(published)
        .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))?;
    let tiered: Vec<usize> = (0..live.len())
        .filter(|&i| live[i].tier.is_some())
        .collect();
    let tiers = tiered.len() as f64;
    let max_sum: f64 = live.iter().map(|p| p.max).sum();
    // The top tier: every tiered part in the title.
    let mut top = matched.clone();
    for &i in &tiered {
        if let Some(t) = &live[i].tier {
            top.and(t);
        }
    }
    let mut rank = Ranking {
        live: &mut live,
        page,
        published: &published,
        ord,
    };
    rank.run(&top, Some(tiers), true);
    if tiered.is_empty() {
        return Ok(count);
    }
    // Below it, while a content there could still enter: those in some title (with a
    // single tiered part, all of them are in the top tier), then the rest.
    let mut rest = matched;
    rest.and_not(&top);
    if tiers >= 2.0 {
        let mut some = Bits::empty(max_doc);
        for &i in &tiered {
            if let Some(t) = &rank.live[i].tier {
                some.or(t);
            }
        }
        some.and(&rest);
        if !rank.page.excludes((tiers - 1.0) * TITLE_TIER + max_sum) {
            rank.run(&some, None, false);
        }
        rest.and_not(&some);
    }
    if !rank.page.excludes(max_sum) {
        rank.run(&rest, Some(0.0), false);
    }
    Ok(count)
}

/// A part's sets and cursors in one segment.
fn open(part: &Prepared<'_>, reader: &SegmentReader, sets: &Sets) -> tantivy::Result<Live> {
    let max_doc = reader.max_doc();
    let mut docs = Bits::empty(max_doc);
    Ok(match part {
        Prepared::Scored {
            title,
            body,
            prefix,
            title_weight,
            body_weight,
            early,
        } => {
            let mut tier = Bits::empty(max_doc);
            // A stem that starts with the prefix is among the prefix's words below.
            let covered = prefix.is_some_and(|p| {
                p.body == body.field()
                    && body
                        .value()
                        .as_str()
                        .is_some_and(|stem| stem.starts_with(&p.text))
            });
            if !covered {
                docs.add_term(reader, sets, body)?;
            }
            tier.add_term(reader, sets, title)?;
            let mut prefixed = None;
            if let Some(prefix) = prefix {
                tier.add_prefix(reader, sets, prefix.title, &prefix.text)?;
                let mut p = Bits::empty(max_doc);
                p.add_prefix(reader, sets, prefix.body, &prefix.text)?;
                docs.or(&p);
                prefixed = Some(p);
            }
            if let Some((early_docs, early_title)) = early {
                docs.add_matches(early_docs.as_ref(), reader)?;
                tier.add_matches(early_title.as_ref(), reader)?;
            }
            docs.or(&tier);
            Live {
                docs,
                tier: Some(tier),
                prefixed,
                title: Cursor::open(reader, title, title_weight)?,
                body: Cursor::open(reader, body, body_weight)?,
                max: part.max_score(),
            }
        }
        Prepared::Filter {
            docs: weight,
            title,
        } => {
            docs.add_matches(weight.as_ref(), reader)?;
            let tier = match title {
                Some(title) => {
                    let mut tier = Bits::empty(max_doc);
                    tier.add_matches(title.as_ref(), reader)?;
                    Some(tier)
                }
                None => None,
            };
            Live {
                docs,
                tier,
                prefixed: None,
                title: None,
                body: None,
                max: 0.0,
            }
        }
    })
}

/// Scores a segment's candidates into the page.
struct Ranking<'a> {
    live: &'a mut Vec<Live>,
    page: &'a mut Page,
    published: &'a Column<i64>,
    ord: u32,
}

impl Ranking<'_> {
    /// Offers the contents of `set`, all of tier `tier` (or each its own, when `None`).
    /// With `blocks`, the first scored part's title postings blocks bound the scores
    /// (every content of `set` is then in that title, or has no title BM25 in it).
    fn run(&mut self, set: &Bits, tier: Option<f64>, blocks: bool) {
        let max_sum: f64 = self.live.iter().map(|p| p.max).sum();
        let driver = if blocks {
            self.live.iter().position(|p| p.title.is_some())
        } else {
            None
        };
        // The most a content adds beyond the tier, but for the driver's title.
        let others = driver.map_or(max_sum, |d| {
            max_sum
                - self.live[d]
                    .title
                    .as_ref()
                    .map_or(0.0, |t| f64::from(t.weight.max_score()))
        });
        // The most the parts' body BM25 adds (the same for every content).
        let body_max = self.live.iter().fold(0.0, |sum, p| sum + p.body_max());
        let mut doc = set.next(0);
        while doc != TERMINATED {
            let tier_score = match tier {
                Some(t) => t * TITLE_TIER,
                None => {
                    self.live
                        .iter()
                        .filter(|p| p.tier.as_ref().is_some_and(|t| t.contains(doc)))
                        .count() as f64
                        * TITLE_TIER
                }
            };
            if let Some(d) = driver {
                let block = self.live[d].title.as_mut().and_then(|t| t.block(doc));
                match block {
                    Some((last, best)) => {
                        if self.page.excludes(tier_score + f64::from(best) + others) {
                            doc = set.next(last + 1);
                            continue;
                        }
                    }
                    None => {
                        if self.page.excludes(tier_score + others) {
                            return;
                        }
                    }
                }
            }
            if self.page.excludes(tier_score + max_sum) {
                if tier.is_some() && driver.is_none() {
                    // Every content left has this same bound.
                    return;
                }
                doc = set.next(doc + 1);
                continue;
            }
            let mut score = tier_score;
            for part in self.live.iter_mut() {
                score += part.partial(doc);
            }
            if !self.page.excludes(score + body_max) {
                for part in self.live.iter_mut() {
                    if let Some(body) = &mut part.body {
                        score += f64::from(body.score(doc));
                    }
                }
                self.page
                    .offer(score, DocAddress::new(self.ord, doc), self.published);
            }
            doc = set.next(doc + 1);
        }
    }
}

/// Answers of recent queries (least recently used out first), each kept with the
/// searcher generation that computed it: an answer of an older generation is a miss,
/// so what a commit changed is never served stale.
pub struct AnswerCache<K: Hash + Eq, V: Clone> {
    entries: Option<Mutex<lru::LruCache<K, (u64, V)>>>,
}

impl<K: Hash + Eq, V: Clone> AnswerCache<K, V> {
    /// Holds up to `capacity` answers; 0 keeps none.
    pub fn new(capacity: usize) -> Self {
        AnswerCache {
            entries: NonZeroUsize::new(capacity).map(|n| Mutex::new(lru::LruCache::new(n))),
        }
    }

    /// The answer to `key` computed at `generation`, if it is kept.
    pub fn get(&self, key: &K, generation: u64) -> Option<V> {
        let mut entries = self.entries.as_ref()?.lock().ok()?;
        match entries.get(key) {
            Some((g, v)) if *g == generation => Some(v.clone()),
            _ => None,
        }
    }

    /// Keeps `value` as the answer to `key` at `generation` (unless a newer one is).
    pub fn put(&self, key: K, generation: u64, value: V) {
        let Some(entries) = &self.entries else {
            return;
        };
        let Ok(mut entries) = entries.lock() else {
            return;
        };
        if let Some((g, _)) = entries.peek(&key)
            && *g > generation
        {
            return;
        }
        entries.put(key, (generation, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_serves_its_generation_only_and_the_oldest_goes_first() {
        let cache: AnswerCache<&str, u32> = AnswerCache::new(2);
        cache.put("a", 1, 10);
        assert_eq!(cache.get(&"a", 1), Some(10));
        assert_eq!(cache.get(&"a", 2), None, "a commit retires it");
        cache.put("a", 2, 20);
        cache.put("a", 1, 11);
        assert_eq!(
            cache.get(&"a", 2),
            Some(20),
            "an older answer does not replace it"
        );
        cache.put("b", 2, 30);
        cache.put("c", 2, 40);
        assert_eq!(cache.get(&"a", 2), None, "least recently used, dropped");
        assert_eq!(cache.get(&"c", 2), Some(40));
        let off: AnswerCache<&str, u32> = AnswerCache::new(0);
        off.put("a", 1, 10);
        assert_eq!(off.get(&"a", 1), None);
    }
}
