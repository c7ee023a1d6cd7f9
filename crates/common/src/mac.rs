//! MAC addresses: reading `aa:bb:cc:dd:ee:ff`, and the modified EUI-64
//! interface identifier a MAC gives IPv6 addresses (SLAAC, link-local;
//! RFC 4291 appendix A).

/// Six bytes from colon-separated hex, or `None`.
pub fn parse(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut out {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// The low 64 bits of the IPv6 address the MAC gives on a /64.
pub fn eui64_interface_id(mac: [u8; 6]) -> u64 {
    u64::from_be_bytes([
        mac[0] ^ 0x02,
        mac[1],
        mac[2],
        0xff,
        0xfe,
        mac[3],
        mac[4],
        mac[5],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_makes_the_interface_id() {
        let m = parse("fa:16:3e:12:34:56").unwrap();
        assert_eq!(eui64_interface_id(m), 0xf816_3eff_fe12_3456);
        assert_eq!(parse("fa:16:3e:12:34"), None);
        assert_eq!(parse("fa:16:3e:12:34:56:78"), None);
        assert_eq!(parse("fa:16:3e:12:34:zz"), None);
    }
}
