//! [`FormParams`]: the decoded `application/x-www-form-urlencoded` parameters of one
//! Twilio request, in the order sent, borrowed from the body where nothing was escaped.

use std::borrow::Cow;

/// Every parameter of a form body or query string, in order, repeated keys included.
///
/// Decoding is `form_urlencoded`'s (`+` is a space, `%XX` escapes, invalid UTF-8
/// replaced); nothing is dropped, so parameters callhook does not model stay readable.
///
/// ```
/// use callhook::providers::twilio::FormParams;
///
/// let params = FormParams::parse(b"From=%2B15551234567&Body=Hi+there&MediaUrl0=");
/// assert_eq!(params.get("From"), Some("+15551234567"));
/// assert_eq!(params.get("Body"), Some("Hi there"));
/// assert_eq!(params.get("MediaUrl0"), Some(""));
/// assert_eq!(params.get("Missing"), None);
/// assert_eq!(params.len(), 3);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormParams<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> FormParams<'a> {
    /// Decodes a form body (or a query string without its `?`).
    pub fn parse(input: &'a [u8]) -> Self {
        Self { pairs: form_urlencoded::parse(input).collect() }
    }

    /// Parameters from already-decoded pairs.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<Cow<'a, str>>,
        V: Into<Cow<'a, str>>,
    {
        Self { pairs: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// The first value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| &**v)
    }

    /// The first value of `key`, if present and not empty (Twilio sends empty values
    /// for fields it has nothing for).
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|value| !value.is_empty())
    }

    /// Every value of `key`, in order.
    pub fn get_all<'s>(&'s self, key: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.pairs.iter().filter(move |(k, _)| k == key).map(|(_, v)| &**v)
    }

    /// Every parameter, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (&**k, &**v))
    }

    /// The number of parameters (repeated keys counted each time).
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Encodes the parameters as a form body, in order.
    pub fn to_form_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new()).extend_pairs(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_and_escapes_are_kept_in_order() {
        let params = FormParams::parse(b"A=1&B=x%26y%3Dz&A=2&C=ol%C3%A1+%F0%9F%98%80");
        assert_eq!(params.get_all("A").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(params.get("B"), Some("x&y=z"));
        assert_eq!(params.get("C"), Some("olá 😀"));
        let round_trip = params.to_form_string();
        assert_eq!(FormParams::parse(round_trip.as_bytes()), params);
    }

    #[test]
    fn values_without_escapes_are_borrowed() {
        let body = b"CallSid=CA123&CallStatus=ringing";
        let params = FormParams::parse(body);
        assert!(params.pairs.iter().all(|(k, v)| matches!(k, Cow::Borrowed(_)) && matches!(v, Cow::Borrowed(_))));
    }
}
