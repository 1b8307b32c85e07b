//! Each org's filters: words and regular expressions that every text message sent or
//! edited in the org is checked against. A match refuses the message (INVALID_ARGUMENT
//! quoting what matched) or flags it for review (audited, and reported to a team's admins).
//!
//! Regexes run on the `regex` crate's engines, which never backtrack: matching takes time
//! linear in the message whatever the pattern, and a pattern that compiles too big is
//! refused when it is added. An org's filters are compiled once into one set and kept; a
//! change applies at once on the controller that made it, and on the others within
//! `RELOAD_AFTER`.

use std::sync::Arc;
use std::time::Duration;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use super::Audit;
use super::org_cache::OrgCache;
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{
    AuditAction, Conversation, Filter, FilterAction, FilterKind, Message, Report, ReportState,
};
use crate::store::Store;

/// Most filters of one org.
pub const MAX_FILTERS: usize = 500;
/// Longest word or phrase, and longest regex, in characters.
const MAX_WORD_CHARS: usize = 100;
const MAX_REGEX_CHARS: usize = 500;
/// How big one pattern, and an org's whole set, may compile (bytes of the compiled
/// program), and how much memory each may use for its lazy DFA.
const PATTERN_SIZE_LIMIT: usize = 256 * 1024;
const SET_SIZE_LIMIT: usize = 8 * 1024 * 1024;
const DFA_SIZE_LIMIT: usize = 2 * 1024 * 1024;
/// How long a controller keeps an org's compiled filters before reading them again.
pub(super) const RELOAD_AFTER: Duration = Duration::from_secs(30);
/// Longest quote of what matched, in characters.
const MAX_QUOTE_CHARS: usize = 60;

pub struct Filters {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    pub(super) audit: Arc<Audit>,
    pub(super) compiled: OrgCache<Compiled>,
}

/// A message a flagging filter matched, and what it matched.
pub(super) struct Flagged {
    filter: Filter,
    matched: String,
}

/// An org's filters, compiled: one set to find which match, and each alone to quote it.
pub(super) struct Compiled {
    filters: Vec<Filter>,
    set: Option<RegexSet>,
    each: Vec<Regex>,
}

impl Filters {
    /// CreateFilter: adds a filter to the caller's org (the caller holds `chat.admin`).
    pub async fn create(
        &self,
        caller: &Caller,
        kind: FilterKind,
        pattern: &str,
        action: FilterAction,
    ) -> ChatResult<Filter> {
        let pattern = match kind {
            FilterKind::Word => pattern.trim(),
            FilterKind::Regex => pattern,
        };
        let longest = match kind {
            FilterKind::Word => MAX_WORD_CHARS,
            FilterKind::Regex => MAX_REGEX_CHARS,
        };
        let chars = pattern.chars().count();
        if chars == 0 || chars > longest || pattern.chars().any(char::is_control) {
            let why = format!("must be 1 to {longest} characters without control characters");
            return Err(ChatError::invalid("pattern", why));
        }
        let new = source(kind, pattern);
        compile(&new)
            .map_err(|why| ChatError::invalid("pattern", format!("does not compile: {why}")))?;
        let existing = self.store.list_filters(&caller.org, MAX_FILTERS).await?;
        if existing.len() >= MAX_FILTERS {
            return Err(ChatError::precondition(format!(
                "the org has {MAX_FILTERS} filters, the most it may; delete some first"
            )));
        }
        let sources = existing.iter().map(|f| source(f.kind, &f.pattern)).chain([new]);
        compile_set(sources).map_err(|why| {
            ChatError::precondition(format!("the org's filters would compile too big: {why}"))
        })?;
        let filter = Filter {
            org: caller.org.clone(),
            id: self.ids.next_id(),
            kind,
            pattern: pattern.to_string(),
            action,
            created_by: caller.user.clone(),
            created_at_ms: self.ids.now_ms(),
        };
        self.store.put_filter(&filter).await?;
        self.compiled.forget(&caller.org);
        let detail = format!("{} {} {:?}", filter.kind.name(), filter.action.name(), pattern);
        let target = filter.id.to_string();
        self.audit.record(caller, AuditAction::FilterCreated, 0, &target, detail).await;
        Ok(filter)
    }

