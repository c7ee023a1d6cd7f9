//! Reading the dead-letter queue: the bus's own `x-virga-*` headers when it
//! dead-lettered the message itself (malformed, private-queue delivery
//! limit), else RabbitMQ's `x-first-death-*` / `x-death` headers.

use lapin::options::{BasicAckOptions, BasicGetOptions};
use lapin::types::{AMQPValue, FieldTable};

use super::link::Live;
use crate::dead_letter::{DEAD_LETTER_QUEUE, DeadLetter, DeadReason};

/// Takes up to `max` messages off the dead-letter queue. They are acked
/// together only once all are read: if reading fails part-way (connection
/// lost, deadline), every one of them stays in the queue for the retry.
pub(crate) async fn take(live: &Live, max: usize) -> lapin::Result<Vec<DeadLetter>> {
    let channel = live.conn.create_channel().await?;
    let mut out = Vec::new();
    let mut last = None;
    while out.len() < max {
        let Some(msg) = channel
            .basic_get(DEAD_LETTER_QUEUE.into(), BasicGetOptions { no_ack: false })
            .await?
        else {
            break;
        };
        let d = msg.delivery;
        let empty = FieldTable::default();
        let headers = d.properties.headers().as_ref().unwrap_or(&empty);
        let first_death = headers
            .inner()
            .get("x-death")
            .and_then(|v| v.as_array())
            .and_then(|a| a.as_slice().first())
            .and_then(|v| v.as_field_table());
        let from_death = |k: &str| first_death.and_then(|t| text(t, k));
        let reason = text(headers, "x-virga-reason")
            .or_else(|| text(headers, "x-first-death-reason"))
            .or_else(|| from_death("reason"))
            .unwrap_or_default();
        let queue = text(headers, "x-virga-queue")
            .or_else(|| text(headers, "x-first-death-queue"))
            .or_else(|| from_death("queue"))
            .unwrap_or_default();
        out.push(DeadLetter {
            queue,
            routing_key: d.routing_key.to_string(),
            reason: DeadReason::parse(&reason),
            detail: text(headers, "x-virga-detail"),
            body: d.data,
        });
        last = Some(d.acker);
    }
    if let Some(acker) = last {
        acker.ack(BasicAckOptions { multiple: true }).await?;
    }
    let _ = channel.close(200, "OK".into()).await;
    Ok(out)
}

fn text(table: &FieldTable, key: &str) -> Option<String> {
    match table.inner().get(key)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.to_string()),
        _ => None,
    }
}
