//! Image's logic, one module per resource.

pub mod image;
pub mod image_data;
pub mod image_patch;
pub mod ingest;
pub mod member;
pub mod versions;
