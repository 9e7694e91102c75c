//! The futures and guards the engine hands to operations: waiting for an update to be durable,
//! never resolving (halted, parked), and marking a step body as running.

use super::Execution;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// See [`Execution::durable`].
pub(crate) struct Durable {
    pub(super) exec: Arc<Execution>,
    pub(super) seq: u64,
}

impl Future for Durable {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut inner = self.exec.lock();
        if inner.failure.is_none() && inner.durable_seq > self.seq {
            return Poll::Ready(());
        }
        inner.waiters.push(cx.waker().clone());
        // Code waits for this update: it and everything before it go out without delay.
        if inner.urgent_seq <= self.seq {
            inner.urgent_seq = self.seq + 1;
            if let Some(waker) = inner.driver.take() {
                waker.wake();
            }
        }
        Poll::Pending
    }
}

/// See [`Execution::halt`].
pub(crate) struct Halted;

impl Future for Halted {
    type Output = std::convert::Infallible;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Pending
    }
}

/// See [`Execution::park`].
pub(crate) struct Parked {
    pub(super) exec: Arc<Execution>,
    pub(super) counted: bool,
}

impl Future for Parked {
    type Output = std::convert::Infallible;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.counted {
            self.counted = true;
            self.exec.lock().parked += 1;
        }
        Poll::Pending
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        if self.counted {
            let mut inner = self.exec.lock();
            inner.parked = inner.parked.saturating_sub(1);
        }
    }
}

/// See [`Execution::busy`].
pub(crate) struct Busy {
    pub(super) exec: Arc<Execution>,
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut inner = self.exec.lock();
        inner.busy = inner.busy.saturating_sub(1);
    }
}
