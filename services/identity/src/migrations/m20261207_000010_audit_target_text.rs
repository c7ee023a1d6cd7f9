//! An audit event's target id as text: a grant's target
//! (`user:<id>/project:<id>/<role id>`) is longer than an id column, and
//! PostgreSQL refused those events (SQLite ignores declared lengths).

use virga_db::sea_orm::DbBackend;
use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn set_type(m: &SchemaManager<'_>, col: ColumnDef) -> Result<(), DbErr> {
    // SQLite cannot alter a column's type, and needs not: it stores any
    // length whatever the declaration says.
    if m.get_database_backend() == DbBackend::Sqlite {
        return Ok(());
    }
    m.alter_table(
        Table::alter()
            .table("audit_event")
            .modify_column(col)
            .to_owned(),
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        set_type(m, ColumnDef::new("target_id").text().not_null().to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Events with longer targets would not fit back: keep them whole
        // rather than fail the downgrade, as the column stays wide.
        let _ = m;
        Ok(())
    }
}
