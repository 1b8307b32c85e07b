//! Profiles (People.GetProfile, GetProfiles, UpdateProfile): what a user of the org shows
//! others, read by anyone of the org with `user.profile.view`; contact details only to the
//! user and to callers with `user.profile.view_any`. A user's own profile is created from
//! their token's `name` claim the first time they use it; the owner edits theirs, an org
//! admin (`chat.admin`) anyone's, audited.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::auth::{Caller, OrgUser, Scope};
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{AuditAction, ConversationId, Profile, ProfileField, ProfileView};
use crate::store::{Store, StoreError, StoreResult};
use crate::validate::{self, Violations};

use super::{Attachments, Audit, other_party};

/// Most users one GetProfiles call may name.
const MAX_PROFILES_PER_CALL: usize = 500;

/// The field named `name`, or INVALID_ARGUMENT naming the ones there are.
fn field_named(name: &str) -> ChatResult<ProfileField> {
    ProfileField::ALL.into_iter().find(|field| field.name() == name).ok_or_else(|| {
        let known: Vec<&str> = ProfileField::ALL.iter().map(|field| field.name()).collect();
        let why =
            format!("{} is not a profile field ({})", validate::quoted(name), known.join(", "));
        ChatError::invalid("fields", why)
    })
}

/// Users remembered as having a profile, at most; the memory starts over beyond.
const KNOWN_USERS: usize = 100_000;

pub struct Profiles {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    pub(super) audit: Arc<Audit>,
    /// Where avatars are checked, and deleted once replaced.
    pub(super) attachments: Arc<Attachments>,
    /// Users known to have a profile, so that their streams cost no read.
    pub(super) known: Mutex<HashSet<OrgUser>>,
}

impl Profiles {
    /// GetProfile: `user` ("" for the caller) as the caller may see them.
    pub async fn get(&self, caller: &Caller, user: &str) -> ChatResult<ProfileView> {
        let user = target(caller, user)?;
        let stored = self.stored_or_first(caller, &user).await?;
        Ok(seen_by(caller, &user, stored))
    }

    /// GetProfiles: each of `users`, in order, as the caller may see them.
    pub async fn get_many(
        &self,
        caller: &Caller,
        users: &[String],
    ) -> ChatResult<Vec<ProfileView>> {
        if users.is_empty() || users.len() > MAX_PROFILES_PER_CALL {
            let why = format!("must name 1 to {MAX_PROFILES_PER_CALL} users, got {}", users.len());
            return Err(ChatError::invalid("user_ids", why));
        }
        Violations::new().check("user_ids", validate::check_user_ids(users)).finish()?;
        let mut views = Vec::with_capacity(users.len());
        for user in users {
            let stored = self.stored_or_first(caller, user).await?;
            views.push(seen_by(caller, user, stored));
        }
        Ok(views)
    }

    /// UpdateProfile: sets the named fields of `user`'s profile ("" for the caller's) to
    /// their values in `changes`. Someone else's needs `chat.admin`, and is audited.
    pub async fn update(
        &self,
        caller: &Caller,
        user: &str,
        changes: &Profile,
        fields: &[String],
    ) -> ChatResult<ProfileView> {
        let user = target(caller, user)?;
        let own = user == caller.user;
        if !own && !caller.scopes.contains(Scope::Admin) {
            return Err(ChatError::denied(
                "only org admins (scope chat.admin) may change other users' profiles",
            ));
        }
        if fields.is_empty() {
            return Err(ChatError::invalid("fields", "name at least one field to change"));
        }
        let fields = fields.iter().map(|name| field_named(name)).collect::<ChatResult<Vec<_>>>()?;
        check(changes, &fields)?;
        let new_avatar = fields.contains(&ProfileField::Avatar).then_some(changes.avatar_id);
        if let Some(id) = new_avatar.filter(|id| *id != 0) {
            self.attachments.avatar_for(caller, &user, id).await?;
        }
        // Read first only when it matters: the caller's own may not exist yet, and a new
        // picture deletes the old one.
        let before = match own || new_avatar.is_some() {
            true => self.store.get_profile(&caller.org, &user).await?,
            false => None,
        };
        if own && before.is_none() {
            // Their own starts from their token's name, like on first use.
            let name = caller.name.as_deref().unwrap_or_default();
            self.create_first(&caller.org, &user, name).await?;
        }
        let now = self.ids.now_ms();
        let profile = self.store.update_profile(&caller.org, &user, changes, &fields, now).await?;
        let old_avatar = before.map_or(0, |before| before.avatar_id);
        if new_avatar.is_some_and(|new| new != old_avatar) && old_avatar != 0 {
            // The picture it replaced is no one's any more.
            self.attachments.discard_attachment(old_avatar).await?;
        }
        if !own {
            let names: Vec<&str> = fields.iter().map(|field| field.name()).collect();
            let detail = names.join(",");
            self.audit.record(caller, AuditAction::ProfileUpdated, 0, &user, detail).await;
        }
        Ok(seen_by(caller, &user, Some(profile)))
    }

