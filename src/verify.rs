//! Shared pieces of signature verification: secrets that never print, HMAC,
//! constant-time comparison, timestamp tolerance, and [`VerifyError`].
//!
//! Each provider's `signature.rs` combines these into the provider's own scheme.
//!
//! ```
//! use callhook::verify::{Secret, hmac_sha256, constant_time_eq};
//!
//! let secret = Secret::new("app-secret");
//! assert_eq!(format!("{secret:?}"), "Secret([redacted])");
//! let mac = hmac_sha256(secret.expose().as_bytes(), &[b"body"]);
//! assert!(constant_time_eq(&mac, &hmac_sha256(b"app-secret", &[b"bo", b"dy"])));
//! ```

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

/// A secret (auth token, app secret, API key). Its `Debug` and `Display` print
/// `[redacted]`, so it never ends up in logs by accident.
///
/// ```
/// use callhook::verify::Secret;
/// let token = Secret::new("12345");
/// assert_eq!(token.to_string(), "[redacted]");
/// assert_eq!(token.expose(), "12345");
/// // Equality is constant-time in the bytes compared (only the lengths may differ early).
/// assert!(token == Secret::new("12345") && token != Secret::new("12346"));
/// ```
#[derive(Clone)]
pub struct Secret(String);

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's value, for computing a signature. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// Why a request failed verification. Every variant maps to `401 Unauthorized`
/// except [`VerifyError::NotConfigured`], a server-side mistake, which maps to `500`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The header that carries the signature or token is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// The signature header is present but not in the provider's format.
    #[error("malformed header {header}: {reason}")]
    MalformedHeader {
        /// The header's name.
        header: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No configured secret produces the presented signature.
    #[error("signature mismatch")]
    SignatureMismatch,
    /// The signed timestamp is too far from now (a replay, or a skewed clock).
    #[error("timestamp outside tolerance: {skew_secs} s from now")]
    TimestampOutsideTolerance {
        /// Signed time minus now, in seconds (negative: in the past).
        skew_secs: i64,
    },
    /// The body's hash does not match the hash the signature covers.
    #[error("body hash mismatch")]
    BodyHashMismatch,
    /// The shared token (bearer or query parameter) is absent.
    #[error("missing token")]
    MissingToken,
    /// The shared token does not match any configured token.
    #[error("token mismatch")]
    TokenMismatch,
    /// The receiver lacks what verification needs (e.g. Twilio's public URL).
    #[error("verification not configured: {0}")]
    NotConfigured(&'static str),
    /// The request names an account (a Twilio `AccountSid`, a WhatsApp Business Account)
    /// that no configured account is named by, and no account takes the others' requests
    /// (see [`crate::account`]).
    #[error("the request's account is not configured here")]
    UnknownAccount,
    /// The request names two different configured accounts.
    #[error("the request names two different accounts")]
    AccountMismatch,
}

impl VerifyError {
    /// A short, stable label for metrics (`reason` label of `callhook_rejected_total`).
    pub fn reason(&self) -> &'static str {
        match self {
            VerifyError::MissingHeader(_) => "missing_signature",
            VerifyError::MalformedHeader { .. } => "malformed_signature",
            VerifyError::SignatureMismatch => "bad_signature",
            VerifyError::TimestampOutsideTolerance { .. } => "stale_timestamp",
            VerifyError::BodyHashMismatch => "bad_body_hash",
            VerifyError::MissingToken => "missing_token",
            VerifyError::TokenMismatch => "bad_token",
            VerifyError::NotConfigured(_) => "not_configured",
            VerifyError::UnknownAccount => "unknown_account",
            VerifyError::AccountMismatch => "account_mismatch",
        }
    }
}

/// HMAC-SHA256 of the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<sha2::Sha256>>::new_from_slice(key).expect("HMAC accepts any key length");
    parts.iter().for_each(|part| mac.update(part));
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA1 of the concatenation of `parts` (Twilio's scheme).
pub fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    let mut mac = <Hmac<sha1::Sha1>>::new_from_slice(key).expect("HMAC accepts any key length");
    parts.iter().for_each(|part| mac.update(part));
    mac.finalize().into_bytes().into()
}

