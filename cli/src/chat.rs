//! The sbctl commands that call the Chat API.

use anyhow::Context;
use serde_json::{Value, json};
use switchboard_sdk::proto as pb;
use switchboard_sdk::{Client, SdkError};

use crate::args::{
    AdminCommand, ChannelCommand, Command, DevicesCommand, DmCommand, FiltersCommand,
    MemberCommand, NotificationsCommand, PushCommand, PushLevelArg, RelayCommand, ReportsCommand,
    RetentionCommand, RetentionKeep, TeamCommand, ThreadCommand, TokenPlatformArg,
};
use crate::output;

/// One result to print: JSON for `--json`, the table (or line) otherwise.
pub(crate) struct Shown {
    pub(crate) json: Value,
    pub(crate) human: String,
}

impl Shown {
    pub(crate) fn print(&self, json: bool) -> anyhow::Result<()> {
        if json {
            println!("{}", serde_json::to_string_pretty(&self.json)?);
        } else {
            println!("{}", self.human);
        }
        Ok(())
    }
}

pub(crate) async fn run(
    addr: &str,
    token: Option<&str>,
    ca_pem: Option<&[u8]>,
    json: bool,
    command: Command,
) -> anyhow::Result<()> {
    let client = connect(addr, token, ca_pem).await?;
    execute(&client, command).await?.print(json)
}

/// A client for `addr`, with the token from --token or SWITCHBOARD_TOKEN.
pub(crate) async fn connect(
    addr: &str,
    token: Option<&str>,
    ca_pem: Option<&[u8]>,
) -> anyhow::Result<Client> {
    Ok(Client::connect_with_ca(addr, require_token(token)?, ca_pem).await?)
}

/// The token from --token or SWITCHBOARD_TOKEN.
pub(crate) fn require_token(token: Option<&str>) -> anyhow::Result<&str> {
    token.context(
        "no token: pass --token or set SWITCHBOARD_TOKEN (mint one with `sbctl token mint`)",
    )
}

