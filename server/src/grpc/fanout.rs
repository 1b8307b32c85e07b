//! `switchboard.v1.Fanout`: the internal stream each relay holds to a controller. Opened
//! only with the cluster's service credential. Served by `switchboard_proto::encoded`
//! instead of by the generated server, like the relay's `Realtime`, for fan-out: the hub
//! encodes each event once and queues the same bytes on every relay stream that wants it.

use std::sync::Arc;

use switchboard_proto::encoded::{EncodedStream, StreamMethod};
use switchboard_proto::status;
use switchboard_proto::v1::{self as pb, relay_frame::Kind};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::auth::ServiceCredential;
use crate::chat::ChatService;
use crate::realtime::{FanoutHub, RelayId, Topic};

#[derive(Clone)]
pub struct FanoutApi {
    /// Presence reports go to the domain service.
    chat: Arc<ChatService>,
    /// Where relay streams register their topics.
    hub: Arc<FanoutHub>,
    /// The relays' shared secret; None refuses every relay.
    credential: Option<ServiceCredential>,
}

impl FanoutApi {
    pub fn new(
        chat: Arc<ChatService>,
        hub: Arc<FanoutHub>,
        credential: Option<ServiceCredential>,
    ) -> Self {
        FanoutApi { chat, hub, credential }
    }
}

impl StreamMethod for FanoutApi {
    const SERVICE: &'static str = "switchboard.v1.Fanout";
    const PATH: &'static str = "/switchboard.v1.Fanout/Stream";
    type Incoming = pb::RelayFrame;

    /// Sends the relay encoded `FanoutFrame`s.
    async fn open(
        &self,
        request: Request<Streaming<pb::RelayFrame>>,
    ) -> Result<Response<EncodedStream>, Status> {
        let credential = self.credential.as_ref().ok_or_else(|| {
            status::unauthenticated("this controller has no service credential configured")
        })?;
        credential.check(request.metadata())?;
        let (relay, outgoing, cut) = self.hub.attach().await;
        tracing::info!(relay, "relay attached");
        let mut incoming = request.into_inner();
        let (chat, hub) = (self.chat.clone(), self.hub.clone());
        tokio::spawn(async move {
            loop {
                let frame = tokio::select! {
                    () = cut.cancelled() => break,
                    frame = incoming.message() => frame,
                };
                match frame {
                    Ok(Some(frame)) => handle(&chat, &hub, relay, frame).await,
                    Ok(None) => break,
                    Err(status) => {
                        tracing::info!(relay, %status, "relay stream broke");
                        break;
                    }
                }
            }
            hub.detach(relay).await;
            chat.presence.relay_gone(relay).await;
            tracing::info!(relay, "relay detached");
        });
        // Ends when the hub drops the relay (detached, or cut off for being slow).
        Ok(Response::new(Box::pin(ReceiverStream::new(outgoing).map(Ok))))
    }
}

async fn handle(
    chat: &Arc<ChatService>,
    hub: &Arc<FanoutHub>,
    relay: RelayId,
    frame: pb::RelayFrame,
) {
    match frame.kind {
        Some(Kind::Subscribe(request)) => {
            let topics = request.topics.iter().filter_map(Topic::from_proto).collect();
            let pass_on_joins = !request.without_joins;
            if let Err(error) =
                hub.subscribe(relay, topics, request.request_id, pass_on_joins).await
            {
                tracing::warn!(relay, %error, "subscribe failed; dropping the relay to resync");
                hub.detach(relay).await;
            }
        }
        Some(Kind::Unsubscribe(request)) => {
            let topics: Vec<Topic> = request.topics.iter().filter_map(Topic::from_proto).collect();
            hub.unsubscribe(relay, &topics).await;
        }
        Some(Kind::Presence(report)) => {
            let (org, user) = (&report.org, &report.user_id);
            chat.presence
                .report_presence(relay, org, user, report.online, report.follows_all)
                .await;
            if report.online {
                // Not waited for: it may read and write the store.
                let chat = chat.clone();
                tokio::spawn(async move {
                    let (org, user, name) = (&report.org, &report.user_id, &report.name);
                    chat.profiles.first_stream(org, user, name).await;
                });
            }
        }
        Some(Kind::Report(report)) => hub.report_arrived(report),
        // Not waited for: the relay's later frames (its subscribes) go on meanwhile.
        Some(Kind::ReadChanges(request)) => {
            let hub = hub.clone();
            tokio::spawn(async move { hub.read_for_relay(relay, request).await });
        }
        Some(Kind::KeptApart(query)) => {
            let (chat, hub) = (chat.clone(), hub.clone());
            tokio::spawn(async move {
                let pb::KeptApartQuery { request_id, org, user_id } = query;
                let user_ids = match chat.relations.kept_apart(&org, &user_id).await {
                    Ok(users) => users,
                    Err(error) => {
                        tracing::warn!(%error, org, user_id, "could not read a user's blocks");
                        Vec::new()
                    }
                };
                let answer = pb::KeptApart { request_id, user_ids };
                hub.answer(relay, pb::fanout_frame::Kind::KeptApart(answer)).await;
            });
        }
        None => {}
    }
}
