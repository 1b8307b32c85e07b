//! Conversations in the embedded engine, and the pointer tables (`direct_pairs`,
//! `self_conversations`) that make one DM per pair and one SELF per user.

use async_trait::async_trait;
use fjall::Keyspace;
use fjall::OwnedWriteBatch;

use super::{EmbeddedStore, Tables, encode, get, keys};
use crate::model::{Conversation, ConversationId, Member};
use crate::store::{ConversationStore, StoreError, StoreResult};

impl Tables {
    pub(super) fn conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>> {
        get("conversations", &self.conversations, &keys::conversation(id))
    }

    pub(super) fn put_conversation(
        &self,
        batch: &mut OwnedWriteBatch,
        conversation: &Conversation,
    ) {
        batch.insert(
            &self.conversations,
            &keys::conversation(conversation.id)[..],
            encode(conversation),
        );
    }

    /// A new conversation with its members, `member_count` set from them.
    pub(super) fn put_new_conversation(
        &self,
        batch: &mut OwnedWriteBatch,
        conversation: &Conversation,
        members: &[Member],
    ) -> Conversation {
        let mut conversation = conversation.clone();
        conversation.member_count = members.len() as u32;
        self.put_conversation(batch, &conversation);
        let listed = keys::org_entry(&conversation.org, conversation.id);
        batch.insert(&self.org_conversations, listed, []);
        for member in members {
            self.put_member(batch, &conversation, member);
        }
        conversation
    }

    /// The conversation a pointer table (`direct_pairs`, `self_conversations`) names.
    pub(super) fn pointed_to(
        &self,
        table: &'static str,
        keyspace: &Keyspace,
        key: &[u8],
    ) -> StoreResult<Option<Conversation>> {
        let Some(id) = keyspace.get(key)? else {
            return Ok(None);
        };
        let id: [u8; 8] = id[..]
            .try_into()
            .map_err(|_| StoreError::Corrupt { table, reason: "not a conversation id".into() })?;
        self.existing(u64::from_be_bytes(id)).map(Some)
    }

    pub(super) fn existing(&self, id: ConversationId) -> StoreResult<Conversation> {
        self.conversation(id)?.ok_or(StoreError::Corrupt {
            table: "conversations",
            reason: format!("conversation {id} is referenced but missing"),
        })
    }
}

#[async_trait]
impl ConversationStore for EmbeddedStore {
    async fn create_conversation(
        &self,
        conversation: &Conversation,
        members: &[Member],
    ) -> StoreResult<()> {
        self.write("create_conversation", |t, batch| {
            t.put_new_conversation(batch, conversation, members);
            Ok(())
        })
        .await
    }

    async fn get_conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>> {
        self.read("get_conversation", |t| t.conversation(id))
    }

    async fn list_org_conversations(
        &self,
        org: &str,
        after: ConversationId,
        limit: usize,
    ) -> StoreResult<Vec<ConversationId>> {
        self.read("list_org_conversations", |t| {
            let (start, prefix) =
                (keys::org_entry(org, after.saturating_add(1)), keys::org_prefix(org));
            let mut ids = Vec::new();
            for row in t.org_conversations.range(start..).take(limit) {
                let key = row.key()?;
                if !key.starts_with(&prefix) {
                    break;
                }
                ids.push(keys::last_id(&key));
            }
            Ok(ids)
        })
    }

    async fn update_conversation(&self, update: &Conversation) -> StoreResult<Conversation> {
        self.write("update_conversation", |t, batch| {
            let stored = t.existing(update.id)?;
            let updated = Conversation {
                member_count: stored.member_count,
                owner: stored.owner,
                external_key: stored.external_key,
                ..update.clone()
            };
            t.put_conversation(batch, &updated);
            Ok(updated)
        })
        .await
    }

    async fn get_or_create_direct(
        &self,
        conversation: &Conversation,
        members: &[Member; 2],
    ) -> StoreResult<Conversation> {
        let pair = keys::direct_pair(&conversation.org, &members[0].user_id, &members[1].user_id);
        self.write("get_or_create_direct", |t, batch| {
            if let Some(existing) = t.pointed_to("direct_pairs", &t.direct_pairs, &pair)? {
                return Ok(existing);
            }
            batch.insert(&t.direct_pairs, pair.clone(), &keys::conversation(conversation.id)[..]);
            Ok(t.put_new_conversation(batch, conversation, members))
        })
        .await
    }

    async fn linked_conversation(
        &self,
        org: &str,
        key: &str,
    ) -> StoreResult<Option<ConversationId>> {
        self.read("linked_conversation", |t| {
            let Some(id) = t.conversation_keys.get(keys::conversation_key(org, key))? else {
                return Ok(None);
            };
            let id: [u8; 8] = id[..].try_into().map_err(|_| StoreError::Corrupt {
                table: "conversation_keys",
                reason: "not a conversation id".into(),
            })?;
            Ok(Some(u64::from_be_bytes(id)))
        })
    }

    async fn get_or_create_linked(
        &self,
        conversation: &Conversation,
        members: &[Member],
    ) -> StoreResult<Conversation> {
        let key = conversation.external_key.as_deref().unwrap_or_default();
        let key = keys::conversation_key(&conversation.org, key);
        self.write("get_or_create_linked", |t, batch| {
            if let Some(existing) = t.pointed_to("conversation_keys", &t.conversation_keys, &key)? {
                return Ok(existing);
            }
            batch.insert(
                &t.conversation_keys,
                key.clone(),
                &keys::conversation(conversation.id)[..],
            );
            Ok(t.put_new_conversation(batch, conversation, members))
        })
        .await
    }

    async fn get_or_create_self(
        &self,
        conversation: &Conversation,
        owner: &Member,
    ) -> StoreResult<Conversation> {
        let key = keys::self_conversation(&conversation.org, &owner.user_id);
        self.write("get_or_create_self", |t, batch| {
            if let Some(existing) =
                t.pointed_to("self_conversations", &t.self_conversations, &key)?
            {
                return Ok(existing);
            }
            batch.insert(
                &t.self_conversations,
                key.clone(),
                &keys::conversation(conversation.id)[..],
            );
            Ok(t.put_new_conversation(batch, conversation, std::slice::from_ref(owner)))
        })
        .await
    }
}
