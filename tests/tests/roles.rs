//! The role × action matrix: for every action, who may do it and the exact status code for
//! everyone else. Each case runs on a fresh team so earlier cases cannot affect it.

use switchboard_tests::{Client, Code, TestController, outcome, proto};

/// The people around one team.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Actor {
    Owner,
    Admin,
    Member,
    /// Same org, not in the team.
    Stranger,
    /// Another org entirely.
    Outsider,
}
use Actor::*;

const ACTORS: [Actor; 5] = [Owner, Admin, Member, Stranger, Outsider];

/// A team with owner `olivia`, admins `adam` and `abby`, members `mia` and `tom`; `nina` is
/// in the org but not the team; `oscar` is in another org.
struct Team {
    id: u64,
    /// A message by `tom`, for the delete and edit cases.
    toms_message: u64,
    clients: Vec<(Actor, Client)>,
}

impl Team {
    async fn new(server: &TestController, restricted: bool) -> Team {
        let owner = server.client("olivia", "acme").await;
        let team = owner
            .create_team(proto::CreateTeamRequest {
                name: "Matrix".into(),
                restricted,
                members: ["adam", "abby", "mia", "tom"].map(String::from).to_vec(),
                ..Default::default()
            })
            .await
            .unwrap();
        owner.promote_admin(team.id, "adam").await.unwrap();
        owner.promote_admin(team.id, "abby").await.unwrap();
        let tom = server.client("tom", "acme").await;
        let toms_message = if restricted {
            owner.send_text(team.id, "from the owner").await.unwrap().id
        } else {
            tom.send_text(team.id, "from tom").await.unwrap().id
        };
        let clients = vec![
            (Owner, owner),
            (Admin, server.client("adam", "acme").await),
            (Member, server.client("mia", "acme").await),
            (Stranger, server.client("nina", "acme").await),
            (Outsider, server.client("oscar", "globex").await),
        ];
        Team { id: team.id, toms_message, clients }
    }

    fn client(&self, actor: Actor) -> &Client {
        &self.clients.iter().find(|(a, _)| *a == actor).unwrap().1
    }
}

/// The code each actor gets, in `ACTORS` order.
type Expected = [Code; 5];

const OK: Code = Code::Ok;
const DENIED: Code = Code::PermissionDenied;
const MISSING: Code = Code::NotFound;
const PRECONDITION: Code = Code::FailedPrecondition;

async fn run_action(action: &str, team: &Team, actor: Actor) -> Code {
    let client = team.client(actor);
    let id = team.id;
    match action {
        "get" => outcome(client.get_conversation(id).await),
        "history" => outcome(
            client
                .history(proto::ListHistoryRequest { channel_id: id, ..Default::default() })
                .await,
        ),
        "list members" => outcome(client.list_members(id, "", 10).await),
        "send" => outcome(client.send_text(id, "hello").await),
        "update" => outcome(
            client
                .update_team(proto::UpdateTeamRequest {
                    conversation_id: id,
                    name: Some("Renamed".into()),
                    ..Default::default()
                })
                .await,
        ),
        "archive" => outcome(client.archive(id).await),
        "add member" => outcome(client.add_members(id, &["newbie"]).await),
        "remove member" => outcome(client.remove_member(id, "tom").await),
        "remove admin" => outcome(client.remove_member(id, "abby").await),
        "remove owner" => outcome(client.remove_member(id, "olivia").await),
        "promote" => outcome(client.promote_admin(id, "tom").await),
        "demote" => outcome(client.demote_admin(id, "abby").await),
        "transfer" => outcome(client.transfer_ownership(id, "tom").await),
        "leave" => outcome(client.leave(id).await),
        "delete tom's message" => outcome(client.delete_message(id, team.toms_message).await),
        "edit tom's message" => outcome(client.edit_message(id, team.toms_message, "x").await),
        other => panic!("unknown action {other}"),
    }
}

