//! Stage 2, limits: refuse operations too big or too deep to be worth planning.
//!
//! Checked before any planning or subgraph traffic: lexical tokens, selection depth
//! (through fragments), aliases, root fields of the operation to run, and how deeply
//! introspection nests its lists (graphql-js 16's `MaxIntrospectionDepthRule`: one small
//! introspection query must not make the router describe the schema thousands of times
//! over). Each breach is a GraphQL error with its own `extensions.code`, so clients learn
//! which limit they hit.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use std::collections::HashSet;

/// Introspection list fields (`fields`, `interfaces`, `possibleTypes`, `inputFields`) may
/// nest this deep inside `__schema`/`__type`; one more is refused (graphql-js 16's
/// `MAX_LISTS_DEPTH` of 3, reached at the third).
const MAX_INTROSPECTION_LISTS: usize = 2;
/// The longest chain of nested `ofType` fields: no real type wraps deeper (graphql-js's
/// own introspection query asks for 9).
const MAX_OF_TYPE_CHAIN: usize = 16;

/// The limits in force (see `Config`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_tokens: usize,
    pub max_depth: usize,
    pub max_aliases: usize,
    pub max_root_fields: usize,
}

/// Which limit an operation broke, and by how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitExceeded {
    pub code: &'static str,
    pub message: String,
}

impl Limits {
    /// Checks the token count of the raw text (before parsing, so a huge document costs
    /// no parse).
    pub fn check_tokens(&self, query: &str) -> Result<(), LimitExceeded> {
        // Counting stops one past the limit: the cost is bounded by the limit.
        let n = count_tokens(query, self.max_tokens + 1);
        if n > self.max_tokens {
            return Err(LimitExceeded {
                code: "MAX_TOKENS_EXCEEDED",
                message: format!("the operation has more than {} tokens", self.max_tokens),
            });
        }
        Ok(())
    }

    /// Checks depth, aliases and root fields of the operation `operation_name` selects.
    pub fn check_document(
        &self,
        doc: &ExecutableDocument,
        operation_name: Option<&str>,
    ) -> Result<(), LimitExceeded> {
        let Some(op) = select_operation(doc, operation_name) else {
            // Which operation to run is the executor's question; nothing to measure here.
            return Ok(());
        };
        // Every count is of the operation as written out, fragments expanded: a fragment
        // spread twice counts twice. Fragments are measured once each (memoized), so a
        // small document of fragments spreading fragments cannot make this check, or the
        // planner after it, take exponential time.
        let size = Sizes::new(doc).selection_set(&op.selection_set.node);
        if size.fields > self.max_tokens as u64 {
            // A written-out operation has at least one token per field: fragments may not
            // make an operation bigger than the token limit lets one be written.
            return Err(LimitExceeded {
                code: "MAX_TOKENS_EXCEEDED",
                message: format!(
                    "the operation's fragments expand to more than {} fields",
                    self.max_tokens
                ),
            });
        }
        if size.top > self.max_root_fields as u64 {
            return Err(LimitExceeded {
                code: "MAX_ROOT_FIELDS_EXCEEDED",
                message: format!(
                    "the operation selects {} root fields; at most {} are allowed",
                    size.top, self.max_root_fields
                ),
            });
        }
        if size.depth > self.max_depth {
            return Err(LimitExceeded {
                code: "MAX_DEPTH_EXCEEDED",
                message: format!(
                    "the operation is {} levels deep; at most {} are allowed",
                    size.depth, self.max_depth
                ),
            });
        }
        if size.aliases > self.max_aliases as u64 {
            return Err(LimitExceeded {
                code: "MAX_ALIASES_EXCEEDED",
                message: format!(
                    "the operation uses {} aliases; at most {} are allowed",
                    size.aliases, self.max_aliases
                ),
            });
        }
        if introspection_too_deep(doc, &op.selection_set.node) {
            return Err(LimitExceeded {
                code: "MAX_INTROSPECTION_DEPTH_EXCEEDED",
                message: "Maximum introspection depth exceeded".to_string(),
            });
        }
        Ok(())
    }
}

/// The operation a request runs: the named one, or the only one.
pub fn select_operation<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), None) => Some(&op.node),
        (DocumentOperations::Single(_), Some(_)) => doc
            .operations
            .iter()
            .find(|(n, _)| n.map(|n| n.as_str()) == name)
            .map(|(_, op)| &op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// The size of a selection set with its fragments expanded (counts saturate).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Size {
    /// Fields at the set's own level (through inline fragments and spreads).
    top: u64,
    /// Fields at every level.
    fields: u64,
    aliases: u64,
    /// Levels of fields, the set's own being 1 (0 for an empty set).
    depth: usize,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.top = self.top.saturating_add(other.top);
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.depth = self.depth.max(other.depth);
    }
}

