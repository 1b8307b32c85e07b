//! People: profiles created from the token's name on first use, read by the org as others
//! see them (contact details only for the user and `user.profile.view_any`), edited by
//! their owner or an org admin (audited), validated, and never across orgs.

use switchboard_sdk::SdkError;
use switchboard_sdk::token::TokenSpec;
use switchboard_tests::{
    Code, TestController, TestRelay, expect_code, proto, sbctl, violated_fields,
};

fn changes(display_name: &str, title: &str) -> proto::Profile {
    proto::Profile { display_name: display_name.into(), title: title.into(), ..Default::default() }
}

#[tokio::test]
async fn a_profile_starts_with_the_token_name_and_is_edited_by_its_owner() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let named = server.token_for(&TokenSpec::new("alice", "acme").name("Alice Liddell"));
    let alice = relay.client(named).await;
    let bob = relay.client(server.token("bob", "acme")).await;

    // Bob has not used his profile yet: only his id, for clients to show.
    let unknown = alice.get_profile("bob").await.unwrap();
    assert_eq!((unknown.user_id.as_str(), unknown.exists), ("bob", false));
    assert!(unknown.display_name.is_empty());

    let own = alice.get_profile("").await.unwrap();
    assert_eq!((own.display_name.as_str(), own.exists), ("Alice Liddell", true));
    assert!(own.updated_at_ms > 0);

    let mut update = changes("Alice L.", "Head of Wonder");
    update.time_zone = "Europe/London".into();
    update.email = "alice@acme.example".into();
    update.custom_fields = [("desk".to_string(), "4F".to_string())].into();
    let fields = ["display_name", "title", "time_zone", "email", "custom_fields"];
    let updated = alice.update_profile("", update, &fields).await.unwrap();
    assert_eq!(updated.display_name, "Alice L.");
    assert_eq!(updated.email, "alice@acme.example", "the owner sees her contact details");

    // Only the named fields change: the title stays when only the bio is set.
    let bio = proto::Profile { bio: "Curiouser\nand curiouser".into(), ..Default::default() };
    let updated = alice.update_profile("alice", bio, &["bio"]).await.unwrap();
    assert_eq!(
        (updated.title.as_str(), updated.bio.as_str()),
        ("Head of Wonder", "Curiouser\nand curiouser")
    );

    // Others see the card, not the contact details.
    let seen = bob.get_profile("alice").await.unwrap();
    assert_eq!(
        (seen.display_name.as_str(), seen.time_zone.as_str()),
        ("Alice L.", "Europe/London")
    );
    assert_eq!(seen.custom_fields.get("desk").map(String::as_str), Some("4F"));
    assert!(seen.email.is_empty() && seen.exists);
    let hr = relay.client(server.admin_token("hr", "acme")).await;
    assert_eq!(hr.get_profile("alice").await.unwrap().email, "alice@acme.example", "view_any");

    // A batch, in the order asked, duplicates included.
    let users: Vec<String> = ["alice", "nobody", "alice"].map(String::from).to_vec();
    let batch = bob.get_profiles(&users).await.unwrap();
    let names: Vec<(&str, bool)> =
        batch.iter().map(|p| (p.display_name.as_str(), p.exists)).collect();
    assert_eq!(names, [("Alice L.", true), ("", false), ("Alice L.", true)]);

    // Bob may not edit Alice's profile.
    let message = expect_code(
        bob.update_profile("alice", changes("Mallory", ""), &["display_name"]).await,
        Code::PermissionDenied,
    );
    assert!(message.contains("chat.admin"), "{message}");
    assert_eq!(bob.get_profile("alice").await.unwrap().display_name, "Alice L.");

    // sbctl, as bob.
    let token = server.token("bob", "acme");
    let set = [
        "profile",
        "set",
        "--name",
        "Bob B.",
        "--time-zone",
        "America/New_York",
        "--field",
        "desk=2B",
    ];
    let shown = sbctl(&relay.url(), &token, &set).await.unwrap();
    assert!(shown.contains("Bob B.") && shown.contains("desk=2B"), "{shown}");
    let shown = sbctl(&relay.url(), &token, &["profile", "show", "alice", "carol"]).await.unwrap();
    assert!(shown.contains("Alice L.") && shown.contains("(no profile)"), "{shown}");
    let refused = sbctl(&relay.url(), &token, &["profile", "set", "--time-zone", "Nowhere"]).await;
    let message = refused.unwrap_err();
    assert!(message.contains("Nowhere"), "{message}");

    // An avatar from a file, then none.
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("me.png");
    std::fs::write(&picture, PNG).unwrap();
    let path = picture.to_str().unwrap();
    let set = ["--json", "profile", "set", "--avatar", path, "--title", "Builder"];
    let shown: serde_json::Value =
        serde_json::from_str(&sbctl(&relay.url(), &token, &set).await.unwrap()).unwrap();
    let avatar = shown["avatar_id"].as_u64().unwrap();
    assert_eq!(bob.get_profile("").await.unwrap().avatar_id, avatar);
    assert_eq!(shown["title"], "Builder");
    assert_eq!(alice.download_url(avatar).await.unwrap().attachment.unwrap().size, 33);
    let clear = ["--json", "profile", "set", "--clear-avatar"];
    let shown: serde_json::Value =
        serde_json::from_str(&sbctl(&relay.url(), &token, &clear).await.unwrap()).unwrap();
    assert_eq!(shown["avatar_id"], 0);
    expect_code(alice.download_url(avatar).await, Code::NotFound);
}

