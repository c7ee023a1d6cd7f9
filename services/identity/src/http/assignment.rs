//! `GET /v3/role_assignments`, in Keystone's shape.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use virga_common::Error;
use virga_db::sea_orm::DatabaseConnection;
use virga_service::auth::Auth;

use super::{CollectionLinks, v3_base};
use crate::app::{IdentityState, grant as app};
use crate::db::assignment::{ActorType, AssignmentFilter, Model, TargetType};
use crate::db::{domain, group, project, role, user};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DomainRef {
    pub id: String,
    pub name: String,
}

/// A role, user, group, project or domain: its id, and with
/// `include_names` its name and (except for global roles and domains) its domain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntityRef {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SystemScope {
    pub all: bool,
}

/// Exactly one of `project`, `domain` and `system`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentScope {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<EntityRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<EntityRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemScope>,
    /// `projects` for an inherited assignment.
    #[serde(
        rename = "OS-INHERIT:inherited_to",
        skip_serializing_if = "Option::is_none"
    )]
    pub inherited_to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentLinks {
    /// The grant's URL.
    pub assignment: String,
}

/// One assignment: exactly one of `user` and `group`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleAssignmentView {
    pub role: EntityRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<EntityRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<EntityRef>,
    pub scope: AssignmentScope,
    pub links: AssignmentLinks,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleAssignmentsResponse {
    pub role_assignments: Vec<RoleAssignmentView>,
    pub links: CollectionLinks,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RoleAssignmentQuery {
    #[serde(rename = "user.id")]
    #[param(rename = "user.id")]
    pub user_id: Option<String>,
    #[serde(rename = "group.id")]
    #[param(rename = "group.id")]
    pub group_id: Option<String>,
    #[serde(rename = "role.id")]
    #[param(rename = "role.id")]
    pub role_id: Option<String>,
    #[serde(rename = "scope.project.id")]
    #[param(rename = "scope.project.id")]
    pub project_id: Option<String>,
    #[serde(rename = "scope.domain.id")]
    #[param(rename = "scope.domain.id")]
    pub domain_id: Option<String>,
    /// `all`: only system assignments.
    #[serde(rename = "scope.system")]
    #[param(rename = "scope.system")]
    pub system: Option<String>,
    /// `projects`: only inherited assignments; any other value: only direct ones.
    #[serde(rename = "scope.OS-INHERIT:inherited_to")]
    #[param(rename = "scope.OS-INHERIT:inherited_to")]
    pub inherited_to: Option<String>,
    /// Key-only flag, true unless exactly `0`: groups expanded to their
    /// members and inherited assignments to the projects they reach.
    pub effective: Option<String>,
    /// Key-only flag, true unless exactly `0`: names beside ids.
    pub include_names: Option<String>,
}

/// Keystone's key-only flags: present and not exactly `0`.
fn flag(raw: &Option<String>) -> bool {
    raw.as_deref().is_some_and(|v| v != "0")
}

/// Lists role assignments (admin, or a user their own with `user.id`).
/// Implied roles are not listed.
#[utoipa::path(get, path = "/v3/role_assignments", tag = "roles", params(RoleAssignmentQuery),
    security(("token" = [])),
    responses((status = 200, description = "Role assignments", body = RoleAssignmentsResponse),
              (status = 400, description = "Contradictory filters")))]
pub async fn list_role_assignments(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<RoleAssignmentQuery>,
) -> Result<Json<RoleAssignmentsResponse>, Error> {
    let filter = AssignmentFilter {
        user_id: q.user_id,
        group_id: q.group_id,
        project_id: q.project_id,
        domain_id: q.domain_id,
        system: q.system.is_some(),
        role_id: q.role_id,
        effective: flag(&q.effective),
    };
    let inherited = q.inherited_to.map(|v| v == "projects");
    let rows = app::list_assignments(&state, &auth, &filter, inherited).await?;
    let base = v3_base(&state, &headers);
    let mut names = flag(&q.include_names).then(|| Names::new(state.ctx.db()));
    let mut out = Vec::with_capacity(rows.len());
    for a in rows {
        out.push(render(a, &base, names.as_mut()).await?);
    }
    let path = uri
        .path_and_query()
        .map_or("/v3/role_assignments", |p| p.as_str());
    Ok(Json(RoleAssignmentsResponse {
        role_assignments: out,
        links: CollectionLinks::plain(&state, &headers, path),
    }))
}

