//! Private, throwaway PostgreSQL and RabbitMQ servers for Virga's tests.
//!
//! Servers listen on random loopback ports and are never ones someone started
//! by hand. cargo-nextest runs each test in its own process, so "one shared
//! server" means one per test *run*: the first test process to need a server
//! starts it under a file lock in `/tmp/virga-testkit/<kind>-<runner pid>/`
//! and records it in `state.json`; later processes of the same run reuse it.
//! A detached watchdog stops the server and removes that directory once the
//! runner (nextest, or cargo for `cargo test`) exits.
//!
//! So shared servers live as long as the test process's *parent*, not the
//! test process: under nextest or `cargo test` that is the end of the run,
//! but a test binary started straight from a shell keeps its servers (and
//! their directory) until that shell exits. A `PrivateRabbitMq` is the
//! exception: it belongs to its test process and stops when dropped.
//!
//! Everything here is blocking and panics with the server's log tail when a
//! server cannot start, so tests fail loudly rather than hang; helper
//! commands (initdb, psql, rabbitmqctl) are killed after a deadline. A server
//! counts as started only once it proves to be ours (RabbitMQ's cluster name,
//! PostgreSQL's data directory), never another run's on a reused port.

mod amqp;
pub mod postgres;
mod process;
pub mod rabbitmq;
mod run;
