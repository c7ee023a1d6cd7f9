//! `virga agent` as a process on a real libvirtd (the testkit's) and a
//! private RabbitMQ node, with this test playing the centre: the agent is
//! killed with SIGKILL while its guest runs and restarted (the guest
//! keeps running, untouched, and is reported); then the bus goes away for
//! a minute, the guest's emulator dies meanwhile, and the agent restarts it on its
//! own and reports everything when the bus returns; last, the agent is
//! killed while it builds a second guest, and the restarted one finishes it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;
use virga_bus::{Bus, BusOptions, Context, Incoming, handler_fn};
use virga_protocol::agent::{
    AgentCommand, AgentEvent, ConsoleLog, ImageRef, InstanceSpec, InstanceState, PortSpec, Power,
    topic,
};
use virga_protocol::scheduler::{NodeCall, Registered, TOPIC};
use virga_protocol::{from_parts, to_parts};
use virga_testkit::libvirt;
use virga_testkit::rabbitmq::PrivateRabbitMq;

const INSTANCE: &str = "5e000000-0000-4000-8000-000000000001";
const SECOND: &str = "5e000000-0000-4000-8000-000000000002";

fn images() -> std::path::PathBuf {
    std::env::var_os("VIRGA_TEST_IMAGES").map_or_else(
        || {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap())
                .join(".cache/virga-test-images")
        },
        Into::into,
    )
}

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn agent(dir: &Path, bus_url: &str, uri: &str) -> Agent {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("agent.log"))
        .unwrap();
    Agent(
        Command::new(env!("CARGO_BIN_EXE_virga"))
            .arg("agent")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("VIRGA_DATA_DIR", dir)
            .env("VIRGA_BUS__URL", bus_url)
            .env("VIRGA_BUS__CALL_TIMEOUT_SECS", "5")
            .env("VIRGA_AGENT__SITE", "process-test")
            .env("VIRGA_AGENT__KIND", "mec")
            .env("VIRGA_AGENT__DRIVER", "libvirt")
            .env("VIRGA_AGENT__LIBVIRT_URI", uri)
            .env("VIRGA_AGENT__LIBVIRT_DOMAIN_TYPE", "qemu")
            .env("VIRGA_AGENT__HEARTBEAT_SECS", "1")
            .env("VIRGA_AGENT__RECONCILE_SECS", "1")
            .env("VIRGA_AGENT__STOP_TIMEOUT_SECS", "2")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    )
}

fn agent_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("agent.log")).unwrap_or_default()
}

/// The centre's side: answers registrations, collects agents' events.
struct Centre {
    bus: Bus,
    registered: mpsc::UnboundedReceiver<String>,
    events: mpsc::UnboundedReceiver<AgentEvent>,
    _consumers: Vec<virga_bus::Consumer>,
}

async fn centre(url: &str) -> Centre {
    let bus = Bus::amqp(url, BusOptions::default()).await.unwrap();
    let (reg_tx, registered) = mpsc::unbounded_channel();
    let serve = bus
        .serve(
            TOPIC,
            handler_fn(move |m: Incoming| {
                let tx = reg_tx.clone();
                async move {
                    match from_parts::<NodeCall>(&m.envelope.method, m.envelope.args).unwrap() {
                        NodeCall::Register { node, site, .. } => {
                            let _ = tx.send(node.clone());
                            Ok(serde_json::to_value(Registered {
                                node,
                                site: site.name,
                            })
                            .unwrap())
                        }
                        NodeCall::Heartbeat { .. } => Ok(Value::Null),
                    }
                }
            }),
        )
        .await
        .unwrap();
    let (ev_tx, events) = mpsc::unbounded_channel();
    let sub = bus
        .subscribe(
            virga_protocol::agent::EVENTS,
            Some("test-centre"),
            handler_fn(move |m: Incoming| {
                let tx = ev_tx.clone();
                async move {
                    let _ = tx.send(
                        from_parts::<AgentEvent>(&m.envelope.method, m.envelope.args).unwrap(),
                    );
                    Ok(Value::Null)
                }
            }),
        )
        .await
        .unwrap();
    Centre {
        bus,
        registered,
        events,
        _consumers: vec![serve, sub],
    }
}

