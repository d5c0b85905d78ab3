//! Lenient readers for payloads as providers really send them (issue 21): ids and
//! numbers as numbers or strings, whole numbers as floats (`1764590400000.0`), times as
//! unix seconds, unix milliseconds or ISO 8601 text, `null` or an empty string for any
//! optional value, `null` for a list.
//!
//! Each reader is used as `#[serde(default, deserialize_with = "lenient::…")]`. The
//! scalar ones read the value once through one visitor ([`ScalarVisitor`]) that borrows
//! the input's strings and converts them in place, so the common path allocates nothing.
//!
//! Two flavours of each scalar reader:
//!
//! - the readers at the top level ([`int`], [`float`], [`boolean`], [`timestamp`], ...)
//!   accept every shape above and refuse anything else with a serde error, for a field
//!   whose bad value should fail the parse;
//! - the readers in [`lossy`] accept the same shapes and read anything else (another
//!   type, an object, a list, a number out of range, text that is no number or time) as
//!   absent: for optional fields that are not identity, where one unreadable value must
//!   not cost the whole event.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(trim(v)).filter(|v| !v.is_empty()).map(Cow::Borrowed))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(trim(v)).filter(|v| !v.is_empty()).map(|v| Cow::Owned(v.to_owned())))
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

/// `v` without leading and trailing whitespace, as [`str::trim`] has it; the common case,
/// a value that starts and ends with a visible ASCII character, is answered from its two
/// end bytes instead of by decoding characters from both ends (the lenient readers trim
/// every string they read).
fn trim(v: &str) -> &str {
    let visible = |byte: Option<&u8>| byte.is_some_and(|b| b.is_ascii() && !matches!(b, b' ' | b'\t'..=b'\r'));
    if visible(v.as_bytes().first()) && visible(v.as_bytes().last()) { v } else { v.trim() }
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
    deserializer
        .deserialize_any(ScalarVisitor { read: |_| Ok(Some(())), expecting: "a string or a number", lossy: false })
        .map(drop)
}

/// A non-negative whole number as a number or numeric string; empty, null or
/// negative is absent, a fraction is rounded.
pub(crate) fn unsigned<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    deserializer.deserialize_any(ScalarVisitor { read: read_unsigned, expecting: "a whole number", lossy: false })
}

/// An RFC 3339 time, or `YYYY-MM-DD HH:MM:SS` read as UTC; empty or null is absent.
pub(crate) fn time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error> {
    deserializer.deserialize_any(ScalarVisitor { read: read_time, expecting: "an RFC 3339 time", lossy: false })
}

/// A whole number: a JSON integer, a float with no fraction (`120.0`) or a numeric
/// string (`"120"`, `"120.0"`); null or empty is absent.
pub(crate) fn int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    deserializer.deserialize_any(ScalarVisitor { read: read_int, expecting: "a whole number", lossy: false })
}

/// A finite number, or a numeric string; null or empty is absent.
pub(crate) fn float<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    deserializer.deserialize_any(ScalarVisitor { read: read_float, expecting: "a number", lossy: false })
}

/// `true`/`false`, `"true"`/`"false"` (any case), `0`/`1` or `"0"`/`"1"`; null or
/// empty is absent.
pub(crate) fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    deserializer.deserialize_any(ScalarVisitor { read: read_bool, expecting: "a boolean", lossy: false })
}

/// A point in time in any shape providers send:
///
/// - a unix time as an integer, a float or a numeric string, read as **seconds when its
///   magnitude is below 10¹¹ and milliseconds otherwise**. The two ranges cannot be
///   confused for any real event: 10¹¹ seconds is the year 5138, while 10¹¹
///   milliseconds is March 1973, before any of these providers existed. A fraction is
///   kept (to the nanosecond);
/// - RFC 3339 (`2026-12-01T10:00:00Z`, `+02:00`, fractions), also with a space for the
///   `T`; ISO 8601 with no offset, or `YYYY-MM-DD HH:MM:SS`, read as UTC; other
///   ISO 8601 forms (`20261201T100000Z`);
/// - null or an empty string: absent.
pub(crate) fn timestamp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error> {
    deserializer.deserialize_any(ScalarVisitor {
        read: read_timestamp,
        expecting: "a unix or ISO 8601 time",
        lossy: false,
    })
}

/// A list that may be `null` (read as empty).
pub(crate) fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// The readers of the parent module, reading a value they cannot read as absent
/// instead of failing: for optional fields that are not identity. A field read with
/// one of these never fails the parse (the value still has to be well-formed JSON).
pub(crate) mod lossy {
    use super::*;

