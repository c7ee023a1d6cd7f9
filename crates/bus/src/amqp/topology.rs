//! The RabbitMQ objects the bus relies on and how they are declared:
//!
//! - `virga.events`: durable topic exchange for notifications;
//! - `virga.dlx`: durable fanout exchange every queue dead-letters to, bound
//!   to the durable queue `virga.dead-letters`;
//! - one durable **quorum** queue per topic and per notification group, with
//!   `x-delivery-limit` (quorum queues count deliveries, so a poison message
//!   ends in the dead-letter queue instead of looping) and the dead-letter
//!   exchange;
//! - for a subscription without a group, an exclusive auto-delete classic
//!   queue (quorum queues cannot be exclusive); its delivery limit is kept by
//!   the consumer itself, see `consume.rs`.
//!
//! Declarations are idempotent, so every (re)connection simply repeats them.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};

use super::link::Failure;
use crate::dead_letter::DEAD_LETTER_QUEUE;
use crate::error::BusError;
use crate::transport::EVENTS_EXCHANGE;

pub(crate) const DEAD_LETTER_EXCHANGE: &str = "virga.dlx";

/// Declares the exchanges and the dead-letter queue.
pub(crate) async fn declare_shared(channel: &Channel) -> lapin::Result<()> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .exchange_declare(
            EVENTS_EXCHANGE.into(),
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await?;
    channel
        .exchange_declare(
            DEAD_LETTER_EXCHANGE.into(),
            ExchangeKind::Fanout,
            durable,
            FieldTable::default(),
        )
        .await?;
    let queue = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .queue_declare(DEAD_LETTER_QUEUE.into(), queue, FieldTable::default())
        .await?;
    channel
        .queue_bind(
            DEAD_LETTER_QUEUE.into(),
            DEAD_LETTER_EXCHANGE.into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
}

fn dead_letter_args() -> FieldTable {
    let mut args = FieldTable::default();
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(DEAD_LETTER_EXCHANGE.into()),
    );
    args
}

/// Declares the durable quorum queue `name`.
pub(crate) async fn declare_durable(
    channel: &Channel,
    name: &str,
    delivery_limit: u32,
) -> lapin::Result<()> {
    let mut args = dead_letter_args();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    let limit = i32::try_from(delivery_limit).unwrap_or(i32::MAX);
    args.insert("x-delivery-limit".into(), AMQPValue::LongInt(limit));
    let options = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel.queue_declare(name.into(), options, args).await?;
    Ok(())
}

/// Classifies a failed declaration: RabbitMQ answers a re-declaration with
/// other arguments (e.g. another `x-delivery-limit`) with 406
/// PRECONDITION_FAILED, a definite answer that no retry changes.
pub(crate) fn refused(error: lapin::Error) -> Failure {
    match error.kind() {
        lapin::ErrorKind::ProtocolError(e) if e.get_id() == 406 => {
            Failure::Bus(BusError::Mismatch(e.get_message().to_string()))
        }
        _ => Failure::Amqp(error),
    }
}

/// Declares a private queue with a broker-chosen name, returning the name.
pub(crate) async fn declare_private(channel: &Channel) -> lapin::Result<String> {
    let options = QueueDeclareOptions {
        exclusive: true,
        auto_delete: true,
        ..Default::default()
    };
    let queue = channel
        .queue_declare("".into(), options, dead_letter_args())
        .await?;
    Ok(queue.name().to_string())
}

pub(crate) async fn bind_events(
    channel: &Channel,
    queue: &str,
    pattern: &str,
) -> lapin::Result<()> {
    channel
        .queue_bind(
            queue.into(),
            EVENTS_EXCHANGE.into(),
            pattern.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
}
