//! Reports waiting for the bus. While the centre is unreachable the agent
//! keeps working and its reports queue here; none of them is dropped, and
//! the queue stays bounded because each instance's state changes coalesce
//! into its latest one, full reports and network outcomes into the newest
//! (metrics, which
//! may be dropped oldest first, arrive with the telemetry issue).

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Notify;
use virga_protocol::agent::AgentEvent;

#[derive(Default)]
pub struct Outbox {
    queue: Mutex<Queue>,
    arrived: Notify,
}

#[derive(Default)]
struct Queue {
    next_seq: u64,
    items: VecDeque<(u64, AgentEvent)>,
}

/// What a queued event replaces: the same instance's older state, or an
/// older full report.
fn same_slot(a: &AgentEvent, b: &AgentEvent) -> bool {
    match (a, b) {
        (
            AgentEvent::InstanceState { status: x, .. },
            AgentEvent::InstanceState { status: y, .. },
        ) => x.instance == y.instance,
        (AgentEvent::Report { .. }, AgentEvent::Report { .. }) => true,
        (AgentEvent::Image { image: x, .. }, AgentEvent::Image { image: y, .. }) => x == y,
        // The network's newest outcome says all the centre needs.
        (AgentEvent::Network { .. }, AgentEvent::Network { .. }) => true,
        _ => false,
    }
}

impl Outbox {
    pub fn push(&self, event: AgentEvent) {
        let mut q = self.queue.lock().unwrap();
        q.items.retain(|(_, e)| !same_slot(e, &event));
        let seq = q.next_seq;
        q.next_seq += 1;
        q.items.push_back((seq, event));
        drop(q);
        self.arrived.notify_one();
    }

    /// The oldest waiting event (left queued until [`Outbox::sent`]).
    pub async fn front(&self) -> (u64, AgentEvent) {
        loop {
            let waiting = self.arrived.notified();
            if let Some(item) = self.queue.lock().unwrap().items.front().cloned() {
                return item;
            }
            waiting.await;
        }
    }

    /// Removes event `seq` once the bus took it (if a newer one has not
    /// replaced it meanwhile).
    pub fn sent(&self, seq: u64) {
        self.queue.lock().unwrap().items.retain(|(s, _)| *s != seq);
    }

    pub fn len(&self) -> usize {
        self.queue.lock().unwrap().items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use virga_protocol::agent::{InstanceState, InstanceStatus};

    use super::*;

    fn state(instance: &str, state: InstanceState) -> AgentEvent {
        AgentEvent::InstanceState {
            node: "n".into(),
            status: InstanceStatus {
                instance: instance.into(),
                generation: 1,
                state,
                reason: None,
                failed: false,
            },
            request_id: None,
            at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn coalesces_per_instance_and_keeps_order() {
        let o = Outbox::default();
        o.push(state("a", InstanceState::Building));
        o.push(state("b", InstanceState::Building));
        o.push(state("a", InstanceState::Running));
        assert_eq!(o.len(), 2);
        let (seq, first) = o.front().await;
        assert!(
            matches!(first, AgentEvent::InstanceState { ref status, .. } if status.instance == "b")
        );
        o.sent(seq);
        let (seq, next) = o.front().await;
        assert!(matches!(next, AgentEvent::InstanceState { ref status, .. }
            if status.state == InstanceState::Running));
        // Replaced while being sent: the newer one stays queued.
        o.push(state("a", InstanceState::Stopped));
        o.sent(seq);
        assert_eq!(o.len(), 1);
    }
}
