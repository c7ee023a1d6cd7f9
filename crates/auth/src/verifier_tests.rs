use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};

use super::*;
use crate::keys::KeyRing;
use crate::test_support::{ISSUER, NOW, claims};
use crate::token::issue;

fn setup() -> (KeyRing, Verifier) {
    let ring = KeyRing::generate().unwrap();
    let verifier = Verifier::new(ISSUER, &Jwks::from_key_ring(&ring)).unwrap();
    (ring, verifier)
}

fn b64(v: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// A token signed by the ring's current key with any header and payload.
fn sign_raw(ring: &KeyRing, header: &Header, payload: &serde_json::Value) -> String {
    jsonwebtoken::encode(header, payload, ring.current().encoding_key()).unwrap()
}

fn header_with_kid(ring: &KeyRing) -> Header {
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = Some(ring.current().kid().to_string());
    h
}

#[test]
fn issued_token_verifies_to_the_same_claims() {
    let (ring, verifier) = setup();
    let c = claims();
    let token = issue(&ring, &c).unwrap();
    assert_eq!(verifier.verify(&token, NOW).unwrap(), c);

    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(ring.current().kid()));
}

#[test]
fn tokens_of_a_retired_key_verify_until_it_leaves_the_jwks() {
    let (mut ring, _) = setup();
    let old = issue(&ring, &claims()).unwrap();
    ring.rotate(NOW).unwrap();
    let new = issue(&ring, &claims()).unwrap();
    let verifier = Verifier::new(ISSUER, &Jwks::from_key_ring(&ring)).unwrap();
    assert!(verifier.verify(&old, NOW).is_ok());
    assert!(verifier.verify(&new, NOW).is_ok());

    ring.prune(u64::MAX, std::time::Duration::from_secs(3600));
    verifier.refresh(&Jwks::from_key_ring(&ring)).unwrap();
    assert!(matches!(
        verifier.verify(&old, NOW),
        Err(TokenError::UnknownKey { .. })
    ));
    assert!(verifier.verify(&new, NOW).is_ok());
}

#[test]
fn the_published_next_key_is_accepted_before_it_signs() {
    let (mut ring, verifier) = setup();
    ring.rotate(NOW).unwrap();
    // The verifier still has the JWKS from before the rotation.
    assert!(
        verifier
            .verify(&issue(&ring, &claims()).unwrap(), NOW)
            .is_ok()
    );
}

#[test]
fn unknown_or_missing_kid_is_refused_without_trying_other_keys() {
    let (_, verifier) = setup();
    let (other, _) = setup();
    let token = issue(&other, &claims()).unwrap();
    assert!(matches!(
        verifier.verify(&token, NOW),
        Err(TokenError::UnknownKey { .. })
    ));

    let payload = serde_json::to_value(claims()).unwrap();
    let no_kid = sign_raw(&other, &Header::new(Algorithm::EdDSA), &payload);
    assert!(matches!(
        verifier.verify(&no_kid, NOW),
        Err(TokenError::MissingKid)
    ));
}

#[test]
fn kid_pointing_at_another_known_key_fails_the_signature() {
    let (ring, verifier) = setup();
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = Some(ring.next().kid().to_string());
    let token = sign_raw(&ring, &h, &serde_json::to_value(claims()).unwrap());
    assert!(matches!(
        verifier.verify(&token, NOW),
        Err(TokenError::BadSignature)
    ));
}

#[test]
fn alg_none_is_refused() {
    let (ring, verifier) = setup();
    let header = serde_json::json!({"alg": "none", "typ": "JWT", "kid": ring.current().kid()});
    let payload = serde_json::to_value(claims()).unwrap();
    for token in [
        format!("{}.{}.", b64(&header), b64(&payload)),
        format!("{}.{}", b64(&header), b64(&payload)),
    ] {
        let err = verifier.verify(&token, NOW).unwrap_err();
        assert!(
            matches!(
                err,
                TokenError::Malformed(_) | TokenError::UnexpectedAlgorithm { .. }
            ),
            "{token:?}: {err:?}"
        );
    }
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    let (ring, verifier) = setup();
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some(ring.current().kid().to_string());
    let payload = serde_json::to_value(claims()).unwrap();
    let raw = ring.current().public_key();
    let b64x = URL_SAFE_NO_PAD.encode(raw);
    for secret in [&raw[..], b64x.as_bytes()] {
        let token = jsonwebtoken::encode(&h, &payload, &EncodingKey::from_secret(secret)).unwrap();
        assert!(matches!(
            verifier.verify(&token, NOW),
            Err(TokenError::UnexpectedAlgorithm {
                alg: Algorithm::HS256
            })
        ));
    }
}

#[test]
fn another_asymmetric_alg_in_the_header_is_refused() {
    let (ring, verifier) = setup();
    let token = issue(&ring, &claims()).unwrap();
    let (_, rest) = token.split_once('.').unwrap();
    let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": ring.current().kid()});
    let forged = format!("{}.{rest}", b64(&header));
    assert!(matches!(
        verifier.verify(&forged, NOW),
        Err(TokenError::UnexpectedAlgorithm {
            alg: Algorithm::ES256
        })
    ));
}

#[test]
fn tampered_payload_fails_the_signature() {
    let (ring, verifier) = setup();
    let token = issue(&ring, &claims()).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = serde_json::to_value(claims()).unwrap();
    payload["roles"] = serde_json::json!([{"id": "r0", "name": "admin"}]);
    let forged = format!("{}.{}.{}", parts[0], b64(&payload), parts[2]);
    assert!(matches!(
        verifier.verify(&forged, NOW),
        Err(TokenError::BadSignature)
    ));
    let truncated = format!("{}.{}.{}", parts[0], parts[1], &parts[2][..10]);
    assert!(verifier.verify(&truncated, NOW).is_err());
}

