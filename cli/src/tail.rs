//! `sbctl tail`: a live connection printing every event until Ctrl-C. Reconnects and
//! resumes by itself (the SDK's `Realtime`), so a relay restart loses nothing.

use switchboard_sdk::{Client, Realtime, RealtimeEvent, RealtimeOptions};

use crate::chat::require_token;
use crate::output;

pub(crate) async fn run(
    addr: &str,
    token: Option<&str>,
    ca_pem: Option<Vec<u8>>,
    json: bool,
    channels: Vec<u64>,
) -> anyhow::Result<()> {
    let token = require_token(token)?;
    let mut options = RealtimeOptions::new(addr, token);
    options.only = channels;
    options.ca_pem = ca_pem.clone();
    let mut live = Realtime::connect(options);
    let chat = Client::connect_with_ca(addr, token, ca_pem.as_deref()).await?;
    let (mut me, mut following) = (String::new(), Vec::new());
    let mut watching = false;
    loop {
        let event = tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            event = live.next() => event,
        };
        let Some(event) = event else { return Ok(()) };
        match event {
            RealtimeEvent::Event(event) if json => println!("{}", output::event_json(&event)),
            RealtimeEvent::Event(event) => println!("{}", output::event_line(&event)),
            RealtimeEvent::Welcome(welcome) => {
                eprintln!(
                    "connected as {} ({}), following {} conversation(s)",
                    welcome.user_id,
                    welcome.org,
                    welcome.channel_ids.len()
                );
                me = welcome.user_id;
                following = welcome.channel_ids;
            }
            RealtimeEvent::Live(_) => {
                eprintln!("live");
                // The presence shown is that of the members of the conversations followed
                // at the start: their state now, then their changes; and how many of each
                // conversation's members are online (of the first 100).
                if !watching {
                    watching = true;
                    let members = members_of(&chat, &following, &me).await;
                    let members: Vec<&str> = members.iter().map(String::as_str).collect();
                    live.watch_presence(&members).await?;
                    let counted = &following[..following.len().min(100)];
                    live.watch_online_counts(counted).await?;
                }
            }
            RealtimeEvent::Error(error) => eprintln!("error {}: {}", error.code, error.message),
            RealtimeEvent::Disconnected { code, message } => {
                eprintln!(
                    "disconnected ({}): {message}; reconnecting",
                    switchboard_sdk::code_name(code)
                );
            }
        }
    }
}

/// Members of `channels` (but the caller), at most 1,000 (a stream watches no more);
/// failures just mean fewer are shown.
async fn members_of(chat: &Client, channels: &[u64], me: &str) -> Vec<String> {
    let mut users: Vec<String> = Vec::new();
    for channel in channels {
        let Ok(page) = chat.list_members(*channel, "", 1000).await else { continue };
        for member in page.members {
            if member.user_id != me && !users.contains(&member.user_id) {
                users.push(member.user_id);
            }
        }
    }
    users.truncate(1000);
    users
}
