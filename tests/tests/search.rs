//! Search: a word sent a moment ago is found, but only in conversations the caller is in
//! (and private messages only by their sender and recipient); edits change what is found,
//! deletes remove it; the indexer catches up on what was sent while it was not running.

use std::time::Duration;

use std::sync::Arc;

use switchboard_sdk::Client;
use switchboard_tests::indexer::TestIndexer;
use switchboard_tests::{Code, NatsServer, TestController, create_team, expect_code, proto, sbctl};

/// How long the index may take to show a change.
const INDEX_DEADLINE: Duration = Duration::from_secs(10);

fn query(text: &str) -> proto::SearchRequest {
    proto::SearchRequest { query: text.into(), ..Default::default() }
}

fn texts(hits: &[proto::SearchHit]) -> Vec<String> {
    hits.iter().map(|h| h.message.as_ref().map(|m| m.data.clone()).unwrap_or_default()).collect()
}

/// Searches until the texts found include `marker` (sent last), then returns them all: the
/// index applies changes in order, so everything sent before the marker is in by then.
async fn found_with(client: &Client, request: proto::SearchRequest, marker: &str) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + INDEX_DEADLINE;
    loop {
        let found = texts(&client.search(request.clone()).await.expect("search").hits);
        if found.iter().any(|t| t == marker) {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "`{marker}` never found; found {found:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn only_the_callers_conversations_are_searched() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let bob = server.client("bob", "acme").await;
    let carol = server.client("carol", "acme").await;
    let shared = create_team(&alice, &["bob", "carol"]).await;
    let without_bob = create_team(&alice, &["carol"]).await;
    let left_by_bob = create_team(&alice, &["bob"]).await;
    let other_org = server.client("alice", "other").await;
    let theirs = create_team(&other_org, &[]).await;

    alice.send_text(shared, "zebra crossing at noon").await.unwrap();
    let private = proto::SendMessageRequest {
        channel_id: shared,
        to: "carol".into(),
        data: "zebra for carol only".into(),
        r#type: proto::MessageType::Text as i32,
        ..Default::default()
    };
    alice.send(private).await.unwrap();
    alice.send_text(without_bob, "zebra where bob never was").await.unwrap();
    alice.send_text(left_by_bob, "zebra bob left behind").await.unwrap();
    bob.leave(left_by_bob).await.unwrap();
    other_org.send_text(theirs, "zebra of another org").await.unwrap();
    alice.send_text(shared, "a zebra again").await.unwrap();

    let for_bob = found_with(&bob, query("zebra"), "a zebra again").await;
    assert_eq!(for_bob, ["a zebra again", "zebra crossing at noon"], "newest first");
    let for_carol = found_with(&carol, query("zebra"), "a zebra again").await;
    assert_eq!(
        for_carol,
        [
            "a zebra again",
            "zebra where bob never was",
            "zebra for carol only",
            "zebra crossing at noon"
        ]
    );
    let elsewhere = found_with(&other_org, query("zebra"), "zebra of another org").await;
    assert_eq!(elsewhere, ["zebra of another org"]);

    // Snippets mark the matched word.
    let hits = bob.search(query("crossing")).await.unwrap().hits;
    let parts: Vec<_> = hits[0].snippet.iter().map(|p| (p.text.as_str(), p.highlighted)).collect();
    assert_eq!(parts, [("zebra ", false), ("crossing", true), (" at noon", false)]);

    // Filters: one conversation (a member's only), one sender, all words, phrases.
    let in_one = proto::SearchRequest { conversation_id: without_bob, ..query("zebra") };
    assert_eq!(
        texts(&carol.search(in_one.clone()).await.unwrap().hits),
        ["zebra where bob never was"]
    );
    expect_code(bob.search(in_one).await, Code::PermissionDenied);
    let from_bob = proto::SearchRequest { from: "bob".into(), ..query("zebra") };
    assert!(carol.search(from_bob).await.unwrap().hits.is_empty());
    assert_eq!(
        texts(&bob.search(query("zebra noon")).await.unwrap().hits),
        ["zebra crossing at noon"]
    );
    assert!(bob.search(query("\"noon zebra\"")).await.unwrap().hits.is_empty());

    // Bad input says what is wrong.
    let empty = expect_code(bob.search(query("  ")).await, Code::InvalidArgument);
    assert!(empty.contains("query"), "{empty}");
    let bad_cursor = proto::SearchRequest { cursor: "nonsense".into(), ..query("zebra") };
    expect_code(bob.search(bad_cursor).await, Code::InvalidArgument);

    // sbctl search, as a user reads it.
    let token = server.token("bob", "acme");
    let table = sbctl(&server.url(), &token, &["search", "zebra"]).await.unwrap();
    assert!(table.contains("a **zebra** again") && table.contains("crossing at noon"), "{table}");
    assert!(!table.contains("carol only"), "{table}");
}

#[tokio::test]
async fn edits_change_what_is_found_and_deletes_remove_it() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let channel = create_team(&alice, &[]).await;
    let message = alice.send_text(channel, "apple pie recipe").await.unwrap();
    assert_eq!(found_with(&alice, query("apple"), "apple pie recipe").await.len(), 1);

    alice.edit_message(channel, message.id, "banana split recipe").await.unwrap();
    found_with(&alice, query("banana"), "banana split recipe").await;
    assert!(alice.search(query("apple")).await.unwrap().hits.is_empty(), "the old text is gone");

    alice.delete_message(channel, message.id).await.unwrap();
    alice.send_text(channel, "recipe index").await.unwrap();
    assert_eq!(found_with(&alice, query("recipe"), "recipe index").await, ["recipe index"]);

    // Pages follow each other without overlap, newest first and by relevance.
    let mut sent = Vec::new();
    for n in 0..5 {
        sent.push(alice.send_text(channel, &format!("kiwi number {n}")).await.unwrap().data);
    }
    found_with(&alice, query("kiwi"), "kiwi number 4").await;
    for order in [proto::SearchOrder::Newest, proto::SearchOrder::Relevance] {
        let mut all = Vec::new();
        let mut cursor = String::new();
        loop {
            let request = proto::SearchRequest {
                limit: 2,
                cursor: cursor.clone(),
                order: order as i32,
                ..query("kiwi")
            };
            let page = alice.search(request).await.unwrap();
            all.extend(texts(&page.hits));
            cursor = page.next_cursor;
            if cursor.is_empty() {
                break;
            }
        }
        if order == proto::SearchOrder::Newest {
            assert_eq!(all, sent.iter().rev().cloned().collect::<Vec<_>>());
        }
        all.sort();
        assert_eq!(all, sent, "{order:?} pages hold every match once");
    }
}

