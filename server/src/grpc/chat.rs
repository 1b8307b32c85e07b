//! `switchboard.v1.Chat` over tonic: authenticate, check the scope, convert, call the
//! domain, convert back. Domain errors become statuses only through `From<ChatError>`.

use switchboard_proto::v1::{self as pb, chat_server::Chat};
use tonic::{Request, Status};

use super::api::{ChatApi, Reply, reply};
use crate::auth::{Caller, Scope};
use crate::chat::{NewConversation, NewDevice, NewMessage, NotificationSelection, TeamUpdate};
use crate::convert::{self, nonempty, nonzero};
use crate::error::ChatError;
use crate::model::{DeviceAddress, Kind, Platform};

#[tonic::async_trait]
impl Chat for ChatApi {
    async fn create_team(
        &self,
        request: Request<pb::CreateTeamRequest>,
    ) -> Reply<pb::Conversation> {
        let (caller, _admitted) = self.writer(&request, Scope::TeamsManage).await?;
        let new = new_team(request.into_inner());
        reply(convert::conversation(
            self.chat.conversations.create(&caller, Kind::Group, new).await?,
        ))
    }

    async fn create_channel(
        &self,
        request: Request<pb::CreateChannelRequest>,
    ) -> Reply<pb::Conversation> {
        let (caller, _admitted) = self.writer(&request, Scope::TeamsManage).await?;
        let new = new_channel(request.into_inner())?;
        reply(convert::conversation(
            self.chat.conversations.create(&caller, Kind::Channel, new).await?,
        ))
    }

    async fn open_linked(
        &self,
        request: Request<pb::OpenLinkedRequest>,
    ) -> Reply<pb::OpenLinkedResponse> {
        let (caller, _admitted) = self.writer(&request, Scope::Read).await?;
        let r = request.into_inner();
        let create = match r.create {
            None => None,
            Some(pb::open_linked_request::Create::Team(team)) => {
                Some((Kind::Group, new_team(team)))
            }
            Some(pb::open_linked_request::Create::Channel(channel)) => {
                Some((Kind::Channel, new_channel(channel)?))
            }
        };
        let (view, created) =
            self.chat.conversations.open_linked(&caller, &r.external_key, create).await?;
        let conversation = Some(convert::conversation(view));
        reply(pb::OpenLinkedResponse { conversation, created })
    }

