//! What the store-function tests share: an image row to start from.

use virga_image::db::image::Model;

/// A queued, shared raw/bare image of project `p`.
pub fn model(id: &str) -> Model {
    let at = virga_image::db::now();
    Model {
        id: id.into(),
        name: Some("n".into()),
        status: "queued".into(),
        visibility: "shared".into(),
        protected: false,
        os_hidden: false,
        owner: Some("p".into()),
        disk_format: Some("raw".into()),
        container_format: Some("bare".into()),
        size: None,
        virtual_size: None,
        checksum: None,
        os_hash_algo: None,
        os_hash_value: None,
        min_disk: 0,
        min_ram: 0,
        created_at: at,
        updated_at: at,
    }
}
