use super::*;

// Cheap parameters keep the tests fast; the defaults are exercised once.
const FAST: PasswordParams = PasswordParams {
    m_kib: 64,
    t: 1,
    p: 1,
};

#[test]
fn right_password_verifies_and_wrong_one_does_not() {
    let h = hash_password("s3cret pass").unwrap();
    assert!(h.to_phc().starts_with("$argon2id$v=19$m=4096,t=1,p=1$"));
    assert!(verify_password("s3cret pass", &h));
    assert!(!verify_password("s3cret pasS", &h));
    assert!(!verify_password("", &h));
}

#[test]
fn salts_are_random() {
    let a = hash_password_with("same", &FAST).unwrap();
    let b = hash_password_with("same", &FAST).unwrap();
    assert_ne!(a.to_phc(), b.to_phc());
    assert!(verify_password("same", &a) && verify_password("same", &b));
}

#[test]
fn stored_hash_round_trips_and_keeps_its_parameters() {
    let h = hash_password_with("pw", &FAST).unwrap();
    let back = PasswordHash::from_phc(&h.to_phc()).unwrap();
    assert_eq!(back, h);
    assert!(verify_password("pw", &back));
    assert!(!needs_rehash(&back, &FAST));
    assert!(needs_rehash(&back, &DEFAULT_PARAMS));
}

#[test]
fn only_argon2id_phc_strings_are_accepted() {
    let h = hash_password_with("pw", &FAST).unwrap().to_phc();
    for bad in [
        String::new(),
        "plaintext".into(),
        h.replacen("argon2id", "argon2i", 1),
        h.replacen("argon2id", "argon2d", 1),
        h.rsplit_once('$').unwrap().0.to_string(),
        "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA".into(),
    ] {
        assert!(
            matches!(
                PasswordHash::from_phc(&bad),
                Err(PasswordError::NotArgon2id)
            ),
            "{bad}"
        );
    }
}

#[test]
fn invalid_parameters_are_an_error() {
    let zero = PasswordParams { t: 0, ..FAST };
    assert!(matches!(
        hash_password_with("pw", &zero),
        Err(PasswordError::Params(_))
    ));
}

#[test]
fn debug_never_shows_the_hash() {
    let h = hash_password_with("pw", &FAST).unwrap();
    let phc = h.to_phc();
    let salt = phc.split('$').nth(4).unwrap();
    let shown = format!("{h:?}");
    assert_eq!(shown, "PasswordHash(<redacted>)");
    assert!(!shown.contains(salt));
}

#[test]
fn dummy_verification_always_fails() {
    assert!(!verify_dummy("anything"));
    assert!(!verify_dummy(""));
}

#[test]
fn dummy_verification_does_the_work_of_a_real_one() {
    // Same algorithm and parameters as a real default hash, so the same cost,
    // without asserting on wall-clock time.
    let dummy = dummy_hash().expect("the dummy hash is made");
    assert!(!needs_rehash(dummy, &DEFAULT_PARAMS));
    assert!(dummy.to_phc().starts_with("$argon2id$"));
}

#[test]
fn reference_vectors_verify_on_a_reused_memory() {
    // Outputs of the reference implementation (phc-winner-argon2, as in the
    // argon2 crate's known-answer tests), checked one after another on one
    // thread: one lane, two lanes, one again, then ours, so the
    // reused working memory must be sized and laid out per hash.
    let one =
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
    let lanes =
        "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc";
    for phc in [one, lanes, one] {
        let h = PasswordHash::from_phc(phc).unwrap();
        assert!(verify_password("password", &h), "{phc}");
        assert!(!verify_password("Password", &h), "{phc}");
    }
    let ours = hash_password_with("y", &FAST).unwrap();
    assert!(verify_password("y", &ours));
    assert!(!verify_password("password", &ours));
}
