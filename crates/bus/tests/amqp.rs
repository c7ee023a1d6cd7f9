//! The shared bus suite on RabbitMQ (a fresh vhost of the run's shared node
//! per test), plus what only a real broker can do: crash and come back.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use virga_bus::suite::TestBroker;
use virga_bus::{Bus, BusError, BusOptions, Context, handler_fn};
use virga_testkit::rabbitmq::{self, PrivateRabbitMq};

struct Rabbit {
    url: String,
}

impl Rabbit {
    fn new() -> Self {
        init_logs();
        // Blocking (it may boot the node), so off the async workers.
        let url = tokio::task::block_in_place(|| rabbitmq::shared().fresh_vhost());
        Rabbit { url }
    }
}

#[async_trait]
impl TestBroker for Rabbit {
    async fn bus(&self, options: BusOptions) -> Bus {
        Bus::amqp(&self.url, options)
            .await
            .expect("connecting to the test broker")
    }
}

fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("virga_bus=debug")
        .try_init();
}

virga_bus::bus_suite!(Rabbit::new());

#[tokio::test]
async fn first_connection_failure_is_reported() {
    let err = Bus::amqp("amqp://guest:guest@127.0.0.1:1/%2f", BusOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, BusError::Connect(_)), "{err:?}");
}

/// Polls `cond` until it holds or `within` passes.
async fn eventually(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The broker crashes and comes back: the bus notices, reconnects,
/// re-subscribes its consumers, a call made during the outage waits and
/// succeeds, and a persistent cast sent before the crash is still delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_reconnects_and_keeps_durable_casts() {
    init_logs();
    let node = tokio::task::block_in_place(PrivateRabbitMq::start);
    let options = BusOptions {
        delivery_limit: 2,
        call_timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let bus = Bus::amqp(&node.url(), options).await.unwrap();
    let ctx = Context::default();
    let echo = handler_fn(|m| async move { Ok(m.envelope.args) });
    let _echo = bus.serve("echo", echo).await.unwrap();
    let timeout = Duration::from_secs(30);
    assert_eq!(
        bus.call("echo", "echo", json!(1), &ctx, timeout)
            .await
            .unwrap(),
        json!(1)
    );
    bus.declare("agent.edge1").await.unwrap();
    bus.cast("agent.edge1", "boot", json!({"id": "vm1"}), &ctx)
        .await
        .unwrap();
    // Setup, not an assertion: RabbitMQ 3.10 can bring a quorum queue back
    // without a leader (consumers hang) when it is killed within moments of
    // declaring it; give it time to persist the new queues first.
    tokio::time::sleep(Duration::from_secs(2)).await;

    tokio::task::block_in_place(|| node.stop());
    eventually("the loss is noticed", Duration::from_secs(10), || {
        !bus.is_connected()
    })
    .await;
    let during = tokio::spawn({
        let bus = bus.clone();
        async move {
            bus.call(
                "echo",
                "echo",
                json!(2),
                &Context::default(),
                Duration::from_secs(60),
            )
            .await
        }
    });
    tokio::task::block_in_place(|| node.restart());
    eventually("reconnected", Duration::from_secs(30), || {
        bus.is_connected()
    })
    .await;

    let got = tokio::time::timeout(Duration::from_secs(60), during)
        .await
        .expect("the waiting call ends")
        .unwrap();
    assert_eq!(
        got.unwrap(),
        json!(2),
        "a call made during the outage succeeds after it"
    );
    assert_eq!(
        bus.call("echo", "echo", json!(3), &ctx, timeout)
            .await
            .unwrap(),
        json!(3)
    );

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let agent = handler_fn(move |m| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(m);
            Ok(json!(null))
        }
    });
    let _agent = bus.serve("agent.edge1", agent).await.unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .expect("the durable cast")
        .unwrap();
    assert_eq!(msg.envelope.args, json!({"id": "vm1"}));
    let err = bus.cast("nobody", "x", json!({}), &ctx).await.unwrap_err();
    assert!(
        matches!(err, BusError::NoRoute(_)),
        "routing checks work again: {err:?}"
    );
}
