//! Users' profiles: written whole per (org, user), read back as written.

use std::sync::Arc;

use switchboard_server::model::Profile;
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
