//! TLS on the gRPC listeners, and mutual TLS between relays and controllers.

use switchboard_proto::tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use switchboard_relay::RelayTls;
use switchboard_server::tls::TlsConfig;
use switchboard_tests::{Client, TestController, TestRelay, fixture};

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(fixture(&format!("tls/{name}"))).unwrap()
}

fn served(client_ca: bool) -> TlsConfig {
    TlsConfig {
        cert_file: Some(fixture("tls/server.pem")),
        key_file: Some(fixture("tls/server.key")),
        client_ca_file: client_ca.then(|| fixture("tls/ca.pem")),
        ca_file: None,
    }
}

fn trusting(ca: &str) -> ClientTlsConfig {
    ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem(ca)))
}

/// A Chat client over TLS, or the connection error.
async fn connect(url: String, tls: ClientTlsConfig, token: String) -> Result<Client, String> {
    let endpoint =
        Endpoint::from_shared(url).unwrap().tls_config(tls).map_err(|e| e.to_string())?;
    let channel = endpoint.connect().await.map_err(|e| format!("{e:?}"))?;
    Ok(Client::from_channel(channel, token))
}

#[tokio::test]
async fn clients_must_trust_the_servers_ca() {
    let server = TestController::builder().tls(served(false)).start().await;
    let token = server.token("alice", "acme");
    assert!(server.url().starts_with("https://"));

    let good = connect(server.url(), trusting("ca.pem"), token.clone()).await.unwrap();
    good.open_self().await.expect("TLS with the right CA works");

    let wrong = connect(server.url(), trusting("other-ca.pem"), token.clone()).await;
    let refused = match wrong {
        Err(_) => true,
        Ok(client) => client.open_self().await.is_err(),
    };
    assert!(refused, "a client trusting another CA is refused");

    let plain = format!("http://{}", server.address);
    let plain_refused = match Client::connect(plain, token).await {
        Err(_) => true,
        Ok(client) => client.open_self().await.is_err(),
    };
    assert!(plain_refused, "plain text is refused on a TLS port");
}

#[tokio::test]
async fn controllers_can_require_relay_certificates() {
    let server = TestController::builder().tls(served(true)).start().await;
    let relay_identity = Identity::from_pem(pem("relay.pem"), pem("relay.key"));
    let tls = RelayTls { serve: None, upstream: Some(trusting("ca.pem").identity(relay_identity)) };
    let relay = TestRelay::builder(&server).tls(tls).start().await; // waits for the controller link
    let alice = relay.client(server.token("alice", "acme")).await;
    let notes = alice.open_self().await.unwrap();
    alice.send_text(notes.id, "through mutual TLS").await.unwrap();

    // Without a certificate, the controller does not talk at all.
    let anonymous = connect(server.url(), trusting("ca.pem"), server.token("alice", "acme")).await;
    let refused = match anonymous {
        Err(_) => true,
        Ok(client) => client.open_self().await.is_err(),
    };
    assert!(refused, "a caller without a client certificate is refused");
}

#[tokio::test]
async fn sbctl_reaches_a_tls_controller_given_its_ca() {
    let server = TestController::builder().tls(served(false)).start().await;
    let run = |ca: &'static str| {
        let mut command = std::process::Command::new(switchboard_tests::workspace_binary("sbctl"));
        command
            .args(["--json", "dm", "self", "--ca-file"])
            .arg(fixture(&format!("tls/{ca}")))
            .env("SWITCHBOARD_ADDR", server.url())
            .env("SWITCHBOARD_TOKEN", server.token("alice", "acme"));
        async move { tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap() }
    };
    let ok = run("ca.pem").await;
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("\"kind\": \"self\""));
    let refused = run("other-ca.pem").await;
    assert!(!refused.status.success(), "another CA is refused");
}