/// A PNG of 3 × 2 pixels' header, as much as a picture needs to pass the type check.
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    3, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0, 0, 0, 0,
];

#[tokio::test]
async fn an_org_admin_edits_or_blanks_anyones_profile_and_is_audited() {
    let server = TestController::start().await;
    let admin = server.client_with_token(server.admin_token("root", "acme")).await;
    let bob = server.client("bob", "acme").await;
    bob.update_profile("", changes("Bob", "Builder"), &["display_name", "title"]).await.unwrap();

    let blanked =
        admin.update_profile("bob", changes("", ""), &["display_name", "title"]).await.unwrap();
    assert_eq!((blanked.display_name.as_str(), blanked.title.as_str()), ("", ""));
    assert!(bob.get_profile("").await.unwrap().display_name.is_empty());

    let log = admin.list_audit(proto::ListAuditRequest::default()).await.unwrap();
    let entry = log.entries.iter().find(|e| e.action == "profile.updated").expect("audited");
    assert_eq!((entry.actor.as_str(), entry.target.as_str()), ("root", "bob"));
    assert!(entry.detail.contains("display_name"), "{}", entry.detail);
}

#[tokio::test]
async fn bad_profiles_are_refused_field_by_field_and_change_nothing() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    alice.update_profile("", changes("Alice", "Lead"), &["display_name", "title"]).await.unwrap();

    let bad = proto::Profile {
        display_name: "x".repeat(81),
        bio: "y".repeat(501),
        time_zone: "Mars/Olympus_Mons".into(),
        email: "not an email".into(),
        phone: "call me".into(),
        custom_fields: [("".to_string(), "v".to_string())].into(),
        ..Default::default()
    };
    let all = ["display_name", "bio", "time_zone", "email", "phone", "custom_fields"];
    let status = match alice.update_profile("", bad, &all).await {
        Err(SdkError::Status(status)) => status,
        other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
    };
    assert_eq!(status.code(), Code::InvalidArgument);
    let mut fields = violated_fields(&status);
    fields.sort();
    let expected = [
        "profile.bio",
        "profile.custom_fields",
        "profile.display_name",
        "profile.email",
        "profile.phone",
        "profile.time_zone",
    ];
    assert_eq!(fields, expected, "{}", status.message());
    assert!(status.message().contains("Mars/Olympus_Mons"), "{}", status.message());

    let message = expect_code(
        alice.update_profile("", changes("A", ""), &["nickname"]).await,
        Code::InvalidArgument,
    );
    assert!(message.contains("nickname") && message.contains("display_name"), "{message}");
    expect_code(alice.update_profile("", changes("A", ""), &[]).await, Code::InvalidArgument);
    let too_many: Vec<String> = (0..501).map(|i| format!("user{i}")).collect();
    expect_code(alice.get_profiles(&too_many).await, Code::InvalidArgument);
    expect_code(alice.get_profiles(&[]).await, Code::InvalidArgument);
    expect_code(alice.get_profile("bad id with spaces").await, Code::InvalidArgument);

    let kept = alice.get_profile("").await.unwrap();
    assert_eq!(
        (kept.display_name.as_str(), kept.title.as_str()),
        ("Alice", "Lead"),
        "nothing changed"
    );
}

