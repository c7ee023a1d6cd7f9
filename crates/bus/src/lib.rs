//! The message bus between Virga services and agents.
//!
//! One [`Bus`] API with two transports of identical semantics, proven by one
//! shared suite (`suite`, behind the `testsuite` feature) run against each:
//! RabbitMQ over AMQP (lapin) for deployments, and an in-process
//! [`MemoryBroker`] for the all-in-one `virga up` and for tests.
//!
//! - [`Bus::call`]: request/reply with a timeout; a handler's
//!   [`HandlerError::Fail`] comes back as [`BusError::Remote`].
//! - [`Bus::cast`]: persistent, broker-confirmed message to the durable queue
//!   of a topic such as `agent.<host>`; one consumer gets it.
//! - [`Bus::notify`] / [`Bus::subscribe`]: events by name (`instance.create.end`)
//!   fanned out to every group and private subscription whose pattern matches.
//! - [`Bus::serve`]: competing consumers of a topic's queue.
//!
//! Every message is acknowledged only after its handler returns, so a
//! consumer that dies mid-message leaves it to be redelivered elsewhere.
//! A message that keeps coming back (retries, panics, crashes) is moved to
//! the dead-letter queue after `delivery_limit` returns, and a body that is
//! not a readable [`Envelope`] goes there at once; see [`Bus::dead_letters`].

mod amqp;
mod backoff;
mod bus;
mod consumer;
mod dead_letter;
mod envelope;
mod error;
mod handler;
mod memory;
mod options;
#[cfg(feature = "testsuite")]
pub mod suite;
mod sync;
mod transport;

pub use bus::Bus;
pub use consumer::Consumer;
pub use dead_letter::{DEAD_LETTER_QUEUE, DeadLetter, DeadReason};
pub use envelope::{
    Context, DecodeError, ENVELOPE_VERSION, Envelope, Kind, RemoteError, ReplyBody, ReplyOutcome,
};
pub use error::{BusError, HandlerError};
pub use handler::{FnHandler, Handler, Incoming, handler_fn};
pub use memory::MemoryBroker;
pub use options::BusOptions;
