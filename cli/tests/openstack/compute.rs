//! `openstack flavor ...` (openstacksdk's compute proxy) against the
//! compute service: flavors with properties (extra specs), a private
//! flavor shared with a project, what a project member sees and may do.

use serde_json::Value;

use super::{openstack, openstack_fails, openstack_quiet, openstack_text};

fn names(list: &Value) -> Vec<String> {
    let mut n: Vec<String> = list
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .filter_map(|f| f["Name"].as_str().map(str::to_owned))
        .collect();
    n.sort();
    n
}

/// The properties as the client prints them: a map, or `k='v', ...`.
fn has_property(flavor: &Value, key: &str, value: &str) -> bool {
    match &flavor["properties"] {
        Value::Object(m) => m.get(key).and_then(Value::as_str) == Some(value),
        Value::String(s) => s.contains(&format!("{key}='{value}'")),
        _ => false,
    }
}

pub fn flavors(admin: &[(&str, &str)], alice: &[(&str, &str)], project: &Value) {
    let tiny = openstack(
        admin,
        &[
            "flavor",
            "create",
            "--ram",
            "512",
            "--disk",
            "1",
            "--vcpus",
            "1",
            "--id",
            "tiny1",
            "--property",
            "hw:cpu_policy=shared",
            "m1.tiny",
        ],
    );
    assert_eq!(
        (tiny["id"].as_str(), tiny["ram"].as_i64()),
        (Some("tiny1"), Some(512)),
        "{tiny}"
    );
    assert!(has_property(&tiny, "hw:cpu_policy", "shared"), "{tiny}");
    let private = openstack(
        admin,
        &[
            "flavor",
            "create",
            "--ram",
            "2048",
            "--disk",
            "20",
            "--vcpus",
            "2",
            "--private",
            "--project",
            "demo",
            "gpu.private",
        ],
    );
    assert_eq!(private["os-flavor-access:is_public"], false, "{private}");
    let shown = openstack(admin, &["flavor", "show", "gpu.private"]);
    let access = shown["access_project_ids"].to_string();
    assert!(
        access.contains(project["id"].as_str().unwrap()),
        "shared with demo: {shown}"
    );

    // alice (demo) sees both; an admin lists public, private or all.
    assert_eq!(
        names(&openstack(alice, &["flavor", "list"])),
        ["gpu.private", "m1.tiny"]
    );
    assert_eq!(
        names(&openstack(admin, &["flavor", "list", "--private"])),
        ["gpu.private"]
    );
    assert_eq!(
        names(&openstack(admin, &["flavor", "list", "--all"])),
        ["gpu.private", "m1.tiny"]
    );

    openstack_quiet(
        admin,
        &[
            "flavor",
            "set",
            "--property",
            "trait:CUSTOM_EDGE=required",
            "m1.tiny",
        ],
    );
    openstack_quiet(
        admin,
        &["flavor", "unset", "--property", "hw:cpu_policy", "m1.tiny"],
    );
    let tiny = openstack(alice, &["flavor", "show", "m1.tiny"]);
    assert!(
        has_property(&tiny, "trait:CUSTOM_EDGE", "required"),
        "{tiny}"
    );
    assert!(
        !tiny["properties"].to_string().contains("hw:cpu_policy"),
        "{tiny}"
    );

    let err = openstack_fails(
        alice,
        &[
            "flavor", "create", "--ram", "1", "--disk", "0", "--vcpus", "1", "mine",
        ],
    );
    assert!(err.contains("403") || err.contains("authorized"), "{err}");

    openstack_quiet(admin, &["flavor", "delete", "m1.tiny", "gpu.private"]);
    assert_eq!(
        names(&openstack(admin, &["flavor", "list", "--all"])),
        Vec::<String>::new()
    );
}

