//! The in-process bus of the one-process run: publishing an event hands it to every
//! subscriber whose types match, in this process, all at once, and succeeds once all of
//! them have handled it. Publishing several (a relay round) hands each subscriber the ones it
//! wants as one batch. A subscriber that fails makes the publish fail, so the outbox relay tries
//! again later (subscribers that had succeeded see the event twice and ignore it).
//! Observers (`folio events tail`, tests) get each event as it is published.

use super::{BoxFuture, Bus, Event, Handler, matches};
use crate::Result;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc, watch};

struct Subscriber {
    kinds: Vec<String>,
    handler: Handler,
    stop: watch::Receiver<bool>,
}

/// Events delivered within this process.
pub struct LocalBus {
    subscribers: Mutex<Vec<Arc<Subscriber>>>,
    observers: broadcast::Sender<Event>,
}

impl Default for LocalBus {
    fn default() -> Self {
        LocalBus {
            subscribers: Mutex::new(Vec::new()),
            observers: broadcast::channel(4_096).0,
        }
    }
}

impl LocalBus {
    pub fn new() -> Self {
        LocalBus::default()
    }
}

impl Bus for LocalBus {
    fn publish<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            match self.publish_all(std::slice::from_ref(event)).await {
                (_, Some(e)) => Err(e),
                (_, None) => Ok(()),
            }
        })
    }

    /// All or nothing: a subscriber that fails its batch fails the whole publish, and
    /// the relay publishes the same events again (the others skip what they applied).
    fn publish_all<'a>(
        &'a self,
        events: &'a [Event],
    ) -> BoxFuture<'a, (usize, Option<crate::Error>)> {
        Box::pin(async move {
            let subscribers: Vec<Arc<Subscriber>> = self
                .subscribers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter()
                .filter(|s| !*s.stop.borrow())
                .cloned()
                .collect();
            // Observers see the events as published, before anything they cause (a
            // subscriber's own events can be published while it handles these). A
            // publish that fails and is retried is seen again: at least once, as on NATS.
            for event in events {
                let _ = self.observers.send(event.clone());
            }
            // Every subscriber handles its batch at the same time, so a slow one (search
            // committing its index) does not delay what the others make visible.
            let handling = subscribers.iter().filter_map(|s| {
                let batch: Vec<Event> = events
                    .iter()
                    .filter(|e| s.kinds.iter().any(|k| matches(k, &e.kind)))
                    .cloned()
                    .collect();
                (!batch.is_empty()).then(|| (s.handler)(batch))
            });
            let failed = futures_util::future::join_all(handling)
                .await
                .into_iter()
                .find_map(Result::err);
            match failed {
                Some(e) => (0, Some(e)),
                None => (events.len(), None),
            }
        })
    }

    fn subscribe<'a>(
        &'a self,
        _name: &'a str,
        kinds: &'a [&'a str],
        handler: Handler,
        stop: watch::Receiver<bool>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.subscribers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(Arc::new(Subscriber {
                    kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
                    handler,
                    stop,
                }));
            Ok(())
        })
    }

    fn observe(&self) -> BoxFuture<'_, Result<mpsc::Receiver<Event>>> {
        let mut rx = self.observers.subscribe();
        Box::pin(async move {
            let (tx, out) = mpsc::channel(4_096);
            tokio::spawn(async move {
                loop {
                    match rx.recv().await {
                        Ok(e) => {
                            if tx.send(e).await.is_err() {
                                break;
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(missed = n, "an event observer fell behind");
                        }
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::catalog::{ContentDeleted, UserDeleted};
    use crate::events::{Payload, StoredEvent};

    /// A subscriber that keeps the ids of what it is handed.
    fn keeping(seen: &Arc<Mutex<Vec<String>>>) -> Handler {
        let seen = seen.clone();
        Arc::new(move |events: Vec<Event>| {
            seen.lock().expect("seen").extend(
                events
                    .into_iter()
                    .map(|e| e.subject_id().unwrap_or_default()),
            );
            Box::pin(async { Ok(()) })
        })
    }

    #[tokio::test]
    async fn each_subscriber_gets_the_events_it_takes_in_order_and_observers_all() {
        let bus = LocalBus::new();
        let (_stop, stop) = watch::channel(false);
        let (users, contents, all) = (Arc::default(), Arc::default(), Arc::default());
        for (kinds, seen) in [
            (&["user.deleted"][..], &users),
            (&["content.*"][..], &contents),
            (&["*"][..], &all),
        ] {
            bus.subscribe("test", kinds, keeping(seen), stop.clone())
                .await
                .expect("subscribed");
        }
        let mut observed = bus.observe().await.expect("observing");
        let user = |id: &str| Payload::UserDeleted(UserDeleted { id: id.into() });
        let content = |id: &str| Payload::ContentDeleted(ContentDeleted { id: id.into() });
        let events: Vec<Event> = [user("u1"), content("c1"), user("u2"), content("c2")]
            .into_iter()
            .map(|p| Event::new(None, p).expect("an event"))
            .collect();
        let stored: Vec<StoredEvent> = events
            .iter()
            .map(|e| StoredEvent {
                id: e.id.clone(),
                kind: e.kind.clone(),
                json: serde_json::to_string(e).expect("json"),
            })
            .collect();
        let (published, error) = bus.publish_stored(&stored).await;
        assert_eq!((published, error.map(|e| e.log_message())), (4, None));
        let ids = |seen: &Arc<Mutex<Vec<String>>>| seen.lock().expect("seen").clone();
        assert_eq!(ids(&users), ["u1", "u2"]);
        assert_eq!(ids(&contents), ["c1", "c2"]);
        assert_eq!(ids(&all), ["u1", "c1", "u2", "c2"]);
        for event in &events {
            let seen = observed.recv().await.expect("observed");
            assert_eq!((&seen.id, &seen.data), (&event.id, &event.data));
        }
    }
}
