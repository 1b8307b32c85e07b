//! `switchboard.v1.Indexer`: the search indexer's service (served by `switchboard
//! indexer`), and the client controllers forward Chat.Search with. Both sides use the
//! cluster's service credential; the user was authenticated by the forwarding controller.

use std::time::Duration;

use switchboard_proto::status;
use switchboard_proto::v1::indexer_client::IndexerClient;
use switchboard_proto::v1::{self as pb, indexer_server::Indexer};
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::{Request, Response, Status};

use super::search;
use crate::auth::{Caller, ServiceCredential};
use crate::search::Searcher;
use crate::validate;

/// The Indexer service over a [`Searcher`].
pub struct IndexerApi {
    searcher: Searcher,
    /// What forwarding controllers must present.
    credential: ServiceCredential,
}

impl IndexerApi {
    pub fn new(searcher: Searcher, credential: ServiceCredential) -> Self {
        IndexerApi { searcher, credential }
    }
}

#[tonic::async_trait]
impl Indexer for IndexerApi {
    async fn search(
        &self,
        request: Request<pb::IndexerSearchRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        self.credential.check(request.metadata())?;
        let r = request.into_inner();
        if validate::check_user_id(&r.org).is_err() || validate::check_user_id(&r.user_id).is_err()
        {
            return Err(status::malformed("a forwarded search names its org and user"));
        }
        let search = search::request(r.request.unwrap_or_default())?;
        let (hits, next) = self.searcher.search(&r.org, &r.user_id, search).await?;
        Ok(Response::new(search::response(hits, next)))
    }
}

/// A controller's link to the search indexer.
#[derive(Clone)]
pub struct RemoteIndexer {
    client: IndexerClient<Channel>,
    /// `Bearer <service credential>`.
    authorization: MetadataValue<tonic::metadata::Ascii>,
}

impl RemoteIndexer {
    /// Connects lazily (the indexer may start after the controller).
    pub fn new(
        url: &str,
        credential: &ServiceCredential,
        tls: Option<ClientTlsConfig>,
    ) -> Result<RemoteIndexer, String> {
        let mut endpoint = Endpoint::from_shared(url.to_string())
            .map_err(|e| format!("search.indexer_url `{url}`: {e}"))?
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(2));
        if let Some(tls) = tls {
            endpoint =
                endpoint.tls_config(tls).map_err(|e| format!("search.indexer_url TLS: {e}"))?;
        }
        let authorization = format!("Bearer {}", credential.bearer())
            .parse()
            .map_err(|_| "the service credential is not ASCII".to_string())?;
        Ok(RemoteIndexer { client: IndexerClient::new(endpoint.connect_lazy()), authorization })
    }

    /// The indexer's answer to the caller's search, errors included as they are.
    pub async fn search(
        &self,
        caller: &Caller,
        request: pb::SearchRequest,
    ) -> Result<pb::SearchResponse, Status> {
        let mut forwarded = Request::new(pb::IndexerSearchRequest {
            org: caller.org.clone(),
            user_id: caller.user.clone(),
            request: Some(request),
        });
        forwarded.metadata_mut().insert("authorization", self.authorization.clone());
        match self.client.clone().search(forwarded).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) if status.code() == tonic::Code::Unavailable => {
                tracing::warn!(%status, "search indexer unavailable");
                Err(status::unavailable(format!(
                    "the search indexer is unavailable; retry later ({})",
                    status.message()
                )))
            }
            Err(status) => Err(status),
        }
    }
}
