//! Groups (table `user_group`) and their memberships.

use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::Query;
use virga_db::sea_orm::{ActiveValue::Set, Condition, IntoActiveModel, QueryOrder, QueryTrait};

use super::{delete_err, internal, must_find, paginate, store_err, user};

const KIND: &str = "group";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_group")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub description: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The `group_membership` table: (user_id, group_id).
pub mod membership {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "group_membership")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub group_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(Debug, Clone, Default)]
pub struct NewGroup {
    pub name: String,
    pub domain_id: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct GroupUpdate {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    pub name: Option<String>,
    pub domain_id: Option<String>,
}

pub async fn create(db: &impl ConnectionTrait, new: NewGroup) -> Result<Model, Error> {
    ActiveModel {
        id: Set(super::new_id()),
        name: Set(new.name),
        domain_id: Set(new.domain_id),
        description: Set(new.description),
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
    filter: &GroupFilter,
    page: &PageRequest,
) -> Result<Page<Model>, Error> {
    let mut q = Entity::find();
    q = q.apply_if(filter.name.as_deref(), |q, v| q.filter(Column::Name.eq(v)));
    q = q.apply_if(filter.domain_id.as_deref(), |q, v| {
        q.filter(Column::DomainId.eq(v))
    });
    paginate(db, q, Column::Id, page, |m| m.id.clone()).await
}

pub async fn update(
    db: &impl ConnectionTrait,
    id: &str,
    change: GroupUpdate,
) -> Result<Model, Error> {
    let mut am = get(db, id).await?.into_active_model();
    super::set_if(&mut am.name, change.name);
    super::set_if(&mut am.description, change.description);
    am.update(db).await.map_err(store_err(KIND))
}

/// Deletes a group with its role assignments; memberships cascade.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    get(db, id).await?;
    // The row first: if a foreign key blocks it, the assignments stay.
    Entity::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map_err(delete_err(KIND))?;
    super::assignment::delete_for_actor(db, super::assignment::ActorType::Group, id).await?;
    Ok(())
}

/// Adds a user to a group; adding a member again is not an error (PUT semantics).
pub async fn add_member(
    db: &impl ConnectionTrait,
    group_id: &str,
    user_id: &str,
) -> Result<(), Error> {
    get(db, group_id).await?;
    user::get(db, user_id).await?;
    if is_member(db, group_id, user_id).await? {
        return Ok(());
    }
    let added = membership::ActiveModel {
        user_id: Set(user_id.to_string()),
        group_id: Set(group_id.to_string()),
    }
    .insert(db)
    .await;
    match added.map_err(store_err("group membership")) {
        // A concurrent add won the race: the membership exists, as asked.
        Ok(_) | Err(Error::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn remove_member(
    db: &impl ConnectionTrait,
    group_id: &str,
    user_id: &str,
) -> Result<(), Error> {
    let gone = membership::Entity::delete_by_id((user_id.to_string(), group_id.to_string()))
        .exec(db)
        .await
        .map_err(internal)?;
    if gone.rows_affected == 0 {
        return Err(Error::NotFound {
            kind: "user",
            id: format!("{user_id} in group {group_id}"),
        });
    }
    Ok(())
}

pub async fn is_member(
    db: &impl ConnectionTrait,
    group_id: &str,
    user_id: &str,
) -> Result<bool, Error> {
    Ok(
        membership::Entity::find_by_id((user_id.to_string(), group_id.to_string()))
            .one(db)
            .await
            .map_err(internal)?
            .is_some(),
    )
}

/// The group called `name` in `domain_id`, if there is one.
pub async fn find_by_name(
    db: &impl ConnectionTrait,
    domain_id: &str,
    name: &str,
) -> Result<Option<Model>, Error> {
    Entity::find()
        .filter(Column::DomainId.eq(domain_id))
        .filter(Column::Name.eq(name))
        .one(db)
        .await
        .map_err(internal)
}

/// The groups `user_id` belongs to, ordered by id: its memberships and
/// the unexpired ones a federated login mapped it to.
pub async fn groups_of(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(in_groups_of(Column::Id, user_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await
        .map_err(internal)
}

/// A condition that `col` (a group id) is one of `user_id`'s groups, as
/// subqueries, so a caller filters by membership in the same query.
pub fn in_groups_of(col: impl ColumnTrait, user_id: &str) -> Condition {
    use super::federation::membership as expiring;
    Condition::any()
        .add(
            col.in_subquery(
                Query::select()
                    .column(membership::Column::GroupId)
                    .from(membership::Entity)
                    .and_where(membership::Column::UserId.eq(user_id))
                    .to_owned(),
            ),
        )
        .add(
            col.in_subquery(
                Query::select()
                    .column(expiring::Column::GroupId)
                    .from(expiring::Entity)
                    .and_where(expiring::Column::UserId.eq(user_id))
                    .and_where(expiring::Column::ExpiresAt.gt(chrono::Utc::now()))
                    .to_owned(),
            ),
        )
}

/// The ids of the members of `group_id`.
pub async fn member_ids(db: &impl ConnectionTrait, group_id: &str) -> Result<Vec<String>, Error> {
    let rows = membership::Entity::find()
        .filter(membership::Column::GroupId.eq(group_id))
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().map(|m| m.user_id).collect())
}
