//! A user's profile in one org: what others see of them (their name above all) and the
//! contact details only they and the org's privileged readers see.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
}

/// A profile as one caller may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileView {
    /// Only `org` and `user` are set when the user has no profile.
    pub profile: Profile,
    pub exists: bool,
}
