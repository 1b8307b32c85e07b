//! Blobs: where attachment bytes live, behind one trait with two engines: any S3-compatible
//! store ([`s3::S3Blobs`]: AWS, MinIO, Garage) and a local directory ([`local::LocalBlobs`],
//! the default of `switchboard dev`) whose presigned URLs the controller's HTTP port serves.
//!
//! Clients move the bytes themselves, straight to and from the store, with presigned URLs;
//! the controller only signs URLs, checks what arrived and deletes.

pub mod config;
pub mod local;
pub mod s3;
pub(crate) mod signing;

use std::time::Duration;

use async_trait::async_trait;

use crate::error::ChatError;

pub use config::{BlobEngine, FilesConfig, LocalBlobsConfig, S3Config};

/// A failure of the blob store (not of the caller's request, except `Incomplete`).
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("local blob directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("S3: {0}")]
    S3(String),
    #[error("the upload is incomplete: {found} of {expected} parts arrived")]
    Incomplete { found: u32, expected: u32 },
    #[error("blob store configuration: {0}")]
    Config(String),
}

pub type BlobResult<T> = Result<T, BlobError>;

impl From<BlobError> for ChatError {
    fn from(error: BlobError) -> Self {
        ChatError::Backend { what: "the file store", error: error.to_string() }
    }
}

#[async_trait]
pub trait Blobs: Send + Sync + 'static {
    /// A URL that stores the whole object with one PUT of exactly `length` bytes carrying
    /// `Content-Type: content_type`; the store refuses any other length or type.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        expires_in: Duration,
    ) -> BlobResult<String>;

    /// Starts a multipart upload; returns its id.
    async fn start_multipart(&self, key: &str, content_type: &str) -> BlobResult<String>;

    /// A URL that PUTs part `part_number` (1-based) of a multipart upload, of exactly
    /// `length` bytes.
    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        length: u64,
        expires_in: Duration,
    ) -> BlobResult<String>;

    /// Joins parts 1 to `parts` into the object; [`BlobError::Incomplete`] if some are missing.
    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: u32) -> BlobResult<()>;

    /// Drops a multipart upload and the parts it holds.
    async fn abort_multipart(&self, key: &str, upload_id: &str) -> BlobResult<()>;

    /// The stored object's size; None if there is no object.
    async fn size(&self, key: &str) -> BlobResult<Option<u64>>;

    /// Up to the first `len` bytes of the object.
    async fn first_bytes(&self, key: &str, len: usize) -> BlobResult<Vec<u8>>;

    /// A URL that GETs the object, served as `content_type` and downloaded as `filename`.
    async fn presign_get(
        &self,
        key: &str,
        filename: &str,
        content_type: &str,
        expires_in: Duration,
    ) -> BlobResult<String>;

    /// Moves a finished upload from `from` to `to`, where no upload URL reaches, so that
    /// later PUTs to `from`'s URLs cannot change it (the local engine refuses them; on S3
    /// they land at `from`, which is never read). Nothing at `from` is not an error: a
    /// retry finds the object at `to` already.
    async fn seal(&self, from: &str, to: &str) -> BlobResult<()>;

    /// Stores a whole object from memory (what the server writes itself: export parts).
    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> BlobResult<()>;

    /// Stores a whole object from a file (an export's archive).
    async fn put_file(
        &self,
        key: &str,
        content_type: &str,
        path: &std::path::Path,
    ) -> BlobResult<()>;

    /// The whole object; None if there is none.
    async fn get(&self, key: &str) -> BlobResult<Option<Vec<u8>>>;

    /// Deletes the object; deleting a missing object is not an error.
    async fn delete(&self, key: &str) -> BlobResult<()>;

    /// Routes this engine serves on the controller's HTTP port, if any (the local engine's
    /// presigned URLs).
    fn routes(&self) -> Option<axum::Router> {
        None
    }
}

/// A `Content-Disposition` value that downloads as `filename` (quoted, and RFC 5987
/// encoded for names that are not plain ASCII).
pub fn content_disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", percent_encode(filename))
}

/// `text` with every byte but unreserved URL characters as `%XX`.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_quote_plain_names_and_encode_the_rest() {
        assert_eq!(
            content_disposition("report 1.pdf"),
            "attachment; filename=\"report 1.pdf\"; filename*=UTF-8''report%201.pdf"
        );
        assert_eq!(
            content_disposition("naïve\".txt"),
            "attachment; filename=\"na_ve_.txt\"; filename*=UTF-8''na%C3%AFve%22.txt"
        );
    }
}
