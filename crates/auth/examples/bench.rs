//! Throughput of the token and password paths on this machine:
//! `cargo run --release -p virga-auth --example bench`.
//!
//! Single-threaded unless a line says otherwise. "verify" includes the
//! signature check, the issuer and expiry checks and the revocation check.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use virga_auth::password::{DEFAULT_PARAMS, OWASP_PARAMS};
use virga_auth::{
    Jwk, Jwks, KeyRing, NamedRef, PasswordParams, RevocationList, Scope, TokenClaims, UserRef,
    Verifier, hash_password_with, issue, verify_password,
};

const ISSUER: &str = "https://identity.example:5000/v3";

/// Runs `f` repeatedly for about `secs` seconds; returns operations per second.
fn rate(secs: f64, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        for _ in 0..16 {
            f();
        }
        n += 16;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn line(what: &str, per_sec: f64) {
    println!(
        "{what:<62} {per_sec:>12.0} /s  {:>9.2} µs/op",
        1e6 / per_sec
    );
}

fn claims(now: u64) -> TokenClaims {
    let user = UserRef {
        id: "9fe1d3c1d2b64c5a8e2a6a0d0e4c8f10".into(),
        name: "alice".into(),
        domain: NamedRef::new("default", "Default"),
    };
    let scope = Scope::Project {
        id: "4b1b0c9e7f3a4f9c8d6e5a4b3c2d1e0f".into(),
        name: "demo".into(),
        domain: NamedRef::new("default", "Default"),
    };
    let roles = vec![
        NamedRef::new("1f0e2d3c4b5a69788796a5b4c3d2e1f0", "member"),
        NamedRef::new("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "reader"),
    ];
    TokenClaims::new(
        ISSUER,
        user,
        scope,
        roles,
        vec!["password".into()],
        now,
        Duration::from_secs(3600),
    )
}

/// A revocation list of realistic size: many revoked tokens, some users and projects.
fn busy_revocations(now: u64) -> Arc<RevocationList> {
    let list = RevocationList::new();
    for i in 0..10_000u64 {
        list.revoke_token(uuid::Uuid::new_v4(), now + i);
    }
    for i in 0..500 {
        list.revoke_user(format!("user-{i}"), now * 1000);
        list.revoke_project(format!("project-{i}"), now * 1000);
    }
    Arc::new(list)
}

fn es256_setup(now: u64) -> (String, Verifier) {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    let secret = p256::SecretKey::from_slice(&seed).unwrap();
    let point = secret.public_key().to_encoded_point(false);
    let jwk = Jwk {
        kty: "EC".into(),
        crv: Some("P-256".into()),
        x: Some(URL_SAFE_NO_PAD.encode(point.x().unwrap())),
        y: Some(URL_SAFE_NO_PAD.encode(point.y().unwrap())),
        kid: Some("es256".into()),
        alg: Some("ES256".into()),
        use_: Some("sig".into()),
    };
    let key = EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes());
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("es256".into());
    let token = jsonwebtoken::encode(&header, &claims(now), &key).unwrap();
    let verifier = Verifier::new(ISSUER, &Jwks { keys: vec![jwk] }).unwrap();
    // Signing rate for the comparison line.
    line(
        "ES256 issue (sign only)",
        rate(1.0, || {
            black_box(jsonwebtoken::encode(&header, &claims(now), &key).unwrap());
        }),
    );
    (token, verifier)
}

fn password_lines(params: &PasswordParams, label: &str) {
    let p = format!("m={} KiB, t={}, p={}", params.m_kib, params.t, params.p);
    line(
        &format!("argon2id hash   {label} ({p})"),
        rate(2.0, || {
            black_box(hash_password_with("correct horse battery", params).unwrap());
        }),
    );
    let hash = hash_password_with("correct horse battery", params).unwrap();
    line(
        &format!("argon2id verify {label} ({p})"),
        rate(2.0, || {
            assert!(verify_password("correct horse battery", &hash));
        }),
    );
}

fn main() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ring = KeyRing::generate().unwrap();
    let jwks = Jwks::from_key_ring(&ring);
    let token = issue(&ring, &claims(now)).unwrap();
    println!(
        "token: {} bytes, EdDSA (Ed25519), jsonwebtoken 11 rust_crypto backend",
        token.len()
    );
    println!(
        "machine: {} cores available; single thread unless noted\n",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    line(
        "EdDSA issue (sign only)",
        rate(2.0, || {
            black_box(issue(&ring, &claims(now)).unwrap());
        }),
    );
    let plain = Verifier::new(ISSUER, &jwks).unwrap();
    line(
        "EdDSA verify, empty revocation list, no cache",
        rate(2.0, || {
            black_box(plain.verify(&token, now).unwrap());
        }),
    );
    // The same check through jsonwebtoken, as the verifier did before it
    // kept Ed25519 keys decompressed: what the direct path saves.
    let x = jwks.keys[0].x.clone().unwrap();
    let generic_key = jsonwebtoken::DecodingKey::from_ed_components(&x).unwrap();
    let mut generic = jsonwebtoken::Validation::new(Algorithm::EdDSA);
    generic.validate_exp = false;
    generic.required_spec_claims.clear();
    line(
        "EdDSA verify via jsonwebtoken::decode (comparison)",
        rate(2.0, || {
            let _ = black_box(jsonwebtoken::decode_header(&token).unwrap());
            black_box(jsonwebtoken::decode::<TokenClaims>(&token, &generic_key, &generic).unwrap());
        }),
    );
    line(
        "EdDSA verify, empty revocation list, no cache (again)",
        rate(2.0, || {
            black_box(plain.verify(&token, now).unwrap());
        }),
    );
    let busy = Verifier::new(ISSUER, &jwks)
        .unwrap()
        .with_revocations(busy_revocations(now));
    line(
        "EdDSA verify, 11k revocation entries, no cache",
        rate(2.0, || {
            black_box(busy.verify(&token, now).unwrap());
        }),
    );
    let cached = Verifier::new(ISSUER, &jwks)
        .unwrap()
        .with_revocations(busy_revocations(now))
        .with_cache(10_000);
    line(
        "EdDSA verify, 11k revocation entries, cache hit",
        rate(2.0, || {
            black_box(cached.verify(&token, now).unwrap());
        }),
    );

    let (es_token, es_verifier) = es256_setup(now);
    line(
        "ES256 verify, empty revocation list, no cache",
        rate(2.0, || {
            black_box(es_verifier.verify(&es_token, now).unwrap());
        }),
    );

    let list = busy_revocations(now);
    let c = claims(now);
    line(
        "revocation check alone (11k entries)",
        rate(1.0, || {
            black_box(list.is_revoked(&c));
        }),
    );
    let contended = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    rate(1.0, || {
                        black_box(list.is_revoked(&c));
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum::<f64>()
    });
    line("revocation check, 2 threads together", contended);
    println!();

    password_lines(&DEFAULT_PARAMS, "default");
    password_lines(&OWASP_PARAMS, "OWASP  ");

    let hash = hash_password_with("correct horse battery", &DEFAULT_PARAMS).unwrap();
    let logins = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    rate(3.0, || {
                        assert!(verify_password("correct horse battery", &hash));
                        black_box(issue(&ring, &claims(now)).unwrap());
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum::<f64>()
    });
    line(
        "password check + EdDSA issue, default params, 2 threads",
        logins,
    );
}
