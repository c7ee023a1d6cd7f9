//! Images: Glance's metadata row, with its tags and extra properties in
//! their own tables (`tag`, `property` below).

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::Expr;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel, QueryOrder};

use super::{internal, now, store_err};

pub const KIND: &str = "image";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "image")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: Option<String>,
    pub status: String,
    pub visibility: String,
    pub protected: bool,
    pub os_hidden: bool,
    pub owner: Option<String>,
    pub disk_format: Option<String>,
    pub container_format: Option<String>,
    pub size: Option<i64>,
    pub virtual_size: Option<i64>,
    pub checksum: Option<String>,
    pub os_hash_algo: Option<String>,
    pub os_hash_value: Option<String>,
    pub min_disk: i32,
    pub min_ram: i32,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The `image_tag` table.
pub mod tag {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "image_tag")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub image_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub value: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `image_property` table: an image's extra (non-core) properties.
pub mod property {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "image_property")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub image_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub value: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `image_member` table: projects a shared image is offered to.
pub mod member {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "image_member")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub image_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub member: String,
        pub status: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Whether `project` is a member of the image, with any status.
pub async fn is_member(db: &impl ConnectionTrait, id: &str, project: &str) -> Result<bool, Error> {
    Ok(
        member::Entity::find_by_id((id.to_string(), project.to_string()))
            .one(db)
            .await
            .map_err(internal)?
            .is_some(),
    )
}

pub async fn create(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    m.into_active_model()
        .insert(db)
        .await
        .map_err(store_err(KIND))
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(id.to_string())
        .one(db)
        .await
        .map_err(internal)
}

/// Writes the fields a caller may change (never the status, size or
/// hashes, which uploads set concurrently through their own conditional
/// updates) and stamps `updated_at`; the row comes back as stored.
pub async fn save(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    // Fields left `Unchanged` are not written.
    let mut am = m.clone().into_active_model();
    am.name = Set(m.name);
    am.visibility = Set(m.visibility);
    am.protected = Set(m.protected);
    am.os_hidden = Set(m.os_hidden);
    am.owner = Set(m.owner);
    am.disk_format = Set(m.disk_format);
    am.container_format = Set(m.container_format);
    am.min_disk = Set(m.min_disk);
    am.min_ram = Set(m.min_ram);
    am.updated_at = Set(now());
    am.update(db).await.map_err(store_err(KIND))
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    Entity::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

pub async fn tags(db: &impl ConnectionTrait, id: &str) -> Result<Vec<String>, Error> {
    let rows = tag::Entity::find()
        .filter(tag::Column::ImageId.eq(id))
        .order_by_asc(tag::Column::Value)
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().map(|t| t.value).collect())
}

