//! Redaction of credentials embedded in URLs (`https://user:password@host/...`), for
//! everything callhook shows or logs: errors, the admin API, the dashboard.
//!
//! Providers may send recording URLs with credentials in them. The event log keeps the
//! payload exactly as received (the download needs them, and reprocessing re-reads it);
//! what leaves the log for a person's eyes goes through [`url_credentials`].

use std::borrow::Cow;

/// How a URL's `://` may be written in a payload, and what ends its authority part.
struct Form {
    /// The `://` after the scheme.
    separator: &'static str,
    /// What ends the authority (`user:password@host:port`).
    ends: &'static [&'static str],
    /// The `@` before the host.
    at: &'static str,
    /// What replaces the credentials.
    replacement: &'static str,
}

/// Plain text, JSON with escaped slashes, and form encoding.
const FORMS: [Form; 3] = [
    Form { separator: "://", ends: &["/", "\\", "?", "#"], at: "@", replacement: "[redacted]" },
    Form { separator: ":\\/\\/", ends: &["\\", "/", "?", "#"], at: "@", replacement: "[redacted]" },
    Form {
        separator: "%3A%2F%2F",
        ends: &["%2F", "%3F", "%23", "/", "?", "#"],
        at: "%40",
        replacement: "%5Bredacted%5D",
    },
];

/// Characters that end a URL in running text or a payload, whatever its form.
fn ends_text(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '&' | ',' | ';' | '(' | ')' | '[' | ']' | '{' | '}')
}

/// `text` with the user and password of every URL in it replaced by `[redacted]`
/// (borrowed unchanged when there is none). URLs are found in plain text, in JSON (also
/// with escaped slashes) and in form-encoded bodies.
///
/// ```
/// use callhook::redact::url_credentials;
/// assert_eq!(url_credentials("get https://user:pw@host.example/a.mp3 now"), "get https://[redacted]@host.example/a.mp3 now");
/// assert_eq!(url_credentials(r#"{"u":"https:\/\/k@h\/x"}"#), r#"{"u":"https:\/\/[redacted]@h\/x"}"#);
/// assert_eq!(url_credentials("RecordingUrl=https%3A%2F%2Fu%3Ap%40h%2Fx"), "RecordingUrl=https%3A%2F%2F%5Bredacted%5D%40h%2Fx");
/// assert!(matches!(url_credentials("https://host/x?a=b@c"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn url_credentials(text: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `text` already in `out`
    let mut at = 0;
    while let Some((form, start)) = next_separator(text, at) {
        let authority_start = start + form.separator.len();
        let rest = &text[authority_start..];
        let mut length = rest.find(ends_text).unwrap_or(rest.len());
        for end in form.ends {
            if let Some(found) = find_ignoring_case(&rest[..length], end) {
                length = found;
            }
        }
        let authority = &rest[..length];
        if let Some(user_end) = rfind_ignoring_case(authority, form.at) {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..authority_start]);
            out.push_str(form.replacement);
            copied = authority_start + user_end;
        }
        at = authority_start + length;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// The first URL separator at or after `from`, of any form.
fn next_separator(text: &str, from: usize) -> Option<(&'static Form, usize)> {
    FORMS
        .iter()
        .filter_map(|form| find_ignoring_case(&text[from..], form.separator).map(|i| (form, from + i)))
        .min_by_key(|(_, i)| *i)
}

fn find_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack.as_bytes().windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn rfind_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack.as_bytes().windows(needle.len()).rposition(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
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
        ];
        for (text, redacted) in cases {
            assert_eq!(url_credentials(text), redacted, "{text}");
            assert!(!url_credentials(text).contains("u:p"), "{text}");
        }
        for clean in ["https://h/x@y", "mailto:a@b.c", "no urls here", "https://h/x?u=a@b", "", "é://ü@ö"] {
            assert_eq!(url_credentials(clean), clean.replace("ü@", "[redacted]@"), "{clean}");
        }
    }
}
