//! Retell's webhook signature, `x-retell-signature: v=<unix ms>,d=<hex>`, exactly as the
//! official `retell-sdk` (5.66.1, `lib/webhook_auth.js`) verifies it.
//!
//! # Algorithm
//!
//! `hex(HMAC-SHA256(api_key, body + timestamp))`: the raw body followed by the
//! timestamp's decimal digits, with no separator. The header must be exactly
//! `v=<digits>,d=<64 hex digits>` (labels and hex in either case, nothing around them).
//! As in the SDK, the timestamp is read as a number before it is appended, so leading
//! zeros do not count (`v=0123` signs `body + "123"`), and it must be at most
//! 2^53 - 1. A timestamp more than the tolerance (default 5 minutes, inclusive) away
//! from now, in the past or the future, is refused. Several API keys may be configured.

use time::{Duration, OffsetDateTime};

use crate::verify::{Secret, VerifyError, constant_time_eq, hmac_sha256};

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "x-retell-signature";

/// The tolerance the SDK applies: 5 minutes either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::minutes(5);

/// JavaScript's largest safe integer, the SDK's bound on timestamps.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The header Retell sends for `body` signed with `api_key` at `at`.
///
/// ```
/// use callhook::providers::retell::signature;
/// use time::macros::datetime;
/// let header = signature::sign("key_123", b"{}", datetime!(2025-12-01 12:00 UTC));
/// assert!(header.starts_with("v=1764590400000,d="));
/// ```
pub fn sign(api_key: &str, body: &[u8], at: OffsetDateTime) -> String {
    let millis = (at.unix_timestamp_nanos() / 1_000_000).to_string();
    let digest = hmac_sha256(api_key.as_bytes(), &[body, millis.as_bytes()]);
    format!("v={millis},d={}", hex::encode(digest))
}

/// Checks `header` against `body`, the keys, and `now` within `tolerance`; the index of
/// the key that signed it.
///
/// ```
/// use callhook::providers::retell::signature;
/// use callhook::verify::{Secret, VerifyError};
/// use time::{Duration, macros::datetime};
///
/// let at = datetime!(2025-12-01 12:00 UTC);
/// let header = signature::sign("key_new", b"{}", at);
/// let keys = [Secret::new("key_old"), Secret::new("key_new")];
/// let tolerance = signature::DEFAULT_TOLERANCE;
/// assert_eq!(signature::verify(&keys, &header, b"{}", at + Duration::seconds(30), tolerance), Ok(1));
/// assert_eq!(
///     signature::verify(&keys, &header, b"{}", at + Duration::minutes(6), tolerance),
///     Err(VerifyError::TimestampOutsideTolerance { skew_secs: -360 })
/// );
/// ```
pub fn verify(
    keys: &[Secret],
    header: &str,
    body: &[u8],
    now: OffsetDateTime,
    tolerance: Duration,
) -> Result<usize, VerifyError> {
    let (millis, digest) = parse_header(header)?;
    let now_millis = now.unix_timestamp_nanos() / 1_000_000;
    let skew = i128::from(millis) - now_millis;
    if skew.unsigned_abs() > tolerance.whole_milliseconds().unsigned_abs() {
        let skew_secs = i64::try_from(skew / 1000).unwrap_or(i64::MAX);
        return Err(VerifyError::TimestampOutsideTolerance { skew_secs });
    }
    let signed = millis.to_string();
    keys.iter()
        .position(|key| constant_time_eq(&hmac_sha256(key.expose().as_bytes(), &[body, signed.as_bytes()]), &digest))
        .ok_or(VerifyError::SignatureMismatch)
}

fn parse_header(header: &str) -> Result<(u64, [u8; 32]), VerifyError> {
    let malformed = |reason| VerifyError::MalformedHeader { header: SIGNATURE_HEADER, reason };
    let (v, d) = header.split_once(',').ok_or_else(|| malformed("expected v=<timestamp>,d=<hex>"))?;
    let digits = v
        .strip_prefix("v=")
        .or_else(|| v.strip_prefix("V="))
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| malformed("expected v=<unix milliseconds>"))?;
    let hex_digest =
        d.strip_prefix("d=").or_else(|| d.strip_prefix("D=")).ok_or_else(|| malformed("expected d=<hex>"))?;
    // Leading zeros do not count, as for JavaScript's `Number()`.
    let significant = digits.trim_start_matches('0');
    let millis = if significant.is_empty() { 0 } else { significant.parse::<u64>().unwrap_or(u64::MAX) };
    if millis > MAX_SAFE_INTEGER {
        return Err(malformed("timestamp too large"));
    }
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut digest).map_err(|_| malformed("expected 64 hex digits"))?;
    Ok((millis, digest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn headers_the_sdk_refuses_are_malformed() {
        for header in ["", "v=1", "d=ab", "v=1,d=zz", "v=-1,d=00", "v=1.5,d=00", " v=1,d=00", "v=1,d=00,x=1"] {
            assert!(matches!(parse_header(header), Err(VerifyError::MalformedHeader { .. })), "{header:?}");
        }
        assert!(parse_header(&format!("v=9007199254740992,d={}", "0".repeat(64))).is_err());
        assert_eq!(parse_header(&format!("V=007,D={}", "A".repeat(64))).unwrap().0, 7);
    }

    #[test]
    fn tolerance_is_inclusive_both_ways() {
        let at = datetime!(2025-12-01 12:00 UTC);
        let keys = [Secret::new("k")];
        let header = sign("k", b"x", at);
        for offset in [Duration::minutes(5), -Duration::minutes(5)] {
            assert_eq!(verify(&keys, &header, b"x", at + offset, DEFAULT_TOLERANCE), Ok(0));
        }
        let late = at + Duration::minutes(5) + Duration::milliseconds(1);
        assert!(matches!(
            verify(&keys, &header, b"x", late, DEFAULT_TOLERANCE),
            Err(VerifyError::TimestampOutsideTolerance { .. })
        ));
    }
}
