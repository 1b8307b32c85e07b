//! `Sequencer`: puts each conversation's message events in log order, with none missing,
//! before the hub hands them to relays. Events come off the bus in any order (two sends
//! commit in one order and publish in the other; another controller's events interleave
//! with ours) and may be lost (the bus is at most once). Each message event carries its
//! log position and the one before it, so the sequencer hands an event on once the event
//! before it has gone, holds it until then, and when a gap outlasts [`GAP_WAIT`] the hub
//! reads the missing changes from the log ([`Sequencer::gaps_due`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use switchboard_proto::events::is_public_change;
use tokio::time::Instant;

use super::Topic;
use crate::bus::Delivery;

/// How long an event waits for the one before it before the hub reads the log.
pub(super) const GAP_WAIT: Duration = Duration::from_millis(200);

/// One conversation's order.
struct Order {
    /// The position of the newest change handed on.
    head: u64,
    /// The newest position handed on whose change everyone in the conversation may see:
    /// where a reader that starts now starts.
    public_head: u64,
    /// Events that came ahead of a missing one, by the position before them.
    waiting: BTreeMap<u64, Delivery>,
    /// When the hub reads the log to close the gap, while events wait.
    fill_at: Option<Instant>,
    /// The hub is to read the log now, whatever arrives meanwhile: the bus may have lost
    /// events that nothing after them will reveal (an outage), or a fill read a full page.
    refill: bool,
}

#[derive(Default)]
pub(super) struct Sequencer {
    orders: Mutex<HashMap<Topic, Order>>,
}

impl Sequencer {
    fn orders(&self) -> std::sync::MutexGuard<'_, HashMap<Topic, Order>> {
        self.orders.lock().expect("sequencer lock poisoned")
    }

    /// Starts ordering a conversation's events from log position `head` (every change up
    /// to it is in the log), `public_head` being the newest one everyone may see.
    pub(super) fn start(&self, topic: &Topic, head: u64, public_head: u64) {
        let order =
            Order { head, public_head, waiting: BTreeMap::new(), fill_at: None, refill: false };
        self.orders().insert(topic.clone(), order);
    }

    pub(super) fn stop(&self, topic: &Topic) {
        self.orders().remove(topic);
    }

    /// Where a reader of the topic that starts now starts: 0 for topics not ordered (user
    /// topics).
    pub(super) fn position(&self, topic: &Topic) -> u64 {
        self.orders().get(topic).map_or(0, |order| order.public_head)
    }

    /// The position after which every change of the topic is still to be handed on: 0
    /// for topics not ordered.
    pub(super) fn head(&self, topic: &Topic) -> u64 {
        self.orders().get(topic).map_or(0, |order| order.head)
    }

    /// What to hand on now that `delivery` arrived, in order: nothing if it came early or
    /// twice, else it and the held events it lets go. Events without a position pass.
    pub(super) fn admit(&self, delivery: Delivery) -> Vec<Delivery> {
        if delivery.event.seq == 0 {
            return vec![delivery];
        }
        let mut orders = self.orders();
        let Some(order) = orders.get_mut(&delivery.topic) else { return vec![delivery] };
        if delivery.event.seq <= order.head {
            return Vec::new();
        }
        if delivery.prev > order.head {
            order.waiting.insert(delivery.prev, delivery);
            order.fill_at.get_or_insert_with(|| Instant::now() + GAP_WAIT);
            return Vec::new();
        }
        let mut ready = Vec::new();
        order.pass(delivery, &mut ready);
        ready
    }

    /// The log has nothing between the head and `seq` that was not handed on (the hub read
    /// it): moves the head there, and returns the held events that now follow.
    pub(super) fn advance(&self, topic: &Topic, seq: u64) -> Vec<Delivery> {
        let mut ready = Vec::new();
        if let Some(order) = self.orders().get_mut(topic)
            && seq > order.head
        {
            order.head = seq;
            order.release(&mut ready);
        }
        ready
    }

    /// When the next fill from the log is due.
    pub(super) fn next_fill(&self) -> Option<Instant> {
        let now = Instant::now();
        let due = |order: &Order| if order.refill { Some(now) } else { order.fill_at };
        self.orders().values().filter_map(due).min()
    }

    /// The topics whose logs are to be read now, each with its head (where to read from).
    /// A gap is due again after [`GAP_WAIT`] unless the fill closes it.
    pub(super) fn gaps_due(&self) -> Vec<(Topic, u64)> {
        let now = Instant::now();
        let mut due = Vec::new();
        for (topic, order) in self.orders().iter_mut() {
            if order.refill || order.fill_at.is_some_and(|at| at <= now) {
                order.refill = false;
                order.fill_at = (!order.waiting.is_empty()).then_some(now + GAP_WAIT);
                due.push((topic.clone(), order.head));
            }
        }
        due
    }

    /// Every conversation's log is to be read at once (the bus may have lost events).
    pub(super) fn fill_all_now(&self) {
        for order in self.orders().values_mut() {
            order.refill = true;
        }
    }

    /// A fill that read a full page wants the next one at once.
    pub(super) fn fill_again(&self, topic: &Topic) {
        if let Some(order) = self.orders().get_mut(topic) {
            order.refill = true;
        }
    }
}

