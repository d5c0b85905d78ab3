//! Redaction of credentials embedded in URLs (`https://user:password@host/...`), for
//! everything callhook shows or logs: errors, the admin API, the dashboard.
//!
//! Providers may send recording URLs with credentials in them. The event log keeps the
//! payload exactly as received (the download needs them, and reprocessing re-reads it);
//! what leaves the log for a person's eyes goes through [`url_credentials`] (text) or
//! [`url_credentials_in_bytes`] (a raw body).
//!
//! Only `http` and `https` URLs are looked for (the only ones callhook fetches), in every
//! form a payload may write them: plain, JSON with escaped slashes (`https:\/\/`),
//! form-encoded (`https%3A%2F%2F`), with backslashes or no slashes at all (`https:u:p@h`,
//! which URL parsers accept). Everything between the `://` and the last `@` of the
//! authority is replaced, so a password holding `&`, `,` or `(` is still removed:
//! redacting too much is the safe side.

use std::borrow::Cow;

const REPLACEMENT: &[u8] = b"[redacted]";
const REPLACEMENT_ENCODED: &[u8] = b"%5Bredacted%5D";

/// `text` with the user and password of every `http(s)` URL in it replaced by
/// `[redacted]` (borrowed unchanged when there is none).
///
/// ```
/// use callhook::redact::url_credentials;
/// assert_eq!(url_credentials("get https://user:p&ss@host.example/a.mp3 now"), "get https://[redacted]@host.example/a.mp3 now");
/// assert_eq!(url_credentials(r#"{"u":"https:\/\/k@h\/x"}"#), r#"{"u":"https:\/\/[redacted]@h\/x"}"#);
/// assert_eq!(url_credentials("RecordingUrl=https%3A%2F%2Fu%3Ap%40h%2Fx"), "RecordingUrl=https%3A%2F%2F%5Bredacted%5D%40h%2Fx");
/// assert!(matches!(url_credentials("https://host/x?a=b@c"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn url_credentials(text: &str) -> Cow<'_, str> {
    match url_credentials_in_bytes(text.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        // Only whole runs between ASCII delimiters were replaced by ASCII: still UTF-8.
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8(bytes).expect("redaction keeps text UTF-8")),
    }
}

