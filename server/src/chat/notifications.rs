//! Notifications: a user who is mentioned, or sent a direct message, while not following
//! that conversation live (offline, or no device subscribed to it) gets a notification
//! record, which push delivery (the webhook) carries on. Muted conversations notify only
//! `@user` mentions. Also the per-conversation unread counts of ListConversations.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use futures_util::future::join_all;

use super::{Presence, Relations, Retention, as_member};
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::{IdGenerator, first_id_at};
use crate::metrics::ControllerMetrics;
use crate::model::{
    Conversation, ConversationId, Kind, MENTION_ALL, MENTION_HERE, Member, Message, MessageId,
    MessageType, Notification, NotificationReason, PushSettings, ReadMarker,
};
use crate::push::Push;
use crate::store::Store;
use crate::validate::{self, Violations};

/// Longest preview, in characters.
const PREVIEW_CHARS: usize = 140;
/// Default and largest page of ListNotifications.
const NOTIFICATIONS_PAGE: (usize, usize) = (50, 200);
/// How many of a user's newest notifications counting and marking look at.
const RECENT_NOTIFICATIONS: usize = 1_000;
/// Unread messages counted per conversation; clients show "99+" beyond 99.
const UNREAD_CAP: usize = 100;
/// Members read per Store call for `@here` and `@all`.
const MEMBERS_PAGE: usize = 1_000;

/// Which notifications MarkNotificationsRead marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationSelection {
    Ids(Vec<u64>),
    Conversation(ConversationId),
    All,
}

/// The caller's unread state of one conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unread {
    /// Others' messages after the caller's read marker, at most `UNREAD_CAP` (see
    /// `Notifications::unread_messages`).
    pub messages: u32,
    /// Unread notifications.
    pub notifications: u32,
    pub muted: bool,
}

impl Unread {
    /// No counts, only whether the member muted the conversation.
    pub fn muted(member: Option<&Member>) -> Unread {
        Unread { muted: member.is_some_and(|m| m.muted), ..Unread::default() }
    }
}

/// Notification records and unread counts.
pub struct Notifications {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    /// Who follows their conversations live (and so is not notified).
    pub(super) presence: Arc<Presence>,
    pub(super) metrics: Arc<ControllerMetrics>,
    /// Where new notifications are pushed (the webhook, when configured).
    pub(super) push: Push,
    /// Who blocks a sender (and so is not notified by them).
    pub(super) relations: Arc<Relations>,
    /// How long conversations keep their messages (unread counts leave out those gone).
    pub(super) retention: Arc<Retention>,
}

impl Notifications {
    /// The notifications a new message causes, stored with it: for whoever it concerns
    /// (with `followers`, of the thread it replies in) and is not following the
    /// conversation live. A failure to work them out is logged; the message is sent either
    /// way.
    pub(super) async fn notifications_for(
        &self,
        conversation: &Conversation,
        message: &Message,
        followers: &[String],
    ) -> Vec<Notification> {
        match self.try_notifications_for(conversation, message, followers).await {
            Ok(notifications) => notifications,
            Err(error) => {
                tracing::error!(%error, message_id = message.id, "notifications not worked out");
                Vec::new()
            }
        }
    }

    async fn try_notifications_for(
        &self,
        conversation: &Conversation,
        message: &Message,
        followers: &[String],
    ) -> ChatResult<Vec<Notification>> {
        let mut notifications = Vec::new();
        let org = &conversation.org;
        let mut concerned = self.concerned(conversation, message).await?;
        for follower in followers {
            concerned.entry(follower.clone()).or_insert(NotificationReason::ThreadReply);
        }
        // Nobody hears from those they block: one read of who blocks the sender, whoever
        // many a message concerns.
        let blockers = match concerned.is_empty() {
            true => Vec::new(),
            false => self.relations.blockers_of(org, &message.from).await?,
        };
        for (user, reason) in concerned {
            if self.presence.follows_live(org, &user).await || blockers.contains(&user) {
                continue;
            }
            let id = self.ids.next_id();
            notifications.push(Notification {
                id,
                org: conversation.org.clone(),
                user,
                conversation_id: conversation.id,
                message_id: message.id,
                from: message.from.clone(),
                reason,
                preview: preview(message),
                created_at_ms: crate::ids::timestamp_ms(id),
                read: false,
            });
        }
        Ok(notifications)
    }

