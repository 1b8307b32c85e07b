//! `[files]`: which blob engine holds attachments, and the rules uploads follow.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobEngine {
    /// A directory, served by the controller's HTTP port.
    #[default]
    Local,
    /// Any S3-compatible store.
    S3,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilesConfig {
    pub engine: BlobEngine,
    /// Largest attachment, in bytes.
    pub max_bytes: u64,
    /// Content types that may be uploaded: exact (`application/pdf`) or a family
    /// (`image/*`). `*/*` allows everything.
    pub allowed_types: Vec<String>,
    /// Uploads larger than this go in parts.
    pub multipart_threshold_bytes: u64,
    /// Size of each part (S3 requires at least 5 MiB for every part but the last).
    pub part_bytes: u64,
    /// How long upload URLs work; unfinished uploads are cleaned up after this.
    pub upload_ttl_secs: u64,
    /// How long download URLs work.
    pub download_ttl_secs: u64,
    /// How long an export's archive is kept once made.
    pub export_ttl_secs: u64,
    pub local: LocalBlobsConfig,
    pub s3: S3Config,
}

/// The longest an export's archive may be kept: a year.
const MAX_EXPORT_TTL_SECS: u64 = 365 * 24 * 3600;

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            engine: BlobEngine::Local,
            max_bytes: 100 * 1024 * 1024,
            allowed_types: [
                "image/*",
                "video/*",
                "audio/*",
                "text/plain",
                "text/csv",
                "application/pdf",
                "application/zip",
                "application/json",
                "application/octet-stream",
            ]
            .map(String::from)
            .to_vec(),
            multipart_threshold_bytes: 16 * 1024 * 1024,
            part_bytes: 8 * 1024 * 1024,
            upload_ttl_secs: 3600,
            download_ttl_secs: 300,
            export_ttl_secs: 7 * 24 * 3600,
            local: LocalBlobsConfig::default(),
            s3: S3Config::default(),
        }
    }
}

impl FilesConfig {
    /// Whether `content_type` is on the allowlist.
    pub fn allows(&self, content_type: &str) -> bool {
        let family = content_type.split('/').next().unwrap_or("");
        self.allowed_types.iter().any(|allowed| {
            allowed == "*/*"
                || allowed.eq_ignore_ascii_case(content_type)
                || allowed.strip_suffix("/*").is_some_and(|f| f.eq_ignore_ascii_case(family))
        })
    }

    pub fn validate(&self) -> Result<(), String> {
        const MIB: u64 = 1024 * 1024;
        if self.max_bytes == 0 || self.max_bytes > 5 * 1024 * MIB {
            // Completing an upload copies it once on S3, and one copy takes at most 5 GiB.
            return Err("files.max_bytes must be 1 byte to 5 GiB".into());
        }
        if self.part_bytes < 5 * MIB || self.part_bytes > 5 * 1024 * MIB {
            return Err("files.part_bytes must be 5 MiB to 5 GiB (S3's part limits)".into());
        }
        if self.multipart_threshold_bytes < self.part_bytes {
            return Err("files.multipart_threshold_bytes must be at least files.part_bytes".into());
        }
        if self.max_bytes.div_ceil(self.part_bytes) > 10_000 {
            return Err("files.max_bytes / files.part_bytes must be at most 10000 parts".into());
        }
        if !(1..=7 * 24 * 3600).contains(&self.upload_ttl_secs) {
            return Err("files.upload_ttl_secs must be 1 to 604800".into());
        }
        if !(1..=7 * 24 * 3600).contains(&self.download_ttl_secs) {
            return Err("files.download_ttl_secs must be 1 to 604800".into());
        }
        if !(60..=MAX_EXPORT_TTL_SECS).contains(&self.export_ttl_secs) {
            return Err("files.export_ttl_secs must be 60 to 31536000 (a year)".into());
        }
        if let Some(bad) = self.allowed_types.iter().find(|t| !t.contains('/')) {
            return Err(format!("files.allowed_types: `{bad}` is not a MIME type"));
        }
        if self.engine == BlobEngine::S3 && self.s3.bucket.is_empty() {
            return Err("files.s3.bucket must be set for the s3 engine".into());
        }
        Ok(())
    }
}

/// The local engine.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalBlobsConfig {
    /// Where the bytes go; `<data_dir>/blobs` when unset.
    pub dir: Option<PathBuf>,
    /// The base URL clients reach the controller's HTTP port at; `http://<http.listen>`
    /// when unset.
    pub public_url: Option<String>,
    /// A file holding the URL signing secret; created (random) in the blob directory when
    /// unset.
    pub secret_file: Option<PathBuf>,
}

/// The S3 engine. Credentials come from the config, else from `AWS_ACCESS_KEY_ID` and
/// `AWS_SECRET_ACCESS_KEY`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// e.g. `http://127.0.0.1:3900` for Garage; AWS's endpoint for the region when unset.
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    /// Address buckets as `endpoint/bucket` (MinIO, Garage) instead of `bucket.endpoint`.
    pub path_style: bool,
    pub access_key_id: Option<String>,
    /// A file holding the secret access key (kept out of the config file and the logs).
    pub secret_access_key_file: Option<PathBuf>,
    /// CA certificate (PEM) to verify an https endpoint with, instead of the system roots.
    pub ca_file: Option<PathBuf>,
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            endpoint: None,
            region: "us-east-1".into(),
            bucket: String::new(),
            path_style: false,
            access_key_id: None,
            secret_access_key_file: None,
            ca_file: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowlist_takes_families_and_exact_types() {
        let config = FilesConfig {
            allowed_types: vec!["image/*".into(), "application/pdf".into()],
            ..FilesConfig::default()
        };
        assert!(config.allows("image/png"));
        assert!(config.allows("application/pdf"));
        assert!(!config.allows("application/x-msdownload"));
        assert!(!config.allows("imagex/png"));
        assert!(FilesConfig { allowed_types: vec!["*/*".into()], ..config }.allows("a/b"));
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(FilesConfig::default().validate(), Ok(()));
    }
}
