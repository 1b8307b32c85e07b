//! Search requests and answers between `switchboard.v1` and the search module, for the
//! Chat API and the indexer's API alike.

use switchboard_proto::v1 as pb;

use crate::convert::{self, nonempty, nonzero};
use crate::error::{ChatError, ChatResult};
use crate::search::{SearchHit, SearchOrder, SearchRequest};

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
