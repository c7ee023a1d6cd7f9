use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("virga.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn defaults_are_the_embedded_all_in_one() {
    let c = Config::load(None, env(&[])).unwrap();
    assert_eq!(c.bus.url, "memory");
    assert_eq!(c.services.compute.listen.port(), 8774);
    assert_eq!(c.services.identity.listen.port(), 5000);
    assert_eq!(c.database_url("image"), "sqlite:///var/lib/virga/image.db");
}

#[test]
fn file_then_env_override() {
    let (_d, path) =
        write("data_dir = \"/srv/v\"\n[services.compute]\nlisten = \"0.0.0.0:18774\"\n");
    let c = Config::load(
        Some(&path),
        env(&[
            ("VIRGA_SERVICES__COMPUTE__LISTEN", "127.0.0.1:9999"),
            ("VIRGA_BUS__CALL_TIMEOUT_SECS", "7"),
            ("VIRGA_CONFIG", "ignored"),
            ("OTHER", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(c.services.compute.listen.to_string(), "127.0.0.1:9999");
    assert_eq!(c.bus.call_timeout_secs, 7);
    assert_eq!(c.database_url("compute"), "sqlite:///srv/v/compute.db");
}

#[test]
fn per_service_database_url_wins() {
    let c = Config::load(
        None,
        env(&[
            ("VIRGA_DATABASE__URL", "postgres://u@db/virga_{service}"),
            (
                "VIRGA_SERVICES__IMAGE__DATABASE_URL",
                "postgres://u@other/glance",
            ),
        ]),
    )
    .unwrap();
    assert_eq!(c.database_url("compute"), "postgres://u@db/virga_compute");
    assert_eq!(c.database_url("image"), "postgres://u@other/glance");
}

#[test]
fn unknown_key_in_file_is_named() {
    let (_d, path) = write("[services.compute]\nlistn = \"0.0.0.0:1\"\n");
    let err = Config::load(Some(&path), env(&[])).unwrap_err().to_string();
    assert!(err.contains("services.compute"), "{err}");
    assert!(err.contains("listn"), "{err}");
    assert!(err.contains("virga.toml"), "{err}");
}

#[test]
fn bad_value_from_env_names_key_and_variable() {
    let err = Config::load(None, env(&[("VIRGA_SERVICES__IMAGE__LISTEN", "nope")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("services.image.listen"), "{err}");
    assert!(err.contains("VIRGA_SERVICES__IMAGE__LISTEN"), "{err}");
}

#[test]
fn wrong_type_is_named() {
    let err = Config::load(None, env(&[("VIRGA_BUS__CALL_TIMEOUT_SECS", "soon")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("bus.call_timeout_secs"), "{err}");
}

#[test]
fn semantic_checks() {
    let cases = [
        ("VIRGA_BUS__URL", "kafka://x", "bus.url"),
        ("VIRGA_BUS__CALL_TIMEOUT_SECS", "0", "bus.call_timeout_secs"),
        (
            "VIRGA_DATABASE__URL",
            "mysql://x/{service}",
            "services.identity.database_url",
        ),
        (
            "VIRGA_SERVICES__IMAGE__LISTEN",
            "127.0.0.1:8774",
            "services.compute.listen",
        ),
        (
            "VIRGA_SERVICES__IMAGE__PUBLIC_URL",
            "ftp://x",
            "services.image.public_url",
        ),
        ("VIRGA_HOST", "bad host", "host"),
    ];
    for (var, value, key) in cases {
        let err = Config::load(None, env(&[(var, value)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("`{key}`")), "{var}={value}: {err}");
    }
}

#[test]
fn syntax_error_names_file() {
    let (_d, path) = write("data_dir = \n");
    let err = Config::load(Some(&path), env(&[])).unwrap_err().to_string();
    assert!(err.contains("not valid TOML"), "{err}");
}

#[test]
fn missing_file_is_a_clear_error() {
    let err = Config::load(Some(Path::new("/nonexistent/virga.toml")), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/virga.toml"), "{err}");
}

#[test]
fn env_values_keep_their_type() {
    assert_eq!(env_value("7"), toml::Value::Integer(7));
    assert_eq!(env_value("true"), toml::Value::Boolean(true));
    assert_eq!(
        env_value("0.0.0.0:1"),
        toml::Value::String("0.0.0.0:1".into())
    );
    assert_eq!(env_value("1.5"), toml::Value::String("1.5".into()));
}

#[test]
fn auth_settings_are_validated() {
    let err = Config::load(None, env(&[("VIRGA_AUTH__TOKEN_LIFETIME_SECS", "0")])).unwrap_err();
    assert!(
        err.to_string().contains("auth.token_lifetime_secs"),
        "{err}"
    );
    let err = Config::load(
        None,
        env(&[
            ("VIRGA_AUTH__TOKEN_LIFETIME_SECS", "7200"),
            ("VIRGA_AUTH__KEY_ROTATION_SECS", "3600"),
        ]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("auth.key_rotation_secs"), "{err}");
    let ok = Config::load(None, env(&[("VIRGA_AUTH__ISSUER", "edge-7")])).unwrap();
    assert_eq!(ok.auth.issuer, "edge-7");
}

#[test]
fn trusted_dashboards_must_be_http_urls() {
    let (_d, path) = write("[auth]\ntrusted_dashboards = [\"javascript:alert(1)\"]\n");
    let err = Config::load(Some(&path), env(&[])).unwrap_err().to_string();
    assert!(err.contains("auth.trusted_dashboards"), "{err}");
    let (_d, path) =
        write("[auth]\ntrusted_dashboards = [\"https://console.example/auth/websso/\"]\n");
    let ok = Config::load(Some(&path), env(&[])).unwrap();
    assert_eq!(
        ok.auth.trusted_dashboards,
        ["https://console.example/auth/websso/"]
    );
}

#[test]
fn the_agent_network_section_is_validated() {
    let (_d, path) = write(
        "[agent.network]\ntunnel_ip = \"198.51.100.7\"\nphysical_interfaces = { public = \"eth1\" }\n",
    );
    let c = Config::load(Some(&path), env(&[])).unwrap();
    assert_eq!(
        c.agent.network.tunnel_ip,
        Some("198.51.100.7".parse().unwrap())
    );
    assert_eq!(c.agent.network.physical_interfaces["public"], "eth1");
    assert!(c.agent.network.dataplane);
    for (text, key) in [
        ("tunnel_ip = \"not-an-address\"", "tunnel_ip"),
        (
            "namespace_prefix = \"a b\"",
            "agent.network.namespace_prefix",
        ),
        ("netns = \"../x\"", "agent.network.netns"),
        (
            "physical_interfaces = { public = \"a-very-long-interface\" }",
            "agent.network.physical_interfaces.public",
        ),
        ("reconcile_secs = 0", "agent.network.reconcile_secs"),
    ] {
        let (_d, path) = write(&format!("[agent.network]\n{text}\n"));
        let err = Config::load(Some(&path), env(&[])).unwrap_err().to_string();
        assert!(err.contains(key), "{text}: {err}");
    }
}
