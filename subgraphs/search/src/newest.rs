//! Which content ids an index cannot hold, so that putting one needs no delete.
//!
//! tantivy replaces a document by a delete of its key term and an add; it applies each
//! delete at the next commit to every segment (a term lookup and a scorer per segment).
//! A bulk load's contents are all new: without their deletes (in the index and in the
//! suggestions) the 1,000,000-content bench indexed with 126 CPU-seconds, not 133.
//! Content ids are UUID v7, made in order, and published in about that order: an id
//! greater than every id an index was ever given cannot be in it. An event delivered
//! again, or an id another process made a moment earlier, is not greater, and is
//! replaced by a delete as before.

use tantivy::Searcher;
use tantivy::schema::Field;

/// The greatest content id given to an index (`None`: not known, so any id may be in it).
#[derive(Debug, Clone)]
pub struct Newest(Option<String>);

impl Newest {
    /// The greatest of the terms of `field` that start with `prefix` (without it), in
    /// every segment of `searcher`, deleted documents' too.
    pub fn of(searcher: &Searcher, field: Field, prefix: &str) -> Self {
        match greatest(searcher, field, prefix.as_bytes()) {
            Ok(newest) => Newest(String::from_utf8(newest).ok()),
            Err(e) => {
                tracing::warn!(error = %e, "reading the newest content id of a search index");
                Newest(None)
            }
        }
    }

    /// Whether the index may hold `id`.
    pub fn may_hold(&self, id: &str) -> bool {
        self.0.as_deref().is_none_or(|newest| id <= newest)
    }

    /// Remembers that the index was given `id`.
    pub fn hold(&mut self, id: &str) {
        if let Some(newest) = &mut self.0
            && id > newest.as_str()
        {
            id.clone_into(newest);
        }
    }
}

fn greatest(searcher: &Searcher, field: Field, prefix: &[u8]) -> tantivy::Result<Vec<u8>> {
    // The first term past every term with the prefix: the prefix with its last byte
    // one up (the prefixes used end in an ASCII ':').
    let past = prefix.split_last().map(|(last, head)| {
        let mut past = head.to_vec();
        past.push(last.saturating_add(1));
        past
    });
    let mut newest = Vec::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let terms = inverted.terms();
        let end = match &past {
            None => terms.num_terms() as u64,
            Some(past) => {
                let mut after = terms.range().ge(past).into_stream()?;
                if after.advance() {
                    after.term_ord()
                } else {
                    terms.num_terms() as u64
                }
            }
        };
        let mut last = Vec::new();
        if end > 0 && terms.ord_to_term(end - 1, &mut last)? && last.starts_with(prefix) {
            newest = newest.max(last.split_off(prefix.len()));
        }
    }
    Ok(newest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{STRING, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    #[test]
    fn the_greatest_term_with_the_prefix_over_segments() {
        let mut schema = Schema::builder();
        let key = schema.add_text_field("key", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        let reader = index.reader().expect("reader");
        assert!(!Newest::of(&reader.searcher(), key, "t:").may_hold("a"));
        // Two segments; the greatest title key is in the first, and keys of other
        // kinds sort after it.
        for keys in [["t:07", "t:03", "a:99"], ["t:05", "g:zz", "u:00"]] {
            for k in keys {
                let mut doc = TantivyDocument::default();
                doc.add_text(key, k);
                writer.add_document(doc).expect("add");
            }
            writer.commit().expect("commit");
        }
        reader.reload().expect("reload");
        let searcher = reader.searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let mut titles = Newest::of(&searcher, key, "t:");
        assert!(titles.may_hold("07") && titles.may_hold("06"));
        assert!(!titles.may_hold("08"));
        titles.hold("08");
        assert!(titles.may_hold("08") && !titles.may_hold("09"));
        let any = Newest::of(&searcher, key, "");
        assert!(any.may_hold("u:00") && !any.may_hold("u:01"));
        // Unknown: anything may be there.
        assert!(Newest(None).may_hold("zz"));
    }
}