async fn execute(client: &Client, command: Command) -> Result<Shown, SdkError> {
    Ok(match command {
        Command::Team(command) => team(client, command).await?,
        Command::Channel(command) => channel(client, command).await?,
        Command::Member(command) => member(client, command).await?,
        Command::Dm(DmCommand::Open { user }) => conversation(client.open_direct(&user).await?),
        Command::Dm(DmCommand::SelfNotes) => conversation(client.open_self().await?),
        Command::Send { channel, text, to, reply_to, also_in_conversation, client_msg_id } => {
            let request = pb::SendMessageRequest {
                channel_id: channel,
                to: to.unwrap_or_default(),
                r#type: pb::MessageType::Text as i32,
                data: text,
                parent_id: reply_to.unwrap_or(0),
                also_in_conversation,
                client_msg_id: client_msg_id.unwrap_or_default(),
                ..Default::default()
            };
            let sent = client.send(request).await?;
            let message = sent.message.ok_or(SdkError::MissingField("message"))?;
            let note = if sent.duplicate { " (a retry: this is the original)" } else { "" };
            Shown {
                json: json!({ "message": output::message_json(&message), "duplicate": sent.duplicate }),
                human: format!("sent message {}{note}", message.id),
            }
        }
        Command::Edit { channel, message, text } => {
            messages(vec![client.edit_message(channel, message, &text).await?])
        }
        Command::Pin { channel, message } => {
            messages(vec![client.pin_message(channel, message, true).await?])
        }
        Command::Unpin { channel, message } => {
            messages(vec![client.pin_message(channel, message, false).await?])
        }
        Command::React { channel, message, emoji, remove } => {
            messages(vec![client.react(channel, message, &emoji, !remove).await?])
        }
        Command::Reactions { channel, message, emoji } => {
            let mut users = Vec::new();
            let mut after = String::new();
            loop {
                let page = client.list_reactions(channel, message, &emoji, &after, 500).await?;
                users.extend(page.user_ids);
                if page.next_after.is_empty() {
                    break;
                }
                after = page.next_after;
            }
            Shown { human: users.join("\n"), json: json!(users) }
        }
        Command::Pins { channel } => messages(client.list_pins(channel).await?),
        Command::Files { channel, kind, before, limit } => {
            let kind = kind.unwrap_or_default();
            let before = before.unwrap_or(0);
            files(client.list_conversation_files(channel, &kind, before, limit).await?)
        }
        Command::Uploads { before, limit } => {
            files(client.list_my_uploads(before.unwrap_or(0), limit).await?)
        }
        Command::Versions { channel, message, limit, before_seq } => {
            let before_seq = before_seq.unwrap_or(0);
            let page = client.list_message_versions(channel, message, before_seq, limit).await?;
            let versions: Vec<Value> = page.versions.iter().map(output::version_json).collect();
            let mut human = output::versions_table(&page.versions).to_string();
            if page.has_more {
                human.push_str("\n(more: page on with --before-seq the last SEQ)");
            }
            Shown { json: json!({ "versions": versions, "has_more": page.has_more }), human }
        }
        Command::Delete { channel, message } => {
            messages(vec![client.delete_message(channel, message).await?])
        }
        Command::Replies { channel, root, before, limit } => {
            let request = pb::ListRepliesRequest {
                channel_id: channel,
                root_id: root,
                before: before.unwrap_or(0),
                limit,
                ..Default::default()
            };
            let page = client.replies(request).await?;
            let mut shown = messages(page.messages);
            shown.json = json!({ "messages": shown.json, "has_more": page.has_more });
            if page.has_more {
                shown.human.push_str("\n(more: page on with --before the last id)");
            }
            shown
        }
        Command::Thread(command) => {
            let thread = match command {
                ThreadCommand::Get { channel, root } => client.thread(channel, root).await?,
                ThreadCommand::Follow { channel, root } => {
                    client.follow_thread(channel, root, true).await?
                }
                ThreadCommand::Unfollow { channel, root } => {
                    client.follow_thread(channel, root, false).await?
                }
                ThreadCommand::Read { channel, root, message } => {
                    client.mark_thread_read(channel, root, message).await?
                }
            };
            threads(vec![thread], 0)
        }
        Command::Threads { before, limit } => {
            let page = client.threads(before.unwrap_or(0), limit).await?;
            threads(page.threads, page.next_before)
        }
        Command::History { channel, before, after, limit } => {
            let request = pb::ListHistoryRequest {
                channel_id: channel,
                before: before.unwrap_or(0),
                after: after.unwrap_or(0),
                limit,
            };
            let page = client.history(request).await?;
            let mut shown = messages(page.messages);
            shown.json = json!({ "messages": shown.json, "has_more": page.has_more });
            if page.has_more {
                shown.human.push_str("\n(more: page on with --before the last id)");
            }
            shown
        }
        Command::Typing { channel, stop } => {
            let expires_in_ms = client.set_typing(channel, !stop).await?;
            let state = if stop { "stopped typing" } else { "typing" };
            Shown {
                json: json!({ "channel_id": channel.to_string(), "typing": !stop, "expires_in_ms": expires_in_ms }),
                human: format!("{state} in {channel}"),
            }
        }
        Command::Read { channel, message } => {
            let up_to = client.mark_read(channel, message).await?;
            Shown {
                json: json!({ "channel_id": channel.to_string(), "read_up_to": up_to.to_string() }),
                human: format!("read up to {up_to} in {channel}"),
            }
        }
        Command::Presence { users } => {
            let users: Vec<&str> = users.iter().map(String::as_str).collect();
            let presence = client.presence(&users).await?;
            Shown {
                json: Value::Array(presence.iter().map(output::presence_json).collect()),
                human: output::presence_table(&presence).to_string(),
            }
        }
        Command::Status { availability, text } => {
            let availability = match availability.as_str() {
                "away" => pb::Availability::Away,
                "dnd" => pb::Availability::DoNotDisturb,
                _ => pb::Availability::Available,
            };
            let presence = client.set_status(availability, &text).await?;
            Shown {
                json: output::presence_json(&presence),
                human: output::presence_table(std::slice::from_ref(&presence)).to_string(),
            }
        }
        Command::Relay(RelayCommand::Status) => {
            let status = client.relay_status().await?;
            Shown {
                json: output::relay_status_json(&status),
                human: output::relay_status_table(&status).to_string(),
            }
        }
        Command::Admin(AdminCommand::Stats) => {
            let stats = client.admin_stats().await?;
            Shown {
                json: output::admin_stats_json(&stats),
                human: output::admin_stats_tables(&stats),
            }
        }
        Command::Admin(AdminCommand::Connections { user }) => {
            let connections = client.admin_connections(user.as_deref().unwrap_or("")).await?;
            Shown {
                json: Value::Array(connections.iter().map(output::connection_json).collect()),
                human: output::connections_table(&connections).to_string(),
            }
        }
        Command::Admin(AdminCommand::Suspend { user, reason }) => {
            suspensions(vec![client.suspend_user(&user, &reason).await?])
        }
        Command::Admin(AdminCommand::Unsuspend { user }) => {
            match client.unsuspend_user(&user).await? {
                true => done(format!("lifted {user}'s suspension")),
                false => done(format!("{user} was not suspended")),
            }
        }
        Command::Admin(AdminCommand::Suspended) => {
            let mut all = Vec::new();
            let mut after = String::new();
            loop {
                let (page, next) = client.list_suspensions(&after, 1000).await?;
                all.extend(page);
                if next.is_empty() {
                    break suspensions(all);
                }
                after = next;
            }
        }
        Command::Admin(AdminCommand::Erase { user, reason, wait }) => {
            crate::jobs::erase(client, &user, &reason, wait).await?
        }
        Command::Admin(AdminCommand::Job { id, wait }) => {
            crate::jobs::job(client, id, wait).await?
        }
        Command::Admin(AdminCommand::Jobs { limit }) => crate::jobs::list(client, limit).await?,
        Command::Admin(AdminCommand::Retention { change }) => {
            let policy = match change {
                None => client.get_retention().await?,
                Some(RetentionCommand::Set { keep, conversation }) => {
                    let conversation = conversation.unwrap_or(0);
                    match keep {
                        RetentionKeep::Days(days) => {
                            client.set_retention(conversation, days).await?
                        }
                        RetentionKeep::FollowOrg => {
                            client.follow_org_retention(conversation).await?
                        }
                    }
                }
            };
            Shown { json: output::retention_json(&policy), human: output::retention_text(&policy) }
        }
        Command::Export { user, conversation, wait, output } => {
            let what = match (user, conversation) {
                (Some(user), _) => crate::jobs::Exported::User(user),
                (None, Some(id)) => crate::jobs::Exported::Conversation(id),
                (None, None) => crate::jobs::Exported::Mine,
            };
            crate::jobs::export(client, what, wait, output.as_deref()).await?
        }
        Command::Search { query, channel, from, relevance, limit } => {
            let order =
                if relevance { pb::SearchOrder::Relevance } else { pb::SearchOrder::Newest };
            let request = pb::SearchRequest {
                query,
                conversation_id: channel.unwrap_or(0),
                from: from.unwrap_or_default(),
                order: order as i32,
                limit,
                ..Default::default()
            };
            let hits = client.search(request).await?.hits;
            Shown {
                json: Value::Array(hits.iter().map(output::search_hit_json).collect()),
                human: output::search_table(&hits).to_string(),
            }
        }
        Command::Notifications(NotificationsCommand::List { unread, limit }) => {
            let request =
                pb::ListNotificationsRequest { limit, unread_only: unread, ..Default::default() };
            let notifications = client.list_notifications(request).await?.notifications;
            Shown {
                json: Value::Array(notifications.iter().map(output::notification_json).collect()),
                human: output::notifications_table(&notifications).to_string(),
            }
        }
        Command::Notifications(NotificationsCommand::Push { level, quiet, no_quiet }) => {
            let mut settings = client.push_settings().await?;
            if let Some(level) = level {
                settings.level = match level {
                    PushLevelArg::All => pb::PushLevel::All,
                    PushLevelArg::Mentions => pb::PushLevel::Mentions,
                    PushLevelArg::None => pb::PushLevel::None,
                } as i32;
            }
            if let Some(quiet) = quiet {
                (settings.quiet_start_minute, settings.quiet_end_minute) = quiet;
            }
            if no_quiet {
                (settings.quiet_start_minute, settings.quiet_end_minute) = (0, 0);
            }
            if settings != client.push_settings().await? {
                settings = client.set_push_settings(settings).await?;
            }
            let (json, human) = output::push_settings(&settings);
            Shown { json, human }
        }
        Command::Devices(DevicesCommand::List) => devices(client.list_devices().await?),
        Command::Filters(FiltersCommand::Add { pattern, regex, flag }) => {
            let kind = if regex { pb::FilterKind::Regex } else { pb::FilterKind::Word };
            let action = if flag { pb::FilterAction::Flag } else { pb::FilterAction::Refuse };
            filters(vec![client.create_filter(kind, &pattern, action).await?])
        }
        Command::Filters(FiltersCommand::List) => filters(client.list_filters().await?),
        Command::Filters(FiltersCommand::Remove { id }) => match client.delete_filter(id).await? {
            true => done(format!("removed filter {id}")),
            false => done(format!("there is no filter {id}")),
        },
        Command::Reports(ReportsCommand::File { channel, message, reason }) => {
            reports(vec![client.report_message(channel, message, &reason).await?])
        }
        Command::Reports(ReportsCommand::List { channel, open }) => {
            let mut all = Vec::new();
            let mut before_id = 0;
            loop {
                let request = pb::ListReportsRequest {
                    conversation_id: channel,
                    before_id,
                    limit: 200,
                    open_only: open,
                };
                let page = client.list_reports(request).await?;
                all.extend(page.reports);
                if page.next_before == 0 {
                    break reports(all);
                }
                before_id = page.next_before;
            }
        }
        Command::Reports(ReportsCommand::Resolve { channel, report, dismiss }) => {
            reports(vec![client.resolve_report(channel, report, dismiss).await?])
        }
        Command::Push(PushCommand::Test) => {
            let tested = client.test_push().await?;
            Shown {
                json: Value::Array(tested.iter().map(output::tested_device_json).collect()),
                human: output::tested_devices_table(&tested).to_string(),
            }
        }
        Command::Devices(DevicesCommand::Register { platform, token, app_id, locale }) => {
            let platform = match platform {
                TokenPlatformArg::Fcm => pb::DevicePlatform::Fcm,
                TokenPlatformArg::Apns => pb::DevicePlatform::Apns,
            };
            let device = pb::Device {
                platform: platform as i32,
                token,
                app_id,
                locale,
                ..Default::default()
            };
            devices(vec![client.register_device(device).await?])
        }
        Command::Devices(DevicesCommand::Remove { device }) => {
            let removed = client.remove_device(device).await?;
            let line = match removed {
                true => format!("removed device {device}"),
                false => format!("device {device} is not one of yours"),
            };
            Shown { json: json!({ "removed": removed }), human: line }
        }
        Command::Notifications(NotificationsCommand::Read { ids, channel, all }) => {
            let request = pb::MarkNotificationsReadRequest {
                ids,
                conversation_id: channel.unwrap_or(0),
                all,
            };
            let marked = client.mark_notifications_read(request).await?;
            Shown { json: json!({ "marked": marked }), human: format!("marked {marked} read") }
        }
        Command::Profile(command) => crate::people::profile(client, command).await?,
        Command::Contacts(command) => {
            crate::people::list(client, crate::people::List::Contacts, command).await?
        }
        Command::Block(command) => {
            crate::people::list(client, crate::people::List::Blocked, command).await?
        }
        Command::Users { query, limit, page } => {
            crate::people::users(client, &query, limit, &page).await?
        }
        Command::Mute { channel } => mute(client, channel, true).await?,
        Command::Unmute { channel } => mute(client, channel, false).await?,
        Command::Audit { since, actor, team, action, limit } => {
            let since_ms = since.map_or(0, |ago| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                now.saturating_sub(*ago).as_millis() as i64
            });
            let request = pb::ListAuditRequest {
                since_ms,
                actor: actor.unwrap_or_default(),
                conversation_id: team.unwrap_or(0),
                action: action.unwrap_or_default(),
                limit,
                ..Default::default()
            };
            let entries = client.list_audit(request).await?.entries;
            Shown {
                json: Value::Array(entries.iter().map(output::audit_json).collect()),
                human: output::audit_table(&entries).to_string(),
            }
        }
        Command::Token(_)
        | Command::Completions { .. }
        | Command::Tail { .. }
        | Command::Upload { .. }
        | Command::Download { .. }
        | Command::Bench(_) => {
            unreachable!("handled in main")
        }
    })
}

