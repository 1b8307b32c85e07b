//! The relay's link to its controller: one Fanout stream, reopened with backoff when it
//! breaks, plus the channel that client calls are forwarded over. The two ride separate
//! HTTP/2 connections, so nothing a client call does to its connection (an answer the
//! connection cannot carry, a flood of calls) breaks the stream every session depends on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_auth::ServiceCredential;
use switchboard_proto::status;
use switchboard_proto::v1::{self as pb, fanout_client::FanoutClient, relay_frame::Kind};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::{Request, Status};

use switchboard_proto::topic::Topic;

/// Frames queued towards the controller. Subscribes wait for room; presence and
/// unsubscribes are dropped when it is full (the next reconnect resends the truth).
const UPSTREAM_QUEUE: usize = 4096;
/// How long a subscribe waits for the controller's acknowledgement.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request on the Fanout stream (a read of a conversation's log, a question
/// about blocks) waits for the controller's answer.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Calls in flight at once on the connection that carries client calls; more wait here
/// for a place, so that a storm of reconnecting clients queues in the relay. Unbounded,
/// thousands of requests waited unread at the controller, whose HTTP/2 layer (h2 0.4.20)
/// closes a connection that buffers too many small DATA frames (ENHANCE_YOUR_CALM, about
/// 2,000 at the default window), failing every call on it and sending every client of the
/// relay round again.
const CALLS_IN_FLIGHT: usize = 512;

/// One configured controller and the two connections to it (each reconnects on its own).
struct ControllerLink {
    address: String,
    /// Carries client calls (forwarded, and the relay's own on their behalf).
    calls: Channel,
    /// Carries the Fanout stream alone.
    fanout: Channel,
}

pub(crate) struct Upstream {
    /// Every configured controller, in failover order.
    controllers: Vec<ControllerLink>,
    /// Index of the controller in use; moves on when that one cannot be reached.
    current: AtomicUsize,
    /// Presented to open the Fanout stream.
    credential: ServiceCredential,
    /// The current Fanout stream's sender; None while disconnected.
    link: Mutex<Option<mpsc::Sender<pb::RelayFrame>>>,
    /// Subscribes waiting for their acknowledgement, by request id.
    pending: Mutex<HashMap<u64, oneshot::Sender<Vec<u64>>>>,
    /// Other requests waiting for their answer, by request id.
    pending_answers: Mutex<HashMap<u64, oneshot::Sender<Answer>>>,
    next_request: AtomicU64,
}

impl Upstream {
    pub(crate) fn new(
        controllers: &[String],
        credential: ServiceCredential,
        tls: Option<ClientTlsConfig>,
    ) -> Result<Self, String> {
        let mut channels = Vec::new();
        for address in controllers {
            let mut endpoint = Endpoint::from_shared(address.clone())
                .map_err(|e| format!("relay.controllers `{address}`: {e}"))?
                .tcp_nodelay(true)
                .connect_timeout(Duration::from_secs(2));
            if let Some(tls) = &tls {
                endpoint = endpoint
                    .tls_config(tls.clone())
                    .map_err(|e| format!("relay.controllers `{address}`: TLS: {e}"))?;
            }
            // Each `connect_lazy` is a connection of its own.
            channels.push(ControllerLink {
                address: address.clone(),
                calls: endpoint.clone().concurrency_limit(CALLS_IN_FLIGHT).connect_lazy(),
                fanout: endpoint.connect_lazy(),
            });
        }
        Ok(Upstream {
            controllers: channels,
            current: AtomicUsize::new(0),
            credential,
            link: Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
            pending_answers: Mutex::new(HashMap::new()),
            next_request: AtomicU64::new(1),
        })
    }

    fn current(&self) -> &ControllerLink {
        &self.controllers[self.current.load(Ordering::Relaxed)]
    }

    /// The channel to the controller in use, for client calls.
    pub(crate) fn channel(&self) -> Channel {
        self.current().calls.clone()
    }

    pub(crate) fn current_address(&self) -> String {
        self.current().address.clone()
    }

    /// Moves on to the next controller.
    fn fail_over(&self) {
        let next = (self.current.load(Ordering::Relaxed) + 1) % self.controllers.len();
        self.current.store(next, Ordering::Relaxed);
    }

    fn sender(&self) -> Option<mpsc::Sender<pb::RelayFrame>> {
        self.link.lock().expect("link lock poisoned").clone()
    }