#[tokio::test]
async fn profiles_stay_in_their_org_and_need_their_scopes() {
    let server = TestController::start().await;
    let acme = server.client("alice", "acme").await;
    acme.update_profile("", changes("Alice of Acme", ""), &["display_name"]).await.unwrap();
    let globex = server.client("mallory", "globex").await;
    let seen = globex.get_profile("alice").await.unwrap();
    assert!(!seen.exists && seen.display_name.is_empty(), "another org's alice does not exist");
    let globex_admin = server.client_with_token(server.admin_token("root", "globex")).await;
    globex_admin.update_profile("alice", changes("Hijacked", ""), &["display_name"]).await.unwrap();
    assert_eq!(
        acme.get_profile("").await.unwrap().display_name,
        "Alice of Acme",
        "acme's untouched"
    );

    let chat_only = TokenSpec::new("carol", "acme").scopes(&["chat.read", "chat.write"]);
    let carol = server.client_with_token(server.token_for(&chat_only)).await;
    let message = expect_code(carol.get_profile("alice").await, Code::PermissionDenied);
    assert!(message.contains("user.profile.view"), "{message}");
    let message = expect_code(
        carol.update_profile("", changes("C", ""), &["display_name"]).await,
        Code::PermissionDenied,
    );
    assert!(message.contains("user.profile.edit"), "{message}");
}

/// The user ids of a page.
fn ids(page: &proto::SearchUsersResponse) -> Vec<&str> {
    page.users.iter().map(|p| p.user_id.as_str()).collect()
}

#[tokio::test]
async fn the_directory_finds_people_by_words_of_their_name_title_and_id_each_once() {
    let server = TestController::start().await;
    let people = [
        ("alice.liddell@acme.example", "Alice Liddell", "Head of Wonder"),
        ("al", "Al Alvarez", "Alchemist"),
        ("bob", "Bob Builder", "Site lead"),
        ("carol", "Carol Alice Jones", ""),
    ];
    for (user, name, title) in people {
        let client = server.client(user, "acme").await;
        client.update_profile("", changes(name, title), &["display_name", "title"]).await.unwrap();
    }
    let other_org = server.client("alfred", "globex").await;
    other_org.update_profile("", changes("Alfred", ""), &["display_name"]).await.unwrap();
    let bob = server.client("bob", "acme").await;

    // Ordered by the matched word, then the user; Al once though two of his words match.
    let page = bob.search_users("al", 20, "").await.unwrap();
    assert_eq!(ids(&page), ["al", "alice.liddell@acme.example", "carol"]);
    assert!(page.next_page_token.is_empty());
    let card = &page.users[1];
    assert_eq!(
        (card.display_name.as_str(), card.title.as_str()),
        ("Alice Liddell", "Head of Wonder")
    );
    assert!(card.email.is_empty(), "as others see it");

    // Every word must match: "ali lid" is Alice Liddell, not Carol Alice Jones.
    assert_eq!(
        ids(&bob.search_users("Lid ALI", 20, "").await.unwrap()),
        ["alice.liddell@acme.example"]
    );
    assert_eq!(ids(&bob.search_users("site", 20, "").await.unwrap()), ["bob"], "by title");
    assert_eq!(
        ids(&bob.search_users("liddell@", 20, "").await.unwrap()),
        ["alice.liddell@acme.example"]
    );
    assert!(
        bob.search_users("alfred", 20, "").await.unwrap().users.is_empty(),
        "never another org"
    );

    // Page by page: each user once.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = bob.search_users("a", 1, &token).await.unwrap();
        seen.extend(ids(&page).into_iter().map(String::from));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ["al", "alice.liddell@acme.example", "carol"]);

    // A new name is found by its words, not the old ones.
    let al = server.client("al", "acme").await;
    al.update_profile("", changes("Alberto Vargas", ""), &["display_name", "title"]).await.unwrap();
    assert_eq!(ids(&bob.search_users("var", 20, "").await.unwrap()), ["al"]);
    assert!(bob.search_users("alvarez", 20, "").await.unwrap().users.is_empty());

    for bad in ["", "!!", &"a".repeat(101), "a b c d e f g h i"] {
        expect_code(bob.search_users(bad, 20, "").await, Code::InvalidArgument);
    }
    let message =
        expect_code(bob.search_users("al", 20, "not-a-token").await, Code::InvalidArgument);
    assert!(message.contains("page_token"), "{message}");
    let other = bob.search_users("a", 1, "").await.unwrap().next_page_token;
    expect_code(bob.search_users("bob", 1, &other).await, Code::InvalidArgument);
    let no_search = TokenSpec::new("dave", "acme").scopes(&["user.profile.view"]);
    let dave = server.client_with_token(server.token_for(&no_search)).await;
    let message = expect_code(dave.search_users("al", 20, "").await, Code::PermissionDenied);
    assert!(message.contains("user.profile.search_users"), "{message}");
}

