//! Tests of the data plane against the kernel, in network namespaces the
//! tests make and remove (no traffic leaves them), and of what it writes.

use std::io::Write;
use std::process::{Command, Stdio};

mod config;
mod fabric;
mod nft;

/// A network namespace of the test's own, removed when dropped.
pub struct Netns(pub String);

impl Netns {
    pub fn new(tag: &str) -> Netns {
        // Unique in the process too: tests running at once share tags.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("virga-{tag}-{}-{n}", std::process::id());
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("ip runs");
        assert!(ok.success(), "ip netns add {name}");
        Netns(name)
    }

    pub fn nft(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.0, "nft"]).args(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .expect("nft runs (scripts/test.sh installs nftables)");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "nft {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            stdin.unwrap_or_default()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip runs");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a short Python program in a namespace; true when it exits 0.
pub fn python_in(ns: &Netns, program: &str) -> bool {
    Command::new("ip")
        .args(["netns", "exec", &ns.0, "python3", "-c", program])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("python3 runs")
        .success()
}

/// A TCP connection from `ns` (from `source`) to `to:port` within 2 s.
pub fn connects(ns: &Netns, source: &str, to: &str, port: u16) -> bool {
    python_in(
        ns,
        &format!(
            "import socket; socket.create_connection(('{to}', {port}), timeout=2, source_address=('{source}', 0)).close()"
        ),
    )
}

/// An ICMP echo from `ns` to `to` answered within 2 s (a raw socket:
/// the test runs as root).
pub fn pings(ns: &Netns, to: &str) -> bool {
    python_in(
        ns,
        &format!(
            "import socket,struct,time\n\
def csum(b):\n    s=sum(struct.unpack('!%dH' % (len(b)//2), b)); s=(s>>16)+(s&0xffff); s+=s>>16; return ~s & 0xffff\n\
h=struct.pack('!BBHHH',8,0,0,0x1234,1)+b'virga-ping'; h=h[:2]+struct.pack('!H',csum(h))+h[4:]\n\
s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP); s.settimeout(2); s.sendto(h,('{to}',0))\n\
end=time.time()+2\n\
while time.time()<end:\n    d,a=s.recvfrom(1500)\n    if a[0]=='{to}' and d[20]==0: raise SystemExit(0)\n\
raise SystemExit(1)"
        ),
    )
}

/// Listeners on TCP 80 and 81 (IPv4 and IPv6) in `ns` for up to 60 s,
/// answering each connection as an HTTP server would (`200`, body `ok`).
pub fn serve(ns: &Netns) -> std::process::Child {
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.0, "timeout", "60", "python3", "-c",
            "import socket,threading\n\
def answer(c):\n    try:\n        c.settimeout(2); c.recv(1024); c.sendall(b'HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')\n    except OSError:\n        pass\n    c.close()\n\
def serve(p):\n    s=socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); s.bind(('::', p)); s.listen(16)\n    while True:\n        c,_=s.accept(); threading.Thread(target=answer, args=(c,), daemon=True).start()\n\
[threading.Thread(target=serve, args=(p,), daemon=True).start() for p in (80, 81)]\n\
threading.Event().wait()"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    child
}

/// An HTTP GET from `ns` answered `200` with body `ok` within 3 s.
pub fn http_get(ns: &Netns, url: &str) -> bool {
    python_in(
        ns,
        &format!(
            "import urllib.request\nr=urllib.request.urlopen('{url}', timeout=3)\nraise SystemExit(0 if r.status == 200 and r.read() == b'ok' else 1)"
        ),
    )
}
