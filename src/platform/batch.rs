//! Reads that the concurrent requests of one isolate make at the same moment, coalesced into
//! one: while a read is in flight, the requests that need one queue their keys, and the next
//! read (made by the first of them as soon as the one in flight is back) answers them all.
//! Nothing is remembered between reads: every request's answer comes from a read that started
//! after the request asked, as when each made its own. A lone request reads at once, alone.
//!
//! Why: a reconnect storm (every console's socket at once, after a deploy) is hundreds of
//! session checks against D1 within a second, and each D1 statement has a fixed cost that
//! dwarfs its row (docs/benchmarks.md, "Socket open").
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

/// Where one request's answer arrives.
type Slot<V> = Rc<RefCell<Option<V>>>;

struct Inner<K, V> {
    reading: Cell<bool>,
    queue: RefCell<Vec<(K, Slot<V>)>>,
}

/// Coalesces reads of `V` by key `K` (see the module). Cheap to clone: clones share the queue.
pub struct Coalescer<K, V>(Rc<Inner<K, V>>);

impl<K, V> Clone for Coalescer<K, V> {
    fn clone(&self) -> Self {
        Coalescer(self.0.clone())
    }
}

impl<K, V> Default for Coalescer<K, V> {
    fn default() -> Self {
        Coalescer(Rc::new(Inner {
            reading: Cell::new(false),
            queue: RefCell::new(Vec::new()),
        }))
    }
}

/// A request's place while it waits: when its future is dropped (the client went away), it
/// leaves the queue.
struct Place<'a, K, V> {
    inner: &'a Inner<K, V>,
    slot: Slot<V>,
}

impl<K, V> Drop for Place<'_, K, V> {
    fn drop(&mut self) {
        self.inner
            .queue
            .borrow_mut()
            .retain(|(_, s)| !Rc::ptr_eq(s, &self.slot));
    }
}

/// The read in flight: when it ends without answering (its request's future dropped), its
/// keys go back to the front of the queue; either way the next read may start.
struct Reading<'a, K, V> {
    inner: &'a Inner<K, V>,
    batch: Vec<(K, Slot<V>)>,
}

impl<K, V> Drop for Reading<'_, K, V> {
    fn drop(&mut self) {
        let unanswered = std::mem::take(&mut self.batch);
        if !unanswered.is_empty() {
            let mut queue = self.inner.queue.borrow_mut();
            let rest = std::mem::replace(&mut *queue, unanswered);
            queue.extend(rest);
        }
        self.inner.reading.set(false);
    }
}

impl<K: Clone, V> Coalescer<K, V> {
    /// The answer for `key`: `read` is given the keys of one read (this one's among them, in
    /// the order they asked) and answers each, in that order. While another request's read is
    /// in flight, this one looks again after each `pause()`: a wait of its own (a timer), since
    /// the runtime runs each request's code in that request's context, so one request's read
    /// must not resume another's code (workerd would cancel it as hung).
    pub async fn get<F, Fut, P, PFut>(&self, key: K, read: F, pause: P) -> V
    where
        F: Fn(Vec<K>) -> Fut,
        Fut: Future<Output = Vec<V>>,
        P: Fn() -> PFut,
        PFut: Future<Output = ()>,
    {
        let inner = &*self.0;
        let place = Place {
            inner,
            slot: Rc::new(RefCell::new(None)),
        };
        inner.queue.borrow_mut().push((key, place.slot.clone()));
        loop {
            if let Some(v) = place.slot.borrow_mut().take() {
                return v;
            }
            if inner.reading.get() {
                pause().await;
                continue;
            }
            inner.reading.set(true);
            let mut reading = Reading {
                inner,
                batch: std::mem::take(&mut *inner.queue.borrow_mut()),
            };
            let keys = reading.batch.iter().map(|(k, _)| k.clone()).collect();
            let mut values = read(keys).await.into_iter();
            // Answered in order; a key `read` left unanswered goes back to the queue.
            reading.batch.retain(|(_, slot)| match values.next() {
                Some(v) => {
                    *slot.borrow_mut() = Some(v);
                    false
                }
                None => true,
            });
            drop(reading);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll, Wake, Waker};

    struct Noop;
    impl Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }

