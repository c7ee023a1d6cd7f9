//! Taking image data in, whatever its source (an upload, the staging area,
//! a web download): streamed into a store while it is counted, hashed (md5
//! `checksum`, sha256 `os_hash_value`) and its head kept for format
//! inspection; committed only when every check holds, else dropped.

use bytes::Bytes;
use futures::StreamExt;
use md5::Md5;
use sha2::{Digest, Sha256};

use super::digests::{Digests, Hash, Update};

use crate::format::{self, FormatError, HEAD_LEN};
use crate::oci::{BlobLedger, OciError, OciWriter};
use crate::signature::{self, Hasher, SignatureError};
use crate::store::{ByteStream, Store, StoreError};

/// The hash algorithm behind `os_hash_value`.
pub const HASH_ALGO: &str = "sha256";

/// What the data must be.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// The size the sender announced.
    pub size: Option<u64>,
    /// Refuse more than this many bytes.
    pub cap: u64,
    /// A declared md5 (hex), e.g. from `Content-MD5`.
    pub md5: Option<String>,
    /// A declared sha256 (hex).
    pub sha256: Option<String>,
    /// The declared formats; None skips inspection (the staging area keeps
    /// whatever arrives and is inspected when imported).
    pub formats: Option<(String, String)>,
    /// A signature the data must carry.
    pub signature: Option<signature::Check>,
    /// Set for OCI archives: blobs are stored by digest through it and the
    /// image's key gets the archive's recipe.
    pub oci: Option<OciLedger>,
}

/// The blob ledger an OCI archive's ingest records its blobs in.
#[derive(Clone)]
pub struct OciLedger(pub std::sync::Arc<dyn BlobLedger>);

impl std::fmt::Debug for OciLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OciLedger")
    }
}

/// What was taken in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    pub size: u64,
    pub md5: String,
    pub sha256: String,
    pub virtual_size: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("The data ended after {got} bytes; {expected} were announced.")]
    SizeMismatch { expected: u64, got: u64 },
    #[error("The data exceeds the {limit} bytes allowed.")]
    TooLarge { limit: u64 },
    #[error("The data's {algo} is {actual}, not the declared {declared}.")]
    HashMismatch {
        algo: &'static str,
        declared: String,
        actual: String,
    },
    #[error("Reading the data failed.")]
    Body(#[source] std::io::Error),
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Oci(#[from] OciError),
    #[error("Storing the data failed.")]
    Store(#[from] StoreError),
}

impl IngestError {
    /// Whether the sender is at fault (a 4xx) rather than the service.
    pub fn is_client(&self) -> bool {
        match self {
            IngestError::Store(_) => false,
            IngestError::Oci(e) => e.is_client(),
            _ => true,
        }
    }
}

/// Bytes as lowercase hex, the form every digest here is shown in.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Streams `body` into `store` under `key`, checks it against `expect`, and
/// commits it. Nothing is left under `key` (or half-written) on failure.
pub async fn ingest(
    store: &dyn Store,
    key: &str,
    mut body: ByteStream,
    expect: &Expect,
) -> Result<Ingested, IngestError> {
    let mut pending = store.begin(key).await?;
    let mut digests: Vec<Box<dyn Update>> =
        vec![Box::new(Hash(Md5::new())), Box::new(Hash(Sha256::new()))];
    if let Some(c) = &expect.signature {
        digests.push(Box::new(Hasher::new(c.hash)));
    }
    let mut digests = Digests::start(digests);
    let mut head: Vec<u8> = Vec::new();
    let mut size: u64 = 0;
    let mut oci = expect
        .oci
        .as_ref()
        .map(|l| OciWriter::new(store, l.0.clone()));
    let streamed: Result<(), IngestError> = async {
        while let Some(chunk) = body.next().await {
            let chunk: Bytes = chunk.map_err(IngestError::Body)?;
            size += chunk.len() as u64;
            if size > expect.cap {
                return Err(IngestError::TooLarge { limit: expect.cap });
            }
            if head.len() < HEAD_LEN {
                let take = (HEAD_LEN - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            digests.feed(&chunk).await;
            match &mut oci {
                Some(w) => w.feed(&chunk).await?,
                None => pending.write(chunk).await?,
            }
        }
        Ok(())
    }
    .await;
    let mut hashes = digests.finish().await.into_iter();
    let (md5, sha256, signed) = (hashes.next(), hashes.next(), hashes.next());
    let mut checked = streamed.and_then(|()| {
        if let Some(expected) = expect.size.filter(|e| *e != size) {
            return Err(IngestError::SizeMismatch {
                expected,
                got: size,
            });
        }
        let got = Ingested {
            size,
            md5: hex(&md5.unwrap_or_default()),
            sha256: hex(&sha256.unwrap_or_default()),
            virtual_size: None,
        };
        for (algo, declared, actual) in [
            ("md5", &expect.md5, &got.md5),
            ("sha256", &expect.sha256, &got.sha256),
        ] {
            if let Some(d) = declared
                .as_ref()
                .filter(|d| !d.eq_ignore_ascii_case(actual))
            {
                return Err(IngestError::HashMismatch {
                    algo,
                    declared: d.clone(),
                    actual: actual.clone(),
                });
            }
        }
        let virtual_size = match &expect.formats {
            Some((disk, container)) => format::check(disk, container, &head, size)?.virtual_size,
            None => None,
        };
        if let (Some(check), Some(digest)) = (&expect.signature, signed) {
            signature::verify(check, &digest)?;
        }
        Ok(Ingested {
            virtual_size,
            ..got
        })
    });
    if let (Ok(_), Some(w)) = (&checked, &mut oci) {
        match w.finish().await {
            Ok((recipe, summary)) => {
                tracing::debug!(
                    manifests = summary.manifests.len(),
                    layers = summary.layers.len(),
                    "OCI archive split"
                );
                if let Err(e) = pending.write(Bytes::from(recipe)).await {
                    checked = Err(e.into());
                }
            }
            Err(e) => checked = Err(e.into()),
        }
    }
    let done = match checked {
        Ok(got) => pending
            .commit()
            .await
            .map(|()| got)
            .map_err(IngestError::from),
        Err(e) => {
            pending.abort().await;
            Err(e)
        }
    };
    if let (Err(_), Some(w)) = (&done, oci) {
        w.abort().await;
    }
    done
}
