//! Lenient readers for payloads built from templates (CloudTalk) or hand-made tests
//! (WaVoIP): ids and numbers as numbers or strings, empty strings as absent.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};
use time::OffsetDateTime;

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(v.trim()).filter(|v| !v.is_empty()).map(Cow::Borrowed))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.trim()).filter(|v| !v.is_empty()).map(|v| Cow::Owned(v.to_owned())))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

/// A string, number or null, as optional text borrowed from the input when it has
/// no escapes (for `Option<Cow<'a, str>>` fields); empty strings are absent.
pub(crate) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    deserializer.deserialize_any(TextVisitor)
}

/// [`text`], owned: for `Option<String>` fields.
pub(crate) fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    text(deserializer).map(|text| text.map(Cow::into_owned))
}

/// What [`text`] accepts, checked and dropped (a field the event does not keep).
pub(crate) fn ignored<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    struct ScalarVisitor;

    impl<'de> Visitor<'de> for ScalarVisitor {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a number")
        }

        fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
            Ok(())
        }

        fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
            Ok(())
        }

        fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
            Ok(())
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
            Ok(())
        }

        fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
            Ok(())
        }

        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            Ok(())
        }

        fn visit_none<E: de::Error>(self) -> Result<(), E> {
            Ok(())
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(ScalarVisitor)
        }
    }

    deserializer.deserialize_any(ScalarVisitor)
}

/// A non-negative whole number as a number or numeric string; empty, null or
/// negative is absent.
pub(crate) fn unsigned<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let Some(text) = text(deserializer)? else { return Ok(None) };
    if let Ok(n) = text.parse::<u64>() {
        return Ok(Some(n));
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 0.0 => Ok(Some(f.round() as u64)),
        Ok(_) => Ok(None),
        Err(_) => Err(de::Error::invalid_value(de::Unexpected::Str(&text), &"a whole number")),
    }
}

/// An RFC 3339 time, or `YYYY-MM-DD HH:MM:SS` read as UTC; empty or null is absent.
pub(crate) fn time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error> {
    let Some(text) = text(deserializer)? else { return Ok(None) };
    super::parse_rfc3339(&text)
        .or_else(|| super::parse_space_separated_utc(&text))
        .map(Some)
        .ok_or_else(|| de::Error::invalid_value(de::Unexpected::Str(&text), &"an RFC 3339 time"))
}
