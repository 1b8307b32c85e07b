//! `sbctl admin erase`, `admin job` and `admin jobs`: background jobs started and followed,
//! with a spinner showing the step and what was done so far while waiting.

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

/// Polls the job until it is done or failed, showing its step and counts.
async fn follow(client: &Client, mut job: pb::Job) -> Result<pb::Job, SdkError> {
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("valid"));
    spinner.enable_steady_tick(Duration::from_millis(120));
    while !matches!(job.state(), pb::JobState::Done | pb::JobState::Failed) {
        let stage = if job.stage.is_empty() { "waiting" } else { job.stage.as_str() };
        spinner.set_message(format!("job {}: {stage}; {}", job.id, output::job_counts(&job)));
        tokio::time::sleep(POLL).await;
        job = client.get_job(job.id).await?;
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
