//! The local blob engine: objects as files under one directory, and presigned URLs that
//! the controller's HTTP port serves (`/blobs/<key>?op=...&expires=...&sig=...`), signed
//! with a secret of its own so that they behave like S3's: scoped to one object (or part),
//! one operation and a deadline.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use tokio::io::AsyncReadExt;

mod routes;

use super::signing::{Grant, hex};
use super::{BlobError, BlobResult, Blobs, percent_encode};

/// Objects and multipart uploads in a directory.
pub struct LocalBlobs {
    inner: Arc<Inner>,
}

struct Inner {
    /// `objects/<key>` and `uploads/<upload id>/<part>` live here.
    dir: PathBuf,
    /// Where clients reach the HTTP port, e.g. `http://127.0.0.1:7402`.
    public_url: String,
    /// Signs and checks URLs.
    secret: Vec<u8>,
    /// Largest body one PUT may carry.
    max_put_bytes: u64,
}

impl LocalBlobs {
    /// Opens (creating) `dir`; URLs are signed with the secret in `secret_file`.
    pub fn open(
        dir: &Path,
        public_url: &str,
        secret_file: &Path,
        max_put_bytes: u64,
    ) -> BlobResult<Self> {
        std::fs::create_dir_all(dir.join("objects"))?;
        std::fs::create_dir_all(dir.join("uploads"))?;
        let secret = std::fs::read_to_string(secret_file)?.trim().as_bytes().to_vec();
        if secret.len() < 32 {
            return Err(BlobError::Config(
                "the URL signing secret must be at least 32 bytes".into(),
            ));
        }
        let public_url = public_url.trim_end_matches('/').to_string();
        let inner = Inner { dir: dir.to_path_buf(), public_url, secret, max_put_bytes };
        Ok(LocalBlobs { inner: Arc::new(inner) })
    }
}

impl Inner {
    fn url(&self, grant: &Grant) -> String {
        let mut url = format!(
            "{}/blobs/{}?op={}&expires={}&sig={}",
            self.public_url,
            grant.key,
            grant.op,
            grant.expires,
            grant.sign(&self.secret)
        );
        if !grant.upload.is_empty() {
            url.push_str(&format!("&upload={}&part={}", grant.upload, grant.part));
        }
        if !grant.name.is_empty() || !grant.content_type.is_empty() {
            url.push_str(&format!(
                "&name={}&type={}",
                percent_encode(&grant.name),
                percent_encode(&grant.content_type)
            ));
        }
        if grant.length > 0 {
            url.push_str(&format!("&length={}", grant.length));
        }
        url
    }

    fn object(&self, key: &str) -> BlobResult<PathBuf> {
        safe(key, true)?;
        Ok(self.dir.join("objects").join(key))
    }

    fn upload(&self, upload_id: &str) -> BlobResult<PathBuf> {
        safe(upload_id, false)?;
        Ok(self.dir.join("uploads").join(upload_id))
    }
}

/// Makes the folder `path` goes in, if it is not there yet.
async fn make_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(parent) => tokio::fs::create_dir_all(parent).await,
        None => Ok(()),
    }
}

/// The file whose presence says that uploads to `object` were sealed (`object.sealed`).
/// Marks stay after a delete too (one empty file per attachment), so that an upload URL
/// stays dead until it expires whatever happened to the attachment since.
fn sealed_mark(object: &Path) -> PathBuf {
    object.with_extension("sealed")
}

/// Keys and upload ids are ours (`attachments/<id>`, hex): refuse anything else, so that no
/// name can reach outside the directory.
fn safe(name: &str, slashes: bool) -> BlobResult<()> {
    let ok = !name.is_empty()
        && name.split('/').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        && (slashes || !name.contains('/'));
    if ok { Ok(()) } else { Err(BlobError::Config(format!("`{name}` is not a valid blob name"))) }
}

/// The Unix millisecond from which a URL valid for `expires_in` is refused. Milliseconds,
/// not seconds: an upload's URL must stop working when the upload expires, not up to a
/// second later.
fn deadline(expires_in: Duration) -> i64 {
    switchboard_proto::ids::now_ms() + expires_in.as_millis() as i64
}

