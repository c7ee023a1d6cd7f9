//! Suite: who gets a message, when, and how many times.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::sync::{Notify, mpsc};

use super::{TestBroker, assert_quiet, bus, options, recorder, recv};
use crate::{BusError, BusOptions, Context, HandlerError, Kind, handler_fn};

/// Each cast is handled by exactly one of two consumers on different
/// connections, and both take part.
pub async fn cast_goes_to_exactly_one_competing_consumer(broker: &dyn TestBroker) {
    const CASTS: i64 = 40;
    let (a, b, sender) = (bus(broker).await, bus(broker).await, bus(broker).await);
    let (tx, mut seen) = mpsc::unbounded_channel();
    let mut consumers = Vec::new();
    for (name, bus) in [("a", &a), ("b", &b)] {
        let tx = tx.clone();
        let handler = handler_fn(move |msg| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((name, msg));
                // Busy for a moment: with one message in flight per
                // consumer, the other one must take some of the work.
                tokio::time::sleep(Duration::from_millis(10)).await;
                Ok(json!(null))
            }
        });
        consumers.push(bus.serve("work", handler).await.unwrap());
    }
    for n in 0..CASTS {
        sender
            .cast("work", "job", json!({"n": n}), &Context::default())
            .await
            .unwrap();
    }
    let mut got = Vec::new();
    let mut workers = BTreeSet::new();
    for _ in 0..CASTS {
        let (who, msg) = tokio::time::timeout(super::WAIT, seen.recv())
            .await
            .expect("all casts arrive")
            .unwrap();
        assert_eq!(msg.envelope.kind, Kind::Cast);
        assert!(!msg.redelivered);
        got.push(msg.envelope.args["n"].as_i64().unwrap());
        workers.insert(who);
    }
    got.sort();
    assert_eq!(
        got,
        (0..CASTS).collect::<Vec<_>>(),
        "each cast exactly once"
    );
    assert_eq!(
        workers,
        BTreeSet::from(["a", "b"]),
        "both consumers took work"
    );
    if let Ok(Some((who, msg))) = tokio::time::timeout(super::QUIET, seen.recv()).await {
        panic!("consumer {who} got a duplicate: {:?}", msg.envelope.args);
    }
}

/// A cast to a declared queue without consumers waits there until one comes.
pub async fn cast_waits_in_the_queue_for_a_consumer(broker: &dyn TestBroker) {
    let (sender, later) = (bus(broker).await, bus(broker).await);
    sender.declare("agent.host1").await.unwrap();
    for n in 0..2 {
        sender
            .cast("agent.host1", "boot", json!({"n": n}), &Context::default())
            .await
            .unwrap();
    }
    let (handler, mut seen) = recorder();
    let _consumer = later.serve("agent.host1", handler).await.unwrap();
    for n in 0..2 {
        let msg = recv(&mut seen, "a queued cast").await;
        assert_eq!(msg.envelope.args, json!({"n": n}), "in order");
        assert_eq!(msg.topic, "agent.host1");
    }
}

