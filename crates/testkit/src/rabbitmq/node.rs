//! Owns one private RabbitMQ node's identity: its directory, name, ports and
//! environment, and running rabbitmqctl against it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{amqp, process, run};

pub(super) const BIN: &str = "/usr/lib/rabbitmq/bin";
/// rabbitmqctl waits forever by default, so one wedged node would hang
/// every test that asks it for a vhost.
const CTL_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything needed to (re)start or talk to a node; shared via state.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Node {
    pub(crate) dir: PathBuf,
    pub(crate) name: String,
    pub(crate) amqp_port: u16,
    pub(crate) dist_port: u16,
    pub(crate) epmd_port: u16,
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
        // The cluster name comes back in every connection.start, which is how
        // a probe tells this node from another run's on a reused port.
        let conf = format!(
            "listeners.tcp.default = 127.0.0.1:{}\n\
             cluster_name = {}\n\
             # Resource alarms block publishers, which would hang tests on a busy CI box.\n\
             disk_free_limit.absolute = 1MB\n\
             vm_memory_high_watermark.relative = 0.9\n",
            node.amqp_port, node.name
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
        process::truncate_log(&node.log());
        process::truncate_log(&node.epmd_log());
        node
    }

    pub(crate) fn pgid_file(&self) -> PathBuf {
        self.dir.join("pgid")
    }

    pub(crate) fn log(&self) -> PathBuf {
        self.dir.join("rabbitmq.log")
    }

    pub(super) fn epmd_log(&self) -> PathBuf {
        self.dir.join("epmd.log")
    }

    pub(super) fn env(&self, cmd: &mut Command) {
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

    /// Whether this very node still serves clients at its ports.
    pub(crate) fn alive(&self) -> bool {
        amqp::handshake(self.amqp_port, "/").is_ok_and(|name| name == self.name)
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
        // Against a dead node, the CLI's VM would otherwise start a daemon
        // epmd on our port, outside any group a watchdog kills.
        ctl.env("RABBITMQ_CTL_ERL_ARGS", "-start_epmd false");
        ctl.args(["-q", "--timeout", &CTL_TIMEOUT.as_secs().to_string()])
            .args(["eval", &expr]);
        // Not every rabbitmqctl command honours --timeout; the deadline does.
        let out = process::output_with_deadline(&mut ctl, CTL_TIMEOUT + Duration::from_secs(10))?;
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