async fn mute(client: &Client, channel: u64, muted: bool) -> Result<Shown, SdkError> {
    let muted = client.set_mute(channel, muted).await?;
    let state = if muted { "muted" } else { "unmuted" };
    Ok(Shown {
        json: json!({ "channel_id": channel.to_string(), "muted": muted }),
        human: format!("conversation {channel} {state}"),
    })
}

async fn team(client: &Client, command: TeamCommand) -> Result<Shown, SdkError> {
    Ok(match command {
        TeamCommand::Create { name, icon, tags, restricted, members, fields, link } => {
            let custom_fields = fields.into_iter().collect();
            let request = pb::CreateTeamRequest {
                name,
                icon,
                meta_tags: tags,
                restricted,
                members,
                custom_fields,
            };
            match link {
                None => conversation(client.create_team(request).await?),
                Some(key) => {
                    let create = Some(pb::open_linked_request::Create::Team(request));
                    linked(client.open_linked(&key, create).await?)
                }
            }
        }
        TeamCommand::Linked { key } => linked(client.open_linked(&key, None).await?),
        TeamCommand::List => {
            let all = client.all_conversations().await?;
            Shown {
                json: Value::Array(all.iter().map(output::conversation_json).collect()),
                human: output::conversations_table(&all).to_string(),
            }
        }
        TeamCommand::Show { id } => {
            let c = client.get_conversation(id).await?;
            let members = all_members(client, id).await.unwrap_or_default();
            let mut json = output::conversation_json(&c);
            json["members"] = Value::Array(members.iter().map(output::member_json).collect());
            Shown {
                json,
                human: format!(
                    "{}\n{}",
                    output::conversation_table(&c),
                    output::members_table(&members)
                ),
            }
        }
        TeamCommand::Update {
            id,
            name,
            icon,
            tags,
            clear_tags,
            restricted,
            fields,
            clear_fields,
            members_may_pin,
            slow_mode,
        } => {
            let meta_tags = (clear_tags || !tags.is_empty()).then_some(pb::TagList { tags });
            let custom_fields = (clear_fields || !fields.is_empty())
                .then(|| pb::FieldMap { fields: fields.into_iter().collect() });
            let request = pb::UpdateTeamRequest {
                conversation_id: id,
                name,
                icon,
                meta_tags,
                restricted,
                custom_fields,
                members_may_pin,
                slow_mode_seconds: slow_mode.map(|d| seconds(d.into())),
            };
            conversation(client.update_team(request).await?)
        }
        TeamCommand::Archive { id } => conversation(client.archive(id).await?),
        TeamCommand::Transfer { id, new_owner } => {
            conversation(client.transfer_ownership(id, &new_owner).await?)
        }
        TeamCommand::Leave { id } => {
            client.leave(id).await?;
            done(format!("left conversation {id}"))
        }
    })
}

