//! Whether an archive is a complete OCI image layout: an `oci-layout` of a
//! version we read, an `index.json`, and every blob the index reaches
//! (manifests, nested indexes, configs, layers) present with the size its
//! descriptor states. A node must be able to run the image from the
//! archive alone, so a layout that leaves blobs to an outside registry is
//! refused.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::OciError;

/// The OCI distribution spec's limit on a manifest; also ours on an index.
pub const MAX_MANIFEST: u64 = 4 << 20;
/// Indexes within indexes (multi-platform images nest one level).
const MAX_DEPTH: usize = 4;

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const MANIFEST_TYPES: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

#[derive(Debug, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    size: u64,
}

#[derive(Debug, Deserialize)]
struct Index {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
struct Layout {
    #[serde(rename = "imageLayoutVersion")]
    version: String,
}

fn bad(why: impl Into<String>) -> OciError {
    OciError::Layout(why.into())
}

/// What a valid layout holds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Image manifests reached from the index.
    pub manifests: Vec<String>,
    /// Layer digests of every manifest, each once, in first-seen order.
    pub layers: Vec<String>,
}

/// Checks the layout given its small files, the blobs the archive held
/// (digest -> size) and a way to read a blob.
pub async fn check<F, Fut>(
    small: &BTreeMap<String, Vec<u8>>,
    blobs: &BTreeMap<String, u64>,
    read: F,
) -> Result<Summary, OciError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<u8>, OciError>>,
{
    let layout = small
        .get("oci-layout")
        .ok_or_else(|| bad("the archive has no oci-layout file; it is not an OCI image layout (docker save from Docker 25 or later, skopeo copy oci-archive: or buildah push oci-archive: write one)"))?;
    let layout: Layout =
        serde_json::from_slice(layout).map_err(|e| bad(format!("oci-layout is not valid: {e}")))?;
    if !layout.version.starts_with("1.") {
        return Err(bad(format!(
            "imageLayoutVersion {} is not supported (1.x is)",
            layout.version
        )));
    }
    let index = small
        .get("index.json")
        .ok_or_else(|| bad("the archive has no index.json"))?;
    let mut summary = Summary::default();
    // (descriptors to visit, depth): an explicit stack, no async recursion.
    let mut todo: Vec<(Descriptor, usize)> = parse_index(index, "index.json")?
        .into_iter()
        .map(|d| (d, 0))
        .collect();
    if todo.is_empty() {
        return Err(bad("index.json lists no manifests"));
    }
    todo.reverse();
    while let Some((d, depth)) = todo.pop() {
        present(blobs, &d)?;
        let is_index = INDEX_TYPES.contains(&d.media_type.as_str());
        let is_manifest = MANIFEST_TYPES.contains(&d.media_type.as_str());
        if !is_index && !is_manifest {
            // Artifacts (signatures, attestations): present is enough.
            continue;
        }
        if d.size > MAX_MANIFEST {
            return Err(bad(format!(
                "{} is larger than {MAX_MANIFEST} bytes",
                d.digest
            )));
        }
        let body = read(d.digest.clone()).await?;
        if is_index {
            if depth + 1 >= MAX_DEPTH {
                return Err(bad("indexes nest too deeply"));
            }
            let mut inner: Vec<_> = parse_index(&body, &d.digest)?
                .into_iter()
                .map(|x| (x, depth + 1))
                .collect();
            inner.reverse();
            todo.extend(inner);
            continue;
        }
        let m: Manifest = serde_json::from_slice(&body)
            .map_err(|e| bad(format!("manifest {} is not valid: {e}", d.digest)))?;
        if m.schema_version != 2 {
            return Err(bad(format!("manifest {} is not schemaVersion 2", d.digest)));
        }
        present(blobs, &m.config)?;
        for l in &m.layers {
            present(blobs, l)?;
            if !summary.layers.contains(&l.digest) {
                summary.layers.push(l.digest.clone());
            }
        }
        summary.manifests.push(d.digest);
    }
    if summary.manifests.is_empty() {
        return Err(bad("index.json reaches no image manifest"));
    }
    Ok(summary)
}

fn parse_index(body: &[u8], what: &str) -> Result<Vec<Descriptor>, OciError> {
    let i: Index =
        serde_json::from_slice(body).map_err(|e| bad(format!("{what} is not valid: {e}")))?;
    if i.schema_version != 2 {
        return Err(bad(format!("{what} is not schemaVersion 2")));
    }
    Ok(i.manifests)
}

fn present(blobs: &BTreeMap<String, u64>, d: &Descriptor) -> Result<(), OciError> {
    match blobs.get(&d.digest) {
        None => Err(bad(format!(
            "blob {} is referenced but not in the archive",
            d.digest
        ))),
        Some(size) if *size != d.size => Err(bad(format!(
            "blob {} is {size} bytes, not the {} its descriptor states",
            d.digest, d.size
        ))),
        Some(_) => Ok(()),
    }
}
