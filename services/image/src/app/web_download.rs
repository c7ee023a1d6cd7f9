//! `web-download`: fetching an image from an http(s) URL the caller names,
//! without letting the URL reach the cloud's insides (scheme, port and host
//! rules; every resolved address, and every redirect hop, checked; the
//! connection pinned to the checked address so DNS cannot change its mind),
//! and resuming by `Range` when a transfer breaks.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::{StatusCode, Url, header};
use virga_common::config::WebDownloadConfig;

use crate::store::ByteStream;

const MAX_REDIRECTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("The URL is refused: {0}.")]
    Refused(String),
    #[error("Fetching {url} failed.")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("Fetching {url} answered {status}.")]
    Status { url: String, status: u16 },
    #[error("Resolving {0} failed.")]
    Resolve(String, #[source] std::io::Error),
}

/// Checks what can be checked without the network: syntax, scheme, port,
/// host name. Done when the import is asked for, so a bad URL is a 400.
pub fn check_url(cfg: &WebDownloadConfig, uri: &str) -> Result<Url, FetchError> {
    let url = Url::parse(uri).map_err(|e| FetchError::Refused(format!("not a URL ({e})")))?;
    if !cfg.allowed_schemes.iter().any(|s| s == url.scheme()) {
        return Err(FetchError::Refused(format!(
            "scheme {:?} is not allowed",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::Refused(
            "credentials in URLs are not allowed".into(),
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| FetchError::Refused("no host".into()))?;
    let port = url.port_or_known_default().unwrap_or(0);
    if !cfg.allowed_ports.is_empty() && !cfg.allowed_ports.contains(&port) {
        return Err(FetchError::Refused(format!("port {port} is not allowed")));
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if cfg
        .disallowed_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(bare))
    {
        return Err(FetchError::Refused(format!("host {bare} is not allowed")));
    }
    if let Ok(ip) = bare.parse::<IpAddr>() {
        check_addr(cfg, ip)?;
    }
    Ok(url)
}

fn check_addr(cfg: &WebDownloadConfig, ip: IpAddr) -> Result<(), FetchError> {
    if cfg.allow_private_addresses || is_global(ip) {
        Ok(())
    } else {
        Err(FetchError::Refused(format!(
            "address {ip} is not a public address"
        )))
    }
}

/// Whether `ip` is an ordinary Internet address: not loopback, private,
/// link-local (cloud metadata lives there), shared, reserved, multicast or
/// documentation space; IPv4 inside IPv6 is judged as IPv4.
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || (a == 192 && b == 0 && c == 0))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_global(IpAddr::V4(v4));
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let o = v6.octets();
                return is_global(IpAddr::from([o[12], o[13], o[14], o[15]]));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || s[0..6] == [0, 0, 0, 0, 0, 0])
        }
    }
}

/// A client that can only reach `url`'s host at addresses that passed.
async fn pinned_client(cfg: &WebDownloadConfig, url: &Url) -> Result<reqwest::Client, FetchError> {
    let host = url.host_str().unwrap_or_default().to_owned();
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(0);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare.as_str(), port))
        .await
        .map_err(|e| FetchError::Resolve(bare.clone(), e))?
        .collect();
    if addrs.is_empty() {
        return Err(FetchError::Resolve(
            bare,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no addresses"),
        ));
    }
    for a in &addrs {
        check_addr(cfg, a.ip())?;
    }
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve_to_addrs(&bare, &addrs)
        .no_proxy()
        .connect_timeout(Duration::from_secs(cfg.read_timeout_secs))
        .read_timeout(Duration::from_secs(cfg.read_timeout_secs))
        .build()
        .map_err(|source| FetchError::Http {
            url: url.to_string(),
            source,
        })
}

