//! Serde readers that borrow where serde's own impls allocate (optional strings, open
//! enums; the lenient readers borrow in [`super::lenient`] itself, `text`), a JSON entry
//! point that checks UTF-8 once, and a string join that allocates once: what the
//! providers' models and normalizers share.
//!
//! A provider's hot path parses the body once into views that borrow from it, and
//! allocates only the strings the normalized event keeps. Each reader here accepts
//! exactly what the impl it replaces accepts and gives the same value, borrowed when the
//! JSON string has no escapes.

// Used by the provider folders, each behind its feature: with none enabled, unused.
#![allow(dead_code)]

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// `body` parsed as JSON, checking it is UTF-8 once for the whole body rather than
/// once per borrowed string (what `serde_json::from_slice` does). A body that is not
/// UTF-8 is left to `from_slice`, which gives the same result as before (it accepts
/// invalid bytes in strings it skips).
pub(crate) fn from_json<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

/// `parts` concatenated, in one allocation of the exact size (`format!` grows its buffer
/// as it goes). An array rather than a slice, so the loop is unrolled; one-byte parts
/// (the `:` and `.` separators) are pushed as a character rather than copied with a call
/// to `memcpy`.
pub(crate) fn join<const N: usize>(parts: [&str; N]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        match part.as_bytes() {
            // A one-byte string is one ASCII character.
            &[byte] => out.push(char::from(byte)),
            _ => out.push_str(part),
        }
    }
    out
}

/// A field read as type `T` (accepting and refusing exactly what `T` does), then
/// dropped: for views that must be as strict as a model but do not keep every field
/// (`#[serde(borrow, default)] field: Checked<Option<Referral<'a>>>`). Zero-sized, so a
/// view with several of them stays small to move.
pub(crate) struct Checked<T>(PhantomData<fn() -> T>);

impl<T> Default for Checked<T> {
    fn default() -> Self {
        Checked(PhantomData)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(|_| Checked(PhantomData))
    }
}

/// A string borrowed from the input when it has no escapes, for `Option<Cow<'a, str>>`
/// fields (`#[serde(borrow, default, deserialize_with = "borrowed::option_str")]`).
/// Serde borrows a bare `Cow<'a, str>` field marked `borrow`, but reads an
/// `Option<Cow<'a, str>>` through `Cow`'s own impl, which always allocates a `String`.
/// Null and absent are `None`, as for any `Option`.
pub(crate) fn option_str<'de: 'a, 'a, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    deserializer.deserialize_option(OptionVisitor(CowStrVisitor))
}

/// An open enum (`crate::wire::open_enum!`) read from a borrowed string: its serde impl
/// reads a `Cow<str>` through `Cow`'s own impl, which allocates a `String` to match it
/// against the known values (`#[serde(deserialize_with = "borrowed::open_enum")]`).
pub(crate) fn open_enum<'de, D: Deserializer<'de>, T: for<'s> From<&'s str>>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_str(EnumVisitor(PhantomData))
}

/// [`open_enum`] for `Option` fields (`#[serde(default, deserialize_with = "borrowed::option_open_enum")]`).
pub(crate) fn option_open_enum<'de, D: Deserializer<'de>, T: for<'s> From<&'s str>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    deserializer.deserialize_option(OptionVisitor(EnumVisitor(PhantomData)))
}

/// `Option<T>`'s serde impl, with `T` read by the wrapped visitor.
struct OptionVisitor<V>(V);

impl<'de, V: Visitor<'de> + Copy> Visitor<'de> for OptionVisitor<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("option")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self.0).map(Some)
    }
}

/// A string as `String`'s serde impl reads it (strings, or bytes that are UTF-8), kept
/// borrowed when the input allows.
#[derive(Clone, Copy)]
struct CowStrVisitor;

impl<'de> Visitor<'de> for CowStrVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        std::str::from_utf8(v).map(Cow::Borrowed).map_err(|_| E::invalid_value(de::Unexpected::Bytes(v), &self))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        std::str::from_utf8(v)
            .map(|v| Cow::Owned(v.to_owned()))
            .map_err(|_| E::invalid_value(de::Unexpected::Bytes(v), &self))
    }
}

/// An open enum from a string, as its own impl reads it, without the `String`.
struct EnumVisitor<T>(PhantomData<fn() -> T>);

impl<T> Clone for EnumVisitor<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for EnumVisitor<T> {}