    /// [`super::text`], with objects, lists and booleans absent.
    pub(crate) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Cow<'de, str>>, D::Error> {
        deserializer.deserialize_any(LossyText)
    }

    /// A string kept exactly as sent (not trimmed, empty kept), borrowed when it has no
    /// escapes; a number as its text; anything else absent. For optional text whose
    /// bytes matter (transcripts, URLs), where [`text`] would trim.
    pub(crate) fn verbatim<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Cow<'de, str>>, D::Error> {
        deserializer.deserialize_any(Verbatim)
    }

    /// [`verbatim`], absent as empty: for a text field that is not optional in the model.
    pub(crate) fn verbatim_or_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        Ok(verbatim(deserializer)?.unwrap_or_default())
    }

    /// An optional open enum (`crate::wire::open_enum!`) read from a string (or a
    /// number's text), borrowed; anything else absent.
    pub(crate) fn open_enum<'de, D: Deserializer<'de>, T: for<'s> From<&'s str>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        Ok(verbatim(deserializer)?.map(|value| T::from(&value)))
    }

    /// [`super::unsigned`], anything else absent.
    pub(crate) fn unsigned<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
        deserializer.deserialize_any(ScalarVisitor { read: read_unsigned, expecting: "a whole number", lossy: true })
    }

    /// [`super::int`], anything else absent.
    pub(crate) fn int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
        deserializer.deserialize_any(ScalarVisitor { read: read_int, expecting: "a whole number", lossy: true })
    }

    /// [`super::float`], anything else absent.
    pub(crate) fn float<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
        deserializer.deserialize_any(ScalarVisitor { read: read_float, expecting: "a number", lossy: true })
    }

    /// [`super::boolean`], anything else absent.
    pub(crate) fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
        deserializer.deserialize_any(ScalarVisitor { read: read_bool, expecting: "a boolean", lossy: true })
    }

    /// [`super::timestamp`], anything else absent.
    pub(crate) fn timestamp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error> {
        deserializer.deserialize_any(ScalarVisitor {
            read: read_timestamp,
            expecting: "a unix or ISO 8601 time",
            lossy: true,
        })
    }

    /// [`super::time`], anything else absent.
    pub(crate) fn time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error> {
        deserializer.deserialize_any(ScalarVisitor { read: read_time, expecting: "an RFC 3339 time", lossy: true })
    }

    /// An optional nested value (an object of a model's own type) that is absent when
    /// it is not a `T`: a string, a number, or an object with a bad member. The value
    /// is read into a borrowed raw JSON slice first, then as `T`: use it only where a
    /// model borrows from a `serde_json` input (the providers' models all do).
    pub(crate) fn object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        let raw: Option<&'de serde_json::value::RawValue> = Deserialize::deserialize(deserializer)?;
        Ok(raw.and_then(|raw| serde_json::from_str(raw.get()).ok()))
    }

    /// A list that may be `null`; anything that is not a list is read as empty.
    pub(crate) fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
        struct ListVisitor<T>(std::marker::PhantomData<fn() -> T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = Vec<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(out)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Vec::new())
            }

            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }

            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
        }

        deserializer.deserialize_any(ListVisitor(std::marker::PhantomData))
    }

    /// The visitor of [`verbatim`].
    struct Verbatim;

    impl<'de> Visitor<'de> for Verbatim {
        type Value = Option<Cow<'de, str>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a number")
        }

        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            TextVisitor.visit_i64(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            TextVisitor.visit_u64(v)
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            TextVisitor.visit_f64(v)
        }

        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(Verbatim)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            LossyText.visit_seq(seq)
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            LossyText.visit_map(map)
        }
    }

    /// [`super::text`] that is absent for what it does not read.
    struct LossyText;

    impl<'de> Visitor<'de> for LossyText {
        type Value = Option<Cow<'de, str>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a number")
        }

        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            TextVisitor.visit_borrowed_str(v)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            TextVisitor.visit_str(v)
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            TextVisitor.visit_i64(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            TextVisitor.visit_u64(v)
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            TextVisitor.visit_f64(v)
        }

        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(LossyText)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
}

/// A JSON scalar as the visitor saw it, strings borrowed for the call only.
#[derive(Clone, Copy, Debug)]
enum Scalar<'s> {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// Trimmed and not empty.
    Text(&'s str),
}

