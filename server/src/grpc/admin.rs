//! `switchboard.v1.Admin`: cluster figures and connections, the audit log and the org's
//! filters, for holders of `chat.admin`. Everything but the figures is the caller's org's.

use std::sync::Arc;

use switchboard_proto::v1::{self as pb, admin_server::Admin};
use tonic::{Request, Response, Status};

use crate::auth::{Caller, Scope, TokenVerifier, authenticate};
use crate::chat::{AuditQuery, ChatService, RetentionChange};
use crate::convert::{self, nonempty, nonzero};
use crate::error::ChatError;
use crate::model::{AuditAction, FilterAction, FilterKind};
use crate::report::NodeReporter;
use crate::validate::quoted;

pub struct AdminApi {
    reporter: Arc<NodeReporter>,
    verifier: Arc<TokenVerifier>,
    /// The audit log lives with the domain.
    chat: Arc<ChatService>,
}

impl AdminApi {
    pub fn new(
        reporter: Arc<NodeReporter>,
        verifier: Arc<TokenVerifier>,
        chat: Arc<ChatService>,
    ) -> Self {
        AdminApi { reporter, verifier, chat }
    }

    async fn admin<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        let caller = authenticate(&self.verifier, request.metadata())?;
        caller.require(Scope::Admin)?;
        self.chat.suspensions.refuse_suspended(&caller).await?;
        Ok(caller)
    }
}

#[tonic::async_trait]
impl Admin for AdminApi {
    async fn stats(
        &self,
        request: Request<pb::AdminStatsRequest>,
    ) -> Result<Response<pb::AdminStatsResponse>, Status> {
        self.admin(&request).await?;
        let report = self.reporter.cluster_report(pb::ReportQuery::default()).await;
        let mut relays = report.relays;
        relays.sort_by(|a, b| a.address.cmp(&b.address));
        Ok(Response::new(pb::AdminStatsResponse { controllers: report.controllers, relays }))
    }

    async fn connections(
        &self,
        request: Request<pb::ConnectionsRequest>,
    ) -> Result<Response<pb::ConnectionsResponse>, Status> {
        let caller = self.admin(&request).await?;
        let query = pb::ReportQuery { org: caller.org, user_id: request.into_inner().user_id };
        let mut connections = self.reporter.cluster_report(query).await.connections;
        connections.sort_by(|a, b| (&a.user_id, &a.relay).cmp(&(&b.user_id, &b.relay)));
        Ok(Response::new(pb::ConnectionsResponse { connections }))
    }

    async fn list_audit(
        &self,
        request: Request<pb::ListAuditRequest>,
    ) -> Result<Response<pb::ListAuditResponse>, Status> {
        let caller = self.admin(&request).await?;
        let r = request.into_inner();
        let action = match nonempty(r.action) {
            None => None,
            Some(name) => Some(AuditAction::from_name(&name).ok_or_else(|| {
                ChatError::invalid("action", format!("{} is not an audited action", quoted(&name)))
            })?),
        };
        let query = AuditQuery {
            since_ms: (r.since_ms != 0).then_some(r.since_ms),
            before_id: nonzero(r.before_id),
            actor: nonempty(r.actor),
            conversation_id: nonzero(r.conversation_id),
            action,
            limit: r.limit,
        };
        let (entries, next) = self.chat.audit.list_audit(&caller, query).await?;
        let entries = entries
            .into_iter()
            .map(|e| pb::AuditEntry {
                id: e.id,
                at_ms: e.at_ms,
                actor: e.actor,
                action: e.action.name().to_string(),
                conversation_id: e.conversation_id,
                target: e.target,
                detail: e.detail,
            })
            .collect();
        Ok(Response::new(pb::ListAuditResponse { entries, next_before_id: next.unwrap_or(0) }))
    }

    async fn create_filter(
        &self,
        request: Request<pb::CreateFilterRequest>,
    ) -> Result<Response<pb::Filter>, Status> {
        let caller = self.admin(&request).await?;
        let r = request.into_inner();
        let kind = match pb::FilterKind::try_from(r.kind) {
            Ok(pb::FilterKind::Word) => FilterKind::Word,
            Ok(pb::FilterKind::Regex) => FilterKind::Regex,
            _ => return Err(ChatError::invalid("kind", "must be WORD or REGEX").into()),
        };
        let action = match pb::FilterAction::try_from(r.action) {
            Ok(pb::FilterAction::Refuse) => FilterAction::Refuse,
            Ok(pb::FilterAction::Flag) => FilterAction::Flag,
            _ => return Err(ChatError::invalid("action", "must be REFUSE or FLAG").into()),
        };
        let filter = self.chat.filters.create(&caller, kind, &r.pattern, action).await?;
        Ok(Response::new(convert::filter(filter)))
    }

    async fn delete_filter(
        &self,
        request: Request<pb::DeleteFilterRequest>,
    ) -> Result<Response<pb::DeleteFilterResponse>, Status> {
        let caller = self.admin(&request).await?;
        let deleted = self.chat.filters.delete(&caller, request.into_inner().id).await?;
        Ok(Response::new(pb::DeleteFilterResponse { deleted }))
    }

