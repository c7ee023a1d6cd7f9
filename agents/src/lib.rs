//! The edge agent (`virga agent`, and one in-process under `virga up`).
//!
//! - [`discovery`]: what the host has, read from procfs and sysfs.
//! - [`registration`]: that, with the agent's configuration, as the
//!   scheduler's provider model (inventories, traits, devices).
//! - [`driver`]: the hypervisor driver trait and its drivers.
//! - [`ledger`]: the local SQLite record of each instance's desired state
//!   and generation.
//! - [`reconcile`]: making the host match the ledger, one instance at a time.
//! - `commands`, `link`, [`outbox`]: the bus side (commands in, reports
//!   out, buffered while the centre is unreachable).
//! - `export`: a stopped instance's disk sent to the centre (moves).
//! - [`agent`]: starting it all; [`run`]: from Virga's configuration.

pub mod agent;
mod commands;
pub mod discovery;
pub mod driver;
mod export;
pub mod images;
pub mod ledger;
mod link;
pub mod netplane;
pub mod outbox;
pub mod reconcile;
pub mod registration;
pub mod run;

pub use agent::{AgentError, AgentOptions, BusSource, RunningAgent, start};
