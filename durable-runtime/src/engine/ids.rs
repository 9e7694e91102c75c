//! Operation ids.
//!
//! Every context owns a counter starting at 1. An operation claims the next value when it is created
//! (before it is awaited), which gives it a positional path: `"3"` at the root, `"2-1"` for the first
//! operation inside the context created at root position 2, `"2-1-4"` deeper down. The wire `Id` is the
//! lowercase hex SHA-256 of that path, so ids are always 64 characters whatever the depth, stable across
//! replays, and the same as the official Rust SDK computes for the same tree. `ParentId` is the wire id of
//! the enclosing context operation (absent at the root).

use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// The identity of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OpId {
    /// Positional path, e.g. `2-1`.
    pub(crate) positional: Arc<str>,
    /// Wire id: hex SHA-256 of the positional path.
    pub(crate) id: WireId,
    /// Wire id of the enclosing context operation.
    pub(crate) parent_id: Option<Arc<str>>,
}

/// The id space of one context.
#[derive(Debug)]
pub(crate) struct Namespace {
    prefix: Option<OpId>,
    /// `ParentId` of the operations created here.
    parent_id: Option<Arc<str>>,
    counter: AtomicU32,
}

impl Namespace {
    /// The root namespace of an execution.
    pub(crate) fn root() -> Self {
        Self { prefix: None, parent_id: None, counter: AtomicU32::new(0) }
    }

    /// The namespace of the children of `owner`.
    pub(crate) fn child_of(owner: OpId) -> Self {
        Self { parent_id: Some(Arc::from(&*owner.id)), prefix: Some(owner), counter: AtomicU32::new(0) }
    }

    /// A virtual context at `position`: its operations are numbered under `position` but report
    /// `parent_id` (the enclosing real context), because no operation is recorded for `position`
    /// itself (map items and parallel branches with flat nesting).
    pub(crate) fn virtual_at(position: OpId, parent_id: Option<Arc<str>>) -> Self {
        Self { prefix: Some(position), parent_id, counter: AtomicU32::new(0) }
    }

    /// The context operation owning this namespace, `None` at the root.
    pub(crate) fn owner(&self) -> Option<&OpId> {
        self.prefix.as_ref()
    }

    /// The wire id the next position will get, without claiming it.
    pub(crate) fn peek_id(&self) -> String {
        let n = self.counter.load(Ordering::Relaxed) + 1;
        hash_id(&positional(self.prefix.as_ref().map(|owner| &*owner.positional), n))
    }

    /// Claims the next position.
    pub(crate) fn next(&self) -> OpId {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let positional = positional(self.prefix.as_ref().map(|owner| &*owner.positional), n);
        OpId { id: WireId(hex_sha256(&positional)), positional, parent_id: self.parent_id.clone() }
    }
}

/// A wire id computed here: 64 lowercase hex digits, kept inline (one allocation fewer for each
/// operation than a shared string).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct WireId([u8; 64]);

impl std::ops::Deref for WireId {
    type Target = str;

    fn deref(&self) -> &str {
        as_str(&self.0)
    }
}

impl std::fmt::Debug for WireId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl std::fmt::Display for WireId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// The positional path of position `n` under `prefix` (`None` at the root): `n` or `prefix-n`,
/// assembled on the stack when it is short (it almost always is), so the `Arc` is the only
/// allocation.
fn positional(prefix: Option<&str>, n: u32) -> Arc<str> {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let digits = digits.get(at..).unwrap_or_default();
    let mut buf = [0u8; 64];
    let prefix = prefix.map(str::as_bytes).unwrap_or_default();
    let dash = usize::from(!prefix.is_empty());
    let len = prefix.len() + dash + digits.len();
    if len > buf.len() {
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(prefix);
        out.extend_from_slice(&b"-"[..dash]);
        out.extend_from_slice(digits);
        return Arc::from(String::from_utf8_lossy(&out));
    }
    buf[..prefix.len()].copy_from_slice(prefix);
    buf[prefix.len()..prefix.len() + dash].copy_from_slice(&b"-"[..dash]);
    buf[prefix.len() + dash..len].copy_from_slice(digits);
    Arc::from(std::str::from_utf8(&buf[..len]).unwrap_or_default())
}

/// Lowercase hex SHA-256 of `positional`, as ASCII bytes.
fn hex_sha256(positional: &str) -> [u8; 64] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(positional.as_bytes());
    let mut out = [0u8; 64];
    for (pair, byte) in out.chunks_exact_mut(2).zip(digest.iter()) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0x0f)];
    }
    out
}

/// The text of the hex digits (ASCII, so the conversion cannot fail).
fn as_str(hex: &[u8; 64]) -> &str {
    std::str::from_utf8(hex).unwrap_or_default()
}

/// Lowercase hex SHA-256 of `positional`.
pub(crate) fn hash_id(positional: &str) -> String {
    as_str(&hex_sha256(positional)).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers_match_the_protocol_examples() {
        assert_eq!(hash_id("1"), "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b");
        assert_eq!(hash_id("2"), "d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35");
        assert_eq!(hash_id("2-1"), "e2433ac3278279ac90b51abed3d4dd9057d9e1f66541ad9cdfd13762a30e5a43");
        assert_eq!(hash_id("2-1-1"), "576273333f55124ccde55a1e9fef70d887c09fd80f7dd277c79e4398ee838120");
    }

    #[test]
    fn namespaces_nest_positions_and_parents() {
        let root = Namespace::root();
        let first = root.next();
        let second = root.next();
        assert_eq!(&*first.positional, "1");
        assert_eq!(&*second.positional, "2");
        assert_eq!(first.parent_id, None);
        let child = Namespace::child_of(second.clone());
        let inner = child.next();
        assert_eq!(&*inner.positional, "2-1");
        assert_eq!(inner.parent_id.as_deref(), Some(&*second.id));
        let deeper = Namespace::child_of(inner.clone()).next();
        assert_eq!(&*deeper.positional, "2-1-1");
        assert!(deeper.id.len() <= 64);
    }
}
