//! The real `openstack` command-line client (python-openstackclient, which
//! `scripts/test.sh` installs from PyPI) against `virga up`, exactly as a
//! user runs it: `OS_CLOUD=virga` with the clouds.yaml that `virga up`
//! writes, then an application-credential login with no password at all,
//! and a federated login (`v3oidcaccesstoken`) with an access token from a
//! real OpenID Connect provider, set up with the client's own commands.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

#[path = "openstack/compute.rs"]
mod compute;
#[path = "openstack/network.rs"]
mod network;

const SERVICES: [&str; 6] = [
    "identity",
    "compute",
    "image",
    "network",
    "scheduler",
    "telemetry",
];

fn client() -> String {
    std::env::var("VIRGA_OPENSTACK_CLIENT").unwrap_or_else(|_| "openstack".into())
}

/// `virga up`, killed if the test fails before stopping it, so a failed
/// run leaves no server behind; its log's end is printed on a failure.
struct Up(Child, std::path::PathBuf);

impl Drop for Up {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            self.0.kill().ok();
            self.0.wait().ok();
        }
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.1).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!("--- the end of virga up's log ---");
            for line in &lines[lines.len().saturating_sub(80)..] {
                eprintln!("{line}");
            }
        }
    }
}

/// `virga up` in `dir`, its agent's libvirt driver on `libvirt_uri`, its
/// network data plane in `netns` (the test kit libvirtd's, where guests'
/// taps appear; a VXLAN network needs a tunnel address: loopback, as the
/// node has no peers).
fn start(dir: &std::path::Path, libvirt_uri: &str, netns: &str) -> (Up, BTreeMap<String, String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_virga"));
    cmd.args(["up"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("VIRGA_DATA_DIR", dir)
        .env("VIRGA_AGENT__DRIVER", "libvirt")
        .env("VIRGA_AGENT__LIBVIRT_URI", libvirt_uri)
        .env("VIRGA_AGENT__LIBVIRT_DOMAIN_TYPE", "qemu")
        .env("VIRGA_AGENT__NETWORK__NETNS", netns)
        .env("VIRGA_AGENT__NETWORK__TUNNEL_IP", "127.0.0.1")
        // The test guest ignores ACPI: a graceful stop is forced after this.
        .env("VIRGA_AGENT__STOP_TIMEOUT_SECS", "2")
        .env(
            "VIRGA_TEST_IMAGES",
            std::env::var("VIRGA_TEST_IMAGES").expect(
                "VIRGA_TEST_IMAGES: run scripts/build-test-images.sh DIR and set it to DIR",
            ),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("virga-up.log")).unwrap());
    for s in SERVICES {
        cmd.env(
            format!("VIRGA_SERVICES__{}__LISTEN", s.to_uppercase()),
            "127.0.0.1:0",
        );
    }
    let mut child = cmd.spawn().unwrap();
    let mut urls = BTreeMap::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("ready in") {
            return (Up(child, dir.join("virga-up.log")), urls);
        }
        let mut parts = line.split_whitespace();
        if let (Some(name), Some(url)) = (parts.next(), parts.next())
            && name != "virga:"
        {
            urls.insert(name.to_string(), url.to_string());
        }
    }
    child.kill().ok();
    child.wait().ok();
    panic!("virga up exited before it was ready");
}