    /// DeleteFilter: removes a filter of the caller's org; whether there was one.
    pub async fn delete(&self, caller: &Caller, id: u64) -> ChatResult<bool> {
        let filters = self.store.list_filters(&caller.org, MAX_FILTERS).await?;
        let Some(filter) = filters.into_iter().find(|f| f.id == id) else {
            return Ok(false);
        };
        let deleted = self.store.remove_filter(&caller.org, id).await?;
        self.compiled.forget(&caller.org);
        if deleted {
            let detail =
                format!("{} {} {:?}", filter.kind.name(), filter.action.name(), filter.pattern);
            self.audit.record(caller, AuditAction::FilterDeleted, 0, &id.to_string(), detail).await;
        }
        Ok(deleted)
    }

    /// ListFilters: the caller's org's filters, oldest first.
    pub async fn list(&self, caller: &Caller) -> ChatResult<Vec<Filter>> {
        Ok(self.store.list_filters(&caller.org, MAX_FILTERS).await?)
    }

    /// Checks a text about to be sent or edited in `org`: INVALID_ARGUMENT quoting what
    /// matched when a refusing filter matches; otherwise the flagging filter that matches,
    /// if one does.
    pub(super) async fn check(&self, org: &str, text: &str) -> ChatResult<Option<Flagged>> {
        let compiled = self.compiled(org).await?;
        let matching = compiled.matching(text);
        let first =
            |action| matching.iter().copied().find(|&i| compiled.filters[i].action == action);
        if let Some(i) = first(FilterAction::Refuse) {
            return Err(ChatError::invalid(
                "data",
                format!("{} is not allowed in this organization", compiled.quote(i, text)),
            ));
        }
        Ok(first(FilterAction::Flag).map(|i| Flagged {
            filter: compiled.filters[i].clone(),
            matched: compiled.quote(i, text),
        }))
    }

    /// Records a message a filter flagged: in the audit log, and in a team or channel as a
    /// report to its admins (with no reporter). A failure is logged; the message stands.
    pub(super) async fn flagged(
        &self,
        caller: &Caller,
        conversation: &Conversation,
        message: &Message,
        flagged: Flagged,
    ) {
        let Flagged { filter, matched } = flagged;
        let reason = format!(
            "filter {} ({} {:?}) matched {matched}",
            filter.id,
            filter.kind.name(),
            filter.pattern
        );
        let target = message.id.to_string();
        let action = AuditAction::MessageFlagged;
        self.audit.record(caller, action, conversation.id, &target, reason.clone()).await;
        if !conversation.kind.is_managed() {
            return;
        }
        let report = Report {
            id: self.ids.next_id(),
            conversation_id: conversation.id,
            message_id: message.id,
            reporter: String::new(),
            reason,
            author: message.from.clone(),
            text: message.data.clone(),
            state: ReportState::Open,
            handled_by: String::new(),
            handled_at_ms: 0,
        };
        if let Err(error) = self.store.put_report(&report).await {
            tracing::warn!(%error, message_id = message.id, "flagged message not reported");
        }
    }

    /// The org's compiled filters, read and compiled again once `RELOAD_AFTER` old.
    async fn compiled(&self, org: &str) -> ChatResult<Arc<Compiled>> {
        if let Some(kept) = self.compiled.fresh(org) {
            return Ok(kept);
        }
        let filters = self.store.list_filters(org, MAX_FILTERS).await?;
        Ok(self.compiled.put(org, Compiled::new(filters)))
    }
}

impl Compiled {
    /// Compiles an org's filters; one that no longer compiles (it did when it was added)
    /// is logged and left out.
    fn new(filters: Vec<Filter>) -> Compiled {
        let mut kept = Vec::with_capacity(filters.len());
        let mut each = Vec::with_capacity(filters.len());
        for filter in filters {
            match compile(&source(filter.kind, &filter.pattern)) {
                Ok(regex) => {
                    kept.push(filter);
                    each.push(regex);
                }
                Err(error) => tracing::error!(%error, id = filter.id, "filter left out"),
            }
        }
        let set = match compile_set(each.iter().map(|r| r.as_str().to_string())) {
            Ok(set) => Some(set),
            Err(error) => {
                tracing::error!(%error, "filters checked one by one: the set compiles too big");
                None
            }
        };
        Compiled { filters: kept, set, each }
    }

