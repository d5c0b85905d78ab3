//! Proptest generators of payload shapes providers really send: a valid payload with
//! optional fields removed or set to `null`, and numbers re-encoded (as floats, as
//! strings, numeric strings as numbers), the classes of issue 21.
//!
//! A provider's test lists the fields its payloads cannot do without (`keep`, JSON
//! pointers with `*` for any array index); every other member may be reshaped.

use proptest::prelude::*;
use serde_json::Value;

/// One change to one member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reshape {
    /// The member is absent.
    Remove,
    /// The member is `null`.
    Null,
    /// A whole number is sent as a float (`120` as `120.0`).
    Float,
    /// A number is sent as a string (`120` as `"120"`).
    Text,
    /// A numeric string is sent as a number (`"120"` as `120`).
    Number,
}

/// Every member's JSON pointer, parents before children.
pub fn pointers(value: &Value) -> Vec<String> {
    fn walk(value: &Value, at: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let pointer = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                    out.push(pointer.clone());
                    walk(child, &pointer, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

/// Whether `pointer` is `pattern` (`*` matching any one segment) or one of its parents:
/// reshaping it would reshape a kept field.
fn protects(pattern: &str, pointer: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let pointer: Vec<&str> = pointer.split('/').collect();
    pointer.len() <= pattern.len() && pointer.iter().zip(&pattern).all(|(a, b)| *b == "*" || a == b)
}

/// The members of `value` that may be reshaped, given what must be kept.
pub fn reshapeable(value: &Value, keep: &[&str]) -> Vec<String> {
    pointers(value).into_iter().filter(|pointer| !keep.iter().any(|pattern| protects(pattern, pointer))).collect()
}

/// Applies `reshape` at `pointer`; `false` when it does not apply (the member is gone,
/// or not a number for a number re-encoding).
pub fn apply(value: &mut Value, pointer: &str, reshape: Reshape) -> bool {
    let Some((parent, key)) = pointer.rsplit_once('/') else { return false };
    let key = key.replace("~1", "/").replace("~0", "~");
    match reshape {
        Reshape::Remove => {
            value.pointer_mut(parent).and_then(Value::as_object_mut).and_then(|map| map.remove(&key)).is_some()
        }
        _ => {
            let Some(member) = value.pointer_mut(pointer) else { return false };
            let reshaped = match (reshape, &*member) {
                (Reshape::Null, _) => Value::Null,
                (Reshape::Float, Value::Number(n)) if n.is_i64() || n.is_u64() => {
                    // `120.0` in the wire text, as some JSON encoders write whole floats.
                    match n.as_f64().and_then(serde_json::Number::from_f64) {
                        Some(f) => Value::Number(f),
                        None => return false,
                    }
                }
                (Reshape::Text, Value::Number(n)) => Value::String(n.to_string()),
                (Reshape::Number, Value::String(s)) => match s.parse::<u64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => return false,
                },
                _ => return false,
            };
            *member = reshaped;
            true
        }
    }
}

/// A reshape kind.
pub fn reshape() -> impl Strategy<Value = Reshape> {
    prop_oneof![
        Just(Reshape::Remove),
        Just(Reshape::Null),
        Just(Reshape::Float),
        Just(Reshape::Text),
        Just(Reshape::Number),
    ]
}

/// `value` with up to `most` of its reshapeable members reshaped, and what was done
/// (only the changes that applied).
pub fn reshaped(value: Value, keep: &[&str], most: usize) -> impl Strategy<Value = (Value, Vec<(String, Reshape)>)> {
    let candidates = reshapeable(&value, keep);
    let most = most.min(candidates.len());
    proptest::sample::subsequence(candidates, 0..=most)
        .prop_flat_map(|chosen| {
            let n = chosen.len();
            (Just(chosen), proptest::collection::vec(reshape(), n))
        })
        .prop_map(move |(chosen, kinds)| {
            let mut value = value.clone();
            let mut done = Vec::new();
            for (pointer, kind) in chosen.into_iter().zip(kinds) {
                if apply(&mut value, &pointer, kind) {
                    done.push((pointer, kind));
                }
            }
            (value, done)
        })
}

#[test]
fn reshapes_apply_where_they_can_and_keep_what_is_kept() {
    let mut value = serde_json::json!({"id": "a", "n": 120, "s": "7", "list": [{"x": 1}]});
    assert_eq!(reshapeable(&value, &["/id", "/list/*/x"]), ["/n", "/s"]);
    assert!(apply(&mut value, "/n", Reshape::Float));
    assert_eq!(value["n"].to_string(), "120.0");
    assert!(apply(&mut value, "/s", Reshape::Number));
    assert!(!apply(&mut value, "/id", Reshape::Float));
    assert!(apply(&mut value, "/list/0/x", Reshape::Text));
    assert!(apply(&mut value, "/list", Reshape::Remove));
    assert!(!apply(&mut value, "/list/0/x", Reshape::Null));
    assert_eq!(value, serde_json::json!({"id": "a", "n": 120.0, "s": 7}));
}
