//! Parts a controller builds from its config: the blob engine `[files]` names, and where
//! notifications are pushed (`[notifications]`).

use std::sync::Arc;

use crate::blobs::local::LocalBlobs;
use crate::blobs::s3::S3Blobs;
use crate::blobs::{BlobEngine, BlobError, Blobs};
use crate::config::Config;
use crate::metrics::ControllerMetrics;
use crate::push::{NotificationStream, Push, Source, WebhookSender};
use crate::startup::StartError;

/// Where notifications are pushed (the stream with NATS), and the webhook sender, if a
/// webhook is configured (fed by the stream's durable consumer with NATS, else in-process).
pub(super) async fn push(
    config: &Config,
    nats: Option<&async_nats::Client>,
    metrics: &Arc<ControllerMetrics>,
) -> Result<(Push, Option<WebhookSender>), StartError> {
    let stream = match nats {
        Some(client) => Some(NotificationStream::open(client.clone()).await?),
        None => None,
    };
    let mut push = match &stream {
        Some(stream) => Push::to_stream(stream.clone(), metrics.clone()),
        None => Push::default(),
    };
    let notifications = &config.notifications;
    let (Some(_), Some(file)) = (&notifications.webhook_url, &notifications.webhook_secret_file)
    else {
        return Ok((push, None));
    };
    let secret = crate::config::read_secret("notifications.webhook_secret_file", file)?;
    let source = match &stream {
        Some(stream) => Source::Stream(Box::new(
            stream.webhook_consumer(notifications.webhook_max_attempts).await?,
        )),
        None => {
            let (to_webhook, queue) = Push::to_webhook(metrics.clone());
            push = to_webhook;
            Source::Queue(queue)
        }
    };
    Ok((push, Some(WebhookSender::new(notifications, secret, source, metrics.clone()))))
}

/// The blob engine `[files]` names.
pub(super) fn blobs(config: &Config) -> Result<Arc<dyn Blobs>, BlobError> {
    let files = &config.files;
    Ok(match files.engine {
        BlobEngine::S3 => Arc::new(S3Blobs::new(&files.s3)?),
        BlobEngine::Local => {
            let dir = files.local.dir.clone().unwrap_or_else(|| config.data_dir.join("blobs"));
            let public_url = match &files.local.public_url {
                Some(url) => url.clone(),
                None => format!("http://{}", config.http.listen),
            };
            let secret = match &files.local.secret_file {
                Some(file) => file.clone(),
                None => crate::dev::ensure_secret(&dir, "url-signing-secret")?,
            };
            Arc::new(LocalBlobs::open(&dir, &public_url, &secret, files.multipart_threshold_bytes)?)
        }
    })
}
