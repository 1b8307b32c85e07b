//! Search requests and answers between `switchboard.v1` and the search module, for the
//! Chat API and the indexer's API alike, and where a node sends a Search.

use switchboard_proto::v1 as pb;
use tonic::Response;

use super::api::{Reply, reply};
use super::indexer::RemoteIndexer;
use crate::auth::Caller;

use crate::convert::{self, nonempty, nonzero};
use crate::error::{ChatError, ChatResult};
use crate::search::{SearchHit, SearchOrder, SearchRequest, Searcher};

/// Where Search goes, decided once when the controller is built.
pub enum SearchRoute {
    /// This node's index.
    Local(Searcher),
    /// The cluster's search indexer (the request is forwarded as it came).
    Remote(RemoteIndexer),
    /// Search is off on this node.
    Off,
}

impl SearchRoute {
    /// Answers a caller's Search where this node sends it.
    pub(super) async fn search(
        &self,
        caller: &Caller,
        request: pb::SearchRequest,
    ) -> Reply<pb::SearchResponse> {
        let searcher = match self {
            SearchRoute::Local(searcher) => searcher,
            SearchRoute::Remote(indexer) => {
                return indexer.search(caller, request).await.map(Response::new);
            }
            SearchRoute::Off => {
                let off = ChatError::Unavailable("search is not enabled on this node".into());
                return Err(off.into());
            }
        };
        let (hits, next) =
            searcher.search(&caller.org, &caller.user, self::request(request)?).await?;
        reply(response(hits, next))
    }
}

pub(super) fn request(r: pb::SearchRequest) -> ChatResult<SearchRequest> {
    let order = match pb::SearchOrder::try_from(r.order) {
        Ok(pb::SearchOrder::Newest) => SearchOrder::NewestFirst,
        Ok(pb::SearchOrder::Relevance) => SearchOrder::MostRelevant,
        Err(_) => return Err(ChatError::invalid("order", format!("unknown order {}", r.order))),
    };
    Ok(SearchRequest {
        query: r.query,
        conversation: nonzero(r.conversation_id),
        from: nonempty(r.from),
        after_ms: (r.after_ms != 0).then_some(r.after_ms),
        before_ms: (r.before_ms != 0).then_some(r.before_ms),
        order,
        limit: r.limit,
        cursor: nonempty(r.cursor),
    })
}

pub(super) fn response(hits: Vec<SearchHit>, next: Option<String>) -> pb::SearchResponse {
    pb::SearchResponse {
        hits: hits.into_iter().map(hit).collect(),
        next_cursor: next.unwrap_or_default(),
    }
}

fn hit(hit: SearchHit) -> pb::SearchHit {
    pb::SearchHit {
        message: Some(convert::message(hit.message)),
        snippet: hit
            .snippet
            .into_iter()
            .map(|p| pb::SnippetPart { text: p.text, highlighted: p.highlighted })
            .collect(),
        score: hit.score,
    }
}
