//! What a controller keeps per org in memory and reads again once it is old: the org's
//! compiled filters, its suspended users. A change made on this controller forgets the
//! org's entry at once; the other controllers see it once their entry is `keep_for` old.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(super) struct OrgCache<T> {
    keep_for: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<T>)>>,
}

impl<T> OrgCache<T> {
    pub(super) fn new(keep_for: Duration) -> Self {
        OrgCache { keep_for, entries: Mutex::default() }
    }

    /// The org's entry, unless it is missing or `keep_for` old.
    pub(super) fn fresh(&self, org: &str) -> Option<Arc<T>> {
        let entries = self.entries.lock().expect("org cache lock");
        let (loaded, value) = entries.get(org)?;
        (loaded.elapsed() < self.keep_for).then(|| value.clone())
    }

    /// Keeps `value` as the org's entry, read now.
    pub(super) fn put(&self, org: &str, value: T) -> Arc<T> {
        let value = Arc::new(value);
        let mut entries = self.entries.lock().expect("org cache lock");
        entries.insert(org.to_string(), (Instant::now(), value.clone()));
        value
    }

    pub(super) fn forget(&self, org: &str) {
        self.entries.lock().expect("org cache lock").remove(org);
    }
}