/// A page of files, with where the next one starts.
fn files(page: pb::ListFilesResponse) -> Shown {
    let attachments: Vec<Value> = page.attachments.iter().map(output::attachment_json).collect();
    let next = (page.next_before_id != 0).then(|| page.next_before_id.to_string());
    let mut human = output::attachments_table(&page.attachments).to_string();
    if let Some(next) = &next {
        human.push_str(&format!("\n(more: --before {next})"));
    }
    Shown { json: json!({ "attachments": attachments, "next_before_id": next }), human }
}

/// A linked conversation, and whether it was created just now.
fn linked((c, created): (pb::Conversation, bool)) -> Shown {
    let mut shown = conversation(c);
    shown.json["created"] = Value::Bool(created);
    shown.human.push_str(if created { "\n(created and linked)" } else { "\n(linked already)" });
    shown
}

async fn channel(client: &Client, command: ChannelCommand) -> Result<Shown, SdkError> {
    Ok(match command {
        ChannelCommand::Create { name, public, tags, members } => {
            let visibility =
                if public { pb::Visibility::Public } else { pb::Visibility::Private } as i32;
            let request = pb::CreateChannelRequest {
                name,
                icon: String::new(),
                meta_tags: tags,
                visibility,
                members,
                custom_fields: Default::default(),
            };
            conversation(client.create_channel(request).await?)
        }
        ChannelCommand::Join { id } => conversation(client.join_channel(id).await?),
    })
}

