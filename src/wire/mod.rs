//! Building blocks for provider wire models, all in one place: open string enums, time
//! parsing, lenient readers for template-built payloads ([`lenient`]) and readers that
//! borrow where serde's own impls allocate ([`borrowed`]).
//!
//! Providers add status and type values over time. An *open enum* has a variant per
//! value callhook knows plus a hidden one for the rest, so a new provider value never
//! fails a parse and is never lost (the pattern of ruma's string enums). The hidden
//! variant cannot be matched on its content: a user's `x.as_str() == "played"` keeps
//! working the day `Played` becomes a variant, where an `Other(s) if s == "played"` arm
//! would silently stop matching.

// Used by the provider folders, each behind its feature: with none enabled, unused.
#![allow(dead_code, unused_macros, unused_imports)]

use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

pub(crate) mod borrowed;
pub(crate) mod duplicate_keys;

/// A value of an open enum that callhook does not know: its string, which only the enum
/// can read (`as_str`).
#[doc(hidden)]
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrivOwnedStr(Box<str>);

impl PrivOwnedStr {
    pub(crate) fn new(value: &str) -> Self {
        Self(value.into())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PrivOwnedStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Declares an open string enum: known variants with their wire names, plus a hidden
/// `_Custom` for the rest, with `as_str`, `From<&str>`, `Display` and serde that
/// round-trips unknown values exactly.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant, )*
            /// A value callhook does not know yet, kept verbatim (read it with `as_str`).
            /// Never holds a known value.
            #[doc(hidden)]
            _Custom($crate::wire::PrivOwnedStr),
        }

        impl $name {
            /// The value as the provider writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::_Custom(other) => other.as_str(),
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )*
                    other => Self::_Custom($crate::wire::PrivOwnedStr::new(other)),
                }
            }
        }

        impl $name {
            /// Whether this is a value callhook knows (a variant of its own).
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::_Custom(_))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(&*value))
            }
        }
    };
}
pub(crate) use open_enum;

/// Parses an RFC 2822 date (`Tue, 01 Dec 2026 10:00:42 +0000`, Twilio's format).
pub(crate) fn parse_rfc2822(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value.trim(), &Rfc2822).ok()
}

/// Parses an RFC 3339 date (`2026-12-01T10:00:42Z`).
pub(crate) fn parse_rfc3339(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value.trim(), &Rfc3339).ok()
}

/// A unix time in whole seconds, as a string (`"1733047242"`, WhatsApp's format).
pub(crate) fn parse_unix_secs(value: &str) -> Option<OffsetDateTime> {
    let secs: i64 = value.trim().parse().ok()?;
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

/// A unix time in milliseconds (Retell's format).
pub(crate) fn from_unix_millis(millis: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()
}

/// Parses `YYYY-MM-DD HH:MM:SS`, read as UTC (the format of some providers' APIs).
pub(crate) fn parse_space_separated_utc(value: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(value.trim(), &format).ok().map(time::PrimitiveDateTime::assume_utc)
}

pub(crate) mod lenient;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    open_enum! {
        /// A test enum.
        pub enum Color {
            /// Red.
            Red = "red",
            /// Light blue.
            LightBlue = "light-blue",
        }
    }

    #[test]
    fn open_enum_round_trips_known_and_unknown_values() {
        assert_eq!(Color::from("light-blue"), Color::LightBlue);
        let mauve = Color::from("mauve");
        assert_eq!((mauve.as_str(), mauve.is_known(), Color::Red.is_known()), ("mauve", false, true));
        let json = serde_json::to_string(&[Color::Red, mauve.clone()]).unwrap();
        assert_eq!(json, r#"["red","mauve"]"#);
        let back: Vec<Color> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, [Color::Red, mauve]);
        assert_eq!(Color::LightBlue.to_string(), "light-blue");
    }

    #[test]
    fn times_parse_from_each_wire_format() {
        assert_eq!(parse_rfc2822("Tue, 01 Dec 2026 10:00:42 +0000"), Some(datetime!(2026-12-01 10:00:42 UTC)));
        assert_eq!(parse_rfc3339("2026-12-01T10:00:42Z"), Some(datetime!(2026-12-01 10:00:42 UTC)));
        assert_eq!(parse_unix_secs("1796119242"), Some(datetime!(2026-12-01 10:00:42 UTC)));
        assert_eq!(from_unix_millis(1_796_119_242_500), Some(datetime!(2026-12-01 10:00:42.5 UTC)));
        assert_eq!(parse_rfc2822("yesterday"), None);
        assert_eq!(parse_unix_secs("17x"), None);
        assert_eq!(parse_space_separated_utc("2026-11-28 10:32:00"), Some(datetime!(2026-11-28 10:32 UTC)));
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Lenient {
        #[serde(default, deserialize_with = "lenient::string")]
        id: Option<String>,
        #[serde(default, deserialize_with = "lenient::unsigned")]
        duration: Option<u64>,
        #[serde(default, deserialize_with = "lenient::time")]
        at: Option<OffsetDateTime>,
    }

    #[test]
    fn lenient_fields_accept_numbers_strings_empties_and_nulls() {
        let parse = |json: &str| serde_json::from_str::<Lenient>(json);
        let a = parse(r#"{"id":771201,"duration":"120","at":"2026-11-28T10:30:00Z"}"#).unwrap();
        assert_eq!(
            a,
            Lenient { id: Some("771201".into()), duration: Some(120), at: Some(datetime!(2026-11-28 10:30 UTC)) }
        );
        let b = parse(r#"{"id":"","duration":null,"at":""}"#).unwrap();
        assert_eq!(b, Lenient { id: None, duration: None, at: None });
        let c = parse(r#"{"at":"2026-11-28 10:30:00","duration":-1}"#).unwrap();
        assert_eq!((c.at, c.duration), (Some(datetime!(2026-11-28 10:30 UTC)), None));
        assert!(parse(r#"{"duration":"soon"}"#).is_err());
        assert!(parse(r#"{"at":"yesterday"}"#).is_err());
    }
}
