//! A server's in-progress live migrations (`/servers/{id}/migrations`,
//! microversions 2.22 to 2.24): listed, shown, forced to complete,
//! aborted. Virga moves servers cold (resize, migrate, evacuate:
//! `server_move`) and has no live migration, so a server never has one in
//! progress: the list is empty, a shown one is 404, and forcing or
//! aborting finds the server not live-migrating (409, Nova's check of the
//! server's state, which comes first in Nova too).

use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::server::visible;
use crate::db::instance::Model;

fn enforce(auth: &Auth, rule: &str, m: &Model) -> Result<(), Error> {
    auth.enforce(
        &format!("os_compute_api:servers:migrations:{rule}"),
        &Target::new().with("project_id", m.project_id.clone()),
    )
}

/// Checks the caller may list the server's in-progress live
/// migrations, of which there are none.
pub async fn list(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<(), Error> {
    let m = visible(ctx, auth, id).await?;
    enforce(auth, "index", &m)
}

/// One in-progress live migration of the server: there is none to show.
pub async fn show(ctx: &ServiceContext, auth: &Auth, id: &str, migration_id: &str) -> Error {
    let checked = async {
        let m = visible(ctx, auth, id).await?;
        enforce(auth, "show", &m)
    };
    match checked.await {
        Ok(()) => Error::Missing {
            kind: "MigrationNotFoundForInstance",
            message: format!("Migration {migration_id} not found for instance {id}"),
        },
        Err(e) => e,
    }
}

/// `force_complete` (2.22) or abort (2.24): only for a server that is
/// live-migrating, which none is.
pub async fn end(ctx: &ServiceContext, auth: &Auth, id: &str, abort: bool) -> Result<(), Error> {
    let m = visible(ctx, auth, id).await?;
    let (rule, action) = if abort {
        ("delete", "live_migrate_abort")
    } else {
        ("force_complete", "live_migrate_force_complete")
    };
    enforce(auth, rule, &m)?;
    let (attr, state) = if m.vm_state == super::server_state::vm::ACTIVE {
        (
            "task_state",
            m.task_state.clone().unwrap_or_else(|| "None".into()),
        )
    } else {
        ("vm_state", m.vm_state.clone())
    };
    Err(Error::Conflict(format!(
        "Cannot '{action}' instance {id} while it is in {attr} {state}"
    )))
}
