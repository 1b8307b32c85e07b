//! Signed, expiring URLs for the local engine, the way S3 presigns: an HMAC-SHA256 over
//! what the URL allows (operation, key, upload part, expiry, response headers), so a URL
//! cannot be stretched to another object, part or time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a URL allows; every field is covered by the signature.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Grant {
    /// `put`, `part` or `get`.
    pub(crate) op: String,
    pub(crate) key: String,
    pub(crate) upload: String,
    pub(crate) part: u32,
    /// The Unix millisecond from which the URL is refused.
    pub(crate) expires: i64,
    /// For `get`: the download's file name. For `get` and `put`: the content type (served
    /// as, or required of the upload).
    pub(crate) name: String,
    pub(crate) content_type: String,
    /// For `put` and `part`: the exact length of the body.
    pub(crate) length: u64,
}

impl Grant {
    pub(crate) fn sign(&self, secret: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        for field in [&self.op, &self.key, &self.upload, &self.part.to_string()] {
            mac.update(field.as_bytes());
            mac.update(b"\n");
        }
        let (expires, length) = (self.expires.to_string(), self.length.to_string());
        for field in [&expires, &self.name, &self.content_type, &length] {
            mac.update(field.as_bytes());
            mac.update(b"\n");
        }
        hex(&mac.finalize().into_bytes())
    }

    /// Whether `signature` is this grant's, compared in constant time.
    pub(crate) fn verify(&self, secret: &[u8], signature: &str) -> bool {
        let expected = self.sign(secret);
        expected.len() == signature.len()
            && expected.bytes().zip(signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_covers_every_field() {
        let grant = Grant {
            op: "get".into(),
            key: "attachments/1".into(),
            expires: 100,
            name: "a.png".into(),
            content_type: "image/png".into(),
            ..Grant::default()
        };
        let signature = grant.sign(b"secret");
        assert!(grant.verify(b"secret", &signature));
        assert!(!grant.verify(b"other secret", &signature));
        let changed = [
            Grant { key: "attachments/2".into(), ..grant.clone() },
            Grant { expires: 101, ..grant.clone() },
            Grant { op: "put".into(), ..grant.clone() },
            Grant { part: 1, ..grant.clone() },
            Grant { name: "b.png".into(), ..grant.clone() },
            Grant { content_type: "image/svg+xml".into(), ..grant.clone() },
            Grant { length: 10, ..grant.clone() },
        ];
        for other in changed {
            assert!(!other.verify(b"secret", &signature), "{other:?}");
        }
    }
}
