//! A tiny HTTP/1.1 file server for download tests, on a random loopback
//! port, on its own threads (so blocking and async tests alike can use
//! it): `GET /<name>` with `Range: bytes=N-` support, `/moved/<name>`
//! redirecting to `/<name>`, anything else 404. Faults on demand: `cut`
//! makes the next response announce the whole body, send half of it and
//! hang up. It counts the body bytes it sent, so a test can tell a resumed
//! download from a restarted one. Stops when dropped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub struct FileServer {
    pub url: String,
    files: Arc<Mutex<HashMap<String, Arc<Vec<u8>>>>>,
    cut: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl FileServer {
    pub fn start() -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let server = FileServer {
            url,
            files: Arc::default(),
            cut: Arc::default(),
            sent: Arc::default(),
            stop: Arc::default(),
        };
        let (files, cut, sent, stop) = (
            server.files.clone(),
            server.cut.clone(),
            server.sent.clone(),
            server.stop.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (files, cut, sent) = (files.clone(), cut.clone(), sent.clone());
                std::thread::spawn(move || serve(conn, &files, &cut, &sent));
            }
        });
        server
    }

    /// Serves `data` at `/<name>`.
    pub fn put(&self, name: &str, data: Vec<u8>) {
        self.files
            .lock()
            .expect("files lock")
            .insert(name.to_owned(), Arc::new(data));
    }

    /// The next response sends half its body, then hangs up.
    pub fn cut_next(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }

    /// Body bytes sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

fn serve(
    mut conn: TcpStream,
    files: &Mutex<HashMap<String, Arc<Vec<u8>>>>,
    cut: &AtomicBool,
    sent: &AtomicU64,
) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut start = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(r) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
            start = r.trim().trim_end_matches('-').parse().unwrap_or(0);
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    if let Some(name) = path.strip_prefix("/moved/") {
        let _ = write!(
            conn,
            "HTTP/1.1 302 Found\r\nLocation: /{name}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        return;
    }
    let data = files
        .lock()
        .expect("files lock")
        .get(path.trim_start_matches('/'))
        .cloned();
    let Some(data) = data.filter(|d| start <= d.len()) else {
        let _ = write!(
            conn,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        return;
    };
    let len = data.len();
    let head = if start == 0 {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
    } else {
        format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{len}\r\nConnection: close\r\n\r\n",
            len - start,
            len.saturating_sub(1)
        )
    };
    let end = if cut.swap(false, Ordering::SeqCst) {
        start + (len - start) / 2
    } else {
        len
    };
    if conn.write_all(head.as_bytes()).is_ok() && conn.write_all(&data[start..end]).is_ok() {
        sent.fetch_add((end - start) as u64, Ordering::SeqCst);
    }
    let _ = conn.shutdown(std::net::Shutdown::Both);
}
