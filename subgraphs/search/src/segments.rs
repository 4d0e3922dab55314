//! What the search service derives once from each segment of a tantivy index (the
//! suggestions' best entries per prefix, `tops.rs`; the frequent terms' bit sets,
//! `dense.rs`), and the thread that derives it after each commit.
//!
//! A segment never changes once written (only its deletions grow), so what is derived
//! from it holds as long as it exists: the thread derives it for new segments and
//! forgets the segments merged away. A search that meets a segment without it (just
//! written) reads the segment's postings as it would anyway.

use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use tantivy::index::SegmentId;
use tantivy::{Searcher, SegmentReader};

/// A `T` per segment (cheap to clone: the clones share it).
pub struct PerSegment<T> {
    segments: Arc<RwLock<FxHashMap<SegmentId, Arc<T>>>>,
}

impl<T> Clone for PerSegment<T> {
    fn clone(&self) -> Self {
        PerSegment {
            segments: self.segments.clone(),
        }
    }
}

impl<T> Default for PerSegment<T> {
    fn default() -> Self {
        PerSegment {
            segments: Arc::default(),
        }
    }
}

impl<T> PerSegment<T> {
    /// What was derived from `segment`, if it was.
    pub fn get(&self, segment: &SegmentReader) -> Option<Arc<T>> {
        self.segments
            .read()
            .ok()?
            .get(&segment.segment_id())
            .cloned()
    }

    /// Derives (`build`) for each segment of `searcher`, biggest first, whose current
    /// value `wants` another (given `None` when it has none), and forgets the segments
    /// that are gone.
    pub fn refresh(
        &self,
        searcher: &Searcher,
        wants: impl Fn(&SegmentReader, Option<&T>) -> bool,
        build: impl Fn(&SegmentReader) -> tantivy::Result<T>,
    ) -> tantivy::Result<()> {
        let mut segments: Vec<&SegmentReader> = searcher.segment_readers().iter().collect();
        segments.sort_by_key(|s| Reverse(s.max_doc()));
        for segment in &segments {
            if !wants(segment, self.get(segment).as_deref()) {
                continue;
            }
            let value = Arc::new(build(segment)?);
            if let Ok(mut all) = self.segments.write() {
                all.insert(segment.segment_id(), value);
            }
        }
        let current: HashSet<SegmentId> = segments.iter().map(|s| s.segment_id()).collect();
        if let Ok(mut all) = self.segments.write() {
            all.retain(|id, _| current.contains(id));
        }
        Ok(())
    }

    /// Everything derived, over all segments.
    #[cfg(test)]
    pub fn all(&self) -> Vec<Arc<T>> {
        self.segments
            .read()
            .map_or_else(|_| Vec::new(), |all| all.values().cloned().collect())
    }
}

/// Starts a thread named `name` that runs `refresh` once at once and again each time the
/// returned sender is sent to (wakes that come while it runs make one more run); it ends
/// when the sender is dropped.
pub fn refresher(
    name: &str,
    mut refresh: impl FnMut() + Send + 'static,
) -> std::io::Result<std::sync::mpsc::Sender<()>> {
    let (wake, woken) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            while woken.recv().is_ok() {
                while woken.try_recv().is_ok() {}
                refresh();
            }
        })?;
    let _ = wake.send(());
    Ok(wake)
}
