//! Creating, reading, updating and archiving conversations; DMs and SELF; conversations
//! linked to business objects.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::moderation::admit;
use super::{
    Audit, Notifications, Relations, Unread, as_team_member, new_member, other_party, policy,
};
use crate::access;
use crate::auth::{Caller, Scope};
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{
    AuditAction, Conversation, ConversationId, ConversationView, Kind, Member, Role, Visibility,
};
use crate::realtime::{Events, changes};
use crate::store::Store;
use crate::validate::{self, Violations};

/// What CreateTeam and CreateChannel ask for.
#[derive(Debug, Clone, Default)]
pub struct NewConversation {
    pub name: String,
    pub icon: String,
    pub meta_tags: Vec<String>,
    /// GROUP only.
    pub restricted: bool,
    /// CHANNEL only.
    pub visibility: Option<Visibility>,
    /// Users added as members besides the creator.
    pub members: Vec<String>,
    pub custom_fields: BTreeMap<String, String>,
}

/// What UpdateTeam may change; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct TeamUpdate {
    pub name: Option<String>,
    pub icon: Option<String>,
    pub meta_tags: Option<Vec<String>>,
    pub restricted: Option<bool>,
    pub custom_fields: Option<BTreeMap<String, String>>,
    pub members_may_pin: Option<bool>,
    pub slow_mode_seconds: Option<u32>,
}

/// Default and largest page of ListConversations.
const CONVERSATIONS_PAGE: (usize, usize) = (100, 200);
/// Longest slow mode interval: 6 hours.
const MAX_SLOW_MODE_SECS: u32 = 6 * 3600;

/// Teams, channels, DMs and notes to self: creating, reading, updating, archiving.
pub struct Conversations {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    pub(super) events: Events,
    pub(super) audit: Arc<Audit>,
    /// For the unread counts of listings.
    pub(super) notifications: Arc<Notifications>,
    /// Who blocks whom: no direct conversation between them, none listed to the blocker.
    pub(super) relations: Arc<Relations>,
}

impl Conversations {
    /// CreateTeam (`Kind::Group`) and CreateChannel (`Kind::Channel`).
    pub async fn create(
        &self,
        caller: &Caller,
        kind: Kind,
        new: NewConversation,
    ) -> ChatResult<ConversationView> {
        let (conversation, members) = self.new_team(caller, kind, new, None)?;
        self.store.create_conversation(&conversation, &members).await?;
        Ok(self.created(caller, conversation, &members).await)
    }

    /// OpenLinked: the conversation of the caller's org linked to `key`, as GetConversation
    /// gives it, created from `create` (needs `chat.teams.manage`) if there is none; and
    /// whether this call created it. NOT_FOUND when there is none and nothing to create.
    pub async fn open_linked(
        &self,
        caller: &Caller,
        key: &str,
        create: Option<(Kind, NewConversation)>,
    ) -> ChatResult<(ConversationView, bool)> {
        Violations::new().check("external_key", validate::check_external_key(key)).finish()?;
        if let Some(id) = self.store.linked_conversation(&caller.org, key).await? {
            return Ok((self.get(caller, id).await?, false));
        }
        let Some((kind, new)) = create else {
            let why = format!("no conversation is linked to {}", validate::quoted(key));
            return Err(ChatError::not_found(why));
        };
        policy::scope(caller, Scope::TeamsManage)?;
        let (candidate, members) = self.new_team(caller, kind, new, Some(key.to_string()))?;
        let conversation = self.store.get_or_create_linked(&candidate, &members).await?;
        if conversation.id != candidate.id {
            // Someone else linked one first.
            return Ok((self.get(caller, conversation.id).await?, false));
        }
        Ok((self.created(caller, conversation, &members).await, true))
    }

    /// A new team or channel from what CreateTeam, CreateChannel or OpenLinked ask for,
    /// checked, with its members (the caller as owner).
    fn new_team(
        &self,
        caller: &Caller,
        kind: Kind,
        new: NewConversation,
        external_key: Option<String>,
    ) -> ChatResult<(Conversation, Vec<Member>)> {
        Violations::new()
            .check("name", validate::check_name(&new.name))
            .check("icon", validate::check_icon(&new.icon))
            .check("meta_tags", validate::check_meta_tags(&new.meta_tags))
            .check("members", validate::check_user_ids(&new.members))
            .check("custom_fields", validate::check_custom_fields(&new.custom_fields))
            .finish()?;
        let mut members = vec![new_member(&caller.user, Role::Owner, self.ids.now_ms())];
        for user in &new.members {
            if !members.iter().any(|m| &m.user_id == user) {
                members.push(new_member(user, Role::Member, self.ids.now_ms()));
            }
        }
        let conversation = Conversation {
            id: self.ids.next_id(),
            org: caller.org.clone(),
            kind,
            name: new.name.trim().to_string(),
            icon: new.icon,
            archived: false,
            meta_tags: new.meta_tags,
            owner: caller.user.clone(),
            created_at_ms: self.ids.now_ms(),
            restricted: kind == Kind::Channel || new.restricted,
            visibility: new.visibility.unwrap_or(Visibility::Private),
            member_count: members.len() as u32,
            custom_fields: new.custom_fields,
            external_key,
            members_may_pin: false,
            slow_mode_seconds: 0,
        };
        Ok((conversation, members))
    }

