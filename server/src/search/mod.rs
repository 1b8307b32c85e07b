//! Full-text search of message text: a tantivy index in the data directory, kept up to
//! date from the Store's change feed by the [`FeedIndexer`], queried by `Chat.Search`.

mod applier;
mod feed_indexer;
mod index;
mod prefixes;
mod searcher;
mod stream;

pub use feed_indexer::FeedIndexer;
pub use index::{IndexHit, IndexQuery, PageStart, SearchIndex, SearchOrder, SnippetPart};
pub use searcher::{SearchHit, SearchRequest, Searcher};
pub use stream::{MESSAGE_STREAM, StreamIndexer, open_message_stream};

use crate::error::ChatError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(String),
    #[error("search query: {0}")]
    BadQuery(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SearchError> for ChatError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::BadQuery(why) => ChatError::invalid("query", why),
            SearchError::Store(store) => store.into(),
            SearchError::Index(why) => {
                tracing::error!(error = %why, "search index failure");
                ChatError::Unavailable("search is unavailable; retry later".into())
            }
        }
    }
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(error: tantivy::TantivyError) -> Self {
        SearchError::Index(error.to_string())
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for SearchError {
    fn from(error: tantivy::directory::error::OpenDirectoryError) -> Self {
        SearchError::Index(error.to_string())
    }
}
