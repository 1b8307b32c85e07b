//! Topics as the relay keys them (mirrors `switchboard.v1.Topic`).

use switchboard_proto::v1 as pb;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Topic {
    Channel(u64),
    User { org: String, user: String },
}

impl Topic {
    pub(crate) fn user(org: &str, user: &str) -> Topic {
        Topic::User { org: org.to_string(), user: user.to_string() }
    }

    pub(crate) fn to_proto(&self) -> pb::Topic {
        let target = match self {
            Topic::Channel(id) => pb::topic::Target::ChannelId(*id),
            Topic::User { org, user } => {
                pb::topic::Target::User(pb::UserTopic { org: org.clone(), user_id: user.clone() })
            }
        };
        pb::Topic { target: Some(target) }
    }

    pub(crate) fn from_proto(topic: &pb::Topic) -> Option<Topic> {
        match topic.target.as_ref()? {
            pb::topic::Target::ChannelId(id) => Some(Topic::Channel(*id)),
            pb::topic::Target::User(user) => Some(Topic::user(&user.org, &user.user_id)),
        }
    }
}
