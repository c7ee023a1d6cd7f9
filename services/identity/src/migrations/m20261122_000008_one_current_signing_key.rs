//! At most one `current` and one `next` signing key: two identity instances
//! that start or rotate at once cannot both win, the loser's transaction
//! fails and it reloads the winner's ring.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "signing_key_one_per_live_state";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A partial unique index; SQLite and PostgreSQL both have them.
        m.create_index(
            Index::create()
                .name(INDEX)
                .table("signing_key")
                .col("state")
                .unique()
                .if_not_exists()
                .and_where(Expr::col("state").ne("retired"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(INDEX).table("signing_key").to_owned())
            .await
    }
}
