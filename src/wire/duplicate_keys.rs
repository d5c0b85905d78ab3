//! JSON objects that repeat a key. serde's derived models refuse them ("duplicate
//! field"); most JSON parsers (JavaScript's, Python's, Go's) keep the last value, and
//! senders built on them never notice they sent one. callhook reads such a payload
//! again with the last value of each key, and notes it on the events.

/// The note put on events read from a payload that repeated a key.
pub(crate) const NOTE: &str = "the payload repeats a key; the last value was used";

/// Whether serde refused a payload for a repeated key.
pub(crate) fn is_duplicate_key(error: &serde_json::Error) -> bool {
    error.is_data() && error.to_string().starts_with("duplicate field")
}

/// `json` with every repeated key reduced to its last value, or `None` if it is not
/// JSON. Key order may change; nothing else does.
pub(crate) fn last_wins(json: &[u8]) -> Option<Vec<u8>> {
    // serde_json's `Value` keeps the last value of a repeated key.
    let value: serde_json::Value = serde_json::from_slice(json).ok()?;
    serde_json::to_vec(&value).ok()
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
        assert!(is_duplicate_key(&error), "{error}");
        let fixed = last_wins(body).unwrap();
        let call: Call = serde_json::from_slice(&fixed).unwrap();
        assert_eq!((call.id.as_str(), call.status.as_deref()), ("c1", Some("ended")));

        let other = serde_json::from_slice::<Call>(br#"{"status":"x"}"#).unwrap_err();
        assert!(!is_duplicate_key(&other));
        assert_eq!(last_wins(b"{not json"), None);
    }
}
