//! `ChatApi`: what every Chat, Files and People call goes through before the domain:
//! admission (at most `limits.max_concurrent_requests` calls at once), the caller's token
//! and scope, their suspension, and for writes the caller's write rate.

use std::sync::Arc;

use switchboard_proto::status;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Request, Response, Status};

use super::search_route::SearchRoute;
use crate::auth::{Caller, Scope, TokenVerifier, authenticate};
use crate::chat::ChatService;

/// The Chat service as served over gRPC.
#[derive(Clone)]
pub struct ChatApi {
    /// The domain service every call ends up in.
    pub(super) chat: Arc<ChatService>,
    /// Verifies the bearer token of every call.
    verifier: Arc<TokenVerifier>,
    /// Calls in progress, at most `limits.max_concurrent_requests`: past that, new calls
    /// are shed at once with UNAVAILABLE instead of queueing (health checks and relay
    /// streams are other services and stay up).
    in_flight: Arc<Semaphore>,
    /// Where Search goes.
    pub(super) search: Arc<SearchRoute>,
}

impl ChatApi {
    pub fn new(
        chat: Arc<ChatService>,
        verifier: Arc<TokenVerifier>,
        max_in_flight: usize,
        search: SearchRoute,
    ) -> Self {
        let in_flight = Arc::new(Semaphore::new(max_in_flight));
        ChatApi { chat, verifier, in_flight, search: Arc::new(search) }
    }

    /// Admits the call and returns the verified caller, if their token carries `scope`.
    /// The permit is held until the call returns.
    pub(super) async fn caller<T>(
        &self,
        request: &Request<T>,
        scope: Scope,
    ) -> Result<(Caller, OwnedSemaphorePermit), Status> {
        let (caller, admitted) = self.anyone(request).await?;
        caller.require(scope)?;
        Ok((caller, admitted))
    }

    /// [`Self::caller`] for a call that writes: also within the caller's write rate.
    pub(super) async fn writer<T>(
        &self,
        request: &Request<T>,
        scope: Scope,
    ) -> Result<(Caller, OwnedSemaphorePermit), Status> {
        let (caller, admitted) = self.caller(request, scope).await?;
        self.chat.admit_write(&caller)?;
        Ok((caller, admitted))
    }

    /// Admits the call and returns the verified caller, whatever their scopes (unless they
    /// are suspended): for Files calls, whose scope the domain checks by what they touch
    /// (a message's file needs `chat.files`, an avatar the `user.profile.*` scopes).
    pub(super) async fn anyone<T>(
        &self,
        request: &Request<T>,
    ) -> Result<(Caller, OwnedSemaphorePermit), Status> {
        let admitted = self
            .in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| status::unavailable("the controller is overloaded; retry shortly"))?;
        let caller = authenticate(&self.verifier, request.metadata())?;
        self.chat.suspensions.refuse_suspended(&caller).await?;
        Ok((caller, admitted))
    }

    /// [`Self::anyone`] for a call that writes: also within the caller's write rate.
    pub(super) async fn any_writer<T>(
        &self,
        request: &Request<T>,
    ) -> Result<(Caller, OwnedSemaphorePermit), Status> {
        let (caller, admitted) = self.anyone(request).await?;
        self.chat.admit_write(&caller)?;
        Ok((caller, admitted))
    }
}

pub(super) type Reply<T> = Result<Response<T>, Status>;

pub(super) fn reply<T>(value: T) -> Reply<T> {
    Ok(Response::new(value))
}
