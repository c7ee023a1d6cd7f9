//! `POST /v2/images/{id}/import`: checks the request against the image's
//! state, moves it to `importing` and records a task in one transaction,
//! then hands the task to a worker (`import_task`). The work itself is
//! asynchronous (202), as in Glance.

use serde::{Deserialize, Serialize};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::image as images;
use super::image_data::formats;
use super::stage::{STAGE_HOST, enabled};
use super::web_download;
use crate::db::{image, now, task};

/// Names the image's latest import task.
pub const IMPORT_TASK: &str = "os_glance_import_task";

/// The import method and its arguments, as the task keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum Method {
    GlanceDirect,
    WebDownload {
        uri: String,
        /// Virga's addition: hashes the downloaded data must have.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        validation_data: Option<ValidationData>,
    },
    /// An active image's data, copied to edge sites' stores.
    CopyImage,
}

impl Method {
    pub fn name(&self) -> &'static str {
        match self {
            Method::GlanceDirect => "glance-direct",
            Method::WebDownload { .. } => "web-download",
            Method::CopyImage => "copy-image",
        }
    }
}

/// Declared hashes, in the shape of Glance's location `validation_data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationData {
    pub os_hash_algo: String,
    pub os_hash_value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// What the task records: the request (Glance's `import_req`) and the
/// image it is for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskInput {
    pub image_id: String,
    pub import_req: ImportRequest,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportRequest {
    pub method: Method,
    /// Stores asked for (`stores`, or every store for `all_stores`).
    #[serde(default)]
    pub stores: Vec<String>,
    #[serde(default)]
    pub all_stores: bool,
    /// Whether one site's failure fails the copy everywhere (Glance's
    /// default) or only a failure at every site does.
    #[serde(default = "yes")]
    pub all_stores_must_succeed: bool,
    /// The site stores the data is to be copied to, as the request was
    /// accepted (the central store, and sites already holding an active
    /// copy, are not among them).
    #[serde(default)]
    pub targets: Vec<String>,
}

fn yes() -> bool {
    true
}

/// Starts an import; the task id. The request (`req`, as the HTTP layer
/// read it) is looked at only once the caller may see the image, so a
/// stranger gets 404 whatever they send. 409 when the image is not in the
/// state the method needs, 400 for a bad request or a refused URL.
pub async fn start(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    req: Result<ImportRequest, Error>,
) -> Result<String, Error> {
    let m = images::allowed(ctx, auth, id, "image:import_image").await?;
    let req = req?;
    let method = &req.method;
    let offered = &ctx.config().image.import_methods;
    if offered.is_empty() {
        enabled(ctx, method.name())?;
    }
    if !offered.iter().any(|m| m == method.name()) {
        return Err(Error::BadRequest(format!(
            "Import method {} is not valid for this cloud. Valid values are: {}",
            method.name(),
            offered.join(", ")
        )));
    }
    if formats(&m).is_err() {
        return Err(Error::Conflict(
            "Image disk_format and container_format must be set before import".into(),
        ));
    }
    let (from, host) = match method {
        Method::GlanceDirect => {
            let props = image::properties(ctx.db(), id).await?;
            let staged_on = props.get(STAGE_HOST);
            if m.status != "uploading" || staged_on.is_none() {
                return Err(Error::Conflict(
                    "Image needs to be staged before 'glance-direct' method can be used".into(),
                ));
            }
            if staged_on != Some(&ctx.config().host) {
                return Err(Error::Conflict(format!(
                    "Image data is staged on host {}; import it there",
                    staged_on.map(String::as_str).unwrap_or("")
                )));
            }
            ("uploading", Some(ctx.config().host.clone()))
        }
        Method::WebDownload {
            uri,
            validation_data,
        } => {
            if m.status != "queued" {
                return Err(Error::Conflict(
                    "Image needs to be in 'queued' state to use 'web-download' method".into(),
                ));
            }
            web_download::check_url(&ctx.config().image.web_download, uri)
                .map_err(|e| Error::BadRequest(e.to_string()))?;
            if let Some(v) = validation_data {
                check_validation_data(v)?;
            }
            ("queued", None)
        }
        Method::CopyImage => {
            if m.status != "active" {
                return Err(Error::Conflict(
                    "Image needs to be in 'active' state to use 'copy-image' method".into(),
                ));
            }
            ("active", None)
        }
    };
    let mut req = req;
    req.targets = targets(ctx, id, &req).await?;
    let method = &req.method;
    let input = TaskInput {
        image_id: id.to_owned(),
        import_req: req.clone(),
    };
    let at = now();
    let t = task::Model {
        id: uuid::Uuid::new_v4().to_string(),
        image_id: id.to_owned(),
        kind: "api_image_import".into(),
        status: task::PENDING.into(),
        input: serde_json::to_string(&input).map_err(Error::internal)?,
        result: None,
        message: String::new(),
        owner: auth.claims().project_id().map(str::to_owned),
        user_id: Some(auth.claims().user_id().to_owned()),
        request_id: auth.request_id().map(|r| r.to_string()),
        host,
        lease_until: None,
        created_at: at,
        updated_at: at,
    };
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    // copy-image leaves the image active: it is in use while it travels.
    let to = if *method == Method::CopyImage {
        "active"
    } else {
        "importing"
    };
    if !image::set_status_if(&txn, id, from, to).await? {
        return Err(Error::Conflict(format!(
            "Image status transition from {} to {to} is not allowed",
            m.status
        )));
    }
    let t = task::create(&txn, t).await?;
    image::set_internal(&txn, id, IMPORT_TASK, Some(&t.id)).await?;
    super::copy::queue(&txn, id, &t.id, &req.targets).await?;
    txn.commit().await.map_err(Error::internal)?;
    tracing::info!(image = %id, task = %t.id, method = method.name(), "import started");
    super::import_task::spawn(ctx.clone(), t.clone());
    Ok(t.id)
}