/// Every group gets each matching event once (shared among its consumers),
/// private subscriptions get their own copy, and patterns follow AMQP topic
/// rules (`*` is one word, `#` any number).
pub async fn notify_reaches_every_group_and_matching_pattern(broker: &dyn TestBroker) {
    let (a, b, c, sender) = (
        bus(broker).await,
        bus(broker).await,
        bus(broker).await,
        bus(broker).await,
    );
    let (audit, mut audit_seen) = recorder();
    let _audit = a
        .subscribe("instance.#", Some("audit"), audit)
        .await
        .unwrap();
    let (billing_tx, mut billing_seen) = mpsc::unbounded_channel();
    let mut billing = Vec::new();
    for bus in [&b, &c] {
        let tx = billing_tx.clone();
        let handler = handler_fn(move |msg| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(msg);
                Ok(json!(null))
            }
        });
        billing.push(
            bus.subscribe("instance.create.*", Some("billing"), handler)
                .await
                .unwrap(),
        );
    }
    let (private, mut private_seen) = recorder();
    let _private = a.subscribe("*.delete.end", None, private).await.unwrap();

    // The first event matches nobody; had it been routed, it would arrive
    // first, since every queue here is first-in first-out.
    let events = [
        "volume.create.end",
        "instance.create.end",
        "instance.delete.end",
        "instance.create.last",
    ];
    for event in events.into_iter().chain(["host.delete.end"]) {
        sender
            .notify(event, json!({"event": event}), &Context::default())
            .await
            .unwrap();
    }
    for want in [
        "instance.create.end",
        "instance.delete.end",
        "instance.create.last",
    ] {
        let msg = recv(&mut audit_seen, "audit").await;
        assert_eq!(
            (msg.topic.as_str(), msg.envelope.method.as_str()),
            (want, want)
        );
        assert_eq!(msg.envelope.kind, Kind::Notify);
    }
    let mut got = BTreeSet::new();
    for _ in 0..2 {
        let msg = tokio::time::timeout(super::WAIT, billing_seen.recv())
            .await
            .expect("billing events")
            .unwrap();
        got.insert(msg.topic);
    }
    assert_eq!(
        got,
        BTreeSet::from([
            "instance.create.end".to_string(),
            "instance.create.last".to_string()
        ])
    );
    for want in ["instance.delete.end", "host.delete.end"] {
        assert_eq!(recv(&mut private_seen, "private").await.topic, want);
    }
    assert_quiet(&mut audit_seen, "audit").await;
    if let Ok(Some(msg)) = tokio::time::timeout(super::QUIET, billing_seen.recv()).await {
        panic!("billing got {} twice or unmatched", msg.topic);
    }
    assert_quiet(&mut private_seen, "private").await;
}

/// A cast whose handler fails is acknowledged: no retry, no dead letter.
pub async fn failed_cast_is_acked_not_retried(broker: &dyn TestBroker) {
    let bus = bus(broker).await;
    let (tx, mut seen) = mpsc::unbounded_channel();
    let handler = handler_fn(move |msg| {
        let tx = tx.clone();
        async move {
            let fail = msg.envelope.method == "bad";
            let _ = tx.send(msg);
            if fail {
                Err(HandlerError::fail("BadRequest", "no such flavor"))
            } else {
                Ok(json!(null))
            }
        }
    });
    let _consumer = bus.serve("work", handler).await.unwrap();
    for method in ["bad", "good"] {
        bus.cast("work", method, json!({}), &Context::default())
            .await
            .unwrap();
    }
    assert_eq!(recv(&mut seen, "bad").await.envelope.method, "bad");
    assert_eq!(recv(&mut seen, "good").await.envelope.method, "good");
    assert_quiet(&mut seen, "after a failed cast").await;
    assert!(bus.dead_letters(10).await.unwrap().is_empty());
}

/// `stop` lets the handler in flight finish and acknowledges its message,
/// takes nothing new, and only then returns.
pub async fn graceful_stop_finishes_the_message_in_flight(broker: &dyn TestBroker) {
    let (a, b) = (bus(broker).await, bus(broker).await);
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let gate = Arc::new(Notify::new());
    let finished = Arc::new(AtomicBool::new(false));
    let (g, f) = (gate.clone(), finished.clone());
    let handler = handler_fn(move |msg| {
        let (tx, gate, finished) = (started_tx.clone(), g.clone(), f.clone());
        async move {
            let _ = tx.send(msg);
            gate.notified().await;
            finished.store(true, Ordering::SeqCst);
            Ok(json!(null))
        }
    });
    let consumer = a.serve("slow", handler).await.unwrap();
    a.cast("slow", "first", json!({}), &Context::default())
        .await
        .unwrap();
    assert_eq!(recv(&mut started, "first").await.envelope.method, "first");

    // Polled once before the gate opens: `stop` marks the consumer as
    // stopping on its first poll, so it cannot take "second" afterwards.
    let mut stopping = Box::pin(consumer.stop());
    assert!(
        futures::poll!(stopping.as_mut()).is_pending(),
        "stop returned with a handler in flight"
    );
    let stopping = tokio::spawn(stopping);
    a.cast("slow", "second", json!({}), &Context::default())
        .await
        .unwrap();
    gate.notify_one();
    tokio::time::timeout(super::WAIT, stopping)
        .await
        .expect("stop returns")
        .unwrap();
    assert!(
        finished.load(Ordering::SeqCst),
        "stop returned before the handler finished"
    );

    let (handler, mut seen) = recorder();
    let _next = b.serve("slow", handler).await.unwrap();
    let msg = recv(&mut seen, "second").await;
    // Not checking `redelivered`: had the broker pushed "second" before it
    // saw the cancel, closing the channel returned it unhandled, flagged.
    assert_eq!(
        msg.envelope.method, "second",
        "the stopping consumer handled no new message"
    );
    assert_quiet(&mut seen, "the finished message was acknowledged").await;
    assert_quiet(&mut started, "the stopped consumer").await;
}

