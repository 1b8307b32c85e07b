//! Input rules shared by every call. Each check returns what is wrong in words; the calls
//! gather them into one INVALID_ARGUMENT naming every bad field, before anything is written.

use std::collections::BTreeMap;

use crate::error::{ChatError, ChatResult, FieldViolation};

/// A conversation log position (an event's `seq`): never ahead of the clock by more than
/// clocks drift.
pub fn check_position(seq: u64) -> Result<(), String> {
    if switchboard_proto::ids::is_position(seq) {
        Ok(())
    } else {
        Err("no event carries this position (positions are microsecond times; is it a message id?)"
            .into())
    }
}

/// Team and channel names: 1 to 100 characters.
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_ICON_CHARS: usize = 512;
pub const MAX_META_TAGS: usize = 20;
pub const MAX_META_TAG_CHARS: usize = 64;
pub const MAX_CUSTOM_FIELDS: usize = 32;
pub const MAX_CUSTOM_KEY_BYTES: usize = 64;
pub const MAX_CUSTOM_VALUE_BYTES: usize = 1024;
pub const MAX_CLIENT_MSG_ID_CHARS: usize = 64;
/// Most users one CreateTeam/AddMembers call may add.
pub const MAX_MEMBERS_PER_CALL: usize = 1000;

/// Collects field violations; `finish` fails if there were any.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `field` as invalid when `check` failed.
    pub fn check(&mut self, field: &str, check: Result<(), String>) -> &mut Self {
        if let Err(description) = check {
            self.0.push(FieldViolation { field: field.to_string(), description });
        }
        self
    }

    pub fn finish(&mut self) -> ChatResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ChatError::InvalidArgument(std::mem::take(&mut self.0)))
        }
    }
}

pub use switchboard_auth::check_user_id;

/// Each of a list of user ids, and no more than `MAX_MEMBERS_PER_CALL` of them.
pub fn check_user_ids(ids: &[String]) -> Result<(), String> {
    if ids.len() > MAX_MEMBERS_PER_CALL {
        return Err(format!("at most {MAX_MEMBERS_PER_CALL} users per call"));
    }
    for id in ids {
        check_user_id(id).map_err(|why| format!("user id {} {why}", quoted(id)))?;
    }
    Ok(())
}

/// Snowflake ids are never zero.
pub fn check_id(id: u64) -> Result<(), String> {
    if id == 0 { Err("must be a non-zero id".into()) } else { Ok(()) }
}

/// Team and channel names: 1 to 100 characters, not blank, no control characters.
pub fn check_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if name.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if chars > MAX_NAME_CHARS {
        return Err(format!("must be 1 to {MAX_NAME_CHARS} characters, got {chars}"));
    }
    no_control_chars(name)
}

pub fn check_icon(icon: &str) -> Result<(), String> {
    if icon.chars().count() > MAX_ICON_CHARS {
        return Err(format!("must be at most {MAX_ICON_CHARS} characters"));
    }
    no_control_chars(icon)
}

/// Most characters in a status text.
pub const MAX_STATUS_CHARS: usize = 100;

/// A status text: at most 100 characters, no control characters; empty for none.
pub fn check_status_text(text: &str) -> Result<(), String> {
    check_line(text, MAX_STATUS_CHARS)
}

/// One line of text: at most `max` characters, no control characters; empty for none.
pub fn check_line(text: &str, max: usize) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > max {
        return Err(format!("must be at most {max} characters, got {chars}"));
    }
    no_control_chars(text)
}

/// Most characters in a profile's display name or title, and in its bio.
pub const MAX_PROFILE_LINE_CHARS: usize = 80;
pub const MAX_BIO_CHARS: usize = 500;
/// Most characters in an email address, and in a phone number.
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PHONE_CHARS: usize = 32;

/// A bio: at most 500 characters; line breaks and tabs, but no other control characters.
pub fn check_bio(text: &str) -> Result<(), String> {
    check_line(&text.replace(['\n', '\t'], " "), MAX_BIO_CHARS)
}

/// An IANA time zone name (`Europe/Berlin`, `UTC`), or empty.
/// An FCM registration token: 1 to 4,096 printable ASCII characters without spaces.
pub fn check_fcm_token(token: &str) -> Result<(), String> {
    match !token.is_empty() && token.len() <= 4096 && token.bytes().all(|b| b.is_ascii_graphic()) {
        true => Ok(()),
        false => Err("must be an FCM registration token: 1 to 4096 printable characters".into()),
    }
}

/// An APNs device token: 64 to 200 hex digits.
pub fn check_apns_token(token: &str) -> Result<(), String> {
    match (64..=200).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        true => Ok(()),
        false => Err("must be an APNs device token: 64 to 200 hex digits".into()),
    }
}

