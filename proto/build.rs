//! Compiles `switchboard/v1/*.proto` with a vendored protoc, so no system install is needed.

use std::path::PathBuf;

const PROTOS: [&str; 12] = [
    "switchboard/v1/files.proto",
    "switchboard/v1/people.proto",
    "switchboard/v1/notifications.proto",
    "switchboard/v1/search.proto",
    "switchboard/v1/conversation.proto",
    "switchboard/v1/message.proto",
    "switchboard/v1/chat.proto",
    "switchboard/v1/events.proto",
    "switchboard/v1/realtime.proto",
    "switchboard/v1/fanout.proto",
    "switchboard/v1/relay_admin.proto",
    "switchboard/v1/admin.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // Most messages are text: keep the rare attachment metadata out of line, so that
    // every Message (and every event holding one) stays small.
    config.boxed(".switchboard.v1.Message.attachment");
    // Only DIRECT conversations in a few answers carry their peer: the same for every
    // Conversation (and every event holding one).
    config.boxed(".switchboard.v1.Conversation.peer");
    // Events about a conversation carry it whole (with its custom fields): out of line, so
    // that every Event stays the size of a message event.
    for event in ["MemberJoined", "ConversationUpdated", "ConversationArchived"] {
        config.boxed(format!(".switchboard.v1.{event}.conversation"));
    }

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("switchboard_descriptor.bin"))
        .codec_path("crate::codec::ProtoCodec")
        // `Realtime.Connect` would clash with the generated `connect` constructors; clients
        // are built from an `Endpoint` instead.
        .build_transport(false)
        .compile_with_config(config, &PROTOS, &["."])?;
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
