//! Owns cross-process sharing (the per-run state directory, its flock and
//! state.json), picking ports, and the boot loop both servers share: wait
//! until ready, and retry on new ports when another process took one.

use std::fs::{self, OpenOptions};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Serialize, de::DeserializeOwned};

pub(crate) const BASE: &str = "/tmp/virga-testkit";

/// Runs `start` at most once per test run (per parent pid) across all test
/// processes, unless the recorded instance no longer passes `alive`.
///
/// `start` receives a fresh generation directory inside the run directory and
/// the run directory itself (which its watchdog must remove).
pub(crate) fn shared_instance<S, A, F>(kind: &str, alive: A, start: F) -> S
where
    S: Serialize + DeserializeOwned,
    A: Fn(&S) -> bool,
    F: FnOnce(&Path, &Path) -> S,
{
    // nextest runs every test in its own process, so the runner (our parent)
    // is the only thing all test processes of one run have in common.
    let owner = std::os::unix::process::parent_id();
    let run_dir = PathBuf::from(BASE).join(format!("{kind}-{owner}"));
    create_dir_all_retrying(&run_dir);
    let lock_path = run_dir.join("lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("testkit: open {}: {e}", lock_path.display()));
    // Held while a server boots, so concurrent test processes wait for it
    // instead of racing to start a second one. Released when `lock` drops.
    lock.lock()
        .unwrap_or_else(|e| panic!("testkit: flock {}: {e}", lock_path.display()));

    let state_path = run_dir.join("state.json");
    if let Some(state) = read_state::<S>(&state_path)
        && alive(&state)
    {
        return state;
    }
    let generation = run_dir.join(format!("gen-{}", short_id()));
    create_dir_all_retrying(&generation);
    let state = start(&generation, &run_dir);
    let tmp = run_dir.join("state.json.tmp");
    fs::write(&tmp, serde_json::to_vec(&state).expect("serialize state"))
        .and_then(|()| fs::rename(&tmp, &state_path))
        .unwrap_or_else(|e| panic!("testkit: write {}: {e}", state_path.display()));
    drop(lock);
    state
}

fn read_state<S: DeserializeOwned>(path: &Path) -> Option<S> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

/// A watchdog's teardown races with other runs creating their directories
/// under the same base (it `rmdir`s the base when empty), so retry briefly.
pub(crate) fn create_dir_all_retrying(dir: &Path) {
    let mut last = None;
    for _ in 0..5 {
        match fs::create_dir_all(dir) {
            Ok(()) => return,
            Err(e) => last = Some(e),
        }
    }
    panic!("testkit: create {}: {}", dir.display(), last.unwrap());
}

pub(crate) fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// Returns `n` distinct ports that were free a moment ago, chosen below
/// the kernel's ephemeral range: a server restarted on its port (a broker
/// outage test) must find it still free, and ephemeral ports are what every
/// `bind(0)` server and every outgoing connection of the other tests take.
pub(crate) fn free_ports(n: usize) -> Vec<u16> {
    // All listeners stay open until every port is picked, so they're distinct.
    let mut listeners: Vec<TcpListener> = Vec::with_capacity(n);
    let (low, high) = (10_000u32, ephemeral_low().max(10_001));
    let mut tries = 0;
    while listeners.len() < n && tries < 200 {
        tries += 1;
        let pick = u32::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..4].try_into().unwrap());
        let port = u16::try_from(low + pick % (high - low)).unwrap_or(0);
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
            listeners.push(l);
        }
    }
    // A crowded range: fall back to whatever the kernel gives.
    while listeners.len() < n {
        listeners.push(TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"));
    }
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local_addr").port())
        .collect()
}

/// The first port of the kernel's ephemeral range (Linux's default 32768).
fn ephemeral_low() -> u32 {
    fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768)
}

pub(crate) fn port_open(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// Why one launch attempt failed. A clash (another process bound one of our
/// ports, or answered on it) is worth another attempt on new ports.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) clash: bool,
    pub(crate) why: String,
}

impl Failure {
    pub(crate) fn new(why: impl Into<String>) -> Failure {
        Failure {
            clash: false,
            why: why.into(),
        }
    }

    pub(crate) fn clash(why: impl Into<String>) -> Failure {
        Failure {
            clash: true,
            why: why.into(),
        }
    }
}

/// One look at a booting server.
pub(crate) enum Probe {
    Ready,
    NotYet(String),
    Failed(Failure),
}

/// Polls `probe` every `every` until it is ready or fails, or `timeout`
/// passes; a timeout reports the last reason it was not ready yet.
pub(crate) fn wait_until(
    timeout: Duration,
    every: Duration,
    mut probe: impl FnMut() -> Probe,
) -> Result<(), Failure> {
    let deadline = Instant::now() + timeout;
    let mut last = String::from("never probed");
    while Instant::now() < deadline {
        match probe() {
            Probe::Ready => return Ok(()),
            Probe::NotYet(why) => last = why,
            Probe::Failed(failure) => return Err(failure),
        }
        std::thread::sleep(every);
    }
    Err(Failure::new(format!("not ready after {timeout:?}: {last}")))
}

/// Runs `attempt` until it succeeds, retrying a port clash up to twice:
/// `free_ports` releases a port before the server binds it, so another
/// process can take it in between. Each attempt must clean up after itself.
pub(crate) fn retry_on_clash<T>(what: &str, mut attempt: impl FnMut() -> Result<T, Failure>) -> T {
    const ATTEMPTS: u32 = 3;
    for n in 1..=ATTEMPTS {
        match attempt() {
            Ok(started) => return started,
            Err(f) if f.clash && n < ATTEMPTS => {
                eprintln!(
                    "testkit: {what}: port clash, retrying on new ports: {}",
                    f.why
                );
            }
            Err(f) => panic!("testkit: {what} did not start: {}", f.why),
        }
    }
    unreachable!("the last attempt panics or returns")
}
