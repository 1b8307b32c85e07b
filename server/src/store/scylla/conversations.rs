//! Conversations in the ScyllaDB engine: DMs, SELF conversations and linked ones claimed by
//! lightweight transactions, member counts in a counter table.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use scylla::DeserializeRow;
use scylla::serialize::row::SerializeRow;
use scylla::statement::batch::BatchType;

use super::rows::{kind, to_i64};
use super::statements::Statement;
use super::{SETTLE_ATTEMPTS, ScyllaStore, failed, rows};
use crate::model::{Conversation, ConversationId, Member, Visibility};
use crate::store::{ConversationStore, StoreError, StoreResult};

impl ScyllaStore {
    pub(super) async fn member_count(&self, id: ConversationId) -> StoreResult<u32> {
        let rows: Vec<(scylla::value::Counter,)> =
            self.rows(Statement::MemberCountGet, (to_i64(id),)).await?;
        Ok(rows.first().map_or(0, |(count,)| count.0.max(0) as u32))
    }

    pub(super) async fn add_to_count(&self, id: ConversationId, delta: i64) -> StoreResult<()> {
        let delta = scylla::value::Counter(delta);
        self.run(Statement::MemberCountAdd, (delta, to_i64(id))).await.map(|_| ())
    }

    /// Writes a conversation, its members and their index rows (claims are made first).
    pub(super) async fn write_conversation(
        &self,
        c: &Conversation,
        members: &[Member],
    ) -> StoreResult<()> {
        let mut statements = vec![Statement::ConversationInsert, Statement::OrgConversationInsert];
        let mut values: Vec<Box<dyn SerializeRow + Send + Sync>> =
            vec![Box::new(ConversationRow::values(c)), Box::new((c.org.clone(), to_i64(c.id)))];
        for member in members {
            statements.push(Statement::MemberInsert);
            values.push(Box::new(rows::member_values(c.id, member)));
            statements.push(Statement::UserConversationInsert);
            values.push(Box::new((c.org.clone(), member.user_id.clone(), to_i64(c.id))));
        }
        self.batch(BatchType::Logged, &statements, values).await?;
        self.add_to_count(c.id, members.len() as i64).await
    }

