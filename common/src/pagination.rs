//! Relay cursor pagination: argument rules of the contract, opaque cursors, and the
//! `PageInfo` type every subgraph shares.
//!
//! A list is ordered by a unique, stable key (for most lists a UUID v7 id, so the order is
//! creation order). A cursor is that key, base64url-encoded behind a version tag, so
//! clients treat it as opaque and we can change what is inside.

use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest `first` accepted; more is `BAD_USER_INPUT`.
pub const MAX_PAGE_SIZE: u64 = 100;

const CURSOR_TAG: &str = "c1:";

/// Validated `first`/`after` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// How many items the page holds at most.
    pub limit: u64,
    /// The ordering key after which the page starts (decoded from the cursor).
    pub after: Option<String>,
}

impl PageRequest {
    /// Applies the contract's rules: `first` defaults to 20, must be 0..=100, and `after`
    /// must be a cursor this API issued.
    pub fn parse(first: Option<i32>, after: Option<String>) -> Result<Self> {
        let limit = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n < 0 => return Err(Error::validation("first", "must not be negative")),
            Some(n) if n as u64 > MAX_PAGE_SIZE => {
                return Err(Error::validation(
                    "first",
                    format!("must be at most {MAX_PAGE_SIZE}"),
                ));
            }
            Some(n) => n as u64,
        };
        let after = after.map(|c| decode_cursor(&c)).transpose()?;
        Ok(PageRequest { limit, after })
    }

    /// How many rows to fetch: one more than the page, to learn `hasNextPage`.
    pub fn fetch_limit(&self) -> u64 {
        self.limit + 1
    }
}

/// The cursor of an item whose ordering key is `key`.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_TAG}{key}"))
}

/// The ordering key inside a cursor; anything we did not issue is `BAD_USER_INPUT`.
pub fn decode_cursor(cursor: &str) -> Result<String> {
    let bad = || Error::validation("after", "is not a cursor from this API");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    // A key no stored row can have (empty, or with a NUL, which PostgreSQL cannot even
    // compare) was not issued by us.
    text.strip_prefix(CURSOR_TAG)
        .filter(|k| !k.is_empty() && crate::db::is_storable_text(k))
        .map(str::to_owned)
        .ok_or_else(bad)
}

/// One page of a list, before it becomes a GraphQL connection.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items with their cursors, in list order.
    pub edges: Vec<(String, T)>,
    pub has_next_page: bool,
    /// Every match of the list, not just this page.
    pub total_count: u64,
}

impl<T> Page<T> {
    /// Builds a page from up to `fetch_limit()` rows: the extra row only tells that
    /// there is a next page.
    pub fn from_rows(
        req: &PageRequest,
        mut rows: Vec<T>,
        total_count: u64,
        key: impl Fn(&T) -> &str,
    ) -> Self {
        let has_next_page = rows.len() as u64 > req.limit;
        rows.truncate(req.limit as usize);
        let edges = rows
            .into_iter()
            .map(|r| (encode_cursor(key(&r)), r))
            .collect();
        Page {
            edges,
            has_next_page,
            total_count,
        }
    }

    /// A page of a list with nothing in it: what a list of something that does not exist
    /// (an id that names nothing) shows.
    pub fn empty() -> Self {
        Page {
            edges: Vec::new(),
            has_next_page: false,
            total_count: 0,
        }
    }

    /// The same page with every item mapped.
    pub fn map<U>(self, f: impl Fn(T) -> U) -> Page<U> {
        Page {
            edges: self.edges.into_iter().map(|(c, t)| (c, f(t))).collect(),
            has_next_page: self.has_next_page,
            total_count: self.total_count,
        }
    }
}

/// Where a page of a connection ends, and whether another page follows.
// Every subgraph defines it identically, so it is `@shareable`.
#[derive(async_graphql::SimpleObject, Debug, Clone)]
#[graphql(shareable)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// Declares a Relay connection type and its edge type for a node type.
///
/// `connection!(UserConnection, UserEdge, User)` gives `UserConnection { edges, nodes,
/// pageInfo, totalCount }` built `From<Page<User>>`. The node type must be `Clone`.
/// `connection!(shareable ContentConnection, ContentEdge, Content)` marks both types
/// `@shareable`, for a connection that more than one subgraph returns.
#[macro_export]
macro_rules! connection {
    (shareable $conn:ident, $edge:ident, $node:ty) => {
        $crate::connection!(@define [#[graphql(shareable)]] [shareable] $conn, $edge, $node);
    };
    ($conn:ident, $edge:ident, $node:ty) => {
        $crate::connection!(@define [] [] $conn, $edge, $node);
    };
    (@define [$($edge_attr:tt)*] [$($object_arg:tt)*] $conn:ident, $edge:ident, $node:ty) => {
        #[derive(::async_graphql::SimpleObject, Clone)]
        $($edge_attr)*
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        pub struct $conn(pub $crate::pagination::Page<$node>);

        #[::async_graphql::Object($($object_arg)*)]
        impl $conn {
            async fn edges(&self) -> Vec<$edge> {
                self.0
                    .edges
                    .iter()
                    .map(|(cursor, node)| $edge {
                        cursor: cursor.clone(),
                        node: node.clone(),
                    })
                    .collect()
            }
            async fn nodes(&self) -> Vec<$node> {
                self.0.edges.iter().map(|(_, n)| n.clone()).collect()
            }
            async fn page_info(&self) -> $crate::pagination::PageInfo {
                $crate::pagination::PageInfo {
                    has_next_page: self.0.has_next_page,
                    end_cursor: self.0.edges.last().map(|(c, _)| c.clone()),
                }
            }
            async fn total_count(&self) -> i32 {
                i32::try_from(self.0.total_count).unwrap_or(i32::MAX)
            }
        }

        impl From<$crate::pagination::Page<$node>> for $conn {
            fn from(page: $crate::pagination::Page<$node>) -> Self {
                $conn(page)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_defaults_and_is_capped() {
        assert_eq!(PageRequest::parse(None, None).expect("ok").limit, 20);
        assert_eq!(PageRequest::parse(Some(100), None).expect("ok").limit, 100);
        assert!(PageRequest::parse(Some(101), None).is_err());
        assert!(PageRequest::parse(Some(-1), None).is_err());
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor("0192-abc");
        assert_eq!(decode_cursor(&c).expect("ok"), "0192-abc");
        assert!(decode_cursor("not a cursor!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("x:1")).is_err());
    }

    #[test]
    fn extra_row_means_next_page() {
        let req = PageRequest::parse(Some(2), None).expect("ok");
        let page = Page::from_rows(&req, vec!["a".to_owned(), "b".into(), "c".into()], 3, |s| s);
        assert!(page.has_next_page);
        assert_eq!(page.edges.len(), 2);
        let page = Page::from_rows(&req, vec!["a".to_owned()], 1, |s| s);
        assert!(!page.has_next_page);
    }
}