#[tokio::test]
async fn the_indexer_catches_up_on_what_was_sent_while_it_was_stopped() {
    let first = TestController::start().await;
    let alice = first.client("alice", "acme").await;
    let channel = create_team(&alice, &[]).await;
    alice.send_text(channel, "quartz before the stop").await.unwrap();
    found_with(&alice, query("quartz"), "quartz before the stop").await;
    let dir = first.stop().await;

    let without = TestController::builder().data_dir(dir).search(false).start().await;
    let alice = without.client("alice", "acme").await;
    alice.send_text(channel, "quartz while indexing was off").await.unwrap();
    alice.send_text(channel, "granite while indexing was off").await.unwrap();
    let off = expect_code(alice.search(query("quartz")).await, Code::Unavailable);
    assert!(off.contains("not enabled"), "{off}");
    let dir = without.stop().await;

    let again = TestController::builder().data_dir(dir).start().await;
    let alice = again.client("alice", "acme").await;
    let found = found_with(&alice, query("quartz"), "quartz while indexing was off").await;
    assert_eq!(found, ["quartz while indexing was off", "quartz before the stop"]);
    found_with(&alice, query("granite"), "granite while indexing was off").await;
}

#[tokio::test]
async fn in_a_cluster_the_indexer_answers_and_catches_up_from_the_stream() {
    let nats = NatsServer::start();
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let store = TestController::shared_store(&dir).await;
    let indexer = TestIndexer::start(&nats.url(), store.clone(), dir.clone()).await;
    let controller = |node: u16| {
        TestController::builder()
            .nats(nats.url())
            .store(store.clone())
            .indexer(indexer.url())
            .node_id(node)
            .start()
    };
    let (one, two) = (controller(1).await, controller(2).await);
    let alice = one.client("alice", "acme").await;
    let channel = create_team(&alice, &["bob"]).await;
    let first = alice.send_text(channel, "nebula one").await.unwrap();
    // bob asks the other controller; both forward to the indexer.
    let bob = two.client("bob", "acme").await;
    found_with(&bob, query("nebula"), "nebula one").await;
    let stranger = two.client("mallory", "acme").await;
    assert!(stranger.search(query("nebula")).await.unwrap().hits.is_empty());

    // While the indexer is down, searches say so, and what is sent waits in the stream.
    let (address, dir) = (indexer.address, indexer.stop().await);
    let down = expect_code(bob.search(query("nebula")).await, Code::Unavailable);
    assert!(down.contains("indexer"), "{down}");
    alice.send_text(channel, "nebula two").await.unwrap();
    alice.edit_message(channel, first.id, "comet one").await.unwrap();

    let _back = TestIndexer::start_at(address, &nats.url(), store.clone(), dir).await;
    assert_eq!(found_with(&bob, query("nebula"), "nebula two").await, ["nebula two"]);
    assert_eq!(found_with(&bob, query("comet"), "comet one").await, ["comet one"]);
}

