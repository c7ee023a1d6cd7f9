//! `os-migrations` (admins): every move of every server — resizes, cold
//! migrations, evacuations — as Nova lists them, newest first, filtered
//! by server, status, node or type.

use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::db::migration::{self, Model};

/// What a listing may filter on (Nova's query parameters).
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct Filter {
    /// One server's moves.
    pub instance_uuid: Option<String>,
    pub status: Option<String>,
    /// Moves from or to this node.
    pub host: Option<String>,
    /// Moves from this node.
    pub source_compute: Option<String>,
    /// `resize`, `migration` or `evacuation`.
    pub migration_type: Option<String>,
}

pub async fn list(ctx: &ServiceContext, auth: &Auth, f: &Filter) -> Result<Vec<Model>, Error> {
    auth.enforce("os_compute_api:os-migrations:index", &Target::new())?;
    let all = migration::list(ctx.db(), f.instance_uuid.as_deref()).await?;
    Ok(all
        .into_iter()
        .filter(|m| {
            f.status
                .as_ref()
                .is_none_or(|s| s.eq_ignore_ascii_case(&m.status))
        })
        .filter(|m| {
            f.host
                .as_ref()
                .is_none_or(|h| &m.source_node == h || m.dest_node.as_ref() == Some(h))
        })
        .filter(|m| {
            f.source_compute
                .as_ref()
                .is_none_or(|h| &m.source_node == h)
        })
        .filter(|m| {
            f.migration_type
                .as_ref()
                .is_none_or(|t| &m.migration_type == t)
        })
        .collect())
}