impl Scalar<'_> {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match *self {
            Scalar::Bool(v) => de::Unexpected::Bool(v),
            Scalar::Int(v) => de::Unexpected::Signed(v),
            Scalar::Uint(v) => de::Unexpected::Unsigned(v),
            Scalar::Float(v) => de::Unexpected::Float(v),
            Scalar::Text(v) => de::Unexpected::Str(v),
        }
    }
}

/// A conversion of a present scalar: `Ok(None)` absent, `Err(())` unreadable.
type Read<T> = fn(Scalar<'_>) -> Result<Option<T>, ()>;

/// Reads one value of any JSON type and converts it with `read`: null and empty
/// strings are absent; an unreadable value (or an object or list) is an error, or
/// absent when `lossy`.
struct ScalarVisitor<T> {
    read: Read<T>,
    expecting: &'static str,
    lossy: bool,
}

impl<T> ScalarVisitor<T> {
    fn convert<E: de::Error>(&self, scalar: Scalar<'_>) -> Result<Option<T>, E> {
        match (self.read)(scalar) {
            Ok(value) => Ok(value),
            Err(()) if self.lossy => Ok(None),
            Err(()) => Err(E::invalid_value(scalar.unexpected(), &self.expecting)),
        }
    }
}

impl<'de, T> Visitor<'de> for ScalarVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.convert(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.convert(Scalar::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.convert(Scalar::Uint(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.convert(Scalar::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match trim(v) {
            "" => Ok(None),
            v => self.convert(Scalar::Text(v)),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !self.lossy {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if !self.lossy {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// A finite number parsed from text (Rust's own parser also reads `inf` and `NaN`).
fn finite(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// `f` as an `i64` when it is whole and in range.
fn whole(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; `i64::MAX as f64` rounds up to it.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i64)
}

fn read_int(scalar: Scalar<'_>) -> Result<Option<i64>, ()> {
    match scalar {
        Scalar::Int(v) => Ok(Some(v)),
        Scalar::Uint(v) => i64::try_from(v).map(Some).map_err(drop),
        Scalar::Float(v) => whole(v).map(Some).ok_or(()),
        Scalar::Text(v) => match v.parse::<i64>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => finite(v).and_then(whole).map(Some).ok_or(()),
        },
        Scalar::Bool(_) => Err(()),
    }
}

fn read_unsigned(scalar: Scalar<'_>) -> Result<Option<u64>, ()> {
    match scalar {
        Scalar::Int(v) => Ok(u64::try_from(v).ok()),
        Scalar::Uint(v) => Ok(Some(v)),
        Scalar::Float(v) => Ok(rounded_unsigned(v)),
        Scalar::Text(v) => match v.parse::<u64>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => v.parse::<f64>().map(rounded_unsigned).map_err(drop),
        },
        Scalar::Bool(_) => Err(()),
    }
}

/// A non-negative finite float rounded to a whole number (saturating); else absent.
fn rounded_unsigned(f: f64) -> Option<u64> {
    (f.is_finite() && f >= 0.0).then(|| f.round() as u64)
}

fn read_float(scalar: Scalar<'_>) -> Result<Option<f64>, ()> {
    match scalar {
        Scalar::Int(v) => Ok(Some(v as f64)),
        Scalar::Uint(v) => Ok(Some(v as f64)),
        Scalar::Float(v) => Ok(Some(v)),
        Scalar::Text(v) => finite(v).map(Some).ok_or(()),
        Scalar::Bool(_) => Err(()),
    }
}

fn read_bool(scalar: Scalar<'_>) -> Result<Option<bool>, ()> {
    match scalar {
        Scalar::Bool(v) => Ok(Some(v)),
        Scalar::Int(0) | Scalar::Uint(0) => Ok(Some(false)),
        Scalar::Int(1) | Scalar::Uint(1) => Ok(Some(true)),
        Scalar::Text("0") => Ok(Some(false)),
        Scalar::Text("1") => Ok(Some(true)),
        Scalar::Text(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Scalar::Text(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        _ => Err(()),
    }
}

/// Text only (what [`time`] has always read): RFC 3339 or `YYYY-MM-DD HH:MM:SS` UTC.
fn read_time(scalar: Scalar<'_>) -> Result<Option<OffsetDateTime>, ()> {
    match scalar {
        Scalar::Text(v) => super::parse_rfc3339(v).or_else(|| super::parse_space_separated_utc(v)).map(Some).ok_or(()),
        _ => Err(()),
    }
}

/// Below this magnitude a unix time is seconds, above it milliseconds (see
/// [`timestamp`]).
const MILLIS_FROM: f64 = 1e11;

fn read_timestamp(scalar: Scalar<'_>) -> Result<Option<OffsetDateTime>, ()> {
    let time = match scalar {
        Scalar::Int(v) => unix_int(v),
        Scalar::Uint(v) => i64::try_from(v).ok().and_then(unix_int),
        Scalar::Float(v) => unix_float(v),
        Scalar::Text(v) => match v.as_bytes().first() {
            Some(b'0'..=b'9' | b'-' | b'+' | b'.') if !looks_like_date(v) => match v.parse::<i64>() {
                Ok(n) => unix_int(n),
                Err(_) => finite(v).and_then(unix_float),
            },
            _ => None,
        }
        .or_else(|| iso8601(v)),
        Scalar::Bool(_) => None,
    };
    time.map(Some).ok_or(())
}

/// `YYYY-…`: a date, not a number (a number has no `-` after its first character).
fn looks_like_date(text: &str) -> bool {
    text.len() >= 10 && text.as_bytes().get(4) == Some(&b'-')
}

fn unix_int(v: i64) -> Option<OffsetDateTime> {
    if (v.unsigned_abs() as f64) < MILLIS_FROM {
        OffsetDateTime::from_unix_timestamp(v).ok()
    } else {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000).ok()
    }
}

fn unix_float(v: f64) -> Option<OffsetDateTime> {
    if let Some(n) = whole(v) {
        return unix_int(n);
    }
    if !v.is_finite() {
        return None;
    }
    // Whole units and the fraction apart: `v * 1e9` would lose the nanoseconds (and
    // more, for milliseconds) to the float's 53 bits.
    let unit: f64 = if v.abs() < MILLIS_FROM { 1e9 } else { 1e6 };
    let units = whole(v.trunc())?;
    let nanos = i128::from(units) * unit as i128 + (v.fract() * unit).round() as i128;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// RFC 3339, with a space for the `T` too; ISO 8601 with no offset (UTC); other ISO 8601.
fn iso8601(text: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Iso8601;
    if let Some(time) = super::parse_rfc3339(text) {
        return Some(time);
    }
    let bytes = text.as_bytes();
    if matches!(bytes.get(10), Some(b' ' | b't')) && bytes.len() <= 64 {
        // The same text with a `T`, on the stack: a space is one byte, so still UTF-8.
        let mut buffer = [0u8; 64];
        let buffer = &mut buffer[..bytes.len()];
        buffer.copy_from_slice(bytes);
        buffer[10] = b'T';
        if let Some(time) = std::str::from_utf8(buffer).ok().and_then(super::parse_rfc3339) {
            return Some(time);
        }
    }
    let naive = time::macros::format_description!(
        version = 2,
        "[year]-[month]-[day][first [T][t][ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    if let Ok(time) = time::PrimitiveDateTime::parse(text, &naive) {
        return Some(time.assume_utc());
    }
    OffsetDateTime::parse(text, &Iso8601::DEFAULT).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn trim_agrees_with_the_standard_trim() {
        let cases = [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\n",
            "\u{b}x\u{c}",
            "\u{a0}a",
            "a\u{85}",
            "\u{3000}ab\u{2028}",
            "a b",
            "\u{1f}a\u{7f}",
            "é",
            " é ",
            "+55 11",
            "\r\n",
        ];
        for case in cases {
            assert_eq!(trim(case), case.trim(), "{case:?}");
        }
    }

    #[derive(Deserialize, Debug, PartialEq, Default)]
    #[serde(default)]
    struct Strict {
        #[serde(deserialize_with = "int")]
        int: Option<i64>,
        #[serde(deserialize_with = "float")]
        float: Option<f64>,
        #[serde(deserialize_with = "boolean")]
        boolean: Option<bool>,
        #[serde(deserialize_with = "timestamp")]
        at: Option<OffsetDateTime>,
        #[serde(deserialize_with = "list")]
        list: Vec<u8>,
    }

    #[derive(Deserialize, Debug, PartialEq, Default)]
    #[serde(default)]
    struct Lossy<'a> {
        #[serde(deserialize_with = "lossy::int")]
        int: Option<i64>,
        #[serde(deserialize_with = "lossy::unsigned")]
        unsigned: Option<u64>,
        #[serde(deserialize_with = "lossy::float")]
        float: Option<f64>,
        #[serde(deserialize_with = "lossy::boolean")]
        boolean: Option<bool>,
        #[serde(deserialize_with = "lossy::timestamp")]
        at: Option<OffsetDateTime>,
        #[serde(deserialize_with = "lossy::time")]
        time: Option<OffsetDateTime>,
        #[serde(borrow, deserialize_with = "lossy::text")]
        text: Option<Cow<'a, str>>,
        #[serde(deserialize_with = "lossy::list")]
        list: Vec<u8>,
        #[serde(deserialize_with = "lossy::object")]
        object: Option<Strict>,
    }

    fn strict(json: &str) -> Result<Strict, serde_json::Error> {
        serde_json::from_str(json)
    }

    fn field(json: &str) -> String {
        format!("{{{json}}}")
    }

    #[test]
    fn int_reads_integers_whole_floats_and_numeric_strings() {
        for (json, want) in [
            (r#""int":120"#, Some(120)),
            (r#""int":-7"#, Some(-7)),
            (r#""int":120.0"#, Some(120)),
            (r#""int":1764590400000.0"#, Some(1_764_590_400_000)),
            (r#""int":"120""#, Some(120)),
            (r#""int":" 120.0 ""#, Some(120)),
            (r#""int":"1.2e3""#, Some(1200)),
            (r#""int":null"#, None),
            (r#""int":"""#, None),
            ("", None),
        ] {
            assert_eq!(strict(&field(json)).unwrap().int, want, "{json}");
        }
        for json in [
            r#""int":120.5"#,
            r#""int":"12x""#,
            r#""int":"NaN""#,
            r#""int":true"#,
            r#""int":{}"#,
            r#""int":[1]"#,
            r#""int":18446744073709551615"#,
            r#""int":1e300"#,
        ] {
            assert!(strict(&field(json)).is_err(), "{json}");
        }
    }

    #[test]
    fn float_reads_numbers_and_numeric_strings() {
        for (json, want) in [
            (r#""float":0.25"#, Some(0.25)),
            (r#""float":3"#, Some(3.0)),
            (r#""float":"3.5""#, Some(3.5)),
            (r#""float":null"#, None),
            (r#""float":"""#, None),
        ] {
            assert_eq!(strict(&field(json)).unwrap().float, want, "{json}");
        }
        for json in [r#""float":"inf""#, r#""float":"cheap""#, r#""float":false"#, r#""float":{}"#] {
            assert!(strict(&field(json)).is_err(), "{json}");
        }
    }

    #[test]
    fn boolean_reads_booleans_words_and_bits() {
        for (json, want) in [
            (r#""boolean":true"#, Some(true)),
            (r#""boolean":false"#, Some(false)),
            (r#""boolean":"true""#, Some(true)),
            (r#""boolean":"FALSE""#, Some(false)),
            (r#""boolean":1"#, Some(true)),
            (r#""boolean":0"#, Some(false)),
            (r#""boolean":"1""#, Some(true)),
            (r#""boolean":"0""#, Some(false)),
            (r#""boolean":null"#, None),
        ] {
            assert_eq!(strict(&field(json)).unwrap().boolean, want, "{json}");
        }
        for json in [r#""boolean":2"#, r#""boolean":"yes""#, r#""boolean":[]"#] {
            assert!(strict(&field(json)).is_err(), "{json}");
        }
    }

    #[test]
    fn timestamp_reads_seconds_millis_and_iso_8601() {
        let at = datetime!(2025-12-01 12:00 UTC);
        let half = datetime!(2025-12-01 12:00:00.5 UTC);
        for (json, want) in [
            (r#""at":1764590400"#, Some(at)),
            (r#""at":1764590400000"#, Some(at)),
            (r#""at":1764590400000.0"#, Some(at)),
            (r#""at":1764590400.0"#, Some(at)),
            (r#""at":1764590400.5"#, Some(half)),
            (r#""at":1764590400500.0"#, Some(half)),
            (r#""at":"1764590400""#, Some(at)),
            (r#""at":"1764590400000""#, Some(at)),
            (r#""at":"1764590400000.0""#, Some(at)),
            (r#""at":"2025-12-01T12:00:00Z""#, Some(at)),
            (r#""at":"2025-12-01T13:00:00+01:00""#, Some(at)),
            (r#""at":"2025-12-01T12:00:00.5Z""#, Some(half)),
            (r#""at":"2025-12-01 12:00:00Z""#, Some(at)),
            (r#""at":"2025-12-01 12:00:00""#, Some(at)),
            (r#""at":"2025-12-01T12:00:00""#, Some(at)),
            (r#""at":"2025-12-01T12:00:00.500""#, Some(half)),
            (r#""at":"20251201T120000Z""#, Some(at)),
            (r#""at":0"#, Some(OffsetDateTime::UNIX_EPOCH)),
            (r#""at":null"#, None),
            (r#""at":"  ""#, None),
        ] {
            assert_eq!(strict(&field(json)).unwrap().at, want, "{json}");
        }
        // Just below the switch, seconds (the year 5138); at it, milliseconds (1973).
        assert_eq!(strict(r#"{"at":99999999999}"#).unwrap().at.unwrap().year(), 5138);
        assert_eq!(strict(r#"{"at":100000000000}"#).unwrap().at.unwrap().year(), 1973);
        for json in [
            r#""at":"not a time""#,
            r#""at":"2025-13-01T00:00:00Z""#,
            r#""at":true"#,
            r#""at":{"weird":true}"#,
            r#""at":1e300"#,
            r#""at":9223372036854775807"#,
            r#""at":"12:00""#,
        ] {
            assert!(strict(&field(json)).is_err(), "{json}");
        }
    }

    #[test]
    fn list_reads_null_as_empty() {
        assert_eq!(strict(r#"{"list":null}"#).unwrap().list, Vec::<u8>::new());
        assert_eq!(strict(r#"{"list":[1,2]}"#).unwrap().list, [1, 2]);
        assert!(strict(r#"{"list":{}}"#).is_err());
        assert!(strict(r#"{"list":[-1]}"#).is_err());
    }

    #[test]
    fn lossy_readers_read_what_they_cannot_as_absent() {
        let damaged = r#"{"int":{"weird":true},"unsigned":"soon","float":[1,{"a":2}],"boolean":"maybe",
            "at":"not a time","time":1764590400,"text":{"a":[]},"list":{"a":1},"object":{"int":"x"}}"#;
        assert_eq!(serde_json::from_str::<Lossy<'_>>(damaged).unwrap(), Lossy::default());
        let good = r#"{"int":"5","unsigned":5.0,"float":"0.5","boolean":1,"at":1764590400000.0,
            "time":"2025-12-01T12:00:00Z","text":7,"list":null,"object":{"int":"6"}}"#;
        let good: Lossy<'_> = serde_json::from_str(good).unwrap();
        let at = datetime!(2025-12-01 12:00 UTC);
        assert_eq!(
            good,
            Lossy {
                int: Some(5),
                unsigned: Some(5),
                float: Some(0.5),
                boolean: Some(true),
                at: Some(at),
                time: Some(at),
                text: Some("7".into()),
                list: Vec::new(),
                object: Some(Strict { int: Some(6), ..Strict::default() }),
            }
        );
        // Still JSON: a body that is not is an error whatever the reader.
        assert!(serde_json::from_str::<Lossy<'_>>(r#"{"int":{"weird":}"#).is_err());
    }

    #[test]
    fn verbatim_keeps_strings_as_sent_and_numbers_as_text() {
        #[derive(Deserialize)]
        struct Text<'a> {
            #[serde(borrow, default, deserialize_with = "lossy::verbatim")]
            text: Option<Cow<'a, str>>,
        }
        let parse = |json: &'static str| serde_json::from_str::<Text<'static>>(json).unwrap().text;
        assert!(matches!(parse(r#"{"text":" a "}"#), Some(Cow::Borrowed(" a "))));
        assert_eq!(parse(r#"{"text":"a\n"}"#).as_deref(), Some("a\n"));
        assert_eq!(parse(r#"{"text":"a\u00e9"}"#).as_deref(), Some("aé"));
        assert_eq!(parse(r#"{"text":""}"#).as_deref(), Some(""));
        assert_eq!(parse(r#"{"text":551140028922}"#).as_deref(), Some("551140028922"));
        for json in [r#"{"text":null}"#, r#"{"text":true}"#, r#"{"text":{"a":[1]}}"#, r#"{"text":[]}"#, "{}"] {
            assert_eq!(parse(json), None, "{json}");
        }
    }

    #[test]
    fn text_of_a_borrowed_string_borrows() {
        #[derive(Deserialize)]
        struct Text<'a> {
            #[serde(borrow, deserialize_with = "lossy::text")]
            text: Option<Cow<'a, str>>,
        }
        let text: Text<'_> = serde_json::from_str(r#"{"text":" abc "}"#).unwrap();
        assert!(matches!(text.text, Some(Cow::Borrowed("abc"))));
    }
}
