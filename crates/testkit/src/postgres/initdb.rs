//! Owns preparing a data directory as the `postgres` user: initdb, and the
//! privilege drop and chown that PostgreSQL's refusal to run as root needs.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::BIN;
use crate::process;

/// initdb with --no-sync takes a second or two; this only catches a hang.
const INITDB_TIMEOUT: Duration = Duration::from_secs(120);

pub(super) fn initdb(data: &Path, log: &Path) {
    let mut cmd = as_postgres(&format!("{BIN}/initdb"));
    cmd.arg("-D").arg(data).args(
        "-A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync --no-instructions".split(' '),
    );
    let out = process::output_with_deadline(&mut cmd, INITDB_TIMEOUT)
        .unwrap_or_else(|why| panic!("testkit: initdb failed: {why}"));
    let _ = fs::write(log, [&out.stdout[..], &out.stderr[..]].concat());
    assert!(
        out.status.success(),
        "testkit: initdb failed ({})\n{}",
        out.status,
        process::log_tail(log, 40)
    );
}

/// initdb and postgres refuse to run as root, so drop to the `postgres` user.
pub(super) fn as_postgres(program: &str) -> Command {
    if !process::is_root() {
        return Command::new(program);
    }
    // setpriv execs in place, so the child's pid is the postmaster's.
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=postgres",
        "--regid=postgres",
        "--init-groups",
        "--",
        program,
    ]);
    cmd
}

pub(super) fn chown_to_postgres(dir: &Path) {
    if !process::is_root() {
        return;
    }
    let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    let ids = passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&"postgres") && fields.len() > 3)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    });
    let (uid, gid) =
        ids.expect("testkit: no `postgres` user in /etc/passwd (is PostgreSQL installed?)");
    std::os::unix::fs::chown(dir, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("testkit: chown {}: {e}", dir.display()));
}
