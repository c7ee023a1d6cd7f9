//! Service users: how a service calls other services' REST APIs as itself
//! (compute asking the scheduler, network and image services), as Nova
//! calls Placement and Neutron with its service user's token.
//!
//! A service asks over the bus (`service_token`); the user, named after
//! the service in project `service` with the `service` role, is made on
//! first use without a password, so nobody logs in as it over REST. The
//! reply carries the catalog's public endpoints, which is how the service
//! finds the others.

use std::collections::BTreeMap;

use virga_common::Error;
use virga_db::sea_orm::ConnectionTrait;
use virga_protocol::identity::ServiceTokenReply;

use super::IdentityState;
use super::auth::scope::ProjectLocator;
use super::auth::{Method, ScopeRequest};
use crate::db::assignment::{self, ActorType, TargetType};
use crate::db::{DEFAULT_DOMAIN_ID, project, user};

/// The project service users belong to (Keystone deployments' convention).
pub const SERVICE_PROJECT: &str = "service";

/// A service's name: what its user is called.
fn valid(service: &str) -> bool {
    (1..=32).contains(&service.len())
        && service.starts_with(|c: char| c.is_ascii_lowercase())
        && service
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

pub async fn token(state: &IdentityState, service: &str) -> Result<ServiceTokenReply, Error> {
    if !valid(service) {
        return Err(Error::BadRequest(format!(
            "'{service}' is not a service name"
        )));
    }
    let (user_id, project_id) = ensure(state, service).await?;
    let issued = super::auth::issue_token(
        state,
        Method::Mapped {
            user_id,
            federation: None,
            protocol: "service".into(),
        },
        ScopeRequest::Project(ProjectLocator::Id(project_id.clone())),
    )
    .await?;
    Ok(ServiceTokenReply {
        token: issued.token,
        expires_at: issued.claims.exp,
        endpoints: endpoints(state.ctx.db(), &state.ctx.config().region, &project_id).await?,
    })
}

/// The service's user and the service project, made if missing; an
/// existing user is used as it is (an operator may have disabled it).
async fn ensure(state: &IdentityState, service: &str) -> Result<(String, String), Error> {
    let txn = virga_db::begin_write(state.ctx.db())
        .await
        .map_err(Error::internal)?;
    let project = match project::get_by_name(&txn, DEFAULT_DOMAIN_ID, SERVICE_PROJECT).await {
        Ok(p) => p,
        Err(Error::NotFound { .. }) => {
            project::create(
                &txn,
                project::NewProject {
                    name: SERVICE_PROJECT.into(),
                    domain_id: DEFAULT_DOMAIN_ID.into(),
                    description: Some("The services' own users".into()),
                    enabled: true,
                    ..Default::default()
                },
            )
            .await?
        }
        Err(e) => return Err(e),
    };
    let (u, created) = match user::get_by_name(&txn, DEFAULT_DOMAIN_ID, service).await {
        Ok(u) => (u, false),
        Err(Error::NotFound { .. }) => {
            let new = user::NewUser {
                name: service.into(),
                domain_id: DEFAULT_DOMAIN_ID.into(),
                enabled: true,
                password: None,
                default_project_id: Some(project.id.clone()),
                password_expires_at: None,
            };
            (user::create(&txn, new).await?, true)
        }
        Err(e) => return Err(e),
    };
    if created {
        let role = super::bootstrap::ensure_role(&txn, "service").await?;
        assignment::grant(
            &txn,
            &assignment::Model {
                actor_type: ActorType::User,
                actor_id: u.id.clone(),
                target_type: TargetType::Project,
                target_id: project.id.clone(),
                role_id: role.id,
                inherited: false,
            },
        )
        .await?;
        tracing::info!(service, user = %u.id, "service user created");
    }
    txn.commit().await.map_err(Error::internal)?;
    Ok((u.id, project.id))
}

/// The catalog's public endpoints in `region` (as a token for the service
/// project lists them), by service type.
async fn endpoints(
    db: &impl ConnectionTrait,
    region: &str,
    project: &str,
) -> Result<BTreeMap<String, String>, Error> {
    Ok(super::catalog::build(db, Some(project))
        .await?
        .into_iter()
        .filter_map(|s| {
            let e = s
                .endpoints
                .into_iter()
                .find(|e| e.interface == "public" && e.region_id.as_deref() == Some(region))?;
            Some((s.service_type, e.url))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn service_names() {
        for ok in ["compute", "network", "a", "image-2"] {
            assert!(super::valid(ok), "{ok}");
        }
        for bad in ["", "Compute", "2x", "a b", "admin/x", &"a".repeat(33)] {
            assert!(!super::valid(bad), "{bad}");
        }
    }
}
