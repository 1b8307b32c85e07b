//! `sbctl`: the Switchboard ops CLI. Parses arguments, runs one command, prints the result
//! as a table (or JSON with `--json`), and exits non-zero with the gRPC code on failure.

mod args;
mod bench;
mod chat;
mod files;
mod jobs;
mod output;
mod people;
mod tail;
mod token;

use clap::{CommandFactory, Parser};

use crate::args::{Cli, Command};

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(error) = run(cli).await {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Token(command) => token::run(command, cli.json),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "sbctl", &mut std::io::stdout());
            Ok(())
        }
        Command::Bench(args) => bench::run(&cli.addr, cli.json, args).await,
        Command::Tail { channels } => {
            let ca = read_ca(cli.ca_file.as_deref())?;
            tail::run(&cli.addr, cli.token.as_deref(), ca, cli.json, channels).await
        }
        Command::Upload { file, channel, text, content_type } => {
            let ca = read_ca(cli.ca_file.as_deref())?;
            let client = chat::connect(&cli.addr, cli.token.as_deref(), ca.as_deref()).await?;
            files::upload(&client, &file, channel, text, content_type).await?.print(cli.json)
        }
        Command::Download { attachment, output, force } => {
            let ca = read_ca(cli.ca_file.as_deref())?;
            let client = chat::connect(&cli.addr, cli.token.as_deref(), ca.as_deref()).await?;
            files::download(&client, attachment, output, force).await?.print(cli.json)
        }
        command => {
            let ca = read_ca(cli.ca_file.as_deref())?;
            chat::run(&cli.addr, cli.token.as_deref(), ca.as_deref(), cli.json, command).await
        }
    }
}

/// The CA certificate named by --ca-file, if any.
fn read_ca(path: Option<&std::path::Path>) -> anyhow::Result<Option<Vec<u8>>> {
    use anyhow::Context;
    path.map(|p| std::fs::read(p).with_context(|| format!("cannot read CA file {}", p.display())))
        .transpose()
}
