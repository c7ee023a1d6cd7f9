//! Owns the run-wide private libvirt daemon: a real `libvirtd` (system
//! mode, as root) with its QEMU driver, in its own mount namespace so that
//! none of its state touches the host's libvirt, reached over a socket in
//! the run's directory.
//!
//! A privileged libvirtd's QEMU driver hard-codes its directories
//! (`/etc/libvirt/qemu.conf`, `/run/libvirt/qemu`, `/var/lib/libvirt/qemu`,
//! ...), so the daemon is started under `unshare --mount` with a private
//! directory bind-mounted over each of them; its sockets go to
//! `<generation>/sock` (`unix_sock_dir`). Its `qemu.conf` runs QEMU as root
//! (test images live under root's 0700 home) with `dynamic_ownership`, the
//! security driver and virtlogd (`stdio_handler = "file"`) off. Cgroups are
//! left on: without systemd libvirt makes `machine/qemu-<id>-<name>.libvirt-qemu`
//! directly in the host's cgroup hierarchies, which are shared by every
//! daemon on the host, so domain names must be unique (`fresh_name`).
//!
//! The daemon (and so every QEMU it starts, and their tap devices) runs in
//! a network namespace of its own ([`Libvirt::netns`]): tests that plug
//! guests into bridges build them there, and nothing touches the host's
//! networking.
//!
//! QEMU processes leave libvirtd's process group, so the run's watchdog
//! destroys every domain through the daemon before stopping it, then kills
//! any QEMU still named by a pid file, and removes the namespace.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::process;
use crate::run::{self, BASE, Failure, Probe};

/// The first connection probes QEMU's capabilities (about 8 s on an idle
/// TCG-only machine), and the daemon counts as ready only after that.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Bounds virsh, which would otherwise wait on a wedged daemon.
const HELPER_TIMEOUT: Duration = Duration::from_secs(60);
/// The user a privileged QEMU driver resolves at start-up even when
/// `qemu.conf` says otherwise (Debian's build default). Debian's
/// `libvirt-daemon-system` would create it, but that package is all systemd
/// units, so the testkit creates it itself.
const QEMU_USER: &str = "libvirt-qemu";

/// Host directories a privileged libvirtd uses, each hidden behind a private
/// one (a subdirectory of the generation directory) in the daemon's mount
/// namespace.
const PRIVATE_DIRS: [(&str, &str); 5] = [
    ("etc", "/etc/libvirt"),
    ("run", "/run/libvirt"),
    ("lib", "/var/lib/libvirt"),
    ("cache", "/var/cache/libvirt"),
    ("log", "/var/log/libvirt"),
];

/// The run-wide shared private libvirt daemon.
#[derive(Debug)]
pub struct Libvirt {
    uri: String,
    dir: PathBuf,
    log: PathBuf,
    netns: String,
}

#[derive(Serialize, Deserialize)]
struct State {
    uri: String,
    pid: u32,
    dir: PathBuf,
    log: PathBuf,
    netns: String,
}

/// Whether this machine can run the private daemon: root, libvirtd with its
/// QEMU driver, virsh, qemu-system-x86_64 and unshare(1).
pub fn available() -> bool {
    missing().is_empty()
}

/// The run-wide shared private libvirt daemon, started on first use. Panics
/// naming what is missing when `available()` is false, and with the
/// daemon's log tail when it does not start.
pub fn shared() -> &'static Libvirt {
    static SHARED: OnceLock<Libvirt> = OnceLock::new();
    SHARED.get_or_init(|| {
        let missing = missing();
        assert!(
            missing.is_empty(),
            "testkit: cannot run a private libvirtd: {} (scripts/test.sh installs \
             libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients and qemu-system-x86)",
            missing.join("; ")
        );
        let state = run::shared_instance("libvirt", alive, start);
        Libvirt {
            uri: state.uri,
            dir: state.dir,
            log: state.log,
            netns: state.netns,
        }
    })
}

impl Libvirt {
    /// The connection URI for libvirt clients (the `virt` crate's
    /// `Connect::open`, `virsh -c`):
    /// `qemu:///system?socket=/tmp/virga-testkit/libvirt-<pid>/gen-<id>/sock/libvirt-sock`.
    pub fn uri(&self) -> String {
        self.uri.clone()
    }

    /// The named network namespace the daemon and its guests run in
    /// (`ip -n <netns> ...`): guests' tap devices appear there.
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// A domain name no other test (of this run or a concurrent one) uses:
    /// `virga-<hint>-<random>`. Use it for every domain; the daemon is shared.
    pub fn fresh_name(&self, hint: &str) -> String {
        format!("virga-{hint}-{}", run::short_id())
    }

    /// Runs `virsh -q -c <uri> ARGS...` (killed after a minute) and returns
    /// its trimmed stdout, or its status and stderr.
    pub fn virsh(&self, args: &[&str]) -> Result<String, String> {
        virsh(&self.uri, args)
    }

