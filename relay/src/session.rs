//! One client stream: its bounded outgoing queue, the conversations it is subscribed to,
//! its position in each, and the hold-back buffer that makes resume gap-free.
//!
//! A conversation's message events reach the relay in log order with none missing (the
//! controller sees to it), and a replay reads the log in the same order, so one position
//! per conversation is all a session needs: a change at or before it was delivered (or
//! came before the session started), a later one was not. While a replay runs, live
//! events are held back; when it ends they are released in arrival order, skipping what
//! the replay delivered.

use std::collections::{HashMap, HashSet};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use switchboard_proto::encoded::EncodedStream;
use switchboard_proto::events;
use switchboard_proto::status;
use switchboard_proto::v1::{self as pb, event::Kind, server_frame};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::frames::encode;
use crate::stats::Stats;

pub(crate) type SessionId = u64;

/// Live events a session may hold back during a replay before it is cut off.
const MAX_HELD: usize = 65_536;

pub(crate) struct Session {
    pub(crate) id: SessionId,
    pub(crate) org: String,
    pub(crate) user: String,
    /// When the stream opened (Unix milliseconds), for `sbctl admin connections`.
    pub(crate) opened_ms: i64,
    /// Subscribed to all the user's conversations (a Hello without `only`): membership
    /// changes add and remove subscriptions.
    pub(crate) follow_all: AtomicBool,
    /// Frames to the client, encoded (a live event's bytes are shared by every subscriber
    /// of its conversation). Bounded: when full, the client is too slow and is cut off.
    queue: mpsc::Sender<Bytes>,
    /// The final error, sent past a full queue.
    last_word: mpsc::Sender<Status>,
    /// Cancelled when the session ends for any reason.
    pub(crate) ended: CancellationToken,
    /// The client's current token, passed to the controller on its behalf.
    token: Mutex<String>,
    state: Mutex<SessionState>,
    stats: Arc<Stats>,
}

impl SessionState {
    /// Moves the conversation's position to a change being delivered; false if the
    /// session is past it already. Events without a position are always "first".
    fn first_delivery(&mut self, event: &pb::Event) -> bool {
        if event.seq == 0 {
            return true;
        }
        let position = self.positions.entry(event.conversation_id).or_default();
        if event.seq <= *position {
            return false;
        }
        *position = event.seq;
        true
    }
}

#[derive(Default)]
struct SessionState {
    conversations: HashSet<u64>,
    /// Conversations the client asked not to follow, until it subscribes or is added again.
    left_out: HashSet<u64>,
    /// Replays running; live events are held back while this is above zero.
    replays: usize,
    held: Vec<(Arc<pb::Event>, Bytes)>,
    /// Per conversation, the position of the newest change delivered (or the one the
    /// session started at).
    positions: HashMap<u64, u64>,
    /// The users whose presence the client shows (`watch_presence`).
    watched: HashSet<String>,
    /// The conversations whose online count the client shows (`watch_online_counts`).
    counted: HashSet<u64>,
    /// Users with a block between them and this user: their presence is not shown here.
    apart: HashSet<String>,
}

impl Session {
    /// A session, and the stream its client reads: encoded `ServerFrame`s, then at most
    /// one final error.
    pub(crate) fn new(
        id: SessionId,
        org: &str,
        user: &str,
        token: String,
        queue_size: usize,
        stats: Arc<Stats>,
    ) -> (Arc<Session>, EncodedStream) {
        let (queue, frames) = mpsc::channel(queue_size);
        let (last_word, last) = mpsc::channel(1);
        let session = Arc::new(Session {
            id,
            org: org.to_string(),
            user: user.to_string(),
            opened_ms: switchboard_proto::ids::now_ms(),
            follow_all: AtomicBool::new(false),
            queue,
            last_word,
            ended: CancellationToken::new(),
            token: Mutex::new(token),
            state: Mutex::new(SessionState::default()),
            stats,
        });
        let frames = ReceiverStream::new(frames).map(Ok);
        let stream = frames.merge(ReceiverStream::new(last).map(Err));
        (session, Box::pin(stream))
    }

    pub(crate) fn token(&self) -> String {
        self.token.lock().expect("token lock poisoned").clone()
    }

