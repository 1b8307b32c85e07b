//! `@user`, `@here` and `@all` in message text: which names a text mentions, and which of
//! them count (members of the conversation; `@here`/`@all` only from admins and the owner).

use super::Messages;
use crate::error::ChatResult;
use crate::model::{Conversation, MENTION_ALL, MENTION_HERE, Member, Role};

/// Most distinct names looked up per message.
const MAX_MENTIONS: usize = 50;

impl Messages {
    /// The mentions of `text` by `author` in `conversation`, as stored with the message.
    pub(super) async fn mentions_in(
        &self,
        conversation: &Conversation,
        author: &Member,
        text: &str,
    ) -> ChatResult<Vec<String>> {
        let mut mentions = Vec::new();
        for name in mentioned_names(text).into_iter().take(MAX_MENTIONS) {
            let everyone = match name {
                "here" => Some(MENTION_HERE),
                "all" => Some(MENTION_ALL),
                _ => None,
            };
            match everyone {
                Some(token) if author.role >= Role::Admin => mentions.push(token.to_string()),
                // `@here`/`@all` by a member is just text.
                Some(_) => {}
                None if name == author.user_id => {}
                None => {
                    if self.store.get_member(conversation.id, name).await?.is_some() {
                        mentions.push(name.to_string());
                    }
                }
            }
        }
        Ok(mentions)
    }
}

/// The names written as `@name`, in order, each once. A mention starts at the start of the
/// text or after a character that is not a letter or digit (so `bob@example.com` is no
/// mention), and runs over the characters user ids are made of; a trailing `.` or `:`
/// (end of a sentence, "@bob: ...") is not part of it.
pub(super) fn mentioned_names(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts = c == '@' && previous.is_none_or(|p| !p.is_alphanumeric());
        previous = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[at + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "._@:+-".contains(c)))
            .unwrap_or(rest.len());
        let name = rest[..end].trim_end_matches(['.', ':']);
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::mentioned_names;

    #[test]
    fn names_are_found_where_a_mention_can_start() {
        assert_eq!(mentioned_names("@bob hi"), ["bob"]);
        assert_eq!(mentioned_names("hi @bob. and @carol: and @bob"), ["bob", "carol"]);
        assert_eq!(mentioned_names("(@dave) @all"), ["dave", "all"]);
        assert_eq!(
            mentioned_names("mail bob@example.com or @e.f@example.com"),
            ["e.f@example.com"]
        );
        assert!(mentioned_names("@ alone, and a@b").is_empty());
    }
}
