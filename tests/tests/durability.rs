//! What is acknowledged stays: across a graceful restart, and across a kill -9.

use std::collections::HashSet;

use switchboard_sdk::token::{SigningKey, TokenSpec, mint};
use switchboard_tests::{Client, ControllerProcess, TEST_SECRET, TestController, proto};

async fn all_ids(client: &Client, channel: u64) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut before = 0;
    loop {
        let page = client
            .history(proto::ListHistoryRequest {
                channel_id: channel,
                before,
                after: 0,
                limit: 200,
            })
            .await
            .unwrap();
        ids.extend(page.messages.iter().map(|m| m.id));
        if !page.has_more {
            return ids;
        }
        before = *ids.last().unwrap();
    }
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let team = alice
        .create_team(proto::CreateTeamRequest {
            name: "Durable".into(),
            meta_tags: vec!["keep".into()],
            members: vec!["bob".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    alice.promote_admin(team.id, "bob").await.unwrap();
    let dm = alice.open_direct("carol").await.unwrap();
    let mut sent = Vec::new();
    for i in 0..30 {
        sent.push(alice.send_text(team.id, &format!("message {i}")).await.unwrap().id);
    }
    alice.edit_message(team.id, sent[3], "edited").await.unwrap();
    alice.delete_message(team.id, sent[4]).await.unwrap();

    let server = server.restart().await;
    let alice = server.client("alice", "acme").await;
    let again = alice.get_conversation(team.id).await.unwrap();
    assert_eq!(again, team, "the conversation reads back unchanged");
    assert_eq!(alice.open_direct("carol").await.unwrap().id, dm.id);
    let mut ids = all_ids(&alice, team.id).await;
    ids.reverse();
    assert_eq!(ids, sent);
    let page = alice
        .history(proto::ListHistoryRequest {
            channel_id: team.id,
            before: sent[5],
            after: sent[2],
            limit: 10,
        })
        .await
        .unwrap();
    assert!(page.messages[0].deleted);
    assert_eq!(page.messages[1].data, "edited");
    let members = alice.list_members(team.id, "", 10).await.unwrap().members;
    assert_eq!(
        members.iter().find(|m| m.user_id == "bob").unwrap().role,
        proto::Role::Admin as i32
    );
    // new ids keep growing after the restart
    assert!(alice.send_text(team.id, "after").await.unwrap().id > sent[29]);
}

#[tokio::test]
async fn a_kill_9_loses_nothing_that_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let process = ControllerProcess::start(dir.path());
    let token = |user: &str| {
        mint(&TokenSpec::new(user, "acme"), &SigningKey::Hs256(TEST_SECRET.as_bytes().to_vec()))
            .unwrap()
    };
    let alice = Client::connect(process.url.clone(), token("alice")).await.unwrap();
    let team = alice
        .create_team(proto::CreateTeamRequest { name: "Crash".into(), ..Default::default() })
        .await
        .unwrap();

    // Eight concurrent senders, so acks ride on shared (group-committed) fsyncs; the
    // process is killed while they are still sending.
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut senders = Vec::new();
    for sender in 0..8 {
        let (alice, acked) = (alice.clone(), acked_tx.clone());
        senders.push(tokio::spawn(async move {
            for i in 0.. {
                match alice.send_text(team.id, &format!("s{sender}-{i}")).await {
                    Ok(message) => acked.send(message.id).unwrap(),
                    Err(_) => break, // the controller is gone
                }
            }
        }));
    }
    drop(acked_tx);
    let mut acknowledged = HashSet::new();
    while acknowledged.len() < 400 {
        acknowledged.insert(acked_rx.recv().await.expect("acks keep coming"));
    }
    process.kill();
    for sender in senders {
        sender.await.unwrap();
    }
    while let Ok(id) = acked_rx.try_recv() {
        acknowledged.insert(id);
    }

    let process = ControllerProcess::start(dir.path());
    let alice = Client::connect(process.url.clone(), token("alice")).await.unwrap();
    let stored: HashSet<u64> = all_ids(&alice, team.id).await.into_iter().collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged messages lost", lost.len(), acknowledged.len());
    eprintln!(
        "kill -9: {} acknowledged, {} stored (unacknowledged in-flight writes may survive too)",
        acknowledged.len(),
        stored.len()
    );
}