    /// Once a message and its notifications are stored: counts them and hands those their
    /// users' push preferences allow now to push delivery. A failure to read preferences
    /// is logged, and the notification pushed.
    pub(super) async fn notified(&self, notifications: &[Notification]) {
        if notifications.is_empty() {
            return;
        }
        self.metrics.notifications_created.inc_by(notifications.len() as u64);
        // Each user's preferences read at once (an `@all` concerns many): one round trip.
        let wanted = join_all(notifications.iter().map(|n| self.pushed_now(n))).await;
        let mut pushed = Vec::with_capacity(notifications.len());
        for (notification, wanted) in notifications.iter().zip(wanted) {
            match wanted {
                Ok(false) => {}
                Ok(true) => pushed.push(notification.clone()),
                Err(error) => {
                    tracing::warn!(%error, user = %notification.user, "push preferences not read");
                    pushed.push(notification.clone());
                }
            }
        }
        self.push.deliver(&pushed);
    }

    /// Whether the notification's user wants it pushed now: their level, and their quiet
    /// hours in their profile's time zone (UTC without one).
    async fn pushed_now(&self, notification: &Notification) -> ChatResult<bool> {
        let (org, user) = (&notification.org, &notification.user);
        let Some(settings) = self.store.get_push_settings(org, user).await? else {
            return Ok(true);
        };
        let minute = match settings.quiet {
            None => 0,
            Some(_) => {
                let zone = self.store.get_profile(org, user).await?.map(|p| p.time_zone);
                minute_of_day(self.ids.now_ms(), zone.as_deref().unwrap_or(""))
            }
        };
        Ok(settings.allows(notification.reason, minute))
    }

    /// GetPushSettings: the caller's push preferences (everything, without quiet hours,
    /// when never set).
    pub async fn push_settings(&self, caller: &Caller) -> ChatResult<PushSettings> {
        let settings = self.store.get_push_settings(&caller.org, &caller.user).await?;
        Ok(settings.unwrap_or_default())
    }

    /// SetPushSettings: replaces the caller's push preferences.
    pub async fn set_push_settings(
        &self,
        caller: &Caller,
        settings: PushSettings,
    ) -> ChatResult<PushSettings> {
        if let Some((from, to)) = settings.quiet {
            Violations::new()
                .check("quiet_start_minute", validate::check_minute_of_day(from))
                .check("quiet_end_minute", validate::check_minute_of_day(to))
                .finish()?;
        }
        self.store.set_push_settings(&caller.org, &caller.user, &settings).await?;
        Ok(settings)
    }

    /// Who a message concerns, and why (see [`targets`]): reads the members only for a DM,
    /// `@all` or `@here`, and who is online only for `@here`.
    async fn concerned(
        &self,
        conversation: &Conversation,
        message: &Message,
    ) -> ChatResult<BTreeMap<String, NotificationReason>> {
        let everyone = message.mentions.iter().any(|m| m == MENTION_ALL || m == MENTION_HERE);
        let members = match conversation.kind == Kind::Direct || everyone {
            true => self.all_members(conversation.id).await?,
            false => Vec::new(),
        };
        let mut online = HashSet::new();
        if only_online(conversation.kind, message) {
            for member in members.iter().filter(|m| !m.muted && m.user_id != message.from) {
                if self.presence.is_online(&conversation.org, &member.user_id).await {
                    online.insert(member.user_id.as_str());
                }
            }
        }
        Ok(targets(conversation.kind, message, &members, |user| online.contains(user)))
    }

    async fn all_members(&self, id: ConversationId) -> ChatResult<Vec<Member>> {
        let mut all: Vec<Member> = Vec::new();
        loop {
            let after = all.last().map(|m| m.user_id.clone()).unwrap_or_default();
            let page = self.store.list_members(id, &after, MEMBERS_PAGE).await?;
            let last_page = page.len() < MEMBERS_PAGE;
            all.extend(page);
            if last_page {
                return Ok(all);
            }
        }
    }