async fn member(client: &Client, command: MemberCommand) -> Result<Shown, SdkError> {
    Ok(match command {
        MemberCommand::List { id } => members(all_members(client, id).await?),
        MemberCommand::Add { id, users } => {
            let users: Vec<&str> = users.iter().map(String::as_str).collect();
            members(client.add_members(id, &users).await?)
        }
        MemberCommand::Remove { id, user } => {
            client.remove_member(id, &user).await?;
            done(format!("removed {user} from conversation {id}"))
        }
        MemberCommand::Promote { id, user } => {
            members(vec![client.promote_admin(id, &user).await?])
        }
        MemberCommand::Demote { id, user } => members(vec![client.demote_admin(id, &user).await?]),
        MemberCommand::Ban { id, user, reason } => {
            bans(vec![client.ban_member(id, &user, &reason).await?])
        }
        MemberCommand::Timeout { id, user, duration, reason } => {
            let seconds = seconds(duration.into());
            members(vec![client.timeout_member(id, &user, seconds, &reason).await?])
        }
        MemberCommand::Unban { id, user } => match client.unban_member(id, &user).await? {
            true => done(format!("unbanned {user} in conversation {id}")),
            false => done(format!("{user} was not banned in conversation {id}")),
        },
        MemberCommand::Bans { id } => {
            let mut all = Vec::new();
            let mut after = String::new();
            loop {
                let (page, next) = client.list_bans(id, &after, 1000).await?;
                all.extend(page);
                if next.is_empty() {
                    break bans(all);
                }
                after = next;
            }
        }
    })
}

