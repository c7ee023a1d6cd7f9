//! Owns the public RabbitMQ API: the run-wide shared node handing out fresh
//! vhosts, and `PrivateRabbitMq`, a node one test may crash and restart.

mod node;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use node::{Node, Running};

use crate::{amqp, run};

/// The run-wide shared private RabbitMQ node.
#[derive(Debug)]
pub struct RabbitMq {
    node: Node,
}

/// The run-wide shared private RabbitMQ node, started on first use.
pub fn shared() -> &'static RabbitMq {
    static SHARED: OnceLock<RabbitMq> = OnceLock::new();
    SHARED.get_or_init(|| {
        let node = run::shared_instance("rabbitmq", Node::alive, |generation, run_dir| {
            let (node, running) = start_fresh(generation, |node| {
                // Spawned before the node boots, so a node orphaned by a test
                // process dying mid-boot is still torn down with the run.
                run::watch_for_run(&node.pgid_file(), "KILL", run_dir);
            });
            // Dropping the handles leaves the node running for other processes.
            drop(running);
            node
        });
        RabbitMq { node }
    })
}

impl RabbitMq {
    /// Creates a fresh vhost (guest has full permissions on it) and returns
    /// its AMQP URL.
    pub fn fresh_vhost(&self) -> String {
        let vhost = format!("virga-{}", run::short_id());
        if let Err(why) = self.node.add_vhost(&vhost) {
            panic!(
                "testkit: cannot create vhost {vhost}: {why}\n{}",
                run::log_tail(&self.node.log(), 40)
            );
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Err(why) = amqp::handshake(self.node.amqp_port, &vhost) {
            assert!(
                Instant::now() < deadline,
                "testkit: fresh vhost {vhost} refuses connections: {why}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        url(self.node.amqp_port, &vhost)
    }

    pub fn amqp_port(&self) -> u16 {
        self.node.amqp_port
    }
}

/// A node owned by one test (not shared), for tests that stop and restart
/// the broker. Dropping it kills the node and removes its directory.
pub struct PrivateRabbitMq {
    node: Node,
    running: Mutex<Option<Running>>,
    watchdog: Child,
}

impl PrivateRabbitMq {
    /// Boots a new node; panics with the node's log tail if it cannot.
    pub fn start() -> PrivateRabbitMq {
        let dir = PathBuf::from(run::BASE).join(format!(
            "rabbitmq-private-{}-{}",
            std::process::id(),
            run::short_id()
        ));
        run::create_dir_all_retrying(&dir);
        let mut watchdog = None;
        let (node, running) = start_fresh(&dir, |node| {
            // Owned by this test process: cleans up if it dies without Drop.
            let pid = std::process::id();
            watchdog = Some(run::spawn_watchdog(pid, &node.pgid_file(), "KILL", &dir));
        });
        PrivateRabbitMq {
            node,
            running: Mutex::new(Some(running)),
            watchdog: watchdog.expect("watchdog spawned"),
        }
    }

    /// AMQP URL of the default vhost `/`.
    pub fn url(&self) -> String {
        url(self.node.amqp_port, "/")
    }

    /// Kills the node hard (like a crash or power loss) and waits until its
    /// port is closed. Does nothing if it is already stopped.
    pub fn stop(&self) {
        if let Some(running) = self.lock().take() {
            running.kill(&self.node);
        }
    }

    /// Starts the node again on the same port and data directory (durable
    /// queues and persistent messages survive) and waits until it is ready.
    pub fn restart(&self) {
        let mut running = self.lock();
        if let Some(old) = running.take() {
            old.kill(&self.node);
        }
        match self.node.launch() {
            Ok(new) => *running = Some(new),
            Err(why) => panic!("testkit: RabbitMQ node did not restart: {why}"),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        // A panic while holding the lock leaves a consistent Option behind.
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for PrivateRabbitMq {
    fn drop(&mut self) {
        self.stop();
        run::signal(&format!("-{}", self.watchdog.id()), "KILL");
        let _ = self.watchdog.wait();
        let _ = fs::remove_dir_all(&self.node.dir);
    }
}

impl std::fmt::Debug for PrivateRabbitMq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateRabbitMq")
            .field("node", &self.node)
            .finish()
    }
}

/// Creates and launches a node in `dir`, calling `spawned` once the node's
/// pgid file names its first process group. Retries with new ports when one
/// was taken between picking and binding it.
fn start_fresh(dir: &Path, mut spawned: impl FnMut(&Node)) -> (Node, Running) {
    let mut watched = false;
    for attempt in 1..=3 {
        let node = Node::create(dir);
        if !watched {
            // The pgid file is read only at teardown, so it may not exist yet.
            spawned(&node);
            watched = true;
        }
        match node.launch() {
            Ok(running) => return (node, running),
            Err(why) if attempt < 3 && why.to_lowercase().contains("eaddrinuse") => {
                eprintln!("testkit: RabbitMQ port clash, retrying: {why}");
                let _ = fs::remove_dir_all(dir.join("mnesia"));
            }
            Err(why) => panic!("testkit: RabbitMQ node did not start: {why}"),
        }
    }
    unreachable!("the last attempt panics or returns")
}

/// An AMQP URL for `vhost`, percent-encoding everything but unreserved bytes.
fn url(port: u16, vhost: &str) -> String {
    let mut encoded = String::new();
    for byte in vhost.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02x}"));
        }
    }
    format!("amqp://guest:guest@127.0.0.1:{port}/{encoded}")
}
