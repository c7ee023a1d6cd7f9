use super::*;

fn ring_jwks() -> (KeyRing, Jwks) {
    let mut ring = KeyRing::generate().unwrap();
    ring.rotate(1).unwrap();
    let jwks = Jwks::from_key_ring(&ring);
    (ring, jwks)
}

fn ed_jwk(kid: &str, x: &str) -> Jwk {
    Jwk {
        kty: "OKP".into(),
        crv: Some("Ed25519".into()),
        x: Some(x.into()),
        y: None,
        kid: Some(kid.into()),
        alg: Some("EdDSA".into()),
        use_: Some("sig".into()),
    }
}

#[test]
fn document_lists_every_ring_key_in_rfc_shape() {
    let (ring, jwks) = ring_jwks();
    assert_eq!(jwks.keys.len(), 3);
    let v: serde_json::Value = serde_json::from_str(&jwks.to_json()).unwrap();
    let first = &v["keys"][0];
    assert_eq!(first["kty"], "OKP");
    assert_eq!(first["crv"], "Ed25519");
    assert_eq!(first["alg"], "EdDSA");
    assert_eq!(first["use"], "sig");
    assert_eq!(first["kid"], ring.current().kid());
    assert_eq!(
        first["x"],
        URL_SAFE_NO_PAD.encode(ring.current().public_key())
    );
    assert!(first.get("y").is_none() && first.get("d").is_none());
}

#[test]
fn json_round_trip_and_parse_errors() {
    let (_, jwks) = ring_jwks();
    assert_eq!(Jwks::from_json(&jwks.to_json()).unwrap(), jwks);
    assert!(matches!(Jwks::from_json("{"), Err(JwksError::Json(_))));
    assert!(matches!(
        Jwks::from_json("{\"k\":[]}"),
        Err(JwksError::Json(_))
    ));
}

#[test]
fn keys_are_pinned_to_their_algorithm() {
    let (ring, jwks) = ring_jwks();
    let keys = verification_keys(&jwks).unwrap();
    assert_eq!(keys.len(), 3);
    assert_eq!(keys[ring.current().kid()].alg, Algorithm::EdDSA);

    let ec = Jwk {
        kty: "EC".into(),
        crv: Some("P-256".into()),
        x: Some(URL_SAFE_NO_PAD.encode([1u8; 32])),
        y: Some(URL_SAFE_NO_PAD.encode([2u8; 32])),
        kid: Some("ec".into()),
        alg: None,
        use_: None,
    };
    let keys = verification_keys(&Jwks { keys: vec![ec] }).unwrap();
    assert_eq!(keys["ec"].alg, Algorithm::ES256);
}

#[test]
fn unsupported_kinds_are_skipped_and_symmetric_keys_never_used() {
    let (_, mut jwks) = ring_jwks();
    let oct = Jwk {
        kty: "oct".into(),
        crv: None,
        x: None,
        y: None,
        kid: Some("hmac".into()),
        alg: Some("HS256".into()),
        use_: Some("sig".into()),
    };
    let mut enc = jwks.keys[0].clone();
    enc.kid = Some("enc".into());
    enc.use_ = Some("enc".into());
    jwks.keys.extend([oct.clone(), enc]);
    let keys = verification_keys(&jwks).unwrap();
    assert_eq!(keys.len(), 3);
    assert!(!keys.contains_key("hmac") && !keys.contains_key("enc"));

    let only_oct = Jwks { keys: vec![oct] };
    assert!(matches!(
        verification_keys(&only_oct),
        Err(JwksError::NoUsableKeys)
    ));
    assert!(matches!(
        verification_keys(&Jwks { keys: vec![] }),
        Err(JwksError::NoUsableKeys)
    ));
}

#[test]
fn broken_keys_of_a_supported_kind_are_refused() {
    let (ring, _) = ring_jwks();
    let good_x = URL_SAFE_NO_PAD.encode(ring.current().public_key());
    let cases = [
        (ed_jwk("", &good_x), "no kid"),
        (ed_jwk("k", "!!!"), "coordinate"),
        (
            ed_jwk("k", &URL_SAFE_NO_PAD.encode([1u8; 31])),
            "coordinate",
        ),
        (
            Jwk {
                alg: Some("HS256".into()),
                ..ed_jwk("k", &good_x)
            },
            "alg",
        ),
        (
            Jwk {
                x: None,
                ..ed_jwk("k", &good_x)
            },
            "missing",
        ),
    ];
    for (jwk, why) in cases {
        match verification_keys(&Jwks { keys: vec![jwk] }) {
            Err(JwksError::InvalidKey { reason, .. }) => assert!(reason.contains(why), "{reason}"),
            other => panic!(
                "expected InvalidKey({why}), got {:?}",
                other.map(|k| k.len())
            ),
        }
    }
}

#[test]
fn duplicate_kids_are_refused() {
    let (_, mut jwks) = ring_jwks();
    jwks.keys.push(jwks.keys[0].clone());
    assert!(matches!(
        verification_keys(&jwks),
        Err(JwksError::DuplicateKid(_))
    ));
}
