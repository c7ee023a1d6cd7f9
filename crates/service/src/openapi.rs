//! The OpenAPI document of a service: its own endpoints plus the runtime's
//! common ones, so the committed `openapi/<service>.json` lists every endpoint
//! the service answers.

use utoipa::openapi::{InfoBuilder, LicenseBuilder, OpenApi};

use crate::{Service, http};

pub fn openapi<S: Service>() -> OpenApi {
    let mut doc = S::api().into_openapi();
    doc.merge(http::common_api().into_openapi());
    doc.info = InfoBuilder::new()
        .title(S::TITLE)
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(format!(
            "The `{}` service of Virga, an edge-cloud IaaS. Generated from the code; do not edit.",
            S::NAME
        )))
        .license(Some(LicenseBuilder::new().name("Apache-2.0").build()))
        .build();
    doc
}