/// A push service's endpoint: an https URL of at most 2,048 characters; with `loopback`,
/// also http to this machine (local push services, for tests: otherwise anyone could make
/// the server POST to this machine's ports).
pub fn check_push_endpoint(endpoint: &str, loopback: bool) -> Result<(), String> {
    let local = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
    let scheme_ok = endpoint.starts_with("https://")
        || (loopback && local.iter().any(|l| endpoint.starts_with(l)));
    let host = endpoint.split_once("://").map_or("", |(_, rest)| rest);
    if !scheme_ok
        || host.is_empty()
        || endpoint.len() > 2048
        || endpoint.contains(char::is_whitespace)
    {
        return Err(format!("{} is not an https URL of at most 2048 characters", quoted(endpoint)));
    }
    Ok(())
}

/// A key of a Web Push subscription: base64url (with or without padding) of `bytes` bytes,
/// the first of them `first` when given (an uncompressed P-256 point starts with 4).
pub fn check_push_key(key: &str, bytes: usize, first: Option<u8>) -> Result<(), String> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    match engine.decode(key.trim_end_matches('=')) {
        Ok(decoded) if decoded.len() == bytes && first.is_none_or(|f| decoded[0] == f) => Ok(()),
        _ => Err(format!("must be base64url of a {bytes}-byte key")),
    }
}

/// A language tag (`de-CH`): up to 35 letters, digits and `-`; or empty.
pub fn check_locale(locale: &str) -> Result<(), String> {
    match locale.len() <= 35 && locale.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        true => Ok(()),
        false => Err(format!("{} is not a language tag such as de-CH", quoted(locale))),
    }
}

/// A minute of the day: 0 to 1439.
pub fn check_minute_of_day(minute: u16) -> Result<(), String> {
    match minute < crate::model::MINUTES_PER_DAY {
        true => Ok(()),
        false => Err(format!(
            "must be 0 to {} (minutes after midnight)",
            crate::model::MINUTES_PER_DAY - 1
        )),
    }
}

pub fn check_time_zone(name: &str) -> Result<(), String> {
    if name.is_empty() || name.parse::<chrono_tz::Tz>().is_ok() {
        return Ok(());
    }
    Err(format!("{} is not an IANA time zone name such as Europe/Berlin", quoted(name)))
}

/// An email address: one `@` between a non-empty local part and domain, no spaces, at
/// most 254 characters; or empty.
pub fn check_email(email: &str) -> Result<(), String> {
    if email.is_empty() {
        return Ok(());
    }
    check_line(email, MAX_EMAIL_CHARS)?;
    let well_formed = match email.split_once('@') {
        Some((local, domain)) => !local.is_empty() && !domain.is_empty() && !domain.contains('@'),
        None => false,
    };
    if !well_formed || email.contains(char::is_whitespace) {
        return Err(format!("{} is not an email address", quoted(email)));
    }
    Ok(())
}

/// A phone number: digits with spaces, `+`, `-`, `(`, `)` or `.`, at most 32 characters;
/// or empty.
pub fn check_phone(phone: &str) -> Result<(), String> {
    if phone.is_empty() {
        return Ok(());
    }
    check_line(phone, MAX_PHONE_CHARS)?;
    let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
    if !phone.chars().all(allowed) || !phone.chars().any(|c| c.is_ascii_digit()) {
        return Err(format!("{} is not a phone number (digits, spaces, + - ( ) .)", quoted(phone)));
    }
    Ok(())
}

/// At most 20 tags, each 1 to 64 characters, no duplicates.
pub fn check_meta_tags(tags: &[String]) -> Result<(), String> {
    if tags.len() > MAX_META_TAGS {
        return Err(format!("at most {MAX_META_TAGS} tags, got {}", tags.len()));
    }
    for (i, tag) in tags.iter().enumerate() {
        let chars = tag.chars().count();
        if tag.trim().is_empty() || chars > MAX_META_TAG_CHARS {
            return Err(format!("tag {i} must be 1 to {MAX_META_TAG_CHARS} characters"));
        }
        no_control_chars(tag).map_err(|why| format!("tag {i} {why}"))?;
        if tags[..i].contains(tag) {
            return Err(format!("tag {} appears twice", quoted(tag)));
        }
    }
    Ok(())
}

/// Message text: not blank, at most `max_bytes` of UTF-8, no control characters other
/// than newline and tab.
pub fn check_text(text: &str, max_bytes: usize) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("text must not be empty".into());
    }
    if text.len() > max_bytes {
        return Err(format!("text is {} bytes; the limit is {max_bytes}", text.len()));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err("text must not contain control characters".into());
    }
    Ok(())
}

