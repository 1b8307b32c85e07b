//! `Recent`: a conversation's latest changes that reached this relay, kept so that sessions
//! resuming there are served from memory instead of each reading the log. It knows the
//! position from which it holds every change (where the relay's subscription started, or
//! further back once a read of the log filled the gap before it), and forgets the oldest
//! beyond a bound. Like a replay from the log, it shows each message as it is now: an edit
//! or delete drops the message's earlier edits and rewrites its creation, so that nobody
//! resuming is handed what was deleted, and an expiry drops all of the message's changes.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use switchboard_proto::events::message_of;
use switchboard_proto::v1::{self as pb, event::Kind};

use crate::frames::encode_event;

/// Changes kept per conversation.
const KEPT: usize = 256;

/// A change and its `ServerFrame`, encoded.
pub(crate) type Change = (Arc<pb::Event>, Bytes);

#[derive(Default)]
pub(crate) struct Recent {
    /// Every change after this position that reached the relay is in `changes`. None: not
    /// known (before the subscription is acknowledged, or after the link broke).
    since: Option<u64>,
    /// Oldest first, positions ascending.
    changes: VecDeque<Change>,
}

impl Recent {
    /// Holding every change from `position` on.
    pub(crate) fn since(position: u64) -> Recent {
        Recent { since: Some(position), changes: VecDeque::new() }
    }

    /// The position from which every change is here; None if unknown.
    pub(crate) fn starts_after(&self) -> Option<u64> {
        self.since
    }

    /// Keeps a change that just reached the relay (events without a position are not
    /// changes of the log, and one already here is not kept twice).
    pub(crate) fn push(&mut self, change: Change) {
        let Some(since) = self.since else { return };
        let newest = self.changes.back().map_or(since, |(event, _)| event.seq);
        if change.0.seq <= newest {
            return;
        }
        if let Some(Kind::MessageEdited(_) | Kind::MessageDeleted(_)) = &change.0.kind {
            self.supersede(&change.0);
        }
        self.changes.push_back(change);
        self.trim();
    }

    /// `later` changed a message: its earlier edits go, its creation shows it as now.
    fn supersede(&mut self, later: &pb::Event) {
        let Some(now) = message_of(later) else { return };
        self.changes.retain_mut(|(event, encoded)| match (&event.kind, message_of(event)) {
            (Some(Kind::MessageCreated(_)), Some(then)) if then.id == now.id => {
                let created = pb::MessageCreated { message: Some(now.clone()) };
                let mut rewritten = (**event).clone();
                rewritten.kind = Some(Kind::MessageCreated(created));
                *encoded = encode_event(&rewritten);
                *event = Arc::new(rewritten);
                true
            }
            (_, Some(then)) => then.id != now.id,
            _ => true,
        });
    }

    /// Message `id` expired: its changes go, as a read of the log leaves them out.
    pub(crate) fn forget(&mut self, id: u64) {
        self.changes.retain(|(event, _)| message_of(event).is_none_or(|m| m.id != id));
    }

    /// Every change after `position`, oldest first; None if some of them are not here.
    pub(crate) fn after(&self, position: u64) -> Option<Vec<Change>> {
        if position < self.since? {
            return None;
        }
        let newer = self.changes.iter().filter(|(event, _)| event.seq > position);
        Some(newer.cloned().collect())
    }

    /// Adds what a read of the log found between `after` and `until`, if this still holds
    /// every change from `until` on (else the read no longer joins up and is dropped).
    pub(crate) fn fill(&mut self, after: u64, until: u64, events: Vec<pb::Event>) {
        if self.since != Some(until) || after >= until {
            return;
        }
        let older = events.into_iter().filter(|event| event.seq > after && event.seq <= until);
        let older: Vec<Change> = older
            .map(|event| {
                let encoded = encode_event(&event);
                (Arc::new(event), encoded)
            })
            .collect();
        for change in older.into_iter().rev() {
            self.changes.push_front(change);
        }
        self.since = Some(after);
        self.trim();
    }