/// [`url_credentials`] on bytes that need not be UTF-8 (a raw webhook body).
///
/// ```
/// use callhook::redact::url_credentials_in_bytes;
/// assert_eq!(&*url_credentials_in_bytes(b"\xff http://u:p@h/x"), b"\xff http://[redacted]@h/x");
/// ```
pub fn url_credentials_in_bytes(text: &[u8]) -> Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0; // bytes of `text` already in `out`
    let mut at = 0;
    while let Some(found) = find_ignoring_case(&text[at..], b"http") {
        let start = at + found;
        at = start + 4;
        let Some(url) = Url::after_http(text, at) else { continue };
        at = url.authority_end;
        if let Some(user_end) = url.user_end {
            let out = out.get_or_insert_with(|| Vec::with_capacity(text.len()));
            out.extend_from_slice(&text[copied..url.authority_start]);
            out.extend_from_slice(if url.encoded { REPLACEMENT_ENCODED } else { REPLACEMENT });
            copied = user_end;
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.extend_from_slice(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// Where a URL's authority lies, and whether it carries credentials.
struct Url {
    authority_start: usize,
    authority_end: usize,
    /// Where the `@` (or `%40`) after the credentials is, if there are any.
    user_end: Option<usize>,
    /// Whether the URL is form-encoded (`%3A%2F%2F`).
    encoded: bool,
}

impl Url {
    /// The URL whose scheme `http` ends at `at` (an `s` may follow), if a `:` and the
    /// slashes (any number, any form, none too) follow.
    fn after_http(text: &[u8], mut at: usize) -> Option<Url> {
        if text.get(at).is_some_and(|b| b.eq_ignore_ascii_case(&b's')) {
            at += 1;
        }
        let encoded = if text.get(at) == Some(&b':') {
            at += 1;
            false
        } else if starts_with_ignoring_case(&text[at..], b"%3a") {
            at += 3;
            true
        } else {
            return None;
        };
        // The slashes: `/`, `\`, `\/` (JSON), `%2F`, `%5C`, as many as are written.
        loop {
            let rest = &text[at..];
            let length = [&b"/"[..], b"\\/", b"\\\\", b"\\", b"%2f", b"%5c"]
                .iter()
                .find(|slash| starts_with_ignoring_case(rest, slash))
                .map(|slash| slash.len());
            match length {
                Some(length) => at += length,
                None => break,
            }
        }
        let authority_start = at;
        let mut user_end = None;
        while at < text.len() {
            let rest = &text[at..];
            let byte = rest[0];
            let ends = matches!(byte, b'/' | b'\\' | b'?' | b'#' | b'"' | b'<' | b'>' | b'`')
                || byte.is_ascii_whitespace()
                || byte.is_ascii_control()
                || (encoded && matches!(byte, b'&' | b'='))
                || [&b"%2f"[..], b"%5c", b"%3f", b"%23"].iter().any(|end| starts_with_ignoring_case(rest, end));
            if ends {
                break;
            }
            if byte == b'@' {
                user_end = Some(at);
            } else if starts_with_ignoring_case(rest, b"%40") {
                user_end = Some(at);
                at += 3;
                continue;
            }
            at += 1;
        }
        Some(Url { authority_start, authority_end: at, user_end, encoded })
    }
}

fn starts_with_ignoring_case(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn find_ignoring_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0].to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = haystack[from..].iter().position(|b| b.to_ascii_lowercase() == first) {
        let start = from + i;
        if starts_with_ignoring_case(&haystack[start..], needle) {
            return Some(start);
        }
        from = start + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_removed_in_every_form_and_nothing_else_changes() {
        let cases = [
            ("https://user:pass@api.example.com/r/1.mp3", "https://[redacted]@api.example.com/r/1.mp3"),
            ("http://user@h", "http://[redacted]@h"),
            (
                "a https://u:p@h1/x and http://v:q@h2:8080?y",
                "a https://[redacted]@h1/x and http://[redacted]@h2:8080?y",
            ),
            (r#"{"record_url":"https://u:p%40ss@h/x"}"#, r#"{"record_url":"https://[redacted]@h/x"}"#),
            ("x=https%3a%2f%2fu%3ap%40h%2fy&z=1", "x=https%3a%2f%2f%5Bredacted%5D%40h%2fy&z=1"),
            ("https://u:p@@h/x", "https://[redacted]@h/x"),
            ("HTTPS://U:P@H/X", "HTTPS://[redacted]@H/X"),
            ("https:u:p@h/x", "https:[redacted]@h/x"),
            ("https:\\\\u:p@h/x", "https:\\\\[redacted]@h/x"),
            (r#"{"u":"https:\/\/u:p@h\/x"}"#, r#"{"u":"https:\/\/[redacted]@h\/x"}"#),
        ];
        for (text, redacted) in cases {
            assert_eq!(url_credentials(text), redacted, "{text}");
        }
        // Passwords with the characters URLs allow in them.
        for password in ["p&ss", "p,ss", "p(ss)", "p'ss", "p;ss", "p!$*+=ss", "p[ss]", "p{ss}", "pässwörd"] {
            for form in ["https://agent:{}@api.twilio.com/x", r#"{"url":"http://agent:{}@h:8080"}"#] {
                let text = form.replace("{}", password);
                let redacted = url_credentials(&text);
                assert!(!redacted.contains(password) && !redacted.contains("agent"), "{text} -> {redacted}");
                assert!(redacted.contains("[redacted]@"), "{redacted}");
            }
        }
        for clean in ["https://h/x@y", "mailto:a@b.c", "no urls here", "https://h/x?u=a@b", "", "httpx://u@h", "http"] {
            assert_eq!(url_credentials(clean), clean, "{clean}");
        }
    }

    #[test]
    fn redaction_takes_one_pass_however_many_urls() {
        // Many URLs and a long body: each byte is looked at a bounded number of times.
        let body = "https://host/x ".repeat(20_000) + "https://u:p@h/end";
        let redacted = url_credentials(&body);
        assert!(redacted.ends_with("https://[redacted]@h/end"));
        let bytes = url_credentials_in_bytes(b"http:".repeat(50_000).as_slice()).len();
        assert_eq!(bytes, 250_000);
    }
}
