//! Retention: how long an org keeps its messages. An org keeps them forever unless its
//! admins say otherwise, for the whole org or one conversation. A message gets its expiry
//! when it is sent (the policy then in force), and once that time has passed it is removed
//! with everything kept of it (see `chat::retention`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{AttachmentId, ConversationId, Message, MessageId};

/// One day, in milliseconds.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// The longest retention in days: 20 years, ScyllaDB's longest TTL.
pub const MAX_RETENTION_DAYS: u32 = 7300;

/// An org's retention policy as stored: its default, and the conversations that keep
/// their messages for another time. Days of `None` mean forever.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// How long the org's conversations keep their messages, unless they say otherwise.
    pub org_days: Option<u32>,
    /// Conversations with a policy of their own (which may be "forever").
    pub conversations: BTreeMap<ConversationId, Option<u32>>,
    /// Whether any policy is stored for the org (its default, even set to forever, or a
    /// conversation's): without one, none of its messages has expired, unless a
    /// conversation's own policy was dropped since.
    pub any_set: bool,
}

impl RetentionPolicy {
    /// How many days messages of `conversation` are kept (None: forever).
    pub fn days_for(&self, conversation: ConversationId) -> Option<u32> {
        self.conversations.get(&conversation).copied().unwrap_or(self.org_days)
    }

    /// When a message of `conversation` sent at `sent_at_ms` expires; 0 for never.
    pub fn expires_at_ms(&self, conversation: ConversationId, sent_at_ms: i64) -> i64 {
        self.days_for(conversation).map_or(0, |days| sent_at_ms + i64::from(days) * DAY_MS)
    }

    /// The expiry a message of `conversation` sent at `sent_at_ms`, expiring at
    /// `expires_at_ms` (0: never), gets when this policy reaches the messages sent before
    /// it: Some when the policy has it go sooner. A longer policy never moves an expiry
    /// later (ScyllaDB has written the message's rows with their TTL already).
    pub fn sooner_expiry(
        &self,
        conversation: ConversationId,
        sent_at_ms: i64,
        expires_at_ms: i64,
    ) -> Option<i64> {
        let wanted = self.expires_at_ms(conversation, sent_at_ms);
        (wanted != 0 && (expires_at_ms == 0 || wanted < expires_at_ms)).then_some(wanted)
    }
}

impl Expiry {
    /// The expiry of a message of `org`, as its `expires_at_ms` says.
    pub fn of(org: &str, message: &Message) -> Expiry {
        Expiry {
            expires_at_ms: message.expires_at_ms,
            channel_id: message.channel_id,
            message_id: message.id,
            org: org.to_string(),
            attachment: message.attachment.as_ref().map(|a| a.id),
            from: message.from.clone(),
            to: message.to.clone(),
        }
    }
}

/// A message that expires: what the retention sweep needs to remove it, even once the
/// message itself is gone (ScyllaDB's TTL may have removed it first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    pub expires_at_ms: i64,
    pub channel_id: ConversationId,
    pub message_id: MessageId,
    pub org: String,
    /// Its attachment, whose bytes go with it.
    pub attachment: Option<AttachmentId>,
    /// Its sender and recipient (a private message's), whom its expiry is told to; the
    /// sender is empty for an expiry listed before they were kept (its audience unknown).
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_policy_wins_over_the_org_one_even_when_it_is_forever() {
        let policy = RetentionPolicy {
            org_days: Some(30),
            conversations: BTreeMap::from([(7, None), (8, Some(1))]),
            any_set: true,
        };
        assert_eq!(policy.expires_at_ms(6, 1_000), 1_000 + 30 * DAY_MS);
        assert_eq!(policy.expires_at_ms(7, 1_000), 0);
        assert_eq!(policy.expires_at_ms(8, 1_000), 1_000 + DAY_MS);
        assert_eq!(RetentionPolicy::default().expires_at_ms(6, 1_000), 0);
    }

    #[test]
    fn a_policy_reaching_earlier_messages_only_brings_their_expiry_sooner() {
        let conversations = BTreeMap::from([(7, None)]);
        let policy = RetentionPolicy { org_days: Some(2), conversations, any_set: true };
        let two_days = 1_000 + 2 * DAY_MS;
        assert_eq!(policy.sooner_expiry(6, 1_000, 0), Some(two_days), "kept forever until now");
        assert_eq!(policy.sooner_expiry(6, 1_000, two_days + 1), Some(two_days));
        assert_eq!(policy.sooner_expiry(6, 1_000, two_days), None, "already then");
        assert_eq!(policy.sooner_expiry(6, 1_000, 5_000), None, "already sooner");
        assert_eq!(policy.sooner_expiry(7, 1_000, 0), None, "kept forever");
        assert_eq!(policy.sooner_expiry(7, 1_000, 5_000), None, "longer never moves it later");
    }
}