/// Compares two byte strings in time that depends only on their lengths.
///
/// ```
/// use callhook::verify::constant_time_eq;
/// assert!(constant_time_eq(b"abc", b"abc"));
/// assert!(!constant_time_eq(b"abc", b"abd"));
/// assert!(!constant_time_eq(b"abc", b"ab"));
/// ```
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Whether any of `candidates` equals `presented`, comparing each in constant time and
/// always trying every candidate (so timing does not reveal which one matched).
///
/// ```
/// use callhook::verify::{Secret, matches_any_token};
/// let tokens = [Secret::new("old"), Secret::new("new")];
/// assert!(matches_any_token(&tokens, "new"));
/// assert!(!matches_any_token(&tokens, "guess"));
/// // An empty token never matches, not even an (ill-configured) empty secret.
/// assert!(!matches_any_token(&[Secret::new("")], ""));
/// ```
pub fn matches_any_token(candidates: &[Secret], presented: &str) -> bool {
    let found = candidates
        .iter()
        .fold(false, |found, candidate| found | constant_time_eq(candidate.expose().as_bytes(), presented.as_bytes()));
    found && !presented.is_empty()
}

/// The index of the candidate that equals `presented`, comparing each in constant time
/// and always trying every candidate; `None` for an empty token.
///
/// ```
/// use callhook::verify::{Secret, which_token};
/// let tokens = [Secret::new("current"), Secret::new("next")];
/// assert_eq!(which_token(&tokens, "next"), Some(1));
/// assert_eq!(which_token(&tokens, "guess"), None);
/// assert_eq!(which_token(&[Secret::new("")], ""), None);
/// ```
pub fn which_token(candidates: &[Secret], presented: &str) -> Option<usize> {
    let found = candidates.iter().enumerate().fold(None, |found, (index, candidate)| {
        let equal = constant_time_eq(candidate.expose().as_bytes(), presented.as_bytes());
        found.or(equal.then_some(index))
    });
    found.filter(|_| !presented.is_empty())
}

/// The token of an `Authorization: Bearer <token>` header value (scheme in any case).
///
/// ```
/// use callhook::verify::bearer_token;
/// assert_eq!(bearer_token("Bearer abc"), Some("abc"));
/// assert_eq!(bearer_token("bearer  abc "), Some("abc"));
/// assert_eq!(bearer_token("Basic abc"), None);
/// assert_eq!(bearer_token("Bearer "), None);
/// ```
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Checks that a signed time is within `tolerance` of `now`, in either direction.
///
/// ```
/// use std::time::Duration;
/// use callhook::verify::{check_timestamp, VerifyError};
/// use time::macros::datetime;
///
/// let now = datetime!(2026-12-01 10:00 UTC);
/// let five_min = Duration::from_secs(300);
/// assert!(check_timestamp(now - time::Duration::minutes(5), now, five_min).is_ok());
/// assert_eq!(
///     check_timestamp(now - time::Duration::minutes(6), now, five_min),
///     Err(VerifyError::TimestampOutsideTolerance { skew_secs: -360 })
/// );
/// ```
pub fn check_timestamp(signed_at: OffsetDateTime, now: OffsetDateTime, tolerance: Duration) -> Result<(), VerifyError> {
    let skew = signed_at - now;
    if skew.unsigned_abs() > tolerance {
        return Err(VerifyError::TimestampOutsideTolerance { skew_secs: skew.whole_seconds() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn hmac_sha1_matches_rfc_2202_case_2() {
        let mac = hmac_sha1(b"Jefe", &[b"what do ya want for nothing?"]);
        assert_eq!(hex::encode(mac), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn secret_is_redacted_everywhere() {
        let secret = Secret::new("hunter2");
        let shown = format!("{secret} {secret:?} {:?}", Some(&secret));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
