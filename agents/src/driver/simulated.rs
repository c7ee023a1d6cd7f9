//! An in-memory hypervisor for control-plane and scale tests (thousands
//! of simulated agents in one process), like omicron's sled-agent `sim`.
//!
//! It keeps guests in a map, takes `delay` for every operation, refuses
//! a guest larger than the host's memory, and lets a test inject what
//! real hosts do: a failing operation ([`Simulated::fail_next`]), a guest
//! that powers itself off or crashes, a host reboot that leaves every
//! guest shut off. Its console log says what happened, line by line.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use virga_protocol::agent::InstanceSpec;

use super::{BootImage, Capabilities, Driver, DriverError, Guest, GuestState, Stats};

/// Operations a test can make fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Spawn,
    Start,
    Stop,
    Reboot,
    Destroy,
    Rebuild,
    Pause,
    Export,
    Nmi,
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// How long every operation takes.
    pub delay: Duration,
    /// The host's memory: a bigger guest is refused.
    pub memory_mb: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            delay: Duration::ZERO,
            memory_mb: 1 << 20,
        }
    }
}

struct SimGuest {
    spec: InstanceSpec,
    image: BootImage,
    state: GuestState,
    console: String,
    boots: u64,
}

impl SimGuest {
    fn boot(&mut self) {
        self.boots += 1;
        self.state = GuestState::Running;
        self.console.push_str(&format!(
            "virga-sim: {} boot {} from {}\n",
            self.spec.name,
            self.boots,
            self.image.path.display()
        ));
    }
}

#[derive(Default)]
struct Inner {
    guests: BTreeMap<String, SimGuest>,
    /// Per operation, the failures still to inject.
    failures: BTreeMap<Op, Vec<String>>,
    /// Every operation done, in order, with the guest it was done to (a
    /// destroyed guest's past included).
    done: Vec<(String, Op)>,
}

/// The simulated driver. Cheap to clone; clones share the "hypervisor",
/// so a test can restart an agent over the same guests.
#[derive(Clone)]
pub struct Simulated {
    config: SimConfig,
    inner: Arc<Mutex<Inner>>,
}

impl Simulated {
    pub fn new(config: SimConfig) -> Self {
        Simulated {
            config,
            inner: Arc::default(),
        }
    }

    /// The operations done to guest `id`, in order, even once destroyed.
    pub fn done_to(&self, id: &str) -> Vec<Op> {
        let inner = self.inner.lock().unwrap();
        inner
            .done
            .iter()
            .filter(|(g, _)| g == id)
            .map(|(_, op)| *op)
            .collect()
    }

    /// The next `times` calls of `op` fail with `message`.
    pub fn fail_next(&self, op: Op, times: usize, message: &str) {
        let mut inner = self.inner.lock().unwrap();
        let queue = inner.failures.entry(op).or_default();
        queue.extend(std::iter::repeat_n(message.to_owned(), times));
    }

    /// The guest shuts itself down (`poweroff` inside it).
    pub fn power_off(&self, id: &str) -> bool {
        self.set_state(id, GuestState::Stopped, "powered off from inside")
    }

    /// The guest's emulator dies.
    pub fn crash(&self, id: &str) -> bool {
        self.set_state(id, GuestState::Crashed, "crashed")
    }

    /// The host reboots: every guest is defined and shut off.
    pub fn host_reboot(&self) {
        let mut inner = self.inner.lock().unwrap();
        for g in inner.guests.values_mut() {
            g.state = GuestState::Stopped;
            g.console.push_str("virga-sim: host rebooted\n");
        }
    }

    /// A guest the agent did not create (an operator's, say).
    pub fn adopt_foreign(&self, spec: InstanceSpec) {
        let image = BootImage {
            path: "/dev/null".into(),
            format: "raw".into(),
        };
        let mut g = SimGuest {
            spec,
            image,
            state: GuestState::Stopped,
            console: String::new(),
            boots: 0,
        };
        g.boot();
        let mut inner = self.inner.lock().unwrap();
        inner.guests.insert(g.spec.uuid.clone(), g);
    }

    /// How many times the guest booted (tests check restarts with it).
    pub fn boots(&self, id: &str) -> u64 {
        let inner = self.inner.lock().unwrap();
        inner.guests.get(id).map_or(0, |g| g.boots)
    }

