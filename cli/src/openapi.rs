//! Writing and checking the committed `openapi/<service>.json` documents.

use std::path::Path;

/// The document as committed: pretty JSON with a final newline.
pub fn render(doc: &utoipa::openapi::OpenApi) -> String {
    let mut text = doc.to_pretty_json().expect("OpenAPI documents serialize");
    text.push('\n');
    text
}

/// Writes every service's document into `dir`.
pub fn generate(dir: &Path) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, doc) in crate::openapi_documents() {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, render(&doc))?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

/// The services whose committed document differs from the code (or is missing).
pub fn drifted(dir: &Path) -> Vec<String> {
    crate::openapi_documents()
        .into_iter()
        .filter(|(name, doc)| {
            let committed =
                std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap_or_default();
            committed != render(doc)
        })
        .map(|(name, _)| name.to_string())
        .collect()
}
