//! Twilio's request signature, `X-Twilio-Signature`, exactly as the official `twilio`
//! SDK (`lib/webhooks/webhooks.js`, 6.2.0) validates it.
//!
//! # Algorithm
//!
//! `base64(HMAC-SHA1(auth_token, url + params))` where `url` is the full URL Twilio
//! requested (scheme, host, optional port, path, query) and `params`, for form POSTs,
//! is every parameter sorted by name (UTF-16 code-unit order, so `B` before `a`), each
//! appended as name then value. A name sent several times contributes each *distinct*
//! value, values sorted the same way. GET requests and JSON bodies append nothing; a
//! JSON body is covered by a `bodySHA256=<hex sha256>` query parameter, which is
//! checked against the body too.
//!
//! # Which URLs are tried
//!
//! As the SDK does, a signature is accepted if it matches, for any configured token:
//!
//! 1. the URL as received with its port removed, or with the scheme's standard port
//!    (`:443`, `:80`) added when it has none;
//! 2. failing that, the same two forms of the URL normalized by the WHATWG URL parser
//!    (the `url` crate; Node's `new URL()`), and of that URL with its query string
//!    re-encoded as Node's legacy `querystring` module does.
//!
//! Comparison is constant-time. The URL is the configured public URL, never one
//! guessed from the `Host` header.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::FormParams;
use crate::verify::{Secret, VerifyError, constant_time_eq};

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// The query parameter that carries a JSON body's hash.
pub const BODY_HASH_PARAM: &str = "bodySHA256";

/// The signature Twilio sends for a request to `url` with `params` (empty for GET
/// requests and JSON bodies).
///
/// ```
/// use callhook::providers::twilio::{FormParams, signature};
///
/// // The example from Twilio's security documentation.
/// let params = FormParams::from_pairs([
///     ("CallSid", "CA1234567890ABCDE"),
///     ("Caller", "+12349013030"),
///     ("Digits", "1234"),
///     ("From", "+12349013030"),
///     ("To", "+18005551212"),
/// ]);
/// let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
/// assert_eq!(signature::sign("12345", url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
/// ```
pub fn sign(auth_token: &str, url: &str, params: &FormParams<'_>) -> String {
    BASE64.encode(mac(auth_token, url, &sorted_params(params)))
}

/// The lowercase hex SHA-256 of a JSON body, the value of the `bodySHA256` parameter.
pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Checks a form (or GET) request's signature against every configured token; the index
/// of the token that signed it.
///
/// ```
/// use callhook::providers::twilio::{FormParams, signature};
/// use callhook::verify::{Secret, VerifyError};
///
/// let params = FormParams::from_pairs([("CallSid", "CA1"), ("CallStatus", "ringing")]);
/// let url = "https://crm.example.com/webhooks/twilio/incoming-call";
/// let header = signature::sign("secondary", url, &params);
/// let tokens = [Secret::new("primary"), Secret::new("secondary")];
/// assert_eq!(signature::verify(&tokens, &header, url, &params), Ok(1), "the second token signed it");
/// // The same request as seen over plain HTTP was not what Twilio signed.
/// let http = "http://crm.example.com/webhooks/twilio/incoming-call";
/// assert_eq!(signature::verify(&tokens, &header, http, &params), Err(VerifyError::SignatureMismatch));
/// ```
pub fn verify(tokens: &[Secret], header: &str, url: &str, params: &FormParams<'_>) -> Result<usize, VerifyError> {
    let sorted = sorted_params(params);
    let signed_by = |candidate: &str| {
        tokens.iter().position(|token| {
            let expected = BASE64.encode(mac(token.expose(), candidate, &sorted));
            constant_time_eq(expected.as_bytes(), header.as_bytes())
        })
    };
    candidate_urls(url).find_map(|candidate| signed_by(&candidate)).ok_or(VerifyError::SignatureMismatch)
}

/// Checks a JSON request: the signature over the URL alone, and the body against the
/// URL's `bodySHA256` parameter (lowercase hex, as Twilio writes it).
///
/// ```
/// use callhook::providers::twilio::{FormParams, signature};
/// use callhook::verify::{Secret, VerifyError};
///
/// let body = br#"{"event":"x"}"#;
/// let url = format!("https://crm.example.com/hook?bodySHA256={}", signature::body_hash(body));
/// let header = signature::sign("token", &url, &FormParams::default());
/// let tokens = [Secret::new("token")];
/// assert_eq!(signature::verify_with_body(&tokens, &header, &url, body), Ok(0));
/// assert_eq!(
///     signature::verify_with_body(&tokens, &header, &url, br#"{"event":"y"}"#),
///     Err(VerifyError::BodyHashMismatch)
/// );
/// ```
pub fn verify_with_body(tokens: &[Secret], header: &str, url: &str, body: &[u8]) -> Result<usize, VerifyError> {
    let index = verify(tokens, header, url, &FormParams::default())?;
    let presented = query_param(url, BODY_HASH_PARAM).unwrap_or_default();
    if constant_time_eq(body_hash(body).as_bytes(), presented.as_bytes()) {
        Ok(index)
    } else {
        Err(VerifyError::BodyHashMismatch)
    }
}

