//! Bringing one message's document up to date, and committing: what both indexers (the
//! change-feed one in controllers, the stream one in `switchboard indexer`) do.

use std::collections::HashMap;
use std::sync::Arc;

use super::{SearchError, SearchIndex};
use crate::model::{ConversationId, MessageId};
use crate::store::Store;

/// Conversations whose org is remembered (an org never changes); forgotten all at once
/// when full.
const ORGS_REMEMBERED: usize = 100_000;

pub(super) struct Applier {
    index: Arc<SearchIndex>,
    store: Arc<dyn Store>,
    /// The org of each conversation seen, for the documents' org field.
    orgs: HashMap<ConversationId, String>,
    /// Whether anything was applied since the last commit.
    pub(super) dirty: bool,
}

impl Applier {
    pub(super) fn new(index: Arc<SearchIndex>, store: Arc<dyn Store>) -> Applier {
        Applier { index, store, orgs: HashMap::new(), dirty: false }
    }

    /// Makes the message's document match the message as the Store has it now: removed
    /// when the Store no longer has it (retention removed it).
    pub(super) async fn apply(
        &mut self,
        conversation_id: ConversationId,
        id: MessageId,
    ) -> Result<(), SearchError> {
        match self.store.get_message(conversation_id, id).await? {
            None => self.index.remove(id),
            Some(message) => {
                let Some(org) = self.org_of(conversation_id).await? else { return Ok(()) };
                self.index.apply(&org, &message);
            }
        }
        self.dirty = true;
        Ok(())
    }

    /// Commits what was applied, with `checkpoint`, off the async threads.
    pub(super) async fn commit(&mut self, checkpoint: String) -> Result<(), SearchError> {
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.commit(&checkpoint))
            .await
            .map_err(|e| SearchError::Index(e.to_string()))??;
        self.dirty = false;
        Ok(())
    }

    async fn org_of(
        &mut self,
        conversation_id: ConversationId,
    ) -> Result<Option<String>, SearchError> {
        if let Some(org) = self.orgs.get(&conversation_id) {
            return Ok(Some(org.clone()));
        }
        let Some(conversation) = self.store.get_conversation(conversation_id).await? else {
            return Ok(None);
        };
        if self.orgs.len() >= ORGS_REMEMBERED {
            self.orgs.clear();
        }
        self.orgs.insert(conversation_id, conversation.org.clone());
        Ok(Some(conversation.org))
    }
}
