//! The servers the data plane runs in namespaces (dnsmasq for DHCP,
//! radvd for routers' advertisements), each kept in a directory of its
//! own with its configuration and pid file: started when missing,
//! restarted when the configuration changes, found again after an agent
//! restart by the pid file (checked against the process's command line,
//! since a pid may be reused).

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::host::NetplaneError;

/// Writes `text` unless the file already holds it; true when it changed.
pub fn write(path: &Path, text: &str) -> Result<bool, NetplaneError> {
    if std::fs::read_to_string(path).is_ok_and(|t| t == text) {
        return Ok(false);
    }
    std::fs::write(path, text).map_err(|source| NetplaneError::File {
        path: path.to_owned(),
        source,
    })?;
    Ok(true)
}

/// Creates `dir` if missing.
pub fn ensure_dir(dir: &Path) -> Result<(), NetplaneError> {
    std::fs::create_dir_all(dir).map_err(|source| NetplaneError::File {
        path: dir.to_owned(),
        source,
    })
}

/// The server's process, if `dir`'s pid file names a live `program`
/// started with a path in `dir`.
pub fn running(dir: &Path, program: &str) -> Option<Pid> {
    let pid: i32 = std::fs::read_to_string(dir.join("pid"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    if !alive(pid) {
        return None;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let cmdline = String::from_utf8_lossy(&cmdline);
    (cmdline.contains(program) && cmdline.contains(&dir.display().to_string()))
        .then_some(Pid::from_raw(pid))
}

/// Asks the server to reread its files.
pub fn reload(pid: Pid) {
    let _ = kill(pid, Signal::SIGHUP);
}

/// Stops `dir`'s `program`, if running.
pub fn stop(dir: &Path, program: &str) {
    if let Some(pid) = running(dir, program) {
        stop_pid(pid);
    }
}

/// Terminates the server and waits (briefly) until it is gone, so a
/// successor can bind the same address.
pub fn stop_pid(pid: Pid) {
    let _ = kill(pid, Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(3);
    while alive(pid.as_raw()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether the process exists and is not a zombie (an orphaned server is
/// reaped by whoever is pid 1, maybe never).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}
