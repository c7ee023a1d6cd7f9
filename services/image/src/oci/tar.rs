//! Tar headers, read as the OCI splitter needs them: the name, size and
//! kind of an entry (ustar, GNU and pax), with the checksum verified. The
//! header bytes themselves are kept by the caller, so an archive can be
//! rebuilt byte for byte.

use super::OciError;

pub const BLOCK: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// A pax extended header for the next entry.
    PaxNext,
    /// A pax global header.
    PaxGlobal,
    /// GNU's long name for the next entry.
    GnuLongName,
    /// Links, devices, FIFOs, sparse files and anything else.
    Other(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub size: u64,
    pub kind: Kind,
}

pub fn is_zero(block: &[u8]) -> bool {
    block.iter().all(|b| *b == 0)
}

fn malformed(why: impl Into<String>) -> OciError {
    OciError::Archive(why.into())
}

/// A NUL-terminated field.
fn text(field: &[u8]) -> Result<String, OciError> {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    String::from_utf8(field[..end].to_vec()).map_err(|_| malformed("an entry name is not UTF-8"))
}

/// An octal number, or GNU's base-256 for large values.
fn number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for b in &field[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(*b))?;
        }
        return Some(v);
    }
    let s: Vec<u8> = field
        .iter()
        .copied()
        .take_while(|b| *b != 0)
        .filter(|b| *b != b' ')
        .collect();
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(std::str::from_utf8(&s).ok()?, 8).ok()
}

/// Reads one header block.
pub fn parse(block: &[u8]) -> Result<Header, OciError> {
    debug_assert_eq!(block.len(), BLOCK);
    let want =
        number(&block[148..156]).ok_or_else(|| malformed("a header checksum is unreadable"))?;
    let sum: u64 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(*b)
            }
        })
        .sum();
    if sum != want {
        return Err(malformed(
            "a header checksum does not match (not a tar archive, or corrupt)",
        ));
    }
    let mut name = text(&block[..100])?;
    if &block[257..263] == b"ustar\0" {
        let prefix = text(&block[345..500])?;
        if !prefix.is_empty() {
            name = format!("{prefix}/{name}");
        }
    }
    let size = number(&block[124..136]).ok_or_else(|| malformed("an entry size is unreadable"))?;
    let kind = match block[156] {
        b'0' | 0 | b'7' => Kind::File,
        b'5' => Kind::Dir,
        b'x' => Kind::PaxNext,
        b'g' => Kind::PaxGlobal,
        b'L' => Kind::GnuLongName,
        other => Kind::Other(other),
    };
    Ok(Header { name, size, kind })
}

/// The records of pax extended header data: `"<len> <key>=<value>\n"`.
pub fn pax_records(mut data: &[u8]) -> Result<Vec<(String, String)>, OciError> {
    let bad = || malformed("a pax extended header is malformed");
    let mut out = Vec::new();
    while !data.is_empty() && data[0] != 0 {
        let space = data.iter().position(|b| *b == b' ').ok_or_else(bad)?;
        let len: usize = std::str::from_utf8(&data[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
            return Err(bad());
        }
        let record = std::str::from_utf8(&data[space + 1..len - 1]).map_err(|_| bad())?;
        let (k, v) = record.split_once('=').ok_or_else(bad)?;
        out.push((k.to_owned(), v.to_owned()));
        data = &data[len..];
    }
    Ok(out)
}

/// The padding after `size` bytes of entry data.
pub fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// A ustar header block, for tests that build archives by hand.
#[cfg(test)]
pub fn header(name: &str, size: u64, kind: u8) -> Vec<u8> {
    let mut b = vec![0u8; BLOCK];
    b[..name.len()].copy_from_slice(name.as_bytes());
    b[100..107].copy_from_slice(b"0000644");
    b[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    b[156] = kind;
    b[257..263].copy_from_slice(b"ustar\0");
    b[148..156].copy_from_slice(b"        ");
    let sum: u64 = b.iter().map(|x| u64::from(*x)).sum();
    b[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_ustar_header() {
        let h = parse(&header("./index.json", 261, b'0')).unwrap();
        assert_eq!(
            h,
            Header {
                name: "./index.json".into(),
                size: 261,
                kind: Kind::File
            }
        );
    }

    #[test]
    fn refuses_a_bad_checksum() {
        let mut b = header("oci-layout", 30, b'0');
        b[0] = b'x';
        assert!(parse(&b).is_err());
    }

    #[test]
    fn base256_and_octal_sizes() {
        assert_eq!(number(b"00000001750\0"), Some(1000));
        assert_eq!(
            number(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]),
            Some(65536)
        );
        assert_eq!(number(b"   \0"), Some(0));
        assert_eq!(number(b"9\0"), None);
    }

    #[test]
    fn pax_records_parse() {
        let r = pax_records(b"30 path=blobs/sha256/abcdefgh\n11 size=99\n").unwrap();
        assert_eq!(r[0], ("path".into(), "blobs/sha256/abcdefgh".into()));
        assert_eq!(r[1], ("size".into(), "99".into()));
        assert!(pax_records(b"99 path=x\n").is_err());
        assert!(pax_records(b"7 pathx").is_err());
    }

    #[test]
    fn padding_to_blocks() {
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
    }
}
