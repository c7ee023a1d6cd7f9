//! The in-process broker: queues, the notification bindings and the
//! dead-letter queue, shared by every [`crate::Bus`] connected to it, so that
//! tests can model separate processes and `virga up` runs every service on
//! one. It mirrors what the bus relies on from RabbitMQ: competing consumers,
//! redelivery of unacknowledged messages, a per-queue delivery limit and
//! topic-pattern routing.

mod transport;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

use crate::dead_letter::{DeadLetter, DeadReason};
use crate::error::BusError;
use crate::sync::lock;
use crate::transport::over_limit;
pub(crate) use transport::MemoryTransport;

/// How many dead letters the broker keeps. Nobody drains the queue in
/// `virga up`, and unlike RabbitMQ's it lives in this process's memory.
const DEAD_LETTER_CAP: usize = 10_000;

/// An in-process broker. Cloning shares it.
#[derive(Clone, Default)]
pub struct MemoryBroker {
    inner: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MemoryBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBroker").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    queues: HashMap<String, Arc<Queue>>,
    /// (pattern, queue name) pairs of the events exchange.
    bindings: Vec<(String, String)>,
    dead: VecDeque<DeadLetter>,
}

/// One queue: ready messages and a wake-up for idle consumers.
pub(crate) struct Queue {
    name: String,
    limit: u32,
    ready: Mutex<VecDeque<Message>>,
    notify: Notify,
}

/// A queued message. The reply slot is shared by every redelivery of a call
/// so whichever consumer finally handles it can answer.
pub(crate) struct Message {
    pub body: Arc<Vec<u8>>,
    pub routing_key: String,
    pub reply: Option<Arc<ReplySlot>>,
    /// How often it came back unsettled (RabbitMQ's delivery count).
    pub returns: u32,
    /// When a call's caller stops waiting: past it, the message is
    /// dead-lettered as expired instead of delivered (RabbitMQ's per-message TTL).
    pub expires: Option<Instant>,
}

pub(crate) type ReplySlot = Mutex<Option<oneshot::Sender<Vec<u8>>>>;

impl MemoryBroker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The broker every `memory` bus of this process shares.
    pub fn global() -> &'static MemoryBroker {
        static GLOBAL: OnceLock<MemoryBroker> = OnceLock::new();
        GLOBAL.get_or_init(MemoryBroker::new)
    }

    /// The queue `name`, created with `limit` if missing. Like RabbitMQ,
    /// which refuses to re-declare a queue with other arguments, a
    /// different limit for an existing queue is an error.
    pub(crate) fn declare(&self, name: &str, limit: u32) -> Result<Arc<Queue>, BusError> {
        let mut state = lock(&self.inner);
        let queue = state.queues.entry(name.to_string()).or_insert_with(|| {
            Arc::new(Queue {
                name: name.to_string(),
                limit,
                ready: Mutex::default(),
                notify: Notify::new(),
            })
        });
        if queue.limit != limit {
            return Err(BusError::Mismatch(format!(
                "queue `{name}` has delivery limit {}, not {limit}",
                queue.limit
            )));
        }
        Ok(queue.clone())
    }

    pub(crate) fn queue(&self, name: &str) -> Option<Arc<Queue>> {
        lock(&self.inner).queues.get(name).cloned()
    }

    pub(crate) fn delete(&self, name: &str) {
        let mut state = lock(&self.inner);
        state.queues.remove(name);
        state.bindings.retain(|(_, q)| q != name);
    }

    pub(crate) fn bind(&self, pattern: &str, queue: &str) {
        let mut state = lock(&self.inner);
        let binding = (pattern.to_string(), queue.to_string());
        if !state.bindings.contains(&binding) {
            state.bindings.push(binding);
        }
    }

    /// The queues a notification under `key` goes to, each once.
    pub(crate) fn route(&self, key: &str) -> Vec<Arc<Queue>> {
        let state = lock(&self.inner);
        let mut names: Vec<&String> = state
            .bindings
            .iter()
            .filter(|(p, _)| topic_matches(p, key))
            .map(|(_, q)| q)
            .collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter_map(|n| state.queues.get(n).cloned())
            .collect()
    }

    pub(crate) fn dead_letter(
        &self,
        queue: &str,
        msg: Message,
        reason: DeadReason,
        detail: Option<String>,
    ) {
        let letter = DeadLetter {
            queue: queue.to_string(),
            routing_key: msg.routing_key,
            reason,
            detail,
            body: msg.body.to_vec(),
        };
        let mut state = lock(&self.inner);
        if state.dead.len() >= DEAD_LETTER_CAP
            && let Some(oldest) = state.dead.pop_front()
        {
            tracing::warn!(queue = %oldest.queue, reason = %oldest.reason, "the dead-letter queue is full; dropping its oldest letter");
        }
        state.dead.push_back(letter);
    }

    pub(crate) fn take_dead(&self, max: usize) -> Vec<DeadLetter> {
        let mut state = lock(&self.inner);
        let n = max.min(state.dead.len());
        state.dead.drain(..n).collect()
    }
}