/// Runs `openstack <args> -f json` with `env` and returns the parsed output.
fn openstack(env: &[(&str, &str)], args: &[&str]) -> Value {
    let out = succeeds(env, args, true);
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// For a command that must fail: its error output.
fn openstack_fails(env: &[(&str, &str)], args: &[&str]) -> String {
    let out = output(env, args, false);
    assert!(
        !out.status.success(),
        "openstack {} succeeded",
        args.join(" ")
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// For commands that print nothing (`role add`).
fn openstack_quiet(env: &[(&str, &str)], args: &[&str]) {
    succeeds(env, args, false);
}

/// For commands that print plain text (`keypair show --public-key`).
fn openstack_text(env: &[(&str, &str)], args: &[&str]) -> String {
    String::from_utf8_lossy(&succeeds(env, args, false).stdout).into_owned()
}

/// How long one client command may take. The client's own `--wait`
/// polls without end, so a server stuck in a task would otherwise hang
/// the test until nextest kills it, saying nothing about where.
const COMMAND_LIMIT: Duration = Duration::from_secs(240);

/// Seconds since the test began, for the progress lines: nextest prints a
/// test's output when it times out, and these show which step was slow.
fn elapsed() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}

/// Runs the client with only `env` (and PATH, HOME) set, killed past
/// [`COMMAND_LIMIT`].
fn output(env: &[(&str, &str)], args: &[&str], json: bool) -> std::process::Output {
    let mut cmd = Command::new(client());
    cmd.args(args);
    if json {
        cmd.args(["-f", "json"]);
    }
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let began = elapsed();
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot run `{}` ({e}); scripts/test.sh installs python-openstackclient and sets VIRGA_OPENSTACK_CLIENT",
            client()
        )
    });
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            pipe.read_to_end(&mut buf).ok();
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = std::time::Instant::now() + COMMAND_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            let err = stderr.join().unwrap_or_default();
            panic!(
                "openstack {} did not end in {COMMAND_LIMIT:?}: {}",
                args.join(" "),
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!(
        "[{:7.1}s] openstack {} ({:.1}s)",
        elapsed(),
        args.join(" "),
        elapsed() - began
    );
    std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

fn succeeds(env: &[(&str, &str)], args: &[&str], json: bool) -> std::process::Output {
    let out = output(env, args, json);
    assert!(
        out.status.success(),
        "openstack {}: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

#[test]
fn the_openstack_client_works_against_virga_up() {
    elapsed();
    let dir = tempfile::tempdir().unwrap();
    let kit = virga_testkit::libvirt::shared();
    let libvirt = kit.uri();
    let (mut up, urls) = start(dir.path(), &libvirt, kit.netns());
    let clouds = dir.path().join("clouds.yaml").display().to_string();
    let env = [
        ("OS_CLIENT_CONFIG_FILE", clouds.as_str()),
        ("OS_CLOUD", "virga"),
    ];

    let token = openstack(&env, &["token", "issue"]);
    assert!(
        token["id"].as_str().is_some_and(|t| t.len() > 100),
        "{token}"
    );
    let project = openstack(&env, &["project", "create", "demo"]);
    assert_eq!(project["name"], "demo");
    let user = openstack(
        &env,
        &[
            "user",
            "create",
            "--password",
            "alice-pw-1",
            "--project",
            "demo",
            "alice",
        ],
    );
    assert_eq!(user["name"], "alice");
    openstack_quiet(
        &env,
        &[
            "role",
            "add",
            "--project",
            "demo",
            "--user",
            "alice",
            "member",
        ],
    );
    let assignments = openstack(
        &env,
        &["role", "assignment", "list", "--project", "demo", "--names"],
    );
    let rows = assignments.as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["User"] == "alice@Default" && r["Role"] == "member"),
        "{assignments}"
    );
    let catalog = openstack(&env, &["catalog", "list"]);
    let types: Vec<&str> = catalog
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Type"].as_str())
        .collect();
    for t in ["identity", "compute", "image", "network", "placement"] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }

    let cred = openstack(&env, &["application", "credential", "create", "ci"]);
    let id = cred["ID"].as_str().unwrap().to_string();
    let secret = cred["Secret"].as_str().unwrap().to_string();
    let auth_url = format!("{}/v3", urls["identity"]);
    let app_env = [
        ("OS_AUTH_TYPE", "v3applicationcredential"),
        ("OS_AUTH_URL", auth_url.as_str()),
        ("OS_APPLICATION_CREDENTIAL_ID", id.as_str()),
        ("OS_APPLICATION_CREDENTIAL_SECRET", secret.as_str()),
        ("OS_IDENTITY_API_VERSION", "3"),
    ];
    let token = openstack(&app_env, &["token", "issue"]);
    assert!(token["project_id"].as_str().is_some(), "{token}");

    // alice logs in with her own password, to her default project.
    let alice_env = [
        ("OS_AUTH_URL", auth_url.as_str()),
        ("OS_USERNAME", "alice"),
        ("OS_PASSWORD", "alice-pw-1"),
        ("OS_PROJECT_NAME", "demo"),
        ("OS_USER_DOMAIN_NAME", "Default"),
        ("OS_PROJECT_DOMAIN_NAME", "Default"),
        ("OS_IDENTITY_API_VERSION", "3"),
    ];
    let token = openstack(&alice_env, &["token", "issue"]);
    assert_eq!(token["project_id"], project["id"]);

    federated_login(&env, &auth_url, dir.path(), &project);
    images(&env, &alice_env, &project, dir.path());
    placement(&env);
    network::network(&env, &alice_env);
    compute::flavors(&env, &alice_env, &project);
    compute::key_pairs(&alice_env, dir.path());
    compute::server_groups(&alice_env);
    // bob, a member of another project.
    openstack(&env, &["project", "create", "other"]);
    openstack(
        &env,
        &[
            "user",
            "create",
            "--password",
            "bob-pw-1",
            "--project",
            "other",
            "bob",
        ],
    );
    openstack_quiet(
        &env,
        &[
            "role",
            "add",
            "--project",
            "other",
            "--user",
            "bob",
            "member",
        ],
    );
    let bob_env = [
        ("OS_AUTH_URL", auth_url.as_str()),
        ("OS_USERNAME", "bob"),
        ("OS_PASSWORD", "bob-pw-1"),
        ("OS_PROJECT_NAME", "other"),
        ("OS_USER_DOMAIN_NAME", "Default"),
        ("OS_PROJECT_DOMAIN_NAME", "Default"),
        ("OS_IDENTITY_API_VERSION", "3"),
    ];
    compute::servers(&env, &alice_env, &bob_env, &libvirt, dir.path());

    Command::new("kill")
        .args(["-TERM", &up.0.id().to_string()])
        .status()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while up.0.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "virga up did not stop"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Federation set up with the client's commands (a group with a role, a
/// mapping, an identity provider, a protocol), the provider's OpenID
/// Connect client added over HTTP (the client has no option for it), then
/// keystoneauth's `v3oidcaccesstoken` login, rescoped to the project.
fn federated_login(env: &[(&str, &str)], auth_url: &str, dir: &std::path::Path, project: &Value) {
    use virga_testkit::oidc::{OidcClient, OidcConfig, OidcProvider, OidcUser};
    let client = OidcClient::confidential("virga", "virga-secret", "http://127.0.0.1:9/cb");
    let erin = OidcUser::new("erin", "erin-pw").with_groups(&["demo-members"]);
    let provider = OidcProvider::start(OidcConfig {
        port: None,
        clients: vec![client.clone()],
        users: vec![erin.clone()],
    })
    .unwrap();
    let group = openstack(env, &["group", "create", "demo-members"]);
    assert_eq!(group["name"], "demo-members");
    openstack_quiet(
        env,
        &[
            "role",
            "add",
            "--project",
            "demo",
            "--group",
            "demo-members",
            "member",
        ],
    );
    let rules = dir.join("rules.json");
    std::fs::write(
        &rules,
        r#"[{"local": [{"user": {"id": "{0}", "name": "{1}"}},
                      {"groups": "{2}", "domain": {"name": "Default"}}],
            "remote": [{"type": "sub"}, {"type": "preferred_username"}, {"type": "groups"}]}]"#,
    )
    .unwrap();
    let rules = rules.display().to_string();
    let mapping = openstack(env, &["mapping", "create", "--rules", &rules, "corp-map"]);
    assert_eq!(mapping["id"], "corp-map");
    let idp = openstack(
        env,
        &[
            "identity",
            "provider",
            "create",
            "--remote-id",
            provider.issuer(),
            "--domain",
            "default",
            "corp",
        ],
    );
    assert_eq!(idp["enabled"], true, "{idp}");
    let protocol = openstack(
        env,
        &[
            "federation",
            "protocol",
            "create",
            "--identity-provider",
            "corp",
            "--mapping",
            "corp-map",
            "openid",
        ],
    );
    assert_eq!(protocol["mapping"], "corp-map", "{protocol}");

    let admin = openstack(env, &["token", "issue"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let patched = rt.block_on(async {
        reqwest::Client::new()
            .patch(format!("{auth_url}/OS-FEDERATION/identity_providers/corp"))
            .header("X-Auth-Token", admin["id"].as_str().unwrap())
            .json(&serde_json::json!({"identity_provider": {"oidc": {
                "issuer": provider.issuer(), "client_id": "virga", "client_secret": "virga-secret"}}}))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(patched.as_u16(), 200);

    let tokens = rt.block_on(provider.login_tokens(&client, &erin)).unwrap();
    let fed_env = [
        ("OS_AUTH_TYPE", "v3oidcaccesstoken"),
        ("OS_AUTH_URL", auth_url),
        ("OS_IDENTITY_PROVIDER", "corp"),
        ("OS_PROTOCOL", "openid"),
        ("OS_ACCESS_TOKEN", tokens.access_token.as_str()),
        ("OS_PROJECT_NAME", "demo"),
        ("OS_PROJECT_DOMAIN_NAME", "Default"),
        ("OS_IDENTITY_API_VERSION", "3"),
    ];
    let token = openstack(&fed_env, &["token", "issue"]);
    assert_eq!(token["project_id"], project["id"], "{token}");
    let users = openstack(env, &["user", "list", "--domain", "default"]);
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["Name"] == "erin" && u["ID"] == token["user_id"]),
        "the shadow user is listed: {users}"
    );
}

/// `openstack image ...` (openstacksdk's image proxy) on image metadata:
/// create, list with a filter, show, set and unset a property and a tag,
/// share with another project, which accepts, and delete.
fn images(admin: &[(&str, &str)], alice: &[(&str, &str)], demo: &Value, dir: &std::path::Path) {
    // `virga up` registered the test VM on its first start, for everyone.
    let vm = openstack(alice, &["image", "show", "virga-test-vm"]);
    assert_eq!(vm["status"], "active", "{vm}");
    assert_eq!(vm["disk_format"], "qcow2", "{vm}");
    assert_eq!(vm["visibility"], "public", "{vm}");
    // And the busybox OCI archive, stored as blobs by digest, which the
    // client downloads exactly as the script wrote it.
    let oci = openstack(alice, &["image", "show", "virga-test-busybox"]);
    assert_eq!(oci["container_format"], "oci", "{oci}");
    let saved = dir.join("busybox.oci.tar");
    openstack_quiet(
        alice,
        &[
            "image",
            "save",
            "--file",
            saved.to_str().unwrap(),
            "virga-test-busybox",
        ],
    );
    let images = std::path::PathBuf::from(std::env::var("VIRGA_TEST_IMAGES").unwrap());
    assert!(
        std::fs::read(&saved).unwrap()
            == std::fs::read(images.join("virga-test-busybox.oci.tar")).unwrap(),
        "the OCI archive downloads byte for byte"
    );

    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let file = dir.join("disk.raw");
    std::fs::write(&file, &data).unwrap();
    let img = openstack(
        alice,
        &[
            "image",
            "create",
            "--disk-format",
            "raw",
            "--container-format",
            "bare",
            "--property",
            "os_distro=debian",
            "--tag",
            "base",
            "--file",
            file.to_str().unwrap(),
            "debian-12",
        ],
    );
    assert_eq!(img["name"], "debian-12", "{img}");
    assert_eq!(img["status"], "active", "{img}");
    assert_eq!(img["size"], data.len(), "{img}");
    assert_eq!(img["owner"], demo["id"], "{img}");
    let saved = dir.join("saved.raw");
    openstack_quiet(
        alice,
        &[
            "image",
            "save",
            "--file",
            saved.to_str().unwrap(),
            img["id"].as_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read(&saved).unwrap(),
        data,
        "downloaded data is what was uploaded"
    );
    // The interoperable import: openstacksdk stages the data, then imports
    // it with glance-direct.
    let staged = openstack(
        alice,
        &[
            "image",
            "create",
            "--import",
            "--disk-format",
            "raw",
            "--container-format",
            "bare",
            "--file",
            file.to_str().unwrap(),
            "staged",
        ],
    );
    let staged_id = staged["id"].as_str().unwrap();
    let mut shown = Value::Null;
    for _ in 0..50 {
        shown = openstack(alice, &["image", "show", staged_id]);
        if shown["status"] == "active" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(shown["status"], "active", "{shown}");
    assert_eq!(shown["size"], data.len(), "{shown}");
    assert!(
        shown.to_string().contains("os_glance_import_task"),
        "it went through an import task: {shown}"
    );
    openstack_quiet(alice, &["image", "delete", staged_id]);

    let id = img["id"].as_str().unwrap().to_owned();
    let listed = openstack(alice, &["image", "list", "--property", "os_distro=debian"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["ID"] == id.as_str()),
        "{listed}"
    );
    openstack_quiet(
        alice,
        &[
            "image",
            "set",
            "--property",
            "hw_disk_bus=virtio",
            "--tag",
            "lts",
            &id,
        ],
    );
    let shown = openstack(alice, &["image", "show", &id]);
    let props = shown["properties"].to_string();
    assert!(
        props.contains("hw_disk_bus") && props.contains("virtio"),
        "{shown}"
    );
    assert!(shown["tags"].to_string().contains("lts"), "{shown}");
    openstack_quiet(
        alice,
        &[
            "image",
            "unset",
            "--property",
            "hw_disk_bus",
            "--tag",
            "base",
            &id,
        ],
    );
    let shown = openstack(alice, &["image", "show", &id]);
    assert!(
        !shown["properties"].to_string().contains("hw_disk_bus"),
        "{shown}"
    );
    assert!(!shown["tags"].to_string().contains("base"), "{shown}");

    // Shared with the admin project, which accepts it.
    let admin_project = openstack(admin, &["project", "show", "admin"]);
    let admin_id = admin_project["id"].as_str().unwrap();
    let member = openstack(alice, &["image", "add", "project", &id, admin_id]);
    assert_eq!(member["status"], "pending", "{member}");
    openstack_quiet(admin, &["image", "set", "--accept", &id]);
    let members = openstack(alice, &["image", "member", "list", &id]);
    assert!(members.to_string().contains("accepted"), "{members}");

    openstack_quiet(alice, &["image", "delete", &id]);
    let listed = openstack(alice, &["image", "list"]);
    assert!(!listed.to_string().contains(&id), "{listed}");
}

/// `openstack resource provider ...` and `resource class ...` (the
/// osc-placement plugin) against the scheduler's Placement API.
fn placement(admin: &[(&str, &str)]) {
    let rp = openstack(admin, &["resource", "provider", "create", "edge-1-node-1"]);
    let uuid = rp["uuid"].as_str().unwrap().to_owned();
    assert_eq!(rp["generation"], 0, "{rp}");
    let inv = openstack(
        admin,
        &[
            "resource",
            "provider",
            "inventory",
            "set",
            &uuid,
            "--resource",
            "VCPU=16",
            "--resource",
            "VCPU:allocation_ratio=4.0",
            "--resource",
            "MEMORY_MB=32768",
            "--resource",
            "MEMORY_MB:reserved=512",
        ],
    );
    let inv = inv.as_array().unwrap();
    let vcpu = inv.iter().find(|i| i["resource_class"] == "VCPU").unwrap();
    assert_eq!(
        (vcpu["total"].as_i64(), vcpu["allocation_ratio"].as_f64()),
        (Some(16), Some(4.0)),
        "{vcpu}"
    );
    let mem = inv
        .iter()
        .find(|i| i["resource_class"] == "MEMORY_MB")
        .unwrap();
    assert_eq!(mem["reserved"], 512, "{mem}");
    // `inventory show` reads the usages too.
    let shown = openstack(
        admin,
        &["resource", "provider", "inventory", "show", &uuid, "VCPU"],
    );
    assert_eq!(
        (shown["total"].as_i64(), shown["used"].as_i64()),
        (Some(16), Some(0)),
        "{shown}"
    );
    let v12 = ["--os-placement-api-version", "1.2", "resource", "class"];
    openstack_quiet(admin, &[&v12[..], &["create", "CUSTOM_NPU"]].concat());
    let rc = openstack(admin, &[&v12[..], &["show", "CUSTOM_NPU"]].concat());
    assert_eq!(rc["name"], "CUSTOM_NPU", "{rc}");
    let list = openstack(
        admin,
        &["resource", "provider", "list", "--name", "edge-1-node-1"],
    );
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");

    // Traits, candidates and a claim, at the versions osc-placement needs.
    let at = |v: &'static str, args: &[&str]| -> Vec<String> {
        let mut all = vec!["--os-placement-api-version".to_owned(), v.to_owned()];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    };
    let run =
        |args: Vec<String>| openstack(admin, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let quiet = |args: Vec<String>| {
        openstack_quiet(admin, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    quiet(at("1.6", &["trait", "create", "CUSTOM_EDGE_CAMERA"]));
    let traits = run(at(
        "1.6",
        &[
            "resource",
            "provider",
            "trait",
            "set",
            "--trait",
            "HW_CPU_X86_AVX2",
            "--trait",
            "CUSTOM_EDGE_CAMERA",
            &uuid,
        ],
    ));
    assert_eq!(traits.as_array().unwrap().len(), 2, "{traits}");
    let found = run(at(
        "1.29",
        &[
            "allocation",
            "candidate",
            "list",
            "--resource",
            "VCPU=2",
            "--required",
            "CUSTOM_EDGE_CAMERA",
        ],
    ));
    let rows = found.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{found}");
    assert!(rows[0].to_string().contains(&uuid), "{found}");
    let consumer = "b7000000-0000-4000-8000-000000000000";
    quiet(at(
        "1.38",
        &[
            "resource",
            "provider",
            "allocation",
            "set",
            consumer,
            "--allocation",
            &format!("rp={uuid},VCPU=2,MEMORY_MB=1024"),
            "--project-id",
            "edge-project",
            "--user-id",
            "edge-user",
            "--consumer-type",
            "INSTANCE",
        ],
    ));
    let usage = run(at("1.9", &["resource", "usage", "show", "edge-project"]));
    let vcpu = usage
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["resource_class"] == "VCPU")
        .unwrap();
    assert_eq!(vcpu["usage"], 2, "{usage}");
    // 1.38: by consumer type (osc-placement lists each type as a row
    // and its classes with the consumer count as the usage).
    let typed = run(at("1.38", &["resource", "usage", "show", "edge-project"]));
    let instance = typed
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["resource_class"] == "INSTANCE")
        .unwrap_or_else(|| panic!("{typed}"));
    assert_eq!(
        instance["usage"],
        serde_json::json!({"VCPU": 2, "MEMORY_MB": 1024, "consumer_count": 1}),
        "{typed}"
    );
    quiet(at(
        "1.28",
        &["resource", "provider", "allocation", "delete", consumer],
    ));
    openstack_quiet(admin, &["resource", "provider", "delete", &uuid]);
    // What is left is `virga up`'s own agent's node and site.
    let list = openstack(admin, &["resource", "provider", "list"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|p| p["uuid"] != uuid.as_str()),
        "{list}"
    );
}