#[tokio::test]
async fn a_first_stream_creates_the_profile_from_the_token_name_so_the_directory_finds_it() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let named = server.token_for(&TokenSpec::new("zed", "acme").name("Zed Zebulon"));
    let mut stream = relay.realtime(named);
    switchboard_tests::live::live(&mut stream).await;
    let bob = relay.client(server.token("bob", "acme")).await;
    let within = std::time::Duration::from_secs(10);
    let found = switchboard_tests::eventually("zed in the directory", within, || async {
        let page = bob.search_users("zebu", 20, "").await.unwrap();
        page.users.first().map(|p| p.display_name.clone())
    })
    .await;
    assert_eq!(found, "Zed Zebulon");
    assert!(bob.get_profile("zed").await.unwrap().exists);
}

#[tokio::test]
async fn concurrent_changes_of_different_fields_all_stay() {
    let server = TestController::start().await;
    for round in 0..20 {
        let user = format!("user{round}");
        let (a, b) = (server.client(&user, "acme").await, server.client(&user, "acme").await);
        let name = a.update_profile("", changes("Name", ""), &["display_name"]);
        let title = b.update_profile("", changes("", "Title"), &["title"]);
        let (name, title) = tokio::join!(name, title);
        name.unwrap();
        title.unwrap();
        let now = a.get_profile("").await.unwrap();
        assert_eq!((now.display_name.as_str(), now.title.as_str()), ("Name", "Title"), "{user}");
    }
}

#[tokio::test]
async fn contacts_are_a_users_own_list_with_profiles() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let alice = relay.client(server.token("alice", "acme")).await;
    let bob = relay.client(server.token("bob", "acme")).await;
    bob.update_profile("", changes("Bob B.", ""), &["display_name"]).await.unwrap();

    let added = alice.add_contact("bob").await.unwrap();
    assert_eq!(added.profile.as_ref().map(|p| p.display_name.as_str()), Some("Bob B."));
    let again = alice.add_contact("bob").await.unwrap();
    assert_eq!(again.added_at_ms, added.added_at_ms, "added once");
    alice.add_contact("carol").await.unwrap();
    let listed = alice.list_contacts("", 1).await.unwrap();
    let first: Vec<&str> = listed
        .people
        .iter()
        .filter_map(|p| p.profile.as_ref())
        .map(|p| p.user_id.as_str())
        .collect();
    assert_eq!((first, listed.next_after.as_str()), (vec!["bob"], "bob"));
    let rest = alice.list_contacts("bob", 1).await.unwrap();
    assert_eq!(
        rest.people[0].profile.as_ref().map(|p| (p.user_id.as_str(), p.exists)),
        Some(("carol", false))
    );
    assert!(bob.list_contacts("", 10).await.unwrap().people.is_empty(), "one way, per user");

    assert!(alice.remove_contact("carol").await.unwrap());
    assert!(!alice.remove_contact("carol").await.unwrap());
    expect_code(alice.add_contact("alice").await, Code::InvalidArgument);
    expect_code(alice.add_contact("bad id").await, Code::InvalidArgument);

    let token = server.token("alice", "acme");
    let shown = sbctl(&relay.url(), &token, &["contacts", "list"]).await.unwrap();
    assert!(shown.contains("Bob B.") && !shown.contains("carol"), "{shown}");
}

