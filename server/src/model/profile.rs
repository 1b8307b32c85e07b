//! A user's profile in one org: what others see of them (their name above all) and the
//! contact details only they and the org's privileged readers see.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::AttachmentId;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub org: String,
    pub user: String,
    pub display_name: String,
    pub title: String,
    pub bio: String,
    /// An IANA time zone name, or empty.
    pub time_zone: String,
    pub custom_fields: BTreeMap<String, String>,
    pub email: String,
    pub phone: String,
    /// When it was last written (Unix milliseconds).
    pub updated_at_ms: i64,
    /// Their picture: a complete avatar attachment they uploaded; 0 for none.
    #[serde(default)]
    pub avatar_id: AttachmentId,
}

/// The parts of a profile its owner changes, each on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileField {
    DisplayName,
    Title,
    Bio,
    TimeZone,
    CustomFields,
    Email,
    Phone,
    Avatar,
}

impl ProfileField {
    pub const ALL: [ProfileField; 8] = [
        ProfileField::DisplayName,
        ProfileField::Title,
        ProfileField::Bio,
        ProfileField::TimeZone,
        ProfileField::CustomFields,
        ProfileField::Email,
        ProfileField::Phone,
        ProfileField::Avatar,
    ];

    /// Its name in requests (`display_name`).
    pub fn name(self) -> &'static str {
        match self {
            ProfileField::DisplayName => "display_name",
            ProfileField::Title => "title",
            ProfileField::Bio => "bio",
            ProfileField::TimeZone => "time_zone",
            ProfileField::CustomFields => "custom_fields",
            ProfileField::Email => "email",
            ProfileField::Phone => "phone",
            ProfileField::Avatar => "avatar",
        }
    }

    /// Copies this field from `from` to `to`.
    pub fn copy(self, from: &Profile, to: &mut Profile) {
        match self {
            ProfileField::DisplayName => to.display_name.clone_from(&from.display_name),
            ProfileField::Title => to.title.clone_from(&from.title),
            ProfileField::Bio => to.bio.clone_from(&from.bio),
            ProfileField::TimeZone => to.time_zone.clone_from(&from.time_zone),
            ProfileField::CustomFields => to.custom_fields.clone_from(&from.custom_fields),
            ProfileField::Email => to.email.clone_from(&from.email),
            ProfileField::Phone => to.phone.clone_from(&from.phone),
            ProfileField::Avatar => to.avatar_id = from.avatar_id,
        }
    }
}

/// A profile as one caller may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileView {
    /// Only `org` and `user` are set when the user has no profile.
    pub profile: Profile,
    pub exists: bool,
}

/// Longest directory term kept (characters); longer words are cut to it.
const MAX_TERM_CHARS: usize = 64;
/// Most directory terms one profile is found by.
const MAX_TERMS: usize = 24;

impl Profile {
    /// What the directory finds this user by: the words of their display name and title,
    /// their user id, and the words of its part before any `@` (an email-like handle),
    /// lowercased, each once, in that order.
    pub fn directory_terms(&self) -> Vec<String> {
        directory_terms(&self.user, &self.display_name, &self.title)
    }
}

/// [`Profile::directory_terms`] of a user with this display name and title.
pub fn directory_terms(user: &str, display_name: &str, title: &str) -> Vec<String> {
    let handle = user.split('@').next().unwrap_or(user);
    let whole = (!user.is_empty()).then(|| cut(&user.to_lowercase()));
    let mut terms: Vec<String> = Vec::new();
    let words = words(display_name).chain(words(title)).chain(whole).chain(words(handle));
    for term in words {
        if !terms.contains(&term) && terms.len() < MAX_TERMS {
            terms.push(term);
        }
    }
    terms
}

/// The lowercased words of `text`: runs of letters and digits.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| cut(&word.to_lowercase()))
}

fn cut(term: &str) -> String {
    term.chars().take(MAX_TERM_CHARS).collect()
}

/// One way the directory finds a user: by `term`, with what a listing shows of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    pub term: String,
    pub user: String,
    pub display_name: String,
    pub title: String,
}

impl DirectoryEntry {
    /// The entries `profile` is found by.
    pub fn all_of(profile: &Profile) -> Vec<DirectoryEntry> {
        let entry = |term: String| DirectoryEntry {
            term,
            user: profile.user.clone(),
            display_name: profile.display_name.clone(),
            title: profile.title.clone(),
        };
        profile.directory_terms().into_iter().map(entry).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_found_by_words_of_their_name_title_and_handle() {
        let terms = directory_terms("alice.liddell@acme.example", "Alice Liddell", "Head of R&D");
        let expected = ["alice", "liddell", "head", "of", "r", "d", "alice.liddell@acme.example"];
        assert_eq!(terms, expected, "name, title, whole id; the handle's words are there already");
        assert_eq!(directory_terms("Bob", "", ""), ["bob"]);
        assert_eq!(directory_terms("zoë", "Zoë Ünal", ""), ["zoë", "ünal"]);
    }
}

/// A list a user keeps of other users of their org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// People they want at hand (and whose presence their clients show).
    Contact,
    /// People who may not message them, and whom they do not want to hear from.
    Block,
    /// Who blocks them: kept with each block (adding a block adds it), for the server's
    /// own checks only; never shown to the user.
    BlockedBy,
}
