//! Migrations and queries run unchanged on SQLite and PostgreSQL: the same
//! migrator and the same sea-orm queries against both backends.

use sea_orm::entity::prelude::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Uuid};
use sea_orm::{ActiveValue::Set, QueryOrder};
use sea_orm_migration::prelude::{
    ColumnDef, DbErr, DeriveMigrationName, MigrationTrait, MigratorTrait, SchemaManager, Table,
};
use virga_db::{sea_orm, sea_orm_migration};

mod widget {
    use super::sea_orm;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "widget")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(unique)]
        pub name: String,
        pub size: i64,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(DeriveMigrationName)]
struct CreateWidget;

#[async_trait::async_trait]
impl MigrationTrait for CreateWidget {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("widget")
                .col(ColumnDef::new("id").uuid().not_null().primary_key())
                .col(ColumnDef::new("name").string().not_null().unique_key())
                .col(ColumnDef::new("size").big_integer().not_null())
                .col(
                    ColumnDef::new("created_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await
    }
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("widget").to_owned()).await
    }
}

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateWidget)]
    }
}

async fn exercise(url: &str) {
    let db = virga_db::connect_and_migrate::<Migrator>(url, 2)
        .await
        .unwrap();
    // A second start applies nothing and fails on nothing.
    virga_db::migrate::<Migrator>(&db, url).await.unwrap();

    for (name, size) in [("b", 2), ("a", 1)] {
        widget::ActiveModel {
            id: Set(Uuid::new_v4()),
            name: Set(name.into()),
            size: Set(size),
            created_at: Set(chrono::Utc::now()),
        }
        .insert(&db)
        .await
        .unwrap();
    }
    let dup = widget::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set("a".into()),
        size: Set(3),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(&db)
    .await;
    assert!(dup.is_err(), "unique constraint holds");

    let rows = widget::Entity::find()
        .filter(widget::Column::Size.gt(0))
        .order_by_asc(widget::Column::Name)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
}

#[tokio::test]
async fn migrations_and_queries_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/svc.db", dir.path().display());
    exercise(&url).await;
    assert!(dir.path().join("nested/svc.db").exists());
}

#[tokio::test]
async fn migrations_and_queries_on_postgres() {
    let url = virga_testkit::postgres::shared().fresh_database();
    exercise(&url).await;
}

#[tokio::test]
async fn missing_postgres_database_is_created() {
    let pg = virga_testkit::postgres::shared();
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/virga_created_{}?sslmode=disable",
        pg.port(),
        uuid::Uuid::new_v4().simple()
    );
    exercise(&url).await;
}

#[tokio::test]
async fn unreachable_database_is_one_clear_error() {
    let err = virga_db::connect("postgres://nobody:pw@127.0.0.1:1/x?sslmode=disable", 1)
        .await
        .unwrap_err();
    let line = err.to_string();
    assert!(line.contains("cannot connect"), "{line}");
    assert!(!line.contains("pw"), "password redacted: {line}");
}
