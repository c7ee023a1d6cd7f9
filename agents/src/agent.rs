//! Starting an agent: open the ledger, discover the host, reconcile what
//! the ledger says should run (with or without the centre), and reach
//! the centre over the bus ([`crate::link`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use virga_bus::Bus;
use virga_common::config::{AgentConfig, BusConfig};
use virga_common::error::chain;

use crate::commands::Kick;
use crate::discovery::{self, DiscoveryError, Host, Roots};
use crate::driver::{Driver, DriverError};
use crate::images::{Images, NodeImages};
use crate::ledger::{Desired, Ledger, LedgerError};
use crate::outbox::Outbox;
use crate::reconcile::Reconciler;

/// How the agent reaches the bus.
pub enum BusSource {
    /// A bus already connected (`virga up`'s in-process one).
    Ready(Bus),
    /// Connect as configured, retrying until it works; the agent serves
    /// its instances meanwhile.
    Connect(BusConfig),
}

pub struct AgentOptions {
    pub config: AgentConfig,
    /// The deployment's region (the site's, unless `agent.region` says).
    pub region: String,
    /// Where the ledger lives (`<data_dir>/agent/ledger.db`) and, unless
    /// configured, the instances (`<data_dir>/instances`).
    pub data_dir: PathBuf,
    pub bus: BusSource,
    pub driver: Arc<dyn Driver>,
    /// Default: the node's image cache under the instance path.
    pub images: Option<Arc<dyn Images>>,
    pub call_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("cannot discover this host")]
    Discovery(#[from] DiscoveryError),
    #[error("cannot create {path}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the image cache")]
    Images(#[from] virga_imagecache::CacheError),
    #[error("the {driver} driver cannot start")]
    Driver {
        driver: &'static str,
        #[source]
        source: DriverError,
    },
}

/// A running agent.
pub struct RunningAgent {
    pub node: String,
    pub host: Host,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningAgent {
    /// Waits until the agent stopped (its shutdown token was cancelled).
    pub async fn wait(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

fn mkdir(path: &Path) -> Result<(), AgentError> {
    std::fs::create_dir_all(path).map_err(|source| AgentError::Dir {
        path: path.to_owned(),
        source,
    })
}

/// Starts the agent; it runs until `shutdown` is cancelled.
pub async fn start(
    opts: AgentOptions,
    shutdown: CancellationToken,
) -> Result<RunningAgent, AgentError> {
    let instance_path = opts
        .config
        .instance_path
        .clone()
        .unwrap_or_else(|| opts.data_dir.join("instances"));
    mkdir(&instance_path)?;
    mkdir(&instance_path.join("_base"))?;
    mkdir(&instance_path.join("_export"))?;
    mkdir(&opts.data_dir.join("agent"))?;
    let ledger = Ledger::open(&opts.data_dir.join("agent/ledger.db")).await?;
    let node = ledger.node_id().await?;
    let roots = Roots {
        proc: opts.config.procfs_root.clone(),
        sys: opts.config.sysfs_root.clone(),
    };
    let host = discovery::discover(&roots, &instance_path)?;
    let caps = opts
        .driver
        .capabilities()
        .await
        .map_err(|source| AgentError::Driver {
            driver: opts.driver.name(),
            source,
        })?;
    let images = match opts.images {
        Some(i) => i,
        None => {
            let gib = match opts.config.image_cache_gb {
                0 => (host.disk_gb / 4).max(1),
                n => n,
            };
            let node_images = Arc::new(NodeImages::open(
                instance_path.join("_base"),
                &instance_path.join("_cache"),
                gib << 30,
                &opts.config.site,
            )?);
            scrub_every(&node_images, opts.config.image_scrub_hours, &shutdown);
            node_images
        }
    };
    // The images existing instances are built on stay held (not those of
    // tombstones).
    for r in ledger.all().await? {
        let built = r.built_image.is_some() && r.desired != Desired::Deleted;
        if let Some(spec) = r.spec.as_ref().filter(|_| built) {
            images.keep(&r.uuid, &spec.image);
        }
    }
    let rc = Reconciler {
        node: node.clone(),
        host_arch: host.arch.clone(),
        ledger,
        driver: opts.driver.clone(),
        images: images.clone(),
        outbox: Arc::new(Outbox::default()),
        stop_timeout: Duration::from_secs(opts.config.stop_timeout_secs),
        exports: instance_path.join("_export"),
        network: crate::netplane::reconcile::Plane::new(network_host(&opts.config, &opts.data_dir)),
    };
    tracing::info!(%node, hostname = %host.hostname, arch = %host.arch, cpus = host.cpu.count,
        memory_mb = host.memory_mb, disk_gb = host.disk_gb, accelerators = host.accelerators.len(),
        driver = opts.driver.name(), "agent starting");
    let (kick_tx, kick_rx) = mpsc::unbounded_channel();
    let (drained_tx, drained_rx) = tokio::sync::watch::channel(false);
    let reconcile = tokio::spawn(reconcile_loop(
        rc.clone(),
        kick_rx,
        (
            drained_rx,
            Duration::from_secs(opts.config.restore_wait_secs),
        ),
        Duration::from_secs(opts.config.reconcile_secs),
        Duration::from_secs(opts.config.network.reconcile_secs),
        shutdown.clone(),
    ));
    let registration = crate::registration::register(
        &node,
        &host,
        &opts.config,
        &opts.region,
        opts.driver.name(),
        &caps,
    );
    let link = crate::link::Link {
        rc,
        drained: drained_tx,
        kicks: kick_tx,
        registration,
        images,
        procfs: roots.proc.clone(),
        heartbeat: Duration::from_secs(opts.config.heartbeat_secs),
        call_timeout: opts.call_timeout,
        shutdown,
    };
    let link = tokio::spawn(link.run(opts.bus));
    Ok(RunningAgent {
        node,
        host,
        tasks: vec![reconcile, link],
    })
}

/// The node's data plane as configured; `None` when it is off.
fn network_host(config: &AgentConfig, data_dir: &Path) -> Option<crate::netplane::Host> {
    let n = &config.network;
    n.dataplane.then(|| crate::netplane::Host {
        netns: n.netns.clone(),
        ns_prefix: n.namespace_prefix.clone(),
        physical: n.physical_interfaces.clone(),
        tunnel_ip: n.tunnel_ip,
        state_dir: data_dir.join("agent/network"),
    })
}

/// Re-hashes the images no instance holds now and then (corrupt ones are
/// dropped, to be fetched again when needed).
fn scrub_every(images: &Arc<NodeImages>, hours: u64, shutdown: &CancellationToken) {
    if hours == 0 {
        return;
    }
    let cache = images.cache().clone();
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(hours * 3600));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tick.tick() => match cache.scrub().await {
                    Ok(bad) if !bad.is_empty() => {
                        tracing::warn!(images = ?bad, "corrupt cached images removed");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %chain(&e), "image cache scrub failed"),
                },
            }
        }
    });
}

