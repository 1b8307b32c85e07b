//! `sbctl admin erase`, `admin job`, `admin jobs` and `sbctl export`: background jobs
//! started and followed, with a spinner showing the step and what was done so far while
//! waiting, and an export's archive downloaded.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use switchboard_sdk::{Client, SdkError, proto as pb};

use crate::chat::Shown;
use crate::output;

/// How often `--wait` asks how the job is doing.
const POLL: Duration = Duration::from_millis(500);

/// Starts erasing `user`; with `wait`, follows the job to its end.
pub(crate) async fn erase(
    client: &Client,
    user: &str,
    reason: &str,
    wait: bool,
) -> Result<Shown, SdkError> {
    let job = client.erase_user(user, reason).await?;
    let job = if wait { follow(client, job).await? } else { job };
    if job.state() == pb::JobState::Failed {
        return Err(SdkError::Io(format!("job {} failed: {}", job.id, job.error)));
    }
    Ok(jobs(vec![job]))
}

/// One job; with `wait`, followed to its end.
pub(crate) async fn job(client: &Client, id: u64, wait: bool) -> Result<Shown, SdkError> {
    let job = client.get_job(id).await?;
    let job = if wait { follow(client, job).await? } else { job };
    Ok(jobs(vec![job]))
}

/// The org's jobs, newest first, up to `limit`.
pub(crate) async fn list(client: &Client, limit: u32) -> Result<Shown, SdkError> {
    let (page, _) = client.list_jobs(0, limit).await?;
    Ok(jobs(page))
}

/// Whose export `sbctl export` makes.
pub(crate) enum Exported {
    Mine,
    User(String),
    Conversation(u64),
}

/// Starts an export; with `wait` (or `output`), follows it to its end; with `output`,
/// downloads the archive there.
pub(crate) async fn export(
    client: &Client,
    what: Exported,
    wait: bool,
    output: Option<&std::path::Path>,
) -> Result<Shown, SdkError> {
    let mine = matches!(what, Exported::Mine);
    let job = match what {
        Exported::Mine => client.export_my_data().await?,
        Exported::User(user) => client.export_user(&user).await?,
        Exported::Conversation(id) => client.export_conversation(id).await?,
    };
    if !(wait || output.is_some()) {
        return Ok(jobs(vec![job]));
    }
    let job = follow_as(client, job, mine).await?;
    if job.state() == pb::JobState::Failed {
        return Err(SdkError::Io(format!("job {} failed: {}", job.id, job.error)));
    }
    if let Some(path) = output {
        let io = |e: std::io::Error| SdkError::Io(format!("{}: {e}", path.display()));
        let mut file = tokio::fs::File::create(path).await.map_err(io)?;
        let bytes = client.fetch(&job.download_url, &mut file, |_| {}).await?;
        eprintln!("saved {} ({bytes} bytes)", path.display());
    }
    if job.archive_expires_at_ms != 0 {
        eprintln!("the archive is kept until {}", output::archive_kept_until(&job));
    }
    Ok(jobs(vec![job]))
}

/// Polls the job until it is done or failed, showing its step and counts.
async fn follow(client: &Client, job: pb::Job) -> Result<pb::Job, SdkError> {
    follow_as(client, job, false).await
}

/// [`follow`], reading the job as its admin or (`mine`) as the user whose export it is.
async fn follow_as(client: &Client, mut job: pb::Job, mine: bool) -> Result<pb::Job, SdkError> {
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("valid"));
    spinner.enable_steady_tick(Duration::from_millis(120));
    while !matches!(job.state(), pb::JobState::Done | pb::JobState::Failed) {
        let stage = if job.stage.is_empty() { "waiting" } else { job.stage.as_str() };
        spinner.set_message(format!("job {}: {stage}; {}", job.id, output::job_counts(&job)));
        tokio::time::sleep(POLL).await;
        job = match mine {
            true => client.get_my_export(job.id).await?,
            false => client.get_job(job.id).await?,
        };
    }
    spinner.finish_and_clear();
    Ok(job)
}

fn jobs(jobs: Vec<pb::Job>) -> Shown {
    Shown {
        json: Value::Array(jobs.iter().map(output::job_json).collect()),
        human: output::jobs_table(&jobs).to_string(),
    }
}