/// Attachment ids, as carried in `data` of non-text messages: a decimal snowflake.
pub fn check_attachment_ref(data: &str) -> Result<u64, String> {
    match data.parse::<u64>() {
        Ok(id) if id != 0 => Ok(id),
        _ => Err("must be an attachment id for non-text messages".into()),
    }
}

/// An upload's file name: 1 to 255 bytes, a name and not a path.
pub fn check_filename(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.len() > 255 {
        return Err("must be 1 to 255 bytes".into());
    }
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err("must be a file name, not a path".into());
    }
    no_control_chars(name)
}

/// A MIME type without parameters (`image/png`), lowercased.
pub fn check_content_type(content_type: &str) -> Result<String, String> {
    let lowered = content_type.trim().to_ascii_lowercase();
    let token = |part: &str| {
        !part.is_empty()
            && part.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    };
    match lowered.split_once('/') {
        Some((family, subtype)) if token(family) && token(subtype) && lowered.len() <= 127 => {
            Ok(lowered)
        }
        _ => Err(format!("{} is not a MIME type like image/png", quoted(content_type))),
    }
}

pub fn check_custom_fields(fields: &BTreeMap<String, String>) -> Result<(), String> {
    if fields.len() > MAX_CUSTOM_FIELDS {
        return Err(format!("at most {MAX_CUSTOM_FIELDS} entries, got {}", fields.len()));
    }
    for (key, value) in fields {
        if key.is_empty() || key.len() > MAX_CUSTOM_KEY_BYTES {
            let key = quoted(key);
            return Err(format!("key {key} must be 1 to {MAX_CUSTOM_KEY_BYTES} bytes"));
        }
        if value.len() > MAX_CUSTOM_VALUE_BYTES {
            let key = quoted(key);
            return Err(format!("value of {key} exceeds {MAX_CUSTOM_VALUE_BYTES} bytes"));
        }
        no_control_chars(key).map_err(|why| format!("key {} {why}", quoted(key)))?;
        no_control_chars(value).map_err(|why| format!("value of {} {why}", quoted(key)))?;
    }
    Ok(())
}

pub fn check_client_msg_id(id: &str) -> Result<(), String> {
    if id.chars().count() > MAX_CLIENT_MSG_ID_CHARS {
        return Err(format!("must be at most {MAX_CLIENT_MSG_ID_CHARS} characters"));
    }
    no_control_chars(id)
}

/// Longest reaction, in bytes.
pub const MAX_EMOJI_BYTES: usize = 64;
/// Longest custom reaction name between its colons, in characters.
const MAX_CUSTOM_EMOJI_CHARS: usize = 32;

/// A reaction: a Unicode emoji (symbols only: no spaces, no ASCII letters, at least one
/// character beyond ASCII), or a custom name between colons (`:party_parrot:`, `:+1:`;
/// lowercase letters, digits, `_`, `+` and `-`, up to 32), at most 64 bytes.
pub fn check_emoji(emoji: &str) -> Result<(), String> {
    if emoji.is_empty() || emoji.len() > MAX_EMOJI_BYTES {
        return Err(format!("must be 1 to {MAX_EMOJI_BYTES} bytes, got {}", emoji.len()));
    }
    if let Some(name) = emoji.strip_prefix(':').and_then(|rest| rest.strip_suffix(':')) {
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_+-".contains(c);
        if !name.is_empty()
            && name.chars().count() <= MAX_CUSTOM_EMOJI_CHARS
            && name.chars().all(allowed)
        {
            return Ok(());
        }
        return Err(format!(
            "{} is not a custom reaction like :party_parrot: (lowercase letters, digits, _ + -)",
            quoted(emoji)
        ));
    }
    let symbol = |c: char| !c.is_whitespace() && !c.is_control() && !c.is_ascii_alphabetic();
    if emoji.chars().all(symbol) && !emoji.is_ascii() {
        Ok(())
    } else {
        Err(format!("{} is neither an emoji nor a custom :name:", quoted(emoji)))
    }
}

/// Longest key of a conversation linked to a business object, in characters.
pub const MAX_EXTERNAL_KEY_CHARS: usize = 200;

/// A linked conversation's key (`order:1234`): 1 to 200 characters, no control characters,
/// no spaces around it.
pub fn check_external_key(key: &str) -> Result<(), String> {
    let chars = key.chars().count();
    if chars == 0 || chars > MAX_EXTERNAL_KEY_CHARS {
        return Err(format!("must be 1 to {MAX_EXTERNAL_KEY_CHARS} characters, got {chars}"));
    }
    if key.trim() != key {
        return Err("must not start or end with spaces".into());
    }
    no_control_chars(key)
}

