//! [`Client`]: one connection to a controller (or relay), every Chat call typed.

use std::sync::{Arc, RwLock};

use switchboard_proto::tonic::metadata::MetadataValue;
use switchboard_proto::tonic::service::Interceptor;
use switchboard_proto::tonic::service::interceptor::InterceptedService;
use switchboard_proto::tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use switchboard_proto::tonic::{Request, Status};
use switchboard_proto::v1::{
    self as pb, admin_client::AdminClient, chat_client::ChatClient, files_client::FilesClient,
    people_client::PeopleClient, relay_admin_client::RelayAdminClient,
};

/// What can go wrong talking to Switchboard.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error("cannot connect to {address}: {source}")]
    Connect { address: String, source: switchboard_proto::tonic::transport::Error },
    #[error("{}: {}", code_name(.0.code()), .0.message())]
    Status(Status),
    #[error("the server answered without the expected {0}")]
    MissingField(&'static str),
    #[error("file transfer failed: {0}")]
    Http(String),
    #[error("{0}")]
    Io(String),
}

/// An endpoint for `address`, with TLS trusting `ca_pem` when given.
pub(crate) fn endpoint(address: &str, ca_pem: Option<&[u8]>) -> Result<Endpoint> {
    let connect = |source| SdkError::Connect { address: address.to_string(), source };
    let mut endpoint = Endpoint::from_shared(address.to_string()).map_err(connect)?;
    if let Some(ca) = ca_pem {
        let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
        endpoint = endpoint.tls_config(tls).map_err(connect)?;
    }
    Ok(endpoint)
}

impl From<Status> for SdkError {
    fn from(status: Status) -> Self {
        SdkError::Status(status)
    }
}

/// Puts `authorization: Bearer <token>` on every request; the token can be swapped at any
/// time (say, after a refresh) and applies from the next call on. Also passes the calling
/// span's trace context on (`traceparent`), when the app exports OpenTelemetry traces.
#[derive(Clone)]
pub struct BearerAuth {
    /// The current token; empty sends no authorization header.
    token: Arc<RwLock<String>>,
}

impl Interceptor for BearerAuth {
    fn call(&mut self, mut request: Request<()>) -> std::result::Result<Request<()>, Status> {
        let token = self.token.read().expect("token lock poisoned");
        if !token.is_empty() {
            let value = MetadataValue::try_from(format!("Bearer {token}")).map_err(|_| {
                Status::unauthenticated("the token has characters a header cannot carry")
            })?;
            request.metadata_mut().insert("authorization", value);
        }
        if let Some(value) = switchboard_telemetry::traceparent_of_current()
            .and_then(|traceparent| MetadataValue::try_from(traceparent).ok())
        {
            request.metadata_mut().insert(switchboard_telemetry::TRACEPARENT, value);
        }
        Ok(request)
    }
}

/// A Switchboard client. Cloning is cheap and clones share the connection and the token.
#[derive(Clone)]
pub struct Client {
    /// The generated stub, with the bearer interceptor.
    chat: ChatClient<InterceptedService<Channel, BearerAuth>>,
    /// Relay status, when connected to a relay.
    relay_admin: RelayAdminClient<InterceptedService<Channel, BearerAuth>>,
    /// Cluster figures and connections.
    admin: AdminClient<InterceptedService<Channel, BearerAuth>>,
    /// Attachments.
    pub(crate) files: FilesClient<InterceptedService<Channel, BearerAuth>>,
    /// Profiles.
    pub(crate) people: PeopleClient<InterceptedService<Channel, BearerAuth>>,
    /// Moves attachment bytes over presigned URLs.
    pub(crate) http: reqwest::Client,
    /// Shared with the interceptor.
    token: Arc<RwLock<String>>,
}

pub(crate) type Result<T> = std::result::Result<T, SdkError>;

impl Client {
    /// Connects to `address` (e.g. `http://127.0.0.1:7401`) and authenticates every call
    /// with `token`.
    pub async fn connect(address: impl Into<String>, token: impl Into<String>) -> Result<Client> {
        Client::connect_with_ca(address, token, None).await
    }

