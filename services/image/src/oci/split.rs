//! Splitting a tar stream of an OCI image layout as it arrives: headers,
//! padding and small files (`oci-layout`, `index.json`, Docker's
//! `manifest.json` and `repositories`) go into the [`Recipe`] as literal
//! bytes; each `blobs/sha256/<hex>` file's content comes out as events for
//! the caller to store by digest. Anything else an image layout does not
//! hold (links, devices, stray files, duplicate names, a truncated or
//! padded-with-garbage archive) is refused.

use std::collections::{BTreeMap, HashSet};

use bytes::Bytes;

use super::OciError;
use super::layout::MAX_MANIFEST;
use super::recipe::Recipe;
use super::tar::{self, BLOCK, Kind};

/// Entries per archive: far beyond any image, small enough to bound the
/// recipe and the bookkeeping.
const MAX_ENTRIES: usize = 20_000;
/// Pax and GNU long-name data.
const MAX_META: u64 = 64 << 10;
const SMALL_FILES: [&str; 4] = ["oci-layout", "index.json", "manifest.json", "repositories"];

#[derive(Debug, Clone, PartialEq, Eq)]
/// What the caller does with a blob as its bytes pass.
pub enum Event {
    Start { digest: String, size: u64 },
    Data(Bytes),
    End,
}

enum State {
    Header,
    Meta {
        kind: Kind,
        left: u64,
        pad: u64,
        buf: Vec<u8>,
    },
    Small {
        name: String,
        left: u64,
        pad: u64,
        buf: Vec<u8>,
    },
    Blob {
        left: u64,
        pad: u64,
    },
    Pad {
        left: u64,
    },
    End,
}

/// What the archive held, once it ended well.
pub struct Split {
    pub recipe: Recipe,
    pub small: BTreeMap<String, Vec<u8>>,
    pub blobs: BTreeMap<String, u64>,
}

pub struct Splitter {
    state: State,
    block: Vec<u8>,
    recipe: Recipe,
    next_name: Option<String>,
    next_size: Option<u64>,
    seen: HashSet<String>,
    small: BTreeMap<String, Vec<u8>>,
    blobs: BTreeMap<String, u64>,
    zero_blocks: u8,
    entries: usize,
}

fn bad(why: impl Into<String>) -> OciError {
    OciError::Archive(why.into())
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter {
            state: State::Header,
            block: Vec::with_capacity(BLOCK),
            recipe: Recipe::default(),
            next_name: None,
            next_size: None,
            seen: HashSet::new(),
            small: BTreeMap::new(),
            blobs: BTreeMap::new(),
            zero_blocks: 0,
            entries: 0,
        }
    }
}

