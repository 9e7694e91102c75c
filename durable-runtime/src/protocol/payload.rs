//! [`Payload`]: a recorded result, input or error data, kept as the service sent it until it is read.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// A payload of the wire format: text (usually JSON) sent as a JSON string.
///
/// It keeps the JSON string as it arrived, still escaped, so reading an envelope copies each
/// payload once and decodes none of them: a replay unescapes only the payloads its operations read
/// ([`Payload::text`]), and writing the payload out again copies it as it is.
#[derive(Clone)]
pub struct Payload(Box<RawValue>);

impl Payload {
    /// A payload holding `text`.
    pub fn new(text: &str) -> Self {
        // Serializing a string and wrapping the JSON string it makes cannot fail; the fallback
        // (an empty payload) is never taken.
        let raw =
            serde_json::to_string(text).ok().and_then(|json| RawValue::from_string(json).ok()).unwrap_or_else(empty);
        Self(raw)
    }

    /// The text: borrowed from the raw JSON string when it has no escapes, unescaped otherwise.
    pub fn text(&self) -> Cow<'_, str> {
        let raw = self.0.get();
        match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(inner) if !inner.contains('\\') => Cow::Borrowed(inner),
            // A raw value is only ever built from a valid JSON string, so this parse succeeds.
            _ => Cow::Owned(serde_json::from_str::<String>(raw).unwrap_or_default()),
        }
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.text().into_owned()
    }

    /// The payload as it is written on the wire: a JSON string, quotes included.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }
}

fn empty() -> Box<RawValue> {
    RawValue::from_string("\"\"".to_owned()).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

impl From<String> for Payload {
    fn from(text: String) -> Self {
        Self::new(&text)
    }
}

impl From<&str> for Payload {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get() || self.text() == other.text()
    }
}

impl Eq for Payload {}

impl PartialEq<str> for Payload {
    fn eq(&self, other: &str) -> bool {
        self.text() == other
    }
}

impl PartialEq<&str> for Payload {
    fn eq(&self, other: &&str) -> bool {
        self.text() == *other
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text(), f)
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Written out as it came in; a format other than JSON gets the text.
        if serializer.is_human_readable() {
            self.0.serialize(serializer)
        } else {
            serializer.serialize_str(&self.text())
        }
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        if !raw.get().starts_with('"') {
            return Err(serde::de::Error::invalid_type(serde::de::Unexpected::Other("a JSON value"), &"a string"));
        }
        Ok(Self(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_with_and_without_escapes() {
        for text in ["", "7", "plain words", "{\"a\":[1,2]}", "line\nbreak \\ \u{e9}\u{1F600}"] {
            let payload = Payload::new(text);
            assert_eq!(payload.text(), text);
            let json = serde_json::to_string(&payload).unwrap();
            assert_eq!(json, serde_json::to_string(text).unwrap());
            let back: Payload = serde_json::from_str(&json).unwrap();
            assert_eq!(back, payload);
            assert_eq!(back.into_string(), text);
        }
    }

    #[test]
    fn a_payload_is_kept_as_it_was_sent_until_it_is_read() {
        // Another valid spelling of the same text: written back unchanged, read as the same text.
        let sent = r#"{"Result":"caf\u00e9 \"x\""}"#;
        #[derive(Deserialize, Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Details {
            result: Payload,
        }
        let details: Details = serde_json::from_str(sent).unwrap();
        assert_eq!(details.result.as_json(), r#""caf\u00e9 \"x\"""#);
        assert_eq!(details.result.text(), "café \"x\"");
        assert_eq!(details.result, Payload::new("café \"x\""));
        assert_eq!(serde_json::to_string(&details).unwrap(), sent);
    }

    #[test]
    fn only_a_json_string_is_a_payload() {
        for bad in ["7", "null", "{\"a\":1}", "[\"a\"]"] {
            let err = serde_json::from_str::<Payload>(bad).unwrap_err();
            assert!(err.to_string().contains("expected a string"), "{bad}: {err}");
        }
        assert!(serde_json::from_str::<Payload>("\"unterminated").is_err());
    }
}