    /// Like [`Client::connect`], trusting the CA certificate `ca_pem` (PEM) for an
    /// `https://` address.
    pub async fn connect_with_ca(
        address: impl Into<String>,
        token: impl Into<String>,
        ca_pem: Option<&[u8]>,
    ) -> Result<Client> {
        let address = address.into();
        let endpoint = endpoint(&address, ca_pem)?;
        let channel =
            endpoint.connect().await.map_err(|source| SdkError::Connect { address, source })?;
        Ok(Client::from_channel(channel, token))
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: Channel, token: impl Into<String>) -> Client {
        let token = Arc::new(RwLock::new(token.into()));
        let auth = BearerAuth { token: token.clone() };
        let chat = ChatClient::with_interceptor(channel.clone(), auth.clone());
        let relay_admin = RelayAdminClient::with_interceptor(channel.clone(), auth.clone());
        let admin = AdminClient::with_interceptor(channel.clone(), auth.clone());
        let files = FilesClient::with_interceptor(channel.clone(), auth.clone());
        let people = PeopleClient::with_interceptor(channel, auth);
        let http = reqwest::Client::new();
        Client { chat, relay_admin, admin, files, people, http, token }
    }

    /// Replaces the token used from the next call on.
    pub fn set_token(&self, token: impl Into<String>) {
        *self.token.write().expect("token lock poisoned") = token.into();
    }

    /// The generated stub, for anything this wrapper does not cover.
    pub fn raw(&self) -> ChatClient<InterceptedService<Channel, BearerAuth>> {
        self.chat.clone()
    }

    pub async fn create_team(&self, request: pb::CreateTeamRequest) -> Result<pb::Conversation> {
        Ok(self.chat.clone().create_team(request).await?.into_inner())
    }

    pub async fn create_channel(
        &self,
        request: pb::CreateChannelRequest,
    ) -> Result<pb::Conversation> {
        Ok(self.chat.clone().create_channel(request).await?.into_inner())
    }

    pub async fn get_conversation(&self, conversation_id: u64) -> Result<pb::Conversation> {
        let request = pb::GetConversationRequest { conversation_id };
        Ok(self.chat.clone().get_conversation(request).await?.into_inner())
    }

