//! `instance`: servers, live and deleted (a deleted server keeps its row
//! with `vm_state = deleted`, as Nova's soft-deleted rows, so its fate
//! stays visible to admins and to `changes-since`).

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::{Alias, Expr, ExprTrait};
use virga_db::sea_orm::{Condition, IntoActiveModel, QueryOrder, QuerySelect};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instance")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub name: String,
    pub description: Option<String>,
    /// Shared by the servers of one multi-create request (`r-...`).
    pub reservation_id: String,
    pub launch_index: i32,
    pub flavor_id: String,
    /// The flavor as it was at create (JSON): a flavor deleted or changed
    /// later does not change the server.
    pub flavor: String,
    pub vcpus: i32,
    pub memory_mb: i64,
    pub root_gb: i32,
    pub image_id: String,
    /// What the root disk was made from, as the caller saw the image (JSON
    /// `{disk_format, os_hash_value, size, architecture}`) and `build`:
    /// bumped by each rebuild (the node makes the disk afresh when it changes).
    pub image: String,
    pub key_name: Option<String>,
    pub key_data: Option<String>,
    pub user_data: Option<String>,
    /// JSON object of strings.
    pub metadata: String,
    /// The networks asked for at create (JSON `[{uuid?, port?, fixed_ip?}]`).
    pub networks: String,
    /// The server's ports as last learnt (Nova's info cache, JSON `[{id,
    /// network_id, network_name, mac, ips, preserve}]`): `addresses` and
    /// what a delete gives back.
    pub network_info: String,
    /// The security groups its new ports get (JSON `[{id, name}]`; empty:
    /// the project's default, the network service's own choice).
    pub security_groups: String,
    /// As asked at create (an edge site's name), if asked.
    pub availability_zone: Option<String>,
    pub server_group_id: Option<String>,
    /// The node (resource provider) it was placed on, once scheduled.
    pub node_id: Option<String>,
    pub site_id: Option<String>,
    pub vm_state: String,
    pub task_state: Option<String>,
    /// Nova's numbers: 0 no state, 1 running, 3 paused, 4 shutdown, 6 crashed.
    pub power_state: i32,
    /// The generation of the last command sent to the node's agent.
    pub generation: i64,
    pub locked: bool,
    /// `owner` or `admin`: an owner cannot undo an admin's lock.
    pub locked_by: Option<String>,
    pub locked_reason: Option<String>,
    /// JSON `{code, message, details, created}` while in error.
    pub fault: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub launched_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub const DELETED: &str = "deleted";

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(id.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

/// The server, its row locked until the transaction ends (PostgreSQL;
/// SQLite's writing transaction holds the whole database). Every
/// transaction that changes a server locks it first, before its saga row,
/// so writers queue in one order and each writes what it read.
pub async fn lock(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(id.to_owned())
        .lock_exclusive()
        .one(db)
        .await
        .map_err(internal)
}

pub async fn insert(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    m.into_active_model().insert(db).await.map_err(internal)
}

/// Writes every column of `m` (read earlier in the same transaction).
pub async fn update(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    m.into_active_model()
        .reset_all()
        .update(db)
        .await
        .map_err(internal)
}

/// Bumps the server's generation (inside the caller's writing
/// transaction) and returns the new one.
pub async fn next_generation(db: &impl ConnectionTrait, id: &str) -> Result<i64, Error> {
    Entity::update_many()
        .col_expr(Column::Generation, Expr::col(Column::Generation).add(1))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(internal)?;
    let m = find(db, id)
        .await?
        .ok_or_else(|| Error::not_found("instance", id))?;
    Ok(m.generation)
}

/// Live servers of `project` and what they hold: (instances, vcpus, MiB).
pub async fn usage(db: &impl ConnectionTrait, project: &str) -> Result<(i64, i64, i64), Error> {
    // Summed by the database: a project's servers are not carried over.
    let row: Option<(i64, Option<i64>, Option<i64>)> = Entity::find()
        .select_only()
        .column_as(Expr::col(Column::Id).count(), "n")
        .column_as(
            Expr::col(Column::Vcpus).sum().cast_as(Alias::new("bigint")),
            "cores",
        )
        .column_as(
            Expr::col(Column::MemoryMb)
                .sum()
                .cast_as(Alias::new("bigint")),
            "ram",
        )
        .filter(Column::ProjectId.eq(project))
        .filter(Column::VmState.ne(DELETED))
        .into_tuple()
        .one(db)
        .await
        .map_err(internal)?;
    Ok(row.map_or((0, 0, 0), |(n, c, r)| (n, c.unwrap_or(0), r.unwrap_or(0))))
}

/// What a listing asks for; the store returns newest first.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// `None`: every project's.
    pub project: Option<String>,
    pub vm_states: Vec<String>,
    pub include_deleted: bool,
    pub changed_since: Option<DateTime<Utc>>,
    pub node: Option<String>,
    pub site: Option<String>,
    /// Only those older than this one (keyset pagination).
    pub after: Option<(DateTime<Utc>, String)>,
}

pub async fn list(db: &impl ConnectionTrait, f: &Filter, limit: u64) -> Result<Vec<Model>, Error> {
    let mut c = Condition::all();
    if let Some(p) = &f.project {
        c = c.add(Column::ProjectId.eq(p.as_str()));
    }
    if !f.vm_states.is_empty() {
        c = c.add(Column::VmState.is_in(f.vm_states.iter().cloned()));
    } else if !f.include_deleted {
        c = c.add(Column::VmState.ne(DELETED));
    }
    if let Some(t) = f.changed_since {
        c = c.add(Column::UpdatedAt.gte(t));
    }
    if let Some(n) = &f.node {
        c = c.add(Column::NodeId.eq(n.as_str()));
    }
    if let Some(s) = &f.site {
        c = c.add(Column::SiteId.eq(s.as_str()));
    }
    if let Some((at, id)) = &f.after {
        c = c.add(
            Condition::any().add(Column::CreatedAt.lt(*at)).add(
                Condition::all()
                    .add(Column::CreatedAt.eq(*at))
                    .add(Column::Id.lt(id.as_str())),
            ),
        );
    }
    Entity::find()
        .filter(c)
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(db)
        .await
        .map_err(internal)
}

/// The live servers placed on `node`.
pub async fn on_node(db: &impl ConnectionTrait, node: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::NodeId.eq(node))
        .filter(Column::VmState.ne(DELETED))
        .all(db)
        .await
        .map_err(internal)
}