    async fn get_conversation(
        &self,
        request: Request<pb::GetConversationRequest>,
    ) -> Reply<pb::Conversation> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let id = request.into_inner().conversation_id;
        let conversation = convert::conversation(self.chat.conversations.get(&caller, id).await?);
        reply(self.with_peer(&caller, conversation).await?)
    }

    async fn list_conversations(
        &self,
        request: Request<pb::ListConversationsRequest>,
    ) -> Reply<pb::ListConversationsResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let r = request.into_inner();
        if r.ids_only {
            let (ids, next_after) =
                self.chat.conversations.list_ids(&caller, r.after, r.limit).await?;
            let conversations =
                ids.into_iter().map(|id| pb::Conversation { id, ..Default::default() }).collect();
            return reply(pb::ListConversationsResponse { conversations, next_after });
        }
        let with_unread = !r.without_unread;
        let (views, next_after) =
            self.chat.conversations.list(&caller, r.after, r.limit, with_unread).await?;
        let mut conversations = Vec::with_capacity(views.len());
        for (view, unread) in views {
            let conversation = pb::Conversation {
                unread_count: unread.messages,
                mention_count: unread.notifications,
                muted: unread.muted,
                ..convert::conversation(view)
            };
            conversations.push(self.with_peer(&caller, conversation).await?);
        }
        reply(pb::ListConversationsResponse { conversations, next_after })
    }

    async fn list_members(
        &self,
        request: Request<pb::ListMembersRequest>,
    ) -> Reply<pb::ListMembersResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let r = request.into_inner();
        let (members, next_after) =
            self.chat.members.members(&caller, r.conversation_id, &r.after, r.limit).await?;
        reply(pb::ListMembersResponse {
            members: members.into_iter().map(convert::member).collect(),
            next_after,
        })
    }

    async fn update_team(
        &self,
        request: Request<pb::UpdateTeamRequest>,
    ) -> Reply<pb::Conversation> {
        let (caller, _admitted) = self.writer(&request, Scope::TeamsManage).await?;
        let r = request.into_inner();
        let update = TeamUpdate {
            name: r.name,
            icon: r.icon,
            meta_tags: r.meta_tags.map(|list| list.tags),
            restricted: r.restricted,
            custom_fields: r.custom_fields.map(|map| map.fields.into_iter().collect()),
            members_may_pin: r.members_may_pin,
            slow_mode_seconds: r.slow_mode_seconds,
        };
        reply(convert::conversation(
            self.chat.conversations.update(&caller, r.conversation_id, update).await?,
        ))
    }

    async fn archive(&self, request: Request<pb::ArchiveRequest>) -> Reply<pb::Conversation> {
        let (caller, _admitted) = self.writer(&request, Scope::TeamsManage).await?;
        let id = request.into_inner().conversation_id;
        reply(convert::conversation(self.chat.conversations.archive(&caller, id).await?))
    }

    async fn add_members(
        &self,
        request: Request<pb::AddMembersRequest>,
    ) -> Reply<pb::AddMembersResponse> {
        let (caller, _admitted) = self.writer(&request, Scope::TeamsManage).await?;
        let r = request.into_inner();
        let added = self.chat.members.add_members(&caller, r.conversation_id, &r.user_ids).await?;
        reply(pb::AddMembersResponse { added: added.into_iter().map(convert::member).collect() })
    }

    async fn remove_member(
        &self,
        request: Request<pb::RemoveMemberRequest>,
    ) -> Reply<pb::RemoveMemberResponse> {
        let (caller, _admitted) = self.writer(&request, Scope::TeamsManage).await?;
        let r = request.into_inner();
        self.chat.members.remove_member(&caller, r.conversation_id, &r.user_id).await?;
        reply(pb::RemoveMemberResponse {})
    }

    async fn ban_member(&self, request: Request<pb::BanMemberRequest>) -> Reply<pb::Ban> {
        let (caller, _admitted) = self.writer(&request, Scope::TeamsManage).await?;
        let r = request.into_inner();
        let ban =
            self.chat.moderation.ban(&caller, r.conversation_id, &r.user_id, &r.reason).await?;
        reply(convert::ban(ban))
    }

    async fn unban_member(
        &self,
        request: Request<pb::UnbanMemberRequest>,
    ) -> Reply<pb::UnbanMemberResponse> {
        let (caller, _admitted) = self.writer(&request, Scope::TeamsManage).await?;
        let r = request.into_inner();
        let unbanned = self.chat.moderation.unban(&caller, r.conversation_id, &r.user_id).await?;
        reply(pb::UnbanMemberResponse { unbanned })
    }

    async fn list_bans(
        &self,
        request: Request<pb::ListBansRequest>,
    ) -> Reply<pb::ListBansResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let r = request.into_inner();
        let (bans, next_after) =
            self.chat.moderation.bans(&caller, r.conversation_id, &r.after, r.limit).await?;
        reply(pb::ListBansResponse {
            bans: bans.into_iter().map(convert::ban).collect(),
            next_after,
        })
    }

    async fn report_message(
        &self,
        request: Request<pb::ReportMessageRequest>,
    ) -> Reply<pb::Report> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        let report = self
            .chat
            .moderation
            .report(&caller, r.conversation_id, r.message_id, &r.reason)
            .await?;
        reply(convert::report(report))
    }

    async fn list_reports(
        &self,
        request: Request<pb::ListReportsRequest>,
    ) -> Reply<pb::ListReportsResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let r = request.into_inner();
        let before = (r.before_id != 0).then_some(r.before_id);
        let (reports, next_before) = self
            .chat
            .moderation
            .reports(&caller, r.conversation_id, before, r.limit, r.open_only)
            .await?;
        let reports = reports.into_iter().map(convert::report).collect();
        reply(pb::ListReportsResponse { reports, next_before })
    }

    async fn resolve_report(
        &self,
        request: Request<pb::ResolveReportRequest>,
    ) -> Reply<pb::Report> {
        let (caller, _admitted) = self.writer(&request, Scope::TeamsManage).await?;
        let r = request.into_inner();
        let report = self
            .chat
            .moderation
            .handle_report(&caller, r.conversation_id, r.report_id, r.dismiss)
            .await?;
        reply(convert::report(report))
    }

    async fn timeout_member(
        &self,
        request: Request<pb::TimeoutMemberRequest>,
    ) -> Reply<pb::Member> {
        let (caller, _admitted) = self.writer(&request, Scope::TeamsManage).await?;
        let r = request.into_inner();
        let (id, user) = (r.conversation_id, &r.user_id);
        let member =
            self.chat.moderation.timeout(&caller, id, user, r.duration_seconds, &r.reason).await?;
        reply(convert::member(member))
    }

    async fn promote_admin(&self, request: Request<pb::PromoteAdminRequest>) -> Reply<pb::Member> {
        let (caller, _admitted) = self.writer(&request, Scope::TeamsManage).await?;
        let r = request.into_inner();
        reply(convert::member(
            self.chat.members.promote(&caller, r.conversation_id, &r.user_id).await?,
        ))
    }

    async fn demote_admin(&self, request: Request<pb::DemoteAdminRequest>) -> Reply<pb::Member> {
        let (caller, _admitted) = self.writer(&request, Scope::TeamsManage).await?;
        let r = request.into_inner();
        reply(convert::member(
            self.chat.members.demote(&caller, r.conversation_id, &r.user_id).await?,
        ))
    }

    async fn transfer_ownership(
        &self,
        request: Request<pb::TransferOwnershipRequest>,
    ) -> Reply<pb::Conversation> {
        let (caller, _admitted) = self.writer(&request, Scope::TeamsManage).await?;
        let r = request.into_inner();
        let view = self.chat.members.transfer(&caller, r.conversation_id, &r.new_owner).await?;
        reply(convert::conversation(view))
    }

    async fn leave(&self, request: Request<pb::LeaveRequest>) -> Reply<pb::LeaveResponse> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        self.chat.members.leave(&caller, request.into_inner().conversation_id).await?;
        reply(pb::LeaveResponse {})
    }

    async fn join_channel(
        &self,
        request: Request<pb::JoinChannelRequest>,
    ) -> Reply<pb::Conversation> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let id = request.into_inner().conversation_id;
        reply(convert::conversation(self.chat.conversations.join(&caller, id).await?))
    }

    async fn open_direct(
        &self,
        request: Request<pb::OpenDirectRequest>,
    ) -> Reply<pb::Conversation> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let user = request.into_inner().user_id;
        let direct = self.chat.conversations.open_direct(&caller, &user).await?;
        reply(self.with_peer(&caller, convert::conversation(direct)).await?)
    }

    async fn open_self(&self, request: Request<pb::OpenSelfRequest>) -> Reply<pb::Conversation> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        reply(convert::conversation(self.chat.conversations.open_self(&caller).await?))
    }

    async fn send_message(
        &self,
        request: Request<pb::SendMessageRequest>,
    ) -> Reply<pb::SendMessageResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Write).await?;
        let r = request.into_inner();
        let new = NewMessage {
            channel_id: r.channel_id,
            to: convert::recipient_in(r.to),
            kind: convert::message_type_in(r.r#type)?,
            data: r.data,
            parent_id: nonzero(r.parent_id),
            also_in_conversation: r.also_in_conversation,
            custom_fields: r.custom_fields.into_iter().collect(),
            client_msg_id: nonempty(r.client_msg_id),
        };
        let sent = self.chat.messages.send(&caller, new).await?;
        reply(pb::SendMessageResponse {
            message: Some(convert::message(sent.message)),
            duplicate: sent.duplicate,
        })
    }

    async fn edit_message(&self, request: Request<pb::EditMessageRequest>) -> Reply<pb::Message> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        let message = self.chat.messages.edit(&caller, r.channel_id, r.message_id, r.data).await?;
        reply(convert::message(message))
    }

    async fn delete_message(
        &self,
        request: Request<pb::DeleteMessageRequest>,
    ) -> Reply<pb::Message> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        reply(convert::message(
            self.chat.messages.delete(&caller, r.channel_id, r.message_id).await?,
        ))
    }

    async fn add_reaction(&self, request: Request<pb::ReactionRequest>) -> Reply<pb::Message> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        let reactions = &self.chat.reactions;
        let message = reactions.react(&caller, r.channel_id, r.message_id, &r.emoji, true).await?;
        reply(convert::message(message))
    }

    async fn remove_reaction(&self, request: Request<pb::ReactionRequest>) -> Reply<pb::Message> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        let reactions = &self.chat.reactions;
        let message = reactions.react(&caller, r.channel_id, r.message_id, &r.emoji, false).await?;
        reply(convert::message(message))
    }

    async fn list_reactions(
        &self,
        request: Request<pb::ListReactionsRequest>,
    ) -> Reply<pb::ListReactionsResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let r = request.into_inner();
        let (reactors, next_after) = self
            .chat
            .reactions
            .reactors(&caller, r.channel_id, r.message_id, &r.emoji, &r.after, r.limit)
            .await?;
        let user_ids = reactors.into_iter().map(|reaction| reaction.user).collect();
        reply(pb::ListReactionsResponse { user_ids, next_after })
    }

    async fn pin_message(&self, request: Request<pb::PinMessageRequest>) -> Reply<pb::Message> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        let message = self.chat.messages.pin(&caller, r.channel_id, r.message_id, true).await?;
        reply(convert::message(message))
    }

    async fn unpin_message(&self, request: Request<pb::PinMessageRequest>) -> Reply<pb::Message> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        let message = self.chat.messages.pin(&caller, r.channel_id, r.message_id, false).await?;
        reply(convert::message(message))
    }

    async fn list_pins(
        &self,
        request: Request<pb::ListPinsRequest>,
    ) -> Reply<pb::ListPinsResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let pinned = self.chat.messages.pins(&caller, request.into_inner().channel_id).await?;
        reply(pb::ListPinsResponse { messages: pinned.into_iter().map(convert::message).collect() })
    }

    async fn list_message_versions(
        &self,
        request: Request<pb::ListMessageVersionsRequest>,
    ) -> Reply<pb::ListMessageVersionsResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let r = request.into_inner();
        let (versions, has_more) = self
            .chat
            .messages
            .versions(&caller, r.channel_id, r.message_id, r.before_seq, r.limit)
            .await?;
        reply(pb::ListMessageVersionsResponse {
            versions: versions.into_iter().map(convert::message_version).collect(),
            has_more,
        })
    }

    async fn list_history(
        &self,
        request: Request<pb::ListHistoryRequest>,
    ) -> Reply<pb::ListHistoryResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let r = request.into_inner();
        let mut page = self
            .chat
            .messages
            .history(&caller, r.channel_id, nonzero(r.before), nonzero(r.after), r.limit)
            .await?;
        self.chat.reactions.mark_mine(&caller, r.channel_id, &mut page.messages).await?;
        reply(pb::ListHistoryResponse {
            messages: page.messages.into_iter().map(convert::message).collect(),
            has_more: page.has_more,
        })
    }

    async fn list_replies(
        &self,
        request: Request<pb::ListRepliesRequest>,
    ) -> Reply<pb::ListHistoryResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let r = request.into_inner();
        let (before, after) = (nonzero(r.before), nonzero(r.after));
        let mut page = self
            .chat
            .threads
            .replies(&caller, r.channel_id, r.root_id, before, after, r.limit)
            .await?;
        self.chat.reactions.mark_mine(&caller, r.channel_id, &mut page.messages).await?;
        reply(pb::ListHistoryResponse {
            messages: page.messages.into_iter().map(convert::message).collect(),
            has_more: page.has_more,
        })
    }

    async fn get_thread(&self, request: Request<pb::ThreadRequest>) -> Reply<pb::Thread> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let r = request.into_inner();
        let thread = self.chat.threads.thread(&caller, r.channel_id, r.root_id).await?;
        reply(convert::thread(thread))
    }

    async fn follow_thread(&self, request: Request<pb::ThreadRequest>) -> Reply<pb::Thread> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        let thread = self.chat.threads.follow(&caller, r.channel_id, r.root_id, true).await?;
        reply(convert::thread(thread))
    }

    async fn unfollow_thread(&self, request: Request<pb::ThreadRequest>) -> Reply<pb::Thread> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        let thread = self.chat.threads.follow(&caller, r.channel_id, r.root_id, false).await?;
        reply(convert::thread(thread))
    }

    async fn mark_thread_read(
        &self,
        request: Request<pb::MarkThreadReadRequest>,
    ) -> Reply<pb::Thread> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        let thread =
            self.chat.threads.mark_read(&caller, r.channel_id, r.root_id, r.message_id).await?;
        reply(convert::thread(thread))
    }

    async fn list_threads(
        &self,
        request: Request<pb::ListThreadsRequest>,
    ) -> Reply<pb::ListThreadsResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let r = request.into_inner();
        let (threads, next_before) =
            self.chat.threads.list(&caller, nonzero(r.before), r.limit).await?;
        reply(pb::ListThreadsResponse {
            threads: threads.into_iter().map(convert::thread).collect(),
            next_before,
        })
    }

    async fn list_changes(
        &self,
        request: Request<pb::ListChangesRequest>,
    ) -> Reply<pb::ListChangesResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let r = request.into_inner();
        let page = self.chat.messages.changes(&caller, r.channel_id, r.after_seq, r.limit).await?;
        reply(pb::ListChangesResponse {
            events: page.events,
            next_after: page.next_after,
            has_more: page.has_more,
        })
    }

    async fn set_typing(
        &self,
        request: Request<pb::SetTypingRequest>,
    ) -> Reply<pb::SetTypingResponse> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        let expires_in_ms = self.chat.typing.set_typing(&caller, r.channel_id, r.typing).await?;
        reply(pb::SetTypingResponse { expires_in_ms })
    }

    async fn mark_read(
        &self,
        request: Request<pb::MarkReadRequest>,
    ) -> Reply<pb::MarkReadResponse> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        let read_up_to = self.chat.reads.mark_read(&caller, r.channel_id, r.message_id).await?;
        reply(pb::MarkReadResponse { read_up_to })
    }

    async fn list_read_markers(
        &self,
        request: Request<pb::ListReadMarkersRequest>,
    ) -> Reply<pb::ListReadMarkersResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let markers =
            self.chat.reads.read_markers(&caller, request.into_inner().channel_id).await?;
        reply(pb::ListReadMarkersResponse {
            markers: markers
                .into_iter()
                .map(|(user_id, message_id)| pb::ReadMarker { user_id, message_id })
                .collect(),
        })
    }

    async fn get_presence(
        &self,
        request: Request<pb::GetPresenceRequest>,
    ) -> Reply<pb::GetPresenceResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let users = request.into_inner().user_ids;
        reply(pb::GetPresenceResponse {
            users: self.chat.presence.presence_of(&caller, &users).await?,
        })
    }

    async fn set_status(&self, request: Request<pb::SetStatusRequest>) -> Reply<pb::UserPresence> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let pb::SetStatusRequest { availability, text } = request.into_inner();
        reply(self.chat.presence.set_status(&caller, availability, &text).await?)
    }

    async fn search(&self, request: Request<pb::SearchRequest>) -> Reply<pb::SearchResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        reply(self.search.search(&caller, request.into_inner()).await?)
    }

    async fn list_notifications(
        &self,
        request: Request<pb::ListNotificationsRequest>,
    ) -> Reply<pb::ListNotificationsResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let r = request.into_inner();
        let (notifications, next_before_id) = self
            .chat
            .notifications
            .notifications(&caller, nonzero(r.before_id), r.limit, r.unread_only)
            .await?;
        reply(pb::ListNotificationsResponse {
            notifications: notifications.into_iter().map(convert::notification).collect(),
            next_before_id,
        })
    }

    async fn mark_notifications_read(
        &self,
        request: Request<pb::MarkNotificationsReadRequest>,
    ) -> Reply<pb::MarkNotificationsReadResponse> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        let selection = match (r.ids.is_empty(), r.conversation_id, r.all) {
            (false, 0, false) => NotificationSelection::Ids(r.ids),
            (true, id, false) if id != 0 => NotificationSelection::Conversation(id),
            (true, 0, true) => NotificationSelection::All,
            _ => {
                let why = "give exactly one of `ids`, `conversation_id` and `all`";
                return Err(ChatError::invalid("ids", why).into());
            }
        };
        let marked = self.chat.notifications.mark_notifications_read(&caller, selection).await?;
        reply(pb::MarkNotificationsReadResponse { marked })
    }

    async fn get_push_settings(
        &self,
        request: Request<pb::GetPushSettingsRequest>,
    ) -> Reply<pb::PushSettings> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let settings = self.chat.notifications.push_settings(&caller).await?;
        reply(convert::push_settings(settings))
    }

    async fn set_push_settings(
        &self,
        request: Request<pb::PushSettings>,
    ) -> Reply<pb::PushSettings> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let settings = convert::push_settings_in(request.into_inner())?;
        let settings = self.chat.notifications.set_push_settings(&caller, settings).await?;
        reply(convert::push_settings(settings))
    }

    async fn register_device(&self, request: Request<pb::Device>) -> Reply<pb::Device> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let new = device_in(request.into_inner());
        let device = self.chat.devices.register(&caller, new).await?;
        reply(convert::device(device))
    }

    async fn list_devices(
        &self,
        request: Request<pb::ListDevicesRequest>,
    ) -> Reply<pb::ListDevicesResponse> {
        let (caller, _admitted) = self.caller(&request, Scope::Read).await?;
        let devices = self.chat.devices.list(&caller).await?;
        let key = self.chat.device_push.web_push_public_key().unwrap_or_default();
        reply(pb::ListDevicesResponse {
            devices: devices.into_iter().map(convert::device).collect(),
            web_push_public_key: key.to_string(),
        })
    }

    async fn remove_device(
        &self,
        request: Request<pb::RemoveDeviceRequest>,
    ) -> Reply<pb::RemoveDeviceResponse> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let removed = self.chat.devices.remove(&caller, request.into_inner().device_id).await?;
        reply(pb::RemoveDeviceResponse { removed })
    }

    async fn test_push(
        &self,
        request: Request<pb::TestPushRequest>,
    ) -> Reply<pb::TestPushResponse> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let tested = self.chat.device_push.test(&caller).await?;
        reply(pb::TestPushResponse {
            devices: tested
                .into_iter()
                .map(|t| convert::tested_device(t.device, &t.outcome))
                .collect(),
        })
    }

    async fn set_mute(&self, request: Request<pb::SetMuteRequest>) -> Reply<pb::SetMuteResponse> {
        let (caller, _admitted) = self.writer(&request, Scope::Write).await?;
        let r = request.into_inner();
        let muted = self.chat.notifications.set_mute(&caller, r.conversation_id, r.muted).await?;
        reply(pb::SetMuteResponse { muted })
    }
}