impl Centre {
    /// Casts `cmd` to the agent of `node`.
    async fn send(&self, node: &str, cmd: &AgentCommand) {
        let (m, args) = to_parts(cmd);
        self.bus
            .cast(&topic(node), &m, args, &Context::default())
            .await
            .unwrap();
    }

    async fn registration(&mut self, dir: &Path) -> String {
        tokio::time::timeout(Duration::from_secs(60), self.registered.recv())
            .await
            .unwrap_or_else(|_| panic!("the agent never registered; its log:\n{}", agent_log(dir)))
            .unwrap()
    }

    /// Waits for an event `pick` accepts.
    async fn event<T>(
        &mut self,
        dir: &Path,
        what: &str,
        pick: impl Fn(&AgentEvent) -> Option<T>,
    ) -> T {
        let wait = async {
            loop {
                let ev = self.events.recv().await.unwrap();
                if let Some(t) = pick(&ev) {
                    return t;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(90), wait)
            .await
            .unwrap_or_else(|_| panic!("no {what}; the agent's log:\n{}", agent_log(dir)))
    }

    async fn console(&self, node: &str) -> String {
        let (m, args) = to_parts(&AgentCommand::ConsoleLog {
            instance: INSTANCE.into(),
            max_bytes: None,
        });
        let v = self
            .bus
            .call(
                &topic(node),
                &m,
                args,
                &Context::default(),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
        serde_json::from_value::<ConsoleLog>(v).unwrap().output
    }

    async fn boots(&self, node: &str, want: usize) {
        let until = Instant::now() + Duration::from_secs(90);
        loop {
            let log = self.console(node).await;
            let n = log.matches("VIRGA-TEST-IMAGE-READY").count();
            if n >= want {
                assert_eq!(n, want, "booted more often than expected:\n{log}");
                return;
            }
            assert!(
                Instant::now() < until,
                "boot #{want} never finished:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

fn state_of(ev: &AgentEvent, want: InstanceState) -> Option<Option<String>> {
    match ev {
        AgentEvent::InstanceState { status, .. }
            if status.instance == INSTANCE && status.state == want =>
        {
            Some(status.reason.clone())
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_survives_sigkill_and_a_bus_outage() {
    let kit = tokio::task::block_in_place(libvirt::shared);
    let rabbit = tokio::task::block_in_place(PrivateRabbitMq::start);
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("instances/_base");
    std::fs::create_dir_all(&base).unwrap();
    std::os::unix::fs::symlink(
        images().join("virga-test-vm.qcow2"),
        base.join("virga-test-vm"),
    )
    .unwrap();
    let mut centre = centre(&rabbit.url()).await;

    let mut proc = agent(dir.path(), &rabbit.url(), &kit.uri());
    let node = centre.registration(dir.path()).await;
    let spec = InstanceSpec {
        uuid: INSTANCE.into(),
        name: "survivor".into(),
        vcpus: 1,
        memory_mb: 192,
        disk_gb: 0,
        image: ImageRef::held("virga-test-vm", "qcow2"),
        ports: vec![PortSpec {
            id: "p".into(),
            mac: "52:54:00:00:00:42".into(),
            bridge: None,
        }],
        metadata: Default::default(),
        user_data: None,
        build: 0,
    };
    let ensure = AgentCommand::Ensure {
        request_id: "req-1".into(),
        generation: 1,
        spec: Box::new(spec.clone()),
        power: Power::Running,
    };
    centre.send(&node, &ensure).await;
    centre
        .event(dir.path(), "running", |e| {
            state_of(e, InstanceState::Running)
        })
        .await;
    centre.boots(&node, 1).await;

    // SIGKILL: the guest keeps running; the new agent is the same node,
    // reports the instance running, and leaves it alone.
    proc.0.kill().unwrap();
    proc.0.wait().unwrap();
    let domain = virga_agent::driver::libvirt::domain_name(INSTANCE);
    assert_eq!(kit.virsh(&["domstate", &domain]).unwrap(), "running");
    drop(proc);
    let proc = agent(dir.path(), &rabbit.url(), &kit.uri());
    assert_eq!(centre.registration(dir.path()).await, node);
    let instances = centre
        .event(dir.path(), "a full report", |e| match e {
            AgentEvent::Report { instances, .. } if !instances.is_empty() => {
                Some(instances.clone())
            }
            _ => None,
        })
        .await;
    assert_eq!(instances[0].state, InstanceState::Running);
    tokio::time::sleep(Duration::from_secs(3)).await;
    centre.boots(&node, 1).await;

    // The bus goes away; meanwhile the guest's emulator dies. The agent
    // starts it again by itself, and tells the centre once it is back.
    rabbit.stop();
    let outage_started = Instant::now();
    let pid = kit.qemu_pid(&domain).unwrap();
    assert!(
        Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let until = Instant::now() + Duration::from_secs(60);
    while kit.qemu_pid(&domain).is_none_or(|p| p == pid) {
        assert!(
            Instant::now() < until,
            "not restarted without the bus:\n{}",
            agent_log(dir.path())
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The bus stays away a full minute, as a cut-off site's link might.
    tokio::time::sleep(Duration::from_secs(60).saturating_sub(outage_started.elapsed())).await;
    rabbit.restart();
    let why = centre
        .event(dir.path(), "the buffered crash report", |e| {
            state_of(e, InstanceState::Running)
        })
        .await;
    assert!(
        why.as_deref().is_some_and(|w| w.contains("crashed")),
        "{why:?}; log:\n{}",
        agent_log(dir.path())
    );
    centre.boots(&node, 2).await;

    // SIGKILL mid-spawn: a second instance's build is under way (its
    // directory made) when the agent dies; the restarted agent finishes it
    // from its ledger and reports it running.
    let second = InstanceSpec {
        uuid: SECOND.into(),
        name: "phoenix".into(),
        ports: vec![],
        ..spec
    };
    let ensure = AgentCommand::Ensure {
        request_id: "req-3".into(),
        generation: 1,
        spec: Box::new(second),
        power: Power::Running,
    };
    centre.send(&node, &ensure).await;
    let building = dir.path().join("instances").join(SECOND);
    let until = Instant::now() + Duration::from_secs(60);
    while !building.exists() {
        assert!(
            Instant::now() < until,
            "the build never started:\n{}",
            agent_log(dir.path())
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut proc = proc;
    proc.0.kill().unwrap();
    proc.0.wait().unwrap();
    drop(proc);
    let proc = agent(dir.path(), &rabbit.url(), &kit.uri());
    centre
        .event(dir.path(), "the second instance running", |e| match e {
            AgentEvent::InstanceState { status, .. }
                if status.instance == SECOND && status.state == InstanceState::Running =>
            {
                Some(())
            }
            AgentEvent::Report { instances, .. }
                if instances
                    .iter()
                    .any(|i| i.instance == SECOND && i.state == InstanceState::Running) =>
            {
                Some(())
            }
            _ => None,
        })
        .await;
    let second_domain = virga_agent::driver::libvirt::domain_name(SECOND);
    assert_eq!(kit.virsh(&["domstate", &second_domain]).unwrap(), "running");

    // Clean up through the agent itself.
    for (id, generation) in [(INSTANCE, 2), (SECOND, 2)] {
        let delete = AgentCommand::Delete {
            request_id: format!("req-d-{id}"),
            instance: id.into(),
            generation,
        };
        centre.send(&node, &delete).await;
    }
    centre
        .event(dir.path(), "deleted", |e| {
            state_of(e, InstanceState::Deleted)
        })
        .await;
    let until = Instant::now() + Duration::from_secs(30);
    while kit.virsh(&["domstate", &second_domain]).is_ok() {
        assert!(Instant::now() < until, "the second guest stays");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(kit.virsh(&["domstate", &domain]).is_err());
    drop(proc);
}
