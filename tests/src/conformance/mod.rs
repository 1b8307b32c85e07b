//! The Store conformance suite: every behaviour the controller relies on, written once
//! against the `Store` traits, one file per aggregate. Each engine instantiates it with
//! [`store_conformance_suite!`](crate::store_conformance_suite), which makes each case a
//! test named `<engine>::<aggregate>::<case>`; the embedded engine's results are the
//! reference.

pub mod attachments;
pub mod audit;
pub mod conversations;
pub mod jobs;
pub mod log;
pub mod members;
pub mod messages;
pub mod moderation;
pub mod notifications;
pub mod profiles;
pub mod reads;
pub mod relations;
pub mod retention;
pub mod status;
pub mod threads;

use std::collections::BTreeMap;
use std::sync::Arc;

use switchboard_server::ids::{BUCKET_MS, EPOCH_MS, first_id_at};
use switchboard_server::model::{
    Conversation, Kind, LogPoint, Member, Message, MessageType, ReadMarker, Role, Visibility,
};
use switchboard_server::store::{Inserted, Store};

/// An engine under test: its store, and whatever must live as long as it (a temp dir).
pub struct Engine {
    pub store: Arc<dyn Store>,
    pub keep: Box<dyn std::any::Any + Send>,
}

/// Runs each case as its own test for one engine:
/// `store_conformance_suite!(name, crate::factory)` where `factory()` is an async fn
/// returning `Option<Engine>` (None: that engine is not configured here; the test says so
/// and passes).
#[macro_export]
macro_rules! store_conformance_suite {
    ($engine:ident, $make:path) => {
        mod $engine {
            $crate::store_conformance_suite!(@aggregate $make; conversations: conversations_round_trip, direct_conversations_are_one_per_pair_even_when_racing, self_conversations_are_one_per_user, linked_conversations_are_one_per_key_even_when_racing, an_org_lists_its_conversations_of_every_kind);
            $crate::store_conformance_suite!(@aggregate $make; members: members_are_listed_added_and_removed, roles_change_only_from_the_expected_role, ownership_moves_only_from_the_owner, users_conversations_page_by_id, members_keep_where_they_joined, mutes_and_read_markers_are_per_member);
            $crate::store_conformance_suite!(@aggregate $make; messages: retried_messages_return_the_original, concurrent_retries_store_one_message, history_walks_buckets_in_both_directions, history_ranges_are_exclusive_and_limited, edits_and_deletes_are_read_back, edits_keep_earlier_texts_until_a_delete, pins_follow_their_messages, reactions_are_one_per_user_and_emoji_and_counted_on_the_message, concurrent_writers_lose_nothing, message_changes_follow_inserts_and_updates, housekeeping_keeps_live_data, a_users_messages_are_listed_newest_first_across_conversations);
            $crate::store_conformance_suite!(@aggregate $make; threads: replies_are_listed_counted_and_leave_with_their_delete, follows_are_kept_per_user_and_listed_by_activity);
            $crate::store_conformance_suite!(@aggregate $make; log: the_log_orders_and_chains_every_change, concurrent_changes_take_distinct_chained_positions, the_log_counts_messages_for_everyone, a_removal_takes_its_place_in_the_log);
            $crate::store_conformance_suite!(@aggregate $make; reads: read_markers_only_move_forward, sending_marks_read, private_messages_stay_unread_until_the_marker_passes);
            $crate::store_conformance_suite!(@aggregate $make; notifications: notifications_are_per_user_newest_first_and_rewritable, a_messages_notifications_are_stored_with_it_and_not_again_for_a_retry, push_settings_are_kept_per_user, devices_are_kept_per_user_with_one_owner_each, deleting_a_message_removes_its_notifications, marking_read_never_brings_back_a_removed_notification);
            $crate::store_conformance_suite!(@aggregate $make; attachments: attachments_round_trip_with_their_messages, an_attachment_is_claimed_by_one_message, pending_uploads_are_listed_until_done, files_and_uploads_are_listed_newest_first);
            $crate::store_conformance_suite!(@aggregate $make; moderation: bans_are_kept_per_conversation_listed_by_user_and_removed_once, reports_are_listed_newest_first_and_rewritten_when_handled, timeouts_outlast_leaving_and_show_on_the_member_row, a_post_is_claimed_once_from_what_was_seen, filters_are_kept_per_org_listed_oldest_first_and_removed_once, suspensions_are_kept_per_org_listed_by_user_and_lifted_once);
            $crate::store_conformance_suite!(@aggregate $make; audit: audit_entries_are_listed_per_org_and_day_newest_first, audit_entries_are_listed_per_user_named_and_rewritten);
            $crate::store_conformance_suite!(@aggregate $make; jobs: jobs_are_leased_to_one_owner_and_leave_the_open_ones_when_finished, a_duty_is_leased_to_one_owner_until_the_lease_runs_out, export_archives_are_listed_due_by_time_until_taken_off);
            $crate::store_conformance_suite!(@aggregate $make; retention: policies_are_kept_per_org_and_conversation, expired_messages_go_with_everything_kept_of_them, a_sooner_expiry_is_a_change_in_the_log_and_listed_due_once);
            $crate::store_conformance_suite!(@aggregate $make; status: a_status_is_set_per_org_and_user_and_keeps_the_last_seen_time);
            $crate::store_conformance_suite!(@aggregate $make; relations: contacts_and_blocks_are_lists_per_user_and_kind);
            $crate::store_conformance_suite!(@aggregate $make; profiles: a_profile_is_created_once_and_changed_field_by_field, concurrent_changes_of_different_fields_all_stay, the_directory_finds_profiles_by_term_prefix_in_order, a_removed_profile_leaves_no_directory_entry);
        }
    };
    (@aggregate $make:path; $aggregate:ident: $($case:ident),*) => {
        mod $aggregate {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    match $make().await {
                        Some(engine) => {
                            $crate::conformance::$aggregate::$case(engine.store.clone()).await;
                            drop(engine);
                        }
                        None => eprintln!("skipped: engine not configured"),
                    }
                }
            )*
        }
    };
}

