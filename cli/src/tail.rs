//! `sbctl tail`: a live connection printing every event until Ctrl-C. Reconnects and
//! resumes by itself (the SDK's `Realtime`), so a relay restart loses nothing.

use switchboard_sdk::{Realtime, RealtimeEvent, RealtimeOptions};

use crate::chat::require_token;
use crate::output;

pub(crate) async fn run(
    addr: &str,
    token: Option<&str>,
    ca_pem: Option<Vec<u8>>,
    json: bool,
    channels: Vec<u64>,
) -> anyhow::Result<()> {
    let mut options = RealtimeOptions::new(addr, require_token(token)?);
    options.only = channels;
    options.ca_pem = ca_pem;
    let mut live = Realtime::connect(options);
    loop {
        let event = tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            event = live.next() => event,
        };
        let Some(event) = event else { return Ok(()) };
        match event {
            RealtimeEvent::Event(event) if json => println!("{}", output::event_json(&event)),
            RealtimeEvent::Event(event) => println!("{}", output::event_line(&event)),
            RealtimeEvent::Welcome(welcome) => eprintln!(
                "connected as {} ({}), following {} conversation(s)",
                welcome.user_id,
                welcome.org,
                welcome.channel_ids.len()
            ),
            RealtimeEvent::Live(_) => eprintln!("live"),
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
