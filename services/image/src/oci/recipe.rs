//! How to rebuild an OCI archive byte for byte: the tar headers, small
//! files and padding as literal bytes, and each blob's content as a
//! reference to the blob, stored once by digest. It is what an OCI image's
//! data key holds; a download replays it, a range of it if asked.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::blob_key;
use crate::store::{ByteStream, Store, StoreError};

/// What a recipe's data key starts with, so it is never taken for an
/// archive (or an archive for a recipe).
const MAGIC: &str = "virga-oci-recipe/1\n";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// Literal bytes, base64.
    Bytes(String),
    Zeros(u64),
    Blob {
        digest: String,
        size: u64,
    },
}

impl Segment {
    fn len(&self) -> u64 {
        match self {
            Segment::Bytes(b) => (b.len() / 4 * 3) as u64 - padding_of(b),
            Segment::Zeros(n) => *n,
            Segment::Blob { size, .. } => *size,
        }
    }
}

fn padding_of(b64: &str) -> u64 {
    b64.bytes().rev().take_while(|c| *c == b'=').count() as u64
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipe {
    pub size: u64,
    pub segments: Vec<Segment>,
    #[serde(skip)]
    literal: Vec<u8>,
}

impl Recipe {
    pub fn literal(&mut self, b: &[u8]) {
        if b.is_empty() {
            return;
        }
        if super::tar::is_zero(b) {
            return self.zeros(b.len() as u64);
        }
        self.literal.extend_from_slice(b);
        self.size += b.len() as u64;
    }

    fn zeros(&mut self, n: u64) {
        self.flush();
        self.size += n;
        if let Some(Segment::Zeros(z)) = self.segments.last_mut() {
            *z += n;
        } else {
            self.segments.push(Segment::Zeros(n));
        }
    }

    pub fn blob(&mut self, digest: &str, size: u64) {
        self.flush();
        self.size += size;
        self.segments.push(Segment::Blob {
            digest: digest.to_owned(),
            size,
        });
    }

    fn flush(&mut self) {
        if !self.literal.is_empty() {
            let lit = std::mem::take(&mut self.literal);
            self.segments.push(Segment::Bytes(B64.encode(lit)));
        }
    }

    /// The recipe as stored.
    pub fn encode(mut self) -> Vec<u8> {
        self.flush();
        let mut out = MAGIC.as_bytes().to_vec();
        // A recipe of our own types always serialises.
        out.extend(serde_json::to_vec(&self).unwrap_or_default());
        out
    }

    /// Whether stored bytes starting with `b` are a recipe.
    pub fn has_magic(b: &[u8]) -> bool {
        b.starts_with(MAGIC.as_bytes())
    }

    pub fn decode(b: &[u8]) -> Option<Recipe> {
        let json = b.strip_prefix(MAGIC.as_bytes())?;
        let r: Recipe = serde_json::from_slice(json).ok()?;
        let sum: u64 = r.segments.iter().map(Segment::len).sum();
        (sum == r.size).then_some(r)
    }

    /// The digests of the blobs it refers to.
    pub fn blobs(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Blob { digest, .. } => Some(digest.as_str()),
            _ => None,
        })
    }

    /// Bytes `start..end` of the archive, blobs read from `store` as the
    /// stream reaches them.
    pub fn read(&self, store: std::sync::Arc<dyn Store>, start: u64, end: u64) -> ByteStream {
        let mut parts: Vec<(Segment, u64, u64)> = Vec::new();
        let mut at = 0u64;
        for s in &self.segments {
            let len = s.len();
            let (a, b) = (start.max(at), end.min(at + len));
            if a < b {
                parts.push((s.clone(), a - at, b - at));
            }
            at += len;
        }
        let streams = futures::stream::iter(parts).then(move |(s, a, b)| {
            let store = store.clone();
            async move { part(store.as_ref(), s, a, b).await }
        });
        Box::pin(streams.flatten())
    }
}

async fn part(store: &dyn Store, s: Segment, a: u64, b: u64) -> ByteStream {
    let one =
        |r: Result<Bytes, std::io::Error>| -> ByteStream { Box::pin(futures::stream::iter([r])) };
    match s {
        Segment::Bytes(lit) => match B64.decode(lit) {
            Ok(v) => one(Ok(Bytes::from(v).slice(a as usize..b as usize))),
            Err(e) => one(Err(std::io::Error::other(e))),
        },
        Segment::Zeros(_) => {
            const CHUNK: u64 = 64 << 10;
            let zero = Bytes::from(vec![0u8; CHUNK as usize]);
            let n = b - a;
            let chunks = (0..n.div_ceil(CHUNK))
                .map(move |i| Ok(zero.slice(..(n - i * CHUNK).min(CHUNK) as usize)));
            Box::pin(futures::stream::iter(chunks))
        }
        Segment::Blob { digest, .. } => match store.read(&blob_key(&digest), a, b).await {
            Ok(s) => s,
            Err(StoreError::NotFound(k)) => one(Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("OCI blob {k} is missing from the store"),
            ))),
            Err(e) => one(Err(std::io::Error::other(e))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_sizes() {
        let mut r = Recipe::default();
        r.literal(b"abc");
        r.literal(b"de");
        r.literal(&[0; 600]);
        r.literal(&[0; 10]);
        r.blob("sha256:00", 7);
        r.literal(b"z");
        let size = r.size;
        let back = Recipe::decode(&r.clone().encode()).unwrap();
        assert_eq!(back.size, size);
        assert_eq!(size, 5 + 610 + 7 + 1);
        assert_eq!(back.segments.len(), 4);
        assert_eq!(back.segments[1], Segment::Zeros(610));
        assert_eq!(back.blobs().collect::<Vec<_>>(), vec!["sha256:00"]);
        assert!(Recipe::decode(b"{\"size\":0,\"segments\":[]}").is_none());
    }
}