/// One GET from `offset`, following redirects that pass the checks.
async fn get_from(
    cfg: &WebDownloadConfig,
    start: &Url,
    offset: u64,
) -> Result<reqwest::Response, FetchError> {
    let mut url = start.clone();
    for _ in 0..=MAX_REDIRECTS {
        let client = pinned_client(cfg, &url).await?;
        let mut req = client.get(url.clone());
        if offset > 0 {
            req = req.header(header::RANGE, format!("bytes={offset}-"));
        }
        let resp = req.send().await.map_err(|source| FetchError::Http {
            url: url.to_string(),
            source,
        })?;
        if resp.status().is_redirection() {
            let next = resp
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .ok_or_else(|| {
                    FetchError::Refused("a redirect without a usable Location".into())
                })?;
            url = check_url(cfg, next.as_str())?;
            continue;
        }
        let expected = if offset > 0 {
            StatusCode::PARTIAL_CONTENT
        } else {
            StatusCode::OK
        };
        if resp.status() != expected {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: resp.status().as_u16(),
            });
        }
        return Ok(resp);
    }
    Err(FetchError::Refused(format!(
        "more than {MAX_REDIRECTS} redirects"
    )))
}

/// The body at `url` as one stream: a transfer that breaks is resumed with
/// `Range` from the last byte received, up to `attempts` tries in all with
/// exponential backoff. Whether the bytes are right is the ingest's
/// business (size, hashes, format).
pub async fn open(cfg: WebDownloadConfig, url: Url) -> Result<ByteStream, FetchError> {
    let mut tries = 1u32;
    let first = loop {
        match get_from(&cfg, &url, 0).await {
            Ok(r) => break r,
            Err(e @ (FetchError::Refused(_) | FetchError::Status { .. })) => return Err(e),
            Err(e) if tries >= cfg.attempts => return Err(e),
            Err(e) => {
                tracing::info!(url = %url, error = %virga_common::error::chain(&e), "web-download retrying");
                backoff(tries).await;
                tries += 1;
            }
        }
    };
    struct State {
        cfg: WebDownloadConfig,
        url: Url,
        offset: u64,
        tries: u32,
        body: Option<futures::stream::BoxStream<'static, reqwest::Result<Bytes>>>,
    }
    let state = State {
        cfg,
        url,
        offset: 0,
        tries,
        body: Some(first.bytes_stream().boxed()),
    };
    let stream = futures::stream::try_unfold(state, |mut s| async move {
        loop {
            let body = match s.body.as_mut() {
                Some(b) => b,
                None => {
                    backoff(s.tries).await;
                    s.tries += 1;
                    match get_from(&s.cfg, &s.url, s.offset).await {
                        Ok(r) => s.body.insert(r.bytes_stream().boxed()),
                        Err(e) if s.tries >= s.cfg.attempts => {
                            return Err(std::io::Error::other(e));
                        }
                        Err(_) => continue,
                    }
                }
            };
            match body.next().await {
                None => return Ok(None),
                Some(Ok(chunk)) => {
                    s.offset += chunk.len() as u64;
                    return Ok(Some((chunk, s)));
                }
                Some(Err(e)) if s.tries >= s.cfg.attempts => {
                    return Err(std::io::Error::other(e));
                }
                Some(Err(e)) => {
                    tracing::info!(url = %s.url, offset = s.offset, error = %e, "web-download resuming");
                    s.body = None;
                }
            }
        }
    });
    Ok(Box::pin(stream))
}

async fn backoff(tries: u32) {
    let ms = 250u64 << tries.min(6);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_global_addresses_are_global() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
            "::127.0.0.1",
        ] {
            assert!(!is_global(a.parse().unwrap()), "{a}");
        }
        for a in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_global(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn urls_are_checked_before_any_connection() {
        let cfg = WebDownloadConfig::default();
        assert!(check_url(&cfg, "https://images.example/a.qcow2").is_ok());
        for bad in [
            "ftp://images.example/a",
            "file:///etc/passwd",
            "http://images.example:8080/a",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/a",
            "http://user:pw@images.example/a",
            "not a url",
        ] {
            assert!(check_url(&cfg, bad).is_err(), "{bad}");
        }
        let cfg = WebDownloadConfig {
            disallowed_hosts: vec!["evil.example".into()],
            ..WebDownloadConfig::default()
        };
        assert!(check_url(&cfg, "http://EVIL.example/a").is_err());
    }
}
