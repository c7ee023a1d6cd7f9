//! The edge agent (`virga agent`, and one in-process under `virga up`).
//!
//! - [`discovery`]: what the host has, read from procfs and sysfs.
//! - [`registration`]: that, with the agent's configuration, as the
//!   scheduler's provider model (inventories, traits, devices).

pub mod discovery;
pub mod registration;
