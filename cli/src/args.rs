//! sbctl's command line, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "sbctl", version, about = "Operate Switchboard: tokens, teams, members, messages")]
pub(crate) struct Cli {
    /// Server address: a relay (the default, as `switchboard dev` runs it) or a controller.
    #[arg(long, global = true, env = "SWITCHBOARD_ADDR", default_value = "http://127.0.0.1:7400")]
    pub(crate) addr: String,
    /// Bearer token (see `sbctl token mint`).
    #[arg(long, global = true, env = "SWITCHBOARD_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// CA certificate (PEM) to trust for an https:// address.
    #[arg(long, global = true, env = "SWITCHBOARD_CA_FILE")]
    pub(crate) ca_file: Option<std::path::PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Mint tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Teams (GROUP conversations) and conversations in general.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Broadcast channels.
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Members and roles.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Direct conversations and your notes-to-self.
    #[command(subcommand)]
    Dm(DmCommand),
    /// Send a message.
    Send {
        channel: u64,
        text: String,
        /// Deliver privately to this member only.
        #[arg(long)]
        to: Option<String>,
        /// Reply in the thread of this message id.
        #[arg(long)]
        reply_to: Option<u64>,
        /// With --reply-to: show the reply in the conversation too, not only in its thread.
        #[arg(long, requires = "reply_to")]
        also_in_conversation: bool,
        /// Idempotency key: retrying with the same key never duplicates the message.
        #[arg(long)]
        client_msg_id: Option<String>,
    },
    /// Replace the text of one of your messages.
    Edit { channel: u64, message: u64, text: String },
    /// React to a message with an emoji (or take it back with --remove).
    React {
        channel: u64,
        message: u64,
        /// A Unicode emoji, or a custom :name:.
        emoji: String,
        #[arg(long)]
        remove: bool,
    },
    /// Who reacted to a message with an emoji, earliest first.
    Reactions { channel: u64, message: u64, emoji: String },
    /// Pin a message to its conversation for everyone.
    Pin { channel: u64, message: u64 },
    /// Unpin a message.
    Unpin { channel: u64, message: u64 },
    /// A conversation's pinned messages, most recently pinned first.
    Pins { channel: u64 },
    /// Show a message's earlier texts (each edit keeps the one it replaced), newest first.
    Versions {
        channel: u64,
        message: u64,
        /// How many (1 to 100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Only those replaced before this log position (the last one's of a page).
        #[arg(long)]
        before_seq: Option<u64>,
    },
    /// Delete a message.
    Delete { channel: u64, message: u64 },
    /// Show a thread's replies, newest first.
    Replies {
        channel: u64,
        /// The thread's root message.
        root: u64,
        /// Only replies older than this id.
        #[arg(long)]
        before: Option<u64>,
        /// How many (1 to 200).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One thread as you see it: follow it, stop, or mark it read.
    #[command(subcommand)]
    Thread(ThreadCommand),
    /// The threads you follow, the one with the newest reply first.
    Threads {
        /// Only threads whose newest reply is older than this id (the last page's `next`).
        #[arg(long)]
        before: Option<u64>,
        /// How many (1 to 100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Show a conversation's messages, newest first.
    History {
        channel: u64,
        /// Only messages older than this id.
        #[arg(long)]
        before: Option<u64>,
        /// Only messages newer than this id.
        #[arg(long)]
        after: Option<u64>,
        /// How many (1 to 200).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Find messages in your conversations by their words, newest first.
    Search {
        /// Words to find (all must match); "quoted phrases", -word and word* work too.
        query: String,
        /// Only this conversation.
        #[arg(long)]
        channel: Option<u64>,
        /// Only messages from this user.
        #[arg(long)]
        from: Option<String>,
        /// Best match first instead of newest first.
        #[arg(long)]
        relevance: bool,
        /// How many (1 to 100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Your notifications: mentions and direct messages you were not following live.
    #[command(subcommand)]
    Notifications(NotificationsCommand),
    /// Your devices for push: list, register one by its token, remove one.
    #[command(subcommand)]
    Devices(DevicesCommand),
    /// Your org's word and regex filters for messages (needs chat.admin).
    #[command(subcommand)]
    Filters(FiltersCommand),
    /// Reports of messages to a team's admins: file one; list and resolve them (admins).
    #[command(subcommand)]
    Reports(ReportsCommand),
    /// Push to your devices: `test` alerts each now and shows what its provider answered.
    #[command(subcommand)]
    Push(PushCommand),
    /// Stop notifications from a conversation (except @mentions of you).
    Mute { channel: u64 },
    /// Notify again about a muted conversation.
    Unmute { channel: u64 },
    /// Stream live events (messages, typing, presence, ...) until interrupted.
    Tail {
        /// Conversations to follow; none: all of yours, following membership changes.
        channels: Vec<u64>,
    },
    /// Upload a file to a conversation and send it there as a message.
    Upload {
        file: PathBuf,
        /// The conversation to send it to.
        #[arg(long)]
        channel: u64,
        /// A caption sent with it.
        #[arg(long)]
        text: Option<String>,
        /// The MIME type; guessed from the file name when not given.
        #[arg(long)]
        content_type: Option<String>,
    },
    /// A conversation's files, newest first.
    Files {
        channel: u64,
        /// Only this kind: image, video, audio or file (anything else).
        #[arg(long)]
        kind: Option<String>,
        /// Only files older than this attachment id (the previous page's last).
        #[arg(long)]
        before: Option<u64>,
        /// How many (1 to 200).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Your uploads, in every conversation, newest first.
    Uploads {
        #[arg(long)]
        before: Option<u64>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Download an attachment.
    Download {
        attachment: u64,
        /// Where to write it (default: its file name, in the current directory).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Overwrite the output file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Tell a conversation you are typing (or stopped, with --stop).
    Typing {
        channel: u64,
        #[arg(long)]
        stop: bool,
    },
    /// Mark a conversation read up to a message.
    Read { channel: u64, message: u64 },
    /// Show users' presence: online, the status they set, when last seen.
    Presence {
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Set your availability and status text (others watching you see it).
    Status {
        /// available, away or dnd.
        #[arg(value_parser = ["available", "away", "dnd"])]
        availability: String,
        /// A short text ("in a meeting"); none clears it.
        #[arg(default_value = "")]
        text: String,
    },
    /// Profiles: who people are (needs the user.profile.* scopes).
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Your contacts (needs user.contacts.manage).
    #[command(subcommand)]
    Contacts(PeopleListCommand),
    /// Users you block: no direct messages either way (needs user.contacts.manage).
    #[command(subcommand)]
    Block(PeopleListCommand),
    /// Find users of your org by words of their name, title or id (needs
    /// user.profile.search_users).
    Users {
        query: String,
        /// At most this many (1 to 100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Go on from a previous page's token.
        #[arg(long, default_value = "")]
        page: String,
    },
    /// Relay operations.
    #[command(subcommand)]
    Relay(RelayCommand),
    /// Export data as a tar archive made in the background: your own (default), a user's or
    /// a conversation's (those two need chat.admin).
    Export {
        /// A user's data instead of your own.
        #[arg(long, conflicts_with = "conversation")]
        user: Option<String>,
        /// A conversation instead of your own data.
        #[arg(long)]
        conversation: Option<u64>,
        /// Follow the job to its end, showing progress.
        #[arg(long)]
        wait: bool,
        /// Download the archive here once it is made (implies --wait).
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Operator views and actions for your org: cluster figures, connections, suspensions
    /// (need chat.admin).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Your org's audit log, newest first (needs chat.admin).
    Audit {
        /// How far back, e.g. 24h or 30d (default 7d, at most 366d).
        #[arg(long)]
        since: Option<humantime::Duration>,
        /// Only what this user did.
        #[arg(long)]
        actor: Option<String>,
        /// Only this team or conversation.
        #[arg(long)]
        team: Option<u64>,
        /// Only this action, e.g. member.added.
        #[arg(long)]
        action: Option<String>,
        /// At most this many entries (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Load scenarios with real client connections; prints a table (see docs/benchmarks.md).
    Bench(crate::bench::BenchArgs),
    /// Print a shell completion script.
    Completions { shell: clap_complete::Shell },
}

#[derive(Subcommand)]
pub(crate) enum NotificationsCommand {
    /// Newest first.
    List {
        /// Only unread ones.
        #[arg(long)]
        unread: bool,
        /// How many (1 to 200).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Mark notifications read: these ids, or --channel, or --all.
    Read {
        ids: Vec<u64>,
        /// Every notification of this conversation.
        #[arg(long, conflicts_with = "ids")]
        channel: Option<u64>,
        /// Every notification.
        #[arg(long, conflicts_with_all = ["ids", "channel"])]
        all: bool,
    },
    /// Show your push preferences, or change them: what is pushed, and quiet hours.
    Push {
        /// What is pushed: mentions means mentions and direct messages.
        #[arg(long)]
        level: Option<PushLevelArg>,
        /// Quiet hours in your profile's time zone (UTC without one), e.g. 22:00-07:00.
        #[arg(long, conflicts_with = "no_quiet", value_parser = quiet_hours)]
        quiet: Option<(u32, u32)>,
        /// No quiet hours.
        #[arg(long)]
        no_quiet: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum DevicesCommand {
    /// Your devices, most recently registered first (tokens are never shown).
    List,
    /// Register a device by its FCM or APNs token.
    Register {
        #[arg(long)]
        platform: TokenPlatformArg,
        #[arg(long)]
        token: String,
        /// The app's id (for APNs its bundle id, which is required).
        #[arg(long, default_value = "")]
        app_id: String,
        /// The language its notifications are written in, such as de-CH.
        #[arg(long, default_value = "")]
        locale: String,
    },
    /// Remove one of your devices.
    Remove { device: u64 },
}

#[derive(Subcommand)]
pub(crate) enum FiltersCommand {
    /// Add a filter: a word or phrase (matched whole, ignoring case), or with --regex a
    /// regular expression.
    Add {
        pattern: String,
        /// PATTERN is a regular expression (Rust `regex` syntax).
        #[arg(long)]
        regex: bool,
        /// Let matching messages through and flag them for review, rather than refuse them.
        #[arg(long)]
        flag: bool,
    },
    /// Your org's filters, oldest first.
    List,
    /// Remove a filter.
    Remove { id: u64 },
}

#[derive(Subcommand)]
pub(crate) enum ReportsCommand {
    /// Report a message to the conversation's admins.
    File {
        channel: u64,
        message: u64,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// A conversation's reports, newest first (admins).
    List {
        channel: u64,
        /// Only the open ones.
        #[arg(long)]
        open: bool,
    },
    /// Resolve an open report (admins).
    Resolve {
        channel: u64,
        report: u64,
        /// Dismiss it (nothing to act on) rather than resolve it.
        #[arg(long)]
        dismiss: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum PushCommand {
    /// Alert each of your devices now (whatever your push preferences) and show what each
    /// provider answered; devices a provider no longer knows are removed.
    Test,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum TokenPlatformArg {
    Fcm,
    Apns,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum PushLevelArg {
    All,
    Mentions,
    None,
}

/// `HH:MM-HH:MM` as minutes after midnight.
fn quiet_hours(text: &str) -> Result<(u32, u32), String> {
    let minute = |time: &str| -> Option<u32> {
        let (hours, minutes) = time.trim().split_once(':')?;
        let (hours, minutes): (u32, u32) = (hours.parse().ok()?, minutes.parse().ok()?);
        (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
    };
    let bad = || format!("{text}: use HH:MM-HH:MM, e.g. 22:00-07:00");
    let (from, to) = text.split_once('-').ok_or_else(bad)?;
    Ok((minute(from).ok_or_else(bad)?, minute(to).ok_or_else(bad)?))
}

/// Changing and listing one of your lists of people.
#[derive(Subcommand)]
pub(crate) enum PeopleListCommand {
    /// Everyone on it, by user id.
    List,
    /// Put users on it.
    Add {
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Take users off it.
    Remove {
        #[arg(required = true)]
        users: Vec<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum ProfileCommand {
    /// Show these users' profiles (yours when none is named).
    Show { users: Vec<String> },
    /// Change your profile, only what is given (someone else's with --user and chat.admin).
    /// An empty value clears a field.
    Set {
        /// Whose profile (an org admin's call); default: yours.
        #[arg(long)]
        user: Option<String>,
        /// The name others see.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        bio: Option<String>,
        /// An IANA time zone name, e.g. Europe/Berlin.
        #[arg(long)]
        time_zone: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// A custom field, KEY=VALUE (repeat for more): replaces all custom fields.
        #[arg(long = "field", value_parser = key_value)]
        fields: Option<Vec<(String, String)>>,
        /// Upload this picture (PNG, JPEG, GIF or WebP, at most 5 MiB) as your avatar; the
        /// one it replaces is deleted.
        #[arg(long, conflicts_with_all = ["user", "clear_avatar"])]
        avatar: Option<std::path::PathBuf>,
        /// Remove the avatar (and delete its picture).
        #[arg(long)]
        clear_avatar: bool,
    },
}

fn key_value(pair: &str) -> Result<(String, String), String> {
    let (key, value) = pair.split_once('=').ok_or("expected KEY=VALUE")?;
    Ok((key.to_string(), value.to_string()))
}

#[derive(Subcommand)]
pub(crate) enum RelayCommand {
    /// What the relay at --addr is doing (needs chat.admin).
    Status,
}

#[derive(Subcommand)]
pub(crate) enum AdminCommand {
    /// The key figures of every controller and relay.
    Stats,
    /// Who of your org is connected, on which relay.
    Connections {
        /// Only this user.
        #[arg(long)]
        user: Option<String>,
    },
    /// Suspend a user org-wide: their streams end and every call is refused until lifted.
    Suspend {
        user: String,
        /// Why (kept in the audit log and shown to them).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Lift a suspension.
    Unsuspend { user: String },
    /// Your org's suspended users.
    Suspended,
    /// Erase a suspended user: their messages become tombstones, their files, profile and
    /// devices go, reports and the audit log name a pseudonym. Runs in the background.
    Erase {
        user: String,
        /// Why (kept with the job).
        #[arg(long, default_value = "")]
        reason: String,
        /// Follow the job to its end, showing progress.
        #[arg(long)]
        wait: bool,
    },
    /// One background job: its step and what it did.
    Job {
        id: u64,
        /// Follow it to its end, showing progress.
        #[arg(long)]
        wait: bool,
    },
    /// Your org's background jobs, newest first.
    Jobs {
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// How long your org keeps messages (shown without a subcommand): the org's default
    /// and conversations with their own. A change applies to messages sent after it.
    Retention {
        #[command(subcommand)]
        change: Option<RetentionCommand>,
    },
}

#[derive(Subcommand)]
pub(crate) enum RetentionCommand {
    /// Keep messages DAYS days, `forever`, or (for a conversation) as the `org` does.
    Set {
        #[arg(value_parser = retention_keep)]
        keep: RetentionKeep,
        /// This conversation's policy instead of the org's.
        #[arg(long)]
        conversation: Option<u64>,
    },
}

/// What `admin retention set` keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RetentionKeep {
    /// Days; 0 is forever.
    Days(u32),
    FollowOrg,
}

fn retention_keep(text: &str) -> Result<RetentionKeep, String> {
    match text {
        "forever" => Ok(RetentionKeep::Days(0)),
        "org" => Ok(RetentionKeep::FollowOrg),
        days => match days.parse::<u32>() {
            Ok(0) | Err(_) => Err(format!("{text}: use a number of days, `forever` or `org`")),
            Ok(days) => Ok(RetentionKeep::Days(days)),
        },
    }
}

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
    /// Sign a token with the dev secret (default) or a private key.
    Mint(MintArgs),
}

#[derive(Args)]
pub(crate) struct MintArgs {
    #[arg(long)]
    pub(crate) user: String,
    #[arg(long)]
    pub(crate) org: String,
    /// Scopes (repeat or space-separate); default: chat.read chat.write chat.teams.manage
    /// chat.files.
    #[arg(long = "scope", num_args = 1..)]
    pub(crate) scopes: Vec<String>,
    /// Lifetime, e.g. 30m, 1h, 7d.
    #[arg(long, default_value = "1h")]
    pub(crate) ttl: humantime::Duration,
    /// Display name claim.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// HS256 secret file.
    #[arg(long, env = "SWITCHBOARD_SECRET_FILE", default_value = "switchboard-data/dev-secret")]
    pub(crate) secret_file: PathBuf,
    /// PEM private key to sign with instead of the secret.
    #[arg(long, requires = "alg")]
    pub(crate) key_file: Option<PathBuf>,
    /// Algorithm for --key-file: RS256, ES256, EdDSA, ...
    #[arg(long)]
    pub(crate) alg: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum TeamCommand {
    /// Create a team; you become its owner.
    Create {
        name: String,
        #[arg(long, default_value = "")]
        icon: String,
        /// Meta tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Only admins and the owner may post.
        #[arg(long)]
        restricted: bool,
        /// Initial member (repeatable).
        #[arg(long = "member")]
        members: Vec<String>,
        /// A custom field, KEY=VALUE (repeatable).
        #[arg(long = "field", value_parser = key_value)]
        fields: Vec<(String, String)>,
        /// Link it to this business object (`order:1234`): if a conversation is linked to it
        /// already, that one is shown instead of creating another.
        #[arg(long)]
        link: Option<String>,
    },
    /// The conversation linked to a business object (`order:1234`).
    Linked { key: String },
    /// Your conversations, of every kind.
    List,
    /// One conversation and its members.
    Show { id: u64 },
    /// Change name, icon, tags or restriction.
    Update {
        id: u64,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        icon: Option<String>,
        /// Replace all tags with these (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Remove every tag.
        #[arg(long, conflicts_with = "tags")]
        clear_tags: bool,
        #[arg(long)]
        restricted: Option<bool>,
        /// Replace all custom fields with these, KEY=VALUE (repeatable).
        #[arg(long = "field", value_parser = key_value)]
        fields: Vec<(String, String)>,
        /// Remove every custom field.
        #[arg(long, conflicts_with = "fields")]
        clear_fields: bool,
        /// Whether plain members may pin messages too.
        #[arg(long)]
        members_may_pin: Option<bool>,
        /// Slow mode: the least time between two posts of one plain member ("30s", "5m";
        /// "0s" turns it off).
        #[arg(long)]
        slow_mode: Option<humantime::Duration>,
    },
    /// Make a team read-only for good (owner).
    Archive { id: u64 },
    /// Hand ownership to another member (owner).
    Transfer { id: u64, new_owner: String },
    /// Leave a team.
    Leave { id: u64 },
}

#[derive(Subcommand)]
pub(crate) enum ChannelCommand {
    /// Create a broadcast channel; you become its owner.
    Create {
        name: String,
        /// Anyone in the org may join.
        #[arg(long)]
        public: bool,
        #[arg(long = "tag")]
        tags: Vec<String>,
        #[arg(long = "member")]
        members: Vec<String>,
    },
    /// Join a public channel.
    Join { id: u64 },
}

#[derive(Subcommand)]
pub(crate) enum MemberCommand {
    /// List members.
    List { id: u64 },
    /// Add users as members.
    Add {
        id: u64,
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Remove a member.
    Remove { id: u64, user: String },
    /// Make a member an admin (owner).
    Promote { id: u64, user: String },
    /// Make an admin a member (owner).
    Demote { id: u64, user: String },
    /// Ban a user: removed if a member, and kept out until unbanned.
    Ban {
        id: u64,
        user: String,
        /// Why (kept in the audit log and shown to other admins).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Time a member out: they read but neither post, react nor type until it runs out.
    Timeout {
        id: u64,
        user: String,
        /// How long ("10m", "1h", "7d"; "0s" lifts the timeout).
        duration: humantime::Duration,
        /// Why (shown to them and kept in the audit log).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Lift a ban (the user is not added back).
    Unban { id: u64, user: String },
    /// The conversation's bans (admins).
    Bans { id: u64 },
}

#[derive(Subcommand)]
pub(crate) enum ThreadCommand {
    /// Your state of a thread: following, read up to, unread replies.
    Get { channel: u64, root: u64 },
    /// Follow a thread: hear of its replies.
    Follow { channel: u64, root: u64 },
    /// Stop following a thread (until you reply in it again).
    Unfollow { channel: u64, root: u64 },
    /// Mark a thread read up to one of its replies.
    Read { channel: u64, root: u64, message: u64 },
}

#[derive(Subcommand)]
pub(crate) enum DmCommand {
    /// Get or create the direct conversation with a user.
    Open { user: String },
    /// Get or create your notes-to-self conversation.
    #[command(name = "self")]
    SelfNotes,
}
