//! Key pairs: a user's SSH public keys, imported or made here (Ed25519,
//! the private half returned once and never kept), with Nova's checks,
//! messages and per-user limit (the project's `key_pairs` quota).

use md5::{Digest, Md5};
use serde_json::Value;
use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::input;
use crate::db::key_pair::{self, Model};

/// A made key pair's private half, returned with the new key pair only.
pub struct Created {
    pub key_pair: Model,
    pub private_key: Option<String>,
}

fn target(auth: &Auth) -> Target {
    Target::new().with("user_id", auth.claims().user_id().to_owned())
}

fn not_found(auth: &Auth, name: &str) -> Error {
    Error::Missing {
        kind: "Keypair",
        message: format!(
            "Keypair {name} not found for user {}",
            auth.claims().user_id()
        ),
    }
}

fn invalid(reason: &str) -> Error {
    Error::BadRequest(format!("Keypair data is invalid: {reason}"))
}

/// Nova's legacy fingerprint: MD5 of the key blob, hex pairs joined by
/// colons.
pub fn fingerprint(public_key: &str) -> Result<String, Error> {
    let bad = || invalid("failed to generate fingerprint");
    let key = ssh_key::PublicKey::from_openssh(public_key.trim()).map_err(|_| bad())?;
    let blob = key.to_bytes().map_err(|_| bad())?;
    let digest = Md5::digest(&blob);
    Ok(digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":"))
}

fn check_name(name: &str) -> Result<(), Error> {
    if !(1..=255).contains(&name.chars().count()) {
        return Err(invalid(
            "Keypair name must be string and between 1 and 255 characters long",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-'))
    {
        return Err(invalid("Keypair name contains unsafe characters"));
    }
    Ok(())
}

/// A create body (`{"keypair": {"name", "public_key"?}}`) checked.
pub fn parse_create(body: &Value) -> Result<(String, Option<String>), Error> {
    let k = input::object(body, "keypair", &["name", "public_key"])?;
    let name = input::required(k, "name")?;
    let name = name
        .as_str()
        .ok_or_else(|| input::invalid("name", name, format!("{name} is not of type 'string'")))?;
    let public_key = match k.get("public_key") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => {
            return Err(input::invalid(
                "public_key",
                v,
                format!("{v} is not of type 'string'"),
            ));
        }
    };
    Ok((name.to_owned(), public_key))
}

pub async fn list(ctx: &ServiceContext, auth: &Auth) -> Result<Vec<Model>, Error> {
    auth.enforce("os_compute_api:os-keypairs:index", &target(auth))?;
    key_pair::of_user(ctx.db(), auth.claims().user_id()).await
}

pub async fn get(ctx: &ServiceContext, auth: &Auth, name: &str) -> Result<Model, Error> {
    auth.enforce("os_compute_api:os-keypairs:show", &target(auth))?;
    key_pair::find(ctx.db(), auth.claims().user_id(), name)
        .await?
        .ok_or_else(|| not_found(auth, name))
}

/// Imports `public_key`, or makes an Ed25519 pair when none is given.
pub async fn create(
    ctx: &ServiceContext,
    auth: &Auth,
    name: &str,
    public_key: Option<String>,
) -> Result<Created, Error> {
    auth.enforce("os_compute_api:os-keypairs:create", &target(auth))?;
    check_name(name)?;
    let user = auth.claims().user_id();
    // The project's `key_pairs` quota, per user.
    let limit = super::quota_set::limit(ctx, auth.claims().project_id(), "key_pairs").await?;
    let over = |n: u64| limit.is_some_and(|l| n > l);
    if over(key_pair::count(ctx.db(), user).await? + 1) {
        return Err(Error::OverLimit(
            "Quota exceeded, too many key pairs.".into(),
        ));
    }
    let (public_key, private_key) = match public_key {
        Some(k) => (k.trim().to_owned(), None),
        None => {
            let private = ssh_key::PrivateKey::random(
                &mut ssh_key::rand_core::OsRng,
                ssh_key::Algorithm::Ed25519,
            )
            .map_err(Error::internal)?;
            let public = private.public_key().to_openssh().map_err(Error::internal)?;
            let pem = private
                .to_openssh(ssh_key::LineEnding::LF)
                .map_err(Error::internal)?;
            (
                format!("{public} Generated-by-Virga"),
                Some(pem.to_string()),
            )
        }
    };
    let fp = fingerprint(&public_key)?;
    let key_pair = key_pair::insert(ctx.db(), user, name, &fp, &public_key)
        .await?
        .ok_or_else(|| Error::Conflict(format!("Key pair '{name}' already exists.")))?;
    // Concurrent creates may all have passed the count: recheck, as Nova
    // does, and take back this one if it went over.
    if over(key_pair::count(ctx.db(), user).await?) {
        key_pair::delete(ctx.db(), user, name).await?;
        return Err(Error::OverLimit(
            "Quota exceeded, too many key pairs.".into(),
        ));
    }
    tracing::info!(user, key_pair = name, "key pair created");
    Ok(Created {
        key_pair,
        private_key,
    })
}

pub async fn delete(ctx: &ServiceContext, auth: &Auth, name: &str) -> Result<(), Error> {
    auth.enforce("os_compute_api:os-keypairs:delete", &target(auth))?;
    if !key_pair::delete(ctx.db(), auth.claims().user_id(), name).await? {
        return Err(not_found(auth, name));
    }
    tracing::info!(
        user = auth.claims().user_id(),
        key_pair = name,
        "key pair deleted"
    );
    Ok(())
}
