//! JSON objects that repeat a key. serde's derived models refuse them ("duplicate
//! field", or a type error when the earlier value has another type than the field's);
//! most JSON parsers (JavaScript's, Python's, Go's) keep the last value, and senders
//! built on them never notice they sent one. callhook reads such a payload again with
//! the last value of each key, and notes it on the events.
//!
//! Only a payload that failed to parse is checked, so a clean one pays nothing.

use std::collections::HashSet;
use std::fmt;

use serde::Deserializer;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// The note put on events read from a payload that repeated a key.
pub(crate) const NOTE: &str = "the payload repeats a key; the last value was used";

/// Whether `json` was refused because an object in it repeats a key: a data error
/// (not a syntax error) on a payload that does repeat one.
pub(crate) fn refused_for_a_repeated_key(error: &serde_json::Error, json: &[u8]) -> bool {
    error.is_data() && (error.to_string().starts_with("duplicate field") || repeats_a_key(json))
}

/// Whether any object in `json` (at any depth) has a key twice; `false` for text that
/// is not JSON.
pub(crate) fn repeats_a_key(json: &[u8]) -> bool {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    matches!(Scan.deserialize(&mut deserializer), Ok(true))
}

/// `json` with every repeated key reduced to its last value, or `None` if it is not
/// JSON. Key order may change; nothing else does.
pub(crate) fn last_wins(json: &[u8]) -> Option<Vec<u8>> {
    // serde_json's `Value` keeps the last value of a repeated key.
    let value: serde_json::Value = serde_json::from_slice(json).ok()?;
    serde_json::to_vec(&value).ok()
}

/// Walks a JSON value; `true` if an object in it repeats a key.
#[derive(Clone, Copy)]
struct Scan;

impl<'de> DeserializeSeed<'de> for Scan {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        // Owned keys: an escaped key must compare equal to its unescaped twin. This
        // runs only on a payload that already failed to parse.
        let mut keys: HashSet<String> = HashSet::new();
        let mut repeated = false;
        while let Some(key) = map.next_key::<String>()? {
            repeated |= !keys.insert(key);
            repeated |= map.next_value_seed(Scan)?;
        }
        Ok(repeated)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut repeated = false;
        while let Some(inner) = seq.next_element_seed(Scan)? {
            repeated |= inner;
        }
        Ok(repeated)
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Call {
        id: String,
        #[serde(default)]
        status: Option<String>,
    }

    #[test]
    fn a_repeated_key_is_recognised_and_its_last_value_kept() {
        let body = br#"{"id":"c1","status":"ringing","status":"ended"}"#;
        let error = serde_json::from_slice::<Call>(body).unwrap_err();
        assert!(refused_for_a_repeated_key(&error, body), "{error}");
        let fixed = last_wins(body).unwrap();
        let call: Call = serde_json::from_slice(&fixed).unwrap();
        assert_eq!((call.id.as_str(), call.status.as_deref()), ("c1", Some("ended")));

        let other = br#"{"status":"x"}"#;
        let error = serde_json::from_slice::<Call>(other).unwrap_err();
        assert!(!refused_for_a_repeated_key(&error, other));
        assert_eq!(last_wins(b"{not json"), None);
    }

    #[test]
    fn an_earlier_value_of_another_type_is_recognised_too() {
        // serde reads the first value against the field's type and fails on it before it
        // sees the key again.
        let body = br#"{"id":7,"id":"c1"}"#;
        let error = serde_json::from_slice::<Call>(body).unwrap_err();
        assert!(!error.to_string().starts_with("duplicate field"), "{error}");
        assert!(refused_for_a_repeated_key(&error, body));
        let call: Call = serde_json::from_slice(&last_wins(body).unwrap()).unwrap();
        assert_eq!(call.id, "c1");
    }

    #[test]
    fn repeats_are_found_at_any_depth_and_only_within_one_object() {
        assert!(repeats_a_key(br#"{"a":[{"b":1},{"c":{"d":1,"d":2}}]}"#));
        assert!(repeats_a_key(br#"{"a\u0062":1,"ab":2}"#), "an escaped key is the same key");
        assert!(!repeats_a_key(br#"{"a":{"b":1},"b":{"a":2},"c":[{"a":1},{"a":1}]}"#));
        assert!(!repeats_a_key(br#"{"a":1,"a""#), "not JSON");
        assert!(!repeats_a_key(b"[1,2,3]"));
    }
}
