//! `virga`: run every Virga service in one process (`virga up`, the embedded
//! all-in-one), or one service alone (`virga serve <service>`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use virga::run::{start_services, termination_signal};
use virga_bus::Bus;
use virga_common::config::{CONFIG_PATH_VAR, SERVICE_NAMES};
use virga_common::{Config, error::chain};

#[derive(Parser)]
#[command(name = "virga", version, about = "Virga, an edge-cloud IaaS")]
struct Cli {
    /// Configuration file (TOML); `VIRGA_*` environment variables override its keys.
    #[arg(long, global = true, env = CONFIG_PATH_VAR)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service in this process, and an agent for this host:
    /// SQLite files and the in-process bus by default.
    Up {
        /// Where the SQLite databases live (overrides `data_dir`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Test images to register on the first start (what
        /// scripts/build-test-images.sh built; default `$VIRGA_TEST_IMAGES`
        /// or ~/.cache/virga-test-images when it exists).
        #[arg(long)]
        test_images: Option<PathBuf>,
    },
    /// Run one service, against the database and bus the configuration names.
    Serve {
        /// identity, compute, image, network, scheduler or telemetry.
        service: String,
    },
    /// Run the edge agent of this host: it discovers the host, registers it
    /// with the scheduler over the bus and runs the instances it is sent,
    /// also while the centre is unreachable.
    Agent,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(line) => fail(&line),
    }
}

fn fail(line: &str) -> ExitCode {
    eprintln!("virga: error: {line}");
    ExitCode::FAILURE
}

/// Stops the services started so far after a failed start; gives back
/// the reason.
async fn stop_all(
    shutdown: &CancellationToken,
    running: Vec<virga_service::Running>,
    line: String,
) -> String {
    shutdown.cancel();
    futures::future::join_all(running.into_iter().map(|r| r.wait())).await;
    line
}

async fn run(cli: Cli) -> Result<(), String> {
    let started = Instant::now();
    let mut config =
        Config::load(cli.config.as_deref(), std::env::vars()).map_err(|e| chain(&e))?;
    if let Command::Agent = cli.command {
        virga_common::logging::init(&config.log)?;
        return virga_agent::run::run_alone(config).await;
    }
    let names: Vec<&str> = match &cli.command {
        Command::Up { data_dir, .. } => {
            if let Some(dir) = data_dir {
                config.data_dir = dir.clone();
            }
            SERVICE_NAMES.to_vec()
        }
        Command::Agent => unreachable!("handled above"),
        Command::Serve { service } => {
            if !virga::is_service(service) {
                return Err(format!(
                    "unknown service `{service}` (expected one of: {})",
                    SERVICE_NAMES.join(", ")
                ));
            }
            vec![
                SERVICE_NAMES
                    .iter()
                    .copied()
                    .find(|n| n == service)
                    .expect("checked above"),
            ]
        }
    };
    virga_common::logging::init(&config.log)?;
    if matches!(cli.command, Command::Serve { .. }) && config.bus.url == "memory" {
        tracing::warn!(
            "bus.url is `memory`: this service can reach no other process; set bus.url to an amqp:// URL"
        );
    }

    let config = Arc::new(config);
    let bus = Bus::connect(&config.bus)
        .await
        .map_err(|e| format!("message bus: {}", chain(&e)))?;
    let shutdown = CancellationToken::new();
    let running = start_services(config.clone(), &names, bus.clone(), shutdown.clone())
        .await
        .map_err(|e| chain(&e))?;

    let first_run = if matches!(cli.command, Command::Up { .. }) {
        match virga::bootstrap::run(&config, &running).await {
            Ok(first) => first,
            Err(line) => return Err(stop_all(&shutdown, running, line).await),
        }
    } else {
        None
    };
    for r in &running {
        println!("{:<10} {}", r.name, r.url);
    }
    let agent = if matches!(cli.command, Command::Up { .. }) && config.agent.enabled {
        let bus = virga_agent::BusSource::Ready(bus.clone());
        match virga_agent::run::start(&config, bus, shutdown.clone()).await {
            Ok((agent, driver)) => {
                println!(
                    "virga: agent of node {} running ({driver} driver)",
                    agent.node
                );
                Some(agent)
            }
            Err(line) => return Err(stop_all(&shutdown, running, line).await),
        }
    } else {
        None
    };
    if let (Some(first), Command::Up { test_images, .. }) = (&first_run, &cli.command)
        && let Some(dir) = virga::seed::test_images_dir(test_images.clone())
    {
        match virga::seed::register(&dir, &running, &first.password).await {
            Ok(names) => println!(
                "virga: registered test images from {}: {}",
                dir.display(),
                names.join(", ")
            ),
            // The cloud works without them: say so and go on.
            Err(line) => eprintln!("virga: warning: {line}"),
        }
    }
    if let Some(first) = first_run {
        // Shown this once; only its hash is stored.
        println!(
            "virga: created user `admin` in project `admin` with password {}",
            first.password
        );
        let file = first.clouds_yaml.display();
        println!(
            "virga: credentials in {file}: OS_CLIENT_CONFIG_FILE={file} OS_CLOUD=virga openstack token issue"
        );
    }
    println!(
        "virga: {} service(s) ready in {} ms (data in {}); Ctrl-C to stop",
        running.len(),
        started.elapsed().as_millis(),
        config.data_dir.display()
    );

    termination_signal().await;
    shutdown.cancel();
    if let Some(agent) = agent {
        agent.wait().await;
    }
    futures::future::join_all(running.into_iter().map(|r| r.wait())).await;
    drop(bus);
    Ok(())
}