impl<'de, T: for<'s> From<&'s str>> Visitor<'de> for EnumVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::from(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<T, E> {
        std::str::from_utf8(v).map(T::from).map_err(|_| E::invalid_value(de::Unexpected::Bytes(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use serde::Deserialize;
    use time::OffsetDateTime;

    use crate::wire::lenient;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Borrowed<'a> {
        #[serde(borrow, default, deserialize_with = "lenient::text")]
        id: Option<Cow<'a, str>>,
        #[serde(default, deserialize_with = "lenient::unsigned")]
        duration: Option<u64>,
        #[serde(default, deserialize_with = "lenient::time")]
        at: Option<OffsetDateTime>,
        #[serde(default, deserialize_with = "lenient::ignored")]
        other: (),
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Owned {
        #[serde(default, deserialize_with = "crate::wire::lenient::string")]
        id: Option<String>,
        #[serde(default, deserialize_with = "crate::wire::lenient::unsigned")]
        duration: Option<u64>,
        #[serde(default, deserialize_with = "crate::wire::lenient::time")]
        at: Option<OffsetDateTime>,
        #[serde(default, deserialize_with = "crate::wire::lenient::string")]
        other: Option<String>,
    }

    #[test]
    fn borrowed_readers_accept_and_refuse_what_the_owned_ones_do() {
        let cases = [
            r#"{"id":771201,"duration":"120","at":"2026-11-28T10:30:00Z","other":1}"#,
            r#"{"id":" a\u00e9 ","duration":120.4,"at":"2026-11-28 10:30:00","other":"x"}"#,
            r#"{"id":"","duration":null,"at":"","other":null}"#,
            r#"{"id":-3,"duration":-1,"other":true}"#,
            r#"{"id":1.5,"duration":"7.5"}"#,
            r#"{"id":true,"duration":"1e3"}"#,
            r#"{"duration":"soon"}"#,
            r#"{"at":"yesterday"}"#,
            r#"{"id":{}}"#,
            r#"{"other":[]}"#,
            r#"{"duration":true}"#,
        ];
        for json in cases {
            let borrowed = serde_json::from_str::<Borrowed<'_>>(json);
            let owned = serde_json::from_str::<Owned>(json);
            match (borrowed, owned) {
                (Ok(b), Ok(o)) => {
                    assert_eq!((b.id.as_deref(), b.duration, b.at), (o.id.as_deref(), o.duration, o.at), "{json}")
                }
                (Err(b), Err(o)) => assert_eq!(b.to_string(), o.to_string(), "{json}"),
                (b, o) => panic!("{json}: borrowed {b:?}, owned {o:?}"),
            }
        }
        let plain: Borrowed<'_> = serde_json::from_str(r#"{"id":" abc "}"#).unwrap();
        assert!(matches!(plain.id, Some(Cow::Borrowed("abc"))));
    }

    crate::wire::open_enum! {
        /// A test enum.
        pub enum Color {
            /// Red.
            Red = "red",
        }
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Fast<'a> {
        #[serde(borrow, default, deserialize_with = "super::option_str")]
        text: Option<Cow<'a, str>>,
        #[serde(default, deserialize_with = "super::option_open_enum")]
        color: Option<Color>,
        #[serde(deserialize_with = "super::open_enum")]
        required: Color,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Serde<'a> {
        #[serde(borrow, default)]
        text: Option<Cow<'a, str>>,
        #[serde(default)]
        color: Option<Color>,
        required: Color,
    }

    #[test]
    fn optional_strings_and_open_enums_read_as_serde_reads_them_and_borrow() {
        let cases = [
            r#"{"text":"plain","color":"red","required":"blue"}"#,
            r#"{"text":"esc\u00e9\/","color":null,"required":"red"}"#,
            r#"{"text":null,"required":"r\u00e9d"}"#,
            r#"{"required":"red"}"#,
            r#"{"text":5,"required":"red"}"#,
            r#"{"color":7,"required":"red"}"#,
            r#"{"required":null}"#,
            r#"{"text":"x"}"#,
            r#"["a","red","red"]"#,
        ];
        for json in cases {
            match (serde_json::from_str::<Fast<'_>>(json), serde_json::from_str::<Serde<'_>>(json)) {
                (Ok(fast), Ok(serde)) => assert_eq!(
                    (fast.text.as_deref(), fast.color, fast.required),
                    (serde.text.as_deref(), serde.color, serde.required),
                    "{json}"
                ),
                (Err(fast), Err(serde)) => assert_eq!(fast.to_string(), serde.to_string(), "{json}"),
                (fast, serde) => panic!("{json}: fast {fast:?}, serde {serde:?}"),
            }
        }
        let fast: Fast<'_> = serde_json::from_str(r#"{"text":"plain","required":"red"}"#).unwrap();
        assert!(matches!(fast.text, Some(Cow::Borrowed("plain"))));
    }

    #[test]
    fn join_concatenates() {
        assert_eq!(super::join(["123", ":", "RECORD"]), "123:RECORD");
        assert_eq!(super::join([]), "");
        assert_eq!(super::join(["é", ":", "", "x"]), "é:x");
    }
}
