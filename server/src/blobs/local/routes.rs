//! The HTTP side of the local blob engine: the controller's HTTP port serves presigned URLs
//! (`/blobs/<key>?op=...&expires=...&sig=...`), checking each one's signature, deadline
//! and grant before it reads or writes a file.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::{Inner, sealed_mark};
use crate::blobs::content_disposition;
use crate::blobs::signing::{Grant, hex};

/// The routes of presigned URLs, for the HTTP port.
pub(super) fn router(inner: Arc<Inner>) -> Router {
    // Web pages PUT and GET these URLs straight from the browser. Any origin may: a
    // signed URL is itself the permission (no cookies or credentials ride along).
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([axum::http::Method::GET, axum::http::Method::PUT])
        .allow_headers(tower_http::cors::Any)
        .expose_headers([header::CONTENT_DISPOSITION, header::CONTENT_LENGTH]);
    Router::new().route("/blobs/{*key}", get(download).put(upload)).layer(cors).with_state(inner)
}

/// The query string of a presigned URL.
#[derive(Debug, Deserialize)]
pub(super) struct Signed {
    op: String,
    expires: i64,
    sig: String,
    #[serde(default)]
    upload: String,
    #[serde(default)]
    part: u32,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    content_type: String,
    #[serde(default)]
    length: u64,
}

impl Signed {
    /// The grant this URL claims, if its signature holds and it has not expired; why not
    /// otherwise.
    pub(super) fn check(self, inner: &Inner, key: String) -> Result<Grant, &'static str> {
        let grant = Grant {
            op: self.op,
            key,
            upload: self.upload,
            part: self.part,
            expires: self.expires,
            name: self.name,
            content_type: self.content_type,
            length: self.length,
        };
        if !grant.verify(&inner.secret, &self.sig) {
            return Err("signature does not match");
        }
        if switchboard_proto::ids::now_ms() >= grant.expires {
            return Err("URL expired");
        }
        Ok(grant)
    }
}

fn refuse(why: &str) -> Response {
    (StatusCode::FORBIDDEN, format!("{why}\n")).into_response()
}

fn failed(error: impl std::fmt::Display) -> Response {
    tracing::warn!(%error, "local blob request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "blob store error\n").into_response()
}

async fn upload(
    State(inner): State<Arc<Inner>>,
    UrlPath(key): UrlPath<String>,
    Query(signed): Query<Signed>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Response {
    let grant = match signed.check(&inner, key) {
        Ok(grant) => grant,
        Err(why) => return refuse(why),
    };
    if let Err(why) = fits_grant(&grant, &headers) {
        return (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response();
    }
    let target = match grant.op.as_str() {
        "put" => inner.object(&grant.key),
        "part" if grant.part >= 1 => {
            inner.upload(&grant.upload).map(|u| u.join(grant.part.to_string()))
        }
        _ => return refuse("this URL does not allow uploads"),
    };
    let target = match target {
        Ok(target) => target,
        Err(error) => return (StatusCode::BAD_REQUEST, format!("{error}\n")).into_response(),
    };
    if grant.op == "part" && !target.parent().is_some_and(Path::is_dir) {
        return (StatusCode::NOT_FOUND, "no such upload\n").into_response();
    }
    if grant.op == "put" && sealed_mark(&target).exists() {
        return (StatusCode::GONE, "the upload was completed; its URLs are closed\n")
            .into_response();
    }
    let length = (grant.length > 0).then_some(grant.length);
    match write_body(&target, body, length.unwrap_or(inner.max_put_bytes), length).await {
        Ok(Written::Whole) => StatusCode::OK.into_response(),
        Ok(Written::Short(arrived)) => {
            let why = format!("{arrived} bytes arrived; this URL takes {}\n", grant.length);
            (StatusCode::BAD_REQUEST, why).into_response()
        }
        Ok(Written::TooLarge) => {
            (StatusCode::PAYLOAD_TOO_LARGE, "body too large\n").into_response()
        }
        Err(error) => failed(error),
    }
}

/// Refuses before reading the body what the URL does not allow: another declared length,
/// another content type.
fn fits_grant(grant: &Grant, headers: &axum::http::HeaderMap) -> Result<(), String> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    if grant.length > 0
        && let Some(declared) = declared
        && declared.parse::<u64>().ok() != Some(grant.length)
    {
        return Err(format!("this URL takes exactly {} bytes", grant.length));
    }
    if grant.op == "put" && !grant.content_type.is_empty() {
        let sent = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let media_type = sent.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case(&grant.content_type) {
            return Err(format!("this URL takes content-type {}", grant.content_type));
        }
    }
    Ok(())
}

/// What [`write_body`] did.
enum Written {
    /// Stored the whole body.
    Whole,
    /// Nothing: the body ended after this many bytes, short of the length required.
    Short(u64),
    /// Nothing: the body went past the limit.
    TooLarge,
}

/// Streams the body to a temporary file beside `target` and renames it into place, so a
/// reader never sees half an object. Nothing is written if it exceeds `max`, or ends short
/// of `exact` when that is given.
async fn write_body(
    target: &Path,
    body: Body,
    max: u64,
    exact: Option<u64>,
) -> std::io::Result<Written> {
    super::make_parent(target).await?;
    let partial = target.with_extension(format!("partial-{}", hex(&rand::random::<[u8; 8]>())));
    let mut file = tokio::fs::File::create(&partial).await?;
    let mut stream = body.into_data_stream();
    let mut written = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(std::io::Error::other(error));
            }
        };
        written += chunk.len() as u64;
        if written > max {
            drop(file);
            tokio::fs::remove_file(&partial).await?;
            return Ok(Written::TooLarge);
        }
        file.write_all(&chunk).await?;
    }
    if exact.is_some_and(|exact| written != exact) {
        drop(file);
        tokio::fs::remove_file(&partial).await?;
        return Ok(Written::Short(written));
    }
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&partial, target).await?;
    Ok(Written::Whole)
}

async fn download(
    State(inner): State<Arc<Inner>>,
    UrlPath(key): UrlPath<String>,
    Query(signed): Query<Signed>,
) -> Response {
    let grant = match signed.check(&inner, key) {
        Ok(grant) if grant.op == "get" => grant,
        Ok(_) => return refuse("this URL does not allow downloads"),
        Err(why) => return refuse(why),
    };
    let path = match inner.object(&grant.key) {
        Ok(path) => path,
        Err(error) => return (StatusCode::BAD_REQUEST, format!("{error}\n")).into_response(),
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return (StatusCode::NOT_FOUND, "no such object\n").into_response();
        }
        Err(error) => return failed(error),
    };
    let length = match file.metadata().await {
        Ok(meta) => meta.len(),
        Err(error) => return failed(error),
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let content_type = if grant.content_type.is_empty() {
        "application/octet-stream"
    } else {
        &grant.content_type
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_LENGTH, length.to_string()),
            (header::CONTENT_DISPOSITION, content_disposition(&grant.name)),
            // Never run as a page, whatever the type says (an SVG or HTML file).
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'".to_string()),
        ],
        body,
    )
        .into_response()
}
