//! Image signatures made by OpenSSL (as an image builder would make them:
//! `openssl dgst -<hash> -sign`) verified against trusted certificates.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use base64::Engine;
use virga_image::signature::{self, Hasher, SignatureError};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A key and a self-signed certificate `<name>.pem` for it.
fn cert(dir: &Path, name: &str, keygen: &[&str]) {
    openssl(
        dir,
        &[&["genpkey", "-out", &format!("{name}.key")], keygen].concat(),
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
        ],
    );
}

fn sign(dir: &Path, key: &str, hash: &str, extra: &[&str], data: &[u8]) -> String {
    std::fs::write(dir.join("data"), data).unwrap();
    openssl(
        dir,
        &[
            &["dgst", &format!("-{hash}"), "-sign", key, "-out", "sig"],
            extra,
            &["data"],
        ]
        .concat(),
    );
    base64::engine::general_purpose::STANDARD.encode(std::fs::read(dir.join("sig")).unwrap())
}

fn props(sig: &str, hash: &str, key_type: &str, uuid: &str) -> BTreeMap<String, String> {
    [
        (signature::SIGNATURE, sig),
        (signature::HASH_METHOD, hash),
        (signature::KEY_TYPE, key_type),
        (signature::CERT_UUID, uuid),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn check(dir: &Path, p: &BTreeMap<String, String>, data: &[u8]) -> Result<(), SignatureError> {
    let c = signature::check_for(p, dir)?.expect("signed");
    let mut h = Hasher::new(c.hash);
    h.update(data);
    signature::verify(&c, &h.finish())
}

#[test]
fn openssl_signatures_verify_and_tampering_does_not() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 241) as u8).collect();
    let mut tampered = data.clone();
    tampered[5000] ^= 1;
    cert(
        p,
        "rsa",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    cert(
        p,
        "p384",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    );
    cert(
        p,
        "p521",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
    );
    let pss = ["-sigopt", "rsa_padding_mode:pss"];
    let cases = [
        ("rsa", "sha256", "SHA-256", "RSA-PSS", pss.to_vec()),
        (
            "rsa",
            "sha512",
            "SHA-512",
            "RSA-PSS",
            [&pss[..], &["-sigopt", "rsa_pss_saltlen:digest"]].concat(),
        ),
        ("p384", "sha384", "SHA-384", "ECC_SECP384R1", vec![]),
        ("p521", "sha512", "SHA-512", "ECC_SECP521R1", vec![]),
    ];
    for (name, dgst, method, key_type, extra) in cases {
        let sig = sign(p, &format!("{name}.key"), dgst, &extra, &data);
        let good = props(&sig, method, key_type, name);
        assert_eq!(check(p, &good, &data), Ok(()), "{name} {method}");
        assert_eq!(
            check(p, &good, &tampered),
            Err(SignatureError::Mismatch),
            "{name} {method}"
        );
        let other_hash = props(
            &sig,
            if method == "SHA-256" {
                "SHA-384"
            } else {
                "SHA-256"
            },
            key_type,
            name,
        );
        assert_eq!(
            check(p, &other_hash, &data),
            Err(SignatureError::Mismatch),
            "{name}"
        );
    }
    // A signature made with another key of the same kind.
    cert(
        p,
        "p384b",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    );
    let sig = sign(p, "p384.key", "sha384", &[], &data);
    assert_eq!(
        check(p, &props(&sig, "SHA-384", "ECC_SECP384R1", "p384b"), &data),
        Err(SignatureError::Mismatch)
    );
    assert!(matches!(
        check(p, &props(&sig, "SHA-384", "RSA-PSS", "p384"), &data),
        Err(SignatureError::Invalid(..))
    ));
}

#[test]
fn incomplete_or_untrusted_signatures_are_refused_before_any_data() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    assert!(signature::check_for(&BTreeMap::new(), p).unwrap().is_none());
    let mut partial = props("AAAA", "SHA-256", "RSA-PSS", "x");
    partial.remove(signature::KEY_TYPE);
    assert_eq!(
        signature::check_for(&partial, p).unwrap_err(),
        SignatureError::Incomplete(signature::KEY_TYPE)
    );
    for (bad, expect_unknown) in [("nope", true), ("../../etc/ssl/cert", true)] {
        let e = signature::check_for(&props("AAAA", "SHA-256", "RSA-PSS", bad), p).unwrap_err();
        assert_eq!(
            matches!(e, SignatureError::UnknownCertificate(_)),
            expect_unknown,
            "{bad}"
        );
    }
    assert!(matches!(
        signature::check_for(&props("AAAA", "MD5", "RSA-PSS", "x"), p),
        Err(SignatureError::Invalid(..))
    ));
    assert!(matches!(
        signature::check_for(&props("!!", "SHA-256", "RSA-PSS", "x"), p),
        Err(SignatureError::Invalid(..))
    ));
}
