//! Compute's logic, one module per resource.

pub mod availability_zone;
pub mod crash_dump;
pub mod flavor;
pub mod flavor_access;
pub mod flavor_extra_spec;
pub mod hypervisor;
pub mod input;
pub mod instance_action;
pub mod key_pair;
pub mod limits;
pub mod migration;
pub mod quota_set;
pub mod remote_console;
pub mod saga;
pub mod server;
pub mod server_action;
pub mod server_group;
pub mod server_input;
pub mod server_migration;
pub mod server_move;
pub mod server_state;
pub mod service;
pub mod site;
pub mod versions;
pub mod x509;
