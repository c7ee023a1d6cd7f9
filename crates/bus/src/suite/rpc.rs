//! Suite: request/reply and routing failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::json;
use virga_common::RequestId;

use super::{TestBroker, bus, recv};
use crate::{BusError, Context, HandlerError, Kind, handler_fn};

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
    let handler = handler_fn(move |msg| {
        let n = a.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            if n == 1 {
                assert!(!msg.redelivered);
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
}