    /// ListNotifications: a page of the caller's notifications, newest first, and the
    /// cursor of the next page (0 on the last).
    pub async fn notifications(
        &self,
        caller: &Caller,
        before_id: Option<u64>,
        limit: u32,
        unread_only: bool,
    ) -> ChatResult<(Vec<Notification>, u64)> {
        let limit = validate::page_size(limit, NOTIFICATIONS_PAGE.0, NOTIFICATIONS_PAGE.1)?;
        let read =
            |before, limit| self.store.list_notifications(&caller.org, &caller.user, before, limit);
        let keep = |n: &Notification| !unread_only || !n.read;
        super::kept_page(limit, before_id, read, |n| n.id, keep).await
    }

    /// MarkNotificationsRead: how many unread notifications it marked read.
    pub async fn mark_notifications_read(
        &self,
        caller: &Caller,
        selection: NotificationSelection,
    ) -> ChatResult<u32> {
        let mut violations = Violations::new();
        match &selection {
            NotificationSelection::Ids(ids) if ids.len() > NOTIFICATIONS_PAGE.1 => {
                violations.check("ids", Err(format!("at most {} ids", NOTIFICATIONS_PAGE.1)));
            }
            NotificationSelection::Conversation(id) => {
                violations.check("conversation_id", validate::check_id(*id));
            }
            _ => {}
        }
        violations.finish()?;
        let picked = |n: &Notification| match &selection {
            NotificationSelection::Ids(ids) => ids.contains(&n.id),
            NotificationSelection::Conversation(id) => n.conversation_id == *id,
            NotificationSelection::All => true,
        };
        let recent = self.recent_notifications(caller).await?;
        self.mark_read_where(caller, &recent, picked).await
    }

    /// Marks the conversation's notifications read up to `message` (MarkRead does);
    /// returns how many of them are still unread.
    pub(super) async fn mark_notifications_read_up_to(
        &self,
        caller: &Caller,
        conversation: ConversationId,
        message: MessageId,
    ) -> ChatResult<u32> {
        let picked =
            |n: &Notification| n.conversation_id == conversation && n.message_id <= message;
        let recent = self.recent_notifications(caller).await?;
        let marked = self.mark_read_where(caller, &recent, picked).await?;
        Ok(unread_notifications(&recent, conversation) - marked)
    }

    /// Marks those of the caller's `recent` that are unread and picked read; returns how
    /// many.
    async fn mark_read_where(
        &self,
        caller: &Caller,
        recent: &[Notification],
        picked: impl Fn(&Notification) -> bool,
    ) -> ChatResult<u32> {
        let marked: Vec<u64> =
            recent.iter().filter(|n| !n.read && picked(n)).map(|n| n.id).collect();
        // By id: one removed since `recent` was read stays removed.
        if !marked.is_empty() {
            self.store.mark_notifications_read(&caller.org, &caller.user, &marked).await?;
        }
        Ok(marked.len() as u32)
    }

    /// SetMute: mutes or unmutes a conversation for the caller.
    pub async fn set_mute(
        &self,
        caller: &Caller,
        id: ConversationId,
        muted: bool,
    ) -> ChatResult<bool> {
        Violations::new().check("conversation_id", validate::check_id(id)).finish()?;
        as_member(&*self.store, caller, id).await?;
        if !self.store.set_muted(id, &caller.user, muted).await? {
            return Err(ChatError::denied(format!("you are not a member of conversation {id}")));
        }
        Ok(muted)
    }

    /// The caller's unread state of each conversation (their member rows given).
    pub(super) async fn unread_of(
        &self,
        caller: &Caller,
        conversations: &[(ConversationId, Option<Member>)],
    ) -> ChatResult<Vec<Unread>> {
        let recent = self.recent_notifications(caller).await?;
        let mut unread = Vec::with_capacity(conversations.len());
        for (id, member) in conversations {
            let Some(member) = member else {
                unread.push(Unread::default());
                continue;
            };
            unread.push(Unread {
                messages: self.unread_messages(&caller.org, *id, member).await?,
                notifications: unread_notifications(&recent, *id),
                muted: member.muted,
            });
        }
        Ok(unread)
    }

