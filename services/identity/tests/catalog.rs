//! Catalog and region stores: FK rules, interface validation, cascades.

#[macro_use]
mod common;

use virga_common::Error;
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::db::catalog::{self, EndpointFilter, NewEndpoint, NewService};
use virga_identity::db::region::{self, NewRegion, RegionUpdate};

on_both!(regions_services_endpoints);

async fn regions_services_endpoints(db: &DatabaseConnection) {
    let metro = region::create(
        db,
        NewRegion {
            id: Some("metro".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let edge = region::create(
        db,
        NewRegion {
            id: Some("edge-1".into()),
            parent_region_id: Some(metro.id.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        region::create(
            db,
            NewRegion {
                id: Some("metro".into()),
                ..Default::default()
            }
        )
        .await,
        Err(Error::Conflict(_))
    ));
    let cycle = RegionUpdate {
        parent_region_id: Some(Some(edge.id.clone())),
        ..Default::default()
    };
    assert!(matches!(
        region::update(db, &metro.id, cycle).await,
        Err(Error::BadRequest(_))
    ));
    let r = region::delete(db, &metro.id).await;
    assert!(matches!(r, Err(Error::Conflict(_))), "has a child: {r:?}");

    let svc = catalog::create_service(
        db,
        NewService {
            service_type: "compute".into(),
            enabled: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let ep = |interface: &str, service: &str| NewEndpoint {
        service_id: service.into(),
        region_id: Some(edge.id.clone()),
        interface: interface.into(),
        url: "http://h:8774/v2.1".into(),
        enabled: true,
    };
    let e = catalog::create_endpoint(db, ep("public", &svc.id))
        .await
        .unwrap();
    assert!(matches!(
        catalog::create_endpoint(db, ep("weird", &svc.id)).await,
        Err(Error::BadRequest(_))
    ));
    assert!(matches!(
        catalog::create_endpoint(db, ep("admin", "nosvc")).await,
        Err(Error::BadRequest(_))
    ));
    let f = EndpointFilter {
        region_id: Some(edge.id.clone()),
        ..Default::default()
    };
    assert_eq!(
        catalog::list_endpoints(db, &f).await.unwrap(),
        vec![e.clone()]
    );
    assert!(
        matches!(region::delete(db, &edge.id).await, Err(Error::Conflict(_))),
        "has an endpoint"
    );

    catalog::delete_service(db, &svc.id).await.unwrap();
    assert!(matches!(
        catalog::get_endpoint(db, &e.id).await,
        Err(Error::NotFound {
            kind: "endpoint",
            ..
        })
    ));
    region::delete(db, &edge.id).await.unwrap();
    region::delete(db, &metro.id).await.unwrap();
}
