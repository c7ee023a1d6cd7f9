//! Repository chores, run as `cargo xtask <task>`.
//!
//! - `openapi generate`: write `openapi/<service>.json` from the code.
//! - `openapi check`: fail if a committed document differs from the code.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi");
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["openapi", "generate"] => match virga::openapi::generate(&dir) {
            Ok(files) => {
                for f in files {
                    println!("wrote {f}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("xtask: cannot write OpenAPI documents: {e}");
                ExitCode::FAILURE
            }
        },
        ["openapi", "check"] => {
            let drifted = virga::openapi::drifted(&dir);
            if drifted.is_empty() {
                println!("OpenAPI documents match the code");
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "xtask: openapi/{{{}}}.json differ from the code; run `cargo xtask openapi generate` and commit",
                    drifted.join(",")
                );
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!("usage: cargo xtask openapi generate|check");
            ExitCode::from(2)
        }
    }
}
