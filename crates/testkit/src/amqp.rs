//! Owns a minimal blocking AMQP 0-9-1 handshake, used to decide that a node
//! really serves clients: an open port alone is reached before boot finishes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const FRAME_METHOD: u8 = 1;
const FRAME_END: u8 = 0xCE;

/// Connects as guest/guest, opens `vhost`, and closes cleanly.
pub(crate) fn handshake(port: u16, vhost: &str) -> Result<(), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let timeout = Duration::from_secs(5);
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.write_all(b"AMQP\x00\x00\x09\x01")
        .map_err(|e| e.to_string())?;

    expect(&mut s, (10, 10), "connection.start")?;
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
    Ok(())
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