async fn check(server: &TestController, restricted: bool, matrix: &[(&str, Expected)]) {
    let mut failures = Vec::new();
    for (action, expected) in matrix {
        for (actor, want) in ACTORS.iter().zip(expected) {
            let team = Team::new(server, restricted).await;
            let got = run_action(action, &team, *actor).await;
            if got != *want {
                failures.push(format!("{action} by {actor:?}: expected {want:?}, got {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "matrix mismatches:\n{}", failures.join("\n"));
}

#[tokio::test]
async fn every_role_may_do_exactly_its_actions() {
    let server = TestController::start().await;
    //                         Owner         Admin   Member  Stranger Outsider
    let matrix: &[(&str, Expected)] = &[
        ("get", [OK, OK, OK, DENIED, MISSING]),
        ("history", [OK, OK, OK, DENIED, MISSING]),
        ("list members", [OK, OK, OK, DENIED, MISSING]),
        ("send", [OK, OK, OK, DENIED, MISSING]),
        ("update", [OK, OK, DENIED, DENIED, MISSING]),
        ("archive", [OK, DENIED, DENIED, DENIED, MISSING]),
        ("add member", [OK, OK, DENIED, DENIED, MISSING]),
        ("remove member", [OK, OK, DENIED, DENIED, MISSING]),
        ("remove admin", [OK, DENIED, DENIED, DENIED, MISSING]),
        ("remove owner", [DENIED, DENIED, DENIED, DENIED, MISSING]),
        ("promote", [OK, DENIED, DENIED, DENIED, MISSING]),
        ("demote", [OK, DENIED, DENIED, DENIED, MISSING]),
        ("transfer", [OK, DENIED, DENIED, DENIED, MISSING]),
        ("leave", [PRECONDITION, OK, OK, DENIED, MISSING]),
        ("delete tom's message", [OK, OK, DENIED, DENIED, MISSING]),
        ("edit tom's message", [DENIED, DENIED, DENIED, DENIED, MISSING]),
    ];
    check(&server, false, matrix).await;
}

#[tokio::test]
async fn in_a_restricted_team_only_admins_and_the_owner_post() {
    let server = TestController::start().await;
    check(&server, true, &[("send", [OK, OK, DENIED, DENIED, MISSING])]).await;
}

#[tokio::test]
async fn archived_teams_are_read_only_for_everyone() {
    let server = TestController::start().await;
    let team = Team::new(&server, false).await;
    team.client(Owner).archive(team.id).await.unwrap();
    for actor in [Owner, Admin, Member] {
        for action in [
            "send",
            "update",
            "add member",
            "remove member",
            "promote",
            "transfer",
            "leave",
            "archive",
            "delete tom's message",
        ] {
            let got = run_action(action, &team, actor).await;
            assert_eq!(got, PRECONDITION, "{action} by {actor:?} on an archived team");
        }
        assert_eq!(run_action("history", &team, actor).await, OK, "history stays readable");
    }
    let view = team.client(Member).get_conversation(team.id).await.unwrap();
    assert!(!view.active);
}

#[tokio::test]
async fn ownership_transfer_swaps_roles_and_frees_the_old_owner_to_leave() {
    let server = TestController::start().await;
    let team = Team::new(&server, false).await;
    let owner = team.client(Owner);
    let after = owner.transfer_ownership(team.id, "mia").await.unwrap();
    assert_eq!(after.owner, "mia");
    assert_eq!(after.my_role, proto::Role::Admin as i32);
    let mia = team.client(Member).get_conversation(team.id).await.unwrap();
    assert_eq!(mia.my_role, proto::Role::Owner as i32);
    // the old owner is an admin now: no longer allowed to archive, free to leave
    assert_eq!(outcome(owner.archive(team.id).await), DENIED);
    owner.leave(team.id).await.unwrap();
    assert_eq!(outcome(owner.get_conversation(team.id).await), DENIED);
}

#[tokio::test]
async fn role_changes_on_the_wrong_role_fail_with_a_precondition() {
    let server = TestController::start().await;
    let team = Team::new(&server, false).await;
    let owner = team.client(Owner);
    assert_eq!(outcome(owner.promote_admin(team.id, "adam").await), PRECONDITION);
    assert_eq!(outcome(owner.demote_admin(team.id, "tom").await), PRECONDITION);
    assert_eq!(outcome(owner.demote_admin(team.id, "olivia").await), PRECONDITION);
    assert_eq!(outcome(owner.promote_admin(team.id, "nobody").await), MISSING);
    assert_eq!(outcome(owner.transfer_ownership(team.id, "nobody").await), MISSING);
    let members = owner.list_members(team.id, "", 100).await.unwrap().members;
    let roles: Vec<(String, i32)> = members.into_iter().map(|m| (m.user_id, m.role)).collect();
    assert!(roles.contains(&("adam".into(), proto::Role::Admin as i32)));
    assert!(roles.contains(&("tom".into(), proto::Role::Member as i32)));
    assert!(roles.contains(&("olivia".into(), proto::Role::Owner as i32)));
}

#[tokio::test]
async fn channels_are_broadcast_and_public_ones_can_be_joined() {
    let server = TestController::start().await;
    let owner = server.client("olivia", "acme").await;
    let public = owner
        .create_channel(proto::CreateChannelRequest {
            name: "Announcements".into(),
            visibility: proto::Visibility::Public as i32,
            ..Default::default()
        })
        .await
        .unwrap();
    let private = owner
        .create_channel(proto::CreateChannelRequest { name: "Board".into(), ..Default::default() })
        .await
        .unwrap();
    assert!(public.restricted, "channels are always admin-post");
    let nina = server.client("nina", "acme").await;
    let seen = nina.get_conversation(public.id).await.unwrap();
    assert_eq!(seen.my_role, proto::Role::Unspecified as i32, "visible before joining");
    assert_eq!(outcome(nina.get_conversation(private.id).await), DENIED);
    assert_eq!(outcome(nina.join_channel(private.id).await), DENIED);
    let joined = nina.join_channel(public.id).await.unwrap();
    assert_eq!(joined.my_role, proto::Role::Member as i32);
    assert_eq!(joined.member_count, 2);
    assert_eq!(outcome(nina.send_text(public.id, "can I post?").await), DENIED);
    owner.send_text(public.id, "welcome").await.unwrap();
    let history = nina
        .history(proto::ListHistoryRequest { channel_id: public.id, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(history.messages[0].data, "welcome");
    let oscar = server.client("oscar", "globex").await;
    assert_eq!(outcome(oscar.join_channel(public.id).await), MISSING);
}