impl Order {
    /// Hands on `delivery`, which follows the head, and what it lets go.
    fn pass(&mut self, delivery: Delivery, ready: &mut Vec<Delivery>) {
        self.pass_one(delivery, ready);
        self.release(ready);
    }

    /// Hands on the held events that follow the head, dropping those it has passed.
    fn release(&mut self, ready: &mut Vec<Delivery>) {
        while let Some(entry) = self.waiting.first_entry() {
            if *entry.key() > self.head {
                break;
            }
            let delivery = entry.remove();
            if delivery.event.seq > self.head {
                self.pass_one(delivery, ready);
            }
        }
        if self.waiting.is_empty() {
            self.fill_at = None;
        }
    }

    fn pass_one(&mut self, delivery: Delivery, ready: &mut Vec<Delivery>) {
        self.head = delivery.event.seq;
        if is_public_change(&delivery.event) {
            self.public_head = self.head;
        }
        ready.push(delivery);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use switchboard_proto::v1::{self as pb, event::Kind};

    use super::*;

    fn topic() -> Topic {
        Topic::channel("acme", 7)
    }

    fn change(seq: u64, prev: u64, to: &str) -> Delivery {
        let message = pb::Message { id: seq, to: to.into(), ..Default::default() };
        let event = pb::Event {
            conversation_id: 7,
            seq,
            kind: Some(Kind::MessageCreated(pb::MessageCreated { message: Some(message) })),
        };
        Delivery { topic: topic(), event: Arc::new(event), traceparent: None, prev }
    }

    fn seqs(deliveries: Vec<Delivery>) -> Vec<u64> {
        deliveries.iter().map(|d| d.event.seq).collect()
    }

    #[test]
    fn events_are_handed_on_in_log_order_once() {
        let sequencer = Sequencer::default();
        sequencer.start(&topic(), 10, 10);
        assert_eq!(seqs(sequencer.admit(change(12, 11, ""))), [] as [u64; 0], "11 is missing");
        assert!(sequencer.next_fill().is_some(), "a gap waits for a fill");
        assert_eq!(seqs(sequencer.admit(change(11, 10, ""))), [11, 12]);
        assert!(sequencer.next_fill().is_none(), "the gap closed");
        assert_eq!(seqs(sequencer.admit(change(12, 11, ""))), [] as [u64; 0], "a repeat");
        assert_eq!(seqs(sequencer.admit(change(9, 8, ""))), [] as [u64; 0], "before the start");
        assert_eq!(seqs(sequencer.admit(change(13, 12, ""))), [13]);
    }

    #[test]
    fn a_fill_moves_the_head_past_what_the_log_had_and_releases_the_rest() {
        let sequencer = Sequencer::default();
        sequencer.start(&topic(), 10, 10);
        sequencer.admit(change(14, 13, ""));
        // The fill read 11..=13 (say 13 was superseded, 11 and 12 were handed on by it).
        assert_eq!(seqs(sequencer.admit(change(12, 10, ""))), [12]);
        assert_eq!(seqs(sequencer.advance(&topic(), 13)), [14]);
    }

    #[test]
    fn a_new_reader_starts_at_the_newest_change_everyone_may_see() {
        let sequencer = Sequencer::default();
        sequencer.start(&topic(), 10, 10);
        sequencer.admit(change(11, 10, ""));
        sequencer.admit(change(12, 11, "bob"));
        assert_eq!(sequencer.position(&topic()), 11, "12 is a private message");
        assert_eq!(sequencer.position(&Topic::user("acme", "bob")), 0);
    }

    #[test]
    fn a_refill_is_not_cancelled_by_an_event_that_arrives_in_order() {
        let sequencer = Sequencer::default();
        sequencer.start(&topic(), 10, 10);
        sequencer.fill_all_now();
        assert_eq!(seqs(sequencer.admit(change(11, 10, ""))), [11]);
        assert!(sequencer.next_fill().is_some(), "the log is still to be read");
        assert_eq!(sequencer.gaps_due(), [(topic(), 11)]);
        assert!(sequencer.next_fill().is_none(), "read once");
    }

    #[test]
    fn events_of_topics_not_ordered_pass() {
        let sequencer = Sequencer::default();
        assert_eq!(seqs(sequencer.admit(change(12, 11, ""))), [12]);
    }
}