#[async_trait]
impl Blobs for LocalBlobs {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        expires_in: Duration,
    ) -> BlobResult<String> {
        self.inner.object(key)?;
        let grant = Grant {
            op: "put".into(),
            key: key.into(),
            expires: deadline(expires_in),
            content_type: content_type.into(),
            length,
            ..Grant::default()
        };
        Ok(self.inner.url(&grant))
    }

    async fn start_multipart(&self, key: &str, _content_type: &str) -> BlobResult<String> {
        self.inner.object(key)?;
        let upload_id = hex(&rand::random::<[u8; 16]>());
        tokio::fs::create_dir_all(self.inner.upload(&upload_id)?).await?;
        Ok(upload_id)
    }

    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        length: u64,
        expires_in: Duration,
    ) -> BlobResult<String> {
        self.inner.upload(upload_id)?;
        let grant = Grant {
            op: "part".into(),
            key: key.into(),
            upload: upload_id.into(),
            part: part_number,
            expires: deadline(expires_in),
            length,
            ..Grant::default()
        };
        Ok(self.inner.url(&grant))
    }

    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: u32) -> BlobResult<()> {
        let upload = self.inner.upload(upload_id)?;
        let found = (1..=parts).filter(|n| upload.join(n.to_string()).is_file()).count() as u32;
        if found != parts {
            return Err(BlobError::Incomplete { found, expected: parts });
        }
        let object = self.inner.object(key)?;
        let joined = upload.join("joined");
        let mut out = tokio::fs::File::create(&joined).await?;
        for n in 1..=parts {
            let mut part = tokio::fs::File::open(upload.join(n.to_string())).await?;
            tokio::io::copy(&mut part, &mut out).await?;
        }
        out.sync_all().await?;
        drop(out);
        make_parent(&object).await?;
        tokio::fs::rename(&joined, &object).await?;
        tokio::fs::remove_dir_all(&upload).await?;
        Ok(())
    }

    async fn abort_multipart(&self, _key: &str, upload_id: &str) -> BlobResult<()> {
        match tokio::fs::remove_dir_all(self.inner.upload(upload_id)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn size(&self, key: &str) -> BlobResult<Option<u64>> {
        match tokio::fs::metadata(self.inner.object(key)?).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn first_bytes(&self, key: &str, len: usize) -> BlobResult<Vec<u8>> {
        let file = tokio::fs::File::open(self.inner.object(key)?).await?;
        let mut bytes = Vec::with_capacity(len);
        file.take(len as u64).read_to_end(&mut bytes).await?;
        Ok(bytes)
    }

    async fn presign_get(
        &self,
        key: &str,
        filename: &str,
        content_type: &str,
        expires_in: Duration,
    ) -> BlobResult<String> {
        self.inner.object(key)?;
        let grant = Grant {
            op: "get".into(),
            key: key.into(),
            expires: deadline(expires_in),
            name: filename.into(),
            content_type: content_type.into(),
            ..Grant::default()
        };
        Ok(self.inner.url(&grant))
    }

    async fn seal(&self, from: &str, to: &str) -> BlobResult<()> {
        let (source, target) = (self.inner.object(from)?, self.inner.object(to)?);
        // The mark first: from here on `from`'s URLs are refused, so nothing can arrive
        // there after the move.
        tokio::fs::write(sealed_mark(&source), b"").await?;
        make_parent(&target).await?;
        match tokio::fs::rename(&source, &target).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn put(&self, key: &str, _content_type: &str, bytes: Vec<u8>) -> BlobResult<()> {
        let target = self.inner.object(key)?;
        make_parent(&target).await?;
        tokio::fs::write(target, bytes).await?;
        Ok(())
    }

    async fn put_file(
        &self,
        key: &str,
        _content_type: &str,
        path: &std::path::Path,
    ) -> BlobResult<()> {
        let target = self.inner.object(key)?;
        make_parent(&target).await?;
        tokio::fs::copy(path, target).await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> BlobResult<Option<Vec<u8>>> {
        match tokio::fs::read(self.inner.object(key)?).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &str) -> BlobResult<()> {
        match tokio::fs::remove_file(self.inner.object(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn routes(&self) -> Option<Router> {
        Some(routes::router(self.inner.clone()))
    }
}

#[cfg(test)]
mod tests {
    use axum::extract::Query;

    use super::routes::Signed;
    use super::*;

    #[test]
    fn only_our_own_names_are_paths() {
        assert!(safe("attachments/123", true).is_ok());
        for bad in ["", "../x", "a//b", "a/../b", "/etc/passwd", "a b", "a/.."] {
            assert!(safe(bad, true).is_err(), "{bad}");
        }
        assert!(safe("a/b", false).is_err());
    }

    fn inner() -> Inner {
        Inner {
            dir: PathBuf::from("/nonexistent"),
            public_url: "http://127.0.0.1:1".into(),
            secret: b"a-secret-of-at-least-thirty-two-bytes".to_vec(),
            max_put_bytes: 1024,
        }
    }

    #[test]
    fn a_url_signed_here_checks_and_any_change_breaks_it() {
        let inner = inner();
        let grant = Grant {
            op: "put".into(),
            key: "uploads/1".into(),
            expires: deadline(Duration::from_secs(60)),
            content_type: "image/png".into(),
            length: 100,
            ..Grant::default()
        };
        let url = inner.url(&grant);
        let query = url.split_once('?').unwrap().1;
        let parse = |query: &str| {
            let uri: axum::http::Uri = format!("/blobs/uploads/1?{query}").parse().unwrap();
            Query::<Signed>::try_from_uri(&uri).map(|q| q.0)
        };
        assert_eq!(parse(query).unwrap().check(&inner, "uploads/1".into()), Ok(grant));
        for changed in [query.replace("length=100", "length=101"), query.replace("png", "svg")] {
            assert!(parse(&changed).unwrap().check(&inner, "uploads/1".into()).is_err());
        }
    }

    proptest::proptest! {
        // Fuzzing, bounded: no path or query string gets past the URL checks unsigned, and
        // none panics them.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3_000))]
        #[test]
        fn no_forged_url_is_accepted(key in "[a-z0-9/._%-]{0,40}", query in "[ -~]{0,300}") {
            let inner = inner();
            let reaches_outside = key.split('/').any(|part| part == ".." || part == ".");
            if reaches_outside {
                proptest::prop_assert!(inner.object(&key).is_err());
            }
            if let Ok(uri) = format!("/blobs/x?{query}").parse::<axum::http::Uri>()
                && let Ok(Query(signed)) = Query::<Signed>::try_from_uri(&uri)
            {
                proptest::prop_assert!(signed.check(&inner, key).is_err());
            }
        }
    }
}