    /// Subscribes at the controller; returns once its events flow, with each topic's
    /// position there (see `Topics.positions`).
    /// `follows_membership`: whether the sessions these topics are for follow membership
    /// (the controller then passes on a new user topic's conversations as joins).
    pub(crate) async fn subscribe(
        &self,
        topics: &[Topic],
        follows_membership: bool,
    ) -> Result<Vec<u64>, Status> {
        let unavailable = || status::unavailable("the relay has no controller connection");
        let sender = self.sender().ok_or_else(unavailable)?;
        let request_id = self.next_request.fetch_add(1, Ordering::Relaxed);
        let (acked, ack) = oneshot::channel();
        self.pending.lock().expect("pending lock poisoned").insert(request_id, acked);
        let topics = topics.iter().map(Topic::to_proto).collect();
        let without_joins = !follows_membership;
        let frame =
            Kind::Subscribe(pb::Topics { topics, request_id, without_joins, ..Default::default() });
        if sender.send(pb::RelayFrame { kind: Some(frame) }).await.is_err() {
            self.pending.lock().expect("pending lock poisoned").remove(&request_id);
            return Err(unavailable());
        }
        match tokio::time::timeout(ACK_TIMEOUT, ack).await {
            Ok(Ok(positions)) => Ok(positions),
            _ => {
                self.pending.lock().expect("pending lock poisoned").remove(&request_id);
                Err(status::unavailable("the controller did not confirm the subscription"))
            }
        }
    }

    /// Settles the subscribe that `request_id` acknowledges (see [`LinkEvent::Subscribed`]).
    pub(crate) fn acknowledged(&self, request_id: u64, positions: Vec<u64>) {
        let waiter = self.pending.lock().expect("pending lock poisoned").remove(&request_id);
        if let Some(waiter) = waiter {
            let _ = waiter.send(positions);
        }
    }

    /// Reads the changes of a conversation's log after `after` up to `until`, every
    /// reader's, on the Fanout stream (see `ReadChanges`).
    pub(crate) async fn read_changes(
        &self,
        conversation_id: u64,
        after: u64,
        until: u64,
    ) -> Result<pb::ChangesRead, Status> {
        let request = |request_id| {
            let read = pb::ReadChanges {
                request_id,
                channel_id: conversation_id,
                after_seq: after,
                until_seq: until,
            };
            Kind::ReadChanges(read)
        };
        match self.ask(request, "a read of the log").await? {
            Answer::Changes(read) => Ok(read),
            Answer::KeptApart(_) => {
                Err(status::internal("the controller answered another request"))
            }
        }
    }

    /// Who has a block with `user` of `org`, either way (see `KeptApartQuery`).
    pub(crate) async fn kept_apart(&self, org: &str, user: &str) -> Result<Vec<String>, Status> {
        let request = |request_id| {
            let query = pb::KeptApartQuery { request_id, org: org.into(), user_id: user.into() };
            Kind::KeptApart(query)
        };
        match self.ask(request, "a question about blocks").await? {
            Answer::KeptApart(users) => Ok(users),
            Answer::Changes(_) => Err(status::internal("the controller answered another request")),
        }
    }

    /// Sends the request `frame` makes of a fresh request id, and waits for its answer.
    async fn ask(&self, frame: impl FnOnce(u64) -> Kind, what: &str) -> Result<Answer, Status> {
        let unavailable = || status::unavailable("the relay has no controller connection");
        let sender = self.sender().ok_or_else(unavailable)?;
        let request_id = self.next_request.fetch_add(1, Ordering::Relaxed);
        let (answer, answered) = oneshot::channel();
        self.pending_answers.lock().expect("pending lock poisoned").insert(request_id, answer);
        let forget =
            || self.pending_answers.lock().expect("pending lock poisoned").remove(&request_id);
        if sender.send(pb::RelayFrame { kind: Some(frame(request_id)) }).await.is_err() {
            forget();
            return Err(unavailable());
        }
        match tokio::time::timeout(READ_TIMEOUT, answered).await {
            Ok(Ok(answer)) => Ok(answer),
            _ => {
                forget();
                Err(status::unavailable(format!("the controller did not answer {what}")))
            }
        }
    }

    /// Settles the request `request_id` answers.
    fn answered(&self, request_id: u64, answer: Answer) {
        let waiter =
            self.pending_answers.lock().expect("pending lock poisoned").remove(&request_id);
        if let Some(waiter) = waiter {
            let _ = waiter.send(answer);
        }
    }

    /// Best effort: a lost unsubscribe only costs traffic until the next reconnect.
    pub(crate) fn unsubscribe(&self, topics: &[Topic]) {
        let topics = topics.iter().map(Topic::to_proto).collect();
        let topics = pb::Topics { topics, ..Default::default() };
        self.send_best_effort(Kind::Unsubscribe(topics));
    }

    /// Best effort: every reconnect reports all online users again. `name` is the token's
    /// of the stream that brought them online.
    pub(crate) fn report_online(&self, org: &str, user: &str, follows_all: bool, name: &str) {
        let report = pb::PresenceReport {
            org: org.into(),
            user_id: user.into(),
            online: true,
            follows_all,
            name: name.into(),
        };
        self.send_best_effort(Kind::Presence(report));
    }

    /// Best effort, like [`Self::report_online`].
    pub(crate) fn report_offline(&self, org: &str, user: &str) {
        let report =
            pb::PresenceReport { org: org.into(), user_id: user.into(), ..Default::default() };
        self.send_best_effort(Kind::Presence(report));
    }

    fn send_best_effort(&self, kind: Kind) {
        if let Some(sender) = self.sender() {
            let _ = sender.try_send(pb::RelayFrame { kind: Some(kind) });
        }
    }