#[tokio::test]
async fn a_block_keeps_two_users_out_of_each_others_direct_messages_but_not_their_teams() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let mallory = server.client("mallory", "acme").await;
    let dm = mallory.open_direct("alice").await.unwrap().id;
    mallory.send_text(dm, "hi alice").await.unwrap();
    let team = switchboard_tests::create_team(&alice, &["mallory"]).await;

    let blocked = alice.block("mallory").await.unwrap();
    assert_eq!(blocked.profile.as_ref().map(|p| p.user_id.as_str()), Some("mallory"));

    // Mallory cannot reach alice directly, and is not told more than that.
    let message = expect_code(mallory.send_text(dm, "hello?").await, Code::PermissionDenied);
    assert!(message.contains("cannot message alice") && !message.contains("block"), "{message}");
    let message = expect_code(mallory.open_direct("alice").await, Code::PermissionDenied);
    assert!(!message.contains("block"), "{message}");
    // Alice is told why she cannot write either.
    let message = expect_code(alice.send_text(dm, "go away").await, Code::PermissionDenied);
    assert!(message.contains("unblock"), "{message}");

    // The DM leaves alice's listing, not mallory's; the team stays for both.
    let listed = |client: switchboard_sdk::Client| async move {
        let page = client.list_conversations(0, 100).await.unwrap();
        page.conversations.iter().map(|c| c.id).collect::<Vec<u64>>()
    };
    let alices = listed(alice.clone()).await;
    assert!(!alices.contains(&dm) && alices.contains(&team), "{alices:?}");
    assert!(listed(mallory.clone()).await.contains(&dm));
    mallory.send_text(team, "still here").await.unwrap();

    // What clients hide; lifted, both write again.
    let blocks = alice.list_blocked("", 10).await.unwrap();
    assert_eq!(blocks.people.len(), 1);
    assert!(mallory.list_blocked("", 10).await.unwrap().people.is_empty());
    assert!(alice.unblock("mallory").await.unwrap());
    assert!(!alice.unblock("mallory").await.unwrap());
    mallory.send_text(dm, "sorry").await.unwrap();
    assert!(listed(alice.clone()).await.contains(&dm));
    expect_code(alice.block("alice").await, Code::InvalidArgument);
}

/// The users whose typing `stream` hears until it hears `until`'s.
async fn typists_until(stream: &mut switchboard_sdk::Realtime, until: &str) -> Vec<String> {
    let mut heard = Vec::new();
    switchboard_tests::live::until(stream, "typing", |event| {
        let switchboard_sdk::RealtimeEvent::Event(event) = event else { return None };
        let Some(proto::event::Kind::Typing(typing)) = &event.kind else { return None };
        heard.push(typing.user_id.clone());
        (typing.user_id == until).then_some(())
    })
    .await;
    heard
}

#[tokio::test]
async fn two_users_with_a_block_between_them_do_not_see_each_other_type() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let alice = relay.client(server.token("alice", "acme")).await;
    let team = switchboard_tests::create_team(&alice, &["bob", "mallory"]).await;
    let mallory = relay.client(server.token("mallory", "acme")).await;
    let bob = relay.client(server.token("bob", "acme")).await;
    alice.block("mallory").await.unwrap();
    let mut streams = Vec::new();
    for user in ["alice", "bob", "mallory"] {
        let mut stream = relay.realtime(server.token(user, "acme"));
        switchboard_tests::live::live(&mut stream).await;
        streams.push(stream);
    }
    mallory.set_typing(team, true).await.unwrap();
    alice.set_typing(team, true).await.unwrap();
    bob.set_typing(team, true).await.unwrap();
    let [alices, bobs, mallorys] = &mut streams[..] else { unreachable!() };
    assert_eq!(typists_until(alices, "bob").await, ["bob"], "alice does not see mallory type");
    assert_eq!(typists_until(mallorys, "bob").await, ["bob"], "nor mallory alice");
    assert_eq!(typists_until(bobs, "alice").await, ["mallory", "alice"], "bob sees both");
}

