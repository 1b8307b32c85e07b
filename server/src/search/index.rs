//! The tantivy index of message text: one document per live message (its text, or an
//! attachment's file name), replaced on edit and removed on delete. The index's commit
//! payload records how far through the Store's change feed it is, so that a restart
//! resumes from there.

use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;

use tantivy::collector::TopDocs;
use tantivy::query::{
    BooleanQuery, Occur, PhrasePrefixQuery, Query, QueryParser, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TEXT, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

use super::SearchError;
use super::prefixes::split_prefixes;
use crate::model::{ConversationId, Message, MessageId, MessageType};

/// Memory the writer buffers before it writes a segment (tantivy's minimum is 15 MB).
const WRITER_MEMORY: usize = 20_000_000;
/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 160;
/// The audience term of a message everyone in its conversation sees.
const EVERYONE: &str = "*";

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOrder {
    NewestFirst,
    MostRelevant,
}

/// Where a page starts: below a message id (newest first) or after a number of hits
/// (most relevant first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageStart {
    First,
    Below(MessageId),
    Skip(usize),
}

/// A search as the index runs it; the caller has already worked out which conversations
/// it may cover.
#[derive(Debug, Clone)]
pub struct IndexQuery {
    pub text: String,
    pub org: String,
    /// The user searching: messages to someone else are not theirs to find.
    pub user: String,
    pub conversations: Vec<ConversationId>,
    pub from: Option<String>,
    /// Sent at or after, before (milliseconds since the epoch).
    pub after_ms: Option<i64>,
    pub before_ms: Option<i64>,
    pub order: SearchOrder,
    pub start: PageStart,
    pub limit: usize,
}

/// One part of a snippet: highlighted (a matched word) or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnippetPart {
    pub text: String,
    pub highlighted: bool,
}

/// A message the index matched, with its snippet.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexHit {
    pub channel_id: ConversationId,
    pub message_id: MessageId,
    pub score: f32,
    pub snippet: Vec<SnippetPart>,
}

/// The fields of a message document.
#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    channel: Field,
    org: Field,
    /// "*" for everyone in the conversation, else the sender and the recipient.
    audience: Field,
    from: Field,
    sent_at: Field,
    text: Field,
}

impl Fields {
    fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let fields = Fields {
            id: builder.add_u64_field("id", INDEXED | STORED | FAST),
            channel: builder.add_u64_field("channel", INDEXED | STORED),
            org: builder.add_text_field("org", STRING),
            audience: builder.add_text_field("audience", STRING),
            from: builder.add_text_field("from", STRING),
            sent_at: builder.add_i64_field("sent_at", INDEXED | FAST),
            text: builder.add_text_field("text", TEXT | STORED),
        };
        (builder.build(), fields)
    }
}

