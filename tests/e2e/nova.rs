//! Calling the compute API in tests: a caller with one token, Nova's
//! fault messages, and the usual cast (an admin, two project members).

use reqwest::Method;
use serde_json::Value;
use virga_tests::Cloud;

/// A caller of the compute API with one token.
pub(crate) struct Nova<'a> {
    pub cloud: &'a Cloud,
    pub token: String,
}

impl Nova<'_> {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}{path}", self.cloud.url("compute")))
            .header("X-Auth-Token", &self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let (s, _, v) = self.call(Method::GET, path, None, &[]).await;
        (s, v)
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let (s, _, v) = self.call(Method::POST, path, Some(body), &[]).await;
        (s, v)
    }
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let (s, _, v) = self.call(Method::PUT, path, Some(body), &[]).await;
        (s, v)
    }
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let (s, _, v) = self.call(Method::DELETE, path, None, &[]).await;
        (s, v)
    }
    /// A call at compute microversion `version`.
    pub async fn at(
        &self,
        version: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let header = format!("compute {version}");
        let (s, _, v) = self
            .call(method, path, body, &[("OpenStack-API-Version", &header)])
            .await;
        (s, v)
    }
}

/// The message of a Nova fault body (`{"<fault>": {"code", "message"}}`).
pub(crate) fn message(v: &Value) -> String {
    v.as_object()
        .and_then(|o| o.values().next())
        .and_then(|f| f["message"].as_str())
        .unwrap_or_default()
        .to_owned()
}

pub(crate) async fn callers(cloud: &Cloud) -> (Nova<'_>, Nova<'_>, String, Nova<'_>) {
    let admin_token = cloud.admin_token().await;
    let (alpha, alpha_project) = cloud.user_with_role(&admin_token, "alpha", "member").await;
    let (beta, _) = cloud.user_with_role(&admin_token, "beta", "member").await;
    (
        Nova {
            cloud,
            token: admin_token,
        },
        Nova {
            cloud,
            token: alpha,
        },
        alpha_project,
        Nova { cloud, token: beta },
    )
}
