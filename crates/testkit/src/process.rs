//! Owns process plumbing: detached servers and the watchdogs that tear them
//! down when their owner exits, helper commands run with a deadline,
//! process-group signals, and reading server logs.

use std::fs::{self, OpenOptions};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::run::BASE;

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

/// Runs `cmd` to completion, but kills its whole process group once
/// `deadline` passes: a helper talking to a wedged server (rabbitmqctl's own
/// timeout is infinity) would otherwise hang every test waiting on it.
pub(crate) fn output_with_deadline(
    cmd: &mut Command,
    deadline: Duration,
) -> Result<Output, String> {
    // Its own group, so killing it also takes down what it spawned (the
    // Erlang VM behind rabbitmqctl, the postgres backends behind initdb).
    let mut child = cmd
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn {cmd:?}: {e}"))?;
    // Read concurrently: a child blocked on a full pipe never exits.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let end = Instant::now() + deadline;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                signal(&format!("-{}", child.id()), "KILL");
                let _ = child.wait();
                break None;
            }
        }
    };
    // A grandchild that left the group can hold a pipe open indefinitely.
    let collect =
        |rx: mpsc::Receiver<Vec<u8>>| rx.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
    let (stdout, stderr) = (collect(stdout), collect(stderr));
    match status {
        Some(status) => Ok(Output {
            status,
            stdout,
            stderr,
        }),
        None => Err(format!(
            "{cmd:?} was killed after {deadline:?} without finishing; it printed: {}{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        )),
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
    }
    rx
}

/// Sends a signal via kill(1): the workspace forbids the unsafe libc call.
pub(crate) fn signal(target: &str, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", target])
        .stderr(Stdio::null())
        .status();
}

/// Empties a log that is appended to across attempts, so a line left by an
/// earlier attempt (say "eaddrinuse") can't explain a later failure.
pub(crate) fn truncate_log(path: &Path) {
    let _ = fs::write(path, b"");
}

/// Whether any of `logs` says a port was already bound: PostgreSQL and the
/// Erlang VM word it differently, and the VM splits it across lines.
pub(crate) fn logs_show_clash(logs: &[&Path]) -> bool {
    logs.iter().any(|log| {
        let text = fs::read(log).unwrap_or_default();
        let text = String::from_utf8_lossy(&text).to_lowercase();
        text.contains("eaddrinuse") || text.contains("address already in use")
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_helper_past_its_deadline_is_killed_with_its_children() {
        let started = Instant::now();
        let mut cmd = Command::new("sh");
        // The backgrounded sleep holds stdout open unless the group dies.
        cmd.args(["-c", "sleep 30 & echo started; wait"]);
        let err = output_with_deadline(&mut cmd, Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2), "{err}");
        assert!(
            err.contains("killed after") && err.contains("started"),
            "{err}"
        );
    }
}
