//! A private S3-compatible server for image store tests: `s3s-fs` (a real
//! S3 protocol implementation over a directory; `scripts/test.sh` installs
//! it with `cargo install s3s-fs --features binary`) on a random loopback
//! port, with fresh credentials (SigV4 is checked). It belongs to the test
//! that started it and is killed when dropped; its data goes with it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::run::free_ports;

pub struct S3Server {
    child: Child,
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    root: PathBuf,
}

/// The s3s-fs binary: on PATH, or where `cargo install` puts it.
fn binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("s3s-fs"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
        Some(home.join("bin/s3s-fs")).filter(|p| p.is_file())
    })
}

impl S3Server {
    /// Starts a server holding the (empty) `buckets`.
    pub fn start(buckets: &[&str]) -> Result<S3Server, String> {
        let bin = binary().ok_or(
            "s3s-fs not found: install it with `cargo install s3s-fs --locked --features binary` (scripts/test.sh does)",
        )?;
        let root = std::env::temp_dir().join(format!("virga-s3-{}", uuid::Uuid::new_v4().simple()));
        for b in buckets {
            std::fs::create_dir_all(root.join(b)).map_err(|e| format!("s3 root: {e}"))?;
        }
        let port = free_ports(1)[0];
        let (access_key, secret_key) = (
            format!("AK{}", uuid::Uuid::new_v4().simple()),
            uuid::Uuid::new_v4().simple().to_string(),
        );
        let child = Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", &access_key, "--secret-key", &secret_key])
            .arg(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("s3s-fs: {e}"))?;
        let server = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            access_key,
            secret_key,
            root,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(format!("s3s-fs did not listen on port {port}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    /// The directory the server keeps objects in (a bucket per directory),
    /// for tests that check what was, or was not, written.
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        std::fs::remove_dir_all(&self.root).ok();
    }
}