    /// Tells the members of a new team or channel, and audits it.
    async fn created(
        &self,
        caller: &Caller,
        conversation: Conversation,
        members: &[Member],
    ) -> ConversationView {
        let view = ConversationView { conversation, my_role: Some(Role::Owner) };
        for member in members {
            self.events.member_joined(&view, member, &caller.user, changes::START).await;
        }
        let (id, name) = (view.conversation.id, view.conversation.name.clone());
        self.audit.record(caller, AuditAction::TeamCreated, id, &id.to_string(), name).await;
        view
    }

    /// A conversation the caller belongs to, or a public channel of their org.
    pub async fn get(&self, caller: &Caller, id: ConversationId) -> ChatResult<ConversationView> {
        let conversation = access::conversation_of_org(&*self.store, &caller.org, id).await?;
        let my_role = self.store.get_member(id, &caller.user).await?.map(|m| m.role);
        let public_channel =
            conversation.kind == Kind::Channel && conversation.visibility == Visibility::Public;
        if my_role.is_none() && !public_channel {
            return Err(ChatError::denied(format!("you are not a member of conversation {id}")));
        }
        Ok(ConversationView { conversation, my_role })
    }

    /// The caller's conversations in their org, by ascending id, after `after`, each with
    /// the caller's unread state (`with_unread`; else only whether it is muted).
    pub async fn list(
        &self,
        caller: &Caller,
        after: ConversationId,
        limit: u32,
        with_unread: bool,
    ) -> ChatResult<(Vec<(ConversationView, Unread)>, ConversationId)> {
        let (ids, next) = self.list_ids(caller, after, limit).await?;
        let blocked = self.relations.blocks_of(caller).await?;
        let mut views = Vec::with_capacity(ids.len());
        let mut members = Vec::with_capacity(ids.len());
        for id in &ids {
            let Some(conversation) = self.store.get_conversation(*id).await? else {
                continue;
            };
            if !blocked.is_empty()
                && conversation.kind == Kind::Direct
                && let Some(other) = other_party(&*self.store, *id, &caller.user).await?
                && blocked.contains(&other)
            {
                continue;
            }
            let member = self.store.get_member(*id, &caller.user).await?;
            views.push(ConversationView { conversation, my_role: member.as_ref().map(|m| m.role) });
            members.push((*id, member));
        }
        let unread = match with_unread {
            true => self.notifications.unread_of(caller, &members).await?,
            false => members.iter().map(|(_, member)| Unread::muted(member.as_ref())).collect(),
        };
        Ok((views.into_iter().zip(unread).collect(), next))
    }

    /// The ids of the caller's conversations in their org, ascending, after `after`, and
    /// the next page's `after` (0 after the last page).
    pub async fn list_ids(
        &self,
        caller: &Caller,
        after: ConversationId,
        limit: u32,
    ) -> ChatResult<(Vec<ConversationId>, ConversationId)> {
        let limit = validate::page_size(limit, CONVERSATIONS_PAGE.0, CONVERSATIONS_PAGE.1)?;
        let ids =
            self.store.list_user_conversations(&caller.org, &caller.user, after, limit).await?;
        let next = if ids.len() == limit { ids.last().copied().unwrap_or(0) } else { 0 };
        Ok((ids, next))
    }

    /// UpdateTeam: admins and the owner change metadata of a live team or channel.
    pub async fn update(
        &self,
        caller: &Caller,
        id: ConversationId,
        update: TeamUpdate,
    ) -> ChatResult<ConversationView> {
        let mut violations = Violations::new();
        if let Some(name) = &update.name {
            violations.check("name", validate::check_name(name));
        }
        if let Some(icon) = &update.icon {
            violations.check("icon", validate::check_icon(icon));
        }
        if let Some(tags) = &update.meta_tags {
            violations.check("meta_tags", validate::check_meta_tags(tags));
        }
        if let Some(fields) = &update.custom_fields {
            violations.check("custom_fields", validate::check_custom_fields(fields));
        }
        if let Some(seconds) = update.slow_mode_seconds
            && seconds > MAX_SLOW_MODE_SECS
        {
            let why = format!("must be at most {MAX_SLOW_MODE_SECS} (6 hours), got {seconds}");
            violations.check("slow_mode_seconds", Err(why));
        }
        violations.finish()?;
        let (mut conversation, me) = as_team_member(&*self.store, caller, id).await?;
        policy::at_least(&me, Role::Admin, "edit the team")?;
        if update.restricted.is_some() && conversation.kind == Kind::Channel {
            return Err(ChatError::invalid("restricted", "channels are always restricted"));
        }
        if let Some(name) = update.name {
            conversation.name = name.trim().to_string();
        }
        if let Some(icon) = update.icon {
            conversation.icon = icon;
        }
        if let Some(tags) = update.meta_tags {
            conversation.meta_tags = tags;
        }
        if let Some(restricted) = update.restricted {
            conversation.restricted = restricted;
        }
        if let Some(fields) = update.custom_fields {
            conversation.custom_fields = fields;
        }
        if let Some(members_may_pin) = update.members_may_pin {
            conversation.members_may_pin = members_may_pin;
        }
        if let Some(seconds) = update.slow_mode_seconds {
            conversation.slow_mode_seconds = seconds;
        }
        let conversation = self.store.update_conversation(&conversation).await?;
        let view = ConversationView { conversation, my_role: Some(me.role) };
        self.events.conversation_updated(&view, &caller.user).await;
        let detail = format!("name {:?}", view.conversation.name);
        self.audit.record(caller, AuditAction::TeamUpdated, id, &id.to_string(), detail).await;
        Ok(view)
    }