/// Whether `url`'s query string carries `name` (decoded names compared).
pub(crate) fn query_param<'u>(url: &'u str, name: &str) -> Option<Cow<'u, str>> {
    let query = &url[url.find('?')? + 1..];
    form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == name).map(|(_, value)| value)
}

fn mac(auth_token: &str, url: &str, sorted: &[(&str, &str)]) -> [u8; 20] {
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (key, value) in sorted {
        mac.update(key.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.finalize().into_bytes().into()
}

/// Parameters in signing order: by name, then value, in UTF-16 code-unit order (how
/// JavaScript's `sort()` compares), each distinct (name, value) pair once.
fn sorted_params<'p>(params: &'p FormParams<'_>) -> Vec<(&'p str, &'p str)> {
    let mut pairs: Vec<(&str, &str)> = params.iter().collect();
    pairs.sort_unstable_by(|a, b| utf16_cmp(a.0, b.0).then_with(|| utf16_cmp(a.1, b.1)));
    pairs.dedup();
    pairs
}

fn utf16_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() { a.cmp(b) } else { a.encode_utf16().cmp(b.encode_utf16()) }
}

/// The URLs the SDK tries, in its order; the normalized ones only after the others.
fn candidate_urls(url: &str) -> impl Iterator<Item = Cow<'_, str>> {
    let as_received = [remove_port(url), add_port(url)].into_iter();
    let normalized = std::iter::once(()).flat_map(move |()| {
        let Ok(parsed) = url::Url::parse(url) else { return Vec::new() };
        let normalized = parsed.to_string();
        let without = remove_port(&normalized).into_owned();
        let with = add_port(&normalized).into_owned();
        let legacy_without = legacy_querystring(&without);
        let legacy_with = legacy_querystring(&with);
        vec![Cow::Owned(without.clone()), Cow::Owned(with.clone()), Cow::Owned(legacy_without), Cow::Owned(legacy_with)]
    });
    as_received.chain(normalized)
}

/// A URL split as the SDK's `splitUrl` does, without normalizing anything.
struct UrlParts<'u> {
    scheme: &'u str,
    user_info: &'u str,
    host: &'u str,
    port: &'u str,
    rest: &'u str,
}

fn split_url(url: &str) -> Option<UrlParts<'_>> {
    // `^[a-z][a-z0-9+.-]*://`, case-insensitive.
    let scheme_end = url.find("://")?;
    let scheme_name = &url[..scheme_end];
    let mut chars = scheme_name.chars();
    if !chars.next()?.is_ascii_alphabetic() || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
    {
        return None;
    }
    let scheme = &url[..scheme_end + 3];
    let after = &url[scheme_end + 3..];
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = &after[..authority_end];
    let user_info_len = authority.rfind('@').map_or(0, |at| at + 1);
    let host_and_port = &authority[user_info_len..];
    // A colon starts the port only after an IPv6 literal's closing bracket.
    let search_from = host_and_port.rfind(']').map_or(0, |bracket| bracket + 1);
    let port_start = host_and_port[search_from..].find(':').map(|i| i + search_from);
    let (host, port) = match port_start {
        Some(i) => (&host_and_port[..i], &host_and_port[i..]),
        None => (host_and_port, ""),
    };
    Some(UrlParts { scheme, user_info: &authority[..user_info_len], host, port, rest: &after[authority_end..] })
}

fn remove_port(url: &str) -> Cow<'_, str> {
    match split_url(url) {
        Some(p) if !p.port.is_empty() => Cow::Owned(format!("{}{}{}{}", p.scheme, p.user_info, p.host, p.rest)),
        _ => Cow::Borrowed(url),
    }
}

fn add_port(url: &str) -> Cow<'_, str> {
    match split_url(url) {
        Some(p) if p.port.is_empty() => {
            let port = if p.scheme.eq_ignore_ascii_case("https://") { ":443" } else { ":80" };
            Cow::Owned(format!("{}{}{}{}{}", p.scheme, p.user_info, p.host, port, p.rest))
        }
        _ => Cow::Borrowed(url),
    }
}

