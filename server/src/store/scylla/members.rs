//! Members and the user index in the ScyllaDB engine.

use async_trait::async_trait;

use super::rows::to_i64;
use super::statements::Statement;
use super::{ScyllaStore, failed, rows};
use crate::model::{Conversation, ConversationId, LogEntry, Member, Removal, Role};
use crate::store::{ConversationStore, MemberStore, RoleChange, StoreResult};

#[async_trait]
impl MemberStore for ScyllaStore {
    async fn get_member(&self, id: ConversationId, user: &str) -> StoreResult<Option<Member>> {
        let rows: Vec<rows::MemberRow> =
            self.rows(Statement::MemberGet, (to_i64(id), user)).await?;
        rows.into_iter().next().map(rows::member).transpose()
    }

    async fn list_members(
        &self,
        id: ConversationId,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Member>> {
        let rows: Vec<rows::MemberRow> =
            self.rows(Statement::MemberList, (to_i64(id), after, limit as i32)).await?;
        rows.into_iter().map(rows::member).collect()
    }

    async fn add_members(
        &self,
        id: ConversationId,
        members: &[Member],
    ) -> StoreResult<Vec<Member>> {
        let conversation = self
            .get_conversation(id)
            .await?
            .ok_or_else(|| failed(format!("no conversation {id}")))?;
        let mut added: Vec<Member> = Vec::new();
        for member in members {
            if added.iter().any(|a| a.user_id == member.user_id) {
                continue;
            }
            let (inserted, _) =
                self.lwt(Statement::MemberInsertNew, rows::member_values(id, member)).await?;
            if inserted {
                let index = (conversation.org.clone(), member.user_id.clone(), to_i64(id));
                self.run(Statement::UserConversationInsert, index).await?;
                added.push(member.clone());
            }
        }
        if !added.is_empty() {
            self.add_to_count(id, added.len() as i64).await?;
        }
        Ok(added)
    }

    /// The removal takes its place in the log after the member row is gone: a message
    /// committed in between is the member's too.
    async fn remove_member(
        &self,
        id: ConversationId,
        user: &str,
        by: &str,
    ) -> StoreResult<Option<LogEntry>> {
        let Some(conversation) = self.get_conversation(id).await? else { return Ok(None) };
        let (removed, _) = self.lwt(Statement::MemberDelete, (to_i64(id), user)).await?;
        if !removed {
            return Ok(None);
        }
        self.run(Statement::UserConversationDelete, (conversation.org, user, to_i64(id))).await?;
        self.add_to_count(id, -1).await?;
        let removal = Removal { user: user.to_string(), by: by.to_string() };
        let next =
            |head: Option<&LogEntry>, now| LogEntry::next_removal(head, removal.clone(), now);
        let entry = self.next_log_entry(id, next).await?;
        self.put_log_entry(id, &entry).await?;
        Ok(Some(entry))
    }

    async fn change_role(
        &self,
        id: ConversationId,
        user: &str,
        expected: Role,
        new: Role,
    ) -> StoreResult<RoleChange> {
        let values = (new.name(), to_i64(id), user, expected.name());
        let (changed, current) = self.lwt(Statement::MemberSetRole, values).await?;
        Ok(match (changed, current.contains_key("role")) {
            (true, _) => RoleChange::Changed,
            (false, true) => RoleChange::Conflict,
            (false, false) => RoleChange::NotAMember,
        })
    }

    async fn transfer_ownership(
        &self,
        id: ConversationId,
        from: &str,
        to: &str,
    ) -> StoreResult<Option<Conversation>> {
        let (Some(old), Some(new)) =
            (self.get_member(id, from).await?, self.get_member(id, to).await?)
        else {
            return Ok(None);
        };
        if old.role != Role::Owner {
            return Ok(None);
        }
        // The owner column decides; the member roles follow it.
        let (moved, _) = self.lwt(Statement::ConversationSetOwner, (to, to_i64(id), from)).await?;
        if !moved {
            return Ok(None);
        }
        self.run(
            Statement::MemberInsert,
            rows::member_values(id, &Member { role: Role::Owner, ..new }),
        )
        .await?;
        self.run(
            Statement::MemberInsert,
            rows::member_values(id, &Member { role: Role::Admin, ..old }),
        )
        .await?;
        self.get_conversation(id).await
    }

    async fn set_muted(&self, id: ConversationId, user: &str, muted: bool) -> StoreResult<bool> {
        let (applied, _) = self.lwt(Statement::MemberMute, (muted, to_i64(id), user)).await?;
        Ok(applied)
    }

    async fn claim_post(
        &self,
        id: ConversationId,
        user: &str,
        seen_ms: i64,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let (applied, _) = match seen_ms {
            0 => self.lwt(Statement::MemberClaimFirstPost, (now_ms, to_i64(id), user)).await?,
            seen => self.lwt(Statement::MemberClaimPost, (now_ms, to_i64(id), user, seen)).await?,
        };
        Ok(applied)
    }

    async fn list_user_conversations(
        &self,
        org: &str,
        user: &str,
        after: ConversationId,
        limit: usize,
    ) -> StoreResult<Vec<ConversationId>> {
        let rows: Vec<(i64,)> = self
            .rows(Statement::UserConversationList, (org, user, to_i64(after), limit as i32))
            .await?;
        Ok(rows.into_iter().map(|(id,)| id as u64).collect())
    }
}
