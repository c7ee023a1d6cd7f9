//! The `{"rel", "href"}` link objects every OpenStack API uses in version
//! documents, resources and pagination.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Link {
    pub rel: String,
    pub href: String,
    /// The media type of the target, where OpenStack gives one (e.g. `text/html`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

impl Link {
    pub fn new(rel: &str, href: impl Into<String>) -> Self {
        Link {
            rel: rel.into(),
            href: href.into(),
            media_type: None,
        }
    }

    pub fn self_link(href: impl Into<String>) -> Self {
        Self::new("self", href)
    }
}

/// An entry of a version document's `media-types` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MediaType {
    pub base: String,
    #[serde(rename = "type")]
    pub media_type: String,
}

impl MediaType {
    pub fn json(media_type: &str) -> Self {
        MediaType {
            base: "application/json".into(),
            media_type: media_type.into(),
        }
    }
}
