//! `/v2/schemas/*`: the JSON schemas Glance publishes. openstacksdk never
//! reads them, but python-glanceclient validates every image and member it
//! receives against them, so they describe exactly what Virga sends
//! (`services/image/schemas/*.json`).

use axum::Json;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::auth::Auth;

fn image() -> Result<Value, Error> {
    serde_json::from_str(include_str!("../../schemas/image.json")).map_err(Error::internal)
}

fn member() -> Result<Value, Error> {
    serde_json::from_str(include_str!("../../schemas/member.json")).map_err(Error::internal)
}

/// The schema of an image.
#[utoipa::path(get, path = "/v2/schemas/image", tag = "schemas", security(("token" = [])),
    responses((status = 200, description = "JSON schema", body = Object)))]
pub async fn image_schema(_auth: Auth) -> Result<Json<Value>, Error> {
    Ok(Json(image()?))
}

/// The schema of an image list.
#[utoipa::path(get, path = "/v2/schemas/images", tag = "schemas", security(("token" = [])),
    responses((status = 200, description = "JSON schema", body = Object)))]
pub async fn images_schema(_auth: Auth) -> Result<Json<Value>, Error> {
    Ok(Json(json!({
        "name": "images",
        "properties": {
            "images": {"type": "array", "items": image()?},
            "first": {"type": "string"}, "next": {"type": "string"}, "schema": {"type": "string"}
        },
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}]
    })))
}

/// The schema of an image member.
#[utoipa::path(get, path = "/v2/schemas/member", tag = "schemas", security(("token" = [])),
    responses((status = 200, description = "JSON schema", body = Object)))]
pub async fn member_schema(_auth: Auth) -> Result<Json<Value>, Error> {
    Ok(Json(member()?))
}

/// The schema of an image member list.
#[utoipa::path(get, path = "/v2/schemas/members", tag = "schemas", security(("token" = [])),
    responses((status = 200, description = "JSON schema", body = Object)))]
pub async fn members_schema(_auth: Auth) -> Result<Json<Value>, Error> {
    Ok(Json(json!({
        "name": "members",
        "properties": {"members": {"type": "array", "items": member()?}, "schema": {"type": "string"}},
        "links": [{"rel": "describedby", "href": "{schema}"}]
    })))
}

#[cfg(test)]
mod tests {
    use super::image;
    use crate::http::image::body::{CONTAINER_FORMATS, DISK_FORMATS};

    /// Clients validate against the schema: it must allow what we take.
    #[test]
    fn schema_formats_are_the_accepted_ones() {
        let s = image().unwrap();
        for (field, accepted) in [
            ("container_format", &CONTAINER_FORMATS[..]),
            ("disk_format", &DISK_FORMATS[..]),
        ] {
            let listed: Vec<&str> = s["properties"][field]["enum"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v.as_str())
                .collect();
            assert_eq!(listed, accepted, "{field}");
        }
    }
}
