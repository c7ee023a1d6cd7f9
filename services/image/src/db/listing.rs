//! Listing images as Glance does: what the caller may see (its project's,
//! public ones, shared ones it is a member of; community ones only when
//! asked for), the filters, the sort keys, and marker pagination.

use sea_orm::sea_query::{Expr, ExprTrait, Func, Query, SimpleExpr};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{Condition, Order, QueryOrder, QuerySelect};

use super::image::{Column, Entity, Model, property, tag};
use super::internal;

/// Who is asking: an admin sees every project's images.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub project_id: Option<String>,
    pub admin: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Status,
    ContainerFormat,
    DiskFormat,
    Size,
    Id,
    CreatedAt,
    UpdatedAt,
}

impl SortKey {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "name" => SortKey::Name,
            "status" => SortKey::Status,
            "container_format" => SortKey::ContainerFormat,
            "disk_format" => SortKey::DiskFormat,
            "size" => SortKey::Size,
            "id" => SortKey::Id,
            "created_at" => SortKey::CreatedAt,
            "updated_at" => SortKey::UpdatedAt,
            _ => return None,
        })
    }

    /// The sort expression: nullable columns read as "" (or -1 for size),
    /// so both databases order and compare NULLs alike and the keyset
    /// comparison in [`after`] holds.
    fn expr(self) -> SimpleExpr {
        let text =
            |c: Column| -> SimpleExpr { Func::coalesce([Expr::col(c), Expr::val("")]).into() };
        match self {
            SortKey::Name => text(Column::Name),
            SortKey::Status => Expr::col(Column::Status),
            SortKey::ContainerFormat => text(Column::ContainerFormat),
            SortKey::DiskFormat => text(Column::DiskFormat),
            SortKey::Size => Func::coalesce([Expr::col(Column::Size), Expr::val(-1i64)]).into(),
            SortKey::Id => Expr::col(Column::Id),
            SortKey::CreatedAt => Expr::col(Column::CreatedAt),
            SortKey::UpdatedAt => Expr::col(Column::UpdatedAt),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ImageFilter {
    /// `None`: the default view (no other project's community images);
    /// `Some("all")`: every visibility; otherwise that visibility only.
    pub visibility: Option<String>,
    /// Shared images of other projects are listed when the caller's
    /// membership has this status (`all`: any).
    pub member_status: String,
    pub names: Vec<String>,
    pub statuses: Vec<String>,
    pub ids: Vec<String>,
    pub disk_formats: Vec<String>,
    pub container_formats: Vec<String>,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub protected: Option<bool>,
    pub os_hidden: bool,
    pub size_min: Option<i64>,
    pub size_max: Option<i64>,
    pub created_at: Vec<(Op, DateTimeUtc)>,
    pub updated_at: Vec<(Op, DateTimeUtc)>,
    /// Extra properties that must have these values.
    pub properties: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    Neq,
}

pub struct ListRequest {
    pub sort: Vec<(SortKey, Order)>,
    pub limit: u64,
    pub marker: Option<Model>,
}

fn time(col: Column, op: Op, at: DateTimeUtc) -> Condition {
    let c = match op {
        Op::Gt => col.gt(at),
        Op::Gte => col.gte(at),
        Op::Lt => col.lt(at),
        Op::Lte => col.lte(at),
        Op::Eq => col.eq(at),
        Op::Neq => col.ne(at),
    };
    Condition::all().add(c)
}

/// What `viewer` may list at all.
fn visible(viewer: &Viewer, f: &ImageFilter) -> Condition {
    let own = |p: &str| Column::Owner.eq(p.to_owned());
    let community_rule = match (f.visibility.as_deref(), &viewer.project_id) {
        // By default, other projects' community images stay out.
        (None, Some(p)) => Condition::any()
            .add(Column::Visibility.ne("community"))
            .add(own(p)),
        (None, None) => Condition::all().add(Column::Visibility.ne("community")),
        _ => Condition::all(),
    };
    if viewer.admin {
        return community_rule;
    }
    let mut may = Condition::any().add(Column::Visibility.is_in(["public", "community"]));
    if let Some(p) = &viewer.project_id {
        let mut members = Query::select()
            .column(super::image::member::Column::ImageId)
            .from(super::image::member::Entity)
            .and_where(super::image::member::Column::Member.eq(p.clone()))
            .to_owned();
        if f.member_status != "all" {
            members.and_where(super::image::member::Column::Status.eq(f.member_status.clone()));
        }
        may = may.add(own(p)).add(
            Condition::all()
                .add(Column::Visibility.eq("shared"))
                .add(Column::Id.in_subquery(members)),
        );
    }
    Condition::all().add(may).add(community_rule)
}

pub async fn list(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    f: &ImageFilter,
    req: &ListRequest,
) -> Result<Vec<Model>, Error> {
    let mut cond = visible(viewer, f);
    match f.visibility.as_deref() {
        None | Some("all") => {}
        Some(v) => cond = cond.add(Column::Visibility.eq(v.to_owned())),
    }
    let any_of = |c: Column, v: &Vec<String>| (!v.is_empty()).then(|| c.is_in(v.clone()));
    for c in [
        any_of(Column::Name, &f.names),
        any_of(Column::Status, &f.statuses),
        any_of(Column::Id, &f.ids),
        any_of(Column::DiskFormat, &f.disk_formats),
        any_of(Column::ContainerFormat, &f.container_formats),
    ]
    .into_iter()
    .flatten()
    {
        cond = cond.add(c);
    }
    if let Some(o) = &f.owner {
        cond = cond.add(Column::Owner.eq(o.clone()));
    }
    if let Some(p) = f.protected {
        cond = cond.add(Column::Protected.eq(p));
    }
    cond = cond.add(Column::OsHidden.eq(f.os_hidden));
    if let Some(s) = f.size_min {
        cond = cond.add(Column::Size.gte(s));
    }
    if let Some(s) = f.size_max {
        cond = cond.add(Column::Size.lte(s));
    }
    for (op, at) in &f.created_at {
        cond = cond.add(time(Column::CreatedAt, *op, *at));
    }
    for (op, at) in &f.updated_at {
        cond = cond.add(time(Column::UpdatedAt, *op, *at));
    }
    for t in &f.tags {
        let with_tag = Query::select()
            .column(tag::Column::ImageId)
            .from(tag::Entity)
            .and_where(tag::Column::Value.eq(t.clone()))
            .to_owned();
        cond = cond.add(Column::Id.in_subquery(with_tag));
    }
    for (k, v) in &f.properties {
        let with_prop = Query::select()
            .column(property::Column::ImageId)
            .from(property::Entity)
            .and_where(property::Column::Name.eq(k.clone()))
            .and_where(property::Column::Value.eq(v.clone()))
            .to_owned();
        cond = cond.add(Column::Id.in_subquery(with_prop));
    }
    if let Some(m) = &req.marker {
        cond = cond.add(after(m, &req.sort));
    }
    let mut q = Entity::find().filter(cond);
    for (k, o) in &req.sort {
        q = q.order_by(k.expr(), o.clone());
    }
    q.limit(req.limit).all(db).await.map_err(internal)
}

/// Rows after `m` in the sort order (keyset pagination): for keys k1..kn,
/// (k1 past m.k1) or (k1 = m.k1 and k2 past m.k2) or ... The sort always
/// ends with `id`, so the order is total.
fn after(m: &Model, sort: &[(SortKey, Order)]) -> Condition {
    let mut any = Condition::any();
    for i in 0..sort.len() {
        let mut all = Condition::all();
        for (k, _) in &sort[..i] {
            all = all.add(Expr::expr(k.expr()).eq(value(m, *k)));
        }
        let (k, o) = &sort[i];
        let past = match o {
            Order::Asc => Expr::expr(k.expr()).gt(value(m, *k)),
            _ => Expr::expr(k.expr()).lt(value(m, *k)),
        };
        any = any.add(all.add(past));
    }
    any
}

fn value(m: &Model, k: SortKey) -> sea_orm::Value {
    match k {
        SortKey::Name => m.name.clone().unwrap_or_default().into(),
        SortKey::Status => m.status.clone().into(),
        SortKey::ContainerFormat => m.container_format.clone().unwrap_or_default().into(),
        SortKey::DiskFormat => m.disk_format.clone().unwrap_or_default().into(),
        SortKey::Size => m.size.unwrap_or(-1).into(),
        SortKey::Id => m.id.clone().into(),
        SortKey::CreatedAt => m.created_at.into(),
        SortKey::UpdatedAt => m.updated_at.into(),
    }
}