    /// Keeps a Fanout stream open until `shutdown`, telling `events` what happens on it.
    /// Each new stream first says what `restate` returns (every wanted topic and online
    /// user). When the stream breaks it reconnects, moving on to the next controller if
    /// this one cannot be reached. When `events` is full, reading waits (backpressure).
    pub(crate) async fn run(
        self: Arc<Self>,
        events: mpsc::Sender<LinkEvent>,
        restate: impl Fn() -> Vec<Kind> + Send,
        shutdown: CancellationToken,
    ) {
        let mut backoff = Duration::from_millis(50);
        while !shutdown.is_cancelled() {
            match self.open(restate()).await {
                Ok(mut incoming) => {
                    backoff = Duration::from_millis(50);
                    tracing::info!(controller = %self.current_address(), "connected to the controller");
                    if events.send(LinkEvent::Connected).await.is_err() {
                        return;
                    }
                    loop {
                        let frame = tokio::select! {
                            () = shutdown.cancelled() => break,
                            frame = incoming.message() => frame,
                        };
                        let event = match frame {
                            Ok(Some(frame)) => self.take(frame),
                            Ok(None) => break,
                            Err(status) => {
                                tracing::warn!(%status, "controller stream broke");
                                break;
                            }
                        };
                        if let Some(event) = event
                            && events.send(event).await.is_err()
                        {
                            return;
                        }
                    }
                    *self.link.lock().expect("link lock poisoned") = None;
                    // Waiting subscribes and reads fail now rather than at their timeout.
                    self.pending.lock().expect("pending lock poisoned").clear();
                    self.pending_answers.lock().expect("pending lock poisoned").clear();
                    let lost = LinkEvent::Lost;
                    if events.send(lost).await.is_err() {
                        return;
                    }
                }
                Err(status) => {
                    tracing::warn!(controller = %self.current_address(), %status, "cannot reach the controller");
                    self.fail_over();
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    /// Opens a Fanout stream whose first frames are `first`.
    async fn open(&self, first: Vec<Kind>) -> Result<tonic::Streaming<pb::FanoutFrame>, Status> {
        let (sender, receiver) = mpsc::channel(UPSTREAM_QUEUE);
        for kind in first {
            let _ = sender.try_send(pb::RelayFrame { kind: Some(kind) });
        }
        let mut request = Request::new(ReceiverStream::new(receiver));
        let bearer = format!("Bearer {}", self.credential.bearer());
        request.metadata_mut().insert(
            "authorization",
            bearer.parse().map_err(|_| status::internal("the service credential is not ASCII"))?,
        );
        let response = FanoutClient::new(self.current().fanout.clone()).stream(request).await?;
        *self.link.lock().expect("link lock poisoned") = Some(sender);
        Ok(response.into_inner())
    }

    /// What a frame from the controller means for the relay; answers to this link's own
    /// reads are settled here.
    fn take(&self, frame: pb::FanoutFrame) -> Option<LinkEvent> {
        use pb::fanout_frame::Kind as Frame;
        match frame.kind? {
            Frame::Event(pb::TopicEvent {
                topic: Some(topic),
                event: Some(event),
                traceparent,
            }) => {
                let topic = Topic::from_proto(&topic)?;
                Some(LinkEvent::Event { topic, event: Arc::new(event), traceparent })
            }
            Frame::ReportRequest(request) => Some(LinkEvent::ReportRequest(request)),
            Frame::Subscribed(topics) => Some(LinkEvent::Subscribed(topics)),
            Frame::Changes(read) => {
                self.answered(read.request_id, Answer::Changes(read));
                None
            }
            Frame::KeptApart(apart) => {
                self.answered(apart.request_id, Answer::KeptApart(apart.user_ids));
                None
            }
            _ => None,
        }
    }

    /// Best effort, like presence: the controller asks again if it needs to.
    pub(crate) fn send_report(&self, report: pb::RelayReport) {
        self.send_best_effort(Kind::Report(report));
    }
}

/// The controller's answer to one of the link's requests.
enum Answer {
    Changes(pb::ChangesRead),
    KeptApart(Vec<String>),
}

/// What happens on the link to the controller, in order.
pub(crate) enum LinkEvent {
    /// A new Fanout stream is up (its first frames restated every topic and user).
    Connected,
    /// The stream broke: nothing arrives until the next `Connected`.
    Lost,
    /// The controller acknowledged a subscribe: its topics' events follow from here on.
    /// Settled in order with the events, so that what a topic keeps starts where they do.
    Subscribed(pb::Topics),
    /// An event published on `topic` (shared: every local subscriber gets the same one).
    Event { topic: Topic, event: Arc<pb::Event>, traceparent: String },
    /// The controller asks for this relay's figures and connections.
    ReportRequest(pb::ReportRequest),
}

/// A request carrying a client's token, for calls made on their behalf, and the current
/// span's trace context.
pub(crate) fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    if let Some(value) = switchboard_telemetry::traceparent_of_current()
        .and_then(|traceparent| traceparent.parse().ok())
    {
        request.metadata_mut().insert(switchboard_telemetry::TRACEPARENT, value);
    }
    request
}