/// Measures selection sets, each fragment once.
struct Sizes<'a> {
    doc: &'a ExecutableDocument,
    fragments: std::collections::HashMap<&'a str, Size>,
    /// Fragments being measured: a cycle is a validation error reported later, and must
    /// not loop here (it counts as empty).
    visiting: HashSet<&'a str>,
}

impl<'a> Sizes<'a> {
    fn new(doc: &'a ExecutableDocument) -> Self {
        Sizes {
            doc,
            fragments: std::collections::HashMap::new(),
            visiting: HashSet::new(),
        }
    }

    fn selection_set(&mut self, set: &'a SelectionSet) -> Size {
        let mut size = Size::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let below = self.selection_set(&f.node.selection_set.node);
                    size.add(Size {
                        top: 1,
                        fields: below.fields.saturating_add(1),
                        aliases: below
                            .aliases
                            .saturating_add(u64::from(f.node.alias.is_some())),
                        depth: below.depth + 1,
                    });
                }
                Selection::InlineFragment(f) => {
                    let inner = self.selection_set(&f.node.selection_set.node);
                    size.add(inner);
                }
                Selection::FragmentSpread(s) => {
                    let inner = self.fragment(s.node.fragment_name.node.as_str());
                    size.add(inner);
                }
            }
        }
        size
    }

    fn fragment(&mut self, name: &'a str) -> Size {
        if let Some(size) = self.fragments.get(name) {
            return *size;
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            return Size::default();
        };
        if !self.visiting.insert(name) {
            return Size::default();
        }
        let size = self.selection_set(&fragment.node.selection_set.node);
        self.visiting.remove(name);
        self.fragments.insert(name, size);
        size
    }
}

/// Whether a `__schema` or `__type` field of the operation (through fragments) nests
/// introspection lists or `ofType` too deep.
fn introspection_too_deep(doc: &ExecutableDocument, set: &SelectionSet) -> bool {
    let mut check = IntrospectionDepth {
        doc,
        visiting: HashSet::new(),
        searched: HashSet::new(),
        passed: HashSet::new(),
    };
    check.find_roots(set)
}

struct IntrospectionDepth<'a> {
    doc: &'a ExecutableDocument,
    /// Fragments on the current path: a cycle is a validation error reported later,
    /// and must not loop here.
    visiting: HashSet<&'a str>,
    /// Fragments already searched for introspection roots and found within the limits.
    searched: HashSet<&'a str>,
    /// Fragments already found within the limits from a given list depth and `ofType`
    /// chain: a fragment spread many times over is walked once per such state, so a
    /// small document cannot make this check itself expensive.
    passed: HashSet<(&'a str, usize, usize)>,
}

impl<'a> IntrospectionDepth<'a> {
    /// Looks for `__schema`/`__type` fields and checks below each.
    fn find_roots(&mut self, set: &'a SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(f) => {
                let name = f.node.name.node.as_str();
                if name == "__schema" || name == "__type" {
                    self.too_deep(&f.node.selection_set.node, 0, 0)
                } else {
                    self.find_roots(&f.node.selection_set.node)
                }
            }
            Selection::InlineFragment(f) => self.find_roots(&f.node.selection_set.node),
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                let Some(f) = self.doc.fragments.get(name) else {
                    return false;
                };
                if self.searched.contains(name) || !self.visiting.insert(name) {
                    return false;
                }
                let found = self.find_roots(&f.node.selection_set.node);
                self.visiting.remove(name);
                if !found {
                    self.searched.insert(name);
                }
                found
            }
        })
    }

    /// Below an introspection root: `lists` list fields and an `ofType` chain of `chain`
    /// above `set`.
    fn too_deep(&mut self, set: &'a SelectionSet, lists: usize, chain: usize) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(f) => {
                let (lists, chain) = match f.node.name.node.as_str() {
                    "fields" | "interfaces" | "possibleTypes" | "inputFields" => (lists + 1, 0),
                    "ofType" => (lists, chain + 1),
                    _ => (lists, 0),
                };
                lists > MAX_INTROSPECTION_LISTS
                    || chain > MAX_OF_TYPE_CHAIN
                    || self.too_deep(&f.node.selection_set.node, lists, chain)
            }
            Selection::InlineFragment(f) => self.too_deep(&f.node.selection_set.node, lists, chain),
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                let Some(f) = self.doc.fragments.get(name) else {
                    return false;
                };
                if self.passed.contains(&(name, lists, chain)) || !self.visiting.insert(name) {
                    return false;
                }
                let found = self.too_deep(&f.node.selection_set.node, lists, chain);
                self.visiting.remove(name);
                if !found {
                    self.passed.insert((name, lists, chain));
                }
                found
            }
        })
    }
}