/// The site stores an import is to reach: those asked for (every one for
/// `all_stores`), less the central store (every import lands there) and
/// sites already holding an active copy. 409 for an unknown store, for a
/// copy already under way, or for a copy-image with nowhere left to go.
async fn targets(
    ctx: &ServiceContext,
    id: &str,
    req: &ImportRequest,
) -> Result<Vec<String>, Error> {
    let method = &req.method;
    let asked: Vec<String> = if req.all_stores {
        super::stores::ids(ctx)
    } else {
        req.stores.clone()
    };
    let central = &ctx.config().image.store_id;
    let copies = crate::db::location::of(ctx.db(), id).await?;
    if let Some(busy) = copies.iter().find(|l| super::copy::in_progress(&l.status)) {
        return Err(Error::Conflict(format!(
            "The image is being copied to '{}' already.",
            busy.store_id
        )));
    }
    let mut out = Vec::new();
    for s in &asked {
        if s == central {
            continue;
        }
        super::stores::site(ctx, s)?;
        let present = copies
            .iter()
            .any(|l| l.store_id == *s && l.status == crate::db::location::ACTIVE);
        if !present && !out.contains(s) {
            out.push(s.clone());
        }
    }
    if *method == Method::CopyImage && out.is_empty() {
        return Err(Error::Conflict(if asked.is_empty() {
            "copy-image needs 'stores' or 'all_stores'.".into()
        } else {
            "The image is already present in every store asked for.".into()
        }));
    }
    Ok(out)
}

fn check_validation_data(v: &ValidationData) -> Result<(), Error> {
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    if v.os_hash_algo != super::ingest::HASH_ALGO {
        return Err(Error::BadRequest(format!(
            "validation_data os_hash_algo must be {}",
            super::ingest::HASH_ALGO
        )));
    }
    if !hex(&v.os_hash_value, 64) || v.checksum.as_deref().is_some_and(|c| !hex(c, 32)) {
        return Err(Error::BadRequest(
            "validation_data holds a malformed hash".into(),
        ));
    }
    Ok(())
}
