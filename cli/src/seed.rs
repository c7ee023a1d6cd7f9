//! What `virga up` registers on its first start so a newcomer can boot
//! something at once: the test images `scripts/build-test-images.sh` built
//! (its output directory: `--test-images`, `VIRGA_TEST_IMAGES`, or
//! `~/.cache/virga-test-images` when it exists), uploaded as public images
//! through the image API like any other upload, so they are inspected and
//! hashed the same way.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use virga_service::Running;

use crate::bootstrap::{ADMIN_PROJECT, ADMIN_USER};

/// The bootable test VM: its file and the image it becomes.
const VM: (&str, &str) = ("virga-test-vm.qcow2", "virga-test-vm");
/// The busybox OCI archive, for containers.
const OCI: (&str, &str) = ("virga-test-busybox.oci.tar", "virga-test-busybox");

/// Where the test images are, if anywhere.
pub fn test_images_dir(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit
        .or_else(|| std::env::var_os("VIRGA_TEST_IMAGES").map(PathBuf::from))
        .or_else(|| {
            let home = std::env::var_os("HOME")?;
            Some(Path::new(&home).join(".cache/virga-test-images"))
        })
        .filter(|d| d.join(VM.0).is_file())
}

/// Registers the test images as the admin; the names registered.
pub async fn register(
    dir: &Path,
    running: &[Running],
    admin_password: &str,
) -> Result<Vec<String>, String> {
    let url = |name: &str| {
        running
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.url.clone())
            .ok_or_else(|| format!("the {name} service is not running"))
    };
    let (identity, image) = (url("identity")?, url("image")?);
    let http = reqwest::Client::new();
    let auth = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": ADMIN_USER, "domain": {"id": "default"}, "password": admin_password}}},
        "scope": {"project": {"name": ADMIN_PROJECT, "domain": {"id": "default"}}}}});
    let resp = http
        .post(format!("{identity}/v3/auth/tokens"))
        .json(&auth)
        .send()
        .await
        .map_err(|e| format!("test images: logging in: {e}"))?;
    let token = resp
        .headers()
        .get("x-subject-token")
        .and_then(|t| t.to_str().ok())
        .ok_or_else(|| format!("test images: login answered {}", resp.status()))?
        .to_owned();
    let container = json!({"name": OCI.1, "disk_format": "raw", "container_format": "oci",
        "visibility": "public", "architecture": "x86_64", "os_distro": "virga-test",
        "description": "busybox OCI image (virga/busybox:latest) for container tests"});
    let mut registered = Vec::new();
    for ((file, name), body) in [(VM, vm_properties()), (OCI, container)] {
        if !dir.join(file).is_file() {
            continue;
        }
        let created: Value = call(http.post(format!("{image}/v2/images")).json(&body), &token)
            .await?
            .json()
            .await
            .map_err(|e| format!("test images: {e}"))?;
        let id = created["id"].as_str().unwrap_or_default();
        let data = tokio::fs::read(dir.join(file))
            .await
            .map_err(|e| format!("test images: reading {file}: {e}"))?;
        call(
            http.put(format!("{image}/v2/images/{id}/file"))
                .header("Content-Type", "application/octet-stream")
                .body(data),
            &token,
        )
        .await?;
        registered.push(name.to_owned());
    }
    Ok(registered)
}

fn vm_properties() -> Value {
    json!({"name": VM.1, "disk_format": "qcow2", "container_format": "bare",
        "visibility": "public", "min_ram": 64, "os_distro": "virga-test",
        "hw_disk_bus": "virtio", "hw_vif_model": "virtio",
        "description": "busybox test VM: DHCP on eth0, HTTP on port 80, console on ttyS0"})
}

async fn call(req: reqwest::RequestBuilder, token: &str) -> Result<reqwest::Response, String> {
    let resp = req
        .header("X-Auth-Token", token)
        .send()
        .await
        .map_err(|e| format!("test images: {e}"))?;
    if resp.status().is_success() {
        Ok(resp)
    } else {
        let status = resp.status();
        Err(format!(
            "test images: the image API answered {status}: {}",
            resp.text().await.unwrap_or_default()
        ))
    }
}
