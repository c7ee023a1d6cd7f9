//! The test images `scripts/build-test-images.sh` builds (in
//! `$VIRGA_TEST_IMAGES`; `scripts/test.sh` builds them first): the VM boots
//! under QEMU (TCG), takes an address by DHCP and answers HTTP on port 80;
//! the OCI archive is a well-formed image layout whose blobs match their
//! digests.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

fn images() -> PathBuf {
    let dir = std::env::var("VIRGA_TEST_IMAGES")
        .expect("VIRGA_TEST_IMAGES: run scripts/build-test-images.sh DIR and set it to DIR");
    PathBuf::from(dir)
}

struct Vm(Child);

impl Drop for Vm {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

#[test]
fn the_test_vm_boots_gets_an_address_and_serves_http() {
    let disk = images().join("virga-test-vm.qcow2");
    // A free loopback port for QEMU's user-mode forward to the guest's 80.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut vm = Vm(Command::new("qemu-system-x86_64")
        .args([
            "-machine",
            "accel=tcg",
            "-m",
            "256",
            "-nographic",
            "-no-reboot",
        ])
        .arg("-drive")
        .arg(format!(
            "file={},format=qcow2,if=virtio,snapshot=on",
            disk.display()
        ))
        .args([
            "-netdev",
            &format!("user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:80"),
        ])
        .args(["-device", "virtio-net-pci,netdev=n0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("qemu-system-x86_64 (install qemu-system-x86)"));
    let (tx, rx) = std::sync::mpsc::channel();
    let out = vm.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("VIRGA-TEST-IMAGE-READY").nth(1) {
                tx.send(rest.trim().to_owned()).ok();
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(180))
        .expect("the guest says it is ready on its console");
    assert_ne!(addr, "no-address", "the guest got no DHCP lease");
    let deadline = Instant::now() + Duration::from_secs(30);
    let page = loop {
        let got = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.write_all(b"GET / HTTP/1.0\r\nHost: guest\r\n\r\n")?;
            let mut body = String::new();
            s.read_to_string(&mut body)?;
            Ok(body)
        });
        match got {
            Ok(b) if b.contains("virga-test-image") => break b,
            _ if Instant::now() > deadline => {
                panic!("the guest's HTTP server did not answer: {got:?}")
            }
            _ => std::thread::sleep(Duration::from_millis(300)),
        }
    };
    assert!(
        page.contains(&addr),
        "the page names the guest's address {addr}: {page}"
    );
}

fn sha256(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[test]
fn the_oci_archive_is_a_valid_image_layout() {
    let dir = tempfile::tempdir().unwrap();
    let st = Command::new("tar")
        .arg("-xf")
        .arg(images().join("virga-test-busybox.oci.tar"))
        .arg("-C")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(st.success());
    let read = |p: &str| std::fs::read(dir.path().join(p)).unwrap();
    let json = |p: &str| serde_json::from_slice::<Value>(&read(p)).unwrap();
    assert_eq!(json("oci-layout")["imageLayoutVersion"], "1.0.0");
    let blob = |d: &Value| {
        let digest = d["digest"].as_str().unwrap();
        let hex = digest.strip_prefix("sha256:").unwrap();
        let bytes = read(&format!("blobs/sha256/{hex}"));
        assert_eq!(sha256(&bytes), hex, "blob {digest} matches its digest");
        assert_eq!(
            bytes.len() as u64,
            d["size"].as_u64().unwrap(),
            "{digest} size"
        );
        bytes
    };
    let index = json("index.json");
    let m = &index["manifests"][0];
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(
        m["annotations"]["org.opencontainers.image.ref.name"],
        "virga/busybox:latest"
    );
    let manifest: Value = serde_json::from_slice(&blob(m)).unwrap();
    let config: Value = serde_json::from_slice(&blob(&manifest["config"])).unwrap();
    let layer = blob(&manifest["layers"][0]);
    let mut tar = Vec::new();
    gunzip(&layer, &mut tar);
    assert_eq!(
        config["rootfs"]["diff_ids"][0],
        format!("sha256:{}", sha256(&tar)),
        "the config's diff_id is the uncompressed layer's digest"
    );
}

/// gunzip through the system's gzip (no compression crate just for this).
fn gunzip(gz: &[u8], out: &mut Vec<u8>) {
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = gz.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&data));
    child.stdout.take().unwrap().read_to_end(out).unwrap();
    feeder.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success());
}
