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
    /// Moved (resized or migrated), waiting for a confirm or a revert.
    pub const RESIZED: &str = "resized";
    pub const ERROR: &str = "error";
    pub const DELETED: &str = "deleted";
}

pub mod task {
    pub const SCHEDULING: &str = "scheduling";
    pub const SPAWNING: &str = "spawning";
    pub const DELETING: &str = "deleting";
    pub const POWERING_ON: &str = "powering-on";
    pub const POWERING_OFF: &str = "powering-off";
    pub const REBOOTING: &str = "rebooting";
    pub const REBOOTING_HARD: &str = "rebooting_hard";
    pub const REBUILDING: &str = "rebuilding";
    pub const PAUSING: &str = "pausing";
    pub const UNPAUSING: &str = "unpausing";
    /// A move: claimed on the target, the guest being stopped.
    pub const RESIZE_PREP: &str = "resize_prep";
    /// Its disk on the way to the target.
    pub const RESIZE_MIGRATING: &str = "resize_migrating";
    /// Its ports bound to the target.
    pub const RESIZE_MIGRATED: &str = "resize_migrated";
    /// Being built on the target.
    pub const RESIZE_FINISH: &str = "resize_finish";
    pub const RESIZE_REVERTING: &str = "resize_reverting";
    pub const RESIZE_CONFIRMING: &str = "resize_confirming";
}

/// The task states of a move in progress (shown as `RESIZE`).
const MOVING: &[&str] = &[
    task::RESIZE_PREP,
    task::RESIZE_MIGRATING,
    task::RESIZE_MIGRATED,
    task::RESIZE_FINISH,
];

pub mod power {
    pub const NOSTATE: i32 = 0;
    pub const RUNNING: i32 = 1;
    pub const PAUSED: i32 = 3;
    pub const SHUTDOWN: i32 = 4;
    pub const CRASHED: i32 = 6;
}

/// The API's `status` (Nova's `_STATE_MAP`: a vm_state, refined by some
/// task states).
pub fn status(m: &Model) -> &'static str {
    let t = m.task_state.as_deref();
    if t.is_some_and(|t| MOVING.contains(&t))
        && [vm::ACTIVE, vm::STOPPED].contains(&m.vm_state.as_str())
    {
        return "RESIZE";
    }
    match m.vm_state.as_str() {
        vm::BUILDING => "BUILD",
        vm::ACTIVE => match t {
            Some(task::REBOOTING) => "REBOOT",
            Some(task::REBOOTING_HARD) => "HARD_REBOOT",
            Some(task::REBUILDING) => "REBUILD",
            _ => "ACTIVE",
        },
        vm::STOPPED if t == Some(task::REBUILDING) => "REBUILD",
        vm::STOPPED => "SHUTOFF",
        vm::PAUSED => "PAUSED",
        vm::RESIZED if t == Some(task::RESIZE_REVERTING) => "REVERT_RESIZE",
        vm::RESIZED => "VERIFY_RESIZE",
        vm::ERROR if t == Some(task::REBUILDING) => "REBUILD",
        vm::ERROR => "ERROR",
        vm::DELETED => "DELETED",
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
        "VERIFY_RESIZE" => &[vm::RESIZED],
        "ERROR" => &[vm::ERROR],
        "DELETED" => &[vm::DELETED],
        _ => return None,
    })
}

/// What a user asks of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Delete,
    Start,
    Stop,
    RebootSoft,
    RebootHard,
    Rebuild,
    Pause,
    Unpause,
    Resize,
    Migrate,
    ConfirmResize,
    RevertResize,
    Evacuate,
}

type Allowed = (
    Option<&'static [&'static str]>,
    Option<&'static [Option<&'static str>]>,
);

const IDLE: &[Option<&str>] = &[None];

