//! The ledger's rows.

pub mod instance {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "instance")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub uuid: String,
        pub generation: i64,
        /// The `InstanceSpec` as JSON.
        pub spec: String,
        /// `running`, `stopped` or `deleted`.
        pub power: String,
        pub state: String,
        pub reason: Option<String>,
        pub request_id: Option<String>,
        /// `soft` or `hard` while a reboot is asked and not yet done.
        pub pending_reboot: Option<String>,
        /// The image id the guest's root disk was made from.
        pub built_image: Option<String>,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod meta {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "agent_meta")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub value: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod node_network {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "node_network")]
    pub struct Model {
        /// Always 1: a node has one plan.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub generation: i64,
        /// The `NodeNetwork` as JSON.
        pub state: String,
        pub request_id: Option<String>,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
