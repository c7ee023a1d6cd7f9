//! Owns the node process behind `OidcProvider`: finding the installed
//! package, spawning `server.js`, waiting for its ready line, keeping its
//! output for error messages, and stopping it.
//!
//! No watchdog is needed here: the process reads a pipe whose only writer
//! is this test process, and exits when that pipe closes, which the kernel
//! does however this process ends.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::OidcError;

/// Generous: generating the RSA key and loading the modules takes about a
/// second, but a full parallel run on 2 cores (QEMU booting a guest under
/// TCG beside it) once starved node past 30 s.
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a closed stdin gets to end the process before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const READY: &str = "virga-oidc-provider ready http://127.0.0.1:";
const LOG_LINES: usize = 200;

type Log = Arc<Mutex<VecDeque<String>>>;

#[derive(Debug)]
pub(super) struct Node {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    log: Log,
}

fn project_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc-provider")
}

impl Node {
    /// Spawns the provider with `config` (JSON) and returns it with its port
    /// once it prints its ready line.
    pub(super) fn spawn(config: &str) -> Result<(Node, u16), OidcError> {
        let dir = project_dir();
        if !dir
            .join("node_modules/oidc-provider/package.json")
            .is_file()
        {
            return Err(OidcError::NotInstalled { dir });
        }
        let log = Log::default();
        let mut child = Command::new("node")
            .arg("server.js")
            .current_dir(&dir)
            .env("VIRGA_OIDC_CONFIG", config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| OidcError::Start {
                why: format!("spawn `node server.js` in {}: {e}", dir.display()),
                log: String::new(),
            })?;
        let (ready_tx, ready_rx) = mpsc::channel();
        let readers = [
            // Both pipes are drained for the process's whole life: a full
            // pipe would block the provider mid-request.
            drain(child.stdout.take(), log.clone(), Some(ready_tx)),
            drain(child.stderr.take(), log.clone(), None),
        ];
        let mut node = Node {
            stdin: child.stdin.take(),
            child: Some(child),
            log,
        };
        let failed = |node: &mut Node, why: String| {
            let _ = node.stop();
            // The readers end once the process has exited; join them so the
            // log holds everything it printed.
            for reader in readers {
                let _ = reader.join();
            }
            OidcError::Start {
                why,
                log: node.log(),
            }
        };
        match ready_rx.recv_timeout(START_TIMEOUT) {
            Ok(port) => Ok((node, port)),
            Err(RecvTimeoutError::Timeout) => Err(failed(
                &mut node,
                format!("no ready line after {START_TIMEOUT:?}"),
            )),
            Err(RecvTimeoutError::Disconnected) => {
                let status = node.wait_exit(STOP_TIMEOUT);
                Err(failed(&mut node, format!("node exited ({status})")))
            }
        }
    }

    pub(super) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub(super) fn log(&self) -> String {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Closes stdin so the provider exits on its own, kills it if it has not
    /// within `STOP_TIMEOUT`, and reaps it.
    pub(super) fn stop(&mut self) -> Result<(), OidcError> {
        drop(self.stdin.take());
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(_)) => return Ok(()),
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(OidcError::Stop(format!("wait for {}: {e}", child.id()))),
            }
        }
        let _ = child.kill();
        child
            .wait()
            .map(drop)
            .map_err(|e| OidcError::Stop(format!("wait for {} after SIGKILL: {e}", child.id())))
    }

    /// Waits up to `timeout` for a process that is exiting anyway, and says
    /// how it ended.
    fn wait_exit(&mut self, timeout: Duration) -> String {
        let Some(child) = self.child.as_mut() else {
            return "already reaped".to_owned();
        };
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(status)) => return status.to_string(),
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return format!("wait failed: {e}"),
            }
        }
        format!("still running after {timeout:?}")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Never panic here: while the test is already panicking that would
        // abort the process and hide the failure that matters.
        if let Err(e) = self.stop() {
            eprintln!("{e}");
        }
    }
}

/// Copies `pipe` line by line into `log` (its last `LOG_LINES` lines) and
/// sends the port of the first ready line to `ready`.
fn drain(
    pipe: Option<impl Read + Send + 'static>,
    log: Log,
    mut ready: Option<mpsc::Sender<u16>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let Some(pipe) = pipe else { return };
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { return };
            if let Some(port) = line.strip_prefix(READY).and_then(|p| p.parse().ok())
                && let Some(tx) = ready.take()
            {
                let _ = tx.send(port);
            }
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            if log.len() == LOG_LINES {
                log.pop_front();
            }
            log.push_back(line);
        }
        // Dropping `ready` unsent tells the waiter the process is gone.
    })
}
