//! Users' profiles: written whole per (org, user), read back as written.

use std::sync::Arc;

use switchboard_server::model::{DirectoryEntry, Profile};
use switchboard_server::store::Store;

pub async fn a_profile_is_written_whole_per_org_and_user(store: Arc<dyn Store>) {
    assert_eq!(store.get_profile("acme", "bob").await.unwrap(), None, "never written");
    let mut bob = Profile {
        org: "acme".into(),
        user: "bob".into(),
        display_name: "Bob Builder".into(),
        title: "Site lead".into(),
        bio: "Can we fix it?".into(),
        time_zone: "Europe/Berlin".into(),
        custom_fields: [("team".to_string(), "north".to_string())].into(),
        email: "bob@acme.example".into(),
        phone: "+49 30 1234".into(),
        updated_at_ms: 1_700_000_000_000,
    };
    store.put_profile(&bob).await.unwrap();
    assert_eq!(store.get_profile("acme", "bob").await.unwrap(), Some(bob.clone()));

    // Written whole: cleared fields read back empty.
    bob.title.clear();
    bob.custom_fields.clear();
    bob.updated_at_ms += 1;
    store.put_profile(&bob).await.unwrap();
    assert_eq!(store.get_profile("acme", "bob").await.unwrap(), Some(bob));
    assert_eq!(store.get_profile("other", "bob").await.unwrap(), None, "orgs are apart");
    assert_eq!(store.get_profile("acme", "bo").await.unwrap(), None);
}

fn person(org: &str, user: &str, name: &str, title: &str) -> Profile {
    Profile {
        org: org.into(),
        user: user.into(),
        display_name: name.into(),
        title: title.into(),
        ..Profile::default()
    }
}

/// (term, user) of each entry.
fn found(entries: &[DirectoryEntry]) -> Vec<(&str, &str)> {
    entries.iter().map(|e| (e.term.as_str(), e.user.as_str())).collect()
}

pub async fn the_directory_finds_profiles_by_term_prefix_in_order(store: Arc<dyn Store>) {
    store.put_profile(&person("acme", "alice", "Alice Liddell", "Lead")).await.unwrap();
    store.put_profile(&person("acme", "al", "Al Alvarez", "")).await.unwrap();
    store.put_profile(&person("acme", "bob", "Bob", "Alchemist")).await.unwrap();
    store.put_profile(&person("globex", "alan", "Alan", "")).await.unwrap();

    let all = store.scan_directory("acme", "al", None, 100).await.unwrap();
    let expected = [("al", "al"), ("alchemist", "bob"), ("alice", "alice"), ("alvarez", "al")];
    assert_eq!(found(&all), expected, "by term, then user; never another org's");
    assert_eq!((all[2].display_name.as_str(), all[2].title.as_str()), ("Alice Liddell", "Lead"));

    // Page by page from the last entry seen.
    let first = store.scan_directory("acme", "al", None, 2).await.unwrap();
    assert_eq!(found(&first), expected[..2]);
    let last = first.last().map(|e| (e.term.as_str(), e.user.as_str()));
    let rest = store.scan_directory("acme", "al", last, 10).await.unwrap();
    assert_eq!(found(&rest), expected[2..]);
    assert!(store.scan_directory("acme", "zed", None, 10).await.unwrap().is_empty());

    // A new name replaces the old entries.
    store.put_profile(&person("acme", "alice", "Alice Kingsleigh", "Lead")).await.unwrap();
    let now = store.scan_directory("acme", "li", None, 10).await.unwrap();
    assert!(now.is_empty(), "liddell is gone: {now:?}");
    let now = store.scan_directory("acme", "kings", None, 10).await.unwrap();
    assert_eq!(found(&now), [("kingsleigh", "alice")]);
    assert_eq!(now[0].display_name, "Alice Kingsleigh");

    store.remove_directory_entry("acme", "kingsleigh", "alice").await.unwrap();
    assert!(store.scan_directory("acme", "kings", None, 10).await.unwrap().is_empty());
}