    /// The other party of direct conversation `id` (the caller's), as the caller sees them.
    pub async fn peer(
        &self,
        caller: &Caller,
        id: ConversationId,
    ) -> ChatResult<Option<ProfileView>> {
        let Some(other) = other_party(&*self.store, id, &caller.user).await? else {
            return Ok(None);
        };
        let profile = self.store.get_profile(&caller.org, &other).await?;
        Ok(Some(seen_by(caller, &other, profile)))
    }

    /// A user's stream opened: their profile is created from their token's `name` if
    /// they have none, so that the directory finds them. A store failure is logged; the
    /// next stream tries again.
    pub async fn first_stream(&self, org: &str, user: &str, name: &str) {
        let key = OrgUser::new(org, user);
        if self.known.lock().expect("known lock poisoned").contains(&key) {
            return;
        }
        let created = async {
            if self.store.get_profile(org, user).await?.is_none() {
                self.create_first(org, user, name).await?;
            }
            Ok::<(), StoreError>(())
        };
        if let Err(error) = created.await {
            tracing::warn!(%error, org, user, "could not create a profile on a first stream");
            return;
        }
        let mut known = self.known.lock().expect("known lock poisoned");
        if known.len() >= KNOWN_USERS {
            known.clear();
        }
        known.insert(key);
    }

    /// `user`'s stored profile; the caller's own is created on first use.
    async fn stored_or_first(&self, caller: &Caller, user: &str) -> ChatResult<Option<Profile>> {
        if let Some(profile) = self.store.get_profile(&caller.org, user).await? {
            return Ok(Some(profile));
        }
        if user != caller.user {
            return Ok(None);
        }
        let name = caller.name.as_deref().unwrap_or_default();
        self.create_first(&caller.org, &caller.user, name).await?;
        Ok(self.store.get_profile(&caller.org, user).await?)
    }

    /// Creates the user's profile from their token's `name`, unless they have one.
    async fn create_first(&self, org: &str, user: &str, name: &str) -> StoreResult<()> {
        let mut profile = first_profile(org, user, name);
        profile.updated_at_ms = self.ids.now_ms();
        self.store.create_profile(&profile).await?;
        Ok(())
    }
}

/// The user a call is about: `user`, or the caller when empty.
fn target(caller: &Caller, user: &str) -> ChatResult<String> {
    if user.is_empty() {
        return Ok(caller.user.clone());
    }
    Violations::new().check("user_id", validate::check_user_id(user)).finish()?;
    Ok(user.to_string())
}

/// A user's profile before they set anything: the name their token carries (without
/// control characters, trimmed, at most 80 characters).
fn first_profile(org: &str, user: &str, name: &str) -> Profile {
    let name: String = name.chars().filter(|c| !c.is_control()).collect();
    let name: String = name.trim().chars().take(validate::MAX_PROFILE_LINE_CHARS).collect();
    Profile { org: org.into(), user: user.into(), display_name: name, ..Profile::default() }
}

/// `stored` as the caller sees it: contact details only for the user and privileged readers.
pub(super) fn seen_by(caller: &Caller, user: &str, stored: Option<Profile>) -> ProfileView {
    let exists = stored.is_some();
    let mut profile = stored.unwrap_or_else(|| Profile {
        org: caller.org.clone(),
        user: user.to_string(),
        ..Profile::default()
    });
    if user != caller.user && !caller.scopes.contains(Scope::ProfileViewAny) {
        profile.email.clear();
        profile.phone.clear();
    }
    ProfileView { profile, exists }
}

/// The new values of the fields being changed.
fn check(changes: &Profile, fields: &[ProfileField]) -> ChatResult<()> {
    let mut violations = Violations::new();
    let line = |text: &str| validate::check_line(text, validate::MAX_PROFILE_LINE_CHARS);
    for field in fields {
        let field_name = format!("profile.{}", field.name());
        let result = match field {
            ProfileField::DisplayName => line(&changes.display_name),
            ProfileField::Title => line(&changes.title),
            ProfileField::Bio => validate::check_bio(&changes.bio),
            ProfileField::TimeZone => validate::check_time_zone(&changes.time_zone),
            ProfileField::CustomFields => validate::check_custom_fields(&changes.custom_fields),
            ProfileField::Email => validate::check_email(&changes.email),
            ProfileField::Phone => validate::check_phone(&changes.phone),
            // Checked against the attachment it names.
            ProfileField::Avatar => Ok(()),
        };
        violations.check(&field_name, result);
    }
    violations.finish()
}
