//! Bootstrap: what a new cloud needs before anyone can log in, as
//! `keystone-manage bootstrap` makes it. The default roles (`admin`,
//! `member`, `reader`, `service`), an admin project and an admin user with
//! the admin role on that project and on the system, the cloud's region,
//! and catalog entries for the services it runs.
//!
//! It is idempotent: what exists is kept (an existing admin's password is
//! not reset), what is missing is created, so it can run at every start.

use virga_auth::hash_password;
use virga_common::Error;
use virga_common::pagination::PageRequest;
use virga_db::sea_orm::DatabaseConnection;

use crate::db::assignment::{self, ActorType, SYSTEM_ALL, TargetType};
use crate::db::catalog::{self, EndpointFilter, NewEndpoint, NewService};
use crate::db::region::{self, NewRegion};
use crate::db::role::{self, NewRole, RoleFilter};
use crate::db::{DEFAULT_DOMAIN_ID, project, user};

/// The roles every Virga cloud has.
pub const DEFAULT_ROLES: [&str; 4] = ["admin", "member", "reader", "service"];

#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub admin_user: String,
    /// Used only when the admin user is created.
    pub admin_password: String,
    pub admin_project: String,
    pub region: String,
    /// `(service type, service name, public URL)` for the catalog.
    pub endpoints: Vec<(String, String, String)>,
}

/// What bootstrap found or made.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub admin_user_id: String,
    pub admin_project_id: String,
    /// True when the admin user was created by this run (its password is new).
    pub created_admin: bool,
}

pub async fn run(db: &DatabaseConnection, b: &Bootstrap) -> Result<Bootstrapped, Error> {
    let txn = virga_db::begin_write(db).await.map_err(Error::internal)?;
    let mut roles = Vec::new();
    for name in DEFAULT_ROLES {
        roles.push(ensure_role(&txn, name).await?);
    }
    let admin_role = roles[0].clone();
    let project = match project::get_by_name(&txn, DEFAULT_DOMAIN_ID, &b.admin_project).await {
        Ok(p) => p,
        Err(Error::NotFound { .. }) => {
            project::create(
                &txn,
                project::NewProject {
                    name: b.admin_project.clone(),
                    domain_id: DEFAULT_DOMAIN_ID.into(),
                    description: Some("Bootstrap project for the cloud's administrators".into()),
                    enabled: true,
                    ..Default::default()
                },
            )
            .await?
        }
        Err(e) => return Err(e),
    };
    let (admin, created_admin) =
        match user::get_by_name(&txn, DEFAULT_DOMAIN_ID, &b.admin_user).await {
            Ok(u) => (u, false),
            Err(Error::NotFound { .. }) => {
                let password = b.admin_password.clone();
                let hash = tokio::task::spawn_blocking(move || hash_password(&password))
                    .await
                    .map_err(Error::internal)?
                    .map_err(Error::internal)?;
                let new = user::NewUser {
                    name: b.admin_user.clone(),
                    domain_id: DEFAULT_DOMAIN_ID.into(),
                    enabled: true,
                    password: Some(hash),
                    default_project_id: Some(project.id.clone()),
                    password_expires_at: None,
                };
                (user::create(&txn, new).await?, true)
            }
            Err(e) => return Err(e),
        };
    for (target_type, target_id) in [
        (TargetType::Project, project.id.as_str()),
        (TargetType::System, SYSTEM_ALL),
    ] {
        let grant = assignment::Model {
            actor_type: ActorType::User,
            actor_id: admin.id.clone(),
            target_type,
            target_id: target_id.to_string(),
            role_id: admin_role.id.clone(),
            inherited: false,
        };
        assignment::grant(&txn, &grant).await?;
    }
    ensure_region(&txn, &b.region).await?;
    for (service_type, name, url) in &b.endpoints {
        ensure_endpoint(&txn, service_type, name, url, &b.region).await?;
    }
    txn.commit().await.map_err(Error::internal)?;
    Ok(Bootstrapped {
        admin_user_id: admin.id,
        admin_project_id: project.id,
        created_admin,
    })
}

pub(crate) async fn ensure_role(
    db: &impl virga_db::sea_orm::ConnectionTrait,
    name: &str,
) -> Result<role::Model, Error> {
    let filter = RoleFilter {
        name: Some(name.into()),
        domain_id: None,
    };
    let first = PageRequest {
        limit: 1,
        marker: None,
    };
    if let Some(r) = role::list(db, &filter, &first)
        .await?
        .items
        .into_iter()
        .next()
    {
        return Ok(r);
    }
    role::create(
        db,
        NewRole {
            name: name.into(),
            domain_id: None,
            description: None,
        },
    )
    .await
}

async fn ensure_region(
    db: &impl virga_db::sea_orm::ConnectionTrait,
    id: &str,
) -> Result<(), Error> {
    match region::get(db, id).await {
        Ok(_) => Ok(()),
        Err(Error::NotFound { .. }) => region::create(
            db,
            NewRegion {
                id: Some(id.into()),
                description: None,
                parent_region_id: None,
            },
        )
        .await
        .map(drop),
        Err(e) => Err(e),
    }
}

/// One service of `service_type` with a public endpoint in `region`; an
/// endpoint whose URL changed (a new port after a restart) is replaced.
async fn ensure_endpoint(
    db: &impl virga_db::sea_orm::ConnectionTrait,
    service_type: &str,
    name: &str,
    url: &str,
    region: &str,
) -> Result<(), Error> {
    let service = match catalog::list_services(db, Some(service_type))
        .await?
        .into_iter()
        .next()
    {
        Some(s) => s,
        None => {
            catalog::create_service(
                db,
                NewService {
                    service_type: service_type.into(),
                    name: Some(name.into()),
                    description: None,
                    enabled: true,
                },
            )
            .await?
        }
    };
    let existing = catalog::list_endpoints(
        db,
        &EndpointFilter {
            service_id: Some(service.id.clone()),
            region_id: Some(region.into()),
            interface: Some("public".into()),
        },
    )
    .await?;
    if existing.iter().any(|e| e.url == url) {
        return Ok(());
    }
    for stale in existing {
        catalog::delete_endpoint(db, &stale.id).await?;
    }
    catalog::create_endpoint(
        db,
        NewEndpoint {
            service_id: service.id,
            region_id: Some(region.into()),
            interface: "public".into(),
            url: url.into(),
            enabled: true,
        },
    )
    .await
    .map(drop)
}
