//! The scopes a token may carry (docs/integrating.md lists them).

/// One permission a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Read conversations and history.
    Read,
    /// Send, edit, delete messages; open DMs; leave and join.
    Write,
    /// Create and manage teams and channels (roles still apply inside each one).
    TeamsManage,
    /// Upload and download attachments.
    Files,
    /// Operator calls: stats, connections, audit.
    Admin,
    /// Read the profiles of the org's users as others see them.
    ProfileView,
    /// Change one's own profile.
    ProfileEdit,
    /// Upload one's own avatar.
    UploadAvatar,
    /// Search the org's directory of users.
    SearchUsers,
    /// Read every field of any profile of the org, contact details included.
    ProfileViewAny,
    /// Manage one's own contacts and blocks.
    ContactsManage,
}

impl Scope {
    pub const ALL: [Scope; 11] = [
        Scope::Read,
        Scope::Write,
        Scope::TeamsManage,
        Scope::Files,
        Scope::Admin,
        Scope::ProfileView,
        Scope::ProfileEdit,
        Scope::UploadAvatar,
        Scope::SearchUsers,
        Scope::ProfileViewAny,
        Scope::ContactsManage,
    ];

    /// The name used in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "chat.read",
            Scope::Write => "chat.write",
            Scope::TeamsManage => "chat.teams.manage",
            Scope::Files => "chat.files",
            Scope::Admin => "chat.admin",
            Scope::ProfileView => "user.profile.view",
            Scope::ProfileEdit => "user.profile.edit",
            Scope::UploadAvatar => "user.profile.upload_avatar",
            Scope::SearchUsers => "user.profile.search_users",
            Scope::ProfileViewAny => "user.profile.view_any",
            Scope::ContactsManage => "user.contacts.manage",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u8)
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u16);

impl Scopes {
    /// Parses a space-separated `scope` claim; unknown scopes are ignored.
    pub fn parse(claim: &str) -> Scopes {
        let bits = claim
            .split_ascii_whitespace()
            .filter_map(|name| Scope::ALL.into_iter().find(|s| s.as_str() == name))
            .fold(0, |bits, scope| bits | scope.bit());
        Scopes(bits)
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_scopes_and_ignores_others() {
        let scopes = Scopes::parse("chat.read  chat.teams.manage bogus");
        assert!(scopes.contains(Scope::Read));
        assert!(scopes.contains(Scope::TeamsManage));
        assert!(!scopes.contains(Scope::Write));
        assert!(!Scopes::parse("").contains(Scope::Read));
        let people = Scopes::parse("user.profile.view user.contacts.manage");
        assert!(people.contains(Scope::ProfileView) && people.contains(Scope::ContactsManage));
        assert!(!people.contains(Scope::ProfileViewAny));
    }
}