    /// A read that stays in flight until the test lets it finish.
    #[derive(Default)]
    struct Reads {
        calls: RefCell<Vec<Vec<u32>>>,
        open: Cell<bool>,
    }

    struct Gate<'a>(&'a Reads);
    impl Future for Gate<'_> {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if self.0.open.get() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    /// A pause that lets the test poll again: pending once, then done.
    struct Pause(bool);
    impl Future for Pause {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if std::mem::replace(&mut self.0, true) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }
    fn pause() -> Pause {
        Pause(false)
    }

    fn poll<F: Future>(f: &mut Pin<Box<F>>) -> Poll<F::Output> {
        let waker = Waker::from(std::sync::Arc::new(Noop));
        f.as_mut().poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn requests_that_ask_while_a_read_is_in_flight_share_the_next_read() {
        let c: Coalescer<u32, u32> = Coalescer::default();
        let reads = Reads::default();
        let read = |keys: Vec<u32>| {
            reads.calls.borrow_mut().push(keys.clone());
            let gate = Gate(&reads);
            async move {
                gate.await;
                keys.iter().map(|k| k * 10).collect::<Vec<_>>()
            }
        };
        // The first reads at once, alone.
        let mut a = Box::pin(c.get(1, read, pause));
        assert!(poll(&mut a).is_pending());
        assert_eq!(*reads.calls.borrow(), vec![vec![1]]);
        // Three more ask while it is in flight: they wait.
        let mut b = Box::pin(c.get(2, read, pause));
        let mut d = Box::pin(c.get(3, read, pause));
        let mut e = Box::pin(c.get(4, read, pause));
        for f in [&mut b, &mut d, &mut e] {
            assert!(poll(f).is_pending());
        }
        assert_eq!(reads.calls.borrow().len(), 1);
        // The read is back: the first has its answer, and the next read is all three's.
        reads.open.set(true);
        assert_eq!(poll(&mut a), Poll::Ready(10));
        assert_eq!(poll(&mut b), Poll::Ready(20));
        assert_eq!(*reads.calls.borrow(), vec![vec![1], vec![2, 3, 4]]);
        assert_eq!(poll(&mut d), Poll::Ready(30));
        assert_eq!(poll(&mut e), Poll::Ready(40));
        assert_eq!(reads.calls.borrow().len(), 2);
    }

    #[test]
    fn a_request_that_goes_away_hands_on_its_read() {
        let c: Coalescer<u32, u32> = Coalescer::default();
        let reads = Reads::default();
        let read = |keys: Vec<u32>| {
            reads.calls.borrow_mut().push(keys.clone());
            let gate = Gate(&reads);
            async move {
                gate.await;
                keys.iter().map(|k| k * 10).collect::<Vec<_>>()
            }
        };
        let mut a = Box::pin(c.get(1, read, pause));
        let mut b = Box::pin(c.get(2, read, pause));
        let mut d = Box::pin(c.get(3, read, pause));
        for f in [&mut a, &mut b, &mut d] {
            assert!(poll(f).is_pending());
        }
        reads.open.set(true);
        assert_eq!(poll(&mut a), Poll::Ready(10));
        // The second reads for both waiting, then goes away mid-read: the third reads again.
        reads.open.set(false);
        assert!(poll(&mut b).is_pending());
        assert_eq!(*reads.calls.borrow(), vec![vec![1], vec![2, 3]]);
        drop(b);
        reads.open.set(true);
        assert_eq!(poll(&mut d), Poll::Ready(30));
        assert_eq!(*reads.calls.borrow(), vec![vec![1], vec![2, 3], vec![3]]);
        // A waiter that goes away leaves nothing behind.
        reads.open.set(false);
        let mut f = Box::pin(c.get(5, read, pause));
        let mut g = Box::pin(c.get(6, read, pause));
        assert!(poll(&mut f).is_pending());
        assert!(poll(&mut g).is_pending());
        drop(g);
        reads.open.set(true);
        assert_eq!(poll(&mut f), Poll::Ready(50));
        assert!(c.0.queue.borrow().is_empty());
        assert!(!c.0.reading.get());
    }
}
