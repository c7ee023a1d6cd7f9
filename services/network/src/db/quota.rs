//! Quotas: the limits an admin set (`quota`), the lock rows creations
//! under a limit take (`quota_lock`), and counting what a project owns.

use std::collections::BTreeMap;

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use virga_db::sea_orm::{ActiveValue::Set, PaginatorTrait};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quota")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource: String,
    pub hard_limit: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The `quota_lock` table.
pub mod lock {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "quota_lock")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub project_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub resource: String,
        pub serial: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The limits an admin set for the project, by resource.
pub async fn of_project(
    db: &impl ConnectionTrait,
    project: &str,
) -> Result<BTreeMap<String, i64>, Error> {
    Ok(Entity::find()
        .filter(Column::ProjectId.eq(project))
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|q| (q.resource, q.hard_limit))
        .collect())
}

/// Every project with a limit set, with its limits.
pub async fn all(
    db: &impl ConnectionTrait,
) -> Result<BTreeMap<String, BTreeMap<String, i64>>, Error> {
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for q in Entity::find().all(db).await.map_err(internal)? {
        out.entry(q.project_id)
            .or_default()
            .insert(q.resource, q.hard_limit);
    }
    Ok(out)
}

pub async fn set(
    db: &impl ConnectionTrait,
    project: &str,
    resource: &str,
    limit: i64,
) -> Result<(), Error> {
    Entity::insert(ActiveModel {
        project_id: Set(project.to_owned()),
        resource: Set(resource.to_owned()),
        hard_limit: Set(limit),
    })
    .on_conflict(
        OnConflict::columns([Column::ProjectId, Column::Resource])
            .update_column(Column::HardLimit)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(internal)?;
    Ok(())
}

/// Forgets the project's limits: the defaults apply again.
pub async fn reset(db: &impl ConnectionTrait, project: &str) -> Result<(), Error> {
    Entity::delete_many()
        .filter(Column::ProjectId.eq(project))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Takes the project's lock for the resource until the transaction ends:
/// creations of that resource in that project then count one at a time.
pub async fn take_lock(
    db: &impl ConnectionTrait,
    project: &str,
    resource: &str,
) -> Result<(), Error> {
    lock::Entity::insert(lock::ActiveModel {
        project_id: Set(project.to_owned()),
        resource: Set(resource.to_owned()),
        serial: Set(0),
    })
    .on_conflict(
        OnConflict::columns([lock::Column::ProjectId, lock::Column::Resource])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(internal)?;
    lock::Entity::update_many()
        .col_expr(lock::Column::Serial, Expr::col(lock::Column::Serial).add(1))
        .filter(lock::Column::ProjectId.eq(project))
        .filter(lock::Column::Resource.eq(resource))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// How many of the resource the project owns.
pub async fn count(db: &impl ConnectionTrait, resource: &str, project: &str) -> Result<u64, Error> {
    use super::{floating_ip, network, port, router, security_group, security_group_rule, subnet};
    let n = match resource {
        "router" => {
            router::Entity::find()
                .filter(router::Column::ProjectId.eq(project))
                .count(db)
                .await
        }
        "floatingip" => {
            floating_ip::Entity::find()
                .filter(floating_ip::Column::ProjectId.eq(project))
                .count(db)
                .await
        }
        "network" => {
            network::Entity::find()
                .filter(network::Column::ProjectId.eq(project))
                .count(db)
                .await
        }
        "subnet" => {
            subnet::Entity::find()
                .filter(subnet::Column::ProjectId.eq(project))
                .count(db)
                .await
        }
        "port" => {
            port::Entity::find()
                .filter(port::Column::ProjectId.eq(project))
                .count(db)
                .await
        }
        "security_group" => {
            security_group::Entity::find()
                .filter(security_group::Column::ProjectId.eq(project))
                .count(db)
                .await
        }
        "security_group_rule" => {
            security_group_rule::Entity::find()
                .filter(security_group_rule::Column::ProjectId.eq(project))
                .count(db)
                .await
        }
        other => {
            return Err(Error::internal(std::io::Error::other(format!(
                "no quota resource {other}"
            ))));
        }
    };
    n.map_err(internal)
}
