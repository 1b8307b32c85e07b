//! Where a node sends a Search: its own index, the cluster's search indexer, or nowhere
//! (decided once, when the controller is built).

use switchboard_proto::v1 as pb;
use tonic::Status;

use super::indexer::RemoteIndexer;
use super::search;
use crate::auth::Caller;
use crate::error::ChatError;
use crate::search::Searcher;

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
    ) -> Result<pb::SearchResponse, Status> {
        let searcher = match self {
            SearchRoute::Local(searcher) => searcher,
            SearchRoute::Remote(indexer) => {
                return indexer.search(caller, request).await;
            }
            SearchRoute::Off => {
                let off = ChatError::Unavailable("search is not enabled on this node".into());
                return Err(off.into());
            }
        };
        let (hits, next) =
            searcher.search(&caller.org, &caller.user, search::request(request)?).await?;
        Ok(search::response(hits, next))
    }
}
