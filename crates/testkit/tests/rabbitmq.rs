//! Tests of the RabbitMQ nodes: fresh vhosts on the shared node are distinct
//! and usable (including quorum queues with delivery limits), and a private
//! node keeps durable queues and persistent messages across a hard restart.

use lapin::options::{
    BasicGetOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use virga_testkit::rabbitmq::{self, PrivateRabbitMq};

async fn channel(url: &str) -> (Connection, Channel) {
    let conn = Connection::connect(url, ConnectionProperties::default())
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    let channel = conn.create_channel().await.expect("channel");
    // Only a confirmed persistent message is on disk: without confirms a
    // hard kill right after publishing may lose it, as on a real crash.
    let confirms = ConfirmSelectOptions::default();
    channel
        .confirm_select(confirms)
        .await
        .expect("confirm.select");
    (conn, channel)
}

async fn publish(channel: &Channel, queue: &str, body: &[u8]) {
    let persistent = BasicProperties::default().with_delivery_mode(2);
    let opts = BasicPublishOptions::default();
    let confirm = channel.basic_publish("".into(), queue.into(), opts, body, persistent);
    let confirmation = confirm.await.expect("publish").await.expect("confirm");
    assert!(confirmation.is_ack(), "broker nacked the publish");
}

async fn declare(channel: &Channel, queue: &str, args: FieldTable) -> u32 {
    let opts = QueueDeclareOptions::durable();
    let q = channel
        .queue_declare(queue.into(), opts, args)
        .await
        .expect("declare");
    q.message_count()
}

#[tokio::test]
async fn fresh_vhosts_are_distinct_and_accept_connections() {
    let node = rabbitmq::shared();
    let (a, b) = (node.fresh_vhost(), node.fresh_vhost());
    assert_ne!(a, b);
    let prefix = format!("amqp://guest:guest@127.0.0.1:{}/", node.amqp_port());
    assert!(a.starts_with(&prefix), "{a}");

    let (_conn_a, ch_a) = channel(&a).await;
    declare(&ch_a, "jobs", FieldTable::default()).await;
    publish(&ch_a, "jobs", b"hello").await;
    let got = ch_a
        .basic_get("jobs".into(), BasicGetOptions { no_ack: true })
        .await;
    assert_eq!(got.expect("get").expect("a message").data, b"hello");

    // Same queue name in the other vhost is a different, empty queue.
    let (_conn_b, ch_b) = channel(&b).await;
    publish(&ch_a, "jobs", b"only in a").await;
    assert_eq!(declare(&ch_b, "jobs", FieldTable::default()).await, 0);
}

#[tokio::test]
async fn quorum_queues_enforce_delivery_limits() {
    let (_conn, ch) = channel(&rabbitmq::shared().fresh_vhost()).await;
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    args.insert("x-delivery-limit".into(), AMQPValue::LongInt(1));
    declare(&ch, "limited", args).await;
    publish(&ch, "limited", b"poison").await;

    let requeue = BasicNackOptions {
        requeue: true,
        ..Default::default()
    };
    let mut deliveries = 0;
    while let Some(msg) = ch
        .basic_get("limited".into(), BasicGetOptions::default())
        .await
        .expect("get")
    {
        deliveries += 1;
        assert!(deliveries <= 5, "delivery limit not enforced");
        msg.acker.nack(requeue).await.expect("nack");
    }
    // One delivery plus the one redelivery the limit allows, then dropped.
    assert_eq!(deliveries, 2);
}

#[tokio::test]
async fn private_node_survives_stop_and_restart() {
    let node = PrivateRabbitMq::start();
    let url = node.url();
    assert!(url.ends_with("/%2f"), "{url}");
    {
        let (conn, ch) = channel(&url).await;
        declare(&ch, "durable", FieldTable::default()).await;
        publish(&ch, "durable", b"kept").await;
        conn.close(200, "bye".into()).await.expect("close");
    }

    node.stop();
    let refused = Connection::connect(&url, ConnectionProperties::default()).await;
    assert!(
        refused.is_err(),
        "node still accepts connections after stop()"
    );

    node.restart();
    let (_conn, ch) = channel(&url).await;
    // After a crash the queue's messages are recovered while the node
    // already accepts connections (slowly on a loaded machine): the
    // message must come, within a few seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let got = loop {
        declare(&ch, "durable", FieldTable::default()).await;
        let got = ch
            .basic_get("durable".into(), BasicGetOptions { no_ack: true })
            .await
            .expect("get");
        match got {
            Some(m) => break m,
            None if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            None => panic!("the persistent message did not survive the restart"),
        }
    };
    assert_eq!(got.data, b"kept");
}
