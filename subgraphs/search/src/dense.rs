//! The postings of a big segment's most frequent terms, kept as bit sets.
//!
//! A search counts its matches by turning each word's postings into a bit set
//! (`rank.rs`). A frequent word, and a short trailing prefix (`the` covers `the`, `them`,
//! `there`, `they`...), stands for hundreds of thousands of postings per million
//! contents, and decoding them was most of a search's time. A segment's postings never
//! change (a deleted content stays in them until a merge; the search takes deletions
//! off after), so for each segment of at least [`MIN_SEGMENT`] documents a thread of
//! its own, woken at every commit (`segments.rs`), writes down once the bit set of every term that at
//! least one in [`DENSITY`] of its documents hold; a search ORs it in instead of decoding
//! the postings. A segment that has none yet (just merged) is decoded as before: the
//! same sets either way. About 250 terms per million contents of our texts, 125 KiB each.
//!
//! The same thread keeps a big segment's live documents as a bit set too, with the
//! number of deletions it reflects (deletions only grow, so an equal number is the same
//! set): a search takes deletions off its matches a word at a time instead of asking
//! tantivy about each match.

use crate::rank::Bits;
use crate::segments::PerSegment;
use rustc_hash::FxHashMap;
use std::sync::Arc;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, SegmentReader};

/// Smallest segment whose frequent terms get bit sets (below, decoding is quick).
pub const MIN_SEGMENT: u32 = 1 << 16;

/// A term gets a bit set when at least one in this many of the segment's documents
/// hold it.
const DENSITY: u32 = 16;

/// One segment's sets, by field and term (its value's bytes).
type SegmentSets = FxHashMap<Field, FxHashMap<Box<[u8]>, Bits>>;

/// A segment's live documents, as of `deleted` deletions.
pub struct Alive {
    deleted: u32,
    bits: Bits,
}

/// The sets of every big segment of the index (cheap to clone; shared by the searches
/// and the thread that writes them).
#[derive(Clone, Default)]
pub struct Dense {
    terms: PerSegment<SegmentSets>,
    alive: PerSegment<Alive>,
}

/// One segment's sets, as a search holds them.
#[derive(Clone, Default)]
pub struct Sets {
    terms: Option<Arc<SegmentSets>>,
    alive: Option<Arc<Alive>>,
}

impl Sets {
    /// The bit set of the term of `field` with value bytes `value`, if it is kept.
    pub fn get(&self, field: Field, value: &[u8]) -> Option<&Bits> {
        self.terms.as_ref()?.get(&field)?.get(value)
    }

    /// The segment's live documents, if they are kept as of its `deleted` deletions.
    pub fn alive(&self, deleted: u32) -> Option<&Bits> {
        self.alive
            .as_ref()
            .filter(|a| a.deleted == deleted)
            .map(|a| &a.bits)
    }
}

impl Dense {
    /// The sets of `segment` (none when it has no sets yet).
    pub fn sets(&self, segment: &SegmentReader) -> Sets {
        Sets {
            terms: self.terms.get(segment),
            alive: self.alive.get(segment),
        }
    }

    /// Writes the sets of the segments of `searcher` with at least `min_docs` documents
    /// that have none, over `fields`, and forgets those of segments that are gone.
    pub fn refresh(
        &self,
        searcher: &Searcher,
        fields: &[Field],
        min_docs: u32,
    ) -> tantivy::Result<()> {
        self.terms.refresh(
            searcher,
            |segment, kept| kept.is_none() && segment.max_doc() >= min_docs,
            |segment| build(segment, fields),
        )?;
        self.alive.refresh(
            searcher,
            |segment, kept| {
                let deleted = segment.num_deleted_docs();
                deleted > 0
                    && segment.max_doc() >= min_docs
                    && kept.is_none_or(|a| a.deleted != deleted)
            },
            |segment| {
                let mut bits = Bits::empty(segment.max_doc());
                if let Some(alive) = segment.alive_bitset() {
                    for doc in alive.iter_alive() {
                        bits.insert(doc);
                    }
                }
                Ok(Alive {
                    deleted: segment.num_deleted_docs(),
                    bits,
                })
            },
        )
    }

    /// How many sets are kept, over all segments.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.terms
            .all()
            .iter()
            .flat_map(|s| s.values())
            .map(|terms| terms.len())
            .sum()
    }

    /// How many segments' live documents are kept.
    #[cfg(test)]
    pub fn alive_sets(&self) -> usize {
        self.alive.all().len()
    }
}

fn build(segment: &SegmentReader, fields: &[Field]) -> tantivy::Result<SegmentSets> {
    let max_doc = segment.max_doc();
    let least = (max_doc / DENSITY).max(1);
    let mut sets = SegmentSets::default();
    for &field in fields {
        let inverted = segment.inverted_index(field)?;
        let mut terms = inverted.terms().stream()?;
        while terms.advance() {
            let info = terms.value();
            if info.doc_freq < least {
                continue;
            }
            let mut bits = Bits::empty(max_doc);
            bits.add_postings(
                inverted.read_block_postings_from_terminfo(info, IndexRecordOption::Basic)?,
            );
            sets.entry(field)
                .or_default()
                .insert(terms.key().into(), bits);
        }
    }
    Ok(sets)
}
