//! The query parts tantivy does not have, and the cache of recent answers.
//!
//! - [`Ranked`]: the top hits by score, newer first on a tie. It reads a hit's
//!   publication time only when its score could enter the page, where tantivy's
//!   `tweak_score` reads it for every match (a sixth of a one-word query's time at
//!   1,000,000 contents).
//! - [`Tiered`]: one scorer for a title clause's `tier + boost × BM25`, which took two
//!   (a constant and a boosted copy, each decoding the same postings and positions).
//! - [`PrefixQuery`]: the words of several fields that start with a prefix, as one set
//!   of documents read straight from the term dictionaries' range, instead of a regex
//!   automaton and a document set per field.
//! - [`AnswerCache`]: answers of recent queries, each valid for the index snapshot
//!   (tantivy's searcher generation) that computed it, so a commit retires them all.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::Mutex;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{
    BitSetDocSet, ConstScorer, EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TantivyError};

/// A hit as [`Ranked`] orders it: better is greater.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub score: Score,
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

/// The best `keep` hits (best first), by score, newer first on a tie; the publication
/// time comes from the i64 fast field named `published`.
pub struct Ranked {
    pub keep: usize,
    pub published: &'static str,
}

impl Collector for Ranked {
    type Fruit = Vec<Hit>;
    type Child = SegmentRanked;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentRanked> {
        let published = reader
            .fast_fields()
            .i64(self.published)
            .map_err(|e| TantivyError::InternalError(e.to_string()))?;
        Ok(SegmentRanked {
            segment,
            keep: self.keep,
            published,
            heap: BinaryHeap::with_capacity(self.keep + 1),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Hit>>) -> tantivy::Result<Vec<Hit>> {
        let mut all: Vec<Hit> = fruits.into_iter().flatten().collect();
        all.sort_unstable_by(|a, b| b.rank(a));
        all.truncate(self.keep);
        Ok(all)
    }
}

/// [`Ranked`] within one segment.
pub struct SegmentRanked {
    segment: SegmentOrdinal,
    keep: usize,
    published: Column<i64>,
    heap: BinaryHeap<Worst>,
}

impl SegmentCollector for SegmentRanked {
    type Fruit = Vec<Hit>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if self.keep == 0 {
            return;
        }
        if self.heap.len() == self.keep
            && let Some(worst) = self.heap.peek()
            && score < worst.0.score
        {
            // Below the page whatever its publication time: not read.
            return;
        }
        let hit = Hit {
            score,
            published: self.published.first(doc).unwrap_or(0),
            address: DocAddress::new(self.segment, doc),
        };
        if self.heap.len() < self.keep {
            self.heap.push(Worst(hit));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && hit.rank(&worst.0) == Ordering::Greater
        {
            *worst = Worst(hit);
        }
    }

    fn harvest(self) -> Vec<Hit> {
        self.heap.into_iter().map(|w| w.0).collect()
    }
}

/// `tier + boost × inner`, for a document `inner` matches (its BM25 score, say).
#[derive(Debug)]
pub struct Tiered {
    inner: Box<dyn Query>,
    tier: Score,
    boost: Score,
}

impl Tiered {
    pub fn new(inner: Box<dyn Query>, tier: Score, boost: Score) -> Tiered {
        Tiered { inner, tier, boost }
    }
}

impl Clone for Tiered {
    fn clone(&self) -> Self {
        Tiered {
            inner: self.inner.box_clone(),
            tier: self.tier,
            boost: self.boost,
        }
    }
}

impl Query for Tiered {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(TieredWeight {
            inner: self.inner.weight(scoring)?,
            tier: self.tier,
            boost: self.boost,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a tantivy::Term, bool)) {
        self.inner.query_terms(visitor);
    }
}

struct TieredWeight {
    inner: Box<dyn Weight>,
    tier: Score,
    boost: Score,
}

impl Weight for TieredWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(TieredScorer {
            inner: self.inner.scorer(reader, boost * self.boost)?,
            tier: self.tier * boost,
        }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        let mut explanation = Explanation::new("tier + boost × score", scorer.score());
        explanation.add_detail(self.inner.explain(reader, doc)?);
        Ok(explanation)
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        self.inner.count(reader)
    }
}

struct TieredScorer {
    inner: Box<dyn Scorer>,
    tier: Score,
}

impl DocSet for TieredScorer {
    fn advance(&mut self) -> DocId {
        self.inner.advance()
    }
    fn seek(&mut self, target: DocId) -> DocId {
        self.inner.seek(target)
    }
    fn doc(&self) -> DocId {
        self.inner.doc()
    }
    fn size_hint(&self) -> u32 {
        self.inner.size_hint()
    }
}

impl Scorer for TieredScorer {
    fn score(&mut self) -> Score {
        self.tier + self.inner.score()
    }
}

/// The documents with a word that starts with `prefix` in any of `fields`, each scoring
/// `score`.
#[derive(Debug, Clone)]
pub struct PrefixQuery {
    fields: Vec<Field>,
    prefix: Vec<u8>,
    score: Score,
}

impl PrefixQuery {
    /// `prefix` must not be empty.
    pub fn new(fields: Vec<Field>, prefix: &str, score: Score) -> PrefixQuery {
        PrefixQuery {
            fields,
            prefix: prefix.as_bytes().to_vec(),
            score,
        }
    }
}

impl Query for PrefixQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for PrefixQuery {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        // Every term that starts with the prefix sorts at or after it and before the
        // prefix with its last byte raised (UTF-8 never has a 0xFF byte).
        let mut end = self.prefix.clone();
        match end.last_mut() {
            Some(last) if *last < u8::MAX => *last += 1,
            _ => return Ok(Box::new(EmptyScorer)),
        }
        let mut docs: Option<tantivy_common::BitSet> = None;
        for &field in &self.fields {
            let inverted = reader.inverted_index(field)?;
            let mut terms = inverted
                .terms()
                .range()
                .ge(&self.prefix)
                .lt(&end)
                .into_stream()?;
            while terms.advance() {
                let set = docs.get_or_insert_with(|| {
                    tantivy_common::BitSet::with_max_value(reader.max_doc())
                });
                let mut postings = inverted
                    .read_block_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)?;
                loop {
                    let block = postings.docs();
                    if block.is_empty() {
                        break;
                    }
                    for &doc in block {
                        set.insert(doc);
                    }
                    postings.advance();
                }
            }
        }
        Ok(match docs {
            Some(set) => Box::new(ConstScorer::new(
                BitSetDocSet::from(set),
                self.score * boost,
            )),
            None => Box::new(EmptyScorer),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        Ok(Explanation::new("a word with the prefix", scorer.score()))
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