impl ChatApi {
    /// `conversation` with its other party's profile when it is a DIRECT one.
    async fn with_peer(
        &self,
        caller: &Caller,
        mut conversation: pb::Conversation,
    ) -> Result<pb::Conversation, Status> {
        if conversation.kind == pb::ConversationKind::Direct as i32 {
            let peer = self.chat.profiles.peer(caller, conversation.id).await?;
            conversation.peer = peer.map(|peer| Box::new(convert::profile(peer)));
        }
        Ok(conversation)
    }
}

/// What CreateTeam (or OpenLinked's `team`) asks for.
fn new_team(r: pb::CreateTeamRequest) -> NewConversation {
    NewConversation {
        name: r.name,
        icon: r.icon,
        meta_tags: r.meta_tags,
        restricted: r.restricted,
        visibility: None,
        members: r.members,
        custom_fields: r.custom_fields.into_iter().collect(),
    }
}

/// What CreateChannel (or OpenLinked's `channel`) asks for.
fn new_channel(r: pb::CreateChannelRequest) -> Result<NewConversation, Status> {
    Ok(NewConversation {
        name: r.name,
        icon: r.icon,
        meta_tags: r.meta_tags,
        restricted: true,
        visibility: Some(convert::visibility_in(r.visibility)?),
        members: r.members,
        custom_fields: r.custom_fields.into_iter().collect(),
    })
}

/// A device as registered (checked by the domain: an unknown platform is None).
fn device_in(d: pb::Device) -> NewDevice {
    let platform = match pb::DevicePlatform::try_from(d.platform) {
        Ok(pb::DevicePlatform::Fcm) => Some(Platform::Fcm),
        Ok(pb::DevicePlatform::Apns) => Some(Platform::Apns),
        Ok(pb::DevicePlatform::WebPush) => Some(Platform::WebPush),
        _ => None,
    };
    let address = match d.web_push {
        Some(web) if d.token.is_empty() => {
            DeviceAddress::WebPush { endpoint: web.endpoint, p256dh: web.p256dh, auth: web.auth }
        }
        _ => DeviceAddress::Token(d.token),
    };
    NewDevice { platform, address, app_id: d.app_id, locale: d.locale }
}
