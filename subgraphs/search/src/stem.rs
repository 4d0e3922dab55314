//! English stems, remembered: the indexer's stemming filter.
//!
//! Profiling the 1,000,000-content load showed the Snowball stemmer at about a fifth of
//! tantivy's indexing threads (`find_among_b`, `in_grouping`, `stem`). Texts draw their
//! words from a vocabulary far smaller than their length, so each filter (one per field
//! of a segment being written) keeps the stems it has computed, up to [`REMEMBERED`]
//! words. Its tokens are exactly those of tantivy's `Stemmer` (a test compares them);
//! queries keep using that one, since a filter is cloned for each query.

use rust_stemmers::{Algorithm, Stemmer};
use rustc_hash::FxHashMap;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Most distinct words one filter remembers; later ones are stemmed each time.
pub const REMEMBERED: usize = 100_000;

/// tantivy's English `Stemmer`, with the stems it computed remembered.
#[derive(Clone, Copy, Default)]
pub struct RememberingStemmer;

impl TokenFilter for RememberingStemmer {
    type Tokenizer<T: Tokenizer> = RememberingFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> RememberingFilter<T> {
        RememberingFilter {
            inner: tokenizer,
            stems: FxHashMap::default(),
        }
    }
}

#[derive(Clone)]
pub struct RememberingFilter<T> {
    inner: T,
    stems: FxHashMap<String, String>,
}

impl<T: Tokenizer> Tokenizer for RememberingFilter<T> {
    type TokenStream<'a> = RememberingStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        RememberingStream {
            tail: self.inner.token_stream(text),
            stems: &mut self.stems,
            stemmer: Stemmer::create(Algorithm::English),
        }
    }
}

pub struct RememberingStream<'a, T> {
    tail: T,
    stems: &'a mut FxHashMap<String, String>,
    stemmer: Stemmer,
}

impl<T: TokenStream> TokenStream for RememberingStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(stem) = self.stems.get(&token.text) {
            token.text.clear();
            token.text.push_str(stem);
            return true;
        }
        let stem = self.stemmer.stem(&token.text).into_owned();
        if self.stems.len() < REMEMBERED {
            self.stems.insert(token.text.clone(), stem.clone());
        }
        token.text = stem;
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// The stemmed fields' tokenizer: the indexer hands tantivy each text as its stems (or
/// pairs of stems) one per line, and this reads them back. A pre-tokenized value would
/// do the same, but tantivy clones its tokens twice on the way in, a `String` per token
/// each time (about a seventh of its indexing thread went to copying and freeing them);
/// a line is read in place.
#[derive(Clone, Default)]
pub struct StemLines {
    token: Token,
}

/// The separator of [`StemLines`] (stems have none: they are letters and digits).
pub const LINE: char = '\n';

pub struct StemLinesStream<'a> {
    rest: &'a str,
    token: &'a mut Token,
}

impl Tokenizer for StemLines {
    type TokenStream<'a> = StemLinesStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> StemLinesStream<'a> {
        self.token.reset();
        StemLinesStream {
            rest: text,
            token: &mut self.token,
        }
    }
}

impl TokenStream for StemLinesStream<'_> {
    fn advance(&mut self) -> bool {
        while !self.rest.is_empty() {
            let (line, rest) = self.rest.split_once(LINE).unwrap_or((self.rest, ""));
            self.rest = rest;
            if !line.is_empty() {
                self.token.text.clear();
                self.token.text.push_str(line);
                self.token.position = self.token.position.wrapping_add(1);
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::{
        Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
    };

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
        }
        out
    }

    #[test]
    fn remembered_stems_are_the_stemmers_own() {
        let text = "Running runners ran; the crabs' generously generous generalisations \
                    RUNNING again and again, happily happier happiness. Éclairs naïvely \
                    running";
        let mut plain = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(64))
            .filter(LowerCaser)
            .filter(tantivy::tokenizer::Stemmer::new(Language::English))
            .build();
        let mut remembering = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(64))
            .filter(LowerCaser)
            .filter(RememberingStemmer)
            .build();
        let want = tokens(&mut plain, text);
        assert!(want.iter().any(|(t, ..)| t == "run"), "{want:?}");
        // Twice: the second pass is served from what the first remembered.
        assert_eq!(tokens(&mut remembering, text), want);
        assert_eq!(tokens(&mut remembering, text), want);
    }

    #[test]
    fn stem_lines_read_back_one_token_per_line_in_order() {
        let mut lines = TextAnalyzer::from(StemLines::default());
        let read = |lines: &mut TextAnalyzer, text: &str| -> Vec<(String, usize)> {
            tokens(lines, text)
                .into_iter()
                .map(|(t, position, ..)| (t, position))
                .collect()
        };
        assert_eq!(
            read(&mut lines, "the\nriver bank\n\nrun"),
            [
                ("the".to_owned(), 0),
                ("river bank".to_owned(), 1),
                ("run".to_owned(), 2)
            ]
        );
        assert!(read(&mut lines, "").is_empty());
        assert_eq!(read(&mut lines, "sea\n"), [("sea".to_owned(), 0)]);
    }
}
