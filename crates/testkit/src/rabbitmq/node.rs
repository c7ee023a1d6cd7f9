//! Owns one private RabbitMQ node: its directory, ports and environment,
//! launching it (with its own epmd), killing it, and running rabbitmqctl.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::{amqp, run};

const BIN: &str = "/usr/lib/rabbitmq/bin";
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

/// Everything needed to (re)start or talk to a node; shared via state.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Node {
    pub(crate) dir: PathBuf,
    pub(crate) name: String,
    pub(crate) amqp_port: u16,
    pub(crate) dist_port: u16,
    pub(crate) epmd_port: u16,
}

/// The processes of a launched node; all in the epmd's process group.
pub(crate) struct Running {
    epmd: Child,
    server: Child,
}

impl Node {
    /// Writes a fresh node's files into `dir` with newly picked ports.
    pub(crate) fn create(dir: &Path) -> Node {
        let ports = run::free_ports(3);
        let node = Node {
            dir: dir.to_owned(),
            name: format!("virga{}@localhost", run::short_id()),
            amqp_port: ports[0],
            dist_port: ports[1],
            epmd_port: ports[2],
        };
        let conf = format!(
            "listeners.tcp.default = 127.0.0.1:{}\n\
             # Resource alarms block publishers, which would hang tests on a busy CI box.\n\
             disk_free_limit.absolute = 1MB\n\
             vm_memory_high_watermark.relative = 0.9\n",
            node.amqp_port
        );
        let files = [
            ("rabbitmq.conf", conf.as_str()),
            ("advanced.config", "[].\n"),
            // No management plugin: it costs boot time and a port.
            ("enabled_plugins", "[].\n"),
            // Keeps /etc/rabbitmq/rabbitmq-env.conf from overriding our env.
            ("rabbitmq-env.conf", ""),
        ];
        for (file, text) in files {
            let path = dir.join(file);
            fs::write(&path, text)
                .unwrap_or_else(|e| panic!("testkit: write {}: {e}", path.display()));
        }
        node
    }

    pub(crate) fn pgid_file(&self) -> PathBuf {
        self.dir.join("pgid")
    }

    pub(crate) fn log(&self) -> PathBuf {
        self.dir.join("rabbitmq.log")
    }

    fn env(&self, cmd: &mut Command) {
        let dir = &self.dir;
        // Erlang writes crash dumps to its working directory by default,
        // which for a test is the crate's source directory.
        cmd.current_dir(dir)
            .env("ERL_CRASH_DUMP", dir.join("erl_crash.dump"))
            .env("HOME", dir) // private .erlang.cookie
            .env("RABBITMQ_NODENAME", &self.name)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.amqp_port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env("ERL_EPMD_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_LOGS", "-")
            .env("RABBITMQ_PID_FILE", dir.join("rabbitmq.pid"))
            .env("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq.conf"))
            .env("RABBITMQ_ADVANCED_CONFIG_FILE", dir.join("advanced.config"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
            .env("RABBITMQ_CONF_ENV_FILE", dir.join("rabbitmq-env.conf"))
            .env(
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                "-kernel inet_dist_use_interface {127,0,0,1}",
            );
    }

    /// Starts epmd and the node and waits until it completes an AMQP
    /// handshake. On failure everything started is killed again.
    pub(crate) fn launch(&self) -> Result<Running, String> {
        // A private epmd per node: nodes of concurrent runs never share one,
        // and killing the node's process group takes its epmd down with it.
        let mut epmd = Command::new("epmd");
        epmd.args([
            "-port",
            &self.epmd_port.to_string(),
            "-address",
            "127.0.0.1",
        ]);
        let epmd = run::spawn_detached(&mut epmd, &self.dir.join("epmd.log"), 0);
        let group = epmd.id();
        fs::write(self.pgid_file(), group.to_string()).expect("write pgid");
        let mut server = Command::new(format!("{BIN}/rabbitmq-server"));
        self.env(&mut server);
        let mut running = Running {
            server: run::spawn_detached(&mut server, &self.log(), group),
            epmd,
        };
        match self.wait_ready(&mut running) {
            Ok(()) => Ok(running),
            Err(why) => {
                running.kill(self);
                Err(format!("{why}\n{}", run::log_tail(&self.log(), 40)))
            }
        }
    }

    fn wait_ready(&self, running: &mut Running) -> Result<(), String> {
        let deadline = Instant::now() + BOOT_TIMEOUT;
        let mut last = String::from("never probed");
        while Instant::now() < deadline {
            if let Ok(Some(status)) = running.server.try_wait() {
                return Err(format!("rabbitmq-server exited with {status}"));
            }
            if let Ok(Some(status)) = running.epmd.try_wait() {
                return Err(format!("epmd exited with {status}"));
            }
            match amqp::handshake(self.amqp_port, "/") {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "node {} not ready on port {} after {BOOT_TIMEOUT:?}: {last}",
            self.name, self.amqp_port
        ))
    }

    /// Whether the node at these ports still serves clients.
    pub(crate) fn alive(&self) -> bool {
        amqp::handshake(self.amqp_port, "/").is_ok()
    }

    /// Creates `vhost` with full permissions for guest, in one rabbitmqctl
    /// call (each call pays for an Erlang VM start).
    pub(crate) fn add_vhost(&self, vhost: &str) -> Result<(), String> {
        let expr = format!(
            "ok = rabbit_vhost:add(<<\"{vhost}\">>, <<\"virga-testkit\">>), \
             ok = rabbit_auth_backend_internal:set_permissions(<<\"guest\">>, <<\"{vhost}\">>, \
             <<\".*\">>, <<\".*\">>, <<\".*\">>, <<\"virga-testkit\">>), vhost_ready."
        );
        let mut ctl = Command::new(format!("{BIN}/rabbitmqctl"));
        self.env(&mut ctl);
        let out = ctl
            .args(["-q", "eval", &expr])
            .output()
            .map_err(|e| format!("run rabbitmqctl: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && stdout.contains("vhost_ready") {
            return Ok(());
        }
        Err(format!(
            "rabbitmqctl eval failed ({}): {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl Running {
    /// Kills the whole group hard (as a crash would) and waits until the
    /// node's ports are free again, so a restart can bind the same ones.
    pub(crate) fn kill(mut self, node: &Node) {
        run::signal(&format!("-{}", self.epmd.id()), "KILL");
        let _ = self.server.wait();
        let _ = self.epmd.wait();
        let deadline = Instant::now() + Duration::from_secs(30);
        let ports = [node.amqp_port, node.dist_port, node.epmd_port];
        while ports.iter().any(|&p| run::port_open(p)) {
            assert!(
                Instant::now() < deadline,
                "testkit: node {} still holds its ports 30 s after SIGKILL",
                node.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
