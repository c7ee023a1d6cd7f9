//! Suite: consumers dying mid-message, poison messages and malformed bodies.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::json;
use tokio::sync::mpsc;

use super::{TestBroker, assert_quiet, bus, dead_letters, options, recorder, recv};
use crate::{
    Bus, Consumer, Context, DeadReason, Envelope, HandlerError, Incoming, Kind, handler_fn,
};

/// Serves `topic` with a handler that reports each message and then hangs.
async fn hanging_consumer(bus: &Bus, topic: &str) -> (Consumer, mpsc::UnboundedReceiver<Incoming>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handler = handler_fn(move |msg| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(msg);
            std::future::pending::<()>().await;
            Ok(json!(null))
        }
    });
    (bus.serve(topic, handler).await.unwrap(), rx)
}

/// A consumer aborted mid-message never acknowledged it, so another
/// consumer gets it, flagged as redelivered.
pub async fn aborted_consumer_message_is_redelivered(broker: &dyn TestBroker) {
    let (a, b) = (bus(broker).await, bus(broker).await);
    let (consumer, mut started) = hanging_consumer(&a, "fragile").await;
    a.cast(
        "fragile",
        "resize",
        json!({"flavor": 2}),
        &Context::default(),
    )
    .await
    .unwrap();
    let first = recv(&mut started, "first delivery").await;
    assert!(!first.redelivered);
    let (handler, mut seen) = recorder();
    let _survivor = b.serve("fragile", handler).await.unwrap();
    consumer.abort().await;
    let again = recv(&mut seen, "redelivery").await;
    assert!(again.redelivered, "a redelivered message is flagged");
    assert_eq!(again.envelope.id, first.envelope.id);
    assert_quiet(&mut seen, "after the redelivery").await;
}

/// The same when the whole bus (connection) of the consumer goes away.
pub async fn crashed_bus_message_is_redelivered(broker: &dyn TestBroker) {
    let (a, b) = (bus(broker).await, bus(broker).await);
    let (_consumer, mut started) = hanging_consumer(&a, "fragile").await;
    b.cast("fragile", "resize", json!({}), &Context::default())
        .await
        .unwrap();
    let first = recv(&mut started, "first delivery").await;
    let (handler, mut seen) = recorder();
    let _survivor = b.serve("fragile", handler).await.unwrap();
    a.close_abruptly().await;
    assert!(!a.is_connected());
    let again = recv(&mut seen, "redelivery").await;
    assert!(again.redelivered);
    assert_eq!(again.envelope.id, first.envelope.id);
}

/// A handler that always fails with `f`, counting its calls.
fn always(f: fn() -> HandlerError, count: Arc<AtomicU32>) -> impl crate::Handler {
    handler_fn(move |_| {
        count.fetch_add(1, Ordering::SeqCst);
        async move { Err(f()) }
    })
}

async fn assert_dead_after_limit(
    bus: &Bus,
    count: &AtomicU32,
    queue: Option<&str>,
    key: &str,
    method: &str,
) {
    let dead = dead_letters(bus, 1).await;
    let letter = &dead[0];
    assert_eq!(letter.reason, DeadReason::DeliveryLimit, "{letter:?}");
    assert_eq!(letter.routing_key, key);
    if let Some(queue) = queue {
        assert_eq!(letter.queue, queue);
    }
    assert_eq!(letter.envelope().expect("an envelope").method, method);
    let limit = options().delivery_limit;
    assert_eq!(
        count.load(Ordering::SeqCst),
        limit + 1,
        "delivered once plus `delivery_limit` times"
    );
    assert!(
        bus.dead_letters(10).await.unwrap().is_empty(),
        "dead-lettered once"
    );
}

/// A handler that always asks for a retry does not loop: after
/// `delivery_limit` redeliveries the message is dead-lettered.
pub async fn retry_forever_is_dead_lettered(broker: &dyn TestBroker) {
    let bus = bus(broker).await;
    let count = Arc::new(AtomicU32::new(0));
    let handler = always(|| HandlerError::retry("disk full"), count.clone());
    let _consumer = bus.serve("poison", handler).await.unwrap();
    bus.cast("poison", "explode", json!({}), &Context::default())
        .await
        .unwrap();
    assert_dead_after_limit(&bus, &count, Some("poison"), "poison", "explode").await;
}

/// A panicking handler is caught, the message retried and finally dead-lettered.
pub async fn panic_is_retried_then_dead_lettered(broker: &dyn TestBroker) {
    let bus = bus(broker).await;
    let count = Arc::new(AtomicU32::new(0));
    let c = count.clone();
    let handler = handler_fn(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
        async move { panic!("handler bug") }
    });
    let _consumer = bus.serve("poison", handler).await.unwrap();
    bus.cast("poison", "explode", json!({}), &Context::default())
        .await
        .unwrap();
    assert_dead_after_limit(&bus, &count, Some("poison"), "poison", "explode").await;
}

/// The delivery limit holds for a private subscription too.
pub async fn private_subscription_retry_is_dead_lettered(broker: &dyn TestBroker) {
    let bus = bus(broker).await;
    let count = Arc::new(AtomicU32::new(0));
    let handler = always(|| HandlerError::retry("not yet"), count.clone());
    let _consumer = bus.subscribe("alarm.*", None, handler).await.unwrap();
    bus.notify("alarm.fire", json!({}), &Context::default())
        .await
        .unwrap();
    assert_dead_after_limit(&bus, &count, None, "alarm.fire", "alarm.fire").await;
}

/// Garbage and envelopes of an unknown version go straight to the
/// dead-letter queue, never to the handler, and consuming goes on.
pub async fn malformed_and_unknown_version_are_dead_lettered(broker: &dyn TestBroker) {
    let bus = bus(broker).await;
    let (handler, mut seen) = recorder();
    let _consumer = bus.serve("strict", handler).await.unwrap();
    let garbage = b"{not json".to_vec();
    let mut future = serde_json::to_value(Envelope::new(
        Kind::Cast,
        "v99",
        json!({}),
        &Context::default(),
    ))
    .unwrap();
    future["version"] = json!(99);
    let future = serde_json::to_vec(&future).unwrap();
    bus.publish_raw("strict", garbage.clone()).await.unwrap();
    bus.publish_raw("strict", future.clone()).await.unwrap();
    bus.cast("strict", "good", json!({}), &Context::default())
        .await
        .unwrap();
    // Queues are first-in first-out: had the handler seen the bad ones, it
    // would have seen them first.
    assert_eq!(
        recv(&mut seen, "the good cast").await.envelope.method,
        "good"
    );
    assert_quiet(&mut seen, "bad messages").await;
    let mut dead = dead_letters(&bus, 2).await;
    dead.sort_by_key(|d| d.body.len());
    for (letter, body) in dead.iter().zip([&garbage, &future]) {
        assert_eq!(letter.reason, DeadReason::Malformed, "{letter:?}");
        assert_eq!(
            (letter.queue.as_str(), letter.routing_key.as_str()),
            ("strict", "strict")
        );
        assert_eq!(&letter.body, body);
        assert!(letter.detail.is_some());
    }
    assert!(
        dead[1].detail.as_deref().unwrap().contains("99"),
        "{:?}",
        dead[1].detail
    );
}