    pub async fn list_conversations(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<pb::ListConversationsResponse> {
        let request = pb::ListConversationsRequest { after, limit, ..Default::default() };
        Ok(self.chat.clone().list_conversations(request).await?.into_inner())
    }

    /// Every conversation of the caller, following pages to the end.
    pub async fn all_conversations(&self) -> Result<Vec<pb::Conversation>> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = self.list_conversations(after, 200).await?;
            all.extend(page.conversations);
            if page.next_after == 0 {
                return Ok(all);
            }
            after = page.next_after;
        }
    }

    pub async fn list_members(
        &self,
        conversation_id: u64,
        after: &str,
        limit: u32,
    ) -> Result<pb::ListMembersResponse> {
        let request = pb::ListMembersRequest { conversation_id, after: after.into(), limit };
        Ok(self.chat.clone().list_members(request).await?.into_inner())
    }

    /// The conversation linked to a business object (`order:1234`), created from `create`
    /// if none is linked yet (None: only find it); and whether this call created it.
    pub async fn open_linked(
        &self,
        external_key: &str,
        create: Option<pb::open_linked_request::Create>,
    ) -> Result<(pb::Conversation, bool)> {
        let request = pb::OpenLinkedRequest { external_key: external_key.into(), create };
        let response = self.chat.clone().open_linked(request).await?.into_inner();
        let conversation = response.conversation.ok_or(SdkError::MissingField("conversation"))?;
        Ok((conversation, response.created))
    }

    pub async fn update_team(&self, request: pb::UpdateTeamRequest) -> Result<pb::Conversation> {
        Ok(self.chat.clone().update_team(request).await?.into_inner())
    }

    pub async fn archive(&self, conversation_id: u64) -> Result<pb::Conversation> {
        let request = pb::ArchiveRequest { conversation_id };
        Ok(self.chat.clone().archive(request).await?.into_inner())
    }

    pub async fn add_members(
        &self,
        conversation_id: u64,
        user_ids: &[&str],
    ) -> Result<Vec<pb::Member>> {
        let user_ids = user_ids.iter().map(|u| u.to_string()).collect();
        let request = pb::AddMembersRequest { conversation_id, user_ids };
        Ok(self.chat.clone().add_members(request).await?.into_inner().added)
    }

    pub async fn remove_member(&self, conversation_id: u64, user_id: &str) -> Result<()> {
        let request = pb::RemoveMemberRequest { conversation_id, user_id: user_id.into() };
        self.chat.clone().remove_member(request).await?;
        Ok(())
    }

    pub async fn promote_admin(&self, conversation_id: u64, user_id: &str) -> Result<pb::Member> {
        let request = pb::PromoteAdminRequest { conversation_id, user_id: user_id.into() };
        Ok(self.chat.clone().promote_admin(request).await?.into_inner())
    }

    pub async fn demote_admin(&self, conversation_id: u64, user_id: &str) -> Result<pb::Member> {
        let request = pb::DemoteAdminRequest { conversation_id, user_id: user_id.into() };
        Ok(self.chat.clone().demote_admin(request).await?.into_inner())
    }

    pub async fn transfer_ownership(
        &self,
        conversation_id: u64,
        new_owner: &str,
    ) -> Result<pb::Conversation> {
        let request = pb::TransferOwnershipRequest { conversation_id, new_owner: new_owner.into() };
        Ok(self.chat.clone().transfer_ownership(request).await?.into_inner())
    }

    pub async fn leave(&self, conversation_id: u64) -> Result<()> {
        self.chat.clone().leave(pb::LeaveRequest { conversation_id }).await?;
        Ok(())
    }

    pub async fn join_channel(&self, conversation_id: u64) -> Result<pb::Conversation> {
        let request = pb::JoinChannelRequest { conversation_id };
        Ok(self.chat.clone().join_channel(request).await?.into_inner())
    }

    pub async fn open_direct(&self, user_id: &str) -> Result<pb::Conversation> {
        let request = pb::OpenDirectRequest { user_id: user_id.into() };
        Ok(self.chat.clone().open_direct(request).await?.into_inner())
    }

    pub async fn open_self(&self) -> Result<pb::Conversation> {
        Ok(self.chat.clone().open_self(pb::OpenSelfRequest {}).await?.into_inner())
    }

    /// Sends a message; the answer carries the stored message and whether it was a retry.
    pub async fn send(&self, request: pb::SendMessageRequest) -> Result<pb::SendMessageResponse> {
        Ok(self.chat.clone().send_message(request).await?.into_inner())
    }

    /// Sends text to everyone in a conversation and returns the stored message.
    pub async fn send_text(&self, channel_id: u64, text: &str) -> Result<pb::Message> {
        let request = pb::SendMessageRequest {
            channel_id,
            data: text.into(),
            r#type: pb::MessageType::Text as i32,
            ..Default::default()
        };
        self.send(request).await?.message.ok_or(SdkError::MissingField("message"))
    }

    /// Sends text only `to` (a member) and the sender see.
    pub async fn send_private(&self, channel_id: u64, to: &str, text: &str) -> Result<pb::Message> {
        let request = pb::SendMessageRequest {
            channel_id,
            to: to.into(),
            data: text.into(),
            r#type: pb::MessageType::Text as i32,
            ..Default::default()
        };
        self.send(request).await?.message.ok_or(SdkError::MissingField("message"))
    }

    /// Replies in the thread of `parent` with text (`also_in_conversation`: shown in the
    /// conversation too) and returns the stored reply.
    pub async fn reply(
        &self,
        channel_id: u64,
        parent: u64,
        text: &str,
        also_in_conversation: bool,
    ) -> Result<pb::Message> {
        let request = pb::SendMessageRequest {
            channel_id,
            data: text.into(),
            r#type: pb::MessageType::Text as i32,
            parent_id: parent,
            also_in_conversation,
            ..Default::default()
        };
        self.send(request).await?.message.ok_or(SdkError::MissingField("message"))
    }

    /// A page of a thread's replies, newest first (the cursors as for `history`).
    pub async fn replies(
        &self,
        request: pb::ListRepliesRequest,
    ) -> Result<pb::ListHistoryResponse> {
        Ok(self.chat.clone().list_replies(request).await?.into_inner())
    }

    /// The caller's state of the thread of `root`.
    pub async fn thread(&self, channel_id: u64, root_id: u64) -> Result<pb::Thread> {
        let request = pb::ThreadRequest { channel_id, root_id };
        Ok(self.chat.clone().get_thread(request).await?.into_inner())
    }

    /// Follows the thread of `root` (`following`), or stops following it.
    pub async fn follow_thread(
        &self,
        channel_id: u64,
        root_id: u64,
        following: bool,
    ) -> Result<pb::Thread> {
        let request = pb::ThreadRequest { channel_id, root_id };
        let mut chat = self.chat.clone();
        let answer = match following {
            true => chat.follow_thread(request).await?,
            false => chat.unfollow_thread(request).await?,
        };
        Ok(answer.into_inner())
    }

    /// Marks the thread of `root` read up to one of its replies.
    pub async fn mark_thread_read(
        &self,
        channel_id: u64,
        root_id: u64,
        message_id: u64,
    ) -> Result<pb::Thread> {
        let request = pb::MarkThreadReadRequest { channel_id, root_id, message_id };
        Ok(self.chat.clone().mark_thread_read(request).await?.into_inner())
    }

    /// The threads the caller follows, newest reply first; `before` is the previous page's
    /// `next_before` (0 first).
    pub async fn threads(&self, before: u64, limit: u32) -> Result<pb::ListThreadsResponse> {
        let request = pb::ListThreadsRequest { before, limit };
        Ok(self.chat.clone().list_threads(request).await?.into_inner())
    }

    pub async fn edit_message(
        &self,
        channel_id: u64,
        message_id: u64,
        data: &str,
    ) -> Result<pb::Message> {
        let request = pb::EditMessageRequest { channel_id, message_id, data: data.into() };
        Ok(self.chat.clone().edit_message(request).await?.into_inner())
    }

    /// A page of a message's earlier texts, newest first; `before_seq` is the last one's
    /// `seq` of the previous page (0 first).
    pub async fn list_message_versions(
        &self,
        channel_id: u64,
        message_id: u64,
        before_seq: u64,
        limit: u32,
    ) -> Result<pb::ListMessageVersionsResponse> {
        let request = pb::ListMessageVersionsRequest { channel_id, message_id, before_seq, limit };
        Ok(self.chat.clone().list_message_versions(request).await?.into_inner())
    }

    /// Reacts to a message with `emoji` (`reacted`), or takes the reaction back; the message
    /// once its counts include the change.
    pub async fn react(
        &self,
        channel_id: u64,
        message_id: u64,
        emoji: &str,
        reacted: bool,
    ) -> Result<pb::Message> {
        let request = pb::ReactionRequest { channel_id, message_id, emoji: emoji.into() };
        let mut chat = self.chat.clone();
        let answer = match reacted {
            true => chat.add_reaction(request).await?,
            false => chat.remove_reaction(request).await?,
        };
        Ok(answer.into_inner())
    }

    /// Who reacted to a message with `emoji`, earliest first, after `after` ("" first).
    pub async fn list_reactions(
        &self,
        channel_id: u64,
        message_id: u64,
        emoji: &str,
        after: &str,
        limit: u32,
    ) -> Result<pb::ListReactionsResponse> {
        let request = pb::ListReactionsRequest {
            channel_id,
            message_id,
            emoji: emoji.into(),
            after: after.into(),
            limit,
        };
        Ok(self.chat.clone().list_reactions(request).await?.into_inner())
    }

    /// Pins a message to its conversation (`pinned`), or unpins it.
    pub async fn pin_message(
        &self,
        channel_id: u64,
        message_id: u64,
        pinned: bool,
    ) -> Result<pb::Message> {
        let request = pb::PinMessageRequest { channel_id, message_id };
        let mut chat = self.chat.clone();
        let answer = match pinned {
            true => chat.pin_message(request).await?,
            false => chat.unpin_message(request).await?,
        };
        Ok(answer.into_inner())
    }

    /// A conversation's pinned messages, most recently pinned first.
    pub async fn list_pins(&self, channel_id: u64) -> Result<Vec<pb::Message>> {
        let request = pb::ListPinsRequest { channel_id };
        Ok(self.chat.clone().list_pins(request).await?.into_inner().messages)
    }

    pub async fn delete_message(&self, channel_id: u64, message_id: u64) -> Result<pb::Message> {
        let request = pb::DeleteMessageRequest { channel_id, message_id };
        Ok(self.chat.clone().delete_message(request).await?.into_inner())
    }

    /// What a relay is doing (needs `chat.admin`; only relays serve it).
    pub async fn relay_status(&self) -> Result<pb::RelayStatusResponse> {
        Ok(self.relay_admin.clone().status(pb::RelayStatusRequest {}).await?.into_inner())
    }

    /// The key figures of every controller and relay (needs `chat.admin`).
    pub async fn admin_stats(&self) -> Result<pb::AdminStatsResponse> {
        Ok(self.admin.clone().stats(pb::AdminStatsRequest {}).await?.into_inner())
    }

    /// Who of the caller's org is connected on which relay; `user_id` empty for everyone
    /// (needs `chat.admin`).
    pub async fn admin_connections(&self, user_id: &str) -> Result<Vec<pb::Connection>> {
        let request = pb::ConnectionsRequest { user_id: user_id.into() };
        Ok(self.admin.clone().connections(request).await?.into_inner().connections)
    }

    /// A page of the org's audit log, newest first (needs `chat.admin`).
    pub async fn list_audit(&self, request: pb::ListAuditRequest) -> Result<pb::ListAuditResponse> {
        Ok(self.admin.clone().list_audit(request).await?.into_inner())
    }

    /// Adds a word or regex filter to the caller's org (needs `chat.admin`).
    pub async fn create_filter(
        &self,
        kind: pb::FilterKind,
        pattern: &str,
        action: pb::FilterAction,
    ) -> Result<pb::Filter> {
        let request = pb::CreateFilterRequest {
            kind: kind as i32,
            pattern: pattern.into(),
            action: action as i32,
        };
        Ok(self.admin.clone().create_filter(request).await?.into_inner())
    }

    /// Removes a filter of the caller's org; whether there was one.
    pub async fn delete_filter(&self, id: u64) -> Result<bool> {
        let request = pb::DeleteFilterRequest { id };
        Ok(self.admin.clone().delete_filter(request).await?.into_inner().deleted)
    }

    /// Suspends a user of the caller's org (needs `chat.admin`): their streams end and
    /// every call of theirs is refused until lifted.
    pub async fn suspend_user(&self, user: &str, reason: &str) -> Result<pb::Suspension> {
        let request = pb::SuspendUserRequest { user_id: user.into(), reason: reason.into() };
        Ok(self.admin.clone().suspend_user(request).await?.into_inner())
    }

    /// Lifts a suspension; whether the user was suspended.
    pub async fn unsuspend_user(&self, user: &str) -> Result<bool> {
        let request = pb::UnsuspendUserRequest { user_id: user.into() };
        Ok(self.admin.clone().unsuspend_user(request).await?.into_inner().unsuspended)
    }

    /// A page of the caller's org's suspended users after `after` ("" first), and the next
    /// cursor ("" after the last).
    pub async fn list_suspensions(
        &self,
        after: &str,
        limit: u32,
    ) -> Result<(Vec<pb::Suspension>, String)> {
        let request = pb::ListSuspensionsRequest { after: after.into(), limit };
        let page = self.admin.clone().list_suspensions(request).await?.into_inner();
        Ok((page.suspensions, page.next_after))
    }

    /// Starts erasing a suspended user of the caller's org (needs `chat.admin`): the
    /// background job, to follow with [`Self::get_job`].
    pub async fn erase_user(&self, user: &str, reason: &str) -> Result<pb::Job> {
        let request = pb::EraseUserRequest { user_id: user.into(), reason: reason.into() };
        Ok(self.admin.clone().erase_user(request).await?.into_inner())
    }

    /// Starts exporting a user's data (needs `chat.admin`): the background job, whose
    /// `download_url` [`Self::get_job`] fills once it is done.
    pub async fn export_user(&self, user: &str) -> Result<pb::Job> {
        let request = pb::ExportUserRequest { user_id: user.into() };
        Ok(self.admin.clone().export_user(request).await?.into_inner())
    }

    /// Starts exporting a conversation of the caller's org (needs `chat.admin`).
    pub async fn export_conversation(&self, conversation_id: u64) -> Result<pb::Job> {
        let request = pb::ExportConversationRequest { conversation_id };
        Ok(self.admin.clone().export_conversation(request).await?.into_inner())
    }

    /// One of the caller's org's background jobs.
    pub async fn get_job(&self, job_id: u64) -> Result<pb::Job> {
        Ok(self.admin.clone().get_job(pb::GetJobRequest { job_id }).await?.into_inner())
    }

    /// A page of the caller's org's background jobs, newest first, below `before_id` (0
    /// from the newest), and where the next page starts (0 after the last).
    pub async fn list_jobs(&self, before_id: u64, limit: u32) -> Result<(Vec<pb::Job>, u64)> {
        let request = pb::ListJobsRequest { before_id, limit };
        let page = self.admin.clone().list_jobs(request).await?.into_inner();
        Ok((page.jobs, page.next_before_id))
    }

    /// Sets how many days the caller's org keeps messages (0: forever): its default for
    /// `conversation_id` 0, else that conversation's. Returns the org's policy; a shorter
    /// one also reaches the messages sent before it, through the job in its
    /// `applying_job_id` (follow it with [`Client::get_job`]).
    pub async fn set_retention(
        &self,
        conversation_id: u64,
        keep_days: u32,
    ) -> Result<pb::RetentionPolicy> {
        let request = pb::SetRetentionRequest { conversation_id, keep_days, follow_org: false };
        Ok(self.admin.clone().set_retention(request).await?.into_inner())
    }

    /// Drops a conversation's own retention policy: it follows the org's again.
    pub async fn follow_org_retention(&self, conversation_id: u64) -> Result<pb::RetentionPolicy> {
        let request = pb::SetRetentionRequest { conversation_id, keep_days: 0, follow_org: true };
        Ok(self.admin.clone().set_retention(request).await?.into_inner())
    }

    /// The caller's org's retention policy.
    pub async fn get_retention(&self) -> Result<pb::RetentionPolicy> {
        Ok(self.admin.clone().get_retention(pb::GetRetentionRequest {}).await?.into_inner())
    }

    /// The caller's org's filters, oldest first.
    pub async fn list_filters(&self) -> Result<Vec<pb::Filter>> {
        let request = pb::ListFiltersRequest {};
        Ok(self.admin.clone().list_filters(request).await?.into_inner().filters)
    }

    /// Messages of the caller's conversations matching `request.query`, with snippets.
    pub async fn search(&self, request: pb::SearchRequest) -> Result<pb::SearchResponse> {
        Ok(self.chat.clone().search(request).await?.into_inner())
    }

    /// A page of the caller's notifications, newest first.
    pub async fn list_notifications(
        &self,
        request: pb::ListNotificationsRequest,
    ) -> Result<pb::ListNotificationsResponse> {
        Ok(self.chat.clone().list_notifications(request).await?.into_inner())
    }

    /// Marks notifications read (by id, conversation, or all); returns how many it marked.
    pub async fn mark_notifications_read(
        &self,
        request: pb::MarkNotificationsReadRequest,
    ) -> Result<u32> {
        Ok(self.chat.clone().mark_notifications_read(request).await?.into_inner().marked)
    }

    /// Mutes or unmutes a conversation for the caller.
    pub async fn set_mute(&self, conversation_id: u64, muted: bool) -> Result<bool> {
        let request = pb::SetMuteRequest { conversation_id, muted };
        Ok(self.chat.clone().set_mute(request).await?.into_inner().muted)
    }

    pub async fn set_typing(&self, channel_id: u64, typing: bool) -> Result<u32> {
        let request = pb::SetTypingRequest { channel_id, typing };
        Ok(self.chat.clone().set_typing(request).await?.into_inner().expires_in_ms)
    }

    pub async fn mark_read(&self, channel_id: u64, message_id: u64) -> Result<u64> {
        let request = pb::MarkReadRequest { channel_id, message_id };
        Ok(self.chat.clone().mark_read(request).await?.into_inner().read_up_to)
    }

    pub async fn read_markers(&self, channel_id: u64) -> Result<Vec<pb::ReadMarker>> {
        let request = pb::ListReadMarkersRequest { channel_id };
        Ok(self.chat.clone().list_read_markers(request).await?.into_inner().markers)
    }

    /// Each user's presence (online, status, last seen), in the order asked.
    pub async fn presence(&self, user_ids: &[&str]) -> Result<Vec<pb::UserPresence>> {
        let user_ids = user_ids.iter().map(|u| u.to_string()).collect();
        let request = pb::GetPresenceRequest { user_ids };
        Ok(self.chat.clone().get_presence(request).await?.into_inner().users)
    }

    /// Sets the caller's availability and status text; their presence as others now see it.
    pub async fn set_status(
        &self,
        availability: pb::Availability,
        text: &str,
    ) -> Result<pb::UserPresence> {
        let request = pb::SetStatusRequest { availability: availability as i32, text: text.into() };
        Ok(self.chat.clone().set_status(request).await?.into_inner())
    }

    /// The caller's push preferences.
    pub async fn push_settings(&self) -> Result<pb::PushSettings> {
        let request = pb::GetPushSettingsRequest {};
        Ok(self.chat.clone().get_push_settings(request).await?.into_inner())
    }

    /// Replaces the caller's push preferences; the answer is them as stored.
    pub async fn set_push_settings(&self, settings: pb::PushSettings) -> Result<pb::PushSettings> {
        Ok(self.chat.clone().set_push_settings(settings).await?.into_inner())
    }

    /// Registers one of the caller's devices for push; the device as stored (its id, and a
    /// hint instead of the token).
    pub async fn register_device(&self, device: pb::Device) -> Result<pb::Device> {
        Ok(self.chat.clone().register_device(device).await?.into_inner())
    }

    /// The caller's devices, most recently registered first.
    pub async fn list_devices(&self) -> Result<Vec<pb::Device>> {
        let request = pb::ListDevicesRequest {};
        Ok(self.chat.clone().list_devices(request).await?.into_inner().devices)
    }

    /// Bans a user from a team or channel (removing them if a member).
    pub async fn ban_member(
        &self,
        conversation_id: u64,
        user: &str,
        reason: &str,
    ) -> Result<pb::Ban> {
        let request =
            pb::BanMemberRequest { conversation_id, user_id: user.into(), reason: reason.into() };
        Ok(self.chat.clone().ban_member(request).await?.into_inner())
    }

    /// Times a member out for `seconds` (0 lifts it): they read but neither post, edit,
    /// react, type nor upload until then. The member as it is now.
    pub async fn timeout_member(
        &self,
        conversation_id: u64,
        user: &str,
        seconds: u32,
        reason: &str,
    ) -> Result<pb::Member> {
        let request = pb::TimeoutMemberRequest {
            conversation_id,
            user_id: user.into(),
            duration_seconds: seconds,
            reason: reason.into(),
        };
        Ok(self.chat.clone().timeout_member(request).await?.into_inner())
    }

    /// Lifts a ban; whether the user was banned.
    pub async fn unban_member(&self, conversation_id: u64, user: &str) -> Result<bool> {
        let request = pb::UnbanMemberRequest { conversation_id, user_id: user.into() };
        Ok(self.chat.clone().unban_member(request).await?.into_inner().unbanned)
    }

    /// A page of a team's or channel's bans after `after` ("" first), and the next cursor.
    pub async fn list_bans(
        &self,
        conversation_id: u64,
        after: &str,
        limit: u32,
    ) -> Result<(Vec<pb::Ban>, String)> {
        let request = pb::ListBansRequest { conversation_id, after: after.into(), limit };
        let response = self.chat.clone().list_bans(request).await?.into_inner();
        Ok((response.bans, response.next_after))
    }

    /// Reports a message of a team or channel to its admins.
    pub async fn report_message(
        &self,
        conversation_id: u64,
        message_id: u64,
        reason: &str,
    ) -> Result<pb::Report> {
        let request =
            pb::ReportMessageRequest { conversation_id, message_id, reason: reason.into() };
        Ok(self.chat.clone().report_message(request).await?.into_inner())
    }

    /// A page of a team's or channel's reports, newest first (admins).
    pub async fn list_reports(
        &self,
        request: pb::ListReportsRequest,
    ) -> Result<pb::ListReportsResponse> {
        Ok(self.chat.clone().list_reports(request).await?.into_inner())
    }

    /// Resolves (or, with `dismiss`, dismisses) an open report (admins).
    pub async fn resolve_report(
        &self,
        conversation_id: u64,
        report_id: u64,
        dismiss: bool,
    ) -> Result<pb::Report> {
        let request = pb::ResolveReportRequest { conversation_id, report_id, dismiss };
        Ok(self.chat.clone().resolve_report(request).await?.into_inner())
    }

    /// The server's VAPID public key (base64url) a browser subscribes to Web Push with;
    /// empty when the server does not send Web Push.
    pub async fn web_push_public_key(&self) -> Result<String> {
        let request = pb::ListDevicesRequest {};
        Ok(self.chat.clone().list_devices(request).await?.into_inner().web_push_public_key)
    }

    /// Alerts each of the caller's devices now with a test push; what each provider
    /// answered (devices it no longer knows are removed).
    pub async fn test_push(&self) -> Result<Vec<pb::TestedDevice>> {
        let request = pb::TestPushRequest {};
        Ok(self.chat.clone().test_push(request).await?.into_inner().devices)
    }

    /// Removes one of the caller's devices; whether it was theirs.
    pub async fn remove_device(&self, device_id: u64) -> Result<bool> {
        let request = pb::RemoveDeviceRequest { device_id };
        Ok(self.chat.clone().remove_device(request).await?.into_inner().removed)
    }

    /// A page of history, newest first (see `ListHistoryRequest` for the cursors).
    pub async fn history(
        &self,
        request: pb::ListHistoryRequest,
    ) -> Result<pb::ListHistoryResponse> {
        Ok(self.chat.clone().list_history(request).await?.into_inner())
    }

    /// A page of a conversation's changes after a log position, oldest first (see
    /// `ListChangesRequest`): what a client that was away missed.
    pub async fn changes(
        &self,
        request: pb::ListChangesRequest,
    ) -> Result<pb::ListChangesResponse> {
        Ok(self.chat.clone().list_changes(request).await?.into_inner())
    }
}

impl SdkError {
    /// The gRPC code of a failed call (UNKNOWN for connection failures).
    pub fn code(&self) -> switchboard_proto::tonic::Code {
        match self {
            SdkError::Status(status) => status.code(),
            SdkError::Connect { .. } => switchboard_proto::tonic::Code::Unavailable,
            SdkError::MissingField(_) => switchboard_proto::tonic::Code::Internal,
            SdkError::Http(_) | SdkError::Io(_) => switchboard_proto::tonic::Code::Unknown,
        }
    }
}

/// The canonical upper-case name of a gRPC status code, e.g. `PERMISSION_DENIED`.
pub fn code_name(code: switchboard_proto::tonic::Code) -> &'static str {
    use switchboard_proto::tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}
