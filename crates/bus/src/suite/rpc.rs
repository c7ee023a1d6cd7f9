//! Suite: request/reply and routing failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::json;
use virga_common::RequestId;

use super::{TestBroker, assert_quiet, bus, dead_letters, recorder, recv};
use crate::{BusError, Context, DeadReason, Envelope, HandlerError, Kind, handler_fn};

/// A call reaches a consumer on another connection with its context intact
/// and gets the handler's value back.
pub async fn call_round_trip_keeps_context(broker: &dyn TestBroker) {
    let (server, client) = (bus(broker).await, bus(broker).await);
    let (tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let handler = handler_fn(move |msg| {
        let tx = tx.clone();
        async move {
            let sum = msg.envelope.args["a"].as_i64().unwrap_or(0)
                + msg.envelope.args["b"].as_i64().unwrap_or(0);
            let _ = tx.send(msg);
            Ok(json!({"sum": sum}))
        }
    });
    let _consumer = server.serve("compute", handler).await.unwrap();
    let ctx = Context {
        request_id: Some(RequestId::new()),
        user: Some("alice".into()),
        project: Some("p1".into()),
        roles: vec!["member".into(), "reader".into()],
    };
    assert!(client.is_connected() && server.is_connected());
    let got = client
        .call(
            "compute",
            "add",
            json!({"a": 2, "b": 3}),
            &ctx,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(got, json!({"sum": 5}));
    let msg = recv(&mut seen, "the call").await;
    assert_eq!(msg.envelope.context, ctx);
    assert_eq!(msg.envelope.kind, Kind::Call);
    assert_eq!(msg.envelope.method, "add");
    assert_eq!(msg.topic, "compute");
    assert!(!msg.redelivered);
}

/// A handler's `Fail` comes back to the caller as `Remote` with its code and message.
pub async fn call_failure_is_a_remote_error(broker: &dyn TestBroker) {
    let bus = bus(broker).await;
    let handler = handler_fn(|_| async { Err(HandlerError::fail("Conflict", "instance is busy")) });
    let _consumer = bus.serve("compute", handler).await.unwrap();
    let err = bus
        .call(
            "compute",
            "reboot",
            json!({}),
            &Context::default(),
            Duration::from_secs(10),
        )
        .await
        .unwrap_err();
    match err {
        BusError::Remote { code, message } => {
            assert_eq!(code, "Conflict");
            assert_eq!(message, "instance is busy");
        }
        other => panic!("expected a remote error, got {other:?}"),
    }
}

/// A call to a queue nobody consumes fails with `Timeout` once its timeout passes.
pub async fn call_times_out_without_a_consumer(broker: &dyn TestBroker) {
    let bus = bus(broker).await;
    bus.declare("idle").await.unwrap();
    let started = tokio::time::Instant::now();
    let err = bus
        .call(
            "idle",
            "ping",
            json!({}),
            &Context::default(),
            Duration::from_millis(300),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, BusError::Timeout), "got {err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the timeout was not kept"
    );
}

/// Calls and casts to a topic without a queue fail with `NoRoute` instead of vanishing.
pub async fn unknown_topic_is_no_route(broker: &dyn TestBroker) {
    let bus = bus(broker).await;
    let ctx = Context::default();
    let err = bus
        .call(
            "nobody.home",
            "ping",
            json!({}),
            &ctx,
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BusError::NoRoute(t) if t == "nobody.home"),
        "call: {err:?}"
    );
    let err = bus
        .cast("nobody.home", "ping", json!({}), &ctx)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BusError::NoRoute(t) if t == "nobody.home"),
        "cast: {err:?}"
    );
    // Notifications nobody listens to are simply dropped.
    bus.notify("nobody.listens", json!({}), &ctx).await.unwrap();
}

