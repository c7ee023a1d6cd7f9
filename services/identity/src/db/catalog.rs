//! The service catalog: services and their endpoints.

use virga_common::Error;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel, QueryOrder, QueryTrait};

use super::{delete_err, internal, must_find, store_err};

pub mod service {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "service")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The service type, e.g. `compute`; Keystone calls it `type`.
        #[sea_orm(column_name = "type")]
        pub service_type: String,
        pub name: Option<String>,
        pub description: Option<String>,
        pub enabled: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod endpoint {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "endpoint")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub service_id: String,
        pub region_id: Option<String>,
        /// `public`, `internal` or `admin`.
        pub interface: String,
        pub url: String,
        pub enabled: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub const INTERFACES: [&str; 3] = ["public", "internal", "admin"];

fn check_interface(interface: &str) -> Result<(), Error> {
    if !INTERFACES.contains(&interface) {
        return Err(Error::BadRequest(format!(
            "Invalid interface {interface}: expected public, internal or admin."
        )));
    }
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct NewService {
    pub service_type: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub enabled: bool,
}

pub async fn create_service(
    db: &impl ConnectionTrait,
    new: NewService,
) -> Result<service::Model, Error> {
    service::ActiveModel {
        id: Set(super::new_id()),
        service_type: Set(new.service_type),
        name: Set(new.name),
        description: Set(new.description),
        enabled: Set(new.enabled),
    }
    .insert(db)
    .await
    .map_err(store_err("service"))
}

pub async fn get_service(db: &impl ConnectionTrait, id: &str) -> Result<service::Model, Error> {
    must_find::<service::Entity, _>(db, "service", id).await
}

/// All services (a catalog is small: no pagination), optionally of one type.
pub async fn list_services(
    db: &impl ConnectionTrait,
    service_type: Option<&str>,
) -> Result<Vec<service::Model>, Error> {
    let mut q = service::Entity::find().order_by_asc(service::Column::Id);
    q = q.apply_if(service_type, |q, t| {
        q.filter(service::Column::ServiceType.eq(t))
    });
    q.all(db).await.map_err(internal)
}

pub async fn set_service_enabled(
    db: &impl ConnectionTrait,
    id: &str,
    enabled: bool,
) -> Result<service::Model, Error> {
    let mut am = get_service(db, id).await?.into_active_model();
    am.enabled = Set(enabled);
    am.update(db).await.map_err(store_err("service"))
}

#[derive(Debug, Clone, Default)]
pub struct ServiceUpdate {
    pub service_type: Option<String>,
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

pub async fn update_service(
    db: &impl ConnectionTrait,
    id: &str,
    change: ServiceUpdate,
) -> Result<service::Model, Error> {
    let mut am = get_service(db, id).await?.into_active_model();
    super::set_if(&mut am.service_type, change.service_type);
    super::set_if(&mut am.name, change.name);
    super::set_if(&mut am.description, change.description);
    super::set_if(&mut am.enabled, change.enabled);
    am.update(db).await.map_err(store_err("service"))
}

/// Deletes a service with its endpoints (foreign key cascade), as Keystone does.
pub async fn delete_service(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    get_service(db, id).await?;
    service::Entity::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map_err(delete_err("service"))?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct NewEndpoint {
    pub service_id: String,
    pub region_id: Option<String>,
    pub interface: String,
    pub url: String,
    pub enabled: bool,
}

/// Creates an endpoint; an unknown interface is a bad request, an unknown
/// service or region a bad reference.
pub async fn create_endpoint(
    db: &impl ConnectionTrait,
    new: NewEndpoint,
) -> Result<endpoint::Model, Error> {
    check_interface(&new.interface)?;
    endpoint::ActiveModel {
        id: Set(super::new_id()),
        service_id: Set(new.service_id),
        region_id: Set(new.region_id),
        interface: Set(new.interface),
        url: Set(new.url),
        enabled: Set(new.enabled),
    }
    .insert(db)
    .await
    .map_err(store_err("endpoint"))
}

pub async fn get_endpoint(db: &impl ConnectionTrait, id: &str) -> Result<endpoint::Model, Error> {
    must_find::<endpoint::Entity, _>(db, "endpoint", id).await
}

#[derive(Debug, Clone, Default)]
pub struct EndpointFilter {
    pub service_id: Option<String>,
    pub region_id: Option<String>,
    pub interface: Option<String>,
}

pub async fn list_endpoints(
    db: &impl ConnectionTrait,
    f: &EndpointFilter,
) -> Result<Vec<endpoint::Model>, Error> {
    let mut q = endpoint::Entity::find().order_by_asc(endpoint::Column::Id);
    q = q.apply_if(f.service_id.as_deref(), |q, v| {
        q.filter(endpoint::Column::ServiceId.eq(v))
    });
    q = q.apply_if(f.region_id.as_deref(), |q, v| {
        q.filter(endpoint::Column::RegionId.eq(v))
    });
    q = q.apply_if(f.interface.as_deref(), |q, v| {
        q.filter(endpoint::Column::Interface.eq(v))
    });
    q.all(db).await.map_err(internal)
}

#[derive(Debug, Clone, Default)]
pub struct EndpointUpdate {
    pub service_id: Option<String>,
    pub region_id: Option<Option<String>>,
    pub interface: Option<String>,
    pub url: Option<String>,
    pub enabled: Option<bool>,
}

/// Updates an endpoint, with the same checks as [`create_endpoint`].
pub async fn update_endpoint(
    db: &impl ConnectionTrait,
    id: &str,
    change: EndpointUpdate,
) -> Result<endpoint::Model, Error> {
    if let Some(i) = &change.interface {
        check_interface(i)?;
    }
    let mut am = get_endpoint(db, id).await?.into_active_model();
    super::set_if(&mut am.service_id, change.service_id);
    super::set_if(&mut am.region_id, change.region_id);
    super::set_if(&mut am.interface, change.interface);
    super::set_if(&mut am.url, change.url);
    super::set_if(&mut am.enabled, change.enabled);
    am.update(db).await.map_err(store_err("endpoint"))
}

pub async fn delete_endpoint(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    get_endpoint(db, id).await?;
    endpoint::Entity::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map_err(delete_err("endpoint"))?;
    Ok(())
}
