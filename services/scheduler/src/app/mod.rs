//! Scheduler's logic, one module per resource.

pub mod versions;
