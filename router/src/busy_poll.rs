//! Optional busy polling (`FOLIO_ROUTER_BUSY_POLL_US`): after each sign of activity (a
//! request arriving or ending, a subgraph fetch going out) one task keeps the runtime
//! polling its sockets, without sleeping, for the configured window.
//!
//! Why: on a virtual machine whose guest kernel does not poll before halting an idle
//! vCPU, every sleep of the router's thread costs a halt, an inter-processor interrupt
//! and a wake on the other side, tens of microseconds each; one request through the
//! router sleeps twice (waiting for the subgraph, then for the client's next request).
//! Polling instead of sleeping removes those from the latency, paid for with the CPU
//! time spent polling (up to the whole window after each request). The Linux guest
//! default (`cpuidle-haltpoll`, `guest_halt_poll_ns`) makes the same trade with a 200 µs
//! window in the kernel; this is for machines where that is turned off. Off by default:
//! a router that burns CPU while idle is not what most deployments want.
//!
//! How: the poller task calls `yield_now` in a loop; a yielding task makes tokio's
//! worker poll the I/O driver with a zero timeout (`epoll_wait(…, 0)`) before running it
//! again, so readiness is seen as soon as it happens. When no activity was marked for a
//! whole window, the poller sleeps on a [`Notify`] until the next mark.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Shared by the pipeline and the subgraph client; [`BusyPoll::mark`] is their only call.
pub struct BusyPoll {
    /// Bumped by every mark; the poller compares it between turns.
    marks: AtomicU64,
    /// Whether the poller is asleep (a mark must wake it).
    asleep: AtomicBool,
    wake: Notify,
    window: Duration,
}

impl BusyPoll {
    /// Starts the poller on the current runtime; `None` (no poller) when `window` is zero.
    pub fn start(window: Duration) -> Option<Arc<BusyPoll>> {
        if window.is_zero() {
            return None;
        }
        let poll = Arc::new(BusyPoll {
            marks: AtomicU64::new(0),
            asleep: AtomicBool::new(false),
            wake: Notify::new(),
            window,
        });
        // The poller holds only a weak reference: it ends with the router's state.
        let weak = Arc::downgrade(&poll);
        tokio::spawn(async move {
            while let Some(poll) = weak.upgrade() {
                poll.run_once().await;
            }
        });
        Some(poll)
    }

    /// Something happened that makes another socket event likely soon.
    pub fn mark(&self) {
        self.marks.fetch_add(1, Ordering::Relaxed);
        if self.asleep.load(Ordering::Relaxed) {
            // A permit is stored if the poller is not waiting yet: no mark is lost.
            self.wake.notify_one();
        }
    }

    /// Polls until a whole window passes without a mark, then sleeps until the next one
    /// (or for a second, so that a dropped router lets the task end).
    async fn run_once(&self) {
        let mut seen = self.marks.load(Ordering::Relaxed);
        let mut quiet_since = Instant::now();
        loop {
            tokio::task::yield_now().await;
            let now_marks = self.marks.load(Ordering::Relaxed);
            if now_marks != seen {
                seen = now_marks;
                quiet_since = Instant::now();
            } else if quiet_since.elapsed() >= self.window {
                break;
            }
        }
        self.asleep.store(true, Ordering::SeqCst);
        if self.marks.load(Ordering::SeqCst) == seen {
            let _ = tokio::time::timeout(Duration::from_secs(1), self.wake.notified()).await;
        }
        self.asleep.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_zero_window_starts_no_poller() {
        assert!(BusyPoll::start(Duration::ZERO).is_none());
    }

    #[tokio::test(start_paused = false)]
    async fn the_poller_sleeps_after_a_quiet_window_and_wakes_on_a_mark() {
        let poll = BusyPoll::start(Duration::from_millis(50)).expect("a poller");
        let asleep = || poll.asleep.load(Ordering::SeqCst);
        let wait_for = |want: bool| async move {
            for _ in 0..2_000 {
                if asleep() == want {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            false
        };
        assert!(wait_for(true).await, "the poller never went to sleep");
        poll.mark();
        assert!(wait_for(false).await, "a mark did not wake the poller");
        assert!(
            wait_for(true).await,
            "the poller kept polling after the window"
        );
    }
}
