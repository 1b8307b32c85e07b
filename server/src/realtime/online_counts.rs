//! Online counts of conversations, for the relays of this controller that follow them: each
//! counted when first wanted, then again a second after someone of its org came or went
//! here, and every [`RECOUNT`] whatever happened (members added or removed, presence changes
//! announced by other controllers); handed on only when it changed. Each controller counts
//! for its own relays (presence is cluster-wide already), so nothing of it travels on the
//! bus.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use switchboard_proto::v1 as pb;
use tokio::time::Instant;

use super::Topic;

/// How often a wanted count is counted again, whatever happened.
const RECOUNT: Duration = Duration::from_secs(5);
/// How soon a count is counted again after a presence change in its org: the most often an
/// `online_count` changes.
const QUICK_RECOUNT: Duration = Duration::from_secs(1);

/// What was last counted for each wanted conversation, and when.
#[derive(Default)]
pub struct OnlineCounts {
    last: Mutex<HashMap<Topic, (Instant, pb::OnlineCount)>>,
    /// When someone of each org last came or went through this controller.
    changed: Mutex<HashMap<String, Instant>>,
}

impl OnlineCounts {
    /// Someone of `org` came online or went offline here.
    pub fn presence_changed(&self, org: &str, now: Instant) {
        self.changed.lock().expect("counts lock poisoned").insert(org.to_string(), now);
    }

    /// Of the topics wanted now, the online-count ones due for counting: new ones, those
    /// counted [`QUICK_RECOUNT`] ago before a presence change in their org, and those
    /// counted [`RECOUNT`] ago. Forgets the ones no longer wanted.
    pub fn due(&self, wanted: Vec<Topic>, now: Instant) -> Vec<Topic> {
        let mut last = self.last.lock().expect("counts lock poisoned");
        let changed = self.changed.lock().expect("counts lock poisoned");
        let wanted: Vec<Topic> =
            wanted.into_iter().filter(|topic| matches!(topic, Topic::OnlineCount { .. })).collect();
        last.retain(|topic, _| wanted.contains(topic));
        let due = |topic: &Topic| {
            let Some((at, _)) = last.get(topic) else { return true };
            let Topic::OnlineCount { org, .. } = topic else { return false };
            let moved = changed.get(org).is_some_and(|change| change >= at);
            now - *at >= RECOUNT || (moved && now - *at >= QUICK_RECOUNT)
        };
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
    fn a_count_is_due_when_new_soon_after_a_change_and_every_recount_and_told_if_changed() {
        let counts = OnlineCounts::default();
        let (topic, other) = (Topic::online_count("acme", 7), Topic::channel("acme", 7));
        let start = Instant::now();
        let due = counts.due(vec![topic.clone(), other.clone()], start);
        assert_eq!(due, std::slice::from_ref(&topic));
        let count = pb::OnlineCount { online: 2, members: 5 };
        assert!(counts.counted(&topic, count, start), "the first count is told");
        assert!(counts.due(vec![topic.clone()], start + RECOUNT / 2).is_empty());
        counts.presence_changed("other", start + QUICK_RECOUNT);
        assert!(counts.due(vec![topic.clone()], start + QUICK_RECOUNT).is_empty());
        counts.presence_changed("acme", start + QUICK_RECOUNT / 2);
        assert!(counts.due(vec![topic.clone()], start + QUICK_RECOUNT / 2).is_empty(), "too soon");
        let due = counts.due(vec![topic.clone()], start + QUICK_RECOUNT);
        assert_eq!(due, std::slice::from_ref(&topic), "a change in its org: counted again");
        let due = counts.due(vec![topic.clone()], start + RECOUNT);
        assert_eq!(due, std::slice::from_ref(&topic));
        assert!(!counts.counted(&topic, count, start + RECOUNT), "unchanged: not told");
        let changed = pb::OnlineCount { online: 3, members: 5 };
        assert!(counts.counted(&topic, changed, start + RECOUNT * 2));
        assert!(counts.due(vec![], start).is_empty());
        assert_eq!(counts.due(vec![topic.clone()], start), [topic], "forgotten when unwanted");
    }
}
