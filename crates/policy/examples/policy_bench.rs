//! Enforcement throughput on this machine:
//! `cargo run --release -p virga-policy --example policy_bench`.
//!
//! Times one million calls of a typical three-clause rule (an admin role, or
//! membership plus project ownership) on one thread.

use std::hint::black_box;
use std::time::Instant;

use virga_policy::{Credentials, Policy, Target};

const POLICY: &str = r#"
"admin_required": "role:admin"
"compute:servers:delete": "rule:admin_required or (role:member and project_id:%(project_id)s)"
"#;

const CALLS: u32 = 1_000_000;

fn main() {
    let policy = Policy::load(POLICY, None).expect("the bench policy loads");
    let creds = Credentials {
        user_id: Some("9fe1d3c1d2b64c5a8e2a6a0d0e4c8f10".into()),
        project_id: Some("4b1b0c9e7f3a4f9c8d6e5a4b3c2d1e0f".into()),
        roles: vec!["reader".into(), "Member".into()],
        ..Credentials::default()
    };
    // Owned, so every clause is evaluated before the answer is known.
    let target = Target::new()
        .with("project_id", "4b1b0c9e7f3a4f9c8d6e5a4b3c2d1e0f")
        .with("user_id", "9fe1d3c1d2b64c5a8e2a6a0d0e4c8f10");

    let start = Instant::now();
    let mut allowed = 0u32;
    for _ in 0..CALLS {
        let ok = policy
            .enforce(
                black_box("compute:servers:delete"),
                black_box(&creds),
                black_box(&target),
            )
            .unwrap_or(false);
        allowed += u32::from(ok);
    }
    let secs = start.elapsed().as_secs_f64();
    black_box(allowed);
    println!("{:.0} enforce calls/s", f64::from(CALLS) / secs);
}
