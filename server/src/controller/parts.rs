//! Parts a controller builds from its config: the blob engine `[files]` names, and where
//! notifications are pushed and who takes them (`[notifications]`).

use std::sync::Arc;

use crate::blobs::local::LocalBlobs;
use crate::blobs::s3::S3Blobs;
use crate::blobs::{BlobEngine, BlobError, Blobs};
use crate::config::Config;
use crate::metrics::ControllerMetrics;
use crate::push::{NotificationStream, Push, Senders, Source, WebhookSender};
use crate::startup::StartError;

/// Where notifications are pushed, and who takes them from there.
pub(super) struct Pushing {
    /// Where new notifications go: the stream with NATS, else the consumers' queues.
    pub(super) push: Push,
    /// The webhook sender, if a webhook is configured.
    pub(super) webhook: Option<WebhookSender>,
    /// Where the device push takes notifications from, if a device sender is configured.
    pub(super) devices: Option<Source>,
    /// The device senders configured.
    pub(super) senders: Senders,
}

/// Where notifications are pushed: with NATS to the stream, where the webhook sender and
/// the device push each have a durable consumer; without, to their in-process queues.
pub(super) async fn push(
    config: &Config,
    nats: Option<&async_nats::Client>,
    metrics: &Arc<ControllerMetrics>,
) -> Result<Pushing, StartError> {
    let notifications = &config.notifications;
    let senders = notifications.senders()?;
    let webhook_secret = match (&notifications.webhook_url, &notifications.webhook_secret_file) {
        (Some(_), Some(file)) => {
            Some(crate::config::read_secret("notifications.webhook_secret_file", file)?)
        }
        _ => None,
    };
    let (push, webhook_source, devices) = match nats {
        Some(client) => {
            let stream = NotificationStream::open(client.clone()).await?;
            let webhook = match webhook_secret {
                Some(_) => Some(Source::Stream(Box::new(
                    stream.consumer("webhook", notifications.webhook_max_attempts).await?,
                ))),
                None => None,
            };
            let devices = match senders.is_empty() {
                true => None,
                false => Some(Source::Stream(Box::new(stream.consumer("devices", 3).await?))),
            };
            (Push::to_stream(stream, metrics.clone()), webhook, devices)
        }
        None => {
            let mut push = Push::in_process(metrics.clone());
            let webhook =
                webhook_secret.is_some().then(|| Source::Queue(push.queue_for("webhook")));
            let devices = (!senders.is_empty()).then(|| Source::Queue(push.queue_for("devices")));
            (push, webhook, devices)
        }
    };
    let webhook = match (webhook_secret, webhook_source) {
        (Some(secret), Some(source)) => {
            Some(WebhookSender::new(notifications, secret, source, metrics.clone()))
        }
        _ => None,
    };
    Ok(Pushing { push, webhook, devices, senders })
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