/// Tombstones are kept this long, against late duplicates of old commands.
const TOMBSTONE_DAYS: i64 = 7;

async fn reconcile_loop(
    rc: Reconciler,
    mut kicks: mpsc::UnboundedReceiver<Kick>,
    restore: (tokio::sync::watch::Receiver<bool>, Duration),
    every: Duration,
    network_every: Duration,
    shutdown: CancellationToken,
) {
    let log = |e: LedgerError| tracing::error!(error = %chain(&e), "reconcile failed");
    // The first pass restores what should run (after an agent or host
    // restart) before anything else, bus or not; but first the commands
    // the centre queued meanwhile are taken in, for a while: a guest
    // evacuated to another node while this one was down must not run
    // twice.
    let (mut drained, wait) = restore;
    let has_guests = match rc.ledger.all().await {
        Ok(all) => all.iter().any(|r| r.desired != Desired::Deleted),
        Err(_) => true,
    };
    if has_guests {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = tokio::time::timeout(wait, drained.wait_for(|d| *d)) => if r.is_err() {
                tracing::warn!(secs = wait.as_secs(), "the centre's queued commands did not come; restoring from the ledger");
            }
        }
    }
    if let Err(e) = rc.all(true).await {
        log(e);
    }
    if let Err(e) = rc.network(None).await {
        log(e);
    }
    match rc.report().await {
        Ok(r) => rc.outbox.push(r),
        Err(e) => log(e),
    }
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let mut network_tick = tokio::time::interval(network_every);
    network_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    network_tick.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            kick = kicks.recv() => match kick {
                Some(Kick::Instance(id)) => {
                    if let Err(e) = rc.instance(&id).await { log(e) }
                }
                Some(Kick::Network(request_id)) => {
                    if let Err(e) = rc.network(request_id).await { log(e) }
                    // Guests waiting for a bridge this plan made: built now.
                    if let Err(e) = rc.networked().await { log(e) }
                }
                Some(Kick::Report) => match rc.report().await {
                    Ok(r) => rc.outbox.push(r),
                    Err(e) => log(e),
                },
                None => break,
            },
            _ = tick.tick() => {
                if let Err(e) = rc.all(false).await { log(e) }
                let old = Utc::now() - chrono::Duration::days(TOMBSTONE_DAYS);
                if let Err(e) = rc.ledger.purge_deleted(old).await { log(e) }
            }
            _ = network_tick.tick() => {
                if let Err(e) = rc.network(None).await { log(e) }
            }
        }
    }
}