    /// Where QEMU's own stderr and libvirt's command line for `domain` go:
    /// the first place to look when a domain fails to start.
    pub fn domain_log(&self, domain: &str) -> PathBuf {
        self.dir.join("log/qemu").join(format!("{domain}.log"))
    }

    /// The daemon's log tail (warnings and errors), for panic messages.
    /// The pid of a running domain's QEMU process (to crash it on purpose).
    pub fn qemu_pid(&self, domain: &str) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("run/qemu").join(format!("{domain}.pid")))
            .ok()
            .and_then(|p| p.trim().parse().ok())
    }

    pub fn log_tail(&self) -> String {
        process::log_tail(&self.log, 40)
    }
}

fn missing() -> Vec<String> {
    let mut missing = Vec::new();
    if !process::is_root() {
        missing.push("not root (a privileged libvirtd and unshare --mount need it)".to_owned());
    }
    for program in [
        "ip",
        "libvirtd",
        "virsh",
        "qemu-system-x86_64",
        "unshare",
        "mount",
    ] {
        if find_program(program).is_none() {
            missing.push(format!("no `{program}` in PATH, /usr/sbin or /sbin"));
        }
    }
    if qemu_driver().is_none() {
        missing.push("no libvirt QEMU driver (libvirt_driver_qemu.so)".to_owned());
    }
    missing
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn qemu_driver() -> Option<PathBuf> {
    let dirs = fs::read_dir("/usr/lib").ok()?.flatten().map(|e| e.path());
    dirs.chain([PathBuf::from("/usr/lib64"), PathBuf::from("/usr/lib")])
        .map(|d| d.join("libvirt/connection-driver/libvirt_driver_qemu.so"))
        .find(|p| p.is_file())
}

fn virsh(uri: &str, args: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new(find_program("virsh").unwrap_or_else(|| "virsh".into()));
    cmd.args(["-q", "-c", uri]).args(args);
    let out = process::output_with_deadline(&mut cmd, HELPER_TIMEOUT)?;
    if !out.status.success() {
        return Err(format!(
            "virsh {}: {}: {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The recorded daemon still runs, is the process we started (its own pid
/// file says so) and answers on the socket in our directory.
fn alive(s: &State) -> bool {
    let ours = fs::read_to_string(s.dir.join("libvirtd.pid"))
        .is_ok_and(|pid| pid.trim() == s.pid.to_string())
        && fs::read(format!("/proc/{}/cmdline", s.pid))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains("libvirtd"));
    ours && virsh(&s.uri, &["uri"]).is_ok()
}

fn start(generation: &Path, run_dir: &Path) -> State {
    ensure_qemu_user();
    let sock = generation.join("sock");
    for sub in PRIVATE_DIRS.iter().map(|(sub, _)| *sub).chain(["sock"]) {
        let dir = generation.join(sub);
        fs::create_dir(&dir).unwrap_or_else(|e| panic!("testkit: mkdir {}: {e}", dir.display()));
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod 0700");
    }
    let log = generation.join("libvirtd.log");
    let conf = generation.join("etc/libvirtd.conf");
    write(
        &conf,
        &format!(
            "unix_sock_dir = \"{}\"\n\
             unix_sock_rw_perms = \"0700\"\n\
             unix_sock_admin_perms = \"0700\"\n\
             auth_unix_rw = \"none\"\n\
             auth_unix_ro = \"none\"\n\
             log_outputs = \"3:file:{}\"\n",
            sock.display(),
            log.display()
        ),
    );
    // Seen by the daemon as /etc/libvirt/qemu.conf.
    write(
        &generation.join("etc/qemu.conf"),
        "user = \"root\"\n\
         group = \"root\"\n\
         dynamic_ownership = 0\n\
         remember_owner = 0\n\
         security_driver = \"none\"\n\
         stdio_handler = \"file\"\n",
    );
    let uri = format!(
        "qemu:///system?socket={}",
        sock.join("libvirt-sock").display()
    );
    let pid_file = generation.join("libvirtd.pid");
    let out_log = generation.join("libvirtd.out");
    let libvirtd = find_program("libvirtd").expect("checked by missing()");

    // A network namespace of the daemon's own, named after the generation.
    let netns = format!(
        "virga-libvirt-{}",
        generation
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    let _ = Command::new("ip").args(["netns", "del", &netns]).status();
    let made = Command::new("ip")
        .args(["netns", "add", &netns])
        .status()
        .unwrap_or_else(|e| panic!("testkit: ip netns add: {e}"));
    assert!(made.success(), "testkit: ip netns add {netns} failed");
    let _ = Command::new("ip")
        .args(["-n", &netns, "link", "set", "lo", "up"])
        .status();
    // ip, unshare and sh exec in place, so the child's pid is libvirtd's.
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &netns])
        .arg(find_program("unshare").expect("checked by missing()"))
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(
            "set -e; libvirtd=$1 conf=$2 pidfile=$3; shift 3
             for m in \"$@\"; do dst=${m#*=}; mkdir -p \"$dst\"; mount --bind \"${m%%=*}\" \"$dst\"; done
             exec \"$libvirtd\" -f \"$conf\" -p \"$pidfile\"",
        )
        .arg("sh")
        .arg(&libvirtd)
        .arg(&conf)
        .arg(&pid_file);
    for (sub, host) in PRIVATE_DIRS {
        cmd.arg(format!("{}={host}", generation.join(sub).display()));
    }
    let mut child = process::spawn_detached(&mut cmd, &out_log, 0);
    let pgid_file = generation.join("pgid");
    fs::write(&pgid_file, child.id().to_string()).expect("write pgid");
    // Spawned before waiting, so a daemon orphaned by a test process dying
    // mid-boot is still torn down at the end of the run.
    watch_for_run(&uri, generation, run_dir, &netns);

    let pid = child.id().to_string();
    let ready = run::wait_until(START_TIMEOUT, Duration::from_millis(100), || {
        if let Ok(Some(status)) = child.try_wait() {
            return Probe::Failed(Failure::new(format!("libvirtd exited with {status}")));
        }
        if !fs::read_to_string(&pid_file).is_ok_and(|p| p.trim() == pid) {
            return Probe::NotYet(format!("{} does not name pid {pid}", pid_file.display()));
        }
        if !sock.join("libvirt-sock").exists() {
            return Probe::NotYet("no libvirt-sock yet".to_owned());
        }
        // Connecting to the QEMU driver waits for its capabilities probe.
        match virsh(&uri, &["version", "--daemon"]) {
            Ok(_) => Probe::Ready,
            Err(why) => Probe::NotYet(why),
        }
    });
    if let Err(f) = ready {
        process::signal(&format!("-{}", child.id()), "KILL");
        let _ = child.wait();
        panic!(
            "testkit: libvirtd did not start: {}\n{}\n{}",
            f.why,
            process::log_tail(&out_log, 20),
            process::log_tail(&log, 40)
        );
    }
    State {
        uri,
        pid: child.id(),
        dir: generation.to_owned(),
        log,
        netns,
    }
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("testkit: write {}: {e}", path.display()));
}

fn has_qemu_user() -> bool {
    fs::read_to_string("/etc/passwd")
        .is_ok_and(|p| p.lines().any(|l| l.split(':').next() == Some(QEMU_USER)))
}

fn ensure_qemu_user() {
    if has_qemu_user() {
        return;
    }
    let mut cmd = Command::new(find_program("useradd").unwrap_or_else(|| "useradd".into()));
    cmd.args([
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        "/var/lib/libvirt",
        "--shell",
        "/usr/sbin/nologin",
        QEMU_USER,
    ]);
    let out = process::output_with_deadline(&mut cmd, HELPER_TIMEOUT);
    // Another run may have created it meanwhile; only its absence matters.
    assert!(
        has_qemu_user(),
        "testkit: libvirtd's QEMU driver needs a `{QEMU_USER}` user and useradd failed: {out:?}"
    );
}

/// A detached shell that waits for the runner to exit, then destroys every
/// domain through the daemon (which also removes their cgroups), stops the
/// daemon's process group, kills any QEMU left behind (QEMU runs in its own
/// session), and removes the run directory.
fn watch_for_run(uri: &str, generation: &Path, run_dir: &Path, netns: &str) {
    let owner = std::os::unix::process::parent_id();
    let virsh = find_program("virsh").unwrap_or_else(|| "virsh".into());
    let (virsh, generation, run_dir) = (virsh.display(), generation.display(), run_dir.display());
    let script = format!(
        "while kill -0 {owner} 2>/dev/null; do sleep 1; done
         for d in $(timeout 20 '{virsh}' -q -c '{uri}' list --name 2>/dev/null); do
           timeout 20 '{virsh}' -q -c '{uri}' destroy \"$d\" >/dev/null 2>&1
         done
         pg=$(cat '{generation}/pgid' 2>/dev/null)
         if [ -n \"$pg\" ]; then
           kill -TERM -$pg 2>/dev/null; i=0
           while kill -0 -$pg 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
           kill -KILL -$pg 2>/dev/null
         fi
         for f in '{generation}/run/qemu/'*.pid; do
           p=$(cat \"$f\" 2>/dev/null) || continue
           grep -q qemu \"/proc/$p/cmdline\" 2>/dev/null && kill -KILL \"$p\" 2>/dev/null
         done
         ip netns del '{netns}' 2>/dev/null
         rm -rf '{run_dir}'; rmdir '{BASE}' 2>/dev/null; exit 0"
    );
    // stdio must not inherit the test's pipes, or the runner would wait on
    // them; never waited for, it must outlive this test process.
    let watchdog = Command::new("sh")
        .arg("-c")
        .arg(script)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("testkit: spawn libvirt watchdog: {e}"));
    drop(watchdog);
}
