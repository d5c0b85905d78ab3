//! The dashboard's login session: a short-lived cookie signed with the admin token.
//!
//! The cookie is `<expiry unix seconds>.<hex HMAC-SHA256(admin token, "callhook-session:" + expiry)>`,
//! `HttpOnly` (page scripts never see it, so an injected script cannot steal it),
//! `SameSite=Strict` (other sites cannot make the browser send it), `Secure` when the
//! public URL is `https`, and valid for [`SESSION_LIFETIME`]. It is stateless: any
//! server sharing the admin token accepts it, a restart keeps people logged in, and
//! changing the token logs everyone out. The token itself is never stored in the
//! browser.

use std::time::Duration;

use callhook::verify::{Secret, constant_time_eq, hmac_sha256};
use time::OffsetDateTime;

/// The cookie's name.
pub const COOKIE: &str = "callhook_session";

/// How long a login lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);

fn signature(token: &Secret, expires: i64) -> String {
    hex::encode(hmac_sha256(token.expose().as_bytes(), &[b"callhook-session:", expires.to_string().as_bytes()]))
}

/// A session value for `token`, valid until `now` + [`SESSION_LIFETIME`].
pub fn issue(token: &Secret, now: OffsetDateTime) -> String {
    let expires = now.unix_timestamp() + SESSION_LIFETIME.as_secs() as i64;
    format!("{expires}.{}", signature(token, expires))
}

/// Whether `value` is a session issued with `token` that has not expired at `now`.
pub fn is_valid(token: &Secret, value: &str, now: OffsetDateTime) -> bool {
    let Some((expires, presented)) = value.split_once('.') else { return false };
    let Ok(expires) = expires.parse::<i64>() else { return false };
    let now = now.unix_timestamp();
    let fresh = expires > now && expires <= now + SESSION_LIFETIME.as_secs() as i64;
    fresh && constant_time_eq(signature(token, expires).as_bytes(), presented.as_bytes())
}

/// The session cookie in a request's `Cookie` headers, if any.
pub fn from_headers(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// Whether `headers` carry a valid session for `token` now.
pub fn is_signed_in(token: &Secret, headers: &http::HeaderMap) -> bool {
    from_headers(headers).is_some_and(|value| is_valid(token, value, OffsetDateTime::now_utc()))
}

/// The `Set-Cookie` value that starts a session.
pub fn set_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}", SESSION_LIFETIME.as_secs())
}

/// The `Set-Cookie` value that ends it.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 10:00:00 UTC);

    #[test]
    fn a_session_is_valid_for_its_token_until_it_expires() {
        let token = Secret::new("admin-token");
        let value = issue(&token, NOW);
        assert!(is_valid(&token, &value, NOW));
        assert!(is_valid(&token, &value, NOW + time::Duration::hours(7)));
        assert!(!is_valid(&token, &value, NOW + time::Duration::hours(8)), "expired");
        assert!(!is_valid(&Secret::new("rotated"), &value, NOW), "another token");
    }

    #[test]
    fn forged_or_stretched_sessions_are_refused() {
        let token = Secret::new("admin-token");
        let value = issue(&token, NOW);
        let (expires, signature) = value.split_once('.').unwrap();
        let later = expires.parse::<i64>().unwrap() + 3600;
        assert!(!is_valid(&token, &format!("{later}.{signature}"), NOW), "expiry changed");
        // Even a correctly signed value may not outlive the lifetime from now.
        let far = issue(&token, NOW + time::Duration::days(30));
        assert!(!is_valid(&token, &far, NOW));
        for bad in ["", ".", "x.y", "123", "123.", &value.replace('.', "")] {
            assert!(!is_valid(&token, bad, NOW), "{bad:?}");
        }
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut headers = http::HeaderMap::new();
        headers.append("cookie", "a=1; callhook_session=v.1; b=2".parse().unwrap());
        assert_eq!(from_headers(&headers), Some("v.1"));
        assert_eq!(from_headers(&http::HeaderMap::new()), None);
        assert!(set_cookie("v", true).contains("HttpOnly; SameSite=Strict"));
        assert!(set_cookie("v", true).ends_with("; Secure"));
    }
}
