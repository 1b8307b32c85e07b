//! The directory (People.SearchUsers): the org's users whose display name, title or user
//! id has a word starting with each word of the query. The store keeps one entry per word
//! of each profile, ordered by (word, user); a search reads the range of its longest
//! word's prefix and keeps a user's entry only for the first of their words that matches
//! (so each user comes once across pages) and only if their other words match the rest.
//! The entries it returns are checked against the profiles: one a concurrent change left
//! behind is skipped and removed.

use std::sync::Arc;

use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::model::{DirectoryEntry, ProfileView, directory_terms, words};
use crate::store::Store;
use crate::validate;

use super::profiles::seen_by;

/// Default and largest page of SearchUsers.
const SEARCH_PAGE: (usize, usize) = (20, 100);
/// Longest query (characters), and most words in one.
const MAX_QUERY_CHARS: usize = 100;
const MAX_QUERY_WORDS: usize = 8;
/// Directory entries one call looks through at most: a query whose words rarely match
/// together answers with fewer users and a token to go on.
const MAX_SCANNED: usize = 2_000;
/// Entries read from the store at once.
const SCAN_BATCH: usize = 200;

pub struct Directory {
    pub(super) store: Arc<dyn Store>,
}

/// One page of a search.
#[derive(Debug)]
pub struct DirectoryPage {
    pub users: Vec<ProfileView>,
    /// Empty after the last page.
    pub next_page_token: String,
}

/// What a search looks for: the longest word is read as a range, the others filter.
struct Query {
    scanned: String,
    others: Vec<String>,
}

impl Query {
    fn parse(query: &str) -> ChatResult<Query> {
        let chars = query.chars().count();
        if chars > MAX_QUERY_CHARS {
            let why = format!("must be at most {MAX_QUERY_CHARS} characters, got {chars}");
            return Err(ChatError::invalid("query", why));
        }
        let mut words: Vec<String> = words(query).collect();
        if words.is_empty() {
            return Err(ChatError::invalid("query", "must have at least one letter or digit"));
        }
        if words.len() > MAX_QUERY_WORDS {
            let why = format!("must have at most {MAX_QUERY_WORDS} words, got {}", words.len());
            return Err(ChatError::invalid("query", why));
        }
        let longest = (0..words.len()).max_by_key(|at| (words[*at].len(), usize::MAX - at));
        let scanned = words.remove(longest.unwrap_or(0));
        Ok(Query { scanned, others: words })
    }

    /// Whether the user these `terms` are of is found by `term`: it is the first of their
    /// terms the scanned word starts, and each other word starts one of them.
    fn finds(&self, term: &str, terms: &[String]) -> bool {
        let first = terms.iter().filter(|t| t.starts_with(&self.scanned)).min();
        first.is_some_and(|first| first == term)
            && self.others.iter().all(|word| terms.iter().any(|t| t.starts_with(word.as_str())))
    }
}

impl Directory {
    /// SearchUsers: a page of the caller's org's users `query` finds, after `page_token`.
    pub async fn search(
        &self,
        caller: &Caller,
        query: &str,
        limit: u32,
        page_token: &str,
    ) -> ChatResult<DirectoryPage> {
        let limit = validate::page_size(limit, SEARCH_PAGE.0, SEARCH_PAGE.1)?;
        let query = Query::parse(query)?;
        let mut cursor = cursor_of(page_token, &query.scanned)?;
        let mut found = Vec::new();
        let mut scanned = 0;
        let more = loop {
            let after = cursor.as_ref().map(|(term, user)| (term.as_str(), user.as_str()));
            let batch =
                self.store.scan_directory(&caller.org, &query.scanned, after, SCAN_BATCH).await?;
            let exhausted = batch.len() < SCAN_BATCH;
            for entry in batch {
                scanned += 1;
                cursor = Some((entry.term.clone(), entry.user.clone()));
                let terms = directory_terms(&entry.user, &entry.display_name, &entry.title);
                if query.finds(&entry.term, &terms) {
                    found.push(entry);
                    if found.len() == limit {
                        break;
                    }
                }
            }
            if found.len() == limit || scanned >= MAX_SCANNED {
                break true;
            }
            if exhausted {
                break false;
            }
        };
        let users = self.checked(caller, &query, found).await?;
        let next_page_token = match (more, cursor) {
            (true, Some((term, user))) => token_of(&term, &user),
            _ => String::new(),
        };
        Ok(DirectoryPage { users, next_page_token })
    }

    /// The profiles of the entries found, skipping (and removing) entries a concurrent
    /// change of their profile left behind.
    async fn checked(
        &self,
        caller: &Caller,
        query: &Query,
        found: Vec<DirectoryEntry>,
    ) -> ChatResult<Vec<ProfileView>> {
        let mut users = Vec::with_capacity(found.len());
        for entry in found {
            let profile = self.store.get_profile(&caller.org, &entry.user).await?;
            let current = profile.as_ref().map(|p| p.directory_terms()).unwrap_or_default();
            if !current.contains(&entry.term) {
                let (org, term, user) = (&caller.org, &entry.term, &entry.user);
                if let Err(error) = self.store.remove_directory_entry(org, term, user).await {
                    tracing::warn!(%error, org, user, term, "could not remove a stale directory entry");
                }
                continue;
            }
            if query.finds(&entry.term, &current) {
                users.push(seen_by(caller, &entry.user, profile));
            }
        }
        Ok(users)
    }
}

/// A page token: where the previous page stopped, as hex of `term NUL user`.
fn token_of(term: &str, user: &str) -> String {
    let mut bytes = term.as_bytes().to_vec();
    bytes.push(0);
    bytes.extend_from_slice(user.as_bytes());
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The place a page token names, checked to belong to a search for `scanned`.
fn cursor_of(token: &str, scanned: &str) -> ChatResult<Option<(String, String)>> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = || ChatError::invalid("page_token", "is not a token this search returned");
    if !token.len().is_multiple_of(2) || token.len() > 1_024 {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(token.get(at..at + 2)?, 16).ok())
        .collect();
    let text = String::from_utf8(bytes.ok_or_else(bad)?).map_err(|_| bad())?;
    let (term, user) = text.split_once('\0').ok_or_else(bad)?;
    if !term.starts_with(scanned) || user.is_empty() {
        return Err(bad());
    }
    Ok(Some((term.to_string(), user.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_word_is_read_and_the_others_filter() {
        let query = Query::parse("ali  Liddell").unwrap();
        assert_eq!(
            (query.scanned.as_str(), query.others.as_slice()),
            ("liddell", &["ali".to_string()][..])
        );
        let terms = directory_terms("alice", "Alice Liddell", "");
        assert!(query.finds("liddell", &terms));
        assert!(
            !Query::parse("al").unwrap().finds("alice", &directory_terms("al", "Al Alice", "")),
            "found by `al` first"
        );
        assert!(Query::parse(" !? ").is_err());
    }

    #[test]
    fn page_tokens_round_trip_and_belong_to_their_search() {
        let token = token_of("liddell", "alice");
        assert_eq!(cursor_of(&token, "lid").unwrap(), Some(("liddell".into(), "alice".into())));
        assert!(cursor_of(&token, "bob").is_err(), "another search's token");
        assert!(cursor_of("zz", "lid").is_err());
        assert_eq!(cursor_of("", "lid").unwrap(), None);
    }
}
