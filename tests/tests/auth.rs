//! Authentication and scopes: who gets UNAUTHENTICATED, who gets PERMISSION_DENIED.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use switchboard_sdk::token::{SigningKey, TokenSpec, mint, mint_at};
use switchboard_tests::{
    Code, TEST_SECRET, TestClock, TestController, expect_code, fixture, proto,
};

fn hs256() -> SigningKey {
    SigningKey::Hs256(TEST_SECRET.as_bytes().to_vec())
}

fn pem(name: &str, alg: jsonwebtoken::Algorithm) -> SigningKey {
    SigningKey::Pem { algorithm: alg, pem: std::fs::read(fixture(name)).unwrap() }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Base64url without padding, for hand-made tokens.
fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn calls_without_a_valid_token_are_unauthenticated() {
    let server = TestController::start().await;
    let cases = [
        ("no token", String::new()),
        ("garbage", "not-a-jwt".to_string()),
        ("bad signature", {
            let other = SigningKey::Hs256(b"another-secret-another-secret-another!!".to_vec());
            mint(&TokenSpec::new("alice", "acme"), &other).unwrap()
        }),
        ("expired", {
            let spec = TokenSpec::new("alice", "acme").ttl(Duration::from_secs(60));
            mint_at(&spec, &hs256(), now() - 3600).unwrap()
        }),
        ("alg none", {
            let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
            let claims = format!(
                r#"{{"sub":"alice","org":"acme","scope":"chat.read","exp":{}}}"#,
                now() + 600
            );
            format!("{header}.{}.", b64(claims.as_bytes()))
        }),
        ("RS256 token, no RSA key configured", {
            mint(
                &TokenSpec::new("alice", "acme"),
                &pem("rsa-private.pem", jsonwebtoken::Algorithm::RS256),
            )
            .unwrap()
        }),
    ];
    for (case, token) in cases {
        let client = server.client_with_token(token).await;
        let message = expect_code(client.list_conversations(0, 10).await, Code::Unauthenticated);
        assert!(!message.is_empty(), "{case}: the error says why");
    }
}

#[tokio::test]
async fn an_expired_token_within_the_leeway_is_accepted() {
    let server = TestController::builder().configure(|c| c.auth.leeway_secs = 120).start().await;
    let spec = TokenSpec::new("alice", "acme").ttl(Duration::from_secs(60));
    let recently_expired = mint_at(&spec, &hs256(), now() - 90).unwrap();
    let client = server.client_with_token(recently_expired).await;
    client.list_conversations(0, 10).await.expect("30 s past exp is inside 120 s of leeway");
    let long_expired = mint_at(&spec, &hs256(), now() - 600).unwrap();
    let client = server.client_with_token(long_expired).await;
    expect_code(client.list_conversations(0, 10).await, Code::Unauthenticated);
}

#[tokio::test]
async fn public_keys_from_pem_and_jwks_verify_and_refuse_algorithm_confusion() {
    use jsonwebtoken::Algorithm::{ES256, EdDSA, RS256};
    let server = TestController::builder()
        .without_secret()
        .public_key("ES256", fixture("ec-public.pem"))
        .public_key("EdDSA", fixture("ed-public.pem"))
        .jwks(fixture("jwks.json"))
        .start()
        .await;
    let spec = TokenSpec::new("alice", "acme");
    for (name, alg) in
        [("rsa-private.pem", RS256), ("ec-private.pem", ES256), ("ed-private.pem", EdDSA)]
    {
        let client = server.client_with_token(mint(&spec, &pem(name, alg)).unwrap()).await;
        client.list_conversations(0, 10).await.unwrap_or_else(|e| panic!("{alg:?}: {e}"));
    }
    // HS256 "signed" with the RSA public key's bytes: the classic confusion attack.
    let public_pem = std::fs::read(fixture("rsa-public.pem")).unwrap();
    let forged = mint(&spec, &SigningKey::Hs256(public_pem)).unwrap();
    let client = server.client_with_token(forged).await;
    expect_code(client.list_conversations(0, 10).await, Code::Unauthenticated);
    // With no shared secret configured, HS256 is not accepted at all.
    let client = server.client_with_token(mint(&spec, &hs256()).unwrap()).await;
    expect_code(client.list_conversations(0, 10).await, Code::Unauthenticated);
}

#[tokio::test]
async fn each_call_needs_its_scope() {
    let server = TestController::start().await;
    let owner = server.client("alice", "acme").await;
    let team = owner
        .create_team(proto::CreateTeamRequest {
            name: "Scopes".into(),
            members: vec!["bob".into()],
            ..Default::default()
        })
        .await
        .unwrap();

    let read_only = server
        .client_with_token(server.token_for(&TokenSpec::new("bob", "acme").scopes(&["chat.read"])))
        .await;
    read_only
        .history(proto::ListHistoryRequest { channel_id: team.id, ..Default::default() })
        .await
        .unwrap();
    read_only.get_conversation(team.id).await.unwrap();
    expect_code(read_only.send_text(team.id, "hi").await, Code::PermissionDenied);
    expect_code(read_only.open_self().await, Code::PermissionDenied);
    expect_code(read_only.leave(team.id).await, Code::PermissionDenied);

    let write_only = server
        .client_with_token(server.token_for(&TokenSpec::new("bob", "acme").scopes(&["chat.write"])))
        .await;
    write_only.send_text(team.id, "hi").await.unwrap();
    expect_code(write_only.list_conversations(0, 10).await, Code::PermissionDenied);
    let message = expect_code(
        write_only
            .create_team(proto::CreateTeamRequest { name: "x".into(), ..Default::default() })
            .await,
        Code::PermissionDenied,
    );
    assert!(message.contains("chat.teams.manage"), "names the missing scope: {message}");
}

#[tokio::test]
async fn tokens_with_malformed_identity_claims_are_refused() {
    let server = TestController::start().await;
    for (user, org) in [("", "acme"), ("alice", ""), ("has space", "acme")] {
        let token = mint(&TokenSpec::new(user, org), &hs256()).unwrap();
        let client = server.client_with_token(token).await;
        expect_code(client.list_conversations(0, 10).await, Code::Unauthenticated);
    }
}

#[tokio::test]
async fn a_token_that_expires_while_in_use_is_refused_from_then_on() {
    // The controller tests `exp` by its own clock, which the test moves.
    let clock = TestClock::default();
    let server = TestController::builder()
        .clock(clock.clone())
        .configure(|c| c.auth.leeway_secs = 0)
        .start()
        .await;
    let issued = now();
    clock.set(issued as i64 * 1000);
    let spec = TokenSpec::new("alice", "acme").ttl(Duration::from_secs(60));
    let client = server.client_with_token(mint_at(&spec, &hs256(), issued).unwrap()).await;
    client.list_conversations(0, 10).await.expect("a fresh token works");
    client.list_conversations(0, 10).await.expect("and works again (remembered)");
    clock.set((issued as i64 + 60) * 1000);
    client.list_conversations(0, 10).await.expect("still valid in its last second");
    clock.set((issued as i64 + 61) * 1000);
    expect_code(client.list_conversations(0, 10).await, Code::Unauthenticated);
    // A token checked for the first time is refused the same way.
    let bob = TokenSpec::new("bob", "acme").ttl(Duration::from_secs(60));
    let unseen = server.client_with_token(mint_at(&bob, &hs256(), issued).unwrap()).await;
    expect_code(unseen.list_conversations(0, 10).await, Code::Unauthenticated);
}