    /// A member's unread messages in a conversation, up to [`UNREAD_CAP`]: the messages for
    /// everyone since their read marker (or since they joined), less none of their own
    /// (sending marks read), plus the private messages to them their marker has not
    /// passed; none that expired. Three reads, none of them of messages, for a reader with
    /// nothing to read; two more for one with (see [`Retention::kept_from`]).
    pub(super) async fn unread_messages(
        &self,
        org: &str,
        conversation_id: ConversationId,
        member: &Member,
    ) -> ChatResult<u32> {
        let marker = self.store.get_read_marker(conversation_id, &member.user_id).await?;
        self.unread_after(org, conversation_id, member, marker).await
    }

    /// [`Notifications::unread_messages`] with the member's read marker known.
    pub(super) async fn unread_after(
        &self,
        org: &str,
        conversation_id: ConversationId,
        member: &Member,
        marker: Option<ReadMarker>,
    ) -> ChatResult<u32> {
        let head = self.store.log_head(conversation_id).await?.map(|entry| entry.point());
        // Where they stopped reading (or joined), less what expired since.
        let (from, place_id) = match marker {
            Some(marker) if marker.at.seq >= member.joined.seq => (marker.at, marker.message_id),
            _ => (member.joined, first_id_at(member.joined_at_ms).saturating_sub(1)),
        };
        let from = match head {
            Some(head) if head.seq > from.seq => {
                self.retention.kept_from(org, conversation_id, from, place_id).await?
            }
            _ => from,
        };
        let shared = head.unwrap_or_default().count.saturating_sub(from.count) as usize;
        if shared >= UNREAD_CAP {
            return Ok(UNREAD_CAP as u32);
        }
        let private = self
            .store
            .count_private_unread(conversation_id, &member.user_id, from.seq, UNREAD_CAP)
            .await?;
        Ok((shared + private).min(UNREAD_CAP) as u32)
    }

    /// The user's newest notifications, which counting and marking look at.
    async fn recent_notifications(&self, caller: &Caller) -> ChatResult<Vec<Notification>> {
        self.recent_of(&caller.org, &caller.user).await
    }

    async fn recent_of(&self, org: &str, user: &str) -> ChatResult<Vec<Notification>> {
        let recent =
            self.store.list_notifications(org, user, u64::MAX, RECENT_NOTIFICATIONS).await?;
        Ok(recent)
    }

    /// How many of the user's notifications are unread (of their newest 1,000): the
    /// badge on their devices' app icon.
    pub(super) async fn unread_total(&self, org: &str, user: &str) -> ChatResult<u32> {
        let recent = self.recent_of(org, user).await?;
        Ok(recent.iter().filter(|n| !n.read).count() as u32)
    }
}

/// The minute of the day at `now_ms` in time zone `zone` (an IANA name; UTC when empty or
/// unknown).
fn minute_of_day(now_ms: i64, zone: &str) -> u16 {
    use chrono::Timelike;
    let utc = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    let local = match zone.parse::<chrono_tz::Tz>() {
        Ok(zone) => utc.with_timezone(&zone).time(),
        Err(_) => utc.time(),
    };
    (local.hour() * 60 + local.minute()) as u16
}

/// How many of `recent` are unread notifications of the conversation.
fn unread_notifications(recent: &[Notification], conversation: ConversationId) -> u32 {
    recent.iter().filter(|n| !n.read && n.conversation_id == conversation).count() as u32
}

/// The start of a message's text, or what it carries.
fn preview(message: &Message) -> String {
    match (&message.attachment, message.kind) {
        (Some(a), kind) if kind != MessageType::Text => {
            format!("[{}] {}", kind.name(), a.filename)
        }
        _ => {
            let mut text: String = message.data.chars().take(PREVIEW_CHARS).collect();
            if message.data.chars().count() > PREVIEW_CHARS {
                text.pop();
                text.push('…');
            }
            text
        }
    }
}

/// Whether a message reaches only the members who are online: an `@here` (without `@all`)
/// outside a DM.
fn only_online(kind: Kind, message: &Message) -> bool {
    kind != Kind::Direct
        && message.mentions.iter().any(|m| m == MENTION_HERE)
        && !message.mentions.iter().any(|m| m == MENTION_ALL)
}

