//! `switchboard.v1.Admin`: cluster figures and connections, for holders of `chat.admin`.
//! Connections are the caller's org's only.

use std::sync::Arc;

use switchboard_proto::v1::{self as pb, admin_server::Admin};
use tonic::{Request, Response, Status};

use crate::auth::{Caller, Scope, TokenVerifier, authenticate};
use crate::report::NodeReporter;

pub struct AdminApi {
    reporter: Arc<NodeReporter>,
    verifier: Arc<TokenVerifier>,
}

impl AdminApi {
    pub fn new(reporter: Arc<NodeReporter>, verifier: Arc<TokenVerifier>) -> Self {
        AdminApi { reporter, verifier }
    }

    fn admin<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        let caller = authenticate(&self.verifier, request.metadata())?;
        caller.require(Scope::Admin)?;
        Ok(caller)
    }
}

#[tonic::async_trait]
impl Admin for AdminApi {
    async fn stats(
        &self,
        request: Request<pb::AdminStatsRequest>,
    ) -> Result<Response<pb::AdminStatsResponse>, Status> {
        self.admin(&request)?;
        let report = self.reporter.cluster_report(pb::ReportQuery::default()).await;
        let mut relays = report.relays;
        relays.sort_by(|a, b| a.address.cmp(&b.address));
        Ok(Response::new(pb::AdminStatsResponse { controllers: report.controllers, relays }))
    }

    async fn connections(
        &self,
        request: Request<pb::ConnectionsRequest>,
    ) -> Result<Response<pb::ConnectionsResponse>, Status> {
        let caller = self.admin(&request)?;
        let query = pb::ReportQuery { org: caller.org, user_id: request.into_inner().user_id };
        let mut connections = self.reporter.cluster_report(query).await.connections;
        connections.sort_by(|a, b| (&a.user_id, &a.relay).cmp(&(&b.user_id, &b.relay)));
        Ok(Response::new(pb::ConnectionsResponse { connections }))
    }
}
