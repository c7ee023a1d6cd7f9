//! The `[image]` section: which import methods the image service offers and
//! what a `web-download` may fetch.

use serde::{Deserialize, Serialize};

/// Import methods the image service knows.
pub const IMPORT_METHODS: [&str; 3] = ["glance-direct", "web-download", "copy-image"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImageConfig {
    /// Import methods offered (Glance's `enabled_import_methods`); empty
    /// turns the interoperable import API off (stage and import are 404).
    pub import_methods: Vec<String>,
    /// The largest image accepted, in bytes (Glance's `image_size_cap`).
    pub size_cap: u64,
    /// How long an import worker holds its task without renewing; a task
    /// whose worker died is taken up again after this long.
    pub task_lease_secs: u64,
    pub web_download: WebDownloadConfig,
    pub quota: ImageQuotaConfig,
    /// Where images' data lives first: the central library every upload
    /// and import goes to (Glance's `default_backend`).
    pub store: ImageStoreConfig,
    /// The central store's id in `/v2/info/stores` and `stores`.
    pub store_id: String,
    /// Edge sites' stores by id (Glance's `enabled_backends`): where
    /// `copy-image` puts images so a site's nodes fetch them nearby.
    pub stores: std::collections::BTreeMap<String, SiteStoreConfig>,
    /// Certificates image signatures may be made with, as `<uuid>.pem`
    /// (the uuid an image's `img_signature_certificate_uuid` names);
    /// default `<data_dir>/image-signing-certs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_certificates_dir: Option<std::path::PathBuf>,
    /// The secret signing the download URLs nodes get from
    /// `GET /v2/images/{id}/locations`; every image service of a cloud
    /// needs the same. Unset: one is made and kept in
    /// `<data_dir>/image-download-url.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url_key: Option<String>,
    /// How long a signed download URL works (seconds).
    pub download_url_secs: u64,
}

/// The image data backend: files under `<data_dir>/images` (one image
/// service), or an S3-compatible bucket (any number sharing it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ImageStoreConfig {
    Local,
    S3(S3StoreConfig),
    /// A directory given by path (an edge site's store).
    #[serde(skip)]
    Dir(std::path::PathBuf),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct S3StoreConfig {
    /// e.g. `https://s3.example.com` or `http://127.0.0.1:9000`.
    pub endpoint: String,
    pub bucket: String,
    #[serde(default = "default_region")]
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Keys go below this prefix in the bucket.
    #[serde(default)]
    pub prefix: String,
}

/// An edge site's image store: a directory (the site's mounted storage)
/// or the site's S3-compatible object store, exactly one of the two.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct SiteStoreConfig {
    /// What `/v2/info/stores` says of it.
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<std::path::PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3StoreConfig>,
    /// How the site's nodes read the store: an image's data is at
    /// `<node_url>/<image id>` (`http(s)://` for the site's object store
    /// or a web server over the directory, `file://` where the nodes
    /// mount it). Unset: the site's nodes fetch from the centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_url: Option<String>,
}

impl SiteStoreConfig {
    /// The store as the central one is configured.
    pub fn as_store(&self) -> Option<ImageStoreConfig> {
        match (&self.path, &self.s3) {
            (Some(p), None) => Some(ImageStoreConfig::Dir(p.clone())),
            (None, Some(s3)) => Some(ImageStoreConfig::S3(s3.clone())),
            _ => None,
        }
    }
}

fn default_region() -> String {
    "us-east-1".into()
}

/// What each project may keep (Glance's `image_count_total` and
/// `image_size_total`); -1 is unlimited. The same for every project until
/// identity serves Keystone's unified limits for per-project overrides.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImageQuotaConfig {
    /// Images a project may own.
    pub images: i64,
    /// Bytes of image data a project may store.
    pub bytes: i64,
}

impl Default for ImageQuotaConfig {
    fn default() -> Self {
        ImageQuotaConfig {
            images: 100,
            bytes: 1 << 40,
        }
    }
}

/// Limits on `web-download` URLs (Glance's `[import_filtering_opts]`), so
/// the service cannot be pointed at the cloud's own insides.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebDownloadConfig {
    pub allowed_schemes: Vec<String>,
    /// Ports a URL may name; empty allows any.
    pub allowed_ports: Vec<u16>,
    /// Host names refused outright.
    pub disallowed_hosts: Vec<String>,
    /// Whether a URL may resolve to a loopback, private, link-local (the
    /// metadata service) or otherwise non-global address. Off in
    /// production; tests that serve images locally turn it on.
    pub allow_private_addresses: bool,
    /// Attempts per download before the import fails; a broken transfer
    /// resumes by `Range` where the server allows it.
    pub attempts: u32,
    /// Gives up on a connection that sends nothing for this long.
    pub read_timeout_secs: u64,
}

