//! The gRPC face of the controller: authentication per call, proto ↔ domain conversion,
//! and the tonic service implementations.

mod admin;
mod api;
mod chat;
mod fanout;
mod files;
mod indexer;
mod people;
mod search;
mod search_route;

pub use admin::AdminApi;
pub use api::ChatApi;
pub use fanout::FanoutApi;
pub use files::FilesApi;
pub use indexer::{IndexerApi, RemoteIndexer};
pub use people::PeopleApi;
pub use search_route::SearchRoute;
