//! Compute's logic, one module per resource.

pub mod flavor;
pub mod flavor_access;
pub mod flavor_extra_spec;
pub mod input;
pub mod key_pair;
pub mod quota_set;
pub mod server_group;
pub mod versions;
