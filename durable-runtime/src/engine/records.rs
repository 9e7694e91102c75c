//! The recorded operations of one invocation, kept in the order they arrived and indexed by id.
//!
//! Records are large, so they are never moved once loaded (a map of them would move every record on
//! each growth). The index does not copy the ids either: it maps a 64-bit hash of an id to the
//! record's position, and the rare id whose hash another id already holds goes to a small overflow
//! map keyed by the id itself. A lookup always compares the id, so a collision costs a second lookup,
//! never a wrong record. The index hash is a fast seeded one (foldhash); ids that collide in it
//! fall back to the overflow map's SipHash, so crafted ids cost speed, not correctness.
//!
//! Replay reaches the records in the order they were recorded, so a lookup first tries the record
//! it found last and the one after it: a replay of N steps finds each record without hashing its id.

use crate::protocol::Operation;
use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// A hasher for keys that are already hashes: it passes the `u64` through.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `u64` keys; fold anything else in for completeness.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(super) struct Records<S = foldhash::fast::RandomState> {
    pub(super) ops: Vec<Operation>,
    /// Hash of an id → position of its record.
    index: HashMap<u64, usize, BuildHasherDefault<PassThrough>>,
    /// Ids whose hash `index` already holds for another id.
    overflow: HashMap<String, usize>,
    hasher: S,
    /// Position of the record found last; the next lookup tries it and the one after it first.
    cursor: Cell<usize>,
    /// Some id is recorded twice: the later record counts, so the cursor shortcut (which could find
    /// the earlier one) is off.
    duplicates: bool,
}

impl Records {
    pub(super) fn new(ops: Vec<Operation>) -> Self {
        Self::with_hasher(ops, foldhash::fast::RandomState::default())
    }
}

impl<S: BuildHasher> Records<S> {
    fn with_hasher(ops: Vec<Operation>, hasher: S) -> Self {
        let mut records = Self {
            index: HashMap::with_capacity_and_hasher(ops.len(), BuildHasherDefault::default()),
            ops,
            overflow: HashMap::new(),
            hasher,
            cursor: Cell::new(0),
            duplicates: false,
        };
        for i in 0..records.ops.len() {
            records.index_at(i);
        }
        records
    }

    fn position(&self, id: &str) -> Option<usize> {
        if !self.duplicates {
            let last = self.cursor.get();
            for i in [last, last + 1] {
                if self.ops.get(i).is_some_and(|op| op.id == id) {
                    self.cursor.set(i);
                    return Some(i);
                }
            }
        }
        let found = self.indexed(id)?;
        self.cursor.set(found);
        Some(found)
    }

    fn indexed(&self, id: &str) -> Option<usize> {
        let &i = self.index.get(&self.hasher.hash_one(id))?;
        if self.ops.get(i).is_some_and(|op| op.id == id) {
            Some(i)
        } else {
            self.overflow.get(id).copied()
        }
    }

    /// Indexes the record at position `i`; a later record with the same id replaces an earlier one.
    fn index_at(&mut self, i: usize) {
        let Some(op) = self.ops.get(i) else { return };
        let hash = self.hasher.hash_one(op.id.as_str());
        match self.index.get(&hash).and_then(|&j| self.ops.get(j)) {
            Some(other) if other.id != op.id => {
                if self.overflow.insert(op.id.clone(), i).is_some() {
                    self.duplicates = true;
                }
            }
            holder => {
                self.duplicates |= holder.is_some();
                self.index.insert(hash, i);
            }
        }
    }

    pub(super) fn get(&self, id: &str) -> Option<&Operation> {
        self.position(id).and_then(|i| self.ops.get(i))
    }

    pub(super) fn upsert(&mut self, op: Operation) {
        match self.position(&op.id) {
            Some(i) => {
                if let Some(slot) = self.ops.get_mut(i) {
                    *slot = op;
                }
            }
            None => {
                self.ops.push(op);
                self.index_at(self.ops.len() - 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{OperationStatus, OperationType};

    fn op(id: &str, status: OperationStatus) -> Operation {
        Operation::new(id, OperationType::Step, status)
    }

    #[test]
    fn records_are_found_by_id_and_replaced_in_place() {
        let mut records = Records::new(vec![op("a", OperationStatus::Started), op("b", OperationStatus::Started)]);
        assert_eq!(records.get("b").map(|r| r.id.as_str()), Some("b"));
        assert!(records.get("c").is_none());
        records.upsert(op("a", OperationStatus::Succeeded));
        records.upsert(op("c", OperationStatus::Started));
        assert_eq!(records.ops.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(records.get("a").map(|r| &r.status), Some(&OperationStatus::Succeeded));
    }

    #[test]
    fn lookups_in_any_order_find_the_same_records() {
        let ids: Vec<String> = (0..50).map(|i| format!("op-{i}")).collect();
        let records = Records::new(ids.iter().map(|id| op(id, OperationStatus::Succeeded)).collect());
        // In order (the cursor path), backwards, repeated, and skipping around (the index path).
        let order = (0..50).chain((0..50).rev()).chain([7, 7, 8, 3, 49, 0, 1, 1]);
        for i in order {
            assert_eq!(records.get(&ids[i]).map(|r| r.id.as_str()), Some(ids[i].as_str()));
        }
        assert!(records.get("op-50").is_none());
    }

    #[test]
    fn a_later_record_with_the_same_id_wins_whatever_the_order_of_lookups() {
        let records = Records::new(vec![
            op("a", OperationStatus::Started),
            op("b", OperationStatus::Started),
            op("a", OperationStatus::Succeeded),
        ]);
        assert_eq!(records.get("a").map(|r| &r.status), Some(&OperationStatus::Succeeded));
        assert_eq!(records.get("b").map(|r| &r.status), Some(&OperationStatus::Started));
        assert_eq!(records.get("a").map(|r| &r.status), Some(&OperationStatus::Succeeded));
    }

    /// Every id hashes to the same value.
    #[derive(Default)]
    struct Constant;

    impl Hasher for Constant {
        fn finish(&self) -> u64 {
            7
        }
        fn write(&mut self, _bytes: &[u8]) {}
    }

    #[test]
    fn ids_whose_hashes_collide_are_still_told_apart() {
        let ops = vec![op("a", OperationStatus::Started), op("b", OperationStatus::Failed)];
        let mut records = Records::with_hasher(ops, BuildHasherDefault::<Constant>::default());
        assert_eq!(records.get("a").map(|r| &r.status), Some(&OperationStatus::Started));
        assert_eq!(records.get("b").map(|r| &r.status), Some(&OperationStatus::Failed));
        assert!(records.get("c").is_none());
        records.upsert(op("b", OperationStatus::Succeeded));
        records.upsert(op("c", OperationStatus::Ready));
        assert_eq!(records.get("b").map(|r| &r.status), Some(&OperationStatus::Succeeded));
        assert_eq!(records.get("c").map(|r| &r.status), Some(&OperationStatus::Ready));
        assert_eq!(records.ops.len(), 3);
        assert_eq!(records.get("a").map(|r| &r.status), Some(&OperationStatus::Started));
    }
}
