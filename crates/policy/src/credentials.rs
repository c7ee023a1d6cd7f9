//! Who is asking: the caller's identity, scope and roles as a policy sees
//! them, and the names generic checks use to refer to each attribute.

/// The caller, as taken from a verified token. Absent attributes are `None`;
/// a check against an absent attribute is false, never "None equals None".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    pub user_id: Option<String>,
    pub user_domain_id: Option<String>,
    /// Set for project-scoped tokens.
    pub project_id: Option<String>,
    pub project_domain_id: Option<String>,
    /// Set for domain-scoped tokens.
    pub domain_id: Option<String>,
    /// `Some("all")` for system-scoped tokens, Keystone's only system scope.
    pub system_scope: Option<String>,
    /// Role names; `role:` checks compare them case-insensitively.
    pub roles: Vec<String>,
}

/// A credential attribute a generic check can name on its left side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Attr {
    UserId,
    UserDomainId,
    ProjectId,
    ProjectDomainId,
    DomainId,
    SystemScope,
    /// oslo compares a list attribute element by element, case-sensitively,
    /// unlike `role:`; kept for rules written against that behaviour.
    Roles,
}

impl Attr {
    pub(crate) fn from_name(name: &str) -> Option<Attr> {
        Some(match name {
            "user_id" => Attr::UserId,
            "user_domain_id" => Attr::UserDomainId,
            "project_id" => Attr::ProjectId,
            "project_domain_id" => Attr::ProjectDomainId,
            "domain_id" => Attr::DomainId,
            "system_scope" => Attr::SystemScope,
            "roles" => Attr::Roles,
            _ => return None,
        })
    }
}

impl Credentials {
    /// The single value of a scalar attribute; `None` for [`Attr::Roles`],
    /// which the caller handles as a list.
    pub(crate) fn scalar(&self, attr: Attr) -> Option<&str> {
        match attr {
            Attr::UserId => self.user_id.as_deref(),
            Attr::UserDomainId => self.user_domain_id.as_deref(),
            Attr::ProjectId => self.project_id.as_deref(),
            Attr::ProjectDomainId => self.project_domain_id.as_deref(),
            Attr::DomainId => self.domain_id.as_deref(),
            Attr::SystemScope => self.system_scope.as_deref(),
            Attr::Roles => None,
        }
    }
}