#[tokio::test]
async fn a_word_with_a_star_finds_every_word_it_starts() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let team = create_team(&alice, &[]).await;
    for text in ["the deployment is done", "we deployed it", "zzX alone", "zzXylophone", "ship it"]
    {
        alice.send_text(team, text).await.unwrap();
    }
    alice.send_text(team, "marker deploy").await.unwrap();

    let mut found = found_with(&alice, query("deploy*"), "marker deploy").await;
    found.sort();
    assert_eq!(found, ["marker deploy", "the deployment is done", "we deployed it"]);
    let mut found = texts(&alice.search(query("zzX*")).await.unwrap().hits);
    found.sort();
    assert_eq!(found, ["zzX alone", "zzXylophone"]);
    let found = texts(&alice.search(query("deploy* -deployed*")).await.unwrap().hits);
    assert!(!found.contains(&"we deployed it".to_string()), "{found:?}");
    assert!(found.contains(&"the deployment is done".to_string()), "{found:?}");
}

/// The controller's own indexer follows the change feed: a message retention removed is
/// dropped from the index itself, not only left out of answers.
#[tokio::test]
async fn an_expired_message_leaves_the_index() {
    use switchboard_server::ids::{Clock as _, SystemClock, first_id_at};
    use switchboard_server::model::{Expiry, Kind, Message};
    use switchboard_server::search::{FeedIndexer, SearchIndex};
    use switchboard_server::store::Store;
    use switchboard_server::store::embedded::EmbeddedStore;
    use switchboard_tests::conformance;
    use switchboard_tests::indexer::index_query;

    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.path().join("store")).unwrap());
    let index = Arc::new(SearchIndex::open(&dir.path().join("index")).unwrap());
    let mut indexer =
        FeedIndexer::new(index.clone(), store.clone(), Arc::new(SystemClock)).unwrap();
    let now = SystemClock.now_ms();
    let message = Message {
        data: "the zebra plan".into(),
        expires_at_ms: now + 1,
        ..conformance::message(7, first_id_at(now), "alice", None)
    };
    let conversation = conformance::conversation(7, "acme", Kind::Group);
    store.create_conversation(&conversation, &[]).await.unwrap();
    store.insert_message("acme", &message, &[]).await.unwrap();
    let query = index_query("zebra", "alice", vec![7]);
    indexer.round().await.unwrap();
    assert_eq!(index.search(&query).unwrap().0.len(), 1, "indexed: the check can fail");

    let expiry = Expiry::of("acme", &message);
    store.expire_message(&expiry, SystemClock.now_ms()).await.unwrap();
    indexer.round().await.unwrap();
    assert!(index.search(&query).unwrap().0.is_empty(), "the document went with the message");
}