    pub(crate) fn set_token(&self, token: String) {
        *self.token.lock().expect("token lock poisoned") = token;
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SessionState> {
        self.state.lock().expect("session lock poisoned")
    }

    /// Ends the stream with `status` (unless it already ended).
    pub(crate) fn end(&self, status: Status) {
        if !self.ended.is_cancelled() {
            self.ended.cancel();
            let _ = self.last_word.try_send(status);
        }
    }

    /// Queues a frame, waiting for room (for acks and replays, which the client asked for).
    pub(crate) async fn send(&self, frame: server_frame::Kind) -> bool {
        self.send_encoded(encode(frame)).await
    }

    async fn send_encoded(&self, frame: Bytes) -> bool {
        tokio::select! {
            sent = self.queue.send(frame) => sent.is_ok(),
            () = self.ended.cancelled() => false,
        }
    }

    /// Hands a live event (and its `ServerFrame`, encoded) to the client, unless it is not
    /// for them; holds it back during a replay; cuts the client off if its queue is full.
    pub(crate) fn deliver(&self, event: &Arc<pb::Event>, encoded: &Bytes) {
        if !self.wants(event) {
            return;
        }
        let mut state = self.state();
        if state.replays > 0 {
            if state.held.len() >= MAX_HELD {
                drop(state);
                self.too_slow();
            } else {
                state.held.push((event.clone(), encoded.clone()));
            }
            return;
        }
        self.push(event, encoded, &mut state);
    }

    fn push(&self, event: &pb::Event, encoded: &Bytes, state: &mut SessionState) {
        // A message of a conversation the session no longer follows (it left, or a replay
        // that would have come before it failed) must not move its position on.
        if events::message_of(event).is_some()
            && !state.conversations.contains(&event.conversation_id)
        {
            return;
        }
        if !state.first_delivery(event) {
            return;
        }
        match self.queue.try_send(encoded.clone()) {
            Ok(()) => {
                self.stats.events_delivered.inc();
            }
            Err(mpsc::error::TrySendError::Full(_)) => self.too_slow(),
            Err(mpsc::error::TrySendError::Closed(_)) => self.ended.cancel(),
        }
    }

    fn too_slow(&self) {
        if !self.ended.is_cancelled() {
            self.stats.slow_disconnects.inc();
            tracing::info!(session = self.id, user = %self.user, "client too slow; disconnecting");
        }
        self.end(status::exhausted(
            "the client fell too far behind and was disconnected; reconnect and resume",
        ));
    }

    /// Private messages (and read receipts on them) reach only their two parties; the
    /// user's own typing is not echoed back.
    fn wants(&self, event: &pb::Event) -> bool {
        if let Some(message) = events::message_of(event) {
            return events::visible_to(message, &self.user);
        }
        match &event.kind {
            Some(Kind::ReadReceipt(receipt)) => {
                receipt.audience.is_empty() || receipt.audience.contains(&self.user)
            }
            Some(Kind::Typing(typing)) => typing.user_id != self.user,
            _ => true,
        }
    }

    /// Starts holding back live events for a replay.
    pub(crate) fn begin_replay(&self) {
        self.state().replays += 1;
    }

    /// Queues a replayed message (waiting for room), unless it was delivered already.
    pub(crate) async fn send_replayed(&self, event: pb::Event) -> bool {
        if !self.state().first_delivery(&event) {
            return true;
        }
        self.send(server_frame::Kind::Event(event)).await
    }

    /// Queues a change the relay kept (and its frame, encoded), waiting for room, unless it
    /// is not for this client or was delivered already.
    pub(crate) async fn send_replayed_encoded(&self, event: &pb::Event, encoded: &Bytes) -> bool {
        if !self.wants(event) || !self.state().first_delivery(event) {
            return true;
        }
        self.send_encoded(encoded.clone()).await
    }

    /// The stream is ending because its replay failed: the events held back behind it
    /// must not go out, or the client would move past what it never got.
    pub(crate) fn drop_held(&self) {
        self.state().held.clear();
    }

    /// Ends a replay; when none is left, releases the held events it did not already deliver.
    pub(crate) fn finish_replay(&self) {
        let mut state = self.state();
        state.replays -= 1;
        if state.replays > 0 {
            return;
        }
        for (event, encoded) in std::mem::take(&mut state.held) {
            self.push(&event, &encoded, &mut state);
        }
    }

    /// Follows `conversation_id` (a subscribe, or a join) from now on; true if it is new.
    pub(crate) fn follow_conversation(&self, conversation_id: u64) -> bool {
        let mut state = self.state();
        state.left_out.remove(&conversation_id);
        state.conversations.insert(conversation_id)
    }

    /// The client asked not to follow `conversation_id` (`except` in its hello, or `unsubscribe`).
    pub(crate) fn leave_out(&self, conversation_id: u64) {
        self.state().left_out.insert(conversation_id);
    }

    pub(crate) fn is_left_out(&self, conversation_id: u64) -> bool {
        self.state().left_out.contains(&conversation_id)
    }

    /// The session has every change of `conversation_id` up to `position` (it started there, or a
    /// replay read that far): the position moves there unless it is further already.
    pub(crate) fn reached(&self, conversation_id: u64, position: u64) {
        let mut state = self.state();
        let current = state.positions.entry(conversation_id).or_default();
        *current = (*current).max(position);
    }

    /// The position in `conversation_id`: 0 if the session has none there (yet).
    pub(crate) fn position(&self, conversation_id: u64) -> u64 {
        self.state().positions.get(&conversation_id).copied().unwrap_or(0)
    }

    /// Positions in the given conversations, as a `live` frame names them.
    pub(crate) fn positions(&self, conversation_ids: &[u64]) -> Vec<pb::ChannelPosition> {
        let state = self.state();
        let at = |conversation_id: &u64| state.positions.get(conversation_id).copied().unwrap_or(0);
        let positions = conversation_ids.iter().map(|conversation_id| pb::ChannelPosition {
            channel_id: *conversation_id,
            after_id: 0,
            after_seq: at(conversation_id),
        });
        positions.collect()
    }

    /// Forgets a conversation, the position in it and its count; true if the session had it.
    pub(crate) fn forget_conversation(&self, conversation_id: u64) -> bool {
        let mut state = self.state();
        state.positions.remove(&conversation_id);
        state.counted.remove(&conversation_id);
        state.conversations.remove(&conversation_id)
    }

    pub(crate) fn has_conversation(&self, conversation_id: u64) -> bool {
        self.state().conversations.contains(&conversation_id)
    }

    pub(crate) fn conversations(&self) -> Vec<u64> {
        let mut conversation_ids: Vec<u64> = self.state().conversations.iter().copied().collect();
        conversation_ids.sort_unstable();
        conversation_ids
    }

    /// Makes `users` the watched ones; returns those added and those removed.
    pub(crate) fn set_watched(&self, users: Vec<String>) -> (Vec<String>, Vec<String>) {
        replace(&mut self.state().watched, users)
    }

    /// Makes `users` the ones kept apart from this user; returns those newly kept apart and
    /// those no longer.
    pub(crate) fn set_apart(&self, users: Vec<String>) -> (Vec<String>, Vec<String>) {
        replace(&mut self.state().apart, users)
    }

    /// Whether `user`'s presence is kept from this stream (a block between them).
    pub(crate) fn hides(&self, user: &str) -> bool {
        self.state().apart.contains(user)
    }

    /// Makes `conversations` the counted ones; returns those added and those removed.
    pub(crate) fn set_counted(&self, conversations: Vec<u64>) -> (Vec<u64>, Vec<u64>) {
        replace(&mut self.state().counted, conversations)
    }

    pub(crate) fn counted(&self) -> Vec<u64> {
        self.state().counted.iter().copied().collect()
    }

    pub(crate) fn watches_anyone(&self) -> bool {
        !self.state().watched.is_empty()
    }

    pub(crate) fn watched(&self) -> Vec<String> {
        self.state().watched.iter().cloned().collect()
    }

    pub(crate) fn follows_all(&self) -> bool {
        self.follow_all.load(Ordering::Relaxed)
    }
}

/// Makes `set` hold exactly `new`; returns what that added and what it removed.
fn replace<T: Clone + Eq + std::hash::Hash>(set: &mut HashSet<T>, new: Vec<T>) -> (Vec<T>, Vec<T>) {
    let new: HashSet<T> = new.into_iter().collect();
    let added = new.difference(set).cloned().collect();
    let removed = set.difference(&new).cloned().collect();
    *set = new;
    (added, removed)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A session of bob's following conversation 7 (where [`message`] puts messages).
    fn session(queue: usize) -> (Arc<Session>, EncodedStream) {
        let (session, frames) =
            Session::new(1, "acme", "bob", "token".into(), queue, Arc::default());
        session.follow_conversation(7);
        (session, frames)
    }

    /// Delivers `event` as the dispatcher does, encoded once.
    fn deliver(session: &Session, event: &Arc<pb::Event>) {
        session.deliver(event, &encode(server_frame::Kind::Event((**event).clone())));
    }

    fn message(id: u64, from: &str, to: &str) -> Arc<pb::Event> {
        let message = pb::Message {
            id,
            channel_id: 7,
            from: from.into(),
            to: to.into(),
            data: format!("m{id}"),
            ..Default::default()
        };
        Arc::new(pb::Event {
            conversation_id: 7,
            seq: id,
            kind: Some(Kind::MessageCreated(pb::MessageCreated { message: Some(message) })),
        })
    }

    /// Ids of the messages queued so far. Delivery is synchronous, so one poll per frame
    /// (a zero timeout polls once) sees everything that was delivered.
    async fn received(frames: &mut EncodedStream) -> Vec<u64> {
        let mut ids = Vec::new();
        while let Ok(Some(frame)) = tokio::time::timeout(Duration::ZERO, frames.next()).await {
            let frame = frame.map(<pb::ServerFrame as prost::Message>::decode);
            if let Ok(Ok(pb::ServerFrame { kind: Some(server_frame::Kind::Event(event)) })) = frame
                && let Some(Kind::MessageCreated(created)) = event.kind
            {
                ids.push(created.message.unwrap().id);
            }
        }
        ids
    }

    #[tokio::test]
    async fn live_events_wait_for_the_replay_and_skip_what_it_delivered() {
        let (session, mut frames) = session(64);
        session.begin_replay();
        deliver(&session, &message(11, "alice", "*")); // live, during the replay
        deliver(&session, &message(12, "alice", "*"));
        for replayed in [10, 11] {
            session.send_replayed((*message(replayed, "alice", "*")).clone()).await;
        }
        assert_eq!(received(&mut frames).await, [10, 11], "live events held back");
        session.finish_replay();
        assert_eq!(received(&mut frames).await, [12]);
        assert_eq!(session.position(7), 12);
    }

    #[tokio::test]
    async fn a_session_delivers_only_changes_after_its_position() {
        let (session, mut frames) = session(64);
        session.reached(7, 20);
        deliver(&session, &message(20, "alice", "*"));
        deliver(&session, &message(21, "alice", "*"));
        session.reached(7, 5); // a position never moves back
        deliver(&session, &message(21, "alice", "*"));
        assert_eq!(received(&mut frames).await, [21]);
        assert_eq!(session.positions(&[7, 8])[0].after_seq, 21);
        assert_eq!(session.positions(&[7, 8])[1].after_seq, 0, "no position in 8");
    }

    #[tokio::test]
    async fn a_late_live_copy_of_a_replayed_message_is_dropped_once() {
        let (session, mut frames) = session(64);
        session.begin_replay();
        session.send_replayed((*message(20, "alice", "*")).clone()).await;
        session.finish_replay();
        deliver(&session, &message(20, "alice", "*")); // published after the replay ended
        deliver(&session, &message(21, "alice", "*"));
        assert_eq!(received(&mut frames).await, [20, 21]);
    }

    #[tokio::test]
    async fn private_messages_reach_only_their_parties() {
        let (session, mut frames) = session(64);
        deliver(&session, &message(1, "alice", "carol"));
        deliver(&session, &message(2, "alice", "bob"));
        deliver(&session, &message(3, "bob", "dave"));
        deliver(&session, &message(4, "alice", "*"));
        assert_eq!(received(&mut frames).await, [2, 3, 4]);
    }

    #[tokio::test]
    async fn a_full_queue_ends_the_session_with_a_reason() {
        let (session, mut frames) = session(2);
        for id in 1..=3 {
            deliver(&session, &message(id, "alice", "*"));
        }
        assert!(session.ended.is_cancelled());
        let mut last = None;
        while let Some(frame) = frames.next().await {
            last = Some(frame);
            if matches!(last, Some(Err(_))) {
                break;
            }
        }
        let status = last.unwrap().unwrap_err();
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    }

    /// The bug the model test found: a hello whose replay failed (its relay was stopping)
    /// released the live events held behind it, and the client moved past what the replay
    /// never delivered.
    #[tokio::test]
    async fn a_failed_replay_releases_nothing_held_behind_it() {
        let (session, mut frames) = session(16);
        session.begin_replay();
        deliver(&session, &message(9, "alice", ""));
        session.drop_held();
        session.finish_replay();
        assert_eq!(received(&mut frames).await, Vec::<u64>::new());
    }

    #[tokio::test]
    async fn messages_of_a_conversation_no_longer_followed_are_not_delivered() {
        let (session, mut frames) = session(16);
        session.begin_replay();
        deliver(&session, &message(9, "alice", ""));
        session.forget_conversation(7);
        session.finish_replay();
        deliver(&session, &message(10, "alice", ""));
        assert_eq!(received(&mut frames).await, Vec::<u64>::new());
    }
}