impl Queue {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn push(&self, msg: Message) {
        lock(&self.ready).push_back(msg);
        self.notify.notify_one();
    }

    /// Puts an unsettled message back in front, or dead-letters it once it
    /// came back more than the limit allows (as a quorum queue does).
    pub(crate) fn give_back(&self, broker: &MemoryBroker, mut msg: Message) {
        msg.returns += 1;
        if over_limit(msg.returns, self.limit) {
            tracing::warn!(queue = %self.name, returns = msg.returns, "dead-lettering a message over its delivery limit");
            broker.dead_letter(&self.name, msg, DeadReason::DeliveryLimit, None);
            return;
        }
        lock(&self.ready).push_front(msg);
        self.notify.notify_one();
    }

    /// Waits for and takes the next message, dead-lettering expired ones on
    /// the way. Cancel-safe: the message is taken only in a step without an await.
    pub(crate) async fn pop(&self, broker: &MemoryBroker) -> Message {
        loop {
            let (next, more) = {
                let mut ready = lock(&self.ready);
                (ready.pop_front(), !ready.is_empty())
            };
            if let Some(msg) = next {
                if msg.expires.is_some_and(|at| at <= Instant::now()) {
                    tracing::info!(queue = %self.name, "dead-lettering a call its caller stopped waiting for");
                    broker.dead_letter(&self.name, msg, DeadReason::Expired, None);
                    continue;
                }
                // Another consumer may be waiting too; pass the wake-up on
                // in case more messages are ready.
                if more {
                    self.notify.notify_one();
                }
                return msg;
            }
            self.notify.notified().await;
        }
    }
}

/// AMQP topic matching: words split by `.`, `*` matches exactly one word,
/// `#` zero or more.
pub(crate) fn topic_matches(pattern: &str, key: &str) -> bool {
    fn go(p: &[&str], k: &[&str]) -> bool {
        match p.split_first() {
            None => k.is_empty(),
            Some((&"#", rest)) => (0..=k.len()).any(|i| go(rest, &k[i..])),
            Some((&w, rest)) => k
                .split_first()
                .is_some_and(|(&kw, krest)| (w == "*" || w == kw) && go(rest, krest)),
        }
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    go(&p, &k)
}

#[cfg(test)]
mod tests {
    use super::topic_matches;

    #[test]
    fn topic_patterns_follow_amqp() {
        assert!(topic_matches("instance.*.end", "instance.create.end"));
        assert!(!topic_matches("instance.*", "instance.create.end"));
        assert!(topic_matches("instance.#", "instance.create.end"));
        assert!(topic_matches("instance.#", "instance"));
        assert!(topic_matches("#", "a.b.c"));
        assert!(topic_matches("#.end", "instance.delete.end"));
        assert!(!topic_matches("*.delete.end", "instance.create.end"));
        assert!(topic_matches("instance.create.end", "instance.create.end"));
    }
}
