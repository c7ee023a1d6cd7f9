//! Private, throwaway PostgreSQL, RabbitMQ and OpenID Connect servers for
//! Virga's tests.
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
//!
//! `oidc::OidcProvider` is a real OpenID Connect provider for federation
//! tests: the npm package `oidc-provider` (pinned in `oidc-provider/`, installed
//! by `npm ci --prefix crates/testkit/oidc-provider`, which `scripts/test.sh`
//! runs) as a node process on `http://127.0.0.1:<random port>`, with the
//! clients and password users a test gives it, a fresh RS256 key, and claims
//! `email`, `profile` and `groups` released in id_tokens. Unlike the servers
//! above it returns errors instead of panicking, belongs to the one test that
//! started it, and exits when that test process does (it watches its stdin).
//! Its async helpers play the browser through the authorization-code flow
//! with PKCE (`browser_login`, for testing a relying party) or also redeem
//! the code (`login_tokens`, for CLI-style token exchange tests).
//!
//! `libvirt::shared()` is a run-wide private libvirtd (root, system mode,
//! QEMU driver) in its own mount namespace, so it shares no state with a
//! host libvirtd; its `uri()` (`qemu:///system?socket=...` in the run
//! directory) is what `virsh -c` or the `virt` crate connect to. Guests must
//! be `<domain type='qemu'>` (TCG) and named with `fresh_name`; the run's
//! watchdog destroys whatever domains are left.

mod amqp;
pub mod files;
pub mod libvirt;
pub mod oidc;
pub mod postgres;
mod process;
pub mod rabbitmq;
mod run;
pub mod s3;