    /// Archive: the owner makes a team or channel read-only for good.
    pub async fn archive(
        &self,
        caller: &Caller,
        id: ConversationId,
    ) -> ChatResult<ConversationView> {
        let (mut conversation, me) = as_team_member(&*self.store, caller, id).await?;
        policy::at_least(&me, Role::Owner, "archive the team")?;
        conversation.archived = true;
        let conversation = self.store.update_conversation(&conversation).await?;
        let view = ConversationView { conversation, my_role: Some(me.role) };
        self.events.conversation_updated(&view, &caller.user).await;
        self.audit
            .record(caller, AuditAction::TeamArchived, id, &id.to_string(), String::new())
            .await;
        Ok(view)
    }

    /// JoinChannel: anyone in the org joins a public channel; joining again is a no-op.
    pub async fn join(&self, caller: &Caller, id: ConversationId) -> ChatResult<ConversationView> {
        let conversation = access::conversation_of_org(&*self.store, &caller.org, id).await?;
        if let Some(me) = self.store.get_member(id, &caller.user).await? {
            return Ok(ConversationView { conversation, my_role: Some(me.role) });
        }
        if conversation.kind != Kind::Channel || conversation.visibility != Visibility::Public {
            return Err(ChatError::denied(format!(
                "conversation {id} is not a public channel; an admin must add you"
            )));
        }
        policy::writable(&conversation)?;
        let joined = changes::join_point(self.store.as_ref(), id).await?;
        let mut me = Member { joined, ..new_member(&caller.user, Role::Member, self.ids.now_ms()) };
        admit(&*self.store, caller, id, std::slice::from_mut(&mut me)).await?;
        self.store.add_members(id, std::slice::from_ref(&me)).await?;
        let conversation = access::conversation_of_org(&*self.store, &caller.org, id).await?;
        let view = ConversationView { conversation, my_role: Some(Role::Member) };
        self.events.member_joined(&view, &me, &caller.user, joined.seq).await;
        Ok(view)
    }

    /// OpenDirect: the one DIRECT conversation between the caller and `user`.
    pub async fn open_direct(&self, caller: &Caller, user: &str) -> ChatResult<ConversationView> {
        Violations::new().check("user_id", validate::check_user_id(user)).finish()?;
        if user == caller.user {
            return Err(ChatError::invalid("user_id", "that is you; use OpenSelf for notes"));
        }
        self.relations.may_message(caller, user).await?;
        let members = [
            new_member(&caller.user, Role::Member, self.ids.now_ms()),
            new_member(user, Role::Member, self.ids.now_ms()),
        ];
        let candidate = self.private_conversation(caller, Kind::Direct, "");
        let conversation = self.store.get_or_create_direct(&candidate, &members).await?;
        let view = ConversationView { conversation, my_role: Some(Role::Member) };
        if view.conversation.id == candidate.id {
            for member in &members {
                self.events.member_joined(&view, member, &caller.user, changes::START).await;
            }
        }
        Ok(view)
    }

    /// OpenSelf: the caller's own notes conversation.
    pub async fn open_self(&self, caller: &Caller) -> ChatResult<ConversationView> {
        let owner = new_member(&caller.user, Role::Owner, self.ids.now_ms());
        let candidate = self.private_conversation(caller, Kind::SelfNotes, &caller.user);
        let conversation = self.store.get_or_create_self(&candidate, &owner).await?;
        let view = ConversationView { conversation, my_role: Some(Role::Owner) };
        if view.conversation.id == candidate.id {
            self.events.member_joined(&view, &owner, &caller.user, changes::START).await;
        }
        Ok(view)
    }

    fn private_conversation(&self, caller: &Caller, kind: Kind, owner: &str) -> Conversation {
        Conversation {
            id: self.ids.next_id(),
            org: caller.org.clone(),
            kind,
            name: String::new(),
            icon: String::new(),
            archived: false,
            meta_tags: Vec::new(),
            owner: owner.to_string(),
            created_at_ms: self.ids.now_ms(),
            restricted: false,
            visibility: Visibility::Private,
            member_count: 0,
            custom_fields: BTreeMap::new(),
            external_key: None,
            members_may_pin: false,
            slow_mode_seconds: 0,
        }
    }
}
