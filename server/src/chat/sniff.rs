//! Does an upload's content match its declared type? The first bytes are sniffed (the
//! `infer` crate's magic numbers): a type infer recognizes must be the declared one, and a
//! declared type infer could recognize must be found. Types it cannot tell (text, JSON)
//! pass on the declaration alone; `application/octet-stream` claims nothing and passes.

/// How many leading bytes are read to sniff (and to find image dimensions).
pub(super) const SNIFF_BYTES: usize = 8192;

/// Names of one type that clients and `infer` spell differently.
const ALIASES: &[&[&str]] = &[
    &["image/jpeg", "image/jpg", "image/pjpeg"],
    &["audio/mpeg", "audio/mp3"],
    &["audio/x-wav", "audio/wav", "audio/wave"],
    &["audio/m4a", "audio/mp4", "audio/x-m4a"],
    &["audio/x-flac", "audio/flac"],
    &["video/quicktime", "video/mov"],
    &["application/x-tar", "application/tar"],
];

/// The names `name` goes by (itself alone, if it has no aliases).
fn names_of(name: &str) -> &[&str] {
    ALIASES.iter().find(|names| names.contains(&name)).copied().unwrap_or(&[])
}

fn same_type(a: &str, b: &str) -> bool {
    a == b || names_of(a).contains(&b)
}

/// Whether `infer` would recognise content of this type (under any of its names).
fn recognisable(name: &str) -> bool {
    infer::is_mime_supported(name) || names_of(name).iter().any(|n| infer::is_mime_supported(n))
}

/// Ok if `first_bytes` may be `declared`; otherwise what was found instead.
pub(super) fn check(declared: &str, first_bytes: &[u8]) -> Result<(), String> {
    if declared == "application/octet-stream" {
        return Ok(());
    }
    match infer::get(first_bytes) {
        Some(found) if same_type(found.mime_type(), declared) => Ok(()),
        Some(found) => {
            Err(format!("declared {declared}, but the content is {}", found.mime_type()))
        }
        None if recognisable(declared) => {
            Err(format!("declared {declared}, but the content is not {declared}"))
        }
        None => Ok(()),
    }
}

/// Width and height of an image whose header says so.
pub(super) fn dimensions(content_type: &str, first_bytes: &[u8]) -> Option<(u32, u32)> {
    if !content_type.starts_with("image/") {
        return None;
    }
    let size = imagesize::blob_size(first_bytes).ok()?;
    Some((u32::try_from(size.width).ok()?, u32::try_from(size.height).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0,
    ];

    #[test]
    fn matching_content_passes_and_mismatches_say_what_was_found() {
        assert_eq!(check("image/png", PNG), Ok(()));
        assert_eq!(
            check("image/jpeg", PNG),
            Err("declared image/jpeg, but the content is image/png".into())
        );
        assert_eq!(
            check("text/plain", PNG),
            Err("declared text/plain, but the content is image/png".into())
        );
        assert!(check("image/png", b"just some text").is_err(), "a PNG must look like one");
        assert_eq!(check("text/plain", b"just some text"), Ok(()));
        assert_eq!(check("application/octet-stream", PNG), Ok(()));
        assert_eq!(check("image/jpg", &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Ok(()));
    }

    #[test]
    fn image_headers_give_dimensions() {
        assert_eq!(dimensions("image/png", PNG), Some((3, 2)));
        assert_eq!(dimensions("application/pdf", PNG), None);
    }
}
