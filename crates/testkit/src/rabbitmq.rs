//! Owns the public RabbitMQ API: the run-wide shared node handing out fresh
//! vhosts, and `PrivateRabbitMq`, a node one test may crash and restart.

mod launch;
mod node;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use launch::Running;
use node::Node;

use crate::run::{self, Probe};
use crate::{amqp, process};

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
                process::watch_for_run(&node.pgid_file(), "KILL", run_dir);
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
                process::log_tail(&self.node.log(), 40)
            );
        }
        let opened = run::wait_until(Duration::from_secs(10), Duration::from_millis(100), || {
            match amqp::handshake(self.node.amqp_port, &vhost) {
                Ok(_) => Probe::Ready,
                Err(why) => Probe::NotYet(why),
            }
        });
        if let Err(f) = opened {
            panic!(
                "testkit: fresh vhost {vhost} refuses connections: {}",
                f.why
            );
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
            watchdog = Some(process::spawn_watchdog(
                pid,
                &node.pgid_file(),
                "KILL",
                &dir,
            ));
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
        if let Err(why) = self.kill() {
            panic!("testkit: {why}");
        }
    }

    fn kill(&self) -> Result<(), String> {
        match self.lock().take() {
            Some(running) => running.kill(&self.node),
            None => Ok(()),
        }
    }

    /// Starts the node again on the same port and data directory (durable
    /// queues and persistent messages survive) and waits until it is ready.
    pub fn restart(&self) {
        let mut running = self.lock();
        if let Some(old) = running.take()
            && let Err(why) = old.kill(&self.node)
        {
            panic!("testkit: {why}");
        }
        match self.node.launch() {
            Ok(new) => *running = Some(new),
            Err(f) => panic!("testkit: RabbitMQ node did not restart: {}", f.why),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        // A panic while holding the lock leaves a consistent Option behind.
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for PrivateRabbitMq {
    fn drop(&mut self) {
        // Never panic here: while the test is already panicking that would
        // abort the process and hide the failure that matters.
        if let Err(why) = self.kill() {
            eprintln!("testkit: dropping the private RabbitMQ node: {why}");
        }
        process::signal(&format!("-{}", self.watchdog.id()), "KILL");
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
/// pgid file names its first process group. Every attempt is a new node with
/// new ports.
fn start_fresh(dir: &Path, mut spawned: impl FnMut(&Node)) -> (Node, Running) {
    let mut watched = false;
    run::retry_on_clash("RabbitMQ node", || {
        // A failed attempt's data is of no use to the next node, whose name differs.
        let _ = fs::remove_dir_all(dir.join("mnesia"));
        let node = Node::create(dir);
        if !watched {
            // The pgid file is read only at teardown, so it may not exist yet.
            spawned(&node);
            watched = true;
        }
        node.launch().map(|running| (node, running))
    })
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
