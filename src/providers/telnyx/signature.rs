//! Telnyx's webhook signature, `telnyx-signature-ed25519` with `telnyx-timestamp`,
//! exactly as the official `telnyx` SDK (7.24.0, `lib/webhooks.js`,
//! `TelnyxWebhook.verify`) verifies it.
//!
//! # Algorithm
//!
//! Telnyx signs `"{timestamp}|{raw body}"` with the account's Ed25519 private key; the
//! public key is in the Mission Control portal (Keys & Credentials → Public Key), base64
//! of its 32 bytes. A request verifies when, in this order (each step's refusal is the
//! [`VerifyError`] in brackets):
//!
//! 1. both headers are present and not empty [`MissingHeader`](VerifyError::MissingHeader);
//! 2. `telnyx-timestamp` is ASCII digits only (leading zeros allowed) and at most
//!    2^53 − 1, unix **seconds** [`MalformedHeader`](VerifyError::MalformedHeader);
//! 3. `|floor(now) − timestamp| ≤ 300` s (the tolerance, inclusive; `now` floored to
//!    whole seconds first, as the SDK does) [`TimestampOutsideTolerance`](VerifyError::TimestampOutsideTolerance);
//! 4. `telnyx-signature-ed25519` is strict padded base64 (a multiple of 4 characters
//!    from `A–Z a–z 0–9 + /`, then at most two `=`) of exactly 64 bytes; as in the SDK,
//!    the unused bits of the last digit are ignored [`MalformedHeader`](VerifyError::MalformedHeader);
//! 5. the signature verifies, for one of the configured public keys, over the bytes of
//!    the timestamp header **as received**, `|`, and the raw body [`SignatureMismatch`](VerifyError::SignatureMismatch).
//!
//! Verification is `ed25519-dalek`'s `verify_strict` (canonical `S`, no small-order `R`),
//! and weak (small-order) public keys are refused when configured ([`PublicKey`]): the
//! SDK's Web Crypto accepts a trivial forgery under the identity key, callhook does not.
//! Otherwise callhook accepts exactly what the SDK accepts: the vectors in
//! `tests/fixtures/telnyx/signature_vectors.json` (made with the SDK by
//! `tools/vectors/telnyx/generate.js`) are checked in `tests/telnyx.rs`.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use time::{Duration, OffsetDateTime};

use crate::verify::VerifyError;

/// The header that carries the base64 Ed25519 signature.
pub const SIGNATURE_HEADER: &str = "telnyx-signature-ed25519";

/// The header that carries the signing time, unix seconds.
pub const TIMESTAMP_HEADER: &str = "telnyx-timestamp";

/// The tolerance the SDK applies: 5 minutes either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::minutes(5);

/// JavaScript's largest safe integer, the SDK's bound on timestamps.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The SDK's base64: the standard alphabet, padding required, unused trailing bits
/// ignored (its decoder drops them rather than insisting they are zero).
const SDK_BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

/// An account's Ed25519 public key, which verifies its webhooks.
///
/// Parsed from the base64 Mission Control shows (surrounding whitespace ignored); a
/// value that is not 32 bytes of strict padded base64, not a point of the curve, or a
/// weak (small-order) key is refused. Public keys are not secrets: `Debug` and
/// `Display` show the base64.
///
/// ```
/// use callhook::providers::telnyx::signature::{InvalidPublicKey, PublicKey};
/// let key: PublicKey = "6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw=".parse().unwrap();
/// assert_eq!(key.to_string(), "6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw=");
/// assert_eq!("c2hvcnQ=".parse::<PublicKey>(), Err(InvalidPublicKey::WrongLength(5)));
/// assert_eq!("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".parse::<PublicKey>(), Err(InvalidPublicKey::Weak));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

/// Why a value is not a usable [`PublicKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidPublicKey {
    /// Not strict padded base64.
    #[error("not padded base64")]
    NotBase64,
    /// Not 32 bytes.
    #[error("{0} bytes, not 32")]
    WrongLength(usize),
    /// Not the encoding of a point of Ed25519's curve.
    #[error("not an Ed25519 public key")]
    NotOnCurve,
    /// A small-order point, under which forged signatures verify.
    #[error("a weak (small-order) key, under which anyone can sign")]
    Weak,
}

impl PublicKey {
    /// The key from its base64, as Mission Control shows it.
    pub fn from_base64(value: &str) -> Result<Self, InvalidPublicKey> {
        let bytes = SDK_BASE64.decode(value.trim()).map_err(|_| InvalidPublicKey::NotBase64)?;
        let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| InvalidPublicKey::WrongLength(bytes.len()))?;
        Self::from_bytes(&bytes)
    }

    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, InvalidPublicKey> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| InvalidPublicKey::NotOnCurve)?;
        if key.is_weak() {
            return Err(InvalidPublicKey::Weak);
        }
        Ok(Self(key))
    }

    /// The public key of the 32-byte Ed25519 private key (RFC 8032 seed) `seed`: for
    /// tests that sign their own requests.
    ///
    /// ```
    /// use callhook::providers::telnyx::signature::PublicKey;
    /// let key = PublicKey::from_private_key(&[7; 32]);
    /// assert_eq!(PublicKey::from_base64(&key.to_base64()), Ok(key));
    /// ```
    pub fn from_private_key(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed).verifying_key())
    }

    /// The key's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// The key's base64, as Mission Control shows it.
    pub fn to_base64(&self) -> String {
        SDK_BASE64.encode(self.as_bytes())
    }
}