/// A call whose handler asks for a retry is redelivered (flagged) and the
/// caller gets the answer of the successful attempt.
pub async fn call_retried_by_handler_still_gets_its_reply(broker: &dyn TestBroker) {
    let bus = bus(broker).await;
    let attempts = Arc::new(AtomicU32::new(0));
    let a = attempts.clone();
    let (first_tx, mut first) = tokio::sync::mpsc::unbounded_channel();
    let handler = handler_fn(move |msg| {
        let n = a.fetch_add(1, Ordering::SeqCst) + 1;
        let first_tx = first_tx.clone();
        async move {
            if n == 1 {
                // Asserted outside: a panic here would count as a retry.
                let _ = first_tx.send(msg.redelivered);
                Err(HandlerError::retry("database is starting"))
            } else {
                Ok(json!({"attempt": n, "redelivered": msg.redelivered}))
            }
        }
    });
    let _consumer = bus.serve("flaky", handler).await.unwrap();
    let got = bus
        .call(
            "flaky",
            "get",
            json!({}),
            &Context::default(),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(got, json!({"attempt": 2, "redelivered": true}));
    assert_eq!(
        first.try_recv(),
        Ok(false),
        "the first attempt is not flagged"
    );
}

/// Calls abandoned by their caller (its future dropped before the call's
/// own timeout, as a cancelled HTTP request does) leave no waiter behind.
pub async fn abandoned_calls_leave_nothing_pending(broker: &dyn TestBroker) {
    let bus = bus(broker).await;
    bus.declare("agent.offline").await.unwrap();
    let ctx = Context::default();
    for _ in 0..50 {
        let call = bus.call(
            "agent.offline",
            "reboot",
            json!({}),
            &ctx,
            Duration::from_secs(30),
        );
        let abandoned = tokio::time::timeout(Duration::from_millis(20), call).await;
        assert!(abandoned.is_err(), "nobody answers: {abandoned:?}");
    }
    assert_eq!(bus.pending_calls(), 0);
}

/// A call whose caller timed out is never run: a consumer coming later
/// does not see it, and it lands in the dead-letter queue as expired.
pub async fn expired_call_is_dead_lettered_not_run(broker: &dyn TestBroker) {
    let (client, server) = (bus(broker).await, bus(broker).await);
    client.declare("agent.late").await.unwrap();
    let err = client
        .call(
            "agent.late",
            "reboot",
            json!({"id": "vm1"}),
            &Context::default(),
            Duration::from_millis(300),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, BusError::Timeout), "got {err:?}");
    let (handler, mut seen) = recorder();
    let _consumer = server.serve("agent.late", handler).await.unwrap();
    let dead = dead_letters(&client, 1).await;
    assert_eq!(dead[0].reason, DeadReason::Expired, "{:?}", dead[0]);
    assert_eq!(dead[0].queue, "agent.late");
    assert_eq!(dead[0].envelope().expect("an envelope").method, "reboot");
    assert_quiet(&mut seen, "the expired call").await;

    // Past the broker's own expiry (here: never set), the consumer
    // still refuses it by the envelope's `expires_at`.
    let mut stale = Envelope::new(Kind::Call, "reboot", json!({}), &Context::default());
    stale.expires_at = Some(chrono::Utc::now() - chrono::Duration::seconds(1));
    client
        .publish_raw("agent.late", stale.encode())
        .await
        .unwrap();
    let dead = dead_letters(&client, 1).await;
    assert_eq!(dead[0].reason, DeadReason::Expired, "{:?}", dead[0]);
    assert_eq!(dead[0].envelope().map(|e| e.id), Some(stale.id));
    assert_quiet(&mut seen, "the stale call").await;
}

/// Many casts in flight at once, half of them unroutable: each gets its
/// own result (none is lost, none blamed for another's missing queue).
pub async fn concurrent_casts_each_get_their_own_result(broker: &dyn TestBroker) {
    let bus = bus(broker).await;
    bus.declare("routed").await.unwrap();
    let ctx = Context::default();
    let casts = (0..100).map(|n| {
        let topic = if n % 2 == 0 { "routed" } else { "nobody.home" };
        let bus = bus.clone();
        let ctx = ctx.clone();
        async move { (topic, bus.cast(topic, "job", json!({"n": n}), &ctx).await) }
    });
    for (topic, result) in futures::future::join_all(casts).await {
        match topic {
            "routed" => assert!(result.is_ok(), "{topic}: {result:?}"),
            _ => assert!(
                matches!(&result, Err(BusError::NoRoute(t)) if t == topic),
                "{topic}: {result:?}"
            ),
        }
    }
}

/// Topics may not name the queues the bus keeps for itself.
pub async fn reserved_topics_are_refused(broker: &dyn TestBroker) {
    let bus = bus(broker).await;
    for topic in ["notify.audit", "virga.dead-letters", "amq.direct", ""] {
        let err = bus.declare(topic).await.unwrap_err();
        assert!(matches!(err, BusError::InvalidName(_)), "{topic}: {err:?}");
        let (handler, _seen) = recorder();
        let err = bus.serve(topic, handler).await.unwrap_err();
        assert!(matches!(err, BusError::InvalidName(_)), "{topic}: {err:?}");
    }
}
