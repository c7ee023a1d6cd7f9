//! Key pairs: a user's public keys, imported or made here, with Nova's
//! checks, messages and per-user limit (the project's `key_pairs`
//! quota). An `ssh` key (OpenSSH; made: Ed25519, the private half
//! returned once and never kept) or, from microversion 2.2, an `x509`
//! certificate ([`super::x509`]); from 2.10 an admin names the user whose
//! key pairs are meant.

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

/// A create request, checked.
#[derive(Debug, Default)]
pub struct NewKeyPair {
    pub name: String,
    pub public_key: Option<String>,
    /// `ssh` or `x509`.
    pub kind: String,
    /// Another user's (2.10, admins).
    pub user_id: Option<String>,
}

/// The user meant: the one asked for (2.10), else the caller.
fn user<'a>(auth: &'a Auth, asked: Option<&'a str>) -> &'a str {
    asked.unwrap_or_else(|| auth.claims().user_id())
}

fn target(user: &str) -> Target {
    Target::new().with("user_id", user.to_owned())
}

fn not_found(user: &str, name: &str) -> Error {
    Error::Missing {
        kind: "Keypair",
        message: format!("Keypair {name} not found for user {user}"),
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

fn string(k: &serde_json::Map<String, Value>, field: &str) -> Result<Option<String>, Error> {
    match k.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(input::invalid(
            field,
            v,
            format!("{v} is not of type 'string'"),
        )),
    }
}

/// A create body (`{"keypair": {"name", "public_key"?}}`; `type` from
/// microversion 2.2, `user_id` from 2.10) checked.
pub fn parse_create(body: &Value, type_field: bool, user_field: bool) -> Result<NewKeyPair, Error> {
    let mut fields = vec!["name", "public_key"];
    fields.extend(type_field.then_some("type"));
    fields.extend(user_field.then_some("user_id"));
    let k = input::object(body, "keypair", &fields)?;
    let name = input::required(k, "name")?;
    let name = name
        .as_str()
        .ok_or_else(|| input::invalid("name", name, format!("{name} is not of type 'string'")))?;
    let kind = string(k, "type")?.unwrap_or_else(|| "ssh".into());
    if !matches!(kind.as_str(), "ssh" | "x509") {
        return Err(input::invalid(
            "type",
            &k["type"],
            format!("'{kind}' is not one of ['ssh', 'x509']"),
        ));
    }
    Ok(NewKeyPair {
        name: name.to_owned(),
        public_key: string(k, "public_key")?,
        kind,
        user_id: string(k, "user_id")?,
    })
}

pub async fn list(
    ctx: &ServiceContext,
    auth: &Auth,
    asked: Option<&str>,
) -> Result<Vec<Model>, Error> {
    let user = user(auth, asked);
    auth.enforce("os_compute_api:os-keypairs:index", &target(user))?;
    key_pair::of_user(ctx.db(), user).await
}

pub async fn get(
    ctx: &ServiceContext,
    auth: &Auth,
    name: &str,
    asked: Option<&str>,
) -> Result<Model, Error> {
    let user = user(auth, asked);
    auth.enforce("os_compute_api:os-keypairs:show", &target(user))?;
    key_pair::find(ctx.db(), user, name)
        .await?
        .ok_or_else(|| not_found(user, name))
}

/// The key to keep and the private half to return once: `public_key`
/// checked, or a pair made here.
async fn material(new: &NewKeyPair, user: &str) -> Result<(String, String, Option<String>), Error> {
    match (new.kind.as_str(), &new.public_key) {
        ("x509", Some(cert)) => {
            let fp = super::x509::fingerprint(cert)
                .ok_or_else(|| invalid("failed to generate X509 fingerprint"))?;
            Ok((cert.trim().to_owned(), fp, None))
        }
        ("x509", None) => {
            // An RSA key takes a good part of a second: off the runtime.
            let user = user.to_owned();
            let (cert, private, fp) = tokio::task::spawn_blocking(move || super::x509::make(&user))
                .await
                .map_err(Error::internal)?
                .map_err(Error::internal)?;
            Ok((cert, fp, Some(private)))
        }
        (_, Some(k)) => {
            let k = k.trim().to_owned();
            let fp = fingerprint(&k)?;
            Ok((k, fp, None))
        }
        (_, None) => {
            let private = ssh_key::PrivateKey::random(
                &mut ssh_key::rand_core::OsRng,
                ssh_key::Algorithm::Ed25519,
            )
            .map_err(Error::internal)?;
            let public = private.public_key().to_openssh().map_err(Error::internal)?;
            let pem = private
                .to_openssh(ssh_key::LineEnding::LF)
                .map_err(Error::internal)?;
            let public = format!("{public} Generated-by-Virga");
            let fp = fingerprint(&public)?;
            Ok((public, fp, Some(pem.to_string())))
        }
    }
}

/// Imports `public_key`, or makes a pair when none is given; for the
/// user asked for (2.10, admins) or the caller.
pub async fn create(ctx: &ServiceContext, auth: &Auth, new: NewKeyPair) -> Result<Created, Error> {
    let user = user(auth, new.user_id.as_deref());
    auth.enforce("os_compute_api:os-keypairs:create", &target(user))?;
    let name = new.name.as_str();
    check_name(name)?;
    // The project's `key_pairs` quota, per user.
    let limit = super::quota_set::limit(ctx, auth.claims().project_id(), "key_pairs").await?;
    let over = |n: u64| limit.is_some_and(|l| n > l);
    if over(key_pair::count(ctx.db(), user).await? + 1) {
        return Err(Error::OverLimit(
            "Quota exceeded, too many key pairs.".into(),
        ));
    }
    let (public_key, fp, private_key) = material(&new, user).await?;
    let key_pair = key_pair::insert(ctx.db(), user, name, &fp, &public_key, &new.kind)
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
    tracing::info!(user, key_pair = name, kind = %new.kind, "key pair created");
    Ok(Created {
        key_pair,
        private_key,
    })
}

pub async fn delete(
    ctx: &ServiceContext,
    auth: &Auth,
    name: &str,
    asked: Option<&str>,
) -> Result<(), Error> {
    let user = user(auth, asked);
    auth.enforce("os_compute_api:os-keypairs:delete", &target(user))?;
    if !key_pair::delete(ctx.db(), user, name).await? {
        return Err(not_found(user, name));
    }
    tracing::info!(user, key_pair = name, "key pair deleted");
    Ok(())
}
