//! Members and the user index (`user_conversations`) in the embedded engine.

use async_trait::async_trait;
use fjall::OwnedWriteBatch;

use super::{EmbeddedStore, Tables, encode, get, keys, page_after};
use crate::model::{Conversation, ConversationId, LogEntry, Member, Removal, Role};
use crate::store::{MemberStore, RoleChange, StoreResult};

impl Tables {
    pub(super) fn member(&self, id: ConversationId, user: &str) -> StoreResult<Option<Member>> {
        get("members", &self.members, &keys::member(id, user))
    }

    /// A member row and the member's user index row.
    pub(super) fn put_member(
        &self,
        batch: &mut OwnedWriteBatch,
        conversation: &Conversation,
        m: &Member,
    ) {
        batch.insert(&self.members, keys::member(conversation.id, &m.user_id), encode(m));
        batch.insert(
            &self.user_conversations,
            keys::user_conversation(&conversation.org, &m.user_id, conversation.id),
            &[][..],
        );
    }
}

#[async_trait]
impl MemberStore for EmbeddedStore {
    async fn get_member(&self, id: ConversationId, user: &str) -> StoreResult<Option<Member>> {
        self.read("get_member", |t| t.member(id, user))
    }

    async fn list_members(
        &self,
        id: ConversationId,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Member>> {
        self.read("list_members", |t| {
            let after = (!after.is_empty()).then(|| keys::member(id, after));
            page_after("members", &t.members, &keys::conversation(id), after, limit)
        })
    }

    async fn add_members(
        &self,
        id: ConversationId,
        members: &[Member],
    ) -> StoreResult<Vec<Member>> {
        self.write("add_members", |t, batch| {
            let mut conversation = t.existing(id)?;
            let mut added: Vec<Member> = Vec::new();
            for member in members {
                let duplicate = added.iter().any(|a| a.user_id == member.user_id);
                if duplicate || t.member(id, &member.user_id)?.is_some() {
                    continue;
                }
                t.put_member(batch, &conversation, member);
                added.push(member.clone());
            }
            if !added.is_empty() {
                conversation.member_count += added.len() as u32;
                t.put_conversation(batch, &conversation);
            }
            Ok(added)
        })
        .await
    }

    async fn remove_member(
        &self,
        id: ConversationId,
        user: &str,
        by: &str,
    ) -> StoreResult<Option<LogEntry>> {
        self.write("remove_member", |t, batch| {
            let mut conversation = t.existing(id)?;
            if t.member(id, user)?.is_none() {
                return Ok(None);
            }
            let removal = Removal { user: user.to_string(), by: by.to_string() };
            let next = |head: Option<&LogEntry>, now| LogEntry::next_removal(head, removal, now);
            let entry = t.append_to_log(batch, id, next)?;
            batch.remove(&t.members, keys::member(id, user));
            batch.remove(
                &t.user_conversations,
                keys::user_conversation(&conversation.org, user, id),
            );
            conversation.member_count = conversation.member_count.saturating_sub(1);
            t.put_conversation(batch, &conversation);
            Ok(Some(entry))
        })
        .await
    }

    async fn change_role(
        &self,
        id: ConversationId,
        user: &str,
        expected: Role,
        new: Role,
    ) -> StoreResult<RoleChange> {
        self.write("change_role", |t, batch| {
            let Some(mut member) = t.member(id, user)? else {
                return Ok(RoleChange::NotAMember);
            };
            if member.role != expected {
                return Ok(RoleChange::Conflict);
            }
            member.role = new;
            batch.insert(&t.members, keys::member(id, user), encode(&member));
            Ok(RoleChange::Changed)
        })
        .await
    }

    async fn transfer_ownership(
        &self,
        id: ConversationId,
        from: &str,
        to: &str,
    ) -> StoreResult<Option<Conversation>> {
        self.write("transfer_ownership", |t, batch| {
            let mut conversation = t.existing(id)?;
            let (Some(mut old), Some(mut new)) = (t.member(id, from)?, t.member(id, to)?) else {
                return Ok(None);
            };
            if conversation.owner != from || old.role != Role::Owner {
                return Ok(None);
            }
            old.role = Role::Admin;
            new.role = Role::Owner;
            conversation.owner = to.to_string();
            batch.insert(&t.members, keys::member(id, from), encode(&old));
            batch.insert(&t.members, keys::member(id, to), encode(&new));
            t.put_conversation(batch, &conversation);
            Ok(Some(conversation))
        })
        .await
    }

    async fn set_muted(&self, id: ConversationId, user: &str, muted: bool) -> StoreResult<bool> {
        self.write("set_muted", |t, batch| {
            let Some(member) = t.member(id, user)? else {
                return Ok(false);
            };
            batch.insert(&t.members, keys::member(id, user), encode(&Member { muted, ..member }));
            Ok(true)
        })
        .await
    }

    async fn claim_post(
        &self,
        id: ConversationId,
        user: &str,
        seen_ms: i64,
        now_ms: i64,
    ) -> StoreResult<bool> {
        self.write("claim_post", |t, batch| {
            let Some(member) = t.member(id, user)? else {
                return Ok(false);
            };
            if member.role != Role::Member || member.last_post_ms != seen_ms {
                return Ok(false);
            }
            let member = Member { last_post_ms: now_ms, ..member };
            batch.insert(&t.members, keys::member(id, user), encode(&member));
            Ok(true)
        })
        .await
    }

    async fn list_user_conversations(
        &self,
        org: &str,
        user: &str,
        after: ConversationId,
        limit: usize,
    ) -> StoreResult<Vec<ConversationId>> {
        self.read("list_user_conversations", |t| {
            let start = keys::user_conversation(org, user, after.saturating_add(1));
            let end = keys::user_conversation(org, user, u64::MAX);
            let mut ids = Vec::new();
            for item in t.user_conversations.range(start..=end).take(limit) {
                ids.push(keys::user_conversation_id(&item.key()?));
            }
            Ok(ids)
        })
    }
}
