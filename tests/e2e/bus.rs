//! Each service consumes its bus topic: a `ping` call reaches every one of
//! them and is answered, on the in-process bus and on RabbitMQ.

use std::time::Duration;

use virga_bus::Context;
use virga_protocol::service::{Pong, ServiceCall, topic};
use virga_protocol::to_parts;
use virga_tests::{Backend, Cloud};

async fn ping_all(cloud: &Cloud) {
    for name in cloud.urls.keys() {
        let (method, args) = to_parts(&ServiceCall::Ping {});
        let reply = cloud
            .bus
            .call(
                &topic(name),
                &method,
                args,
                &Context::default(),
                Duration::from_secs(10),
            )
            .await
            .unwrap_or_else(|e| panic!("ping {name}: {}", virga_common::error::chain(&e)));
        let pong: Pong = serde_json::from_value(reply).unwrap();
        assert_eq!(pong.service, *name);
        assert_eq!(pong.host, cloud.config.host);
    }
}

#[tokio::test]
async fn every_service_answers_ping_in_process() {
    let cloud = Cloud::start(Backend::Embedded).await;
    ping_all(&cloud).await;
    cloud.stop().await;
}

#[tokio::test]
async fn every_service_answers_ping_over_rabbitmq() {
    let cloud = Cloud::start(Backend::Distributed).await;
    ping_all(&cloud).await;
    cloud.stop().await;
}

#[tokio::test]
async fn unknown_method_is_a_remote_error_not_a_hang() {
    let cloud = Cloud::start(Backend::Embedded).await;
    let err = cloud
        .bus
        .call(
            &topic("image"),
            "reboot_the_world",
            serde_json::json!({}),
            &Context::default(),
            Duration::from_secs(10),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, virga_bus::BusError::Remote { code, .. } if code == "BadRequest"),
        "{err:?}"
    );
    cloud.stop().await;
}