    /// The image the guest's root disk was last made from.
    pub fn image_of(&self, id: &str) -> Option<BootImage> {
        let inner = self.inner.lock().unwrap();
        inner.guests.get(id).map(|g| g.image.clone())
    }

    fn set_state(&self, id: &str, state: GuestState, why: &str) -> bool {
        let mut inner = self.inner.lock().unwrap();
        let Some(g) = inner.guests.get_mut(id) else {
            return false;
        };
        g.state = state;
        g.console.push_str(&format!("virga-sim: {why}\n"));
        true
    }

    /// Waits the configured delay, then runs `f` on the guests unless a
    /// failure is due for `op`.
    async fn run<T>(
        &self,
        op: Op,
        id: &str,
        f: impl FnOnce(&mut BTreeMap<String, SimGuest>) -> Result<T, DriverError>,
    ) -> Result<T, DriverError> {
        if !self.config.delay.is_zero() {
            tokio::time::sleep(self.config.delay).await;
        }
        let mut inner = self.inner.lock().unwrap();
        if let Some(queue) = inner.failures.get_mut(&op)
            && !queue.is_empty()
        {
            let message = queue.remove(0);
            return Err(DriverError::Failed {
                op: name(op),
                id: id.to_owned(),
                source: message.into(),
            });
        }
        let r = f(&mut inner.guests);
        if r.is_ok() {
            inner.done.push((id.to_owned(), op));
        }
        r
    }

    /// Reads one guest, without the delay or injected failures.
    fn read<T>(&self, id: &str, f: impl FnOnce(&SimGuest) -> T) -> Result<T, DriverError> {
        let inner = self.inner.lock().unwrap();
        inner
            .guests
            .get(id)
            .map(f)
            .ok_or_else(|| DriverError::NotFound(id.to_owned()))
    }

    fn guest<'a>(
        guests: &'a mut BTreeMap<String, SimGuest>,
        id: &str,
    ) -> Result<&'a mut SimGuest, DriverError> {
        guests
            .get_mut(id)
            .ok_or_else(|| DriverError::NotFound(id.to_owned()))
    }

    fn check(&self, spec: &InstanceSpec, image: &BootImage) -> Result<(), DriverError> {
        if spec.memory_mb > self.config.memory_mb {
            return Err(DriverError::Refused(format!(
                "{} MiB of memory asked, the host has {} MiB",
                spec.memory_mb, self.config.memory_mb
            )));
        }
        if !["qcow2", "raw", "iso"].contains(&image.format.as_str()) {
            return Err(DriverError::Refused(format!(
                "cannot boot a {} image",
                image.format
            )));
        }
        Ok(())
    }
}

fn name(op: Op) -> &'static str {
    match op {
        Op::Spawn => "spawn",
        Op::Start => "start",
        Op::Stop => "stop",
        Op::Reboot => "reboot",
        Op::Destroy => "destroy",
        Op::Rebuild => "rebuild",
        Op::Pause => "pause",
        Op::Export => "export_disk",
        Op::Nmi => "inject_nmi",
    }
}