    /// The indexes of the filters that match `text`, in creation order.
    fn matching(&self, text: &str) -> Vec<usize> {
        match &self.set {
            Some(set) => set.matches(text).into_iter().collect(),
            None => (0..self.each.len()).filter(|&i| self.each[i].is_match(text)).collect(),
        }
    }

    /// What filter `i` matched in `text`, quoted and shortened.
    fn quote(&self, i: usize, text: &str) -> String {
        let found = self.each[i].find(text).map_or("", |m| m.as_str());
        let mut quote: String = found.chars().take(MAX_QUOTE_CHARS).collect();
        if quote.len() < found.len() {
            quote.push('…');
        }
        format!("{quote:?}")
    }
}

/// A filter as a regex: a word or phrase matches whole (at word boundaries where it starts
/// or ends with a word character) and ignoring case.
fn source(kind: FilterKind, pattern: &str) -> String {
    match kind {
        FilterKind::Regex => pattern.to_string(),
        FilterKind::Word => {
            let word_char = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            let start = if word_char(pattern.chars().next()) { r"\b" } else { "" };
            let end = if word_char(pattern.chars().last()) { r"\b" } else { "" };
            format!("(?i){start}{}{end}", regex::escape(pattern))
        }
    }
}

/// Compiles one pattern within its bounds; the reason it does not, in one line.
fn compile(source: &str) -> Result<Regex, String> {
    RegexBuilder::new(source)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .build()
        .map_err(|error| one_line(&error.to_string()))
}

fn compile_set(sources: impl IntoIterator<Item = String>) -> Result<RegexSet, String> {
    RegexSetBuilder::new(sources)
        .size_limit(SET_SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .build()
        .map_err(|error| one_line(&error.to_string()))
}

/// The last line of a regex error: what is wrong (the lines above repeat the pattern).
fn one_line(error: &str) -> String {
    error.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or(error).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(kind: FilterKind, pattern: &str, action: FilterAction) -> Filter {
        Filter {
            org: "acme".into(),
            id: 1,
            kind,
            pattern: pattern.into(),
            action,
            created_by: "root".into(),
            created_at_ms: 0,
        }
    }

    #[test]
    fn a_word_matches_whole_and_ignoring_case() {
        let words = Compiled::new(vec![
            filter(FilterKind::Word, "spam", FilterAction::Refuse),
            filter(FilterKind::Word, "a.b", FilterAction::Refuse),
            filter(FilterKind::Word, "#tag", FilterAction::Flag),
        ]);
        assert_eq!(words.matching("no SPAM!"), [0]);
        assert!(words.matching("spammer").is_empty());
        assert!(words.matching("axb").is_empty(), "the dot is a dot");
        assert_eq!(words.matching("see a.b"), [1]);
        assert_eq!(words.matching("x#tag"), [2], "no boundary before a non-word character");
        assert_eq!(words.quote(0, "no SPAM!"), "\"SPAM\"");
    }

    #[test]
    fn a_catastrophic_pattern_runs_in_linear_time() {
        // On a backtracking engine each of these takes longer than the universe's age on
        // this input; here each check is a linear scan.
        let patterns = [r"(a+)+$", r"(a|a)*b", r"(a|aa)+$", r"^(\w+\s?)*$"];
        let compiled = Compiled::new(
            patterns.iter().map(|p| filter(FilterKind::Regex, p, FilterAction::Refuse)).collect(),
        );
        let text = format!("{}!", "a".repeat(16_000));
        let started = std::time::Instant::now();
        for _ in 0..10 {
            compiled.matching(&text);
            for i in 0..patterns.len() {
                compiled.quote(i, &text);
            }
        }
        let spent = started.elapsed();
        assert!(spent < Duration::from_secs(5), "10 checks of 16,000 characters took {spent:?}");
    }

    #[test]
    fn a_pattern_that_compiles_too_big_is_refused_in_one_line() {
        let why = compile(r"\w{1000}{1000}").unwrap_err();
        assert!(why.contains("size limit"), "{why}");
        assert!(!why.contains('\n'));
        let why = compile(r"(a").unwrap_err();
        assert_eq!(why, "error: unclosed group");
        assert!(compile(r"(a)\1").is_err(), "no backreferences");
    }
}
