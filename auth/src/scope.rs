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
}

impl Scope {
    pub const ALL: [Scope; 5] =
        [Scope::Read, Scope::Write, Scope::TeamsManage, Scope::Files, Scope::Admin];

    /// The name used in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "chat.read",
            Scope::Write => "chat.write",
            Scope::TeamsManage => "chat.teams.manage",
            Scope::Files => "chat.files",
            Scope::Admin => "chat.admin",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

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
    }
}
