//! Image's logic, one module per resource.

pub mod copy;
pub mod digests;
pub mod image;
pub mod image_data;
pub mod image_patch;
pub mod import;
pub mod import_task;
pub mod ingest;
pub mod location;
pub mod member;
pub mod oci_blobs;
pub mod quota;
pub mod stage;
pub mod stores;
pub mod task;
pub mod versions;
pub mod web_download;