impl Action {
    /// The name Nova's conflict message uses.
    fn name(self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::Start => "start",
            Action::Stop => "stop",
            Action::RebootSoft | Action::RebootHard => "reboot",
            Action::Rebuild => "rebuild",
            Action::Pause => "pause",
            Action::Unpause => "unpause",
            Action::Resize => "resize",
            Action::Migrate => "migrate",
            Action::ConfirmResize => "confirmResize",
            Action::RevertResize => "revertResize",
            Action::Evacuate => "evacuate",
        }
    }

    /// The states the action is allowed in (`None`: any), as Nova's
    /// `check_instance_state` decorators say, narrowed where a Virga server
    /// has no guest to act on: an ERROR server's build failed and its guest
    /// and claim were given back, so it can only be deleted.
    fn allowed(self) -> Allowed {
        match self {
            Action::Delete => (None, None),
            Action::Start => (Some(&[vm::STOPPED]), Some(IDLE)),
            Action::Stop | Action::Pause | Action::RebootSoft => (Some(&[vm::ACTIVE]), Some(IDLE)),
            // A hard reboot may take over a soft one that hangs.
            Action::RebootHard => (
                Some(&[vm::ACTIVE, vm::STOPPED, vm::PAUSED]),
                Some(&[None, Some(task::REBOOTING)]),
            ),
            Action::Rebuild => (Some(&[vm::ACTIVE, vm::STOPPED]), Some(IDLE)),
            Action::Unpause => (Some(&[vm::PAUSED]), Some(IDLE)),
            Action::Resize | Action::Migrate | Action::Evacuate => {
                (Some(&[vm::ACTIVE, vm::STOPPED]), Some(IDLE))
            }
            Action::ConfirmResize | Action::RevertResize => (Some(&[vm::RESIZED]), Some(IDLE)),
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

/// 409 when the server is locked and the caller is no admin (Nova's
/// `check_instance_lock`).
pub fn check_lock(m: &Model, admin: bool) -> Result<(), Error> {
    if m.locked && !admin {
        return Err(Error::Conflict(format!("Instance {} is locked", m.id)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(vm_state: &str, task_state: Option<&str>) -> Model {
        let at = chrono::Utc::now();
        Model {
            id: "s".into(),
            project_id: "p".into(),
            user_id: "u".into(),
            name: "n".into(),
            description: None,
            reservation_id: "r".into(),
            launch_index: 0,
            flavor_id: "f".into(),
            flavor: "{}".into(),
            vcpus: 1,
            memory_mb: 64,
            root_gb: 0,
            image_id: "i".into(),
            image: "{}".into(),
            key_name: None,
            key_data: None,
            user_data: None,
            metadata: "{}".into(),
            networks: "[]".into(),
            network_info: "[]".into(),
            security_groups: "[]".into(),
            availability_zone: None,
            server_group_id: None,
            node_id: None,
            site_id: None,
            vm_state: vm_state.into(),
            task_state: task_state.map(str::to_owned),
            power_state: 0,
            generation: 0,
            locked: false,
            locked_by: None,
            locked_reason: None,
            fault: None,
            created_at: at,
            updated_at: at,
            launched_at: None,
            deleted_at: None,
        }
    }

    #[test]
    fn the_table_allows_and_names_the_state() {
        assert!(check(&server(vm::STOPPED, None), Action::Start).is_ok());
        let e = check(&server(vm::ACTIVE, None), Action::Start).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Cannot 'start' instance s while it is in vm_state active"
        );
        let e = check(&server(vm::ACTIVE, Some(task::POWERING_OFF)), Action::Stop).unwrap_err();
        assert!(e.to_string().ends_with("task_state powering-off"), "{e}");
        assert!(
            check(
                &server(vm::ACTIVE, Some(task::REBOOTING)),
                Action::RebootHard
            )
            .is_ok()
        );
        assert!(
            check(
                &server(vm::ACTIVE, Some(task::REBOOTING)),
                Action::RebootSoft
            )
            .is_err()
        );
        assert!(check(&server(vm::ERROR, None), Action::Rebuild).is_err());
        assert!(check(&server(vm::PAUSED, None), Action::Unpause).is_ok());
        assert!(check(&server(vm::BUILDING, Some(task::SPAWNING)), Action::Delete).is_ok());
    }

    #[test]
    fn statuses_follow_the_task() {
        assert_eq!(status(&server(vm::ACTIVE, Some(task::REBOOTING))), "REBOOT");
        assert_eq!(
            status(&server(vm::ACTIVE, Some(task::REBOOTING_HARD))),
            "HARD_REBOOT"
        );
        assert_eq!(
            status(&server(vm::STOPPED, Some(task::REBUILDING))),
            "REBUILD"
        );
        assert_eq!(
            status(&server(vm::STOPPED, Some(task::POWERING_ON))),
            "SHUTOFF"
        );
        assert_eq!(
            status(&server(vm::ACTIVE, Some(task::POWERING_OFF))),
            "ACTIVE"
        );
        assert_eq!(
            status(&server(vm::STOPPED, Some(task::RESIZE_MIGRATING))),
            "RESIZE"
        );
        assert_eq!(status(&server(vm::RESIZED, None)), "VERIFY_RESIZE");
        assert_eq!(
            status(&server(vm::RESIZED, Some(task::RESIZE_REVERTING))),
            "REVERT_RESIZE"
        );
    }

    #[test]
    fn moves_need_an_idle_server_and_confirms_a_moved_one() {
        assert!(check(&server(vm::STOPPED, None), Action::Migrate).is_ok());
        assert!(check(&server(vm::PAUSED, None), Action::Resize).is_err());
        let e = check(&server(vm::ACTIVE, None), Action::ConfirmResize).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Cannot 'confirmResize' instance s while it is in vm_state active"
        );
        assert!(check(&server(vm::RESIZED, None), Action::RevertResize).is_ok());
        assert!(check(&server(vm::RESIZED, None), Action::Stop).is_err());
    }
}
