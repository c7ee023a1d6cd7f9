//! Identity providers: a trusted external IdP bound to one domain, its
//! remote ids (issuer URLs, each naming one provider only) and, for OpenID
//! Connect, the client Virga is registered as there.

use std::collections::BTreeMap;
use std::fmt;

use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel, QueryOrder, QueryTrait};

use crate::db::{delete_err, internal, must_find, now, paginate, set_if, store_err};

const KIND: &str = "identity provider";

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_provider")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub domain_id: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub authorization_ttl: Option<i32>,
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    pub oidc_client_secret: Option<String>,
    pub oidc_scopes: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("id", &self.id)
            .field("domain_id", &self.domain_id)
            .field("enabled", &self.enabled)
            .field("oidc_issuer", &self.oidc_issuer)
            .field("oidc_client_id", &self.oidc_client_id)
            .field(
                "oidc_client_secret",
                &self.oidc_client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The `idp_remote_id` table: remote id -> identity provider.
pub mod remote_id {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idp_remote_id")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub remote_id: String,
        pub idp_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Virga's OpenID Connect client at the provider.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Space-separated scopes to ask for in a browser login.
    pub scopes: String,
}

impl fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// The provider's OpenID Connect client, when it has one.
    pub fn oidc(&self) -> Option<OidcSettings> {
        Some(OidcSettings {
            issuer: self.oidc_issuer.clone()?,
            client_id: self.oidc_client_id.clone()?,
            client_secret: self.oidc_client_secret.clone(),
            scopes: self.oidc_scopes.clone().unwrap_or_default(),
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewIdentityProvider {
    pub id: String,
    pub domain_id: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub authorization_ttl: Option<i32>,
    pub oidc: Option<OidcSettings>,
}

/// `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default)]
pub struct IdentityProviderUpdate {
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub authorization_ttl: Option<Option<i32>>,
    pub oidc: Option<Option<OidcSettings>>,
}

#[derive(Debug, Clone, Default)]
pub struct IdentityProviderFilter {
    pub id: Option<String>,
    pub enabled: Option<bool>,
}

pub async fn create(db: &impl ConnectionTrait, new: NewIdentityProvider) -> Result<Model, Error> {
    let at = now();
    let oidc = new.oidc.unwrap_or_default();
    let some = |s: String| (!s.is_empty()).then_some(s);
    ActiveModel {
        id: Set(new.id),
        domain_id: Set(new.domain_id),
        description: Set(new.description),
        enabled: Set(new.enabled),
        authorization_ttl: Set(new.authorization_ttl),
        oidc_issuer: Set(some(oidc.issuer)),
        oidc_client_id: Set(some(oidc.client_id)),
        oidc_client_secret: Set(oidc.client_secret),
        oidc_scopes: Set(some(oidc.scopes)),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(db)
    .await
    .map_err(store_err(KIND))
}

pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Model, Error> {
    must_find::<Entity, _>(db, KIND, id).await
}

pub async fn list(
    db: &impl ConnectionTrait,
    f: &IdentityProviderFilter,
    page: &PageRequest,
) -> Result<Page<Model>, Error> {
    let q = Entity::find()
        .apply_if(f.id.as_deref(), |q, v| q.filter(Column::Id.eq(v)))
        .apply_if(f.enabled, |q, v| q.filter(Column::Enabled.eq(v)));
    paginate(db, q, Column::Id, page, |m| m.id.clone()).await
}

pub async fn update(
    db: &impl ConnectionTrait,
    id: &str,
    change: IdentityProviderUpdate,
) -> Result<Model, Error> {
    let mut am = get(db, id).await?.into_active_model();
    set_if(&mut am.description, change.description);
    set_if(&mut am.enabled, change.enabled);
    set_if(&mut am.authorization_ttl, change.authorization_ttl);
    if let Some(oidc) = change.oidc {
        let oidc = oidc.unwrap_or_default();
        let some = |s: String| (!s.is_empty()).then_some(s);
        am.oidc_issuer = Set(some(oidc.issuer));
        am.oidc_client_id = Set(some(oidc.client_id));
        am.oidc_client_secret = Set(oidc.client_secret);
        am.oidc_scopes = Set(some(oidc.scopes));
    }
    am.updated_at = Set(now());
    am.update(db).await.map_err(store_err(KIND))
}

/// Deletes the provider; its protocols, remote ids, shadow-user links and
/// expiring memberships go with it (foreign keys cascade).
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    get(db, id).await?;
    Entity::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map_err(delete_err(KIND))?;
    Ok(())
}

/// Replaces the provider's remote ids. One that already names another
/// provider is Keystone's 409.
pub async fn set_remote_ids(
    db: &impl ConnectionTrait,
    idp_id: &str,
    ids: &[String],
) -> Result<(), Error> {
    remote_id::Entity::delete_many()
        .filter(remote_id::Column::IdpId.eq(idp_id))
        .exec(db)
        .await
        .map_err(internal)?;
    for rid in ids {
        let added = remote_id::ActiveModel {
            remote_id: Set(rid.clone()),
            idp_id: Set(idp_id.to_string()),
        }
        .insert(db)
        .await;
        if let Err(e) = added {
            return Err(match store_err("remote id")(e) {
                Error::Conflict(_) => Error::Conflict(format!(
                    "Duplicate remote ID: {rid} is already used by another identity provider."
                )),
                other => other,
            });
        }
    }
    Ok(())
}

/// The remote ids of each of `idp_ids`, sorted.
pub async fn remote_ids(
    db: &impl ConnectionTrait,
    idp_ids: &[String],
) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let rows = remote_id::Entity::find()
        .filter(remote_id::Column::IdpId.is_in(idp_ids.iter().map(String::as_str)))
        .order_by_asc(remote_id::Column::RemoteId)
        .all(db)
        .await
        .map_err(internal)?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in rows {
        out.entry(r.idp_id).or_default().push(r.remote_id);
    }
    Ok(out)
}

/// The ids of the providers in `domain_id`.
pub async fn ids_in_domain(
    db: &impl ConnectionTrait,
    domain_id: &str,
) -> Result<Vec<String>, Error> {
    let rows = Entity::find()
        .filter(Column::DomainId.eq(domain_id))
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().map(|m| m.id).collect())
}