#[test]
fn garbage_is_malformed() {
    let (_, verifier) = setup();
    for token in [
        "",
        "abc",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "....",
        "eyJhbGciOiJFZERTQSJ9.e30.AA",
    ] {
        let err = verifier.verify(token, NOW).unwrap_err();
        assert!(
            matches!(
                err,
                TokenError::Malformed(_) | TokenError::Undecodable { .. } | TokenError::MissingKid
            ),
            "{token:?}: {err:?}"
        );
    }
}

#[test]
fn validly_signed_but_foreign_claims_are_malformed() {
    let (ring, verifier) = setup();
    let token = sign_raw(
        &ring,
        &header_with_kid(&ring),
        &serde_json::json!({"sub": "x", "exp": NOW}),
    );
    assert!(matches!(
        verifier.verify(&token, NOW),
        Err(TokenError::Undecodable {
            part: "payload",
            ..
        })
    ));
}

#[test]
fn expiry_has_a_small_leeway() {
    let (ring, verifier) = setup();
    let c = claims();
    let token = issue(&ring, &c).unwrap();
    assert!(verifier.verify(&token, c.exp + LEEWAY_SECS).is_ok());
    assert!(matches!(
        verifier.verify(&token, c.exp + LEEWAY_SECS + 1),
        Err(TokenError::Expired { exp }) if exp == c.exp
    ));
}

#[test]
fn issuer_must_be_the_configured_one() {
    let (ring, verifier) = setup();
    let mut c = claims();
    c.iss = "https://evil.example/v3".into();
    let token = issue(&ring, &c).unwrap();
    assert!(matches!(
        verifier.verify(&token, NOW),
        Err(TokenError::WrongIssuer { .. })
    ));
}

#[test]
fn revoked_tokens_are_refused() {
    let (ring, verifier) = setup();
    let list = Arc::new(RevocationList::new());
    let verifier = verifier.with_revocations(list.clone());
    let c = claims();
    let token = issue(&ring, &c).unwrap();
    assert!(verifier.verify(&token, NOW).is_ok());
    list.revoke_token(c.jti, c.exp);
    assert!(matches!(
        verifier.verify(&token, NOW),
        Err(TokenError::Revoked)
    ));
    assert!(Arc::ptr_eq(verifier.revocations(), &list));
}

#[test]
fn a_bad_refresh_keeps_the_old_keys() {
    let (ring, verifier) = setup();
    let before = verifier.kids();
    assert_eq!(before.len(), 2);
    assert!(verifier.refresh(&Jwks { keys: vec![] }).is_err());
    assert_eq!(verifier.kids(), before);
    assert!(
        verifier
            .verify(&issue(&ring, &claims()).unwrap(), NOW)
            .is_ok()
    );
}

#[test]
fn cache_skips_the_signature_but_not_expiry_or_revocation() {
    let (ring, verifier) = setup();
    let verifier = verifier.with_cache(100);
    let c = claims();
    let token = issue(&ring, &c).unwrap();
    assert_eq!(verifier.verify(&token, NOW).unwrap(), c);
    assert_eq!(verifier.cached_tokens(), 1);
    assert_eq!(verifier.verify(&token, NOW).unwrap(), c);
    assert_eq!(verifier.cached_tokens(), 1);

    assert!(matches!(
        verifier.verify(&token, c.exp + LEEWAY_SECS + 1),
        Err(TokenError::Expired { .. })
    ));
    verifier.revocations().revoke_user("u1", NOW * 1000 + 999);
    assert!(matches!(
        verifier.verify(&token, NOW),
        Err(TokenError::Revoked)
    ));
}

#[test]
fn cache_is_bounded_and_emptied_by_a_refresh() {
    let (ring, verifier) = setup();
    let verifier = verifier.with_cache(2);
    for _ in 0..5 {
        verifier
            .verify(&issue(&ring, &claims()).unwrap(), NOW)
            .unwrap();
        assert!(verifier.cached_tokens() <= 2);
    }
    let (other, _) = setup();
    verifier.refresh(&Jwks::from_key_ring(&other)).unwrap();
    assert_eq!(verifier.cached_tokens(), 0);
}

#[test]
fn a_forged_token_never_hits_the_cache() {
    let (ring, verifier) = setup();
    let verifier = verifier.with_cache(10);
    let token = issue(&ring, &claims()).unwrap();
    verifier.verify(&token, NOW).unwrap();
    let (head, sig) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", URL_SAFE_NO_PAD.encode([0u8; 64]));
    assert!(matches!(
        verifier.verify(&forged, NOW),
        Err(TokenError::BadSignature)
    ));
    assert_ne!(sig, URL_SAFE_NO_PAD.encode([0u8; 64]));
}

#[test]
fn verifier_is_shareable_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Verifier>();
    shareable::<RevocationList>();
    shareable::<KeyRing>();
}

#[test]
fn a_malleated_signature_is_refused() {
    // Adding the group order L to S gives a signature lax verifiers accept
    // for the same message; the strict check must not.
    let (ring, verifier) = setup();
    let token = issue(&ring, &claims()).unwrap();
    let (signed, sig) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(bytes[32 + i]) + u16::from(L[i]) + carry;
        bytes[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    let forged = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(&bytes));
    assert!(matches!(
        verifier.verify(&forged, NOW),
        Err(TokenError::BadSignature)
    ));
}
