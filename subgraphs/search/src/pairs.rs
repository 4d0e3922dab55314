//! Phrases of frequent words, indexed as pairs ("common grams").
//!
//! A phrase is found from positions: the documents of its first word, then, in each, the
//! positions of the next words. For two words that are in nearly every content ("of the")
//! that is every content's positions, hundreds of milliseconds at a million contents.
//! Indexing every pair of neighbouring stems instead made tantivy's term dictionaries so
//! big that indexing fell below 1,500 contents/s. So only pairs of two *frequent* stems
//! are indexed (field `pairs`, and `title_pairs` for the title), as one term `first
//! second`: at most [`COMMON`]² distinct terms, and exactly the phrases whose positions
//! would be expensive. A phrase with a less frequent word reads positions, where that
//! word's few documents lead.
//!
//! Which stems are frequent is decided once per index, from its first [`SAMPLE`]
//! contents (the most frequent [`COMMON`] stems of `body`), and kept in the index's
//! directory ([`FILE`]), so every content indexed later has the pairs of the same list.
//! The contents indexed before the decision carry the term `early` and are looked up by
//! their positions, so an answer never depends on when a content was indexed.

use std::path::Path;
use std::sync::{Arc, RwLock};

use crate::stem::LINE;
use rustc_hash::{FxHashMap, FxHashSet};
use tantivy::Searcher;
use tantivy::schema::Field;

/// How many of the most frequent stems make pairs.
pub const COMMON: usize = 128;
/// Contents the frequent stems are chosen from.
pub const SAMPLE: u64 = 10_000;
/// The file, in the index's directory, that keeps the chosen stems (one per line).
pub const FILE: &str = "common-stems";

/// The frequent stems of an index.
#[derive(Debug, Default)]
pub struct Common(FxHashSet<String>);

/// The frequent stems once chosen, shared by the indexer and the queries.
pub type SharedCommon = Arc<RwLock<Option<Arc<Common>>>>;

impl Common {
    pub fn contains(&self, stem: &str) -> bool {
        self.0.contains(stem)
    }

    /// The pairs of neighbouring frequent stems of one text's stems (one per line),
    /// each as `first second`, one per line.
    pub fn pairs(&self, stems: &str) -> String {
        let mut out = String::new();
        let mut words = stems.split(LINE);
        let Some(mut first) = words.next() else {
            return out;
        };
        for second in words {
            if self.contains(first) && self.contains(second) {
                if !out.is_empty() {
                    out.push(LINE);
                }
                push_pair(&mut out, first, second);
            }
            first = second;
        }
        out
    }

    /// The list kept in `dir`, if one was chosen.
    pub fn load(dir: &Path) -> std::io::Result<Option<Common>> {
        match std::fs::read_to_string(dir.join(FILE)) {
            Ok(text) => Ok(Some(Common(
                text.lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The [`COMMON`] stems of `body` in most documents of `searcher` (ties by the
    /// stem, so the choice is the same for the same contents).
    pub fn choose(searcher: &Searcher, body: Field) -> tantivy::Result<Common> {
        let mut freq: FxHashMap<Vec<u8>, u64> = FxHashMap::default();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(body)?;
            let mut terms = inverted.terms().stream()?;
            while terms.advance() {
                *freq.entry(terms.key().to_vec()).or_default() += u64::from(terms.value().doc_freq);
            }
        }
        let mut ranked: Vec<(Vec<u8>, u64)> = freq.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(Common(
            ranked
                .into_iter()
                .filter_map(|(stem, _)| String::from_utf8(stem).ok())
                .filter(|stem| !stem.contains(' '))
                .take(COMMON)
                .collect(),
        ))
    }

    /// Keeps the list in `dir` (written whole, then renamed into place).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let mut stems: Vec<&str> = self.0.iter().map(String::as_str).collect();
        stems.sort_unstable();
        let tmp = dir.join(format!("{FILE}.tmp"));
        std::fs::write(&tmp, stems.join("\n") + "\n")?;
        std::fs::rename(tmp, dir.join(FILE))
    }
}

/// The `pairs` term of two neighbouring stems (stems have no spaces).
pub fn pair(first: &str, second: &str) -> String {
    let mut text = String::with_capacity(first.len() + 1 + second.len());
    push_pair(&mut text, first, second);
    text
}

fn push_pair(text: &mut String, first: &str, second: &str) {
    text.push_str(first);
    text.push(' ');
    text.push_str(second);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_neighbouring_frequent_stems_pair_and_the_list_round_trips() {
        let common = Common(
            ["the", "of", "river"]
                .map(str::to_owned)
                .into_iter()
                .collect(),
        );
        let pairs = common.pairs("the\nriver\nof\nkelp\nthe");
        assert_eq!(pairs, "the river\nriver of");
        assert_eq!(common.pairs(""), "");
        assert_eq!(common.pairs("the"), "");
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(Common::load(dir.path()).expect("reads").is_none());
        common.save(dir.path()).expect("saves");
        let loaded = Common::load(dir.path()).expect("reads").expect("kept");
        assert_eq!(loaded.0, common.0);
    }
}
