//! `sbctl token mint`.

use std::time::Duration;

use anyhow::{Context, bail};
use switchboard_sdk::token::{SigningKey, TokenSpec, USER_SCOPES, mint};

use crate::args::{MintArgs, TokenCommand};

pub(crate) fn run(command: TokenCommand, json: bool) -> anyhow::Result<()> {
    let TokenCommand::Mint(args) = command;
    let key = signing_key(&args)?;
    let scopes: Vec<String> = if args.scopes.is_empty() {
        USER_SCOPES.map(String::from).to_vec()
    } else {
        args.scopes.iter().flat_map(|s| s.split_whitespace()).map(String::from).collect()
    };
    let spec = TokenSpec {
        user: args.user.clone(),
        org: args.org.clone(),
        scopes,
        ttl: Duration::from(args.ttl),
        name: args.name.clone(),
    };
    let token = mint(&spec, &key).context("cannot sign the token")?;
    if json {
        let out = serde_json::json!({
            "token": token, "user": spec.user, "org": spec.org,
            "scopes": spec.scopes, "ttl_secs": spec.ttl.as_secs(),
        });
        println!("{out}");
    } else {
        println!("{token}");
    }
    Ok(())
}

fn signing_key(args: &MintArgs) -> anyhow::Result<SigningKey> {
    if let Some(path) = &args.key_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read key file {}", path.display()))?;
        let alg = args.alg.as_deref().unwrap_or_default();
        let algorithm = alg.parse().ok().with_context(|| format!("unknown algorithm `{alg}`"))?;
        return Ok(SigningKey::Pem { algorithm, pem });
    }
    let path = &args.secret_file;
    let secret = std::fs::read(path).with_context(|| {
        format!(
            "cannot read the dev secret {} (run `switchboard dev` once, or pass --secret-file)",
            path.display()
        )
    })?;
    let secret = secret.trim_ascii().to_vec();
    if secret.is_empty() {
        bail!("the secret file {} is empty", path.display());
    }
    Ok(SigningKey::Hs256(secret))
}
