//! Image signature verification with Glance's (cursive's) properties:
//! `img_signature` (base64), `img_signature_hash_method` (SHA-224/256/384/
//! 512), `img_signature_key_type` (RSA-PSS, ECC_SECP384R1, ECC_SECP521R1)
//! and `img_signature_certificate_uuid`, naming a certificate the operator
//! trusts (a PEM file `<uuid>.pem` in `image.signature_certificates_dir`,
//! where OpenStack would ask Barbican). The signature is over the image
//! data itself, as `openssl dgst -<hash> -sign` makes it; it is checked
//! while the data streams in, before anything is committed.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use sha2::Digest;
use x509_cert::Certificate;
use x509_cert::der::{DecodePem, Encode};

pub const SIGNATURE: &str = "img_signature";
pub const HASH_METHOD: &str = "img_signature_hash_method";
pub const KEY_TYPE: &str = "img_signature_key_type";
pub const CERT_UUID: &str = "img_signature_certificate_uuid";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashMethod {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    RsaPss,
    EccP384,
    EccP521,
}

/// A signature to check and the certificate whose key must have made it.
#[derive(Debug, Clone)]
pub struct Check {
    pub hash: HashMethod,
    key_type: KeyType,
    signature: Vec<u8>,
    cert: Certificate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("Signature properties are incomplete: {0} is missing.")]
    Incomplete(&'static str),
    #[error("Invalid signature property {0}: {1}.")]
    Invalid(&'static str, String),
    #[error("The signing certificate {0} is not one this cloud trusts.")]
    UnknownCertificate(String),
    #[error("The signing certificate {0} is not valid now.")]
    CertificateExpired(String),
    #[error("Signature verification failed: the data does not match img_signature.")]
    Mismatch,
}

/// The check the image's properties ask for; None when it is not signed.
pub fn check_for(
    props: &BTreeMap<String, String>,
    certs_dir: &Path,
) -> Result<Option<Check>, SignatureError> {
    let names = [SIGNATURE, HASH_METHOD, KEY_TYPE, CERT_UUID];
    if names.iter().all(|n| !props.contains_key(*n)) {
        return Ok(None);
    }
    let get = |n: &'static str| props.get(n).ok_or(SignatureError::Incomplete(n));
    let hash = match get(HASH_METHOD)?.as_str() {
        "SHA-224" => HashMethod::Sha224,
        "SHA-256" => HashMethod::Sha256,
        "SHA-384" => HashMethod::Sha384,
        "SHA-512" => HashMethod::Sha512,
        other => {
            return Err(SignatureError::Invalid(
                HASH_METHOD,
                format!("{other:?} is not supported"),
            ));
        }
    };
    let key_type = match get(KEY_TYPE)?.as_str() {
        "RSA-PSS" => KeyType::RsaPss,
        "ECC_SECP384R1" => KeyType::EccP384,
        "ECC_SECP521R1" => KeyType::EccP521,
        other => {
            return Err(SignatureError::Invalid(
                KEY_TYPE,
                format!("{other:?} is not supported"),
            ));
        }
    };
    let signature = base64::engine::general_purpose::STANDARD
        .decode(get(SIGNATURE)?.trim())
        .map_err(|_| SignatureError::Invalid(SIGNATURE, "not base64".into()))?;
    let uuid = get(CERT_UUID)?;
    let safe = !uuid.is_empty()
        && uuid.len() <= 64
        && uuid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !safe {
        return Err(SignatureError::UnknownCertificate(uuid.clone()));
    }
    let pem = std::fs::read(certs_dir.join(format!("{uuid}.pem")))
        .map_err(|_| SignatureError::UnknownCertificate(uuid.clone()))?;
    let cert = Certificate::from_pem(&pem)
        .map_err(|e| SignatureError::Invalid(CERT_UUID, format!("unreadable certificate ({e})")))?;
    let validity = &cert.tbs_certificate.validity;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    if now < validity.not_before.to_unix_duration() || now > validity.not_after.to_unix_duration() {
        return Err(SignatureError::CertificateExpired(uuid.clone()));
    }
    Ok(Some(Check {
        hash,
        key_type,
        signature,
        cert,
    }))
}

/// A running digest of the data in the check's hash method.
pub enum Hasher {
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Hasher {
    pub fn new(m: HashMethod) -> Self {
        match m {
            HashMethod::Sha224 => Hasher::Sha224(sha2::Sha224::new()),
            HashMethod::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            HashMethod::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            HashMethod::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }
    pub fn update(&mut self, b: &[u8]) {
        match self {
            Hasher::Sha224(h) => h.update(b),
            Hasher::Sha256(h) => h.update(b),
            Hasher::Sha384(h) => h.update(b),
            Hasher::Sha512(h) => h.update(b),
        }
    }
    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha224(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// Verifies the signature over data whose digest is `digest`.
pub fn verify(check: &Check, digest: &[u8]) -> Result<(), SignatureError> {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::hazmat::PrehashVerifier;
    let spki = check
        .cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| SignatureError::Invalid(CERT_UUID, e.to_string()))?;
    let wrong_key =
        || SignatureError::Invalid(KEY_TYPE, "the certificate holds another kind of key".into());
    let ok = match check.key_type {
        KeyType::RsaPss => {
            let key = rsa::RsaPublicKey::from_public_key_der(&spki).map_err(|_| wrong_key())?;
            let sig = rsa::pss::Signature::try_from(check.signature.as_slice())
                .map_err(|_| SignatureError::Mismatch)?;
            rsa_pss(&key, check.hash, digest, &sig)
        }
        KeyType::EccP384 => {
            let key =
                p384::ecdsa::VerifyingKey::from_public_key_der(&spki).map_err(|_| wrong_key())?;
            p384::ecdsa::Signature::from_der(&check.signature)
                .is_ok_and(|s| key.verify_prehash(digest, &s).is_ok())
        }
        KeyType::EccP521 => {
            let point = p521::PublicKey::from_public_key_der(&spki)
                .map_err(|_| wrong_key())?
                .to_sec1_bytes();
            let key =
                p521::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|_| wrong_key())?;
            p521::ecdsa::Signature::from_der(&check.signature)
                .is_ok_and(|s| key.verify_prehash(digest, &s).is_ok())
        }
    };
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// PSS with the salt OpenSSL uses by default (as long as fits) or the
/// digest's length (what most libraries use).
fn rsa_pss(
    key: &rsa::RsaPublicKey,
    hash: HashMethod,
    digest: &[u8],
    sig: &rsa::pss::Signature,
) -> bool {
    use rsa::signature::hazmat::PrehashVerifier;
    use rsa::traits::PublicKeyParts;
    let em_len = (key.n().bits() - 1).div_ceil(8);
    fn try_both<D>(
        key: &rsa::RsaPublicKey,
        em_len: usize,
        digest: &[u8],
        sig: &rsa::pss::Signature,
    ) -> bool
    where
        D: Digest + sha2::digest::FixedOutputReset,
    {
        let h = <D as Digest>::output_size();
        let max = em_len.saturating_sub(h + 2);
        [max, h].into_iter().any(|salt| {
            rsa::pss::VerifyingKey::<D>::new_with_salt_len(key.clone(), salt)
                .verify_prehash(digest, sig)
                .is_ok()
        })
    }
    match hash {
        HashMethod::Sha224 => try_both::<sha2::Sha224>(key, em_len, digest, sig),
        HashMethod::Sha256 => try_both::<sha2::Sha256>(key, em_len, digest, sig),
        HashMethod::Sha384 => try_both::<sha2::Sha384>(key, em_len, digest, sig),
        HashMethod::Sha512 => try_both::<sha2::Sha512>(key, em_len, digest, sig),
    }
}