/// The URL with its query string parsed and re-serialized by Node's legacy
/// `querystring` module: keys grouped (repeated keys as arrays), integer-like keys
/// first in ascending order (JavaScript object key order), then the others in order of
/// first appearance; everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` percent-encoded.
fn legacy_querystring(url: &str) -> String {
    let Some(start) = url.find('?').filter(|&i| i + 1 < url.len()) else { return url.to_owned() };
    let mut keys: Vec<(Cow<'_, str>, Vec<Cow<'_, str>>)> = Vec::new();
    // Node's `querystring.parse` reads at most 1000 pairs.
    for (key, value) in form_urlencoded::parse(&url.as_bytes()[start + 1..]).take(1000) {
        match keys.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => keys.push((key, vec![value])),
        }
    }
    let (mut indices, names): (Vec<_>, Vec<_>) = keys.into_iter().partition(|(key, _)| array_index(key).is_some());
    indices.sort_by_key(|(key, _)| array_index(key));

    let mut out = String::with_capacity(url.len() + 16);
    out.push_str(&url[..=start]);
    let mut first = true;
    for (key, values) in indices.iter().chain(&names) {
        for value in values {
            if !std::mem::take(&mut first) {
                out.push('&');
            }
            node_escape(key, &mut out);
            out.push('=');
            node_escape(value, &mut out);
        }
    }
    out
}

/// A canonical array index (`0`, `17`, not `017`, below 2^32 - 1), which JavaScript
/// objects order before other keys.
fn array_index(key: &str) -> Option<u32> {
    let canonical = !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) && (key == "0" || !key.starts_with('0'));
    canonical.then(|| key.parse::<u32>().ok()).flatten().filter(|&n| n < u32::MAX)
}

fn node_escape(value: &str, out: &mut String) {
    use std::fmt::Write;
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_params() -> FormParams<'static> {
        FormParams::from_pairs([
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ])
    }

    #[test]
    fn twilio_documentation_example() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(sign("12345", url, &doc_params()), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        let tokens = [Secret::new("12345")];
        assert_eq!(verify(&tokens, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url, &doc_params()), Ok(0));
        assert_eq!(
            verify(
                &tokens,
                "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
                "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                &doc_params()
            ),
            Ok(0)
        );
        assert_eq!(
            verify(&[Secret::new("54321")], "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url, &doc_params()),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn ports_are_added_and_removed_like_the_sdk() {
        assert_eq!(add_port("https://a.example/x?y=1"), "https://a.example:443/x?y=1");
        assert_eq!(add_port("HTTP://a.example"), "HTTP://a.example:80");
        assert_eq!(add_port("https://a.example:8443/x"), "https://a.example:8443/x");
        assert_eq!(remove_port("https://u:p@a.example:8443/x"), "https://u:p@a.example/x");
        assert_eq!(remove_port("http://[::1]:3000/x"), "http://[::1]/x");
        assert_eq!(add_port("http://[::1]/x"), "http://[::1]:80/x");
        assert_eq!(add_port("not a url"), "not a url");
    }

    #[test]
    fn legacy_querystring_orders_index_keys_first_and_escapes_like_node() {
        assert_eq!(legacy_querystring("https://a/x?b=1&2=x&a=it's&b=2&1=y"), "https://a/x?1=y&2=x&b=1&b=2&a=it's");
        assert_eq!(legacy_querystring("https://a/x?q=a+b%2Fc"), "https://a/x?q=a%20b%2Fc");
        assert_eq!(legacy_querystring("https://a/x?"), "https://a/x?");
        assert_eq!(legacy_querystring("https://a/x"), "https://a/x");
    }

    #[test]
    fn repeated_identical_values_count_once_and_sort_by_utf16() {
        let once = FormParams::from_pairs([("A", "1")]);
        let twice = FormParams::from_pairs([("A", "1"), ("A", "1")]);
        assert_eq!(sign("t", "https://x", &once), sign("t", "https://x", &twice));
        // U+1F600 (a surrogate pair, 0xD83D...) sorts before U+FF5E in UTF-16, after
        // it in UTF-8 byte order.
        let params = FormParams::from_pairs([("K", "～"), ("K", "😀")]);
        let expected = BASE64.encode(hmac_raw("t", "https://xK😀K～"));
        assert_eq!(sign("t", "https://x", &params), expected);
    }

    fn hmac_raw(key: &str, data: &str) -> [u8; 20] {
        crate::verify::hmac_sha1(key.as_bytes(), &[data.as_bytes()])
    }
}