pub async fn set_tags(db: &impl ConnectionTrait, id: &str, tags: &[String]) -> Result<(), Error> {
    tag::Entity::delete_many()
        .filter(tag::Column::ImageId.eq(id))
        .exec(db)
        .await
        .map_err(internal)?;
    let mut unique: Vec<&String> = tags.iter().collect();
    unique.sort();
    unique.dedup();
    if unique.is_empty() {
        return Ok(());
    }
    let rows = unique.into_iter().map(|t| tag::ActiveModel {
        image_id: Set(id.to_string()),
        value: Set(t.clone()),
    });
    tag::Entity::insert_many(rows)
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

pub async fn properties(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<std::collections::BTreeMap<String, String>, Error> {
    let rows = property::Entity::find()
        .filter(property::Column::ImageId.eq(id))
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().map(|p| (p.name, p.value)).collect())
}

pub async fn set_properties(
    db: &impl ConnectionTrait,
    id: &str,
    props: &std::collections::BTreeMap<String, String>,
) -> Result<(), Error> {
    // `os_glance_*` properties are the service's own (import state),
    // written by workers concurrently with a caller's PATCH: never touched.
    property::Entity::delete_many()
        .filter(property::Column::ImageId.eq(id))
        .filter(property::Column::Name.not_like(format!("{INTERNAL_PREFIX}%")))
        .exec(db)
        .await
        .map_err(internal)?;
    let rows: Vec<property::ActiveModel> = props
        .iter()
        .filter(|(k, _)| !k.starts_with(INTERNAL_PREFIX))
        .map(|(k, v)| property::ActiveModel {
            image_id: Set(id.to_string()),
            name: Set(k.clone()),
            value: Set(v.clone()),
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    property::Entity::insert_many(rows)
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Properties named so are the service's, not the caller's.
pub const INTERNAL_PREFIX: &str = "os_glance";

/// Sets (Some) or removes (None) one of the service's own properties.
pub async fn set_internal(
    db: &impl ConnectionTrait,
    id: &str,
    name: &str,
    value: Option<&str>,
) -> Result<(), Error> {
    debug_assert!(name.starts_with(INTERNAL_PREFIX));
    property::Entity::delete_many()
        .filter(property::Column::ImageId.eq(id))
        .filter(property::Column::Name.eq(name))
        .exec(db)
        .await
        .map_err(internal)?;
    if let Some(v) = value {
        let row = property::ActiveModel {
            image_id: Set(id.to_string()),
            name: Set(name.to_string()),
            value: Set(v.to_string()),
        };
        // The image may be gone (deleted mid-import): nothing to record.
        if let Err(e) = property::Entity::insert(row).exec(db).await
            && find(db, id).await?.is_some()
        {
            return Err(internal(e));
        }
    }
    Ok(())
}

/// The tags of each of `ids`.
pub async fn tags_of(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<std::collections::HashMap<String, Vec<String>>, Error> {
    let rows = tag::Entity::find()
        .filter(tag::Column::ImageId.is_in(ids.iter().map(String::as_str)))
        .order_by_asc(tag::Column::Value)
        .all(db)
        .await
        .map_err(internal)?;
    let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
    for t in rows {
        out.entry(t.image_id).or_default().push(t.value);
    }
    Ok(out)
}

/// The extra properties of each of `ids`.
pub async fn properties_of(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<std::collections::HashMap<String, std::collections::BTreeMap<String, String>>, Error> {
    let rows = property::Entity::find()
        .filter(property::Column::ImageId.is_in(ids.iter().map(String::as_str)))
        .all(db)
        .await
        .map_err(internal)?;
    let mut out: std::collections::HashMap<String, std::collections::BTreeMap<String, String>> =
        Default::default();
    for p in rows {
        out.entry(p.image_id).or_default().insert(p.name, p.value);
    }
    Ok(out)
}

/// How many images `owner` has and how many bytes of data they hold.
pub async fn usage(db: &impl ConnectionTrait, owner: &str) -> Result<(i64, i64), Error> {
    use virga_db::sea_orm::sea_query::Func;
    use virga_db::sea_orm::{FromQueryResult, QuerySelect};
    #[derive(FromQueryResult)]
    struct Usage {
        count: i64,
        bytes: Option<i64>,
    }
    let u = Entity::find()
        .select_only()
        .column_as(Column::Id.count(), "count")
        .column_as(
            // PostgreSQL sums BIGINT into NUMERIC: cast back.
            Expr::expr(Func::cast_as(Func::sum(Expr::col(Column::Size)), "BIGINT")),
            "bytes",
        )
        .filter(Column::Owner.eq(owner))
        .into_model::<Usage>()
        .one(db)
        .await
        .map_err(internal)?;
    Ok(u.map(|u| (u.count, u.bytes.unwrap_or(0))).unwrap_or((0, 0)))
}

/// Moves the image from status `from` to `to` only if it is still in
/// `from`: two uploads racing for one image cannot both start.
pub async fn set_status_if(
    db: &impl ConnectionTrait,
    id: &str,
    from: &str,
    to: &str,
) -> Result<bool, Error> {
    let r = Entity::update_many()
        .col_expr(Column::Status, Expr::value(to))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(from))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}

/// What was measured of an image's data, to record with it.
#[derive(Debug, Clone)]
pub struct DataFacts<'a> {
    pub size: i64,
    pub virtual_size: Option<i64>,
    pub md5: &'a str,
    pub hash_algo: &'a str,
    pub hash: &'a str,
}

/// Records an image's data and makes it `active`, if it is still in
/// status `from` (`saving` or `importing`; it may have been deleted).
pub async fn finish_data(
    db: &impl ConnectionTrait,
    id: &str,
    from: &str,
    facts: &DataFacts<'_>,
) -> Result<bool, Error> {
    let r = Entity::update_many()
        .col_expr(Column::Status, Expr::value("active"))
        .col_expr(Column::Size, Expr::value(facts.size))
        .col_expr(Column::VirtualSize, Expr::value(facts.virtual_size))
        .col_expr(Column::Checksum, Expr::value(facts.md5))
        .col_expr(Column::OsHashAlgo, Expr::value(facts.hash_algo))
        .col_expr(Column::OsHashValue, Expr::value(facts.hash))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(from))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}