impl Splitter {
    pub fn feed(&mut self, chunk: &Bytes) -> Result<Vec<Event>, OciError> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < chunk.len() {
            let rest = &chunk[at..];
            let took = match &mut self.state {
                State::Header => {
                    let take = (BLOCK - self.block.len()).min(rest.len());
                    self.block.extend_from_slice(&rest[..take]);
                    if self.block.len() == BLOCK {
                        let block = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK));
                        self.header(&block, &mut out)?;
                    }
                    take
                }
                State::Meta { left, buf, .. } | State::Small { left, buf, .. } => {
                    let take = (*left).min(rest.len() as u64) as usize;
                    buf.extend_from_slice(&rest[..take]);
                    *left -= take as u64;
                    self.recipe.literal(&rest[..take]);
                    take
                }
                State::Blob { left, .. } => {
                    let take = (*left).min(rest.len() as u64) as usize;
                    out.push(Event::Data(chunk.slice(at..at + take)));
                    *left -= take as u64;
                    take
                }
                State::Pad { left } => {
                    let take = (*left).min(rest.len() as u64) as usize;
                    *left -= take as u64;
                    self.recipe.literal(&rest[..take]);
                    take
                }
                State::End => {
                    if !tar::is_zero(rest) {
                        return Err(bad("data follows the end of the archive"));
                    }
                    self.recipe.literal(rest);
                    rest.len()
                }
            };
            at += took;
            self.settle(&mut out)?;
        }
        Ok(out)
    }

    /// Closes a content state whose bytes have all arrived.
    fn settle(&mut self, out: &mut Vec<Event>) -> Result<(), OciError> {
        let pad = match &mut self.state {
            State::Meta {
                left: 0,
                kind,
                pad,
                buf,
            } => {
                let (kind, pad, buf) = (*kind, *pad, std::mem::take(buf));
                self.meta(kind, &buf)?;
                pad
            }
            State::Small {
                left: 0,
                name,
                pad,
                buf,
            } => {
                self.small.insert(std::mem::take(name), std::mem::take(buf));
                *pad
            }
            State::Blob { left: 0, pad } => {
                out.push(Event::End);
                *pad
            }
            State::Pad { left: 0 } => 0,
            _ => return Ok(()),
        };
        self.state = if pad > 0 {
            State::Pad { left: pad }
        } else {
            State::Header
        };
        Ok(())
    }

    fn meta(&mut self, kind: Kind, data: &[u8]) -> Result<(), OciError> {
        match kind {
            Kind::PaxNext => {
                for (k, v) in tar::pax_records(data)? {
                    match k.as_str() {
                        "path" => self.next_name = Some(v),
                        "size" => {
                            let n = v.parse().map_err(|_| bad("a pax size is not a number"))?;
                            self.next_size = Some(n);
                        }
                        _ => {}
                    }
                }
            }
            Kind::GnuLongName => {
                let end = data.iter().position(|b| *b == 0).unwrap_or(data.len());
                let name = std::str::from_utf8(&data[..end])
                    .map_err(|_| bad("a long name is not UTF-8"))?;
                self.next_name = Some(name.to_owned());
            }
            _ => {}
        }
        Ok(())
    }

    fn header(&mut self, block: &[u8], out: &mut Vec<Event>) -> Result<(), OciError> {
        self.recipe.literal(block);
        if tar::is_zero(block) {
            self.zero_blocks += 1;
            if self.zero_blocks == 2 {
                self.state = State::End;
            }
            return Ok(());
        }
        if self.zero_blocks > 0 {
            return Err(bad("a lone zero block sits inside the archive"));
        }
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(bad(format!(
                "the archive has more than {MAX_ENTRIES} entries"
            )));
        }
        let h = tar::parse(block)?;
        let pad = tar::padding;
        if matches!(h.kind, Kind::PaxNext | Kind::PaxGlobal | Kind::GnuLongName) {
            if h.size > MAX_META {
                return Err(bad("an extended header is too large"));
            }
            self.state = State::Meta {
                kind: h.kind,
                left: h.size,
                pad: pad(h.size),
                buf: Vec::new(),
            };
            return self.settle(out);
        }
        let name = normalize(&self.next_name.take().unwrap_or(h.name))?;
        let size = self.next_size.take().unwrap_or(h.size);
        if !self.seen.insert(name.clone()) {
            return Err(bad(format!("{name} appears twice in the archive")));
        }
        match h.kind {
            Kind::Dir if size == 0 && is_layout_dir(&name) => return Ok(()),
            Kind::Dir => {
                return Err(bad(format!(
                    "unexpected directory {name}/ in an OCI image layout"
                )));
            }
            Kind::File => {}
            _ => {
                return Err(bad(format!(
                    "{name} is not a regular file or directory; an OCI image layout holds only those"
                )));
            }
        }
        if SMALL_FILES.contains(&name.as_str()) {
            if size > MAX_MANIFEST {
                return Err(bad(format!("{name} is larger than {MAX_MANIFEST} bytes")));
            }
            self.state = State::Small {
                name,
                left: size,
                pad: pad(size),
                buf: Vec::new(),
            };
            return self.settle(out);
        }
        let digest = blob_digest(&name)?;
        self.recipe.blob(&digest, size);
        self.blobs.insert(digest.clone(), size);
        out.push(Event::Start { digest, size });
        self.state = State::Blob {
            left: size,
            pad: pad(size),
        };
        self.settle(out)
    }

    /// The recipe and contents, if the archive ended properly.
    pub fn finish(self) -> Result<Split, OciError> {
        match self.state {
            State::End => Ok(Split {
                recipe: self.recipe,
                small: self.small,
                blobs: self.blobs,
            }),
            State::Header if self.block.is_empty() => Err(bad(
                "the archive is truncated: it has no end-of-archive marker",
            )),
            _ => Err(bad("the archive is truncated: it ends inside an entry")),
        }
    }
}

fn normalize(name: &str) -> Result<String, OciError> {
    let mut p = name;
    while let Some(r) = p.strip_prefix("./") {
        p = r;
    }
    let p = p.trim_end_matches('/');
    if p == "." || p.is_empty() {
        return Ok(String::new());
    }
    if p.starts_with('/') || p.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        return Err(bad(format!(
            "entry name {name:?} is not a plain relative path"
        )));
    }
    Ok(p.to_owned())
}

fn is_layout_dir(p: &str) -> bool {
    matches!(p, "" | "blobs" | "blobs/sha256")
}

