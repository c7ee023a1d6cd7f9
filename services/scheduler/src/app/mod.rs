//! Scheduler's logic, one module per resource.

pub mod aggregate;
pub mod allocation;
pub mod allocation_candidate;
pub mod capacity;
pub mod inventory;
pub mod node;
pub mod node_report;
pub mod node_watch;
pub mod reshaper;
pub mod resource_class;
pub mod resource_provider;
pub mod select;
pub mod site;
pub mod traits;
pub mod versions;

use virga_common::Error;
use virga_policy::Target;
use virga_service::auth::Auth;

/// Placement's operations are for admins and services.
pub fn enforce(auth: &Auth, rule: &str) -> Result<(), Error> {
    auth.enforce(&format!("placement:{rule}"), &Target::new())
}
