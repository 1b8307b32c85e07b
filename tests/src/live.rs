//! Helpers for reading a [`Realtime`] connection in tests: wait for what should arrive
//! (with a deadline, never a sleep), and prove what should not have arrived by waiting for
//! a later marker instead.

use std::time::Duration;

use switchboard_sdk::proto::{self as pb, event::Kind};
use switchboard_sdk::{Realtime, RealtimeEvent};

/// How long any expected event may take.
pub const EVENT_DEADLINE: Duration = Duration::from_secs(10);

/// Reads events until `pick` returns Some; returns that and everything read before it.
pub async fn until<T>(
    live: &mut Realtime,
    what: &str,
    mut pick: impl FnMut(&RealtimeEvent) -> Option<T>,
) -> (T, Vec<RealtimeEvent>) {
    let mut before = Vec::new();
    let deadline = tokio::time::Instant::now() + EVENT_DEADLINE;
    loop {
        let event = tokio::time::timeout_at(deadline, live.next())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}; saw {before:#?}"))
            .unwrap_or_else(|| panic!("connection closed while waiting for {what}"));
        if let Some(found) = pick(&event) {
            return (found, before);
        }
        before.push(event);
    }
}

/// Waits for the next `welcome` (the first, or a reconnect's).
pub async fn welcome(live: &mut Realtime) -> pb::Welcome {
    until(live, "a welcome", |e| match e {
        RealtimeEvent::Welcome(welcome) => Some(welcome.clone()),
        _ => None,
    })
    .await
    .0
}

/// Waits until the connection is live (welcome, replays, `live`).
pub async fn live(live: &mut Realtime) -> pb::Live {
    until(live, "live", |e| match e {
        RealtimeEvent::Live(done) => Some(done.clone()),
        _ => None,
    })
    .await
    .0
}

/// Waits for the next `live` (a hello's, or a subscribe's); returns it and what came
/// before it.
pub async fn next_live(live: &mut Realtime) -> (pb::Live, Vec<RealtimeEvent>) {
    until(live, "live", |e| match e {
        RealtimeEvent::Live(done) => Some(done.clone()),
        _ => None,
    })
    .await
}

/// Waits until the stream ends; its status code and message.
pub async fn disconnected(live: &mut Realtime) -> (crate::Code, String) {
    until(live, "the stream's end", |e| match e {
        RealtimeEvent::Disconnected { code, message } => Some((*code, message.clone())),
        _ => None,
    })
    .await
    .0
}

/// The codes of the error frames among `events`.
pub fn error_codes(events: &[RealtimeEvent]) -> Vec<i32> {
    events
        .iter()
        .filter_map(|e| match e {
            RealtimeEvent::Error(error) => Some(error.code),
            _ => None,
        })
        .collect()
}

/// Waits for a new message whose text is `text`; returns it and the events before it.
pub async fn message(live: &mut Realtime, text: &str) -> (pb::Message, Vec<RealtimeEvent>) {
    until(live, &format!("message {text:?}"), |e| match created(e) {
        Some(m) if m.data == text => Some(m.clone()),
        _ => None,
    })
    .await
}

/// Waits for a new message whose text is `text`; returns its event's log position.
pub async fn position_of(live: &mut Realtime, text: &str) -> u64 {
    let (seq, _) = until(live, &format!("message {text:?}"), |e| match (e, created(e)) {
        (RealtimeEvent::Event(event), Some(m)) if m.data == text => Some(event.seq),
        _ => None,
    })
    .await;
    seq
}

/// The message of a MessageCreated event.
pub fn created(event: &RealtimeEvent) -> Option<&pb::Message> {
    match event {
        RealtimeEvent::Event(pb::Event {
            kind: Some(Kind::MessageCreated(pb::MessageCreated { message: Some(m) })),
            ..
        }) => Some(m),
        _ => None,
    }
}

/// The texts of the new messages among `events`.
pub fn texts(events: &[RealtimeEvent]) -> Vec<String> {
    events.iter().filter_map(created).map(|m| m.data.clone()).collect()
}

/// The event kind, if it is an event.
pub fn kind(event: &RealtimeEvent) -> Option<&Kind> {
    match event {
        RealtimeEvent::Event(pb::Event { kind: Some(kind), .. }) => Some(kind),
        _ => None,
    }
}

/// Reads new messages until `count` distinct ones arrived; returns their ids in arrival
/// order, duplicates included (so a test can see them).
pub async fn message_ids(live: &mut Realtime, count: usize) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut distinct = std::collections::HashSet::new();
    while distinct.len() < count {
        let what = format!("message {} of {count}", distinct.len() + 1);
        let (id, _) = until(live, &what, |e| created(e).map(|m| m.id)).await;
        ids.push(id);
        distinct.insert(id);
    }
    ids
}

/// The state of `user` in a `presence_changed` event, if the event names them.
pub fn presence_of(event: &RealtimeEvent, user: &str) -> Option<bool> {
    match kind(event) {
        Some(Kind::PresenceChanged(changed)) => {
            changed.users.iter().find(|u| u.user_id == user).map(|u| u.online)
        }
        _ => None,
    }
}

/// Matches a `presence_changed` event that says `user` is `online` (or offline), for
/// [`until`].
pub fn presence_is(user: &'static str, online: bool) -> impl FnMut(&RealtimeEvent) -> Option<()> {
    move |event| (presence_of(event, user) == Some(online)).then_some(())
}