#[tokio::test]
async fn a_direct_conversation_comes_with_the_other_partys_profile() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let bob = server.client("bob", "acme").await;
    bob.update_profile("", changes("Bob Builder", "Site lead"), &["display_name", "title"])
        .await
        .unwrap();
    let peer_name = |c: &proto::Conversation| c.peer.as_ref().map(|p| p.display_name.clone());
    let dm = alice.open_direct("bob").await.unwrap();
    assert_eq!(peer_name(&dm).as_deref(), Some("Bob Builder"));
    assert_eq!(
        peer_name(&alice.get_conversation(dm.id).await.unwrap()).as_deref(),
        Some("Bob Builder")
    );
    let team = switchboard_tests::create_team(&alice, &["bob"]).await;
    let listed = alice.list_conversations(0, 100).await.unwrap().conversations;
    let names: Vec<(u64, Option<String>)> = listed.iter().map(|c| (c.id, peer_name(c))).collect();
    assert!(names.contains(&(dm.id, Some("Bob Builder".into()))), "{names:?}");
    assert!(names.contains(&(team, None)), "teams have no peer: {names:?}");
    // Bob's side names alice, who has no profile yet: only her id.
    let his = bob.get_conversation(dm.id).await.unwrap();
    assert_eq!(his.peer.map(|p| (p.user_id.clone(), p.exists)), Some(("alice".into(), false)));
}

/// Every user a `presence_changed` event names, with their state, until `user`'s
/// state `online` arrives.
async fn presence_until(
    stream: &mut switchboard_sdk::Realtime,
    user: &str,
    online: bool,
) -> Vec<(String, bool)> {
    let mut heard = Vec::new();
    switchboard_tests::live::until(stream, "presence", |event| {
        let switchboard_sdk::RealtimeEvent::Event(event) = event else { return None };
        let Some(proto::event::Kind::PresenceChanged(changed)) = &event.kind else { return None };
        heard.extend(changed.users.iter().map(|u| (u.user_id.clone(), u.online)));
        changed.users.iter().any(|u| u.user_id == user && u.online == online).then_some(())
    })
    .await;
    heard
}

#[tokio::test]
async fn two_users_with_a_block_between_them_do_not_see_each_others_presence() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let alice = relay.client(server.token("alice", "acme")).await;
    alice.block("mallory").await.unwrap();
    let mut alices = relay.realtime(server.token("alice", "acme"));
    switchboard_tests::live::live(&mut alices).await;
    // Mallory watches alice and carol: she is told carol's state, never alice's.
    let mut mallorys = relay.realtime(server.token("mallory", "acme"));
    switchboard_tests::live::live(&mut mallorys).await;
    mallorys.watch_presence(&["alice", "carol"]).await.unwrap();
    let mut carols = relay.realtime(server.token("carol", "acme"));
    switchboard_tests::live::live(&mut carols).await;
    let heard = presence_until(&mut mallorys, "carol", true).await;
    assert!(heard.iter().all(|(user, _)| user != "alice"), "{heard:?}");

    // Nor does asking: alice, online, is answered as someone never seen.
    let asked = relay.client(server.token("mallory", "acme")).await.presence(&["alice"]).await;
    assert_eq!(
        asked.unwrap()[0],
        proto::UserPresence { user_id: "alice".into(), ..Default::default() }
    );

    // Alice watching mallory hears nothing of her either.
    alices.watch_presence(&["mallory", "carol"]).await.unwrap();
    let heard = presence_until(&mut alices, "carol", true).await;
    assert!(heard.iter().all(|(user, _)| user != "mallory"), "{heard:?}");

    // Lifted: mallory is told alice's state; blocked again: told she is offline.
    alice.unblock("mallory").await.unwrap();
    presence_until(&mut mallorys, "alice", true).await;
    alice.block("mallory").await.unwrap();
    presence_until(&mut mallorys, "alice", false).await;
    drop(carols);
    let heard = presence_until(&mut mallorys, "carol", false).await;
    assert!(heard.iter().all(|(user, _)| user != "alice"), "nothing more of alice: {heard:?}");
}
