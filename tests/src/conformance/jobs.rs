//! Background jobs: stored per org, the open ones found by every controller, leased to one
//! at a time and saved only by the holder.

use std::sync::Arc;

use switchboard_server::ids::EPOCH_MS;
use switchboard_server::model::{ArchiveExpiry, Job, JobKind, JobState};
use switchboard_server::store::Store;

fn job(org: &str, id: u64) -> Job {
    Job::new(id, org, JobKind::EraseUser, "bob", "admin", "asked to", EPOCH_MS)
}

pub async fn jobs_are_leased_to_one_owner_and_leave_the_open_ones_when_finished(
    store: Arc<dyn Store>,
) {
    let base = super::fresh_channel();
    let org = format!("jobs-{base}");
    let (first, second) = (job(&org, base), job(&org, base + 1));
    store.create_job(&first).await.unwrap();
    store.create_job(&second).await.unwrap();
    let open = store.open_jobs(10_000).await.unwrap();
    assert!(open.contains(&(org.clone(), first.id)) && open.contains(&(org.clone(), second.id)));
    let listed = store.list_jobs(&org, None, 10).await.unwrap();
    assert_eq!(listed, [second.clone(), first.clone()], "newest first");
    assert_eq!(
        store.list_jobs(&org, Some(second.id), 10).await.unwrap(),
        std::slice::from_ref(&first)
    );

    let now = EPOCH_MS + 1_000;
    assert!(store.lease_job(&org, first.id, "one", now, now + 60_000).await.unwrap());
    assert!(!store.lease_job(&org, first.id, "two", now + 1, now + 60_000).await.unwrap());
    assert!(
        store.lease_job(&org, first.id, "one", now + 2, now + 90_000).await.unwrap(),
        "renewed"
    );
    let running = Job { state: JobState::Running, cursor: 7, ..first.clone() };
    assert!(!store.save_job(&running, "two").await.unwrap(), "only the holder saves");
    assert!(store.save_job(&running, "one").await.unwrap());
    assert_eq!(store.get_job(&org, first.id).await.unwrap(), Some(running.clone()));
    // The lease ran out: another owner takes it, and the first can no longer save.
    assert!(store.lease_job(&org, first.id, "two", now + 90_001, now + 200_000).await.unwrap());
    let done = Job { state: JobState::Done, ..running.clone() };
    assert!(!store.save_job(&done, "one").await.unwrap());
    assert!(store.save_job(&done, "two").await.unwrap());
    let open = store.open_jobs(10_000).await.unwrap();
    assert!(!open.contains(&(org.clone(), first.id)), "finished: no longer open");
    assert!(open.contains(&(org.clone(), second.id)));
    assert!(!store.lease_job(&org, base + 2, "one", now, now + 1).await.unwrap(), "no such job");
    // Finished, so that a shared keyspace keeps no open job of this run.
    assert!(store.lease_job(&org, second.id, "one", now, now + 1).await.unwrap());
    let done = Job { state: JobState::Failed, ..second };
    assert!(store.save_job(&done, "one").await.unwrap());
}

pub async fn a_duty_is_leased_to_one_owner_until_the_lease_runs_out(store: Arc<dyn Store>) {
    let duty = format!("sweep-{}", super::fresh_channel());
    let now = EPOCH_MS + 1_000;
    assert!(store.lease_duty(&duty, "one", now, now + 60_000).await.unwrap(), "nobody held it");
    assert!(!store.lease_duty(&duty, "two", now + 1, now + 60_001).await.unwrap());
    assert!(
        store.lease_duty(&duty, "one", now + 2, now + 90_000).await.unwrap(),
        "renewed by its holder"
    );
    assert!(
        !store.lease_duty(&duty, "two", now + 60_002, now + 120_000).await.unwrap(),
        "held until the renewed time"
    );
    assert!(store.lease_duty(&duty, "two", now + 90_001, now + 150_000).await.unwrap(), "ran out");
    assert!(!store.lease_duty(&duty, "one", now + 90_002, now + 150_000).await.unwrap());
    let other = format!("{duty}-other");
    assert!(store.lease_duty(&other, "one", now, now + 60_000).await.unwrap(), "duties apart");
}

pub async fn export_archives_are_listed_due_by_time_until_taken_off(store: Arc<dyn Store>) {
    let base = super::fresh_channel();
    let org = format!("archives-{base}");
    // Times of this run only (the list is shared by every org), oldest first.
    let at = EPOCH_MS + (base % 1_000_000) as i64 * 10_000;
    let listed =
        |n: u64, expires_at_ms| ArchiveExpiry { expires_at_ms, org: org.clone(), job_id: base + n };
    let (soon, later, latest) = (listed(0, at), listed(1, at + 1_000), listed(2, at + 5_000));
    for expiry in [&latest, &soon, &later] {
        store.put_archive_expiry(expiry).await.unwrap();
    }
    let (store, org) = (&store, &org);
    let due = |now| async move {
        let due = store.due_archive_expiries(now, 100_000).await.unwrap();
        due.into_iter().filter(|e| &e.org == org).collect::<Vec<_>>()
    };
    assert_eq!(due(at - 1).await, [], "none due yet");
    assert_eq!(due(at + 1_000).await, [soon.clone(), later.clone()], "due, soonest first");
    store.remove_archive_expiry(&soon).await.unwrap();
    store.remove_archive_expiry(&soon).await.unwrap();
    assert_eq!(due(at + 5_000).await, [later.clone(), latest.clone()], "taken off once");
    store.remove_archive_expiry(&later).await.unwrap();
    store.remove_archive_expiry(&latest).await.unwrap();
    assert_eq!(due(i64::MAX / 2).await, []);
}
