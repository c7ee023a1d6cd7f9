//! Owns a node's processes: launching it with its own epmd, deciding it is
//! up and really this node, and killing it again.

use std::fs;
use std::process::{Child, Command};
use std::time::Duration;

use super::node::{BIN, Node};
use crate::run::{self, Failure, Probe};
use crate::{amqp, process};

const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

/// The processes of a launched node; all in the epmd's process group.
pub(crate) struct Running {
    epmd: Child,
    server: Child,
}

impl Node {
    /// Starts epmd and the node and waits until it completes an AMQP
    /// handshake as this node. On failure everything started is killed again.
    pub(crate) fn launch(&self) -> Result<Running, Failure> {
        // A private epmd per node: nodes of concurrent runs never share one,
        // and killing the node's process group takes its epmd down with it.
        let mut epmd = Command::new("epmd");
        epmd.args([
            "-port",
            &self.epmd_port.to_string(),
            "-address",
            "127.0.0.1",
        ]);
        let epmd = process::spawn_detached(&mut epmd, &self.epmd_log(), 0);
        let group = epmd.id();
        fs::write(self.pgid_file(), group.to_string()).expect("write pgid");
        let mut server = Command::new(format!("{BIN}/rabbitmq-server"));
        self.env(&mut server);
        let mut running = Running {
            server: process::spawn_detached(&mut server, &self.log(), group),
            epmd,
        };
        let ready = run::wait_until(BOOT_TIMEOUT, Duration::from_millis(200), || {
            self.probe(&mut running)
        });
        match ready {
            Ok(()) => Ok(running),
            Err(mut failure) => {
                // No waiting for the ports: after a clash another server
                // holds one, and the next attempt picks new ones anyway.
                running.kill_group();
                failure.clash |= process::logs_show_clash(&[&self.log(), &self.epmd_log()]);
                failure.why = format!(
                    "node {} on port {}: {}\n{}",
                    self.name,
                    self.amqp_port,
                    failure.why,
                    process::log_tail(&self.log(), 40)
                );
                Err(failure)
            }
        }
    }

    fn probe(&self, running: &mut Running) -> Probe {
        if let Ok(Some(status)) = running.server.try_wait() {
            return Probe::Failed(Failure::new(format!(
                "rabbitmq-server exited with {status}"
            )));
        }
        if let Ok(Some(status)) = running.epmd.try_wait() {
            // epmd exits quietly (status 0) when something already listens
            // on its port; nothing else ends it while the node boots.
            return Probe::Failed(Failure::clash(format!(
                "epmd exited with {status}; port {} is taken",
                self.epmd_port
            )));
        }
        match amqp::handshake(self.amqp_port, "/") {
            Ok(name) if name == self.name => Probe::Ready,
            Ok(name) => Probe::Failed(Failure::clash(format!(
                "port {} is served by node {name:?}",
                self.amqp_port
            ))),
            Err(why) => Probe::NotYet(why),
        }
    }
}

impl Running {
    /// Kills the whole group hard (as a crash would) and waits until the
    /// node's ports are free again, so a restart can bind the same ones.
    pub(crate) fn kill(self, node: &Node) -> Result<(), String> {
        self.kill_group();
        let ports = [node.amqp_port, node.dist_port, node.epmd_port];
        let closed =
            run::wait_until(
                Duration::from_secs(30),
                Duration::from_millis(50),
                || match ports.iter().find(|&&p| run::port_open(p)) {
                    Some(p) => Probe::NotYet(format!("port {p} still open")),
                    None => Probe::Ready,
                },
            );
        closed.map_err(|f| {
            format!(
                "node {} still holds its ports after SIGKILL: {}",
                node.name, f.why
            )
        })
    }

    fn kill_group(mut self) {
        process::signal(&format!("-{}", self.epmd.id()), "KILL");
        let _ = self.server.wait();
        let _ = self.epmd.wait();
    }
}
