//! Browser logins in flight: what the callback needs to finish an
//! authorization-code login (nonce, PKCE verifier, where to post the
//! token), keyed by the OAuth `state` and taken exactly once.

use chrono::Utc;
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::IntoActiveModel;
use virga_db::sea_orm::entity::prelude::*;

use crate::db::internal;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_login")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub state: String,
    pub idp_id: String,
    pub protocol_id: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub origin: String,
    pub redirect_uri: String,
    pub expires_at: ChronoDateTimeUtc,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoLogin")
            .field("idp_id", &self.idp_id)
            .field("protocol_id", &self.protocol_id)
            .field("origin", &self.origin)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Records a login and drops the expired ones, so abandoned logins do
/// not pile up.
pub async fn create(db: &impl ConnectionTrait, m: Model) -> Result<(), Error> {
    Entity::delete_many()
        .filter(Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await
        .map_err(internal)?;
    m.into_active_model().insert(db).await.map_err(internal)?;
    Ok(())
}

/// Takes the login for `state`: only one callback can, and an expired one
/// is gone.
pub async fn take(db: &impl ConnectionTrait, state: &str) -> Result<Option<Model>, Error> {
    let Some(found) = Entity::find_by_id(state.to_string())
        .one(db)
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    let gone = Entity::delete_by_id(state.to_string())
        .exec(db)
        .await
        .map_err(internal)?;
    if gone.rows_affected == 0 || found.expires_at <= Utc::now() {
        return Ok(None);
    }
    Ok(Some(found))
}
