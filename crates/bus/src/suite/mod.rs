//! The behaviour suite every transport must pass, so that the in-process
//! bus and RabbitMQ keep one semantics. Each test is a `pub async fn` taking
//! a [`TestBroker`] (a fresh, empty broker per test); [`crate::bus_suite!`]
//! stamps them all out as `#[tokio::test]`s for one transport.
//!
//! Timing is never asserted by sleeping: waits poll with a deadline, and
//! only "nothing more arrives" checks use a short quiet period.

mod delivery;
mod failure;
mod rpc;

use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tokio::sync::mpsc;

use crate::{Bus, BusOptions, DeadLetter, Handler, Incoming, handler_fn};
pub use delivery::*;
pub use failure::*;
pub use rpc::*;

/// A fresh broker for one test.
#[async_trait]
pub trait TestBroker: Send + Sync {
    /// A new bus with its own connection, as another process would have.
    async fn bus(&self, options: BusOptions) -> Bus;
}

/// What the suite's buses use: a small delivery limit and short timeouts
/// keep the poison-message tests fast.
pub fn options() -> BusOptions {
    BusOptions {
        delivery_limit: 2,
        call_timeout: Duration::from_secs(10),
        connection_name: "virga-bus-suite".into(),
    }
}

/// Stamps out every suite test as a `#[tokio::test]` for one transport;
/// `$broker` is evaluated once per test and must give a [`TestBroker`].
#[macro_export]
macro_rules! bus_suite {
    ($broker:expr) => {
        $crate::bus_suite!(@each $broker;
            call_round_trip_keeps_context,
            call_failure_is_a_remote_error,
            call_times_out_without_a_consumer,
            unknown_topic_is_no_route,
            call_retried_by_handler_still_gets_its_reply,
            abandoned_calls_leave_nothing_pending,
            expired_call_is_dead_lettered_not_run,
            concurrent_casts_each_get_their_own_result,
            reserved_topics_are_refused,
            cast_goes_to_exactly_one_competing_consumer,
            cast_waits_in_the_queue_for_a_consumer,
            notify_reaches_every_group_and_matching_pattern,
            group_keeps_events_while_no_consumer_runs,
            failed_cast_is_acked_not_retried,
            graceful_stop_finishes_the_message_in_flight,
            stop_within_aborts_a_stuck_handler,
            redeclare_with_another_delivery_limit_is_refused,
            aborted_consumer_message_is_redelivered,
            crashed_bus_message_is_redelivered,
            retry_forever_is_dead_lettered,
            panic_is_retried_then_dead_lettered,
            private_subscription_retry_is_dead_lettered,
            malformed_and_unknown_version_are_dead_lettered,
        );
    };
    (@each $broker:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let broker = $broker;
                $crate::suite::$name(&broker).await;
            }
        )*
    };
}

/// How long a wait for something that should happen may take.
const WAIT: Duration = Duration::from_secs(15);
/// How long to listen when checking that nothing more arrives.
const QUIET: Duration = Duration::from_millis(300);

async fn bus(broker: &dyn TestBroker) -> Bus {
    broker.bus(options()).await
}

/// A handler that passes every message on to the returned receiver and
/// answers `{"ok": true}`.
fn recorder() -> (impl Handler, mpsc::UnboundedReceiver<Incoming>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handler = handler_fn(move |msg| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(msg);
            Ok(json!({"ok": true}))
        }
    });
    (handler, rx)
}

async fn recv(rx: &mut mpsc::UnboundedReceiver<Incoming>, what: &str) -> Incoming {
    match tokio::time::timeout(WAIT, rx.recv()).await {
        Ok(Some(msg)) => msg,
        Ok(None) => panic!("{what}: the handler is gone"),
        Err(_) => panic!("{what}: nothing arrived within {WAIT:?}"),
    }
}

async fn assert_quiet(rx: &mut mpsc::UnboundedReceiver<Incoming>, what: &str) {
    if let Ok(Some(msg)) = tokio::time::timeout(QUIET, rx.recv()).await {
        panic!("{what}: unexpected {} `{}`", msg.topic, msg.envelope.method);
    }
}

/// Takes dead letters until there are `n`, failing the test after [`WAIT`].
async fn dead_letters(bus: &Bus, n: usize) -> Vec<DeadLetter> {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut all = Vec::new();
    while all.len() < n {
        all.extend(
            bus.dead_letters(n - all.len())
                .await
                .expect("reading the dead-letter queue"),
        );
        if all.len() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {n} dead letters: {all:?}",
                all.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    all
}
