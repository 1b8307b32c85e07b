//! A follower that uses the web SDK: `sdk/web/test/model-follower.mjs` run by Node against
//! the built SDK (`npm run build` in `sdk/web`; `scripts/test` builds it before the Rust
//! tests). It hands its app's message events back as [`RealtimeEvent`]s, so that a test
//! judges both SDKs by one view.

use std::path::PathBuf;
use std::process::Stdio;

use switchboard_sdk::RealtimeEvent;
use switchboard_sdk::proto::{self as pb, event::Kind};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

pub struct WebFollower {
    child: Child,
    commands: ChildStdin,
    events: Lines<BufReader<ChildStdout>>,
}

impl WebFollower {
    /// Starts following as the token's user through the relay at `url`; None (saying why)
    /// when the web SDK is not built and `CI` is not set; in CI that is a failure.
    pub fn start(url: &str, token: &str) -> Option<WebFollower> {
        let web = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sdk/web");
        if !web.join("dist/index.js").exists() {
            let why = "the web SDK is not built (run `npm run build` in sdk/web)";
            if std::env::var_os("CI").is_some() {
                panic!("{why}");
            }
            eprintln!("{why}: the web SDK follower is left out");
            return None;
        }
        let mut child = Command::new("node")
            .arg(web.join("test/model-follower.mjs"))
            .args([url, token])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (scripts/setup installs it)");
        let commands = child.stdin.take().expect("piped stdin");
        let events = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        Some(WebFollower { child, commands, events })
    }

    /// `disconnect` (closing the session, keeping the positions its app was handed) or
    /// `reconnect` (resuming from them).
    pub async fn command(&mut self, command: &str) {
        let line = format!("{command}\n");
        self.commands.write_all(line.as_bytes()).await.expect("the web follower takes commands");
    }

    /// The next event its app was handed: `Live`, or a message event (with only the
    /// conversation, position, id, text and deleted flag filled in); or a note for the
    /// trace (its state, its positions), as an `Error` with code 0. None once it exits.
    pub async fn next(&mut self) -> Option<RealtimeEvent> {
        let line = self.events.next_line().await.ok()??;
        let json: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        let number = |field: &str| json[field].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
        let message = pb::Message {
            id: number("id"),
            channel_id: number("conversation"),
            data: json["data"].as_str().unwrap_or_default().to_string(),
            deleted: json["deleted"].as_bool().unwrap_or(false),
            ..Default::default()
        };
        let kind = match json["kind"].as_str() {
            Some("live") => return Some(RealtimeEvent::Live(pb::Live::default())),
            Some("note") => {
                let message = json["text"].as_str().unwrap_or_default().to_string();
                return Some(RealtimeEvent::Error(pb::ErrorFrame {
                    message,
                    ..Default::default()
                }));
            }
            Some("messageCreated") => {
                Kind::MessageCreated(pb::MessageCreated { message: Some(message) })
            }
            Some("messageEdited") => {
                Kind::MessageEdited(pb::MessageEdited { message: Some(message) })
            }
            Some("messageDeleted") => Kind::MessageDeleted(pb::MessageDeleted {
                message: Some(message),
                ..Default::default()
            }),
            other => panic!("the web follower printed {other:?}"),
        };
        let event = pb::Event {
            conversation_id: number("conversation"),
            seq: number("seq"),
            kind: Some(kind),
        };
        Some(RealtimeEvent::Event(event))
    }
}

impl Drop for WebFollower {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
