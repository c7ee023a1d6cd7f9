//! The libvirt driver: instances as QEMU domains of a libvirt daemon.
//!
//! libvirt's calls block, so each runs on tokio's blocking pool over one
//! shared connection, reopened when the daemon went away. Domains are
//! named `virga-<uuid>` and carry the instance's uuid; each instance has
//! a directory `<instance_path>/<uuid>/` with its disk overlay, its config
//! drive and its console log (appended across boots). Nothing pushes state changes to
//! this driver (the `virt` crate has no event callbacks): the agent's
//! reconcile loop polls `status` every few seconds, which is how a guest
//! that powered off is noticed.

mod disk;
mod domain_xml;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use virga_protocol::agent::InstanceSpec;
use virt::connect::Connect;
use virt::domain::{Domain, DomainShutoffReason, DomainState, DomainStateReason};
use virt::enumutil::Enum;
use virt::error::ErrorNumber;

use super::{BootImage, DriverError, GuestState};

pub use domain_xml::domain_name;

/// How the driver reaches libvirt and lays out instances.
#[derive(Debug, Clone)]
pub struct LibvirtConfig {
    pub uri: String,
    /// `kvm`, or `qemu` for TCG (no hardware virtualisation).
    pub domain_type: String,
    /// The host's architecture, as domains are made for it.
    pub arch: String,
    pub instance_path: PathBuf,
}

pub struct Libvirt {
    config: LibvirtConfig,
    conn: Arc<Mutex<Option<Connect>>>,
}

fn failed(
    op: &'static str,
    id: &str,
    e: impl std::error::Error + Send + Sync + 'static,
) -> DriverError {
    DriverError::Failed {
        op,
        id: id.to_owned(),
        source: Box::new(e),
    }
}

fn no_domain(e: &virt::error::Error) -> bool {
    matches!(e.code(), Enum::Known(ErrorNumber::NoDomain))
}

fn guest_state(dom: &Domain) -> Result<GuestState, virt::error::Error> {
    let (state, reason) = dom.state()?;
    Ok(match state {
        Enum::Known(DomainState::Running | DomainState::Blocked | DomainState::Shutdown) => {
            GuestState::Running
        }
        Enum::Known(DomainState::Paused | DomainState::PMSuspended) => GuestState::Paused,
        Enum::Known(DomainState::Crashed) => GuestState::Crashed,
        Enum::Known(DomainState::Shutoff) => match reason {
            Enum::Known(DomainStateReason::Shutoff(Enum::Known(
                DomainShutoffReason::Crashed | DomainShutoffReason::Failed,
            ))) => GuestState::Crashed,
            _ => GuestState::Stopped,
        },
        _ => GuestState::Stopped,
    })
}

impl Libvirt {
    /// Connects (once, to check the daemon answers); later calls reconnect
    /// by themselves.
    pub async fn connect(config: LibvirtConfig) -> Result<Libvirt, DriverError> {
        // libvirt prints every error to stderr unless told not to; ours are
        // returned and logged with their context instead.
        virt::error::clear_error_callback();
        let d = Libvirt {
            config,
            conn: Arc::default(),
        };
        d.blocking("connect", "", |_| Ok(())).await?;
        Ok(d)
    }

    fn dir(&self, id: &str) -> PathBuf {
        self.config.instance_path.join(id)
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        op: &'static str,
        id: &str,
        f: impl FnOnce(&Connect) -> Result<T, DriverError> + Send + 'static,
    ) -> Result<T, DriverError> {
        let (conn, uri, id_owned) = (self.conn.clone(), self.config.uri.clone(), id.to_owned());
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            if guard
                .as_ref()
                .is_some_and(|c| !c.is_alive().unwrap_or(false))
            {
                tracing::warn!(%uri, "the libvirt connection was lost; reconnecting");
                *guard = None;
            }
            if guard.is_none() {
                *guard = Some(Connect::open(Some(&uri)).map_err(|e| failed(op, &id_owned, e))?);
            }
            f(guard.as_ref().expect("connected above"))
        })
        .await
        .map_err(|e| failed(op, id, e))?
    }

    /// The domain of instance `id`, `None` when there is none.
    fn lookup(conn: &Connect, op: &'static str, id: &str) -> Result<Option<Domain>, DriverError> {
        match conn.lookup_domain_by_uuid_string(id) {
            Ok(d) => Ok(Some(d)),
            Err(e) if no_domain(&e) => Ok(None),
            Err(e) => Err(failed(op, id, e)),
        }
    }

    fn existing(conn: &Connect, op: &'static str, id: &str) -> Result<Domain, DriverError> {
        Self::lookup(conn, op, id)?.ok_or_else(|| DriverError::NotFound(id.to_owned()))
    }

    /// Asks the guest to power off, waits up to `timeout`, then forces it.
    fn shut_down(
        dom: &Domain,
        op: &'static str,
        id: &str,
        timeout: Duration,
    ) -> Result<(), DriverError> {
        if !dom.is_active().map_err(|e| failed(op, id, e))? {
            return Ok(());
        }
        // A guest without ACPI support refuses the request: force it at once.
        if dom.shutdown().is_ok() {
            let until = Instant::now() + timeout;
            while Instant::now() < until {
                if !dom.is_active().map_err(|e| failed(op, id, e))? {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            tracing::info!(instance = %id, "guest did not shut down in time; forcing it off");
        }
        match dom.destroy() {
            Ok(()) => Ok(()),
            // It went off by itself meanwhile.
            Err(_) if !dom.is_active().unwrap_or(true) => Ok(()),
            Err(e) => Err(failed(op, id, e)),
        }
    }

    /// Defines (or, for an existing uuid, redefines) the domain from `xml`
    /// and starts it when `start`.
    async fn define(
        &self,
        op: &'static str,
        id: String,
        xml: String,
        start: bool,
    ) -> Result<(), DriverError> {
        let id2 = id.clone();
        self.blocking(op, &id2, move |c| {
            let dom = c.define_domain_xml(&xml).map_err(|e| failed(op, &id, e))?;
            if start {
                dom.create().map_err(|e| failed(op, &id, e))?;
            }
            Ok(())
        })
        .await
    }

    /// Makes the instance's disks and returns the domain XML.
    async fn prepare(&self, spec: &InstanceSpec, image: &BootImage) -> Result<String, DriverError> {
        let dir = self.dir(&spec.uuid);
        let io = |e| failed("prepare", &spec.uuid, e);
        tokio::fs::create_dir_all(&dir).await.map_err(io)?;
        let disk = dir.join("disk.qcow2");
        match tokio::fs::remove_file(&disk).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let made = match image.format.as_str() {
            "qcow2" | "raw" => disk::overlay(&image.path, &image.format, &disk, spec.disk_gb).await,
            "iso" => disk::blank(&disk, spec.disk_gb).await,
            other => return Err(DriverError::Refused(format!("cannot boot a {other} image"))),
        };
        made.map_err(|e| DriverError::Refused(virga_common::error::chain(&e)))?;
        let drive = dir.join("disk.config");
        config_drive::make(spec, &dir.join("config-drive"), &drive)
            .await
            .map_err(|e| DriverError::Refused(virga_common::error::chain(&e)))?;
        let console = dir.join("console.log");
        let files = domain_xml::Files {
            disk: &disk,
            cdrom: (image.format == "iso").then_some(image.path.as_path()),
            config_drive: Some(&drive),
            console: &console,
        };
        Ok(domain_xml::domain_xml(
            spec,
            &self.config.domain_type,
            &self.config.arch,
            &files,
        ))
    }
}

mod config_drive;
mod ops;
