//! Online counts of conversations, for the relays of this controller that follow them: each
//! counted when first wanted, then again every [`RECOUNT`], and handed on only when it
//! changed. Each controller counts for its own relays (presence is cluster-wide already),
//! so nothing of it travels on the bus.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use switchboard_proto::v1 as pb;
use tokio::time::Instant;

use super::Topic;

/// How often a wanted count is counted again: the most often an `online_count` changes.
const RECOUNT: Duration = Duration::from_secs(5);

/// What was last counted for each wanted conversation, and when.
#[derive(Default)]
pub struct OnlineCounts {
    last: Mutex<HashMap<Topic, (Instant, pb::OnlineCount)>>,
}

impl OnlineCounts {
    /// Of the topics wanted now, the online-count ones due for counting: new ones, and those
    /// counted [`RECOUNT`] ago. Forgets the ones no longer wanted.
    pub fn due(&self, wanted: Vec<Topic>, now: Instant) -> Vec<Topic> {
        let mut last = self.last.lock().expect("counts lock poisoned");
        let wanted: Vec<Topic> =
            wanted.into_iter().filter(|topic| matches!(topic, Topic::OnlineCount { .. })).collect();
        last.retain(|topic, _| wanted.contains(topic));
        let due = |topic: &Topic| last.get(topic).is_none_or(|(at, _)| now - *at >= RECOUNT);
        wanted.into_iter().filter(due).collect()
    }

    /// Records a count; true if the relays should be told (new, or changed).
    pub fn counted(&self, topic: &Topic, count: pb::OnlineCount, now: Instant) -> bool {
        let mut last = self.last.lock().expect("counts lock poisoned");
        let previous = last.insert(topic.clone(), (now, count));
        previous.is_none_or(|(_, before)| before != count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_is_due_when_new_then_every_recount_and_told_only_when_changed() {
        let counts = OnlineCounts::default();
        let (topic, other) = (Topic::online_count("acme", 7), Topic::channel("acme", 7));
        let start = Instant::now();
        let due = counts.due(vec![topic.clone(), other.clone()], start);
        assert_eq!(due, std::slice::from_ref(&topic));
        let count = pb::OnlineCount { online: 2, members: 5 };
        assert!(counts.counted(&topic, count, start), "the first count is told");
        assert!(counts.due(vec![topic.clone()], start + RECOUNT / 2).is_empty());
        let due = counts.due(vec![topic.clone()], start + RECOUNT);
        assert_eq!(due, std::slice::from_ref(&topic));
        assert!(!counts.counted(&topic, count, start + RECOUNT), "unchanged: not told");
        let changed = pb::OnlineCount { online: 3, members: 5 };
        assert!(counts.counted(&topic, changed, start + RECOUNT * 2));
        assert!(counts.due(vec![], start).is_empty());
        assert_eq!(counts.due(vec![topic.clone()], start), [topic], "forgotten when unwanted");
    }
}