pub struct SearchIndex {
    index: Index,
    fields: Fields,
    /// The one writer of the index; tantivy allows only one.
    writer: Mutex<IndexWriter>,
    /// Sees what was committed, once reloaded after each commit.
    reader: IndexReader,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it (and the directory) if needed.
    pub fn open(dir: &Path) -> Result<SearchIndex, SearchError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| SearchError::Index(format!("cannot create {}: {e}", dir.display())))?;
        let (schema, fields) = Fields::schema();
        let directory = tantivy::directory::MmapDirectory::open(dir)?;
        let index = Index::open_or_create(directory, schema)?;
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex { index, fields, writer: Mutex::new(writer), reader })
    }

    /// The payload of the last commit (the indexer's checkpoint), if any.
    pub fn checkpoint(&self) -> Result<Option<String>, SearchError> {
        Ok(self.index.load_metas()?.payload)
    }

    /// Makes `message` of `org` searchable as it is now: replaced if it was indexed, removed
    /// if it was deleted. Seen by searches after the next commit.
    pub fn apply(&self, org: &str, message: &Message) {
        let f = self.fields;
        let writer = self.writer.lock().expect("index writer poisoned");
        writer.delete_term(Term::from_field_u64(f.id, message.id));
        let Some(text) = searchable_text(message) else {
            return;
        };
        let mut doc = TantivyDocument::new();
        doc.add_u64(f.id, message.id);
        doc.add_u64(f.channel, message.channel_id);
        doc.add_text(f.org, org);
        match &message.to {
            None => doc.add_text(f.audience, EVERYONE),
            Some(to) => {
                doc.add_text(f.audience, &message.from);
                doc.add_text(f.audience, to);
            }
        }
        doc.add_text(f.from, &message.from);
        doc.add_i64(f.sent_at, message.ts_ms);
        doc.add_text(f.text, text);
        // Fails only once the writer's threads died, which the next commit reports.
        let _ = writer.add_document(doc);
    }

    /// Removes message `id`'s document (a message that is gone: expired). Seen by searches
    /// after the next commit.
    pub fn remove(&self, id: MessageId) {
        let writer = self.writer.lock().expect("index writer poisoned");
        writer.delete_term(Term::from_field_u64(self.fields.id, id));
    }

    /// Makes everything applied so far visible to searches and durable, with `checkpoint`.
    pub fn commit(&self, checkpoint: &str) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().expect("index writer poisoned");
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(checkpoint);
        prepared.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Words starting with `stem` (tokenized as the text is: `Deploy` finds `deployed`); a
    /// stem of several words (`foo-ba`) is a phrase whose last word is the prefix. None
    /// when the stem holds no word at all.
    fn prefix_query(&self, stem: &str) -> Option<Box<dyn Query>> {
        let field = self.fields.text;
        let mut tokenizer = self.index.tokenizer_for_field(field).ok()?;
        let mut stream = tokenizer.token_stream(stem);
        let mut terms = Vec::new();
        while let Some(token) = stream.next() {
            terms.push(Term::from_field_text(field, &token.text));
        }
        if terms.is_empty() {
            return None;
        }
        Some(Box::new(PhrasePrefixQuery::new(terms)))
    }

    /// One page of matches, and whether the index may hold more.
    pub fn search(&self, query: &IndexQuery) -> Result<(Vec<IndexHit>, bool), SearchError> {
        let f = self.fields;
        let mut parser = QueryParser::for_index(&self.index, vec![f.text]);
        parser.set_conjunction_by_default();
        let (text, prefixes) = split_prefixes(&query.text);
        let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if !text.trim().is_empty() || prefixes.is_empty() {
            let parsed =
                parser.parse_query(&text).map_err(|e| SearchError::BadQuery(e.to_string()))?;
            words.push((Occur::Must, parsed));
        }
        for prefix in &prefixes {
            let occur = if prefix.excluded { Occur::MustNot } else { Occur::Must };
            if let Some(query) = self.prefix_query(&prefix.stem) {
                words.push((occur, query));
            }
        }
        let words = BooleanQuery::new(words);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, Box::new(words.clone())),
            (Occur::Must, term(Term::from_field_text(f.org, &query.org))),
            (
                Occur::Must,
                Box::new(TermSetQuery::new([
                    Term::from_field_text(f.audience, EVERYONE),
                    Term::from_field_text(f.audience, &query.user),
                ])),
            ),
            (
                Occur::Must,
                Box::new(TermSetQuery::new(
                    query.conversations.iter().map(|c| Term::from_field_u64(f.channel, *c)),
                )),
            ),
        ];
        if let Some(from) = &query.from {
            clauses.push((Occur::Must, term(Term::from_field_text(f.from, from))));
        }
        if query.after_ms.is_some() || query.before_ms.is_some() {
            let low = query.after_ms.map_or(Bound::Unbounded, |ms| {
                Bound::Included(Term::from_field_i64(f.sent_at, ms))
            });
            let high = query.before_ms.map_or(Bound::Unbounded, |ms| {
                Bound::Excluded(Term::from_field_i64(f.sent_at, ms))
            });
            clauses.push((Occur::Must, Box::new(RangeQuery::new(low, high))));
        }
        if let PageStart::Below(id) = query.start {
            let high = Bound::Excluded(Term::from_field_u64(f.id, id));
            clauses.push((Occur::Must, Box::new(RangeQuery::new(Bound::Unbounded, high))));
        }
        let everything = BooleanQuery::new(clauses);

        let searcher = self.reader.searcher();
        // One more than asked tells whether there is more.
        let top = TopDocs::with_limit(query.limit + 1);
        let found: Vec<(f32, DocAddress)> = match (query.order, query.start) {
            (SearchOrder::MostRelevant, PageStart::Skip(n)) => {
                searcher.search(&everything, &top.and_offset(n))?
            }
            (SearchOrder::MostRelevant, _) => searcher.search(&everything, &top)?,
            (SearchOrder::NewestFirst, _) => searcher
                .search(&everything, &top.order_by_fast_field::<u64>("id", Order::Desc))?
                .into_iter()
                .map(|(_, address)| (0.0, address))
                .collect(),
        };
        let more = found.len() > query.limit;
        let mut snippets = SnippetGenerator::create(&searcher, &words, f.text)?;
        snippets.set_max_num_chars(SNIPPET_CHARS);
        let mut hits = Vec::with_capacity(found.len().min(query.limit));
        for (score, address) in found.into_iter().take(query.limit) {
            let doc: TantivyDocument = searcher.doc(address)?;
            let number = |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
            let snippet = snippets.snippet_from_doc(&doc);
            hits.push(IndexHit {
                channel_id: number(f.channel),
                message_id: number(f.id),
                score,
                snippet: snippet_parts(snippet.fragment(), snippet.highlighted()),
            });
        }
        Ok((hits, more))
    }
}

fn term(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// What a message is found by: its text, or its attachment's file name; None once deleted.
fn searchable_text(message: &Message) -> Option<&str> {
    if message.deleted {
        return None;
    }
    match (message.kind, &message.attachment) {
        (MessageType::Text, _) => Some(&message.data),
        (_, Some(attachment)) => Some(&attachment.filename),
        (_, None) => None,
    }
}

/// Splits a fragment at its highlighted byte ranges.
fn snippet_parts(fragment: &str, highlighted: &[std::ops::Range<usize>]) -> Vec<SnippetPart> {
    let mut parts = Vec::new();
    let mut at = 0;
    let mut push = |text: &str, highlighted: bool| {
        if !text.is_empty() {
            parts.push(SnippetPart { text: text.to_string(), highlighted });
        }
    };
    for range in highlighted {
        let (Some(before), Some(word)) =
            (fragment.get(at..range.start), fragment.get(range.clone()))
        else {
            continue;
        };
        push(before, false);
        push(word, true);
        at = range.end;
    }
    push(fragment.get(at..).unwrap_or(""), false);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_split_at_highlights() {
        let shown = |parts: Vec<SnippetPart>| {
            parts.into_iter().map(|p| (p.text, p.highlighted)).collect::<Vec<_>>()
        };
        let middle = snippet_parts("the quick fox jumps", &[4..9, 14..19]);
        let expected = [("the ", false), ("quick", true), (" fox ", false), ("jumps", true)];
        assert_eq!(shown(middle), expected.map(|(t, h)| (t.to_string(), h)));
        let edges = snippet_parts("fox and fox", &[0..3, 8..11]);
        let expected = [("fox", true), (" and ", false), ("fox", true)];
        assert_eq!(shown(edges), expected.map(|(t, h)| (t.to_string(), h)));
    }
}
