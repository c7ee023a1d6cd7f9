//! Owns a minimal blocking AMQP 0-9-1 handshake, used to decide that a node
//! really serves clients (an open port alone is reached before boot
//! finishes) and whose node it is (the cluster name in connection.start).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const FRAME_METHOD: u8 = 1;
const FRAME_END: u8 = 0xCE;

/// Connects as guest/guest, opens `vhost`, closes cleanly, and returns the
/// server's `cluster_name` property (empty if it sent none).
pub(crate) fn handshake(port: u16, vhost: &str) -> Result<String, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let timeout = Duration::from_secs(5);
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.write_all(b"AMQP\x00\x00\x09\x01")
        .map_err(|e| e.to_string())?;

    let start = expect(&mut s, (10, 10), "connection.start")?;
    let cluster_name = cluster_name(&start)?;
    let mut start_ok = method(10, 11);
    start_ok.extend_from_slice(&0u32.to_be_bytes()); // empty client-properties
    shortstr(&mut start_ok, "PLAIN");
    longstr(&mut start_ok, b"\0guest\0guest");
    shortstr(&mut start_ok, "en_US");
    send(&mut s, &start_ok)?;

    let tune = expect(&mut s, (10, 30), "connection.tune")?;
    let mut tune_ok = method(10, 31);
    tune_ok.extend_from_slice(tune.get(..6).ok_or("short connection.tune")?);
    tune_ok.extend_from_slice(&0u16.to_be_bytes()); // no heartbeats
    send(&mut s, &tune_ok)?;

    let mut open = method(10, 40);
    shortstr(&mut open, vhost);
    shortstr(&mut open, "");
    open.push(0);
    send(&mut s, &open)?;
    expect(&mut s, (10, 41), "connection.open-ok")?;

    let mut close = method(10, 50);
    close.extend_from_slice(&200u16.to_be_bytes());
    shortstr(&mut close, "probe done");
    close.extend_from_slice(&[0, 0, 0, 0]);
    send(&mut s, &close)?;
    // Waiting for close-ok keeps the broker from logging an abrupt disconnect.
    let _ = expect(&mut s, (10, 51), "connection.close-ok");
    Ok(cluster_name)
}

/// Finds `cluster_name` among connection.start's server-properties, which
/// follow the two version octets as a field table.
fn cluster_name(start: &[u8]) -> Result<String, String> {
    let bad = || String::from("malformed connection.start");
    let len = start.get(2..6).ok_or_else(bad)?;
    let len = u32::from_be_bytes(len.try_into().map_err(|_| bad())?) as usize;
    let mut table = start.get(6..6 + len).ok_or_else(bad)?;
    while let Some((&key_len, rest)) = table.split_first() {
        let key = rest.get(..usize::from(key_len)).ok_or_else(bad)?;
        let (&kind, rest) = rest[key.len()..].split_first().ok_or_else(bad)?;
        // Only the length of each value matters here, to skip past it.
        let size = match kind {
            b'S' | b'F' | b'A' | b'x' => {
                let n = rest.get(..4).ok_or_else(bad)?;
                4 + u32::from_be_bytes(n.try_into().map_err(|_| bad())?) as usize
            }
            b't' | b'b' | b'B' => 1,
            b's' | b'u' => 2,
            b'I' | b'i' | b'f' => 4,
            b'D' => 5,
            b'l' | b'L' | b'd' | b'T' => 8,
            b'V' => 0,
            other => return Err(format!("unknown field type {:?}", char::from(other))),
        };
        let value = rest.get(..size).ok_or_else(bad)?;
        if key == b"cluster_name" && kind == b'S' {
            return Ok(String::from_utf8_lossy(&value[4..]).into_owned());
        }
        table = &rest[size..];
    }
    Ok(String::new())
}

fn method(class: u16, method: u16) -> Vec<u8> {
    [class.to_be_bytes(), method.to_be_bytes()].concat()
}

fn shortstr(buf: &mut Vec<u8>, s: &str) {
    buf.push(u8::try_from(s.len()).expect("shortstr too long"));
    buf.extend_from_slice(s.as_bytes());
}

fn longstr(buf: &mut Vec<u8>, s: &[u8]) {
    buf.extend_from_slice(&u32::try_from(s.len()).expect("longstr").to_be_bytes());
    buf.extend_from_slice(s);
}

fn send(s: &mut TcpStream, payload: &[u8]) -> Result<(), String> {
    let mut frame = vec![FRAME_METHOD, 0, 0];
    frame.extend_from_slice(&u32::try_from(payload.len()).expect("frame").to_be_bytes());
    frame.extend_from_slice(payload);
    frame.push(FRAME_END);
    s.write_all(&frame).map_err(|e| e.to_string())
}

/// Reads method frames until one arrives; returns its arguments if it is
/// `want`, or the broker's reason if it is connection.close.
fn expect(s: &mut TcpStream, want: (u16, u16), name: &str) -> Result<Vec<u8>, String> {
    loop {
        let mut header = [0u8; 7];
        s.read_exact(&mut header)
            .map_err(|e| format!("reading {name}: {e}"))?;
        let size = u32::from_be_bytes([header[3], header[4], header[5], header[6]]) as usize;
        let mut body = vec![0u8; size + 1];
        s.read_exact(&mut body)
            .map_err(|e| format!("reading {name}: {e}"))?;
        if header[0] != FRAME_METHOD || size < 4 {
            continue; // heartbeats and the like
        }
        let class = u16::from_be_bytes([body[0], body[1]]);
        let id = u16::from_be_bytes([body[2], body[3]]);
        if (class, id) == want {
            return Ok(body[4..size].to_vec());
        }
        if (class, id) == (10, 50) && size >= 7 {
            let text_len = usize::from(body[6]);
            let text = String::from_utf8_lossy(body.get(7..7 + text_len).unwrap_or_default());
            let code = u16::from_be_bytes([body[4], body[5]]);
            return Err(format!("broker closed the connection: {code} {text}"));
        }
        return Err(format!("expected {name}, got method {class}.{id}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_name_is_found_after_a_nested_table() {
        let mut table = Vec::new();
        shortstr(&mut table, "capabilities");
        table.push(b'F');
        let mut caps = Vec::new();
        shortstr(&mut caps, "publisher_confirms");
        caps.extend_from_slice(b"t\x01");
        longstr(&mut table, &caps);
        shortstr(&mut table, "cluster_name");
        table.push(b'S');
        longstr(&mut table, b"virga1@localhost");
        let mut start = vec![0, 9];
        longstr(&mut start, &table);
        longstr(&mut start, b"PLAIN");
        assert_eq!(cluster_name(&start).unwrap(), "virga1@localhost");
        assert_eq!(cluster_name(&[0, 9, 0, 0, 0, 0]).unwrap(), "");
    }
}
