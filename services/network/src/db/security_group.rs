//! Security groups, each project's default group, and which ports are in
//! which groups (`port_security_group`).

use std::collections::BTreeMap;

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::OnConflict;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel, QueryOrder, QuerySelect};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "security_group")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub stateful: bool,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub revision_number: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The `default_security_group` table: a project's default group.
pub mod default {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "default_security_group")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub project_id: String,
        pub security_group_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `port_security_group` table: a port's groups.
pub mod binding {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "port_security_group")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub port_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub security_group_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub async fn insert(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    m.into_active_model().insert(db).await.map_err(internal)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(id.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

pub async fn find_many(db: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await
        .map_err(internal)
}

/// The project's default group, if it has one yet.
pub async fn default_of(db: &impl ConnectionTrait, project: &str) -> Result<Option<String>, Error> {
    Ok(default::Entity::find_by_id(project.to_owned())
        .one(db)
        .await
        .map_err(internal)?
        .map(|d| d.security_group_id))
}

/// Records `group` as the project's default unless another was recorded
/// first; the default it has afterwards.
pub async fn claim_default(
    db: &impl ConnectionTrait,
    project: &str,
    group: &str,
) -> Result<bool, Error> {
    let n = default::Entity::insert(default::ActiveModel {
        project_id: Set(project.to_owned()),
        security_group_id: Set(group.to_owned()),
    })
    .on_conflict(
        OnConflict::column(default::Column::ProjectId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(internal)?;
    Ok(n == 1)
}

/// Whether the group is some project's default.
pub async fn is_default(db: &impl ConnectionTrait, id: &str) -> Result<bool, Error> {
    Ok(default::Entity::find()
        .filter(default::Column::SecurityGroupId.eq(id))
        .one(db)
        .await
        .map_err(internal)?
        .is_some())
}

pub async fn update(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    let am = m.into_active_model().reset_all();
    am.update(db).await.map_err(internal)
}

/// Bumps the revision: a rule came or went. Being a write, it also makes
/// the transaction the group's only writer (see `super::touch`).
pub async fn touch(db: &impl ConnectionTrait, id: &str) -> Result<bool, Error> {
    super::touch::<Entity>(
        db,
        (Column::Id, id),
        Column::RevisionNumber,
        Column::UpdatedAt,
    )
    .await
}

/// Deletes it; `Ok(false)` when a port is in it (or joined meanwhile).
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool, Error> {
    match Entity::delete_by_id(id.to_owned()).exec(db).await {
        Ok(_) => Ok(true),
        Err(e) if super::is_fk_violation(&e) => Ok(false),
        Err(e) => Err(internal(e)),
    }
}

/// The ports in the group (the first hundred).
pub async fn ports_in(db: &impl ConnectionTrait, id: &str) -> Result<Vec<String>, Error> {
    binding::Entity::find()
        .select_only()
        .column(binding::Column::PortId)
        .filter(binding::Column::SecurityGroupId.eq(id))
        .limit(100)
        .into_tuple()
        .all(db)
        .await
        .map_err(internal)
}

/// The ports' groups, by port.
pub async fn of_ports(
    db: &impl ConnectionTrait,
    port_ids: &[String],
) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for chunk in port_ids.chunks(500) {
        let rows = binding::Entity::find()
            .filter(binding::Column::PortId.is_in(chunk.iter().cloned()))
            .order_by_asc(binding::Column::SecurityGroupId)
            .all(db)
            .await
            .map_err(internal)?;
        for r in rows {
            out.entry(r.port_id).or_default().push(r.security_group_id);
        }
    }
    Ok(out)
}

/// Puts the port in exactly these groups; false when one of them was
/// deleted meanwhile.
pub async fn set_port_groups(
    db: &impl ConnectionTrait,
    port_id: &str,
    groups: &[String],
) -> Result<bool, Error> {
    binding::Entity::delete_many()
        .filter(binding::Column::PortId.eq(port_id))
        .exec(db)
        .await
        .map_err(internal)?;
    add_port_groups(db, port_id, groups).await
}

/// Puts a new port in these groups; false when one of them was deleted
/// meanwhile.
pub async fn add_port_groups(
    db: &impl ConnectionTrait,
    port_id: &str,
    groups: &[String],
) -> Result<bool, Error> {
    if groups.is_empty() {
        return Ok(true);
    }
    let rows = groups.iter().map(|g| binding::ActiveModel {
        port_id: Set(port_id.to_owned()),
        security_group_id: Set(g.clone()),
    });
    match binding::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if super::is_fk_violation(&e) => Ok(false),
        Err(e) => Err(internal(e)),
    }
}

/// The ports in any of the groups.
pub async fn ports_in_any(
    db: &impl ConnectionTrait,
    groups: &[String],
) -> Result<Vec<String>, Error> {
    binding::Entity::find()
        .select_only()
        .column(binding::Column::PortId)
        .filter(binding::Column::SecurityGroupId.is_in(groups.iter().cloned()))
        .distinct()
        .into_tuple()
        .all(db)
        .await
        .map_err(internal)
}