/// Who a message concerns, and why: its `@user` mentions; every member (not muted) for
/// `@all`, those online for `@here`; the other member of a DM. Never the author; only
/// the recipient of a private message. `members` are the conversation's (needed for a DM,
/// `@all` and `@here`).
fn targets(
    kind: Kind,
    message: &Message,
    members: &[Member],
    online: impl Fn(&str) -> bool,
) -> BTreeMap<String, NotificationReason> {
    let mut reasons: BTreeMap<String, NotificationReason> = BTreeMap::new();
    let everyone = message.mentions.iter().any(|m| m == MENTION_ALL || m == MENTION_HERE);
    if kind == Kind::Direct || everyone {
        let reason = match kind {
            Kind::Direct => NotificationReason::Direct,
            _ => NotificationReason::MentionAll,
        };
        let only_online = only_online(kind, message);
        for member in members {
            if member.muted || member.user_id == message.from {
                continue;
            }
            if only_online && !online(&member.user_id) {
                continue;
            }
            reasons.insert(member.user_id.clone(), reason);
        }
    }
    for user in message.mentions.iter().filter(|m| !m.starts_with('@')) {
        reasons.insert(user.clone(), NotificationReason::Mention);
    }
    if let Some(to) = &message.to {
        reasons.retain(|user, _| user == to);
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LogPoint, MessageType, Role};

    fn member(user: &str, muted: bool) -> Member {
        let joined = LogPoint::default();
        Member {
            user_id: user.into(),
            role: Role::Member,
            joined_at_ms: 0,
            muted,
            joined,
            timeout: None,
            last_post_ms: 0,
        }
    }

    fn message(from: &str, mentions: &[&str], to: Option<&str>) -> Message {
        Message {
            id: 1,
            channel_id: 7,
            from: from.into(),
            to: to.map(String::from),
            kind: MessageType::Text,
            data: "hello".into(),
            ts_ms: 0,
            mentions: mentions.iter().map(|m| m.to_string()).collect(),
            ..Default::default()
        }
    }

    /// The team of these tests: ann (the author), bob, cat (muted), dan (online).
    fn team() -> Vec<Member> {
        ["ann", "bob", "cat", "dan"].map(|u| member(u, u == "cat")).to_vec()
    }

    fn online(user: &str) -> bool {
        user == "dan"
    }

    fn who(targets: BTreeMap<String, NotificationReason>) -> Vec<(String, NotificationReason)> {
        targets.into_iter().collect()
    }

    #[test]
    fn a_dm_notifies_the_other_member_unless_muted() {
        let pair = [member("ann", false), member("bob", false)];
        let sent = targets(Kind::Direct, &message("ann", &[], None), &pair, online);
        assert_eq!(who(sent), [("bob".to_string(), NotificationReason::Direct)]);
        let muted = [member("ann", false), member("bob", true)];
        assert!(targets(Kind::Direct, &message("ann", &[], None), &muted, online).is_empty());
    }

    #[test]
    fn a_plain_team_message_notifies_only_those_it_mentions_even_if_muted() {
        let plain = message("ann", &[], None);
        assert!(targets(Kind::Group, &plain, &team(), online).is_empty());
        let mention = message("ann", &["cat"], None);
        let sent = targets(Kind::Group, &mention, &team(), online);
        assert_eq!(who(sent), [("cat".to_string(), NotificationReason::Mention)]);
    }

    #[test]
    fn at_all_notifies_every_member_but_the_author_and_the_muted() {
        let sent = targets(Kind::Group, &message("ann", &[MENTION_ALL], None), &team(), online);
        let all = NotificationReason::MentionAll;
        assert_eq!(who(sent), [("bob".to_string(), all), ("dan".to_string(), all)]);
    }

    #[test]
    fn at_here_notifies_only_the_members_online() {
        let here = message("ann", &[MENTION_HERE], None);
        assert!(only_online(Kind::Group, &here));
        let sent = targets(Kind::Group, &here, &team(), online);
        assert_eq!(who(sent), [("dan".to_string(), NotificationReason::MentionAll)]);
        let both = message("ann", &[MENTION_HERE, MENTION_ALL], None);
        assert!(!only_online(Kind::Group, &both), "@all wins over @here");
    }

    #[test]
    fn a_private_message_notifies_only_its_recipient() {
        let private = message("ann", &[MENTION_ALL, "dan"], Some("bob"));
        let sent = targets(Kind::Group, &private, &team(), online);
        assert_eq!(who(sent), [("bob".to_string(), NotificationReason::MentionAll)]);
    }
}
