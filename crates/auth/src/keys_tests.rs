use super::*;

#[test]
fn generated_keys_differ_and_have_a_thumbprint_kid() {
    let a = SigningKey::generate().unwrap();
    let b = SigningKey::generate().unwrap();
    assert_ne!(a.kid(), b.kid());
    assert_ne!(a.public_key(), b.public_key());
    // SHA-256, base64url without padding.
    assert_eq!(a.kid().len(), 43);
    assert_eq!(a.kid(), thumbprint(&a.public_key()));
}

#[test]
fn rfc8037_example_key_has_the_rfc_thumbprint() {
    // RFC 8037 appendix A.1/A.3: the Ed25519 example key and its thumbprint.
    let x = URL_SAFE_NO_PAD
        .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
        .unwrap();
    let x: [u8; 32] = x.try_into().unwrap();
    assert_eq!(
        thumbprint(&x),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
}

#[test]
fn pem_round_trip_keeps_the_key() {
    let key = SigningKey::generate().unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let back = SigningKey::from_pkcs8_pem(&pem).unwrap();
    assert_eq!(back.kid(), key.kid());
    assert_eq!(back.public_key(), key.public_key());
}

#[test]
fn pem_that_is_not_an_ed25519_key_is_refused() {
    assert!(matches!(
        SigningKey::from_pkcs8_pem("not a pem"),
        Err(KeyError::Pkcs8(_))
    ));
    // A P-256 PKCS#8 key: valid PEM, wrong algorithm.
    let p256 = "-----BEGIN PRIVATE KEY-----\n\
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2\n\
        OF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r\n\
        1RTwjmYSi9R/zpBnuQ4EiMnCqfMPWiZqB4QdbAd0E7oH50VpuZ1P087G\n\
        -----END PRIVATE KEY-----\n";
    assert!(matches!(
        SigningKey::from_pkcs8_pem(p256),
        Err(KeyError::Pkcs8(_))
    ));
}

#[test]
fn debug_never_shows_the_private_key() {
    let key = SigningKey::generate().unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let body: String = pem.lines().nth(1).unwrap().chars().take(20).collect();
    let shown = format!("{key:?} {:?}", KeyRing::generate().unwrap());
    assert!(shown.contains(key.kid()));
    assert!(!shown.contains(&body));
    assert!(!shown.contains("secret"));
}

#[test]
fn rotation_promotes_next_and_retires_current() {
    let mut ring = KeyRing::generate().unwrap();
    let (first, second) = (
        ring.current().kid().to_string(),
        ring.next().kid().to_string(),
    );
    assert_ne!(first, second);
    assert_eq!(ring.verification_keys().count(), 2);

    ring.rotate(1_000).unwrap();
    assert_eq!(ring.current().kid(), second);
    assert_ne!(ring.next().kid(), second);
    assert_eq!(ring.retired().len(), 1);
    assert_eq!(ring.retired()[0].key.kid(), first);
    assert_eq!(ring.retired()[0].retired_at, 1_000);
    let kids: Vec<_> = ring
        .verification_keys()
        .map(|k| k.kid().to_string())
        .collect();
    assert_eq!(kids.len(), 3);
    assert!(kids.contains(&first) && kids.contains(&second));
}

#[test]
fn prune_keeps_keys_until_their_last_token_expired() {
    let mut ring = KeyRing::generate().unwrap();
    ring.rotate(1_000).unwrap();
    let old = ring.retired()[0].key.kid().to_string();
    ring.rotate(5_000).unwrap();
    let life = Duration::from_secs(3600);
    let edge = 1_000 + 3600 + crate::token::LEEWAY_SECS;

    assert!(ring.prune(edge, life).is_empty());
    assert_eq!(ring.retired().len(), 2);
    assert_eq!(ring.prune(edge + 1, life), vec![old]);
    assert_eq!(ring.retired().len(), 1);
    // Current and next are never pruned.
    ring.prune(u64::MAX, life);
    assert_eq!(ring.verification_keys().count(), 2);
}

#[test]
fn from_parts_rebuilds_a_stored_ring() {
    let ring = KeyRing::generate().unwrap();
    let pem = |k: &SigningKey| SigningKey::from_pkcs8_pem(&k.to_pkcs8_pem().unwrap()).unwrap();
    let old = SigningKey::generate().unwrap();
    let back = KeyRing::from_parts(
        pem(ring.current()),
        pem(ring.next()),
        vec![RetiredKey {
            key: pem(&old),
            retired_at: 7,
        }],
    );
    assert_eq!(back.current().kid(), ring.current().kid());
    assert_eq!(back.next().kid(), ring.next().kid());
    assert_eq!(back.retired()[0].key.kid(), old.kid());
}

#[test]
fn openssl_generated_key_is_read() {
    // `openssl genpkey -algorithm ed25519`
    let pem = "-----BEGIN PRIVATE KEY-----\n\
        MC4CAQAwBQYDK2VwBCIEILk5a5lIXYImYhpAzp4tQOI4VRhLDskwb3oxzt97eXoY\n\
        -----END PRIVATE KEY-----\n";
    let key = SigningKey::from_pkcs8_pem(pem).unwrap();
    // Written back byte for byte: PKCS#8 v1, which openssl reads in turn.
    assert_eq!(key.to_pkcs8_pem().unwrap(), pem);
}
