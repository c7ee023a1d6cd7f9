//! A running consumer: the loop that takes deliveries from a transport's
//! source, checks the envelope, runs the handler (catching panics) and
//! settles the message by the outcome; and the [`Consumer`] handle that
//! stops it gracefully or aborts it like a crash.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::dead_letter::DeadReason;
use crate::envelope::{Envelope, Kind, RemoteError, ReplyOutcome};
use crate::error::HandlerError;
use crate::handler::{Handler, Incoming};
use crate::transport::{Delivery, Source};

/// A handle on a running consumer. Dropping it aborts the consumer (see
/// [`Consumer::abort`]); call [`Consumer::stop`] for a clean shutdown.
#[must_use = "dropping a Consumer aborts it"]
#[derive(Debug)]
pub struct Consumer {
    what: String,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Consumer {
    pub(crate) fn spawn(
        what: String,
        source: Box<dyn Source>,
        handler: Arc<dyn Handler>,
    ) -> Consumer {
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(source, handler, stop.clone()));
        Consumer {
            what,
            stop,
            task: Some(task),
        }
    }

    /// What this consumer listens to: the topic, or `pattern` / `pattern@group`.
    pub fn name(&self) -> &str {
        &self.what
    }

    /// Graceful shutdown (e.g. on SIGTERM): takes no new messages, lets the
    /// handler in flight finish and settles its message, then returns.
    /// Waits as long as the handler takes; see [`Consumer::stop_within`].
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// [`Consumer::stop`], but if the handler in flight has not finished
    /// within `grace`, aborts it as [`Consumer::abort`] does: its message is
    /// not acknowledged and will be delivered again. Returns whether the
    /// stop was graceful.
    pub async fn stop_within(mut self, grace: Duration) -> bool {
        self.stop.cancel();
        let Some(mut task) = self.task.take() else {
            return true;
        };
        if tokio::time::timeout(grace, &mut task).await.is_ok() {
            return true;
        }
        tracing::warn!(consumer = %self.what, ?grace, "the handler did not finish in time; aborting it");
        task.abort();
        let _ = task.await;
        false
    }

    /// Stops at once, as if the process died: the handler in flight is
    /// dropped and its message is not acknowledged, so the broker delivers it
    /// again (flagged redelivered) to another consumer. Returns once the
    /// handler is gone.
    pub async fn abort(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    pub(crate) fn abort_handle(&self) -> Option<tokio::task::AbortHandle> {
        self.task.as_ref().map(|t| t.abort_handle())
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn run(mut source: Box<dyn Source>, handler: Arc<dyn Handler>, stop: CancellationToken) {
    let mut stopping = false;
    while !stopping {
        let delivery = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            d = source.next() => match d {
                Some(d) => d,
                None => return,
            },
        };
        let work = process(&*handler, delivery);
        tokio::pin!(work);
        tokio::select! {
            _ = &mut work => {}
            _ = stop.cancelled() => {
                stopping = true;
                // Cancel at the broker while the handler runs, so nothing
                // new is sent to a consumer that is about to leave; the
                // handler keeps running while the broker answers.
                tokio::join!(work, source.cancel());
            }
        }
    }
    if !stopping {
        source.cancel().await;
    }
    source.close().await;
}

async fn process(handler: &dyn Handler, delivery: Delivery) {
    let Delivery {
        body,
        topic,
        redelivered,
        attempt,
        settle,
    } = delivery;
    let envelope = match Envelope::decode(&body) {
        Ok(env) if env.kind == Kind::Call && env.is_expired() => {
            // Its caller got a timeout already, so the work would be
            // unasked for; the broker's own expiry may not catch it
            // (a call delivered before and returned after its time).
            tracing::info!(%topic, id = %env.id, method = %env.method, "dead-lettering a call its caller stopped waiting for");
            settle
                .dead_letter(DeadReason::Expired, "the caller's timeout passed".into())
                .await;
            return;
        }
        Ok(env) if env.kind != Kind::Reply => env,
        Ok(env) => {
            tracing::warn!(%topic, id = %env.id, "dead-lettering a reply sent to a consumer queue");
            settle
                .dead_letter(DeadReason::Malformed, "a reply is not a request".into())
                .await;
            return;
        }
        Err(error) => {
            let detail = virga_common::error::chain(&error);
            tracing::warn!(%topic, error = %detail, bytes = body.len(), "dead-lettering a malformed message");
            settle.dead_letter(DeadReason::Malformed, detail).await;
            return;
        }
    };
    let span = tracing::info_span!(
        "bus_message",
        %topic,
        method = %envelope.method,
        kind = ?envelope.kind,
        id = %envelope.id,
        request_id = envelope.context.request_id.as_ref().map(|r| r.as_str()).unwrap_or(""),
        redelivered,
    );
    let incoming = Incoming {
        envelope: envelope.clone(),
        topic,
        redelivered,
    };
    let outcome = AssertUnwindSafe(handler.handle(incoming))
        .catch_unwind()
        .instrument(span.clone())
        .await;
    finish(&envelope, outcome, settle, attempt)
        .instrument(span)
        .await;
}

type Outcome = Result<Result<serde_json::Value, HandlerError>, Box<dyn std::any::Any + Send>>;

async fn finish(
    envelope: &Envelope,
    outcome: Outcome,
    mut settle: Box<dyn crate::transport::Settle>,
    attempt: u32,
) {
    let is_call = envelope.kind == Kind::Call;
    let reply = |outcome| envelope.reply(outcome).encode();
    match outcome {
        Ok(Ok(value)) => {
            if is_call {
                settle.reply(reply(ReplyOutcome::Result(value))).await;
            }
            settle.ack().await;
        }
        Ok(Err(HandlerError::Fail { code, message })) => {
            if is_call {
                settle
                    .reply(reply(ReplyOutcome::Error(RemoteError { code, message })))
                    .await;
            } else {
                tracing::warn!(%code, %message, "handler failed; the message is dropped");
            }
            settle.ack().await;
        }
        Ok(Err(HandlerError::Retry(reason))) => {
            tracing::info!(%reason, attempt, "handler asked for a retry");
            tokio::time::sleep(retry_pause(attempt)).await;
            settle.requeue().await;
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %what, attempt, "handler panicked; the message will be retried");
            tokio::time::sleep(retry_pause(attempt)).await;
            settle.requeue().await;
        }
    }
}

/// Pauses before requeueing so a failing dependency gets a moment to
/// recover instead of the delivery limit being spent within milliseconds:
/// 50 ms doubling per attempt, at most 2 s.
fn retry_pause(attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(6);
    Duration::from_millis(50u64 << exp).min(Duration::from_secs(2))
}
