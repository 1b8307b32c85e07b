//! Topics as the relay keys them (mirrors `switchboard.v1.Topic`).

use switchboard_proto::v1 as pb;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Topic {
    Channel { org: String, id: u64 },
    User { org: String, user: String },
}

impl Topic {
    pub(crate) fn channel(org: &str, id: u64) -> Topic {
        Topic::Channel { org: org.to_string(), id }
    }

    pub(crate) fn user(org: &str, user: &str) -> Topic {
        Topic::User { org: org.to_string(), user: user.to_string() }
    }

    pub(crate) fn to_proto(&self) -> pb::Topic {
        let target = match self {
            Topic::Channel { org, id } => {
                pb::topic::Target::Channel(pb::ChannelTopic { org: org.clone(), channel_id: *id })
            }
            Topic::User { org, user } => {
                pb::topic::Target::User(pb::UserTopic { org: org.clone(), user_id: user.clone() })
            }
        };
        pb::Topic { target: Some(target) }
    }

    pub(crate) fn from_proto(topic: &pb::Topic) -> Option<Topic> {
        match topic.target.as_ref()? {
            pb::topic::Target::Channel(c) => Some(Topic::channel(&c.org, c.channel_id)),
            pb::topic::Target::User(user) => Some(Topic::user(&user.org, &user.user_id)),
        }
    }
}