#[async_trait]
impl Driver for Simulated {
    fn name(&self) -> &'static str {
        "simulated"
    }

    async fn capabilities(&self) -> Result<Capabilities, DriverError> {
        Ok(Capabilities {
            traits: super::vm_image_traits(),
            domain_types: vec!["simulated".into()],
        })
    }

    async fn list(&self) -> Result<Vec<Guest>, DriverError> {
        let inner = self.inner.lock().unwrap();
        Ok(inner
            .guests
            .iter()
            .map(|(id, g)| Guest {
                id: id.clone(),
                state: g.state,
            })
            .collect())
    }

    async fn status(&self, id: &str) -> Result<Option<GuestState>, DriverError> {
        let inner = self.inner.lock().unwrap();
        Ok(inner.guests.get(id).map(|g| g.state))
    }

    async fn spawn(
        &self,
        spec: &InstanceSpec,
        image: &BootImage,
        start: bool,
    ) -> Result<(), DriverError> {
        self.check(spec, image)?;
        self.run(Op::Spawn, &spec.uuid, |guests| {
            if guests.contains_key(&spec.uuid) {
                return Err(DriverError::Refused(format!(
                    "a guest {} exists already",
                    spec.uuid
                )));
            }
            let mut g = SimGuest {
                spec: spec.clone(),
                image: image.clone(),
                state: GuestState::Stopped,
                console: String::new(),
                boots: 0,
            };
            if start {
                g.boot();
            }
            guests.insert(spec.uuid.clone(), g);
            Ok(())
        })
        .await
    }

    async fn start(&self, id: &str) -> Result<(), DriverError> {
        self.run(Op::Start, id, |guests| {
            let g = Self::guest(guests, id)?;
            if g.state != GuestState::Running {
                g.boot();
            }
            Ok(())
        })
        .await
    }

    async fn stop(&self, id: &str, _timeout: Duration) -> Result<(), DriverError> {
        self.run(Op::Stop, id, |guests| {
            let g = Self::guest(guests, id)?;
            g.state = GuestState::Stopped;
            g.console.push_str("virga-sim: shut down\n");
            Ok(())
        })
        .await
    }

    async fn reboot(&self, id: &str, hard: bool, _timeout: Duration) -> Result<(), DriverError> {
        self.run(Op::Reboot, id, |guests| {
            let g = Self::guest(guests, id)?;
            let how = if hard { "hard" } else { "soft" };
            g.console.push_str(&format!("virga-sim: {how} reboot\n"));
            g.boot();
            Ok(())
        })
        .await
    }

    async fn destroy(&self, id: &str) -> Result<(), DriverError> {
        self.run(Op::Destroy, id, |guests| {
            guests.remove(id);
            Ok(())
        })
        .await
    }

    async fn rebuild(
        &self,
        spec: &InstanceSpec,
        image: &BootImage,
        start: bool,
    ) -> Result<(), DriverError> {
        self.check(spec, image)?;
        self.run(Op::Rebuild, &spec.uuid, |guests| {
            let g = Self::guest(guests, &spec.uuid)?;
            g.spec = spec.clone();
            g.image = image.clone();
            g.state = GuestState::Stopped;
            g.console.push_str("virga-sim: rebuilt\n");
            if start {
                g.boot();
            }
            Ok(())
        })
        .await
    }

    async fn inject_nmi(&self, id: &str) -> Result<(), DriverError> {
        self.run(Op::Nmi, id, |guests| match Self::guest(guests, id)?.state {
            GuestState::Running | GuestState::Paused => Ok(()),
            _ => Err(DriverError::Refused(format!("guest {id} is not running"))),
        })
        .await
    }

    async fn pause(&self, id: &str) -> Result<(), DriverError> {
        self.run(Op::Pause, id, |guests| {
            let g = Self::guest(guests, id)?;
            match g.state {
                GuestState::Running | GuestState::Paused => {
                    g.state = GuestState::Paused;
                    Ok(())
                }
                _ => Err(DriverError::Refused(format!("guest {id} is not running"))),
            }
        })
        .await
    }

    async fn unpause(&self, id: &str) -> Result<(), DriverError> {
        self.run(Op::Pause, id, |guests| {
            let g = Self::guest(guests, id)?;
            if g.state == GuestState::Paused {
                g.state = GuestState::Running;
            }
            Ok(())
        })
        .await
    }

    /// A simulated disk is a few lines naming the guest and what it was
    /// built from, written as a raw file.
    async fn export_disk(&self, id: &str, target: &Path, format: &str) -> Result<(), DriverError> {
        let text = self
            .run(Op::Export, id, |guests| {
                let g = Self::guest(guests, id)?;
                if !matches!(g.state, GuestState::Stopped | GuestState::Crashed) {
                    return Err(DriverError::Refused(format!(
                        "guest {id} is not stopped: its disk cannot be exported"
                    )));
                }
                if format != "raw" {
                    return Err(DriverError::Refused(format!(
                        "the simulated driver exports raw disks, not {format}"
                    )));
                }
                Ok(format!(
                    "virga-sim disk\ninstance {id}\nimage {}\nboots {}\n",
                    g.spec.image.id, g.boots
                ))
            })
            .await?;
        tokio::fs::write(target, text)
            .await
            .map_err(|e| DriverError::Failed {
                op: "export_disk",
                id: id.to_owned(),
                source: Box::new(e),
            })
    }

    async fn console_log(&self, id: &str, max_bytes: u64) -> Result<String, DriverError> {
        self.read(id, |g| super::tail(&g.console, max_bytes))
    }

    async fn stats(&self, id: &str) -> Result<Stats, DriverError> {
        self.read(id, |g| Stats {
            cpu_time_ns: g.boots * 1_000_000_000,
            memory_kb: g.spec.memory_mb * 1024,
            ..Stats::default()
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
