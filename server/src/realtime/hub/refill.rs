//! Filling from the Store what the bus lost or delayed: a conversation's gap from its log,
//! every conversation after a bus outage or a lost controller, and the joins of the users
//! followed here.

use std::sync::Arc;

use switchboard_proto::v1 as pb;

use super::FanoutHub;
use crate::bus::{Delivery, Resync};
use crate::realtime::{Topic, changes, events};
use crate::store::{self, StoreError};

/// Log entries a gap fill reads at once.
const FILL_PAGE: usize = 1_000;

impl FanoutHub {
    /// Reads the changes each due gap is missing from the log, and hands them on (with what
    /// was waiting for them). A fill that fails is tried again after the wait.
    pub(super) async fn fill_gaps(&self) {
        for (topic, head) in self.sequencer.gaps_due() {
            let Some(conversation_id) = topic.channel_id() else { continue };
            let (changes, last, more) = match changes::after(
                self.store.as_ref(),
                conversation_id,
                head,
                FILL_PAGE,
            )
            .await
            {
                Ok(read) => read,
                Err(error) => {
                    tracing::warn!(%error, conversation_id, "could not read a gap from the log");
                    continue;
                }
            };
            self.metrics.gap_fills.inc();
            let state = self.state.read().await;
            // What the fill hands on follows the head with nothing between: the log had
            // nothing else (superseded changes are left out).
            let mut prev = head;
            let mut ready = Vec::new();
            for change in changes {
                let seq = change.entry.seq;
                let event = Arc::new(change.event);
                let delivery = Delivery { topic: topic.clone(), event, traceparent: None, prev };
                ready.extend(self.sequencer.admit(delivery));
                prev = seq;
            }
            if let Some(last) = last {
                ready.extend(self.sequencer.advance(&topic, last.seq));
            }
            if more {
                self.sequencer.fill_again(&topic);
            }
            let too_slow = self.hand_on(&state, ready);
            self.cut_off(&state, too_slow);
        }
    }

    /// The bus may have lost events (`why`): reads every ordered conversation's log after
    /// what was handed on, so relays get what was lost in order; and, for each user
    /// followed here, passes on a `member_joined` (without `added_by`) for every
    /// conversation they are in, so that a join whose event was lost is followed now
    /// (relays pass over the conversations their sessions have).
    pub async fn refill_all(&self, why: Resync) {
        tracing::info!(?why, "events may have been lost; filling from the conversations' logs");
        // What is read from here on was either in the Store before the read, or published
        // after it to subscriptions that deliver again.
        if let Err(error) = self.bus.settle().await {
            tracing::warn!(%error, "the bus did not settle; filling anyway");
        }
        self.sequencer.fill_all_now();
        self.wake.notify_one();
        let users: Vec<Topic> = {
            let state = self.state.read().await;
            state
                .topics
                .keys()
                .filter(|topic| matches!(topic, Topic::User { .. }))
                .cloned()
                .collect()
        };
        for topic in &users {
            self.pass_on_joins(topic).await;
        }
    }

    /// Hands the relays following a user's topic a `member_joined` without `added_by` for
    /// each of the user's conversations: a stream follows the ones it lacks.
    pub(super) async fn pass_on_joins(&self, topic: &Topic) {
        let Topic::User { org, user } = topic else { return };
        let joins = match self.joins_of(org, user).await {
            Ok(joins) => joins,
            Err(error) => {
                tracing::warn!(%error, org, user, "could not pass on a user's conversations");
                return;
            }
        };
        let ready = joins.into_iter().map(|event| Delivery {
            topic: topic.clone(),
            event: Arc::new(event),
            traceparent: None,
            prev: 0,
        });
        let state = self.state.read().await;
        let too_slow = self.hand_on(&state, ready.collect());
        self.cut_off(&state, too_slow);
    }

    /// A `member_joined` for each conversation `user` is in, replaying from where they
    /// joined.
    async fn joins_of(&self, org: &str, user: &str) -> Result<Vec<pb::Event>, StoreError> {
        let mut joins = Vec::new();
        for id in store::user_conversations(self.store.as_ref(), org, user).await? {
            let conversation = self.store.get_conversation(id).await?;
            let member = self.store.get_member(id, user).await?;
            let (Some(conversation), Some(member)) = (conversation, member) else { continue };
            let after = member.joined.seq.max(changes::START);
            let kind = events::joined(&conversation, &member, "", after);
            joins.push(pb::Event { conversation_id: id, seq: 0, kind: Some(kind) });
        }
        Ok(joins)
    }
}
