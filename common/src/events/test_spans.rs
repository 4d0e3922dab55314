//! For tests: which spans code opened, and with which fields.

use std::sync::{Arc, Mutex};

/// Every span opened on the test's thread, as "name field=value …", fields recorded
/// later included. Spans are listed when they open, not when they close: a span's last
/// handle may outlive the code that opened it (a database driver's worker thread holds
/// one for a while).
#[derive(Clone, Default)]
pub struct SeenSpans(Arc<Mutex<Vec<String>>>);

/// Where a span's text is in the list.
struct Entry(usize);

struct SpanText<'a>(&'a mut String);

impl tracing::field::Visit for SpanText<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl<S> tracing_subscriber::Layer<S> for SeenSpans
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut text = attrs.metadata().name().to_owned();
        attrs.record(&mut SpanText(&mut text));
        // A test that failed holding the lock has already said why.
        let Ok(mut seen) = self.0.lock() else {
            return;
        };
        seen.push(text);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Entry(seen.len() - 1));
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let Some(&Entry(i)) = span.extensions().get::<Entry>() else {
            return;
        };
        if let Ok(mut seen) = self.0.lock()
            && let Some(text) = seen.get_mut(i)
        {
            values.record(&mut SpanText(text));
        }
    }
}

impl SeenSpans {
    /// Records the spans of this thread until the guard drops (a `#[tokio::test]` runs
    /// its futures on its own thread).
    pub fn watch(&self) -> tracing::subscriber::DefaultGuard {
        use tracing_subscriber::layer::SubscriberExt as _;
        tracing::subscriber::set_default(tracing_subscriber::registry().with(self.clone()))
    }

    /// Fails the test unless a span with exactly this text was opened.
    pub fn assert_seen(&self, text: &str) {
        let seen = self.0.lock().expect("not poisoned");
        assert!(
            seen.iter().any(|s| s == text),
            "{text:?} not among {seen:?}"
        );
    }
}
