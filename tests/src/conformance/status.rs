//! Users' statuses: what a user sets, and when they were last seen.

use std::sync::Arc;

use switchboard_server::model::{Availability, UserStatus};
use switchboard_server::store::Store;

pub async fn a_status_is_set_per_org_and_user_and_keeps_the_last_seen_time(store: Arc<dyn Store>) {
    assert_eq!(store.get_status("acme", "bob").await.unwrap(), None, "never set");
    store.set_last_seen("acme", "bob", 1_700_000_000_000).await.unwrap();
    store.set_status("acme", "bob", Availability::DoNotDisturb, "focusing").await.unwrap();
    let expected = UserStatus {
        availability: Availability::DoNotDisturb,
        text: "focusing".into(),
        last_seen_ms: 1_700_000_000_000,
    };
    assert_eq!(store.get_status("acme", "bob").await.unwrap(), Some(expected));
    store.set_last_seen("acme", "bob", 1_700_000_001_000).await.unwrap();
    let status = store.get_status("acme", "bob").await.unwrap().unwrap();
    assert_eq!(
        (status.availability, status.text.as_str()),
        (Availability::DoNotDisturb, "focusing")
    );
    assert_eq!(status.last_seen_ms, 1_700_000_001_000);

    store.set_status("acme", "bob", Availability::Available, "").await.unwrap();
    let status = store.get_status("acme", "bob").await.unwrap().unwrap();
    assert_eq!(status, UserStatus { last_seen_ms: 1_700_000_001_000, ..UserStatus::default() });
    assert_eq!(store.get_status("other", "bob").await.unwrap(), None, "orgs are apart");
    assert_eq!(store.get_status("acme", "bo").await.unwrap(), None);
}
