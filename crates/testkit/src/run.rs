//! Owns cross-process sharing and teardown: the per-run state directory, its
//! flock, state.json, detached spawning, process-group signals and the
//! watchdog that cleans up when the owning process (the test runner) exits.

use std::fs::{self, OpenOptions};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

/// Spawns `cmd` in its own process group with output appended to `log`, so it
/// outlives the test process and a runner killing the test's group spares it.
/// `group` 0 makes a new group; otherwise the child joins that group.
pub(crate) fn spawn_detached(cmd: &mut Command, log: &Path, group: u32) -> Child {
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|e| panic!("testkit: open {}: {e}", log.display()));
    let err = out.try_clone().expect("dup log fd");
    cmd.process_group(i32::try_from(group).expect("pgid fits i32"))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("testkit: spawn {cmd:?}: {e}"))
}

/// Starts a detached shell that waits for `owner` to exit, then sends
/// `signal` to the process group recorded in `pgid_file` and removes `dir`.
/// Reading the pgid at teardown time (not now) keeps it right across restarts.
pub(crate) fn spawn_watchdog(owner: u32, pgid_file: &Path, signal: &str, dir: &Path) -> Child {
    let (pgid_file, dir) = (pgid_file.display(), dir.display());
    let script = format!(
        "while kill -0 {owner} 2>/dev/null; do sleep 1; done
         pg=$(cat '{pgid_file}' 2>/dev/null)
         if [ -n \"$pg\" ]; then
           kill -{signal} -$pg 2>/dev/null; i=0
           while kill -0 -$pg 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
           kill -KILL -$pg 2>/dev/null
         fi
         rm -rf '{dir}'; rmdir '{BASE}' 2>/dev/null; exit 0"
    );
    // dash's kill takes no `--`; `-$pg` alone already means a process group.
    // stdio must not inherit the test's pipes, or the runner would wait on them.
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("testkit: spawn watchdog: {e}"))
}

/// A watchdog for a run-wide server: it waits for the runner, not for us.
pub(crate) fn watch_for_run(pgid_file: &Path, signal: &str, run_dir: &Path) {
    let owner = std::os::unix::process::parent_id();
    // Deliberately never waited for: it must outlive this test process.
    drop(spawn_watchdog(owner, pgid_file, signal, run_dir));
}

/// Sends a signal via kill(1): the workspace forbids the unsafe libc call.
pub(crate) fn signal(target: &str, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", target])
        .stderr(Stdio::null())
        .status();
}

/// Returns `n` distinct ports that were free a moment ago.
pub(crate) fn free_ports(n: usize) -> Vec<u16> {
    // All listeners stay open until every port is picked, so they're distinct.
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local_addr").port())
        .collect()
}

pub(crate) fn port_open(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// The first error lines and the last `lines` lines of a log, for panic
/// messages: a crash report's tail often hides the line that says why.
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let Ok(bytes) = fs::read(path) else {
        return format!("(no log at {})", path.display());
    };
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    let tail_start = all.len().saturating_sub(lines);
    let errors: Vec<&str> = all[..tail_start]
        .iter()
        .filter(|l| {
            ["[error]", "FATAL", "ERROR", "error:"]
                .iter()
                .any(|e| l.contains(e))
        })
        .take(5)
        .copied()
        .collect();
    let mut out = format!("--- {} ---\n", path.display());
    if !errors.is_empty() {
        out.push_str(&format!("{}\n[...]\n", errors.join("\n")));
    }
    out.push_str(&all[tail_start..].join("\n"));
    out
}

pub(crate) fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}
