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
//! Everything here is blocking and panics with the server's log tail when a
//! server cannot start, so tests fail loudly rather than hang.

mod amqp;
pub mod postgres;
pub mod rabbitmq;
mod run;
