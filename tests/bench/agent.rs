//! Agent footprint benchmark: `virga agent`, or the slim `virga-agent`
//! (the binary given with `--virga`), as a process on a private RabbitMQ node, this program
//! playing the centre, at the agent's default rhythms (heartbeat 10 s,
//! reconcile 5 s). Measures resident memory (VmRSS, and its peak VmHWM)
//! and CPU use while idle with no instance, then with `--instances`
//! instances on the simulated driver (or `--driver libvirt` with
//! `--libvirt-uri`, default the test kit's private libvirtd, booting
//! `--image`, e.g. the test image, under TCG). Prints the figures for
//! docs/benchmarks.md; run it with `scripts/bench-agent.sh`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;
use virga_bus::{Bus, BusOptions, Incoming, handler_fn};
use virga_protocol::agent::{AgentCommand, AgentEvent, InstanceState, Power};
use virga_protocol::from_parts;
use virga_protocol::scheduler::{NodeCall, Registered, TOPIC};

struct Args {
    virga: PathBuf,
    instances: usize,
    idle_secs: u64,
    driver: String,
    libvirt_uri: String,
    image: Option<PathBuf>,
}

fn args() -> Args {
    let exe = std::env::current_exe().unwrap();
    let mut a = Args {
        virga: exe.parent().unwrap().join("virga"),
        instances: 50,
        idle_secs: 60,
        driver: "simulated".into(),
        libvirt_uri: String::new(),
        image: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--virga" => a.virga = v.into(),
            "--instances" => a.instances = v.parse().expect("--instances: a number"),
            "--idle-secs" => a.idle_secs = v.parse().expect("--idle-secs: a number"),
            "--driver" => a.driver = v,
            "--libvirt-uri" => a.libvirt_uri = v,
            "--image" => a.image = Some(v.into()),
            _ => panic!("unknown option {k}"),
        }
    }
    a
}

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Proportional set size (shared pages divided among their users) in KiB.
fn pss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Pss:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// (VmRSS, VmHWM) in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time (user + system) in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// Idle for `secs`: mean and max RSS (MiB), CPU use (% of one core), and
/// PSS at the end (MiB).
fn idle(pid: u32, secs: u64) -> (f64, f64, f64, f64) {
    let ticks = 100.0; // USER_HZ on Linux
    let (t0, w0) = (cpu_ticks(pid), Instant::now());
    let mut samples = Vec::new();
    while w0.elapsed() < Duration::from_secs(secs) {
        samples.push(memory(pid).0 as f64 / 1024.0);
        std::thread::sleep(Duration::from_secs(1));
    }
    let cpu = (cpu_ticks(pid) - t0) as f64 / ticks / w0.elapsed().as_secs_f64() * 100.0;
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    let max = samples.iter().cloned().fold(0.0, f64::max);
    (mean, max, cpu, pss(pid) as f64 / 1024.0)
}

#[tokio::main]
async fn main() {
    let a = args();
    let rabbit = tokio::task::block_in_place(virga_testkit::rabbitmq::PrivateRabbitMq::start);
    let bus = Bus::amqp(&rabbit.url(), BusOptions::default())
        .await
        .unwrap();
    let (reg_tx, mut registered) = mpsc::unbounded_channel();
    let _serve = bus
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
    let (ev_tx, mut events) = mpsc::unbounded_channel();
    let _sub = bus
        .subscribe(
            virga_protocol::agent::EVENTS,
            Some("bench"),
            handler_fn(move |m: Incoming| {
                let tx = ev_tx.clone();
                async move {
                    let _ = tx.send(from_parts::<AgentEvent>(
                        &m.envelope.method,
                        m.envelope.args,
                    ));
                    Ok(Value::Null)
                }
            }),
        )
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("instances/_base");
    std::fs::create_dir_all(&base).unwrap();
    match &a.image {
        Some(img) => std::os::unix::fs::symlink(img, base.join("bench-image")).unwrap(),
        None => std::fs::write(base.join("bench-image"), b"simulated").unwrap(),
    }
    let uri = if a.driver == "libvirt" && a.libvirt_uri.is_empty() {
        tokio::task::block_in_place(virga_testkit::libvirt::shared).uri()
    } else {
        a.libvirt_uri.clone()
    };
    let mut cmd = Command::new(&a.virga);
    // `virga agent`, or the slim `virga-agent` as it is.
    if a.virga.file_name().is_some_and(|n| n == "virga") {
        cmd.arg("agent");
    }
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("VIRGA_DATA_DIR", dir.path())
        .env("VIRGA_BUS__URL", rabbit.url())
        .env("VIRGA_LOG__LEVEL", "warn")
        .env("VIRGA_AGENT__SITE", "bench")
        .env("VIRGA_AGENT__DRIVER", &a.driver)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if !uri.is_empty() {
        cmd.env("VIRGA_AGENT__LIBVIRT_URI", &uri)
            .env("VIRGA_AGENT__LIBVIRT_DOMAIN_TYPE", "qemu");
    }
    let agent = Agent(cmd.spawn().expect("virga runs"));
    let pid = agent.0.id();
    let started = Instant::now();
    let node = tokio::time::timeout(Duration::from_secs(60), registered.recv())
        .await
        .expect("the agent registers")
        .unwrap();
    let startup = started.elapsed();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let at0 = tokio::task::block_in_place(|| idle(pid, a.idle_secs));

    let made = Instant::now();
    for n in 0..a.instances {
        let mut spec = virga_tests::agents::instance_spec(
            &uuid::Uuid::new_v4().to_string(),
            &format!("bench-{n}"),
            "bench-image",
            128,
        );
        spec.disk_gb = 0;
        let ensure = AgentCommand::Ensure {
            request_id: format!("req-{n}"),
            generation: 1,
            spec: Box::new(spec),
            power: Power::Running,
        };
        virga_tests::agents::send(&bus, &node, &ensure).await;
    }
    let mut running = 0;
    while running < a.instances {
        match tokio::time::timeout(Duration::from_secs(300), events.recv()).await {
            Ok(Some(Ok(AgentEvent::InstanceState { status, .. }))) => match status.state {
                InstanceState::Running => running += 1,
                InstanceState::Error => panic!("instance failed: {status:?}"),
                _ => {}
            },
            Ok(Some(_)) => {}
            _ => panic!("only {running} of {} instances came up", a.instances),
        }
    }
    let ramp = made.elapsed();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let atn = tokio::task::block_in_place(|| idle(pid, a.idle_secs));
    let (_, hwm) = memory(pid);

    println!(
        "agent footprint ({} driver, {}): started and registered in {:.2} s",
        a.driver,
        a.virga.display(),
        startup.as_secs_f64()
    );
    println!("| instances | RSS mean (MiB) | RSS max (MiB) | PSS (MiB) | CPU (% of a core) |");
    println!("|---|---|---|---|---|");
    for (n, m) in [(0, at0), (a.instances, atn)] {
        println!(
            "| {n} | {:.1} | {:.1} | {:.1} | {:.2} |",
            m.0, m.1, m.3, m.2
        );
    }
    println!(
        "{} instances running {:.2} s after the first command; peak RSS (VmHWM) {:.1} MiB",
        a.instances,
        ramp.as_secs_f64(),
        hwm as f64 / 1024.0
    );
    drop(agent);
    drop(rabbit);
}
