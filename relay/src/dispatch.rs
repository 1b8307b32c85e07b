//! Events from the controller to local sessions, and subscriptions that follow membership:
//! a user added to a conversation gets it on every stream that follows all their
//! conversations (with a replay from the conversation's position before they joined); a
//! user removed loses it. A user's unread state goes to their streams that have the
//! conversation. Presence changes go to the streams watching those users, online counts to
//! the streams watching them (a stream that stops following a conversation stops getting
//! its count). Members a typing indicator is hidden from (a block) do not get it; a change
//! of a user's blocks makes their streams ask again whose presence they may not see.

use std::sync::Arc;

use switchboard_proto::status;
use switchboard_proto::v1::{self as pb, event::Kind, server_frame};

use switchboard_proto::events::is_public_change;

use crate::frames::encode_event;
use crate::replay;
use crate::session::Session;
use crate::state::RelayState;
use switchboard_proto::topic::Topic;

impl RelayState {
    pub(crate) fn dispatch(self: &Arc<Self>, topic: &Topic, event: Arc<pb::Event>) {
        self.stats.events_received.inc();
        let conversation = event.conversation_id;
        // Sessions the event takes out of a conversation: unsubscribed after the walk over
        // the subscribers, which holds the registry's lock.
        let mut leaving = Vec::new();
        // Events are encoded once; every subscriber's queue shares the bytes.
        match topic {
            Topic::Channel { id: conversation_id, .. } => {
                let (event, hidden) = without_hidden(event);
                let left = match &event.kind {
                    Some(Kind::MemberLeft(left)) => Some(left.user_id.as_str()),
                    _ => None,
                };
                let encoded = encode_event(&event);
                // The topic's position moves only with changes everyone may see: it is
                // where new sessions start, and must not name a private message.
                let public = is_public_change(&event);
                let change = (event.clone(), encoded.clone());
                self.subscribers.for_each_change(topic, change, public, |session| {
                    if hidden.contains(&session.user) {
                        return;
                    }
                    // A removal the session is already past (a gap fill handing on what it
                    // replayed) is old news: the user may have been added back since.
                    let leaves = left == Some(session.user.as_str())
                        && event.seq > session.position(*conversation_id);
                    session.deliver(&event, &encoded);
                    if leaves && session.forget_conversation(*conversation_id) {
                        leaving.push((session.id, topic.clone()));
                    }
                });
            }
            Topic::User { .. } => match &event.kind {
                Some(Kind::MemberJoined(joined)) => {
                    // Without `added_by`, a controller passing on the user's conversations
                    // (it may have missed a join: its bus was down, another controller was
                    // lost, or it just started following the user), not a join that undoes
                    // the client's `unsubscribe`.
                    let refill = joined.added_by.is_empty();
                    self.subscribers.for_each(topic, |session| {
                        if session.follows_all()
                            && !(refill && session.is_left_out(conversation))
                            && session.follow_conversation(conversation)
                        {
                            let (state, session) = (self.clone(), session.clone());
                            let (event, after) = (event.clone(), joined.replay_after_seq);
                            tokio::spawn(async move { state.follow(session, event, after).await });
                        }
                    });
                }
                Some(Kind::MemberLeft(_)) => {
                    let encoded = encode_event(&event);
                    self.subscribers.for_each(topic, |session| {
                        if session.forget_conversation(conversation) {
                            session.deliver(&event, &encoded);
                            leaving.push((session.id, Topic::channel(&session.org, conversation)));
                        }
                    });
                }
                Some(Kind::BlocksChanged(_)) => {
                    let mut sessions = Vec::new();
                    self.subscribers.for_each(topic, |session| {
                        if session.watches_anyone() {
                            sessions.push(session.clone());
                        }
                    });
                    let state = self.clone();
                    tokio::spawn(async move {
                        state.watchers.blocks_changed(&state.upstream, &sessions).await;
                    });
                }
                Some(Kind::UserSuspended(suspended)) => {
                    let why = match suspended.reason.as_str() {
                        "" => String::new(),
                        reason => format!(": {reason}"),
                    };
                    let message = format!("your account is suspended in this organization{why}");
                    self.subscribers.for_each(topic, |session| {
                        session.end(status::denied(message.clone()));
                    });
                }
                Some(Kind::UnreadChanged(_) | Kind::ThreadChanged(_)) => {
                    let encoded = encode_event(&event);
                    self.subscribers.for_each(topic, |session| {
                        if session.has_conversation(conversation) {
                            session.deliver(&event, &encoded);
                        }
                    });
                }
                _ => {}
            },
            Topic::Presence { org } => {
                if let Some(Kind::PresenceChanged(changes)) = &event.kind {
                    self.watchers.changed(org, changes);
                }
            }
            Topic::OnlineCount { .. } => {
                let encoded = encode_event(&event);
                let kept = (event.clone(), encoded.clone());
                self.subscribers.for_each_keeping(topic, kept, |session| {
                    session.deliver(&event, &encoded);
                });
            }
        }
        for (session, topic) in leaving {
            if let Topic::Channel { org, id } = &topic {
                self.subscribers.unsubscribe(session, &Topic::online_count(org, *id));
            }
            self.subscribers.unsubscribe(session, &topic);
        }
    }

    /// The session stops following `conversation_id`: forgotten (its held and later events of it
    /// are not delivered), and unsubscribed here.
    pub(crate) fn let_go(&self, session: &Session, conversation_id: u64) {
        if session.forget_conversation(conversation_id) {
            self.subscribers
                .unsubscribe(session.id, &Topic::channel(&session.org, conversation_id));
            self.subscribers
                .unsubscribe(session.id, &Topic::online_count(&session.org, conversation_id));
        }
    }

    /// Subscribes a session to a conversation its user just joined, tells it, and replays
    /// what was said since they joined, saying `live` with its position when done.
    async fn follow(&self, session: Arc<Session>, joined: Arc<pb::Event>, after: u64) {
        let conversation_id = joined.conversation_id;
        session.begin_replay();
        let result = async {
            self.subscribers
                .subscribe(&session, Topic::channel(&session.org, conversation_id))
                .await?;
            session.send(server_frame::Kind::Event((*joined).clone())).await;
            replay::replay(self.replay_links(), &session, conversation_id, after).await
        }
        .await;
        if result.is_err() {
            // Let go before the held events go: those of this conversation would skip
            // what the replay did not deliver.
            self.let_go(&session, conversation_id);
        }
        session.finish_replay();
        match result {
            Ok(()) => {
                let positions = session.positions(&[conversation_id]);
                let live = pb::Live { channel_ids: vec![conversation_id], positions };
                session.send(server_frame::Kind::Live(live)).await;
            }
            Err(status) => {
                session.send(crate::frames::error_frame("", &status)).await;
            }
        }
    }
}

/// A typing indicator some members are not to see (a block between them and the typist):
/// the event without the list, which only relays get, and the list.
fn without_hidden(event: Arc<pb::Event>) -> (Arc<pb::Event>, Vec<String>) {
    match &event.kind {
        Some(Kind::Typing(typing)) if !typing.hidden_from.is_empty() => {
            let mut shown = (*event).clone();
            let hidden = match &mut shown.kind {
                Some(Kind::Typing(typing)) => std::mem::take(&mut typing.hidden_from),
                _ => Vec::new(),
            };
            (Arc::new(shown), hidden)
        }
        _ => (event, Vec::new()),
    }
}
