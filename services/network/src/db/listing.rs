//! Listing any of the network resources as Neutron does: a scope (what
//! the caller may see), filters, sort keys with directions, and keyset
//! pagination after (or, with `page_reverse`, before) a marker row.

use virga_common::Error;
use virga_db::sea_orm::sea_query::{Expr, ExprTrait, Func, SimpleExpr};
use virga_db::sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IdenStatic, ModelTrait, Order,
    QueryFilter, QueryOrder, QuerySelect, Value,
};

use super::internal;

/// One sort key: its column, whether it may be NULL (then it sorts and
/// compares as ""), and its direction.
#[derive(Debug, Clone)]
pub struct SortKey<C> {
    pub column: C,
    pub nullable: bool,
    pub ascending: bool,
}

/// What to list.
pub struct ListSpec<E: EntityTrait> {
    pub condition: Condition,
    /// The sort keys; the id, ascending, is added as the last one when
    /// missing, so the order is total and the keyset exact.
    pub sort: Vec<SortKey<E::Column>>,
    pub limit: Option<u64>,
    pub marker: Option<E::Model>,
    pub reverse: bool,
}

fn expr<C: ColumnTrait>(k: &SortKey<C>) -> SimpleExpr {
    if k.nullable {
        Func::coalesce([Expr::col(k.column), Expr::val("")]).into()
    } else {
        Expr::col(k.column)
    }
}

fn value<M: ModelTrait>(m: &M, k: &SortKey<<M::Entity as EntityTrait>::Column>) -> Value {
    let v = m.get(k.column);
    match v {
        Value::String(None) if k.nullable => Value::String(Some("".into())),
        v => v,
    }
}

/// The rows after the marker (before it when `reverse`), in the asked
/// order.
pub async fn list<E>(
    db: &impl ConnectionTrait,
    id: E::Column,
    mut spec: ListSpec<E>,
) -> Result<Vec<E::Model>, Error>
where
    E: EntityTrait,
    E::Model: Sync,
{
    if !spec.sort.iter().any(|k| k.column.as_str() == id.as_str()) {
        spec.sort.push(SortKey {
            column: id,
            nullable: false,
            ascending: true,
        });
    }
    // Walking backwards from the marker is walking forwards in the
    // opposite order, then turning the page around.
    let forward = |k: &SortKey<E::Column>| k.ascending != spec.reverse;
    let mut q = E::find().filter(spec.condition.clone());
    if let Some(marker) = &spec.marker {
        let mut after = Condition::any();
        for (i, k) in spec.sort.iter().enumerate() {
            let mut step = Condition::all();
            for earlier in &spec.sort[..i] {
                step = step.add(expr(earlier).eq(value(marker, earlier)));
            }
            let v = value(marker, k);
            step = step.add(if forward(k) {
                expr(k).gt(v)
            } else {
                expr(k).lt(v)
            });
            after = after.add(step);
        }
        q = q.filter(after);
    }
    for k in &spec.sort {
        let order = if forward(k) { Order::Asc } else { Order::Desc };
        q = q.order_by(expr(k), order);
    }
    if let Some(limit) = spec.limit {
        q = q.limit(limit);
    }
    let mut rows = q.all(db).await.map_err(internal)?;
    if spec.reverse {
        rows.reverse();
    }
    Ok(rows)
}

/// How a filter's text values convert for a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Text that may be NULL: an empty value matches NULL.
    NullableText,
    Bool,
    Int,
}

/// `column` equal to any of `values`, converted per `kind`; a value that
/// does not convert is the caller's mistake, named by `attr`.
pub fn any_of<C: ColumnTrait>(
    column: C,
    kind: Kind,
    attr: &str,
    values: &[String],
) -> Result<Condition, Error> {
    let mut c = Condition::any();
    for v in values {
        c = c.add(match kind {
            Kind::Text => column.eq(v.as_str()),
            Kind::NullableText if v.is_empty() => column.is_null(),
            Kind::NullableText => column.eq(v.as_str()),
            Kind::Bool => column.eq(crate::http::query::parse_bool(attr, v)?),
            Kind::Int => column.eq(v.parse::<i64>().map_err(|_| {
                Error::BadRequest(format!(
                    "Invalid input for {attr}. Reason: '{v}' is not an integer."
                ))
            })?),
        });
    }
    Ok(c)
}