/// A group's queue is durable: events published while none of its
/// consumers runs wait for the next one.
pub async fn group_keeps_events_while_no_consumer_runs(broker: &dyn TestBroker) {
    let (a, sender) = (bus(broker).await, bus(broker).await);
    let (handler, _seen) = recorder();
    a.subscribe("image.#", Some("indexer"), handler)
        .await
        .unwrap()
        .stop()
        .await;
    sender
        .notify("image.upload.end", json!({"id": 7}), &Context::default())
        .await
        .unwrap();
    let (handler, mut seen) = recorder();
    let _back = a
        .subscribe("image.#", Some("indexer"), handler)
        .await
        .unwrap();
    let msg = recv(&mut seen, "the event sent while away").await;
    assert_eq!(
        (msg.topic.as_str(), &msg.envelope.args),
        ("image.upload.end", &json!({"id": 7}))
    );
}

/// `stop_within` gives up on a handler that does not finish in time: the
/// handler is dropped and its message, never acknowledged, is delivered
/// again to the next consumer.
pub async fn stop_within_aborts_a_stuck_handler(broker: &dyn TestBroker) {
    let (a, b) = (bus(broker).await, bus(broker).await);
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let handler = handler_fn(move |msg| {
        let tx = started_tx.clone();
        async move {
            let _ = tx.send(msg);
            std::future::pending::<()>().await;
            Ok(json!(null))
        }
    });
    let consumer = a.serve("stuck", handler).await.unwrap();
    a.cast("stuck", "hang", json!({}), &Context::default())
        .await
        .unwrap();
    recv(&mut started, "the hanging message").await;
    let graceful = tokio::time::timeout(
        super::WAIT,
        consumer.stop_within(Duration::from_millis(200)),
    )
    .await
    .expect("stop_within returns");
    assert!(!graceful, "the stop was reported as graceful");
    let (handler, mut seen) = recorder();
    let _next = b.serve("stuck", handler).await.unwrap();
    let msg = recv(&mut seen, "the redelivery").await;
    assert_eq!(msg.envelope.method, "hang");
    assert!(msg.redelivered);
}

/// Re-declaring a queue with another delivery limit fails, as RabbitMQ
/// refuses to change a queue's arguments, and leaves the queue as it was.
pub async fn redeclare_with_another_delivery_limit_is_refused(broker: &dyn TestBroker) {
    let first = bus(broker).await;
    first.declare("settled").await.unwrap();
    let other = broker
        .bus(BusOptions {
            delivery_limit: options().delivery_limit + 1,
            ..options()
        })
        .await;
    let err = other.declare("settled").await.unwrap_err();
    assert!(matches!(err, BusError::Mismatch(_)), "declare: {err:?}");
    let (handler, _seen) = recorder();
    let err = other.serve("settled", handler).await.unwrap_err();
    assert!(matches!(err, BusError::Mismatch(_)), "serve: {err:?}");
    first.declare("settled").await.unwrap();
    other
        .cast("settled", "still", json!({}), &Context::default())
        .await
        .expect("the bus still works after the refusal");
}
