//! The recorded operations of one invocation, kept in the order they arrived and indexed by id.
//!
//! Records are large, so they are never moved once loaded (a map of them would move every record on
//! each growth). The index does not copy the ids either: it maps a 64-bit hash of an id to the
//! record's position, and the rare id whose hash another id already holds goes to a small overflow
//! map keyed by the id itself. A lookup always compares the id, so a collision costs a second lookup,
//! never a wrong record.

use crate::protocol::Operation;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

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

pub(super) struct Records<S = RandomState> {
    pub(super) ops: Vec<Operation>,
    /// Hash of an id → position of its record.
    index: HashMap<u64, usize, BuildHasherDefault<PassThrough>>,
    /// Ids whose hash `index` already holds for another id.
    overflow: HashMap<String, usize>,
    hasher: S,
}

impl Records {
    pub(super) fn new(ops: Vec<Operation>) -> Self {
        Self::with_hasher(ops, RandomState::new())
    }
}

impl<S: BuildHasher> Records<S> {
    fn with_hasher(ops: Vec<Operation>, hasher: S) -> Self {
        let mut records = Self {
            index: HashMap::with_capacity_and_hasher(ops.len(), BuildHasherDefault::default()),
            ops,
            overflow: HashMap::new(),
            hasher,
        };
        for i in 0..records.ops.len() {
            records.index_at(i);
        }
        records
    }

    fn position(&self, id: &str) -> Option<usize> {
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
        let taken = self.index.get(&hash).is_some_and(|&j| self.ops.get(j).is_some_and(|other| other.id != op.id));
        if taken {
            self.overflow.insert(op.id.clone(), i);
        } else {
            self.index.insert(hash, i);
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
    }
}