/// `blobs/sha256/<hex>` as `sha256:<hex>`.
fn blob_digest(p: &str) -> Result<String, OciError> {
    match p.strip_prefix("blobs/").and_then(|r| r.split_once('/')) {
        Some(("sha256", hex))
            if hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Ok(format!("sha256:{hex}"))
        }
        Some(("sha256", _)) => Err(bad(format!("{p} is not named by a sha256 digest"))),
        Some((alg, _)) => Err(bad(format!(
            "{p} uses the {alg} digest algorithm; Virga stores sha256 blobs only"
        ))),
        None => Err(bad(format!(
            "unexpected file {p}; an OCI image layout holds oci-layout, index.json and blobs/sha256/*"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::tar::header;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn entry(out: &mut Vec<u8>, name: &str, kind: u8, data: &[u8]) {
        out.extend(header(name, data.len() as u64, kind));
        out.extend_from_slice(data);
        out.extend(vec![0u8; tar::padding(data.len() as u64) as usize]);
    }

    fn end(out: &mut Vec<u8>) {
        out.extend(vec![0u8; 2 * BLOCK]);
    }

    /// Feeds `tar` in chunks of `step` bytes.
    fn split(tar: &[u8], step: usize) -> Result<(Split, Vec<Event>), OciError> {
        let mut s = Splitter::default();
        let mut events = Vec::new();
        for c in tar.chunks(step) {
            events.extend(s.feed(&Bytes::copy_from_slice(c))?);
        }
        Ok((s.finish()?, events))
    }

    #[test]
    fn pax_path_and_gnu_long_names_name_the_next_entry() {
        let mut t = Vec::new();
        let record = format!("path=blobs/sha256/{HEX}\n");
        let pax = format!("{} {record}", record.len() + 3);
        entry(&mut t, "PaxHeaders/x", b'x', pax.as_bytes());
        entry(&mut t, "short-name", b'0', b"");
        entry(&mut t, "././@LongLink", b'L', b"index.json\0");
        entry(&mut t, "ignored", b'0', b"{}");
        end(&mut t);
        for step in [1, 7, 512, 4096] {
            let (s, events) = split(&t, step).unwrap();
            assert_eq!(s.blobs.get(&format!("sha256:{HEX}")), Some(&0));
            assert_eq!(s.small["index.json"], b"{}");
            assert_eq!(
                events.first(),
                Some(&Event::Start {
                    digest: format!("sha256:{HEX}"),
                    size: 0
                })
            );
            assert_eq!(
                s.recipe.size,
                t.len() as u64,
                "the recipe covers every byte"
            );
        }
    }

    #[test]
    fn blob_content_comes_out_as_events() {
        let mut t = Vec::new();
        entry(&mut t, "./blobs/", b'5', b"");
        entry(&mut t, &format!("./blobs/sha256/{HEX}"), b'0', &[7u8; 1000]);
        end(&mut t);
        let (s, events) = split(&t, 300).unwrap();
        let data: usize = events
            .iter()
            .map(|e| match e {
                Event::Data(b) => b.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(data, 1000);
        assert_eq!(events.last(), Some(&Event::End));
        assert_eq!(s.recipe.blobs().count(), 1);
    }

    /// Entries (name, kind, data), whether the archive ends, the refusal.
    type Case<'a> = (Vec<(&'a str, u8, &'a [u8])>, bool, &'a str);

    #[test]
    fn refusals() {
        let blob = format!("blobs/sha256/{HEX}");
        let cases: Vec<Case> = vec![
            (
                vec![("index.json", b'0', b"{}"), ("./index.json", b'0', b"{}")],
                true,
                "appears twice",
            ),
            (vec![("etc", b'5', b"")], true, "unexpected directory"),
            (vec![("blobs/sha512/ab", b'0', b"")], true, "sha512"),
            (
                vec![("blobs/sha256/ABC", b'0', b"")],
                true,
                "not named by a sha256",
            ),
            (
                vec![("../index.json", b'0', b"")],
                true,
                "not a plain relative path",
            ),
            (vec![("oci-layout", b'2', b"")], true, "not a regular file"),
            (
                vec![(blob.as_str(), b'0', b"x")],
                false,
                "no end-of-archive marker",
            ),
        ];
        for (entries, with_end, why) in cases {
            let mut t = Vec::new();
            for (n, k, d) in entries {
                entry(&mut t, n, k, d);
            }
            if with_end {
                end(&mut t);
            }
            let err = split(&t, 100)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(why), "{why}: {err}");
        }
        let mut lone = Vec::new();
        lone.extend(vec![0u8; BLOCK]);
        entry(&mut lone, "index.json", b'0', b"{}");
        let err = split(&lone, 512).err().unwrap().to_string();
        assert!(err.contains("lone zero block"), "{err}");
    }
}
