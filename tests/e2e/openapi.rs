//! The committed OpenAPI documents match the code, and each service serves
//! exactly its document at `/docs/openapi.json`.

use virga_tests::{Backend, Cloud};

#[test]
fn committed_documents_match_the_code() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi");
    let drifted = virga::openapi::drifted(&dir);
    assert!(
        drifted.is_empty(),
        "openapi/{{{}}}.json differ from the code: run `cargo xtask openapi generate` and commit",
        drifted.join(",")
    );
}

#[tokio::test]
async fn each_service_serves_its_document() {
    let cloud = Cloud::start(Backend::Embedded).await;
    for (name, doc) in virga::openapi_documents() {
        let served: serde_json::Value =
            reqwest::get(format!("{}/docs/openapi.json", cloud.url(name)))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        assert_eq!(served, serde_json::to_value(&doc).unwrap(), "{name}");
    }
    cloud.stop().await;
}