/// The org the cases' messages are sent in.
pub const ORG: &str = "acme";

/// A conversation as the cases store it.
pub fn conversation(id: u64, org: &str, kind: Kind) -> Conversation {
    Conversation {
        id,
        org: org.into(),
        kind,
        name: format!("c{id}"),
        icon: String::new(),
        archived: false,
        meta_tags: vec!["a".into()],
        owner: "owner".into(),
        created_at_ms: EPOCH_MS,
        restricted: false,
        visibility: Visibility::Private,
        member_count: 0,
        custom_fields: [("order".to_string(), "1234".to_string())].into(),
        external_key: None,
        members_may_pin: false,
        slow_mode_seconds: 0,
    }
}

fn member(user: &str, role: Role) -> Member {
    Member {
        user_id: user.into(),
        role,
        joined_at_ms: EPOCH_MS + 1,
        muted: false,
        joined: LogPoint::default(),
        timeout: None,
        last_post_ms: 0,
    }
}

/// A read marker on message `id` at log position `seq`, where the count was `count`.
fn marker(id: u64, seq: u64, count: u64) -> ReadMarker {
    ReadMarker { message_id: id, at: LogPoint { seq, count } }
}

/// A text message `m<id>` as the cases send it, with an idempotency key when given.
pub fn message(channel: u64, id: u64, from: &str, key: Option<&str>) -> Message {
    Message {
        id,
        channel_id: channel,
        from: from.into(),
        to: None,
        kind: MessageType::Text,
        data: format!("m{id}"),
        ts_ms: switchboard_server::ids::timestamp_ms(id),
        parent_id: None,
        edited_at_ms: None,
        deleted: false,
        custom_fields: BTreeMap::new(),
        client_msg_id: key.map(String::from),
        attachment: None,
        mentions: Vec::new(),
        deleted_by: None,
        created_seq: 0,
        seq: 0,
        pin: None,
        reactions: Vec::new(),
        thread_only: false,
        reply_count: 0,
        last_reply_id: None,
        expires_at_ms: 0,
    }
}

/// A message as read back, without the log positions the store gave it.
fn unpositioned(message: Message) -> Message {
    Message { created_seq: 0, seq: 0, ..message }
}

/// The original a retried insert answered with, without its log positions.
fn duplicate_of(inserted: Inserted) -> Message {
    match inserted {
        Inserted::Duplicate(original) => unpositioned(*original),
        Inserted::New(entry) => panic!("the retry was stored anew, at {entry:?}"),
    }
}

fn is_new(inserted: Inserted) -> bool {
    matches!(inserted, Inserted::New(_))
}

/// An id in `bucket`, `n` ms into it.
fn id_in(bucket: i64, n: i64) -> u64 {
    first_id_at(EPOCH_MS + bucket * BUCKET_MS + n)
}

async fn team(store: &Arc<dyn Store>, id: u64, users: &[(&str, Role)]) -> Conversation {
    let members: Vec<Member> = users.iter().map(|(u, r)| member(u, *r)).collect();
    let c = conversation(id, "acme", Kind::Group);
    store.create_conversation(&c, &members).await.unwrap();
    store.get_conversation(id).await.unwrap().unwrap()
}

/// A conversation id no other case (or earlier run on a shared keyspace) has used.
fn fresh_channel() -> u64 {
    switchboard_proto::ids::now_us() ^ (rand_tag() << 52)
}

fn rand_tag() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed) % 2048
}
