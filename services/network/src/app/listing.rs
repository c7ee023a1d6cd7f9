//! A list request, resource-neutral: the filters, fields, sort keys and
//! page the HTTP layer parsed, turned into a store query by each
//! resource's module.

use virga_common::Error;
use virga_db::sea_orm::{ColumnTrait, Condition, EntityTrait};

use crate::db::listing::{Kind, ListSpec, SortKey, any_of};

#[derive(Debug, Clone)]
pub struct Sort {
    pub key: String,
    pub ascending: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Attribute and the values it may have (any of them).
    pub filters: Vec<(String, Vec<String>)>,
    pub fields: Vec<String>,
    pub sort: Vec<Sort>,
    pub limit: Option<u64>,
    pub marker: Option<String>,
    pub page_reverse: bool,
}

impl ListQuery {
    pub fn filter(&self, attr: &str) -> Option<&[String]> {
        self.filters
            .iter()
            .find(|(a, _)| a == attr)
            .map(|(_, v)| v.as_slice())
    }
}

/// How a resource maps an API attribute to its column.
pub type Columns<C> = fn(&str) -> Option<(C, Kind)>;

/// The filters of `q` (those `columns` knows; the resource handles the
/// others) and'ed onto `scope`, and the sort keys, as a store query.
pub fn spec<E: EntityTrait>(
    q: &ListQuery,
    scope: Condition,
    columns: Columns<E::Column>,
    marker: Option<E::Model>,
) -> Result<ListSpec<E>, Error>
where
    E::Column: ColumnTrait,
{
    let mut condition = Condition::all().add(scope);
    for (attr, values) in &q.filters {
        if let Some((column, kind)) = columns(attr) {
            condition = condition.add(any_of(column, kind, attr, values)?);
        }
    }
    let sort = q
        .sort
        .iter()
        .filter_map(|s| {
            columns(&s.key).map(|(column, kind)| SortKey {
                column,
                nullable: kind == Kind::NullableText,
                ascending: s.ascending,
            })
        })
        .collect();
    Ok(ListSpec {
        condition,
        sort,
        limit: q.limit,
        marker,
        reverse: q.page_reverse,
    })
}