    async fn list_filters(
        &self,
        request: Request<pb::ListFiltersRequest>,
    ) -> Result<Response<pb::ListFiltersResponse>, Status> {
        let caller = self.admin(&request).await?;
        let filters = self.chat.filters.list(&caller).await?;
        let filters = filters.into_iter().map(convert::filter).collect();
        Ok(Response::new(pb::ListFiltersResponse { filters }))
    }

    async fn suspend_user(
        &self,
        request: Request<pb::SuspendUserRequest>,
    ) -> Result<Response<pb::Suspension>, Status> {
        let caller = self.admin(&request).await?;
        let r = request.into_inner();
        let suspension = self.chat.suspensions.suspend(&caller, &r.user_id, &r.reason).await?;
        Ok(Response::new(convert::suspension(suspension)))
    }

    async fn unsuspend_user(
        &self,
        request: Request<pb::UnsuspendUserRequest>,
    ) -> Result<Response<pb::UnsuspendUserResponse>, Status> {
        let caller = self.admin(&request).await?;
        let user = request.into_inner().user_id;
        let unsuspended = self.chat.suspensions.unsuspend(&caller, &user).await?;
        Ok(Response::new(pb::UnsuspendUserResponse { unsuspended }))
    }

    async fn list_suspensions(
        &self,
        request: Request<pb::ListSuspensionsRequest>,
    ) -> Result<Response<pb::ListSuspensionsResponse>, Status> {
        let caller = self.admin(&request).await?;
        let r = request.into_inner();
        let (page, next_after) = self.chat.suspensions.list(&caller, &r.after, r.limit).await?;
        let suspensions = page.into_iter().map(convert::suspension).collect();
        Ok(Response::new(pb::ListSuspensionsResponse { suspensions, next_after }))
    }

    async fn erase_user(
        &self,
        request: Request<pb::EraseUserRequest>,
    ) -> Result<Response<pb::Job>, Status> {
        let caller = self.admin(&request).await?;
        let r = request.into_inner();
        let job = self.chat.erase_user(&caller, &r.user_id, &r.reason).await?;
        Ok(Response::new(convert::job(job, None)))
    }

    async fn export_user(
        &self,
        request: Request<pb::ExportUserRequest>,
    ) -> Result<Response<pb::Job>, Status> {
        let caller = self.admin(&request).await?;
        let job = self.chat.export_user(&caller, &request.into_inner().user_id).await?;
        Ok(Response::new(convert::job(job, None)))
    }

    async fn export_conversation(
        &self,
        request: Request<pb::ExportConversationRequest>,
    ) -> Result<Response<pb::Job>, Status> {
        let caller = self.admin(&request).await?;
        let id = request.into_inner().conversation_id;
        let job = self.chat.export_conversation(&caller, id).await?;
        Ok(Response::new(convert::job(job, None)))
    }

    async fn get_job(
        &self,
        request: Request<pb::GetJobRequest>,
    ) -> Result<Response<pb::Job>, Status> {
        let caller = self.admin(&request).await?;
        let job = self.chat.jobs.get(&caller, request.into_inner().job_id).await?;
        let url = self.chat.download_url(&job).await?;
        Ok(Response::new(convert::job(job, url)))
    }

    async fn list_jobs(
        &self,
        request: Request<pb::ListJobsRequest>,
    ) -> Result<Response<pb::ListJobsResponse>, Status> {
        let caller = self.admin(&request).await?;
        let r = request.into_inner();
        let before = (r.before_id > 0).then_some(r.before_id);
        let (page, next) = self.chat.jobs.list(&caller, before, r.limit).await?;
        let jobs = page.into_iter().map(|job| convert::job(job, None)).collect();
        Ok(Response::new(pb::ListJobsResponse { jobs, next_before_id: next.unwrap_or(0) }))
    }

    async fn set_retention(
        &self,
        request: Request<pb::SetRetentionRequest>,
    ) -> Result<Response<pb::RetentionPolicy>, Status> {
        let caller = self.admin(&request).await?;
        let r = request.into_inner();
        let change = match (r.follow_org, r.keep_days) {
            (false, days) => RetentionChange::Keep((days > 0).then_some(days)),
            (true, 0) => RetentionChange::FollowOrg,
            (true, _) => {
                let why = "a conversation that follows the org's policy keeps no days of its own";
                return Err(ChatError::invalid("keep_days", why).into());
            }
        };
        let (policy, job) = self.chat.set_retention(&caller, r.conversation_id, change).await?;
        Ok(Response::new(convert::retention(policy, job.map_or(0, |job| job.id))))
    }

    async fn get_retention(
        &self,
        request: Request<pb::GetRetentionRequest>,
    ) -> Result<Response<pb::RetentionPolicy>, Status> {
        let caller = self.admin(&request).await?;
        Ok(Response::new(convert::retention(self.chat.retention.get(&caller).await?, 0)))
    }
}