/// `openstack keypair ...`: one made by the service (the private key
/// written where asked), its public key imported under another name,
/// listed, shown, deleted.
pub fn key_pairs(alice: &[(&str, &str)], dir: &std::path::Path) {
    let private = dir.join("made.key");
    let private_arg = private.display().to_string();
    let made = openstack(
        alice,
        &["keypair", "create", "--private-key", &private_arg, "made"],
    );
    assert_eq!(made["name"], "made", "{made}");
    let pem = std::fs::read_to_string(&private).unwrap();
    assert!(
        pem.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"),
        "{pem}"
    );
    let shown = openstack(alice, &["keypair", "show", "made"]);
    let public = dir.join("made.pub");
    let public_key = openstack_text(alice, &["keypair", "show", "--public-key", "made"])
        .trim()
        .to_owned();
    assert!(public_key.starts_with("ssh-ed25519 "), "{shown}");
    std::fs::write(&public, &public_key).unwrap();
    let imported = openstack(
        alice,
        &[
            "keypair",
            "create",
            "--public-key",
            &public.display().to_string(),
            "imported",
        ],
    );
    assert_eq!(imported["fingerprint"], shown["fingerprint"], "{imported}");
    let listed: Vec<String> = openstack(alice, &["keypair", "list"])
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["Name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(listed, ["imported", "made"]);
    let err = openstack_fails(
        alice,
        &[
            "keypair",
            "create",
            "--public-key",
            &public.display().to_string(),
            "made",
        ],
    );
    assert!(err.contains("already exists"), "{err}");
    openstack_quiet(alice, &["keypair", "delete", "made", "imported"]);
    assert_eq!(
        openstack(alice, &["keypair", "list"]),
        serde_json::json!([])
    );
}

/// `openstack server group ...`: one made, listed, shown, deleted.
pub fn server_groups(alice: &[(&str, &str)]) {
    let g = openstack(
        alice,
        &[
            "server",
            "group",
            "create",
            "--policy",
            "anti-affinity",
            "web",
        ],
    );
    assert_eq!(g["name"], "web", "{g}");
    assert!(
        g["policy"].to_string().contains("anti-affinity")
            || g["policies"].to_string().contains("anti-affinity"),
        "{g}"
    );
    // 2.15's soft policy, which the client asks for by version.
    let soft = openstack(
        alice,
        &[
            "--os-compute-api-version",
            "2.15",
            "server",
            "group",
            "create",
            "--policy",
            "soft-anti-affinity",
            "apart",
        ],
    );
    assert!(soft.to_string().contains("soft-anti-affinity"), "{soft}");
    openstack_quiet(alice, &["server", "group", "delete", "apart"]);
    let listed = openstack(alice, &["server", "group", "list"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let shown = openstack(alice, &["server", "group", "show", "web"]);
    assert_eq!(shown["id"], g["id"], "{shown}");
    openstack_quiet(alice, &["server", "group", "delete", "web"]);
    assert_eq!(
        openstack(alice, &["server", "group", "list"]),
        serde_json::json!([])
    );
}

/// `openstack server ...` on `virga up`'s own agent, whose libvirt driver
/// runs on the test kit's libvirtd: alice's server boots the test image as
/// a real (TCG) QEMU guest, bob in another project sees none of it, and
/// delete destroys the guest.
pub fn servers(
    admin: &[(&str, &str)],
    alice: &[(&str, &str)],
    bob: &[(&str, &str)],
    libvirt_uri: &str,
    data_dir: &std::path::Path,
) {
    let images = std::path::PathBuf::from(std::env::var("VIRGA_TEST_IMAGES").unwrap());
    let disk = images.join("virga-test-vm.qcow2").display().to_string();
    let img = openstack(
        alice,
        &[
            "image",
            "create",
            "--disk-format",
            "qcow2",
            "--container-format",
            "bare",
            "--property",
            "architecture=x86_64",
            "--file",
            &disk,
            "test-vm",
        ],
    );
    assert_eq!(img["status"], "active", "{img}");
    openstack(
        admin,
        &[
            "flavor", "create", "--ram", "256", "--disk", "1", "--vcpus", "1", "m1.vm",
        ],
    );
    openstack(alice, &["network", "create", "vmnet"]);
    openstack(
        alice,
        &[
            "subnet",
            "create",
            "vms",
            "--network",
            "vmnet",
            "--subnet-range",
            "10.9.0.0/24",
        ],
    );
    let vm = openstack(
        alice,
        &[
            "server",
            "create",
            "--image",
            "test-vm",
            "--flavor",
            "m1.vm",
            "--network",
            "vmnet",
            "--wait",
            "vm1",
        ],
    );
    assert_eq!(vm["status"], "ACTIVE", "{vm}");
    let id = vm["id"].as_str().unwrap().to_owned();
    // On the network: its port's address, which the guest gets by DHCP
    // from the network's dnsmasq on the node (the test image prints it).
    let shown = openstack(alice, &["server", "show", "vm1"]);
    let addresses = shown["addresses"].to_string();
    let ip = addresses
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find(|s| s.starts_with("10.9.0."))
        .unwrap_or_else(|| panic!("no address on vmnet: {shown}"))
        .to_owned();
    // Waited for on the node's console file (a client call each poll
    // costs a Python start), then read through the API.
    let console = data_dir.join("instances").join(&id).join("console.log");
    for _ in 0..360 {
        let text = std::fs::read_to_string(&console).unwrap_or_default();
        if text.contains("VIRGA-TEST-IMAGE-READY") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let log = openstack_text(alice, &["console", "log", "show", "vm1"]);
    assert!(
        log.contains(&format!("VIRGA-TEST-IMAGE-READY {ip}")),
        "the guest did not get {ip}: {log}"
    );
    // A real QEMU guest runs it.
    let domains = std::process::Command::new("virsh")
        .args(["-c", libvirt_uri, "list", "--name"])
        .output()
        .unwrap();
    let domains = String::from_utf8_lossy(&domains.stdout);
    assert!(domains.contains(&format!("virga-{id}")), "{domains}");

    let listed = openstack(alice, &["server", "list"]);
    assert_eq!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Name"].clone())
            .collect::<Vec<_>>(),
        vec![serde_json::json!("vm1")],
        "{listed}"
    );
    assert_eq!(openstack(bob, &["server", "list"]), serde_json::json!([]));
    let shown = openstack(alice, &["server", "show", "vm1"]);
    assert_eq!(shown["status"], "ACTIVE", "{shown}");
    assert_eq!(shown["OS-EXT-STS:power_state"], 1, "{shown}");
    let err = openstack_fails(bob, &["server", "show", &id]);
    assert!(err.contains(&format!("No Server found for {id}")), "{err}");

    // The lifecycle: stop, start, reboots, rebuild, each on the guest.
    let domain = format!("virga-{id}");
    let domstate = || {
        let out = std::process::Command::new("virsh")
            .args(["-c", libvirt_uri, "domstate", &domain])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    openstack_quiet(alice, &["server", "stop", "vm1"]);
    until_status(alice, "vm1", "SHUTOFF");
    assert_eq!(domstate(), "shut off");
    openstack_quiet(alice, &["server", "start", "vm1"]);
    until_status(alice, "vm1", "ACTIVE");
    assert_eq!(domstate(), "running");
    openstack_quiet(alice, &["server", "reboot", "--hard", "--wait", "vm1"]);
    openstack_quiet(alice, &["server", "reboot", "--wait", "vm1"]);
    assert_eq!(domstate(), "running");
    let log = openstack_text(alice, &["console", "log", "show", "vm1"]);
    // The boot loader's banner, once a boot: created, started, rebooted twice.
    assert!(log.matches("ISOLINUX").count() >= 4, "{log}");
    openstack_quiet(
        alice,
        &["server", "rebuild", "--image", "test-vm", "--wait", "vm1"],
    );
    let shown = openstack(alice, &["server", "show", "vm1"]);
    assert_eq!(shown["status"], "ACTIVE", "{shown}");
    assert_eq!(domstate(), "running");
    let actions = openstack(alice, &["server", "event", "list", "vm1"]);
    let names: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["Action"].as_str())
        .collect();
    assert_eq!(
        names,
        ["rebuild", "reboot", "reboot", "start", "stop", "create"],
        "{actions}"
    );

    // The node as admins see it.
    let hypervisors = openstack(admin, &["hypervisor", "list"]);
    assert_eq!(hypervisors[0]["State"], "up", "{hypervisors}");
    let services = openstack(admin, &["compute", "service", "list"]);
    assert_eq!(
        (
            &services[0]["Binary"],
            &services[0]["Status"],
            &services[0]["State"]
        ),
        (
            &serde_json::json!("nova-compute"),
            &serde_json::json!("enabled"),
            &serde_json::json!("up")
        ),
        "{services}"
    );
    let zones = openstack(alice, &["availability", "zone", "list", "--compute"]);
    assert_eq!(zones[0]["Zone Status"], "available", "{zones}");
    assert_eq!(zones[0]["Zone Name"], services[0]["Zone"], "{zones}");

    openstack_quiet(alice, &["server", "delete", "--wait", "vm1"]);
    assert_eq!(openstack(alice, &["server", "list"]), serde_json::json!([]));
    // Its port went with it: the network can go.
    openstack_quiet(alice, &["network", "delete", "vmnet"]);
    let domains = std::process::Command::new("virsh")
        .args(["-c", libvirt_uri, "list", "--all", "--name"])
        .output()
        .unwrap();
    let domains = String::from_utf8_lossy(&domains.stdout);
    assert!(!domains.contains(&format!("virga-{id}")), "{domains}");
}

/// Polls `server show` until the server has `status` and no task.
fn until_status(env: &[(&str, &str)], server: &str, status: &str) {
    let mut last = Value::Null;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    while std::time::Instant::now() < deadline {
        last = openstack(env, &["server", "show", server]);
        if last["status"] == status && last["OS-EXT-STS:task_state"].is_null() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!("{server} never became {status}: {last}");
}
