//! The page that ends a browser login: a form posting the token to the
//! dashboard, submitted by a script (or by hand without JavaScript).
//! Keystone's sso_callback_template, with a content security policy that
//! lets only that one script run.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

const SCRIPT: &str = "document.forms['sso'].submit();";

pub fn post_token(origin: &str, token: &str) -> Response {
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
  <head><meta charset="utf-8"><title>Virga sign-in</title></head>
  <body>
    <form id="sso" name="sso" action="{origin}" method="post">
      Please wait...
      <input type="hidden" name="token" id="token" value="{token}">
      <noscript><input type="submit" value="Continue"></noscript>
    </form>
    <script>{SCRIPT}</script>
  </body>
</html>
"#,
        origin = escape(origin),
        token = escape(token),
    );
    let script_hash = STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()));
    let csp = format!("default-src 'none'; script-src 'sha256-{script_hash}'");
    let mut resp = (StatusCode::OK, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}
