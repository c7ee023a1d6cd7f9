//! The shared bus suite on the in-process transport, plus what only the
//! in-process transport has (the process-global broker behind `memory`).

use async_trait::async_trait;
use serde_json::json;
use virga_bus::suite::TestBroker;
use virga_bus::{Bus, BusOptions, Context, MemoryBroker, handler_fn};

/// A private broker per test, so tests never see each other's queues.
struct Memory(MemoryBroker);

impl Memory {
    fn new() -> Self {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("virga_bus=debug")
            .try_init();
        Memory(MemoryBroker::new())
    }
}

#[async_trait]
impl TestBroker for Memory {
    async fn bus(&self, options: BusOptions) -> Bus {
        Bus::memory_with(&self.0, options)
    }
}

virga_bus::bus_suite!(Memory::new());

/// Services keep a `Bus` in shared state and move consumers across tasks.
#[test]
fn handles_are_shareable() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Bus>();
    shareable::<virga_bus::Consumer>();
    shareable::<std::sync::Arc<dyn virga_bus::Handler>>();
}

/// `url = "memory"` joins one process-wide broker, so services started
/// separately in one process (`virga up`) reach each other.
#[tokio::test]
async fn memory_url_shares_the_global_broker() {
    let config = virga_common::config::BusConfig::default();
    assert_eq!(config.url, "memory");
    let (server, client) = (
        Bus::connect(&config).await.unwrap(),
        Bus::connect(&config).await.unwrap(),
    );
    let _consumer = server
        .serve(
            "global.echo",
            handler_fn(|m| async move { Ok(m.envelope.args) }),
        )
        .await
        .unwrap();
    let got = client
        .call(
            "global.echo",
            "echo",
            json!([1]),
            &Context::default(),
            config_timeout(),
        )
        .await
        .unwrap();
    assert_eq!(got, json!([1]));
    assert!(client.is_connected());
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    let config = virga_common::config::BusConfig {
        url: "kafka://x".into(),
        ..Default::default()
    };
    assert!(matches!(
        Bus::connect(&config).await,
        Err(virga_bus::BusError::InvalidUrl(_))
    ));
}

fn config_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(5)
}
