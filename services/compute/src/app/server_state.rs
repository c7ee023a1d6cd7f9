//! Servers' states as Nova keeps them (`vm_state`, the transitional
//! `task_state`, the hypervisor's `power_state`), the status the API shows
//! for them, and the one table of what each action allows: an action in
//! the wrong state is a 409 naming the state.

use virga_common::Error;

use crate::db::instance::Model;

pub mod vm {
    pub const BUILDING: &str = "building";
    pub const ACTIVE: &str = "active";
    pub const STOPPED: &str = "stopped";
    pub const PAUSED: &str = "paused";
    pub const ERROR: &str = "error";
    pub const DELETED: &str = "deleted";
}

pub mod task {
    pub const SCHEDULING: &str = "scheduling";
    pub const SPAWNING: &str = "spawning";
    pub const DELETING: &str = "deleting";
}

pub mod power {
    pub const NOSTATE: i32 = 0;
    pub const RUNNING: i32 = 1;
    pub const PAUSED: i32 = 3;
    pub const SHUTDOWN: i32 = 4;
    pub const CRASHED: i32 = 6;
}

/// The API's `status` (Nova's `vm_states` -> status map).
pub fn status(m: &Model) -> &'static str {
    match (m.vm_state.as_str(), m.task_state.as_deref()) {
        (vm::BUILDING, _) => "BUILD",
        (vm::ACTIVE, _) => "ACTIVE",
        (vm::STOPPED, _) => "SHUTOFF",
        (vm::PAUSED, _) => "PAUSED",
        (vm::ERROR, _) => "ERROR",
        (vm::DELETED, _) => "DELETED",
        _ => "UNKNOWN",
    }
}

/// The vm_states a `status` filter names (Nova's reverse map).
pub fn vm_states_of(status: &str) -> Option<&'static [&'static str]> {
    Some(match status.to_ascii_uppercase().as_str() {
        "BUILD" => &[vm::BUILDING],
        "ACTIVE" => &[vm::ACTIVE],
        "SHUTOFF" => &[vm::STOPPED],
        "PAUSED" => &[vm::PAUSED],
        "ERROR" => &[vm::ERROR],
        "DELETED" => &[vm::DELETED],
        _ => return None,
    })
}

/// What a user asks of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Delete,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Delete => "delete",
        }
    }

    /// The states the action is allowed in (`None`: any), as Nova's
    /// `check_instance_state` decorators say.
    fn allowed(
        self,
    ) -> (
        Option<&'static [&'static str]>,
        Option<&'static [Option<&'static str>]>,
    ) {
        match self {
            Action::Delete => (None, None),
        }
    }
}

fn conflict(m: &Model, a: Action, attr: &str, state: &str) -> Error {
    Error::Conflict(format!(
        "Cannot '{}' instance {} while it is in {attr} {state}",
        a.name(),
        m.id
    ))
}

/// 409 unless `a` is allowed in the server's state.
pub fn check(m: &Model, a: Action) -> Result<(), Error> {
    let (vm_states, task_states) = a.allowed();
    if let Some(ok) = vm_states
        && !ok.contains(&m.vm_state.as_str())
    {
        return Err(conflict(m, a, "vm_state", &m.vm_state));
    }
    if let Some(ok) = task_states
        && !ok.contains(&m.task_state.as_deref())
    {
        let shown = m.task_state.as_deref().unwrap_or("None");
        return Err(conflict(m, a, "task_state", shown));
    }
    Ok(())
}
