//! `DeliveredIds`: the newest message ids delivered on one channel of a session, so that
//! none is delivered twice. Live ids mostly arrive in increasing order, so the usual insert
//! appends to a sorted ring; an id that arrives late (a slow commit, a replay overlapping
//! live events) is placed by binary search. The `BTreeSet` this replaces took 7 % of the
//! relay's samples in `sbctl bench fanout` (its insert and trim on every delivery).

use std::collections::VecDeque;

/// Ids remembered per channel; the oldest are forgotten first.
const REMEMBERED: usize = 1024;

#[derive(Default)]
pub(crate) struct DeliveredIds {
    /// Ascending, at most `REMEMBERED`.
    ids: VecDeque<u64>,
}

impl DeliveredIds {
    /// Records `id`; false if it is remembered as delivered already.
    pub(crate) fn insert(&mut self, id: u64) -> bool {
        match self.ids.back() {
            Some(&newest) if id <= newest => match self.ids.binary_search(&id) {
                Ok(_) => return false,
                Err(at) => self.ids.insert(at, id),
            },
            _ => self.ids.push_back(id),
        }
        if self.ids.len() > REMEMBERED {
            self.ids.pop_front();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_id_is_new_once_in_any_order() {
        let mut delivered = DeliveredIds::default();
        for id in [5, 7, 6, 1, 9] {
            assert!(delivered.insert(id), "{id} is new");
        }
        for id in [1, 5, 6, 7, 9] {
            assert!(!delivered.insert(id), "{id} was delivered");
        }
        assert!(delivered.insert(8), "a late id between known ones is new");
        assert_eq!(delivered.ids, [1, 5, 6, 7, 8, 9]);
    }

    #[test]
    fn the_oldest_ids_are_forgotten_past_the_limit() {
        let mut delivered = DeliveredIds::default();
        let newest = REMEMBERED as u64 + 10;
        for id in 1..=newest {
            assert!(delivered.insert(id));
        }
        assert_eq!(delivered.ids.len(), REMEMBERED);
        assert!(!delivered.insert(newest - REMEMBERED as u64 + 1), "the oldest remembered");
        assert!(delivered.insert(10), "forgotten: taken as new");
        assert_eq!(delivered.ids.len(), REMEMBERED);
        assert_eq!(delivered.ids.front(), Some(&(newest - REMEMBERED as u64 + 1)));
    }
}