    /// Forgets the oldest changes beyond the bound, moving the start on.
    fn trim(&mut self) {
        while self.changes.len() > KEPT {
            if let Some((oldest, _)) = self.changes.pop_front() {
                self.since = Some(oldest.seq);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(seq: u64) -> Change {
        let event = pb::Event { conversation_id: 7, seq, kind: None };
        let encoded = encode_event(&event);
        (Arc::new(event), encoded)
    }

    fn seqs(changes: Option<Vec<Change>>) -> Option<Vec<u64>> {
        changes.map(|changes| changes.iter().map(|(event, _)| event.seq).collect())
    }

    #[test]
    fn serves_only_positions_it_holds_everything_after() {
        let mut recent = Recent::default();
        recent.push(change(5));
        assert_eq!(seqs(recent.after(0)), None, "unknown until the subscription starts");
        let mut recent = Recent::since(10);
        recent.push(change(12));
        recent.push(change(12));
        recent.push(change(15));
        assert_eq!(seqs(recent.after(10)), Some(vec![12, 15]), "each change once");
        assert_eq!(seqs(recent.after(12)), Some(vec![15]));
        assert_eq!(seqs(recent.after(20)), Some(vec![]));
        assert_eq!(seqs(recent.after(9)), None, "what came before 10 is not here");
    }

    #[test]
    fn a_read_of_the_log_joins_on_only_where_it_ends() {
        let mut recent = Recent::since(10);
        recent.push(change(12));
        let read = |seqs: &[u64]| seqs.iter().map(|seq| (*change(*seq).0).clone()).collect();
        recent.fill(3, 9, read(&[5, 9]));
        assert_eq!(seqs(recent.after(3)), None, "a read ending elsewhere leaves a gap");
        recent.fill(3, 10, read(&[5, 9, 10]));
        assert_eq!(seqs(recent.after(3)), Some(vec![5, 9, 10, 12]));
    }

    fn message_event(seq: u64, kind: fn(pb::Message) -> Kind, text: &str) -> Change {
        let deleted = text.is_empty();
        let message = pb::Message { id: 42, data: text.into(), deleted, ..Default::default() };
        let event = pb::Event { conversation_id: 7, seq, kind: Some(kind(message)) };
        let encoded = encode_event(&event);
        (Arc::new(event), encoded)
    }

    #[test]
    fn a_message_is_kept_as_it_is_now() {
        let created = |m| Kind::MessageCreated(pb::MessageCreated { message: Some(m) });
        let edited = |m| Kind::MessageEdited(pb::MessageEdited { message: Some(m) });
        let deleted = |m| {
            Kind::MessageDeleted(pb::MessageDeleted {
                message: Some(m),
                deleted_by: "alice".into(),
            })
        };
        let mut recent = Recent::since(0);
        recent.push(message_event(1, created, "first"));
        recent.push(message_event(2, edited, "second"));
        recent.push(message_event(3, deleted, ""));
        let kept = recent.after(0).unwrap();
        let seqs: Vec<u64> = kept.iter().map(|(event, _)| event.seq).collect();
        assert_eq!(seqs, [1, 3], "the edit is superseded");
        let creation = message_of(&kept[0].0).unwrap();
        assert_eq!((creation.data.as_str(), creation.deleted), ("", true), "created as it is now");
        assert_eq!(kept[0].1, encode_event(&kept[0].0), "and encoded so");
    }

    #[test]
    fn an_expired_message_leaves_with_all_its_changes() {
        let created = |m| Kind::MessageCreated(pb::MessageCreated { message: Some(m) });
        let edited = |m| Kind::MessageEdited(pb::MessageEdited { message: Some(m) });
        let mut recent = Recent::since(0);
        recent.push(message_event(1, created, "first"));
        recent.push(change(2));
        recent.push(message_event(3, edited, "second"));
        recent.forget(41);
        assert_eq!(seqs(recent.after(0)), Some(vec![1, 2, 3]), "another message's expiry");
        recent.forget(42);
        assert_eq!(seqs(recent.after(0)), Some(vec![2]), "what else changed stays");
    }

    #[test]
    fn the_oldest_go_beyond_the_bound() {
        let mut recent = Recent::since(0);
        for seq in 1..=(KEPT as u64 + 2) {
            recent.push(change(seq));
        }
        assert_eq!(recent.starts_after(), Some(2));
        assert_eq!(seqs(recent.after(1)), None);
        assert_eq!(seqs(recent.after(2)).map(|s| s.len()), Some(KEPT));
    }
}
