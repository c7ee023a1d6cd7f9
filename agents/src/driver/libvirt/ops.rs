//! The driver operations, each one blocking call sequence on the pool.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use virga_protocol::agent::InstanceSpec;

use super::{Libvirt, failed, guest_state};
use crate::driver::{BootImage, Capabilities, Driver, DriverError, Guest, GuestState, Stats};

#[async_trait]
impl Driver for Libvirt {
    fn name(&self) -> &'static str {
        "libvirt"
    }

    async fn capabilities(&self) -> Result<Capabilities, DriverError> {
        let caps = self
            .blocking("capabilities", "", |c| {
                c.capabilities().map_err(|e| failed("capabilities", "", e))
            })
            .await?;
        let mut domain_types: Vec<String> = ["kvm", "qemu"]
            .into_iter()
            .filter(|t| caps.contains(&format!("<domain type='{t}'")))
            .map(String::from)
            .collect();
        domain_types.dedup();
        Ok(Capabilities {
            traits: crate::driver::vm_image_traits(),
            domain_types,
        })
    }

    async fn list(&self) -> Result<Vec<Guest>, DriverError> {
        self.blocking("list", "", |c| {
            let doms = c.list_all_domains(0).map_err(|e| failed("list", "", e))?;
            doms.iter()
                .map(|d| {
                    let id = d.uuid_string().map_err(|e| failed("list", "", e))?;
                    let state = guest_state(d).map_err(|e| failed("list", &id, e))?;
                    Ok(Guest { id, state })
                })
                .collect()
        })
        .await
    }

    async fn status(&self, id: &str) -> Result<Option<GuestState>, DriverError> {
        let id2 = id.to_owned();
        self.blocking("status", id, move |c| {
            match Self::lookup(c, "status", &id2)? {
                None => Ok(None),
                Some(d) => guest_state(&d)
                    .map(Some)
                    .map_err(|e| failed("status", &id2, e)),
            }
        })
        .await
    }

    async fn spawn(
        &self,
        spec: &InstanceSpec,
        image: &BootImage,
        start: bool,
    ) -> Result<(), DriverError> {
        let id = spec.uuid.clone();
        let taken = {
            let id = id.clone();
            self.blocking("spawn", &spec.uuid, move |c| {
                Ok(Self::lookup(c, "spawn", &id)?.is_some())
            })
            .await?
        };
        if taken {
            return Err(DriverError::Refused(format!(
                "a domain for {id} exists already"
            )));
        }
        let xml = self.prepare(spec, image).await?;
        self.define("spawn", id, xml, start).await
    }

    async fn start(&self, id: &str) -> Result<(), DriverError> {
        let id2 = id.to_owned();
        self.blocking("start", id, move |c| {
            let dom = Self::existing(c, "start", &id2)?;
            if !dom.is_active().map_err(|e| failed("start", &id2, e))? {
                dom.create().map_err(|e| failed("start", &id2, e))?;
            }
            Ok(())
        })
        .await
    }

    async fn stop(&self, id: &str, timeout: Duration) -> Result<(), DriverError> {
        let id2 = id.to_owned();
        self.blocking("stop", id, move |c| {
            let dom = Self::existing(c, "stop", &id2)?;
            Self::shut_down(&dom, "stop", &id2, timeout)
        })
        .await
    }

    /// Soft: the guest is asked to shut down (forced after `timeout`) and
    /// started again, as Nova's libvirt driver does; hard: forced off and
    /// started again.
    async fn reboot(&self, id: &str, hard: bool, timeout: Duration) -> Result<(), DriverError> {
        let id2 = id.to_owned();
        self.blocking("reboot", id, move |c| {
            let dom = Self::existing(c, "reboot", &id2)?;
            Self::shut_down(
                &dom,
                "reboot",
                &id2,
                if hard { Duration::ZERO } else { timeout },
            )?;
            dom.create().map_err(|e| failed("reboot", &id2, e))
        })
        .await
    }

    async fn destroy(&self, id: &str) -> Result<(), DriverError> {
        let id2 = id.to_owned();
        self.blocking("destroy", id, move |c| {
            if let Some(dom) = Self::lookup(c, "destroy", &id2)? {
                Self::shut_down(&dom, "destroy", &id2, Duration::ZERO)?;
                dom.undefine().map_err(|e| failed("destroy", &id2, e))?;
            }
            Ok(())
        })
        .await?;
        match tokio::fs::remove_dir_all(self.dir(id)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(failed("destroy", id, e)),
            _ => Ok(()),
        }
    }

    async fn rebuild(
        &self,
        spec: &InstanceSpec,
        image: &BootImage,
        start: bool,
    ) -> Result<(), DriverError> {
        let id = spec.uuid.clone();
        {
            let id = id.clone();
            self.blocking("rebuild", &spec.uuid, move |c| {
                let dom = Self::existing(c, "rebuild", &id)?;
                Self::shut_down(&dom, "rebuild", &id, Duration::ZERO)
            })
            .await?;
        }
        let xml = self.prepare(spec, image).await?;
        self.define("rebuild", id, xml, start).await
    }

    async fn pause(&self, id: &str) -> Result<(), DriverError> {
        let id2 = id.to_owned();
        self.blocking("pause", id, move |c| {
            let dom = Self::existing(c, "pause", &id2)?;
            match guest_state(&dom).map_err(|e| failed("pause", &id2, e))? {
                GuestState::Paused => Ok(()),
                GuestState::Running => dom
                    .suspend()
                    .map(|_| ())
                    .map_err(|e| failed("pause", &id2, e)),
                _ => Err(DriverError::Refused(format!("guest {id2} is not running"))),
            }
        })
        .await
    }

    async fn inject_nmi(&self, id: &str) -> Result<(), DriverError> {
        let id2 = id.to_owned();
        self.blocking("inject_nmi", id, move |c| {
            let dom = Self::existing(c, "inject_nmi", &id2)?;
            match guest_state(&dom).map_err(|e| failed("inject_nmi", &id2, e))? {
                // The `virt` crate has no virDomainInjectNMI and this
                // workspace denies unsafe code: QEMU's own command, which
                // libvirt passes through (it notes the domain as tainted
                // by a monitor command in its log).
                GuestState::Running | GuestState::Paused => dom
                    .qemu_monitor_command(r#"{"execute": "inject-nmi"}"#, 0)
                    .map(|_| ())
                    .map_err(|e| failed("inject_nmi", &id2, e)),
                _ => Err(DriverError::Refused(format!("guest {id2} is not running"))),
            }
        })
        .await
    }

    async fn unpause(&self, id: &str) -> Result<(), DriverError> {
        let id2 = id.to_owned();
        self.blocking("unpause", id, move |c| {
            let dom = Self::existing(c, "unpause", &id2)?;
            if guest_state(&dom).map_err(|e| failed("unpause", &id2, e))? == GuestState::Paused {
                dom.resume().map_err(|e| failed("unpause", &id2, e))?;
            }
            Ok(())
        })
        .await
    }

    async fn console_log(&self, id: &str, max_bytes: u64) -> Result<String, DriverError> {
        let path = self.dir(id).join("console.log");
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(crate::driver::tail(
                &String::from_utf8_lossy(&bytes),
                max_bytes,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if self.status(id).await?.is_some() {
                    Ok(String::new())
                } else {
                    Err(DriverError::NotFound(id.to_owned()))
                }
            }
            Err(e) => Err(failed("console_log", id, e)),
        }
    }

    async fn export_disk(&self, id: &str, target: &Path, format: &str) -> Result<(), DriverError> {
        match self.status(id).await? {
            None => return Err(DriverError::NotFound(id.to_owned())),
            Some(GuestState::Stopped | GuestState::Crashed) => {}
            Some(_) => {
                return Err(DriverError::Refused(format!(
                    "guest {id} is not stopped: its disk cannot be exported"
                )));
            }
        }
        if !["qcow2", "raw"].contains(&format) {
            return Err(DriverError::Refused(format!(
                "cannot export a disk as {format}"
            )));
        }
        super::disk::flatten(&self.dir(id).join("disk.qcow2"), target, format)
            .await
            .map_err(|e| failed("export_disk", id, e))
    }

    async fn stats(&self, id: &str) -> Result<Stats, DriverError> {
        let id2 = id.to_owned();
        self.blocking("stats", id, move |c| {
            let dom = Self::existing(c, "stats", &id2)?;
            let info = dom.info().map_err(|e| failed("stats", &id2, e))?;
            let mut stats = Stats {
                cpu_time_ns: info.cpu_time,
                memory_kb: info.memory,
                ..Stats::default()
            };
            // Only a running domain has block statistics.
            if let Ok(b) = dom.block_stats("vda") {
                stats.disk_read_bytes = b.rd_bytes.max(0) as u64;
                stats.disk_write_bytes = b.wr_bytes.max(0) as u64;
            }
            Ok(stats)
        })
        .await
    }
}
