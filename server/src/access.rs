//! Who may see what, the rules every feature (and search) checks before it reads or writes:
//! a conversation exists for a caller only in their org, a member-only call needs the
//! caller's membership, and a private message exists only for its two parties.

use crate::error::{ChatError, ChatResult};
use crate::model::{Conversation, ConversationId, Member, Message, MessageId};
use crate::store::Store;
use crate::validate::{self, Violations};

/// A conversation of `org`. Other orgs' conversations do not exist as far as a caller can
/// tell: NOT_FOUND, exactly as for an unknown id.
pub async fn conversation_of_org(
    store: &dyn Store,
    org: &str,
    id: ConversationId,
) -> ChatResult<Conversation> {
    Violations::new().check("conversation_id", validate::check_id(id)).finish()?;
    match store.get_conversation(id).await? {
        Some(conversation) if conversation.org == org => Ok(conversation),
        _ => Err(ChatError::not_found(format!("conversation {id} not found"))),
    }
}

/// The conversation of `org` and `user`'s membership in it; PERMISSION_DENIED for
/// non-members. What every member-only call (and search) checks first.
pub async fn membership(
    store: &dyn Store,
    org: &str,
    user: &str,
    id: ConversationId,
) -> ChatResult<(Conversation, Member)> {
    let conversation = conversation_of_org(store, org, id).await?;
    match store.get_member(id, user).await? {
        Some(member) => Ok((conversation, member)),
        None => Err(ChatError::denied(format!("you are not a member of conversation {id}"))),
    }
}

/// A message of `conversation_id` as `user` may see it: NOT_FOUND for one that does not exist or is
/// another pair's private message.
pub async fn visible_message(
    store: &dyn Store,
    user: &str,
    conversation_id: ConversationId,
    id: MessageId,
) -> ChatResult<Message> {
    match store.get_message(conversation_id, id).await? {
        Some(message) if message.visible_to(user) => Ok(message),
        _ => Err(ChatError::not_found(format!(
            "message {id} not found in conversation {conversation_id}"
        ))),
    }
}
