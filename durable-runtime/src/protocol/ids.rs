//! Fresh identifiers: UUIDs (version 4) and random hex tokens, drawn from the operating system's
//! cryptographically secure generator (`getrandom`).
//!
//! Every id the crate mints comes from here: idempotency tokens of checkpoint requests, the values
//! of [`DurableContext::uuid`](crate::DurableContext::uuid) (recorded once, so replays read them
//! back), and, in the in-memory service, execution names and ids, request ids, checkpoint tokens
//! and callback ids.

use std::fmt::Write;

/// A random UUID version 4, hyphenated lowercase: `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx` with `y`
/// one of `8`, `9`, `a`, `b`.
pub fn uuid_v4() -> String {
    let mut bytes = [0u8; 16];
    fill(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let n = u128::from_be_bytes(bytes);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        n >> 96,
        (n >> 80) & 0xffff,
        (n >> 64) & 0xffff,
        (n >> 48) & 0xffff,
        n & 0xffff_ffff_ffff
    )
}

/// `bytes` random bytes as lowercase hex, two digits a byte.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fill(&mut buf);
    buf.iter().fold(String::with_capacity(bytes * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Fills `dest` from the operating system's generator. Should that fail (a sandbox without
/// `getrandom(2)` or `/dev/urandom`), the bytes come from `fastrand` instead, so an id is still
/// minted: unique, but no longer unpredictable.
fn fill(dest: &mut [u8]) {
    if let Err(error) = getrandom::fill(dest) {
        tracing::warn!(%error, "the operating system's random generator failed; ids fall back to `fastrand`");
        fastrand::fill(dest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_fresh() {
        let a = uuid_v4();
        let b = uuid_v4();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert_eq!(a.as_bytes()[14], b'4', "version: {a}");
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "variant: {a}");
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)), "{a}");
    }

    #[test]
    fn random_hex_has_two_digits_a_byte() {
        let token = random_hex(8);
        assert_eq!(token.len(), 16);
        assert!(token.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{token}");
        assert_ne!(random_hex(16), random_hex(16));
        assert_eq!(random_hex(0), "");
    }
}