/// A page size: 0 means `default`, above `max` is an error.
pub fn page_limit(requested: u32, default: usize, max: usize) -> Result<usize, String> {
    match requested as usize {
        0 => Ok(default),
        n if n > max => Err(format!("must be at most {max}, got {n}")),
        n => Ok(n),
    }
}

/// [`page_limit`] of a call's `limit` field: INVALID_ARGUMENT naming it when too large.
pub fn page_size(requested: u32, default: usize, max: usize) -> ChatResult<usize> {
    page_limit(requested, default, max).map_err(|why| ChatError::invalid("limit", why))
}

/// Most characters of an input an error message shows.
const QUOTED_CHARS: usize = 40;

/// An input as an error message names it: escaped, and cut to its first 40 characters
/// with its length when longer (`"aaaa…" (20000 bytes)`). Errors name inputs only this
/// way, so a caller never gets back (or makes a proxy carry) what it sent.
pub fn quoted(input: &str) -> String {
    let shown: String = input.chars().take(QUOTED_CHARS).collect();
    if shown.len() == input.len() {
        format!("{shown:?}")
    } else {
        format!("{shown:?}… ({} bytes)", input.len())
    }
}

fn no_control_chars(text: &str) -> Result<(), String> {
    if text.chars().any(char::is_control) {
        Err("must not contain control characters".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids() {
        assert!(check_user_id("alice@example.com").is_ok());
        assert!(check_user_id("").is_err());
        assert!(check_user_id("a b").is_err());
        assert!(check_user_id(&"x".repeat(129)).is_err());
    }

    #[test]
    fn violations_name_every_field() {
        let error = Violations::new()
            .check("name", check_name(""))
            .check("icon", check_icon("ok"))
            .check("meta_tags", check_meta_tags(&["a".into(), "a".into()]))
            .finish()
            .unwrap_err();
        let ChatError::InvalidArgument(violations) = error else { panic!("{error:?}") };
        let fields: Vec<_> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["name", "meta_tags"]);
    }

    #[test]
    fn file_names_and_types() {
        assert!(check_filename("photo 1.png").is_ok());
        for bad in ["", " ", "../etc/passwd", "a\\b", "..", "a\nb"] {
            assert!(check_filename(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_content_type(" Image/PNG ").unwrap(), "image/png");
        for bad in ["image", "image/", "/png", "image/png; charset=x", "a/b/c"] {
            assert!(check_content_type(bad).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        // Fuzzing, bounded: every rule takes any string without panicking, and what it says
        // back quotes at most a short prefix of it.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]
        #[test]
        fn rules_take_any_input_and_answer_briefly(text in "\\PC{0,300}|.{0,3000}") {
            let long = text.repeat(8);
            for input in [text.as_str(), long.as_str()] {
                let fields = BTreeMap::from([(input.to_string(), input.to_string())]);
                let answers = [
                    check_user_id(input),
                    check_user_ids(&[input.to_string()]),
                    check_name(input),
                    check_icon(input),
                    check_meta_tags(&[input.to_string(), input.to_string()]),
                    check_text(input, 16 * 1024),
                    check_attachment_ref(input).map(drop),
                    check_filename(input),
                    check_content_type(input).map(drop),
                    check_custom_fields(&fields),
                    check_client_msg_id(input),
                ];
                for why in answers.into_iter().filter_map(Result::err) {
                    proptest::prop_assert!(why.len() < 400, "{} bytes: {why:.200}", why.len());
                    proptest::prop_assert!(!why.contains('\u{0}'), "{why:?}");
                }
            }
        }

        #[test]
        fn a_quote_is_short_and_escaped(text in ".{0,2000}") {
            let quote = quoted(&text);
            // At most ten characters per escaped character (`\\u{10ffff}`), and the length.
            proptest::prop_assert!(quote.chars().count() <= 10 * QUOTED_CHARS + 30, "{quote}");
            proptest::prop_assert!(!quote.chars().any(char::is_control), "{quote:?}");
        }
    }

    #[test]
    fn reactions_are_emoji_or_custom_names() {
        for good in ["👍", "🎉", "1️⃣", "👩‍💻", ":party_parrot:", ":+1:", ":a-b:"] {
            assert_eq!(check_emoji(good), Ok(()), "{good}");
        }
        for bad in ["", "like", "+1", "👍 ", ":Party:", "::", ":a b:", "a👍", &"👍".repeat(17)]
        {
            assert!(check_emoji(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn page_limits() {
        assert_eq!(page_limit(0, 50, 200), Ok(50));
        assert_eq!(page_limit(200, 50, 200), Ok(200));
        assert!(page_limit(201, 50, 200).is_err());
    }
}
