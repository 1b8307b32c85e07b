//! The S3 blob engine (`aws-sdk-s3`): AWS, MinIO, Garage or any S3-compatible store.
//! Presigned URLs go straight to the store; the controller only talks to it to start,
//! complete and check uploads, and to delete.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};

use super::{BlobError, BlobResult, Blobs, S3Config, content_disposition};

pub struct S3Blobs {
    client: Client,
    bucket: String,
}

fn failed(error: impl std::fmt::Display) -> BlobError {
    BlobError::S3(error.to_string())
}

/// The full chain of an SDK error ("service error" alone says nothing).
fn explain(error: impl std::error::Error) -> BlobError {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    BlobError::S3(text)
}

/// Whether a call failed because the object it names does not exist.
fn no_such_key<E, R>(error: &aws_sdk_s3::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_s3::error::ProvideErrorMetadata,
{
    error.as_service_error().and_then(|e| e.code()) == Some("NoSuchKey")
}

/// The size of the parts an object the server writes from a file goes up in.
const FILE_PART: u64 = 16 * 1024 * 1024;

impl S3Blobs {
    /// Uploads the file at `path`, of `size` bytes, as the parts of upload `upload_id`, one
    /// `FILE_PART` at a time, streamed from the file; how many.
    async fn put_parts(
        &self,
        key: &str,
        upload_id: &str,
        path: &std::path::Path,
        size: u64,
    ) -> BlobResult<u32> {
        let parts = size.div_ceil(FILE_PART);
        for index in 0..parts {
            let offset = index * FILE_PART;
            let length = FILE_PART.min(size - offset);
            let body = ByteStream::read_from()
                .path(path)
                .offset(offset)
                .length(Length::Exact(length))
                .build()
                .await
                .map_err(failed)?;
            self.client
                .upload_part()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(index as i32 + 1)
                .content_length(length as i64)
                .body(body)
                .send()
                .await
                .map_err(explain)?;
        }
        Ok(parts as u32)
    }

    /// A client for `config.bucket`. No request is made: a wrong endpoint or key shows on
    /// the first upload, and in readiness.
    pub fn new(config: &S3Config) -> BlobResult<Self> {
        let access_key = match &config.access_key_id {
            Some(key) => key.clone(),
            None => std::env::var("AWS_ACCESS_KEY_ID").map_err(|_| {
                BlobError::Config("set files.s3.access_key_id or AWS_ACCESS_KEY_ID".into())
            })?,
        };
        let secret_key = match &config.secret_access_key_file {
            Some(file) => std::fs::read_to_string(file)
                .map_err(|e| BlobError::Config(format!("files.s3.secret_access_key_file: {e}")))?
                .trim()
                .to_string(),
            None => std::env::var("AWS_SECRET_ACCESS_KEY").map_err(|_| {
                BlobError::Config(
                    "set files.s3.secret_access_key_file or AWS_SECRET_ACCESS_KEY".into(),
                )
            })?,
        };
        let mut trust = TrustStore::default();
        if let Some(ca) = &config.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| BlobError::Config(format!("files.s3.ca_file: {e}")))?;
            trust = TrustStore::empty().with_pem_certificate(pem);
        }
        let tls_context = TlsContext::builder().with_trust_store(trust).build().map_err(failed)?;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .tls_context(tls_context)
            .build_https();
        let mut builder = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .credentials_provider(Credentials::new(access_key, secret_key, None, None, "config"))
            .force_path_style(config.path_style)
            // Checksums only where S3 requires them: the SDK's default (a streamed payload
            // with a trailing checksum) is refused by stores that do not know it (Garage:
            // "Invalid payload signature" on PutObject).
            .request_checksum_calculation(
                aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
            )
            .http_client(http);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        Ok(S3Blobs { client: Client::from_conf(builder.build()), bucket: config.bucket.clone() })
    }
}

