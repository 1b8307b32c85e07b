//! `word*` in a search means "words starting with word", as the docs promise. tantivy's
//! query parser takes a prefix only as the end of a phrase of two or more words, so a
//! query's bare prefixes are taken out before parsing and searched as prefix queries.

/// A bare `word*` of a query (outside quotes), `-word*` when excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Prefix {
    pub(super) stem: String,
    pub(super) excluded: bool,
}

/// The query without its bare prefixes, and the prefixes.
pub(super) fn split_prefixes(text: &str) -> (String, Vec<Prefix>) {
    let mut rest = String::with_capacity(text.len());
    let mut prefixes = Vec::new();
    let mut in_phrase = false;
    let mut word = String::new();
    for c in text.chars() {
        if in_phrase {
            rest.push(c);
            in_phrase = c != '"';
        } else if c.is_whitespace() {
            take_word(&mut word, &mut rest, &mut prefixes);
            rest.push(c);
        } else if c == '"' && word.is_empty() {
            rest.push(c);
            in_phrase = true;
        } else {
            word.push(c);
        }
    }
    take_word(&mut word, &mut rest, &mut prefixes);
    (rest, prefixes)
}

/// Moves one bare word into `prefixes` when it is one, else into `rest`.
fn take_word(word: &mut String, rest: &mut String, prefixes: &mut Vec<Prefix>) {
    let (excluded, unsigned) = match word.strip_prefix('-') {
        Some(unsigned) => (true, unsigned),
        None => (false, word.strip_prefix('+').unwrap_or(word)),
    };
    match unsigned.strip_suffix('*') {
        Some(stem) if !stem.is_empty() && !stem.contains(['"', '*', ':']) => {
            prefixes.push(Prefix { stem: stem.to_string(), excluded });
        }
        _ => rest.push_str(word),
    }
    word.clear();
}

#[cfg(test)]
mod tests {
    use super::{Prefix, split_prefixes};

    fn prefix(stem: &str, excluded: bool) -> Prefix {
        Prefix { stem: stem.into(), excluded }
    }

    #[test]
    fn bare_prefixes_are_taken_out_and_nothing_else_changes() {
        assert_eq!(split_prefixes("deploy*"), (String::new(), vec![prefix("deploy", false)]));
        assert_eq!(
            split_prefixes("ship -deploy* +zzX*"),
            ("ship  ".to_string(), vec![prefix("deploy", true), prefix("zzX", false)])
        );
        assert_eq!(split_prefixes(r#""big wo"* deploy"#), (r#""big wo"* deploy"#.into(), vec![]));
        assert_eq!(
            split_prefixes(r#""a b* c" x*"#),
            (r#""a b* c" "#.into(), vec![prefix("x", false)])
        );
        assert_eq!(split_prefixes("* ** a**  b"), ("* ** a**  b".into(), vec![]));
        assert_eq!(split_prefixes("text:foo*"), ("text:foo*".into(), vec![]));
    }
}