async fn all_members(client: &Client, id: u64) -> Result<Vec<pb::Member>, SdkError> {
    let mut all = Vec::new();
    let mut after = String::new();
    loop {
        let page = client.list_members(id, &after, 1000).await?;
        all.extend(page.members);
        if page.next_after.is_empty() {
            return Ok(all);
        }
        after = page.next_after;
    }
}

fn conversation(c: pb::Conversation) -> Shown {
    Shown { json: output::conversation_json(&c), human: output::conversation_table(&c).to_string() }
}

fn members(members: Vec<pb::Member>) -> Shown {
    Shown {
        json: Value::Array(members.iter().map(output::member_json).collect()),
        human: output::members_table(&members).to_string(),
    }
}

fn reports(reports: Vec<pb::Report>) -> Shown {
    Shown {
        json: Value::Array(reports.iter().map(output::report_json).collect()),
        human: output::reports_table(&reports).to_string(),
    }
}

fn filters(filters: Vec<pb::Filter>) -> Shown {
    Shown {
        json: Value::Array(filters.iter().map(output::filter_json).collect()),
        human: output::filters_table(&filters).to_string(),
    }
}

fn suspensions(suspensions: Vec<pb::Suspension>) -> Shown {
    Shown {
        json: Value::Array(suspensions.iter().map(output::suspension_json).collect()),
        human: output::suspensions_table(&suspensions).to_string(),
    }
}

fn bans(bans: Vec<pb::Ban>) -> Shown {
    Shown {
        json: Value::Array(bans.iter().map(output::ban_json).collect()),
        human: output::bans_table(&bans).to_string(),
    }
}

fn messages(messages: Vec<pb::Message>) -> Shown {
    Shown {
        json: Value::Array(messages.iter().map(output::message_json).collect()),
        human: output::messages_table(&messages).to_string(),
    }
}

fn devices(devices: Vec<pb::Device>) -> Shown {
    Shown {
        json: Value::Array(devices.iter().map(output::device_json).collect()),
        human: output::devices_table(&devices).to_string(),
    }
}

/// Threads as a table, with the next page's cursor (0: none).
fn threads(threads: Vec<pb::Thread>, next_before: u64) -> Shown {
    let listed: Vec<Value> = threads.iter().map(output::thread_json).collect();
    let mut human = output::threads_table(&threads).to_string();
    if next_before != 0 {
        human.push_str(&format!("\n(more: page on with --before {next_before})"));
    }
    Shown {
        json: json!({ "threads": listed, "next_before": (next_before != 0).then(|| next_before.to_string()) }),
        human,
    }
}

fn done(line: String) -> Shown {
    Shown { json: json!({ "ok": true, "message": line }), human: line }
}

/// A duration as whole seconds, for the calls that take them (the server refuses what is
/// too long, saying how long may be).
fn seconds(duration: std::time::Duration) -> u32 {
    u32::try_from(duration.as_secs()).unwrap_or(u32::MAX)
}
