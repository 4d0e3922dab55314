//! The suggestions' best entries per prefix, kept beside each segment (the way a
//! completion suggester keeps weights in its index): `suggest` reads a short list per
//! segment instead of ranking every entry that has a word starting with the prefix.
//!
//! A segment never changes once written, except that entries in it get deleted. So for
//! each segment, a thread of its own ([`Tops::refresh`], woken at every commit of the
//! suggestion index: `segments.rs`) writes down once, for each prefix term with more than [`TOP`] live
//! entries, its [`TOP`] best entries in order (most read, then newer, then first
//! written). A query takes, per segment, the first `first` live entries of the list;
//! when deletions have left fewer than that, or the segment has no lists yet (just
//! written), it ranks the segment's postings of the prefix itself, and the segment's
//! lists are written again at the next commit. Either way it finds the same entries.

use crate::segments::PerSegment;
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, Searcher, SegmentReader, TERMINATED, Term};

/// Entries kept per prefix and segment: `first` is at most 20, and the rest absorb
/// deletions until the segment's lists are written again.
pub const TOP: usize = 64;

/// How an entry ranks: most read, then newer (milliseconds of its newest content).
pub type Rank = (u64, i64);

/// The order of entries, best first: most read, newer, then by address.
fn order(rank: Rank, address: DocAddress) -> (Reverse<u64>, Reverse<i64>, DocAddress) {
    (Reverse(rank.0), Reverse(rank.1), address)
}

/// Reads an entry's rank from the segment's `reads` and `published` fast fields.
pub struct Ranker {
    reads: Option<Arc<dyn tantivy::columnar::ColumnValues<u64>>>,
    published: Option<Arc<dyn tantivy::columnar::ColumnValues<i64>>>,
}

impl Ranker {
    pub fn new(segment: &SegmentReader) -> Ranker {
        let fast = segment.fast_fields();
        Ranker {
            reads: fast.u64("reads").ok().map(|c| c.first_or_default_col(0)),
            published: fast
                .i64("published")
                .ok()
                .map(|c| c.first_or_default_col(0)),
        }
    }

    pub fn rank(&self, doc: DocId) -> Rank {
        (
            self.reads.as_ref().map_or(0, |r| r.get_val(doc)),
            self.published.as_ref().map_or(0, |p| p.get_val(doc)),
        )
    }
}

/// One segment's lists.
pub struct SegmentTops {
    /// Prefix term (its bytes) → its best live entries when written, best first.
    lists: FxHashMap<Box<[u8]>, Box<[DocId]>>,
    /// A query found a list used up by deletions: write the lists again.
    stale: AtomicBool,
}

/// The lists of every segment of the suggestion index (cheap to clone; shared by the
/// readers and the thread that writes them).
#[derive(Clone, Default)]
pub struct Tops(PerSegment<SegmentTops>);

impl Tops {
    /// Writes the lists of the segments of `searcher` that have none (or stale ones),
    /// biggest first, and forgets those of segments that are gone.
    pub fn refresh(&self, searcher: &Searcher, field: Field) -> tantivy::Result<()> {
        self.0.refresh(
            searcher,
            |_, kept| kept.is_none_or(|t| t.stale.load(Ordering::Relaxed)),
            |segment| build(segment, field),
        )
    }

    /// How many lists are kept, over all segments.
    #[cfg(test)]
    pub fn lists(&self) -> usize {
        self.0.all().iter().map(|t| t.lists.len()).sum()
    }

    /// The `first` best live entries with the term `prefix` (of `field`), best first.
    pub fn best(
        &self,
        searcher: &Searcher,
        field: Field,
        prefix: &str,
        first: usize,
    ) -> tantivy::Result<Vec<DocAddress>> {
        let term = Term::from_field_text(field, prefix);
        let mut found: Vec<(Rank, DocAddress)> = Vec::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let ranker = Ranker::new(segment);
            let address = |doc| DocAddress::new(ord as u32, doc);
            let alive = |doc| segment.alive_bitset().is_none_or(|a| a.is_alive(doc));
            let listed = self.0.get(segment).and_then(|tops| {
                // No list: the segment has at most TOP live entries with the prefix.
                let list = tops.lists.get(prefix.as_bytes())?;
                let live: Vec<DocId> = list
                    .iter()
                    .copied()
                    .filter(|&d| alive(d))
                    .take(first)
                    .collect();
                if live.len() < first {
                    tops.stale.store(true, Ordering::Relaxed);
                    return None;
                }
                Some(live)
            });
            match listed {
                Some(docs) => found.extend(docs.into_iter().map(|d| (ranker.rank(d), address(d)))),
                None => {
                    let inverted = segment.inverted_index(field)?;
                    let Some(mut postings) =
                        inverted.read_postings(&term, IndexRecordOption::Basic)?
                    else {
                        continue;
                    };
                    let mut here: Vec<(Rank, DocAddress)> = Vec::new();
                    let mut doc = tantivy::DocSet::doc(&postings);
                    while doc != TERMINATED {
                        if alive(doc) {
                            here.push((ranker.rank(doc), address(doc)));
                        }
                        doc = tantivy::DocSet::advance(&mut postings);
                    }
                    keep_best(&mut here, first);
                    found.extend(here);
                }
            }
        }
        keep_best(&mut found, first);
        Ok(found.into_iter().map(|(_, a)| a).collect())
    }
}

/// Keeps the `n` best of `entries`, best first.
fn keep_best(entries: &mut Vec<(Rank, DocAddress)>, n: usize) {
    keep_least(entries, n, |e| order(e.0, e.1));
}

/// Keeps the `n` entries of least `key`, in order.
fn keep_least<T, K: Ord>(entries: &mut Vec<T>, n: usize, key: impl Fn(&T) -> K) {
    if entries.len() > n && n > 0 {
        entries.select_nth_unstable_by_key(n - 1, &key);
    }
    entries.truncate(n);
    entries.sort_unstable_by_key(key);
}

/// Writes a segment's lists: for every term of `field` with more than [`TOP`] live
/// entries, the best [`TOP`].
fn build(segment: &SegmentReader, field: Field) -> tantivy::Result<SegmentTops> {
    let ranker = Ranker::new(segment);
    let ranks: Vec<Rank> = (0..segment.max_doc()).map(|d| ranker.rank(d)).collect();
    let alive = |doc: DocId| segment.alive_bitset().is_none_or(|a| a.is_alive(doc));
    let key = |&d: &DocId| {
        let (reads, published) = ranks[d as usize];
        (Reverse(reads), Reverse(published), d)
    };
    let inverted = segment.inverted_index(field)?;
    let mut terms = inverted.terms().stream()?;
    let mut lists = FxHashMap::default();
    let mut docs: Vec<DocId> = Vec::new();
    while terms.advance() {
        let info = terms.value();
        if info.doc_freq as usize <= TOP {
            continue;
        }
        docs.clear();
        let mut postings =
            inverted.read_block_postings_from_terminfo(info, IndexRecordOption::Basic)?;
        loop {
            let block = postings.docs();
            if block.is_empty() {
                break;
            }
            docs.extend(block.iter().copied().filter(|&d| alive(d)));
            postings.advance();
        }
        if docs.len() <= TOP {
            continue;
        }
        keep_least(&mut docs, TOP, key);
        lists.insert(terms.key().into(), docs.as_slice().into());
    }
    Ok(SegmentTops {
        lists,
        stale: AtomicBool::new(false),
    })
}
