//! `sbctl upload` and `sbctl download`: attachments moved with a progress bar.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use switchboard_sdk::Client;

use crate::chat::Shown;
use crate::output;

fn bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

/// Uploads `file` to `channel` and sends it as a message (with `caption`).
pub(crate) async fn upload(
    client: &Client,
    file: &Path,
    channel: u64,
    caption: Option<String>,
    content_type: Option<String>,
) -> anyhow::Result<Shown> {
    let size =
        std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
    let content_type = content_type
        .unwrap_or_else(|| mime_guess::from_path(file).first_or_octet_stream().to_string());
    let progress = bar(size);
    progress.set_message("uploading");
    let attachment =
        client.upload_file(channel, file, &content_type, |sent| progress.set_position(sent)).await;
    progress.finish_and_clear();
    let attachment = attachment?;
    let message = client.send_attachment(channel, &attachment, caption.as_deref()).await?;
    let json = json!({
        "attachment": output::attachment_json(&attachment),
        "message": output::message_json(&message),
    });
    let human = format!(
        "uploaded {} ({} bytes, {}) as attachment {} in message {}",
        attachment.filename, attachment.size, attachment.content_type, attachment.id, message.id
    );
    Ok(Shown { json, human })
}

/// Downloads an attachment to `output`, or to its own file name here.
pub(crate) async fn download(
    client: &Client,
    attachment: u64,
    output: Option<PathBuf>,
    force: bool,
) -> anyhow::Result<Shown> {
    let info = client.get_attachment(attachment).await?;
    let path = output.unwrap_or_else(|| PathBuf::from(&info.filename));
    if path.exists() && !force {
        bail!("{} exists; pass --force to overwrite it", path.display());
    }
    let partial = path.with_extension("partial");
    let mut file = tokio::fs::File::create(&partial)
        .await
        .with_context(|| format!("cannot write {}", partial.display()))?;
    let progress = bar(info.size);
    progress.set_message("downloading");
    let result =
        client.download(attachment, &mut file, |received| progress.set_position(received)).await;
    progress.finish_and_clear();
    drop(file);
    if let Err(error) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(error.into());
    }
    std::fs::rename(&partial, &path).with_context(|| format!("cannot write {}", path.display()))?;
    let json = json!({
        "attachment": output::attachment_json(&info),
        "path": path.display().to_string(),
    });
    let human = format!("downloaded {} ({} bytes) to {}", info.filename, info.size, path.display());
    Ok(Shown { json, human })
}
