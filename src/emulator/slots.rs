//! A loaded model's parallel slots, as Ollama's runner keeps them: it generates for at
//! most `OLLAMA_NUM_PARALLEL` requests at once, and the others wait their turn, first
//! come first served. While several generate, each goes slower than it would alone
//! (they share the GPU), but together they make more tokens than one: batched decoding.

use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The slots of one load of a model.
#[derive(Debug)]
pub struct Slots {
    /// Tokio's semaphore is fair: permits go out in the order they were asked for, as
    /// requests queue for Ollama's runner.
    free: Arc<Semaphore>,
    size: usize,
}

/// One slot, held while a request is answered; dropping it frees the slot for the
/// request that has waited longest.
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Slots {
    /// `size` slots (at least one).
    pub fn new(size: usize) -> Arc<Slots> {
        let size = size.max(1);
        Arc::new(Slots {
            free: Arc::new(Semaphore::new(size)),
            size,
        })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Waits for a free slot, behind every request that asked before.
    pub async fn take(&self) -> Slot {
        let permit = self
            .free
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        Slot { _permit: permit }
    }

    /// Requests holding a slot now: those being answered.
    pub fn busy(&self) -> usize {
        self.size - self.free.available_permits()
    }
}

/// The speed of one stream while `busy` streams (itself included) generate at once:
/// `rate / (1 + slowdown × (busy − 1))`. Alone it is `rate`; `busy` streams together make
/// `busy / (1 + slowdown × (busy − 1))` times one stream's tokens, which grows with
/// `busy` but less than in proportion, and not at all with a slowdown of 1.
pub fn stream_rate(rate: f64, busy: usize, slowdown: f64) -> f64 {
    rate / (1.0 + slowdown * busy.saturating_sub(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn streams_together_outpace_one_but_not_in_proportion() {
        assert_eq!(
            stream_rate(60.0, 1, 0.1),
            60.0,
            "alone: the configured rate"
        );
        assert_eq!(stream_rate(60.0, 0, 0.1), 60.0);
        let together = |k: usize, slowdown: f64| k as f64 * stream_rate(60.0, k, slowdown);
        assert!((together(4, 0.1) - 60.0 * 4.0 / 1.3).abs() < 1e-9);
        assert!(together(2, 0.1) > together(1, 0.1));
        assert!(together(4, 0.1) > together(2, 0.1));
        assert!(together(4, 0.1) < 4.0 * 60.0, "sub-linear");
        assert_eq!(together(4, 0.0), 240.0, "no slowdown: linear");
        assert!(
            (together(4, 1.0) - 60.0).abs() < 1e-9,
            "slowdown 1: no gain"
        );
    }

    #[tokio::test]
    async fn a_slot_is_held_until_dropped_and_counted_busy() {
        let slots = Slots::new(2);
        assert_eq!((slots.size(), slots.busy()), (2, 0));
        let a = slots.take().await;
        let b = slots.take().await;
        assert_eq!(slots.busy(), 2);
        drop(a);
        assert_eq!(slots.busy(), 1);
        drop(b);
        assert_eq!(slots.busy(), 0);
        assert_eq!(Slots::new(0).size(), 1, "never fewer than one slot");
    }

    /// With every slot taken, requests wait, and get the slot in the order they came.
    #[tokio::test]
    async fn waiting_requests_are_served_first_come_first_served() {
        let slots = Slots::new(1);
        let first = slots.take().await;
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for n in 1..=3 {
            let (slots, order) = (slots.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let slot = slots.take().await;
                order.lock().unwrap().push(n);
                tokio::time::sleep(Duration::from_millis(2)).await;
                drop(slot);
            }));
            // Each asks before the next is spawned.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(
            order.lock().unwrap().is_empty(),
            "nobody got the taken slot"
        );
        drop(first);
        for w in waiting {
            tokio::time::timeout(Duration::from_secs(5), w)
                .await
                .expect("every waiting request is served")
                .unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [1, 2, 3]);
    }
}