impl Default for ImageConfig {
    fn default() -> Self {
        ImageConfig {
            import_methods: IMPORT_METHODS.iter().map(|m| m.to_string()).collect(),
            size_cap: 1 << 40,
            task_lease_secs: 60,
            web_download: WebDownloadConfig::default(),
            quota: ImageQuotaConfig::default(),
            store: ImageStoreConfig::Local,
            store_id: "central".into(),
            stores: Default::default(),
            signature_certificates_dir: None,
            download_url_key: None,
            download_url_secs: 3600,
        }
    }
}

impl Default for WebDownloadConfig {
    fn default() -> Self {
        WebDownloadConfig {
            allowed_schemes: vec!["http".into(), "https".into()],
            allowed_ports: vec![80, 443],
            disallowed_hosts: Vec::new(),
            allow_private_addresses: false,
            attempts: 4,
            read_timeout_secs: 60,
        }
    }
}

impl ImageConfig {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        for m in &self.import_methods {
            if !IMPORT_METHODS.contains(&m.as_str()) {
                return Err((
                    "image.import_methods".into(),
                    format!(
                        "unknown method {m:?} (known: {})",
                        IMPORT_METHODS.join(", ")
                    ),
                ));
            }
        }
        if self.task_lease_secs < 2 {
            return Err(("image.task_lease_secs".into(), "must be at least 2".into()));
        }
        for (key, v) in [
            ("image.quota.images", self.quota.images),
            ("image.quota.bytes", self.quota.bytes),
        ] {
            if v < -1 {
                return Err((key.into(), "must be -1 (unlimited) or at least 0".into()));
            }
        }
        if self.download_url_secs == 0 {
            return Err((
                "image.download_url_secs".into(),
                "must be at least 1".into(),
            ));
        }
        if let Some(k) = &self.download_url_key
            && k.len() < 16
        {
            return Err((
                "image.download_url_key".into(),
                "must be at least 16 characters".into(),
            ));
        }
        if self.size_cap == 0 {
            return Err(("image.size_cap".into(), "must be at least 1".into()));
        }
        if let ImageStoreConfig::S3(s3) = &self.store {
            s3.validate("image.store")?;
        }
        check_store_id("image.store_id", &self.store_id)?;
        for (id, site) in &self.stores {
            let key = format!("image.stores.{id}");
            check_store_id(&key, id)?;
            if *id == self.store_id {
                return Err((key, "is the central store's id (image.store_id)".into()));
            }
            if site.as_store().is_none() {
                return Err((key, "needs exactly one of `path` and `s3`".into()));
            }
            if let Some(s3) = &site.s3 {
                s3.validate(&format!("{key}.s3"))?;
            }
            if let Some(u) = &site.node_url
                && !["http://", "https://", "file:///"]
                    .iter()
                    .any(|p| u.starts_with(p))
            {
                return Err((
                    format!("{key}.node_url"),
                    "must be an http://, https:// or file:/// URL".into(),
                ));
            }
        }
        let w = &self.web_download;
        for s in &w.allowed_schemes {
            if s != "http" && s != "https" {
                return Err((
                    "image.web_download.allowed_schemes".into(),
                    format!("{s:?} is neither http nor https"),
                ));
            }
        }
        if w.attempts == 0 {
            return Err((
                "image.web_download.attempts".into(),
                "must be at least 1".into(),
            ));
        }
        if w.read_timeout_secs == 0 {
            return Err((
                "image.web_download.read_timeout_secs".into(),
                "must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

impl S3StoreConfig {
    fn validate(&self, at: &str) -> Result<(), (String, String)> {
        if !(self.endpoint.starts_with("https://") || self.endpoint.starts_with("http://")) {
            return Err((
                format!("{at}.endpoint"),
                format!("{:?} is not an http(s) URL", self.endpoint),
            ));
        }
        if self.bucket.is_empty() {
            return Err((format!("{at}.bucket"), "must not be empty".into()));
        }
        Ok(())
    }
}

/// Store ids appear in headers and comma-separated lists; Glance keeps
/// `os_glance_` for itself.
fn check_store_id(key: &str, id: &str) -> Result<(), (String, String)> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !id.starts_with("os_glance_");
    if ok {
        Ok(())
    } else {
        Err((
            key.into(),
            format!(
                "store id {id:?} must be 1-64 letters, digits, '-' or '_', not starting os_glance_"
            ),
        ))
    }
}
