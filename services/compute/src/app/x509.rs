//! Key pairs of type `x509` (microversion 2.2, for WinRM): a certificate
//! imported, or made here as Nova makes one (a self-signed RSA-2048
//! certificate for `CN=<user>`, client authentication, the user's UPN
//! `<user>@localhost` as subject alternative name), fingerprinted as Nova
//! does (SHA-1 of the DER certificate, hex pairs joined by colons).

use std::str::FromStr;
use std::time::Duration;

use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use sha1::{Digest, Sha1};
use x509_cert::Certificate;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::{Any, ObjectIdentifier, Utf8StringRef};
use x509_cert::der::{DecodePem, Encode, EncodePem};
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;

/// Microsoft's User Principal Name, the `otherName` WinRM maps.
const UPN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.3");
/// `id-kp-clientAuth`.
const CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
/// Ten years, as Nova's `openssl req -days 3650`.
const VALID_FOR: Duration = Duration::from_secs(3650 * 24 * 3600);

/// Why a certificate could not be made (an internal error: the inputs
/// are ours).
#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    #[error("cannot make the RSA key")]
    Key(#[source] rsa::Error),
    #[error("cannot encode the key or certificate")]
    Encoding(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn encoding(e: impl std::error::Error + Send + Sync + 'static) -> MakeError {
    MakeError::Encoding(Box::new(e))
}

/// Nova's fingerprint of a certificate's DER bytes.
fn fingerprint_der(der: &[u8]) -> String {
    Sha1::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The fingerprint of a PEM certificate; `None` when it is none.
pub fn fingerprint(pem: &str) -> Option<String> {
    let cert = Certificate::from_pem(pem.trim().as_bytes()).ok()?;
    Some(fingerprint_der(&cert.to_der().ok()?))
}

/// A new certificate for `user`: (its PEM, the private key's PKCS#8 PEM,
/// the fingerprint).
pub fn make(user: &str) -> Result<(String, String, String), MakeError> {
    let mut rng = rsa::rand_core::OsRng;
    let key = rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(MakeError::Key)?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
    let spki = SubjectPublicKeyInfoOwned::from_key(key.to_public_key()).map_err(encoding)?;
    // A name the DN grammar cannot take (a comma, say) still gets a
    // certificate: the CN is only a label, the UPN is what maps.
    let subject = Name::from_str(&format!("CN={user}"))
        .or_else(|_| Name::from_str("CN=virga-user"))
        .map_err(encoding)?;
    let mut serial = [0u8; 16];
    rsa::rand_core::RngCore::fill_bytes(&mut rng, &mut serial);
    serial[0] &= 0x7f; // positive, as DER integers for serials must be
    let serial = SerialNumber::new(&serial).map_err(encoding)?;
    let validity = Validity::from_now(VALID_FOR).map_err(encoding)?;
    // A leaf (not a CA; signing and key encipherment) signed by itself.
    let profile = Profile::Leaf {
        issuer: subject.clone(),
        enable_key_agreement: false,
        enable_key_encipherment: true,
    };
    let mut builder = CertificateBuilder::new(profile, serial, validity, subject, spki, &signer)
        .map_err(encoding)?;
    let upn = format!("{user}@localhost");
    let upn = Any::encode_from(&Utf8StringRef::new(&upn).map_err(encoding)?).map_err(encoding)?;
    builder
        .add_extension(&ExtendedKeyUsage(vec![CLIENT_AUTH]))
        .map_err(encoding)?;
    builder
        .add_extension(&SubjectAltName(vec![GeneralName::OtherName(OtherName {
            type_id: UPN,
            value: upn,
        })]))
        .map_err(encoding)?;
    let cert = builder
        .build::<rsa::pkcs1v15::Signature>()
        .map_err(encoding)?;
    let pem = cert
        .to_pem(x509_cert::der::pem::LineEnding::LF)
        .map_err(encoding)?;
    let fp = fingerprint_der(&cert.to_der().map_err(encoding)?);
    let private = key.to_pkcs8_pem(LineEnding::LF).map_err(encoding)?;
    Ok((pem, private.to_string(), fp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_certificate_reads_back_with_its_fingerprint() {
        let (pem, private, fp) = make("alice").unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(fingerprint(&pem).as_deref(), Some(fp.as_str()));
        assert_eq!(fp.len(), 20 * 3 - 1, "SHA-1, hex pairs: {fp}");
        let cert = Certificate::from_pem(pem.as_bytes()).unwrap();
        let tbs = &cert.tbs_certificate;
        assert_eq!(tbs.subject.to_string(), "CN=alice");
        assert_eq!(tbs.issuer, tbs.subject, "self-signed");
        let exts = tbs.extensions.as_ref().unwrap();
        let ids: Vec<String> = exts.iter().map(|e| e.extn_id.to_string()).collect();
        assert!(ids.contains(&"2.5.29.37".to_owned()), "EKU: {ids:?}");
        assert!(ids.contains(&"2.5.29.17".to_owned()), "SAN: {ids:?}");
        assert!(fingerprint("not a certificate").is_none());
    }
}