impl FromStr for PublicKey {
    type Err = InvalidPublicKey;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::from_base64(value)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

/// The `telnyx-signature-ed25519` value Telnyx sends for `body` with the timestamp
/// header `timestamp`, signed with the 32-byte Ed25519 private key (RFC 8032 seed)
/// `seed`.
///
/// ```
/// use callhook::providers::telnyx::signature;
/// let header = signature::sign(&[7; 32], "1764590400", b"{}");
/// assert_eq!(header.len(), 88);
/// assert!(header.ends_with("=="));
/// ```
pub fn sign(seed: &[u8; 32], timestamp: &str, body: &[u8]) -> String {
    use ed25519_dalek::Signer;
    let signature = SigningKey::from_bytes(seed).sign(&signed_message(timestamp, body));
    SDK_BASE64.encode(signature.to_bytes())
}

/// Checks a request's two headers (`None` when absent) against `body`, the keys, and
/// `now` within `tolerance`, in the SDK's order (module docs); the index of the key that
/// signed it.
///
/// ```
/// use callhook::providers::telnyx::signature::{self, PublicKey};
/// use callhook::verify::VerifyError;
/// use time::{Duration, macros::datetime};
///
/// let (old, new) = ([1; 32], [2; 32]);
/// let keys = [PublicKey::from_private_key(&old), PublicKey::from_private_key(&new)];
/// let at = datetime!(2025-12-01 12:00 UTC);
/// let timestamp = at.unix_timestamp().to_string();
/// let header = signature::sign(&new, &timestamp, b"{}");
/// let check = |now| signature::verify(&keys, Some(&header), Some(&timestamp), b"{}", now, signature::DEFAULT_TOLERANCE);
/// assert_eq!(check(at + Duration::seconds(30)), Ok(1), "the second key signed it");
/// assert_eq!(check(at + Duration::minutes(6)), Err(VerifyError::TimestampOutsideTolerance { skew_secs: -360 }));
/// ```
pub fn verify(
    keys: &[PublicKey],
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: OffsetDateTime,
    tolerance: Duration,
) -> Result<usize, VerifyError> {
    let signature = signature.filter(|s| !s.is_empty()).ok_or(VerifyError::MissingHeader(SIGNATURE_HEADER))?;
    let timestamp = timestamp.filter(|t| !t.is_empty()).ok_or(VerifyError::MissingHeader(TIMESTAMP_HEADER))?;
    let signed_at = parse_timestamp(timestamp)?;
    // Whole seconds on both sides: the SDK compares `Math.floor(Date.now() / 1000)`.
    let skew_secs = i64::try_from(signed_at).expect("at most 2^53 - 1") - now.unix_timestamp();
    if skew_secs.unsigned_abs() > tolerance.whole_seconds().unsigned_abs() {
        return Err(VerifyError::TimestampOutsideTolerance { skew_secs });
    }
    let signature = parse_signature(signature)?;
    let message = signed_message(timestamp, body);
    keys.iter().position(|key| key.0.verify_strict(&message, &signature).is_ok()).ok_or(VerifyError::SignatureMismatch)
}

/// `timestamp|body`, what Telnyx signs.
fn signed_message(timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(timestamp.len() + 1 + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'|');
    message.extend_from_slice(body);
    message
}

fn parse_timestamp(timestamp: &str) -> Result<u64, VerifyError> {
    let malformed = |reason| VerifyError::MalformedHeader { header: TIMESTAMP_HEADER, reason };
    if !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed("expected unix seconds (digits only)"));
    }
    // Leading zeros do not count, as for JavaScript's `Number()`.
    let significant = timestamp.trim_start_matches('0');
    let secs = if significant.is_empty() { 0 } else { significant.parse::<u64>().unwrap_or(u64::MAX) };
    if secs > MAX_SAFE_INTEGER {
        return Err(malformed("timestamp too large"));
    }
    Ok(secs)
}

fn parse_signature(signature: &str) -> Result<Signature, VerifyError> {
    let malformed = VerifyError::MalformedHeader { header: SIGNATURE_HEADER, reason: "expected padded base64 of 64 bytes" };
    let bytes = SDK_BASE64.decode(signature).map_err(|_| malformed.clone())?;
    let bytes: [u8; 64] = bytes.as_slice().try_into().map_err(|_| malformed)?;
    Ok(Signature::from_bytes(&bytes))
}