/// Counts GraphQL lexical tokens (punctuators, names, numbers, strings), skipping
/// whitespace, commas and comments; stops counting at `stop`.
pub fn count_tokens(text: &str, stop: usize) -> usize {
    let b = text.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < b.len() && n < stop {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            0xEF if b[i..].starts_with(&[0xEF, 0xBB, 0xBF]) => i += 3,
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                    i += if b[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
                n += 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                n += 1;
            }
            b'.' if b[i..].starts_with(b"...") => {
                i += 3;
                n += 1;
            }
            c if c == b'_' || c.is_ascii_alphanumeric() || c == b'-' => {
                // A name or a number (with sign, fraction and exponent): one token.
                i += 1;
                while i < b.len()
                    && (b[i] == b'_'
                        || b[i].is_ascii_alphanumeric()
                        || b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)
                        || (b[i] == b'+' || b[i] == b'-') && matches!(b[i - 1], b'e' | b'E'))
                {
                    i += 1;
                }
                n += 1;
            }
            _ => {
                // A punctuator (or a stray character the parser will reject).
                i += text[i..].chars().next().map_or(1, char::len_utf8);
                n += 1;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_tokens: 50,
        max_depth: 3,
        max_aliases: 2,
        max_root_fields: 2,
    };

    fn check(q: &str) -> Result<(), LimitExceeded> {
        LIMITS.check_tokens(q)?;
        let doc = async_graphql::parser::parse_query(q).expect("parses");
        LIMITS.check_document(&doc, None)
    }

    /// `{ me { ...F0 } }` where each of `n` fragments spreads the next twice: a few
    /// hundred tokens that write out to 2^n fields.
    fn fragment_bomb(n: usize) -> String {
        let mut q = String::from("{ me { ...F0 } }\n");
        for i in 0..n {
            q.push_str(&format!(
                "fragment F{i} on User {{ ...F{j} ...F{j} }}\n",
                j = i + 1
            ));
        }
        q.push_str(&format!("fragment F{n} on User {{ id }}\n"));
        q
    }

    #[test]
    fn fragments_count_as_written_out_and_are_measured_once() {
        let defaults = Limits {
            max_tokens: 15_000,
            max_depth: 15,
            max_aliases: 30,
            max_root_fields: 20,
        };
        let check_defaults = |q: &str| {
            defaults.check_tokens(q)?;
            let doc = async_graphql::parser::parse_query(q).expect("parses");
            defaults.check_document(&doc, None)
        };
        // 2^40 fields: refused at once (each fragment measured once), not walked.
        let e = check_defaults(&fragment_bomb(40)).expect_err("too big");
        assert_eq!(e.code, "MAX_TOKENS_EXCEEDED");
        assert!(e.message.contains("expand"), "{e:?}");
        // 2^13 = 8192 fields is within the limits.
        assert!(check_defaults(&fragment_bomb(13)).is_ok());
        // A spread counts its aliases each time.
        let q = "{ me { ...A ...A ...A ...A } } fragment A on User { a: id b: id c: id d: id }";
        assert_eq!(check(q).expect_err("aliases").code, "MAX_ALIASES_EXCEEDED");
    }

    #[test]
    fn counts_tokens_like_the_lexer() {
        assert_eq!(count_tokens("{ a }", 100), 3);
        assert_eq!(
            count_tokens("query Q($x: Int = -1.5e3) { a(x: $x) ...F }", 100),
            21
        );
        assert_eq!(count_tokens("# comment\n{ a(s: \"x, y\") }", 100), 8);
        assert_eq!(
            count_tokens("{ a(s: \"\"\"block \"quoted\" \\\"\"\" \"\"\") }", 100),
            8
        );
        assert_eq!(count_tokens(&"{ a }".repeat(1000), 10), 10);
    }

    #[test]
    fn depth_counts_through_fragments() {
        assert!(check("{ a { b { c } } }").is_ok());
        let e = check("{ a { b { c { d } } } }").expect_err("too deep");
        assert_eq!(e.code, "MAX_DEPTH_EXCEEDED");
        let e = check("{ a { ...F } } fragment F on T { b { c { d } } }").expect_err("too deep");
        assert_eq!(e.code, "MAX_DEPTH_EXCEEDED");
        // A fragment cycle is invalid, and must not hang the check.
        assert!(check("{ a { ...F } } fragment F on T { b { ...F } }").is_ok());
    }

    #[test]
    fn aliases_and_root_fields_are_bounded() {
        assert_eq!(
            check("{ x: a y: a z: a }").expect_err("aliases").code,
            "MAX_ROOT_FIELDS_EXCEEDED"
        );
        assert_eq!(
            check("{ a { x: b y: b z: b } }").expect_err("aliases").code,
            "MAX_ALIASES_EXCEEDED"
        );
        assert_eq!(
            check("{ ... on Query { a b c } }").expect_err("roots").code,
            "MAX_ROOT_FIELDS_EXCEEDED"
        );
        assert!(check("{ a b }").is_ok());
    }

    const ROOMY: Limits = Limits {
        max_tokens: 100_000,
        max_depth: 100,
        max_aliases: 100,
        max_root_fields: 100,
    };

    fn check_introspection(q: &str) -> Result<(), LimitExceeded> {
        let doc = async_graphql::parser::parse_query(q).expect("parses");
        ROOMY.check_document(&doc, None)
    }

    #[test]
    fn the_standard_introspection_queries_pass() {
        for query in [
            include_str!("../plan/fixtures/introspection_query.graphql"),
            include_str!("../plan/fixtures/introspection.graphql"),
        ] {
            assert_eq!(check_introspection(query), Ok(()));
        }
        // Two nested lists are fine, and so is one inside each of two roots.
        assert!(
            check_introspection("{ __type(name: \"A\") { fields { type { fields { name } } } } }")
                .is_ok()
        );
    }

    #[test]
    fn introspection_may_not_nest_lists_three_deep() {
        let e = check_introspection(
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
        )
        .expect_err("three nested lists");
        assert_eq!(e.code, "MAX_INTROSPECTION_DEPTH_EXCEEDED");
        assert_eq!(e.message, "Maximum introspection depth exceeded");
        for query in [
            "{ __type(name: \"A\") { interfaces { possibleTypes { inputFields { name } } } } }",
            "{ ... on Query { __schema { types { fields { type { interfaces { possibleTypes { name } } } } } } } }",
        ] {
            assert_eq!(
                check_introspection(query).expect_err(query).code,
                "MAX_INTROSPECTION_DEPTH_EXCEEDED"
            );
        }
        // The same field names outside introspection are the schema's own business.
        assert!(
            check_introspection("{ fields { fields { fields { fields { name } } } } }").is_ok()
        );
    }

    #[test]
    fn introspection_depth_counts_through_fragments() {
        let e = check_introspection(
            "{ ...Root }
             fragment Root on Query { __schema { types { ...T } } }
             fragment T on __Type { fields { type { ...U } } }
             fragment U on __Type { interfaces { name } possibleTypes { ...V } }
             fragment V on __Type { inputFields { name } }",
        )
        .expect_err("three nested lists through fragments");
        assert_eq!(e.code, "MAX_INTROSPECTION_DEPTH_EXCEEDED");
        // Fragment cycles are refused later by validation, and must not hang this check.
        assert!(
            check_introspection(
                "{ __schema { types { ...A } } }
                 fragment A on __Type { ofType { ...B } }
                 fragment B on __Type { ofType { ...A } }"
            )
            .is_ok()
        );
        // A fragment spread many times over is checked once per state, not once per path
        // (2^40 paths here).
        let mut text = String::from("{ __schema { types { ...F0 } } }\n");
        for i in 0..40 {
            text.push_str(&format!(
                "fragment F{i} on __Type {{ ofType {{ name }} ...F{n} ...F{n} }}\n",
                n = i + 1
            ));
        }
        text.push_str("fragment F40 on __Type { fields { name } }");
        let doc = async_graphql::parser::parse_query(&text).expect("parses");
        let op = select_operation(&doc, None).expect("one operation");
        assert!(!introspection_too_deep(&doc, &op.selection_set.node));
        // And so is a fragment searched for introspection roots.
        let text = text.replacen("{ __schema { types { ...F0 } } }", "{ ...F0 }", 1);
        let doc = async_graphql::parser::parse_query(&text).expect("parses");
        let op = select_operation(&doc, None).expect("one operation");
        assert!(!introspection_too_deep(&doc, &op.selection_set.node));
    }

    #[test]
    fn of_type_chains_are_bounded() {
        let chain = |n: usize| {
            format!(
                "{{ __type(name: \"A\") {{ {}name{} }} }}",
                "ofType { ".repeat(n),
                " }".repeat(n)
            )
        };
        assert!(check_introspection(&chain(16)).is_ok());
        assert_eq!(
            check_introspection(&chain(17)).expect_err("17 ofType").code,
            "MAX_INTROSPECTION_DEPTH_EXCEEDED"
        );
    }

    #[test]
    fn tokens_are_bounded_before_parsing() {
        let q = format!("{{ {} }}", "a ".repeat(60));
        assert_eq!(check(&q).expect_err("tokens").code, "MAX_TOKENS_EXCEEDED");
    }
}