fn presigning(expires_in: Duration) -> BlobResult<PresigningConfig> {
    PresigningConfig::expires_in(expires_in).map_err(failed)
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        expires_in: Duration,
    ) -> BlobResult<String> {
        // Both headers are signed: the store refuses a PUT whose length or type differs.
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length as i64)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(explain)?;
        Ok(request.uri().to_string())
    }

    async fn start_multipart(&self, key: &str, content_type: &str) -> BlobResult<String> {
        let started = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .send()
            .await
            .map_err(explain)?;
        started.upload_id().map(String::from).ok_or_else(|| failed("no upload id in the answer"))
    }

    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        length: u64,
        expires_in: Duration,
    ) -> BlobResult<String> {
        let request = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(part_number as i32)
            .content_length(length as i64)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(explain)?;
        Ok(request.uri().to_string())
    }

    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: u32) -> BlobResult<()> {
        // The client only says "done": the parts' ETags come from the store itself.
        let mut uploaded = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_parts()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .set_part_number_marker(marker.clone())
                .send()
                .await
                .map_err(explain)?;
            for part in page.parts() {
                if let (Some(number), Some(etag)) = (part.part_number(), part.e_tag()) {
                    uploaded.push(CompletedPart::builder().part_number(number).e_tag(etag).build());
                }
            }
            marker = page.next_part_number_marker().map(String::from);
            if !page.is_truncated().unwrap_or(false) || marker.is_none() {
                break;
            }
        }
        uploaded.sort_by_key(|part| part.part_number());
        let found = uploaded
            .iter()
            .filter(|p| p.part_number().is_some_and(|n| (1..=parts as i32).contains(&n)))
            .count() as u32;
        if found != parts || uploaded.len() as u32 != parts {
            return Err(BlobError::Incomplete { found, expected: parts });
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(uploaded)).build())
            .send()
            .await
            .map_err(explain)?;
        Ok(())
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> BlobResult<()> {
        let aborted = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await;
        match aborted {
            Ok(_) => Ok(()),
            // Already gone (completed, aborted or expired by the store): nothing to do.
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_upload()) => Ok(()),
            Err(error) => Err(explain(error)),
        }
    }

    async fn size(&self, key: &str) -> BlobResult<Option<u64>> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(head) => Ok(Some(head.content_length().unwrap_or(0).max(0) as u64)),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) => Err(explain(error)),
        }
    }

    async fn first_bytes(&self, key: &str, len: usize) -> BlobResult<Vec<u8>> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", len - 1))
            .send()
            .await
            .map_err(explain)?;
        let bytes = object.body.collect().await.map_err(failed)?.into_bytes();
        Ok(bytes[..bytes.len().min(len)].to_vec())
    }

    async fn presign_get(
        &self,
        key: &str,
        filename: &str,
        content_type: &str,
        expires_in: Duration,
    ) -> BlobResult<String> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_type(content_type)
            .response_content_disposition(content_disposition(filename))
            .presigned(presigning(expires_in)?)
            .await
            .map_err(explain)?;
        Ok(request.uri().to_string())
    }

    async fn seal(&self, from: &str, to: &str) -> BlobResult<()> {
        // A copy is one snapshot of `from`: a PUT racing it lands wholly before or after,
        // and whatever was copied is what the caller then checks at `to`.
        let copied = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{}", self.bucket, from))
            .key(to)
            .send()
            .await;
        match copied {
            Ok(_) => self.delete(from).await,
            Err(error) if no_such_key(&error) => Ok(()),
            Err(error) => Err(explain(error)),
        }
    }

    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> BlobResult<()> {
        let request = self.client.put_object().bucket(&self.bucket).key(key);
        let body = ByteStream::from(bytes);
        request.content_type(content_type).body(body).send().await.map_err(explain)?;
        Ok(())
    }

    /// One PUT up to `FILE_PART`, else a multipart upload of such parts (one PUT takes
    /// at most 5 GB; S3 takes at most 10,000 parts, so up to 160 GB).
    async fn put_file(
        &self,
        key: &str,
        content_type: &str,
        path: &std::path::Path,
    ) -> BlobResult<()> {
        let size = tokio::fs::metadata(path).await.map_err(failed)?.len();
        if size <= FILE_PART {
            let body = ByteStream::from_path(path).await.map_err(failed)?;
            let request = self.client.put_object().bucket(&self.bucket).key(key);
            request.content_type(content_type).body(body).send().await.map_err(explain)?;
            return Ok(());
        }
        let upload_id = self.start_multipart(key, content_type).await?;
        let uploaded = async {
            let parts = self.put_parts(key, &upload_id, path, size).await?;
            self.complete_multipart(key, &upload_id, parts).await
        };
        let uploaded = uploaded.await;
        if uploaded.is_err()
            && let Err(error) = self.abort_multipart(key, &upload_id).await
        {
            tracing::warn!(%error, key, "could not abort a failed multipart upload");
        }
        uploaded
    }

    async fn get(&self, key: &str) -> BlobResult<Option<Vec<u8>>> {
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(object) => {
                Ok(Some(object.body.collect().await.map_err(failed)?.into_bytes().to_vec()))
            }
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(error) => Err(explain(error)),
        }
    }

    async fn delete(&self, key: &str) -> BlobResult<()> {
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(explain)?;
        Ok(())
    }
}
