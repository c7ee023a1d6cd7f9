//! `virga-agent`: the edge agent alone, for nodes that run no Virga
//! service (the same as `virga agent`, in a much smaller binary; build it
//! without the `libvirt` feature for gateways that run no VMs).
//!
//! Usage: `virga-agent [--config PATH]` (or `VIRGA_CONFIG`); `VIRGA_*`
//! variables override keys as for `virga`.

use std::path::PathBuf;
use std::process::ExitCode;

use virga_common::Config;
use virga_common::config::CONFIG_PATH_VAR;
use virga_common::error::chain;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut path = std::env::var_os(CONFIG_PATH_VAR).map(PathBuf::from);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" => path = args.next().map(PathBuf::from),
            "--version" => {
                println!("virga-agent {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("usage: virga-agent [--config PATH]");
                return ExitCode::from(2);
            }
        }
    }
    // One thread runs the agent; libvirt's blocking calls get tokio's
    // blocking pool. An idle node should cost as little as possible.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async {
        let config = Config::load(path.as_deref(), std::env::vars()).map_err(|e| chain(&e))?;
        virga_common::logging::init(&config.log)?;
        virga_agent::run::run_alone(config).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(line) => fail(&line),
    }
}

fn fail(line: &str) -> ExitCode {
    eprintln!("virga-agent: error: {line}");
    ExitCode::FAILURE
}