    /// The conversation a claim points to, waiting briefly for its rows if the claimer is
    /// still writing them.
    pub(super) async fn settled(&self, id: ConversationId) -> StoreResult<Conversation> {
        for _ in 0..SETTLE_ATTEMPTS {
            if let Some(conversation) = self.get_conversation(id).await? {
                return Ok(conversation);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(StoreError::Corrupt {
            table: "conversations",
            reason: format!("{id} was claimed but never written"),
        })
    }
}

#[async_trait]
impl ConversationStore for ScyllaStore {
    async fn create_conversation(&self, c: &Conversation, members: &[Member]) -> StoreResult<()> {
        self.write_conversation(c, members).await
    }

    async fn get_conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>> {
        let rows: Vec<ConversationRow> =
            self.rows(Statement::ConversationGet, (to_i64(id),)).await?;
        let Some(row) = rows.into_iter().next() else { return Ok(None) };
        let count = self.member_count(id).await?;
        row.into_domain(count).map(Some)
    }

    async fn list_org_conversations(
        &self,
        org: &str,
        after: ConversationId,
        limit: usize,
    ) -> StoreResult<Vec<ConversationId>> {
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let rows: Vec<(i64,)> =
            self.rows(Statement::OrgConversationList, (org, to_i64(after), limit)).await?;
        Ok(rows.into_iter().map(|(id,)| id as u64).collect())
    }

    async fn update_conversation(&self, c: &Conversation) -> StoreResult<Conversation> {
        let fields: HashMap<String, String> = c.custom_fields.clone().into_iter().collect();
        let values = (
            c.name.clone(),
            c.icon.clone(),
            c.meta_tags.clone(),
            c.restricted,
            c.archived,
            fields,
            c.members_may_pin,
            c.slow_mode_seconds as i32,
            to_i64(c.id),
        );
        self.run(Statement::ConversationUpdate, values).await?;
        self.get_conversation(c.id)
            .await?
            .ok_or_else(|| failed(format!("conversation {} vanished", c.id)))
    }

    async fn get_or_create_direct(
        &self,
        c: &Conversation,
        members: &[Member; 2],
    ) -> StoreResult<Conversation> {
        let (a, b) = (&members[0].user_id, &members[1].user_id);
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        let claim = (c.org.clone(), low.clone(), high.clone(), to_i64(c.id));
        let (won, current) = self.lwt(Statement::DirectPairClaim, claim).await?;
        if won {
            self.write_conversation(c, members).await?;
            return self.settled(c.id).await;
        }
        self.settled(rows::id_column(&current, "conversation_id")?).await
    }

    async fn linked_conversation(
        &self,
        org: &str,
        key: &str,
    ) -> StoreResult<Option<ConversationId>> {
        let rows: Vec<(i64,)> = self.rows(Statement::LinkGet, (org, key)).await?;
        Ok(rows.first().map(|(id,)| *id as u64))
    }

    async fn get_or_create_linked(
        &self,
        c: &Conversation,
        members: &[Member],
    ) -> StoreResult<Conversation> {
        let key = c.external_key.clone().unwrap_or_default();
        let (won, current) =
            self.lwt(Statement::LinkClaim, (c.org.clone(), key, to_i64(c.id))).await?;
        if won {
            self.write_conversation(c, members).await?;
            return self.settled(c.id).await;
        }
        self.settled(rows::id_column(&current, "conversation_id")?).await
    }

    async fn get_or_create_self(
        &self,
        c: &Conversation,
        owner: &Member,
    ) -> StoreResult<Conversation> {
        let claim = (c.org.clone(), owner.user_id.clone(), to_i64(c.id));
        let (won, current) = self.lwt(Statement::SelfClaim, claim).await?;
        if won {
            self.write_conversation(c, std::slice::from_ref(owner)).await?;
            return self.settled(c.id).await;
        }
        self.settled(rows::id_column(&current, "conversation_id")?).await
    }
}

#[derive(DeserializeRow)]
pub(super) struct ConversationRow {
    id: i64,
    org: String,
    kind: String,
    name: Option<String>,
    icon: Option<String>,
    archived: Option<bool>,
    meta_tags: Option<Vec<String>>,
    owner: Option<String>,
    created_at_ms: i64,
    restricted: Option<bool>,
    visibility: Option<String>,
    custom_fields: Option<HashMap<String, String>>,
    external_key: Option<String>,
    members_may_pin: Option<bool>,
    slow_mode_seconds: Option<i32>,
}

pub(super) type ConversationValues = (
    i64,
    String,
    &'static str,
    String,
    String,
    bool,
    Vec<String>,
    String,
    i64,
    bool,
    &'static str,
    HashMap<String, String>,
    Option<String>,
    bool,
    i32,
);

impl ConversationRow {
    /// Values for `conversation_insert`, in its column order.
    pub(super) fn values(c: &Conversation) -> ConversationValues {
        let visibility = match c.visibility {
            Visibility::Public => "public",
            Visibility::Private => "private",
        };
        (
            to_i64(c.id),
            c.org.clone(),
            c.kind.name(),
            c.name.clone(),
            c.icon.clone(),
            c.archived,
            c.meta_tags.clone(),
            c.owner.clone(),
            c.created_at_ms,
            c.restricted,
            visibility,
            c.custom_fields.clone().into_iter().collect(),
            c.external_key.clone(),
            c.members_may_pin,
            c.slow_mode_seconds as i32,
        )
    }

    pub(super) fn into_domain(self, member_count: u32) -> StoreResult<Conversation> {
        Ok(Conversation {
            id: self.id as u64,
            org: self.org,
            kind: kind(&self.kind)?,
            name: self.name.unwrap_or_default(),
            icon: self.icon.unwrap_or_default(),
            archived: self.archived.unwrap_or(false),
            meta_tags: self.meta_tags.unwrap_or_default(),
            owner: self.owner.unwrap_or_default(),
            created_at_ms: self.created_at_ms,
            restricted: self.restricted.unwrap_or(false),
            visibility: match self.visibility.as_deref() {
                Some("public") => Visibility::Public,
                _ => Visibility::Private,
            },
            member_count,
            custom_fields: self.custom_fields.unwrap_or_default().into_iter().collect(),
            external_key: self.external_key,
            members_may_pin: self.members_may_pin.unwrap_or(false),
            slow_mode_seconds: self.slow_mode_seconds.unwrap_or(0).max(0) as u32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    #[test]
    fn a_conversation_becomes_a_row_and_back() {
        let c = Conversation {
            id: 9,
            org: "acme".into(),
            kind: Kind::Channel,
            name: "news".into(),
            icon: String::new(),
            archived: true,
            meta_tags: vec!["t".into()],
            owner: "o".into(),
            created_at_ms: 5,
            restricted: true,
            visibility: Visibility::Public,
            member_count: 3,
            custom_fields: [("order".to_string(), "1234".to_string())].into(),
            external_key: Some("order:1234".into()),
            members_may_pin: true,
            slow_mode_seconds: 30,
        };
        let v = ConversationRow::values(&c);
        let row = ConversationRow {
            id: v.0,
            org: v.1,
            kind: v.2.into(),
            name: Some(v.3),
            icon: None,
            archived: Some(v.5),
            meta_tags: Some(v.6),
            owner: Some(v.7),
            created_at_ms: v.8,
            restricted: Some(v.9),
            visibility: Some(v.10.into()),
            custom_fields: Some(v.11),
            external_key: v.12,
            members_may_pin: Some(v.13),
            slow_mode_seconds: Some(v.14),
        };
        assert_eq!(row.into_domain(3).unwrap(), c);
    }
}
