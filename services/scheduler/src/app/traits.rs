//! Traits: qualitative capabilities of a provider (`HW_ARCH_AARCH64`,
//! `HW_CPU_X86_AVX2`, an operator's `CUSTOM_EDGE_CAMERA`). The standard
//! ones are os-traits' list, fixed here; custom ones are created first.
//! A provider's trait set changes compare-and-set on its generation, as
//! its inventories do (microversion 1.6).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use virga_common::Error;
use virga_service::ServiceContext;

use super::resource_provider;
use crate::db::{custom_trait, provider, provider_trait};

/// Traits asked for by `required` parameters: all of `required`, at
/// least one of each `any` set (1.39's `in:A,B`), none of `forbidden`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Traits {
    pub required: BTreeSet<String>,
    pub any: Vec<BTreeSet<String>>,
    pub forbidden: BTreeSet<String>,
}

impl Traits {
    pub fn is_empty(&self) -> bool {
        self.required.is_empty() && self.any.is_empty() && self.forbidden.is_empty()
    }
}

/// os-traits' standard traits, sorted.
pub static STANDARD: LazyLock<BTreeSet<&'static str>> =
    LazyLock::new(|| virga_protocol::scheduler::standard_traits().collect());

/// `CUSTOM_` and then capitals, digits and underscores, at most 255 long.
pub fn is_custom_name(name: &str) -> bool {
    super::resource_class::is_custom_name(name)
}

/// How `GET /traits` filters by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameFilter {
    In(Vec<String>),
    StartsWith(String),
}

/// Every trait (standard and custom), filtered, sorted; `associated`
/// keeps only those some provider has (`true`) or none has (`false`).
pub async fn list(
    ctx: &ServiceContext,
    name: Option<&NameFilter>,
    associated: Option<bool>,
) -> Result<Vec<String>, Error> {
    let mut all: BTreeSet<String> = STANDARD.iter().map(|s| s.to_string()).collect();
    all.extend(custom_trait::all(ctx.db()).await?);
    match name {
        Some(NameFilter::In(names)) => all.retain(|t| names.contains(t)),
        Some(NameFilter::StartsWith(p)) => all.retain(|t| t.starts_with(p.as_str())),
        None => {}
    }
    if let Some(want) = associated {
        let used: BTreeSet<String> = provider_trait::associated(ctx.db())
            .await?
            .into_iter()
            .collect();
        all.retain(|t| used.contains(t) == want);
    }
    Ok(all.into_iter().collect())
}

/// The names among `names` that are no trait at all.
pub async fn unknown(ctx: &ServiceContext, names: &[String]) -> Result<Vec<String>, Error> {
    let custom: Vec<String> = names
        .iter()
        .filter(|n| !STANDARD.contains(n.as_str()))
        .cloned()
        .collect();
    let found = custom_trait::existing(ctx.db(), &custom).await?;
    Ok(custom.into_iter().filter(|n| !found.contains(n)).collect())
}

pub fn no_such(names: &[String]) -> Error {
    Error::BadRequest(format!("No such trait(s): {}.", names.join(", ")))
}

pub async fn exists(ctx: &ServiceContext, name: &str) -> Result<bool, Error> {
    Ok(unknown(ctx, &[name.to_owned()]).await?.is_empty())
}

/// Creates a custom trait; false when it already existed.
pub async fn create(ctx: &ServiceContext, name: &str) -> Result<bool, Error> {
    if !is_custom_name(name) {
        return Err(Error::BadRequest(format!(
            "The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix \"CUSTOM_\" and use following characters: \"A\"-\"Z\", \"0\"-\"9\" and \"_\" (got '{name}')."
        )));
    }
    let created = custom_trait::create(ctx.db(), name).await?;
    if created {
        tracing::info!(r#trait = %name, "custom trait created");
    }
    Ok(created)
}

/// Deletes a custom trait no provider has.
pub async fn delete(ctx: &ServiceContext, name: &str) -> Result<(), Error> {
    if STANDARD.contains(name) {
        return Err(Error::BadRequest(format!(
            "Cannot delete standard trait {name}."
        )));
    }
    if !exists(ctx, name).await? {
        return Err(Error::NotFound {
            kind: "trait",
            id: name.to_owned(),
        });
    }
    if provider_trait::in_use(ctx.db(), name).await? {
        return Err(Error::Conflict(format!(
            "The trait {name} is in use by a resource provider."
        )));
    }
    custom_trait::delete(ctx.db(), name).await
}

/// A provider's traits and generation.
pub async fn of_provider(ctx: &ServiceContext, uuid: &str) -> Result<(Vec<String>, i64), Error> {
    let p = resource_provider::get(ctx, uuid).await?;
    Ok((provider_trait::of(ctx.db(), uuid).await?, p.generation))
}

/// Sets a provider's traits to exactly `traits` as of generation `seen`
/// (None: whatever it is now, for DELETE); the traits and new generation.
pub async fn set_for_provider(
    ctx: &ServiceContext,
    uuid: &str,
    seen: Option<i64>,
    mut traits: Vec<String>,
) -> Result<(Vec<String>, i64), Error> {
    let p = resource_provider::get(ctx, uuid).await?;
    let seen = seen.unwrap_or(p.generation);
    let missing = unknown(ctx, &traits).await?;
    if !missing.is_empty() {
        return Err(no_such(&missing));
    }
    traits.sort();
    traits.dedup();
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if !provider::bump(&txn, uuid, seen).await? {
        return Err(super::inventory::generation_conflict(uuid));
    }
    provider_trait::replace(&txn, uuid, &traits).await?;
    txn.commit().await.map_err(Error::internal)?;
    crate::app::select::cache::changed(ctx);
    Ok((traits, seen + 1))
}