/// An Ed25519 public key verifies safely (weak keys are refused when it is built).
impl crate::account::Key for PublicKey {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    /// `decodeBase64` of the SDK's `lib/webhooks.js`, line for line.
    fn sdk_decode(value: &str) -> Option<Vec<u8>> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes = value.as_bytes();
        let body = value.trim_end_matches('=');
        let regex_ok = value.len() - body.len() <= 2 && body.bytes().all(|b| ALPHABET.contains(&b));
        if value.is_empty() || !value.len().is_multiple_of(4) || !regex_ok {
            return None;
        }
        let padding = if value.ends_with("==") { 2 } else { usize::from(value.ends_with('=')) };
        let mut out = vec![0u8; value.len() / 4 * 3 - padding];
        let mut at = 0;
        let index = |b: u8| ALPHABET.iter().position(|&a| a == b).map(|i| i as u32);
        for quad in bytes.chunks(4) {
            let a = index(quad[0])?;
            let b = index(quad[1])?;
            let c = if quad[2] == b'=' { 0 } else { index(quad[2])? };
            let d = if quad[3] == b'=' { 0 } else { index(quad[3])? };
            let chunk = (a << 18) | (b << 12) | (c << 6) | d;
            for shift in [16, 8, 0] {
                if at < out.len() {
                    out[at] = (chunk >> shift) as u8;
                    at += 1;
                }
            }
        }
        Some(out)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// For the lengths that matter (32-byte keys, 64-byte signatures), the engine
        /// accepts exactly the strings the SDK's decoder accepts, with the same bytes.
        #[test]
        fn base64_agrees_with_the_sdk_decoder(
            bytes in prop::collection::vec(any::<u8>(), 0..70),
            edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(&b"A/+=-_ \nQw"[..])), 0..3),
        ) {
            let mut text = SDK_BASE64.encode(&bytes).into_bytes();
            for (index, byte) in edits {
                if !text.is_empty() {
                    let i = index.index(text.len());
                    text[i] = byte;
                }
            }
            let text = String::from_utf8(text).unwrap();
            let sdk = sdk_decode(&text).filter(|b| b.len() == 32 || b.len() == 64);
            let ours = SDK_BASE64.decode(&text).ok().filter(|b| b.len() == 32 || b.len() == 64);
            prop_assert_eq!(sdk, ours, "{:?}", text);
        }
    }

    #[test]
    fn timestamps_the_sdk_refuses_are_malformed() {
        for timestamp in ["-1", "+1", "1.0", "1e9", " 1", "1 ", "0x10", "١٢", "9007199254740992"] {
            assert!(matches!(parse_timestamp(timestamp), Err(VerifyError::MalformedHeader { .. })), "{timestamp:?}");
        }
        assert_eq!(parse_timestamp("0001764590400"), Ok(1_764_590_400));
        assert_eq!(parse_timestamp("9007199254740991"), Ok(MAX_SAFE_INTEGER));
        assert_eq!(parse_timestamp("000"), Ok(0));
    }

    #[test]
    fn tolerance_is_inclusive_and_in_whole_seconds() {
        let seed = [9; 32];
        let keys = [PublicKey::from_private_key(&seed)];
        let at = datetime!(2025-12-01 12:00 UTC);
        let ts = at.unix_timestamp().to_string();
        let header = sign(&seed, &ts, b"x");
        let check = |now| verify(&keys, Some(&header), Some(&ts), b"x", now, DEFAULT_TOLERANCE);
        assert_eq!(check(at + Duration::seconds(300) + Duration::milliseconds(999)), Ok(0));
        assert_eq!(check(at - Duration::seconds(300)), Ok(0));
        assert_eq!(
            check(at - Duration::seconds(300) - Duration::milliseconds(500)),
            Err(VerifyError::TimestampOutsideTolerance { skew_secs: 301 })
        );
        assert_eq!(check(at + Duration::seconds(301)), Err(VerifyError::TimestampOutsideTolerance { skew_secs: -301 }));
    }

    #[test]
    fn keys_that_cannot_verify_are_refused() {
        assert_eq!(PublicKey::from_base64("not base64!"), Err(InvalidPublicKey::NotBase64));
        assert_eq!(PublicKey::from_base64(&SDK_BASE64.encode([0u8; 31])), Err(InvalidPublicKey::WrongLength(31)));
        // y = 2 is not the y of a point of the curve.
        let mut not_on_curve = [0u8; 32];
        not_on_curve[0] = 2;
        assert_eq!(PublicKey::from_bytes(&not_on_curve), Err(InvalidPublicKey::NotOnCurve));
        let key = PublicKey::from_private_key(&[3; 32]);
        assert_eq!(PublicKey::from_base64(&format!("  {key}\n")), Ok(key));
    }
}
