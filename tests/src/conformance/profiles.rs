//! Users' profiles: created once per (org, user), changed field by field, and the
//! directory's entries that follow them.

use std::sync::Arc;

use switchboard_server::model::{DirectoryEntry, Profile, ProfileField};
use switchboard_server::store::Store;

pub async fn a_profile_is_created_once_and_changed_field_by_field(store: Arc<dyn Store>) {
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
        avatar_id: 412_000_000_000_000_001,
    };
    assert!(store.create_profile(&bob).await.unwrap());
    assert_eq!(store.get_profile("acme", "bob").await.unwrap(), Some(bob.clone()));
    let again = Profile { display_name: "Someone else".into(), ..bob.clone() };
    assert!(!store.create_profile(&again).await.unwrap(), "created once");
    assert_eq!(store.get_profile("acme", "bob").await.unwrap(), Some(bob.clone()));

    // Only the named fields change; an empty value clears.
    let changes = Profile {
        title: String::new(),
        bio: "ignored: not named".into(),
        custom_fields: Default::default(),
        avatar_id: 412_000_000_000_000_002,
        ..Profile::default()
    };
    let fields = [ProfileField::Title, ProfileField::CustomFields, ProfileField::Avatar];
    let now = store.update_profile("acme", "bob", &changes, &fields, bob.updated_at_ms + 1).await;
    bob.title.clear();
    bob.custom_fields.clear();
    bob.avatar_id = 412_000_000_000_000_002;
    bob.updated_at_ms += 1;
    assert_eq!(now.unwrap(), bob);
    assert_eq!(store.get_profile("acme", "bob").await.unwrap(), Some(bob));
    assert_eq!(store.get_profile("other", "bob").await.unwrap(), None, "orgs are apart");
    assert_eq!(store.get_profile("acme", "bo").await.unwrap(), None);

    // Changing a profile nobody created starts from an empty one.
    let named = Profile { display_name: "Carol".into(), ..Profile::default() };
    let carol = store.update_profile("acme", "carol", &named, &[ProfileField::DisplayName], 5);
    let carol = carol.await.unwrap();
    assert_eq!(
        (carol.user.as_str(), carol.display_name.as_str(), carol.updated_at_ms),
        ("carol", "Carol", 5)
    );
}

pub async fn concurrent_changes_of_different_fields_all_stay(store: Arc<dyn Store>) {
    let name = Profile { display_name: "Dana".into(), ..Profile::default() };
    let title = Profile { title: "Lead".into(), ..Profile::default() };
    for round in 0..20 {
        let user = format!("dana{round}");
        let (a, b) = tokio::join!(
            store.update_profile("acme", &user, &name, &[ProfileField::DisplayName], 1),
            store.update_profile("acme", &user, &title, &[ProfileField::Title], 2),
        );
        a.unwrap();
        b.unwrap();
        let now = store.get_profile("acme", &user).await.unwrap().unwrap();
        assert_eq!((now.display_name.as_str(), now.title.as_str()), ("Dana", "Lead"), "{user}");
    }
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

/// Renames `user` of acme.
async fn rename(store: &Arc<dyn Store>, user: &str, name: &str) {
    let changes = Profile { display_name: name.into(), ..Profile::default() };
    store.update_profile("acme", user, &changes, &[ProfileField::DisplayName], 2).await.unwrap();
}

/// (term, user) of each entry.
fn found(entries: &[DirectoryEntry]) -> Vec<(&str, &str)> {
    entries.iter().map(|e| (e.term.as_str(), e.user.as_str())).collect()
}

pub async fn the_directory_finds_profiles_by_term_prefix_in_order(store: Arc<dyn Store>) {
    store.create_profile(&person("acme", "alice", "Alice Liddell", "Lead")).await.unwrap();
    store.create_profile(&person("acme", "al", "Al Alvarez", "")).await.unwrap();
    store.create_profile(&person("acme", "bob", "Bob", "Alchemist")).await.unwrap();
    store.create_profile(&person("globex", "alan", "Alan", "")).await.unwrap();

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
    rename(&store, "alice", "Alice Kingsleigh").await;
    let now = store.scan_directory("acme", "li", None, 10).await.unwrap();
    assert!(now.is_empty(), "liddell is gone: {now:?}");
    let now = store.scan_directory("acme", "kings", None, 10).await.unwrap();
    assert_eq!(found(&now), [("kingsleigh", "alice")]);
    assert_eq!((now[0].display_name.as_str(), now[0].title.as_str()), ("Alice Kingsleigh", "Lead"));

    store.remove_directory_entry("acme", "kingsleigh", "alice").await.unwrap();
    assert!(store.scan_directory("acme", "kings", None, 10).await.unwrap().is_empty());
}

pub async fn a_removed_profile_leaves_no_directory_entry(store: Arc<dyn Store>) {
    let org = format!("removed-{}", super::fresh_channel());
    store.create_profile(&person(&org, "erin", "Erin Example", "Auditor")).await.unwrap();
    store.create_profile(&person(&org, "ernie", "Ernie", "")).await.unwrap();
    assert!(store.remove_profile(&org, "erin").await.unwrap());
    assert_eq!(store.get_profile(&org, "erin").await.unwrap(), None);
    assert_eq!(
        found(&store.scan_directory(&org, "e", None, 10).await.unwrap()),
        [("ernie", "ernie")]
    );
    assert!(store.scan_directory(&org, "auditor", None, 10).await.unwrap().is_empty());
    assert!(!store.remove_profile(&org, "erin").await.unwrap(), "already gone");
}
