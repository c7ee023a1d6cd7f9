//! Image's HTTP layer: thin handlers, one module per resource.

pub mod error;
pub mod image;
pub mod image_data;
pub mod import;
pub mod location;
pub mod member;
pub mod quota;
pub mod schema;
pub mod stores;
pub mod task;
pub mod versions;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use virga_service::ServiceContext;

/// Glance's timestamps: seconds and a `Z`.
pub fn glance_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn api() -> OpenApiRouter<ServiceContext> {
    OpenApiRouter::new()
        .routes(routes!(versions::list_versions))
        .routes(routes!(versions::versions))
        .routes(routes!(image::list_images, image::create_image))
        .routes(routes!(
            image::show_image,
            image::update_image,
            image::delete_image
        ))
        .routes(routes!(image::add_tag, image::remove_tag))
        .routes(routes!(
            image_data::upload_image_data,
            image_data::download_image_data
        ))
        .routes(routes!(image_data::stage_image_data))
        .routes(routes!(
            image_data::download_signed_image_data,
            image_data::upload_signed_image_data
        ))
        .routes(routes!(image_data::create_upload_url))
        .routes(routes!(location::list_locations))
        .routes(routes!(import::import_image))
        .routes(routes!(import::import_info))
        .routes(routes!(quota::usage_info))
        .routes(routes!(stores::list_stores))
        .routes(routes!(stores::list_stores_detail))
        .routes(routes!(stores::list_image_stores))
        .routes(routes!(stores::delete_from_store))
        .routes(routes!(task::list_image_tasks))
        .routes(routes!(image::deactivate_image))
        .routes(routes!(image::reactivate_image))
        .routes(routes!(member::list_members, member::create_member))
        .routes(routes!(
            member::show_member,
            member::update_member,
            member::delete_member
        ))
        .routes(routes!(schema::image_schema))
        .routes(routes!(schema::images_schema))
        .routes(routes!(schema::member_schema))
        .routes(routes!(schema::members_schema))
}
