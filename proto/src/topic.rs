//! Topics: what events flow on. One per conversation, one per user (their membership
//! changes, so that a connected user's subscriptions follow them), one per org for its
//! users' presence changes, and one per conversation for its online member count. The Rust form of `switchboard.v1.Topic`, shared by
//! controllers and relays.

use crate::v1 as pb;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    Channel {
        org: String,
        id: u64,
    },
    User {
        org: String,
        user: String,
    },
    /// The org's presence changes, batched.
    Presence {
        org: String,
    },
    /// How many members of a conversation are online (counted by each controller for its
    /// own relays; not on the bus).
    OnlineCount {
        org: String,
        id: u64,
    },
}

impl Topic {
    pub fn channel(org: &str, id: u64) -> Topic {
        Topic::Channel { org: org.to_string(), id }
    }

    pub fn user(org: &str, user: &str) -> Topic {
        Topic::User { org: org.to_string(), user: user.to_string() }
    }

    pub fn presence(org: &str) -> Topic {
        Topic::Presence { org: org.to_string() }
    }

    pub fn online_count(org: &str, id: u64) -> Topic {
        Topic::OnlineCount { org: org.to_string(), id }
    }

    /// Whether its events travel on the bus between controllers (an online count is
    /// counted by each controller for its own relays).
    pub fn on_bus(&self) -> bool {
        !matches!(self, Topic::OnlineCount { .. })
    }

    /// The conversation of a conversation's topic.
    pub fn channel_id(&self) -> Option<u64> {
        match self {
            Topic::Channel { id, .. } => Some(*id),
            Topic::User { .. } | Topic::Presence { .. } | Topic::OnlineCount { .. } => None,
        }
    }

    pub fn to_proto(&self) -> pb::Topic {
        let target = match self {
            Topic::Channel { org, id } => {
                pb::topic::Target::Channel(pb::ChannelTopic { org: org.clone(), channel_id: *id })
            }
            Topic::User { org, user } => {
                pb::topic::Target::User(pb::UserTopic { org: org.clone(), user_id: user.clone() })
            }
            Topic::Presence { org } => {
                pb::topic::Target::Presence(pb::PresenceTopic { org: org.clone() })
            }
            Topic::OnlineCount { org, id } => {
                pb::topic::Target::OnlineCount(pb::OnlineCountTopic {
                    org: org.clone(),
                    channel_id: *id,
                })
            }
        };
        pb::Topic { target: Some(target) }
    }

    /// None for a topic with no target.
    pub fn from_proto(topic: &pb::Topic) -> Option<Topic> {
        match topic.target.as_ref()? {
            pb::topic::Target::Channel(c) => Some(Topic::channel(&c.org, c.channel_id)),
            pb::topic::Target::User(user) => Some(Topic::user(&user.org, &user.user_id)),
            pb::topic::Target::Presence(presence) => Some(Topic::presence(&presence.org)),
            pb::topic::Target::OnlineCount(count) => {
                Some(Topic::online_count(&count.org, count.channel_id))
            }
        }
    }
}
