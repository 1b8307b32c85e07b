//! Answering a search: which conversations a caller may search (their own, in their org),
//! and the messages the index matched, read back from the Store so that a hit is always
//! the message as it is now. Used by controllers with their own index and by the indexer.

use std::sync::Arc;

use super::{IndexQuery, PageStart, SearchIndex, SearchOrder, SnippetPart};
use crate::error::{ChatError, ChatResult};
use crate::model::{ConversationId, Message};
use crate::store::Store;
use crate::validate::{self, Violations};

/// Default and largest page of Search.
const SEARCH_PAGE: (usize, usize) = (20, 100);
/// Longest query, in characters.
const MAX_QUERY_CHARS: usize = 500;
/// Deepest relevance page start (tantivy keeps every skipped hit in memory).
const MAX_SKIP: usize = 10_000;

/// What Search asks for.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    pub conversation: Option<ConversationId>,
    pub from: Option<String>,
    pub after_ms: Option<i64>,
    pub before_ms: Option<i64>,
    pub order: SearchOrder,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// A message found, with its snippet.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub message: Message,
    pub snippet: Vec<SnippetPart>,
    pub score: f32,
}

/// Answers searches from an index, checking membership in a Store.
#[derive(Clone)]
pub struct Searcher {
    store: Arc<dyn Store>,
    index: Arc<SearchIndex>,
}

impl Searcher {
    pub fn new(store: Arc<dyn Store>, index: Arc<SearchIndex>) -> Searcher {
        Searcher { store, index }
    }

    /// One page of the messages of `user` (in `org`) matching the query, and the cursor of
    /// the next page (None on the last).
    pub async fn search(
        &self,
        org: &str,
        user: &str,
        request: SearchRequest,
    ) -> ChatResult<(Vec<SearchHit>, Option<String>)> {
        let limit = validate::page_size(request.limit, SEARCH_PAGE.0, SEARCH_PAGE.1)?;
        let mut violations = Violations::new();
        violations.check("query", check_query(&request.query));
        if let Some(from) = &request.from {
            violations.check("from", validate::check_user_id(from));
        }
        if let (Some(after), Some(before)) = (request.after_ms, request.before_ms)
            && after >= before
        {
            violations.check("after_ms", Err("must be earlier than `before_ms`".into()));
        }
        let start = match &request.cursor {
            None => Ok(PageStart::First),
            Some(cursor) => parse_cursor(cursor, request.order),
        };
        violations.check("cursor", start.clone().map(|_| ()));
        violations.finish()?;
        let start = start.expect("checked above");
        let conversations = match request.conversation {
            Some(id) => {
                crate::access::membership(&*self.store, org, user, id).await?;
                vec![id]
            }
            None => crate::store::user_conversations(&*self.store, org, user).await?,
        };
        let index = self.index.clone();
        let query = IndexQuery {
            text: request.query,
            org: org.to_string(),
            user: user.to_string(),
            conversations,
            from: request.from,
            after_ms: request.after_ms,
            before_ms: request.before_ms,
            order: request.order,
            start,
            limit,
        };
        let (found, more) = tokio::task::spawn_blocking(move || index.search(&query))
            .await
            .map_err(|e| ChatError::Unavailable(format!("search failed: {e}")))??;
        let next = match (more, found.last()) {
            (false, _) | (_, None) => None,
            (true, Some(last)) => Some(match request.order {
                SearchOrder::NewestFirst => format!("below:{}", last.message_id),
                SearchOrder::MostRelevant => {
                    let skipped = match start {
                        PageStart::Skip(n) => n,
                        _ => 0,
                    };
                    format!("skip:{}", skipped + found.len())
                }
            }),
        };
        let mut hits = Vec::with_capacity(found.len());
        for hit in found {
            // The index may lag a change by a moment: the Store has the last word.
            match self.store.get_message(hit.channel_id, hit.message_id).await? {
                Some(message) if !message.deleted && message.visible_to(user) => {
                    hits.push(SearchHit { message, snippet: hit.snippet, score: hit.score });
                }
                _ => {}
            }
        }
        Ok((hits, next))
    }
}

fn check_query(query: &str) -> Result<(), String> {
    if query.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(format!("must be at most {MAX_QUERY_CHARS} characters"));
    }
    Ok(())
}

/// `below:<message id>` for newest-first pages, `skip:<hits>` for relevance pages.
fn parse_cursor(cursor: &str, order: SearchOrder) -> Result<PageStart, String> {
    let parsed = match (order, cursor.split_once(':')) {
        (SearchOrder::NewestFirst, Some(("below", id))) => id.parse().ok().map(PageStart::Below),
        (SearchOrder::MostRelevant, Some(("skip", n))) => match n.parse() {
            Ok(n) if n <= MAX_SKIP => Some(PageStart::Skip(n)),
            Ok(_) => return Err(format!("relevance pages end after {MAX_SKIP} hits")),
            Err(_) => None,
        },
        _ => None,
    };
    parsed.ok_or_else(|| "not a cursor of this search order".into())
}
