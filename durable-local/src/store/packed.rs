//! Compressed values: a batch of history events is stored as an LZ4 block of its JSON once it is
//! large enough for that to pay.
//!
//! A step's two events repeat its 64-character id, its name and every member name, so a batch of 125
//! steps' events (60 KB of JSON) packs to about 11 KB in under 0.1 ms. Every page a commit changes
//! is written to the log, fsynced, and copied into the database by the next checkpoint: packed, a
//! commit of 125 steps writes 18 pages instead of 30.
//!
//! A packed value is a BLOB: the length of the JSON (4 bytes, little-endian), then the LZ4 block. A
//! value of fewer than [`PACK_FROM`] bytes stays JSON text, as every value did before schema 5.

use rusqlite::types::{ToSqlOutput, ValueRef};

/// From this many bytes of JSON, a value is packed; below, LZ4 saves too little to be worth an
/// opaque value.
pub(super) const PACK_FROM: usize = 1024;

/// The largest ratio of an LZ4 block's output to its input (a run of one byte), with room for the
/// block's last literals: a value that claims more is corrupt, and is refused before anything is
/// allocated for it.
const MAX_RATIO: usize = 255;

/// A stored value: JSON text, packed when it is long.
pub(super) enum Stored {
    Text(String),
    Packed(Vec<u8>),
}

impl rusqlite::ToSql for Stored {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Self::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Self::Packed(bytes) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
        })
    }
}

/// `json` as it is stored.
pub(super) fn pack(json: String) -> Stored {
    if json.len() < PACK_FROM {
        return Stored::Text(json);
    }
    Stored::Packed(lz4_flex::block::compress_prepend_size(json.as_bytes()))
}

/// The JSON of a stored value, text or packed; `Err` says what is wrong with it.
pub(super) fn unpack(value: ValueRef<'_>) -> Result<String, String> {
    match value {
        ValueRef::Text(text) => String::from_utf8(text.to_vec()).map_err(|e| format!("is not UTF-8: {e}")),
        ValueRef::Blob(bytes) => {
            let (Some(size), Some(block)) = (bytes.get(..4), bytes.get(4..)) else {
                return Err(format!("is a packed value of {} bytes, too short to hold its length", bytes.len()));
            };
            let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
            if size > block.len().saturating_mul(MAX_RATIO).saturating_add(16) {
                return Err(format!("claims {size} bytes unpacked from {} packed", block.len()));
            }
            let json = lz4_flex::block::decompress(block, size).map_err(|e| format!("does not unpack: {e}"))?;
            if json.len() != size {
                return Err(format!("unpacks to {} bytes, not the {size} it claims", json.len()));
            }
            String::from_utf8(json).map_err(|e| format!("is not UTF-8: {e}"))
        }
        other => Err(format!("is {:?}, not JSON text or a packed value", other.data_type())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn stored(value: &Stored) -> ValueRef<'_> {
        match value {
            Stored::Text(text) => ValueRef::Text(text.as_bytes()),
            Stored::Packed(bytes) => ValueRef::Blob(bytes),
        }
    }

    #[test]
    fn short_values_stay_text_and_long_ones_pack_and_come_back() {
        let short = r#"[{"EventId":1}]"#.to_owned();
        assert!(matches!(pack(short.clone()), Stored::Text(ref t) if *t == short));
        let long = format!("[{}]", vec![r#"{"EventType":"StepStarted","Id":"abc","Name":"step"}"#; 100].join(","));
        let packed = pack(long.clone());
        let Stored::Packed(bytes) = &packed else { panic!("a long value is packed") };
        assert!(bytes.len() * 10 < long.len(), "{} bytes packed to {}", long.len(), bytes.len());
        assert_eq!(unpack(stored(&packed)).unwrap(), long);
    }

    #[test]
    fn damaged_values_are_errors_not_panics_or_huge_allocations() {
        let long = "x".repeat(5000);
        let Stored::Packed(good) = pack(long) else { panic!("a long value is packed") };
        // A length no block of this size can unpack to.
        let mut claims_too_much = good.clone();
        claims_too_much[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(unpack(ValueRef::Blob(&claims_too_much)).unwrap_err().contains("claims"));
        // A block cut short, a length that does not match, no room for a length, not UTF-8.
        assert!(unpack(ValueRef::Blob(&good[..good.len() - 3])).is_err());
        let mut claims_less = good.clone();
        claims_less[..4].copy_from_slice(&10u32.to_le_bytes());
        assert!(unpack(ValueRef::Blob(&claims_less)).is_err());
        assert!(unpack(ValueRef::Blob(&[1, 2])).unwrap_err().contains("too short"));
        assert!(unpack(ValueRef::Text(&[0xff, 0xfe])).unwrap_err().contains("UTF-8"));
        assert!(unpack(ValueRef::Integer(3)).is_err());
        let binary = lz4_flex::block::compress_prepend_size(&[0xff; 2000]);
        assert!(unpack(ValueRef::Blob(&binary)).unwrap_err().contains("UTF-8"));
    }
}