async fn render(
    a: Model,
    base: &str,
    names: Option<&mut Names<'_>>,
) -> Result<RoleAssignmentView, Error> {
    let target_path = match a.target_type {
        TargetType::Project => format!("projects/{}", a.target_id),
        TargetType::Domain => format!("domains/{}", a.target_id),
        TargetType::System => "system".to_string(),
    };
    let actor_path = match a.actor_type {
        ActorType::User => format!("users/{}", a.actor_id),
        ActorType::Group => format!("groups/{}", a.actor_id),
    };
    let assignment = if a.inherited {
        format!(
            "{base}/OS-INHERIT/{target_path}/{actor_path}/roles/{}/inherited_to_projects",
            a.role_id
        )
    } else {
        format!("{base}/{target_path}/{actor_path}/roles/{}", a.role_id)
    };
    let plain = |id: &str| EntityRef {
        id: id.to_string(),
        name: None,
        domain: None,
    };
    let (role, actor, target) = match names {
        None => (
            plain(&a.role_id),
            plain(&a.actor_id),
            (a.target_type != TargetType::System).then(|| plain(&a.target_id)),
        ),
        Some(n) => {
            let role = n.role(&a.role_id).await?;
            let actor = n.actor(a.actor_type, &a.actor_id).await?;
            let target = match a.target_type {
                TargetType::Project => Some(n.project(&a.target_id).await?),
                TargetType::Domain => Some(n.domain(&a.target_id).await?.into()),
                TargetType::System => None,
            };
            (role, actor, target)
        }
    };
    let (user, group) = match a.actor_type {
        ActorType::User => (Some(actor), None),
        ActorType::Group => (None, Some(actor)),
    };
    let scope = AssignmentScope {
        project: target
            .clone()
            .filter(|_| a.target_type == TargetType::Project),
        domain: target.filter(|_| a.target_type == TargetType::Domain),
        system: (a.target_type == TargetType::System).then_some(SystemScope { all: true }),
        inherited_to: a.inherited.then(|| "projects".to_string()),
    };
    Ok(RoleAssignmentView {
        role,
        user,
        group,
        scope,
        links: AssignmentLinks { assignment },
    })
}

impl From<DomainRef> for EntityRef {
    fn from(d: DomainRef) -> Self {
        EntityRef {
            id: d.id,
            name: Some(d.name),
            domain: None,
        }
    }
}

/// Names looked up once per entity for `include_names`. An entity gone
/// meanwhile shows an empty name, as Keystone does.
struct Names<'a> {
    db: &'a DatabaseConnection,
    domains: HashMap<String, DomainRef>,
    cache: HashMap<(&'static str, String), EntityRef>,
}

impl<'a> Names<'a> {
    fn new(db: &'a DatabaseConnection) -> Self {
        Names {
            db,
            domains: HashMap::new(),
            cache: HashMap::new(),
        }
    }

    async fn domain(&mut self, id: &str) -> Result<DomainRef, Error> {
        if let Some(d) = self.domains.get(id) {
            return Ok(d.clone());
        }
        let name = match domain::get(self.db, id).await {
            Ok(d) => d.name,
            Err(Error::NotFound { .. }) => String::new(),
            Err(e) => return Err(e),
        };
        let d = DomainRef {
            id: id.to_string(),
            name,
        };
        self.domains.insert(id.to_string(), d.clone());
        Ok(d)
    }

    /// `name` and the owning domain's id, or None if the entity is gone.
    async fn named(
        &mut self,
        kind: &'static str,
        id: &str,
        found: Result<Option<(String, Option<String>)>, Error>,
    ) -> Result<EntityRef, Error> {
        let (name, domain_id) = found?.unwrap_or_default();
        let domain = match domain_id {
            Some(d) => Some(self.domain(&d).await?),
            None => None,
        };
        let e = EntityRef {
            id: id.to_string(),
            name: Some(name),
            domain,
        };
        self.cache.insert((kind, id.to_string()), e.clone());
        Ok(e)
    }

    fn cached(&self, kind: &'static str, id: &str) -> Option<EntityRef> {
        self.cache.get(&(kind, id.to_string())).cloned()
    }

    async fn role(&mut self, id: &str) -> Result<EntityRef, Error> {
        if let Some(e) = self.cached("role", id) {
            return Ok(e);
        }
        let found =
            gone_is_none(role::get(self.db, id).await).map(|r| r.map(|r| (r.name, r.domain_id)));
        self.named("role", id, found).await
    }

    async fn actor(&mut self, t: ActorType, id: &str) -> Result<EntityRef, Error> {
        let kind = match t {
            ActorType::User => "user",
            ActorType::Group => "group",
        };
        if let Some(e) = self.cached(kind, id) {
            return Ok(e);
        }
        let found = match t {
            ActorType::User => gone_is_none(user::get(self.db, id).await)
                .map(|u| u.map(|u| (u.name, Some(u.domain_id)))),
            ActorType::Group => gone_is_none(group::get(self.db, id).await)
                .map(|g| g.map(|g| (g.name, Some(g.domain_id)))),
        };
        self.named(kind, id, found).await
    }

    async fn project(&mut self, id: &str) -> Result<EntityRef, Error> {
        if let Some(e) = self.cached("project", id) {
            return Ok(e);
        }
        let found = gone_is_none(project::get(self.db, id).await)
            .map(|p| p.map(|p| (p.name, Some(p.domain_id))));
        self.named("project", id, found).await
    }
}

fn gone_is_none<T>(r: Result<T, Error>) -> Result<Option<T>, Error> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
