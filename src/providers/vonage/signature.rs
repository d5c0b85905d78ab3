//! Vonage's signed webhooks: `Authorization: Bearer <JWT>`, the JWT signed HS256 with
//! the account's signature secret and carrying the SHA-256 of the body.
//!
//! # Algorithm
//!
//! Sources: Vonage's "Signed webhooks" concept page (Messages API; the Voice API guide
//! says Voice callbacks carry "the same JWT"), its sample token, and the official
//! `@vonage/jwt` 1.17.1 `verifySignature` (see `tools/vectors/vonage/README.md`).
//!
//! 1. The request has `Authorization: Bearer <token>` (scheme in any case), and the
//!    token is a compact JWS `base64url(header).base64url(claims).base64url(mac)`,
//!    decoded strictly (no padding, canonical base64url, as Vonage's signer writes it).
//! 2. The header's `alg` is `HS256`; `none` and every other algorithm are refused
//!    (the SDK allows `RS256` too, which cannot verify with a shared secret anyway).
//! 3. `mac` = HMAC-SHA256(signature secret, `header.claims` as sent), compared in
//!    constant time; each configured secret is tried (rotation).
//! 4. `exp`, when present, must be after now and `nbf`, when present, not after now,
//!    both in whole seconds and without leeway, exactly as the SDK's `jsonwebtoken`
//!    checks them (a claim that is not a number is refused, as there).
//! 5. Beyond the SDK (which checks none of these):
//!    - `iat` must be a number within the tolerance of the receiver's clock, either
//!      way (default [`DEFAULT_TOLERANCE`], 5 minutes, inclusive). The SDK does not
//!      check `iat` at all; Vonage's Voice API retries an event once, at once, so a
//!      genuine request is never minutes old. The receiver's clock is
//!      [`WebhookRequest::received_at`](crate::provider::WebhookRequest::received_at),
//!      never the system clock, so tests are exact.
//!    - `payload_hash` must be present and equal (constant time) to the hex SHA-256 of
//!      the raw body. Vonage calls this check optional; the SDK leaves it to the
//!      caller. Without it, a token seen once authenticates any body for its
//!      lifetime.
//!
//! `jti`, `iss` (`"Vonage"`), `api_key` and `application_id` are returned in
//! [`Claims`] but not checked: a token can only be made with the secret, and a replay
//! of a stored event is a duplicate, stored once.
//!
//! The JWT library is `jsonwebtoken` 12 on its pure-Rust backend (`rust_crypto`: no C
//! build, and it builds for `wasm32-unknown-unknown`). Only its token parsing and its
//! signature and algorithm checks are used; its claim validation is switched off (it
//! reads the system clock): the claims are read into [`Claims`]' own strict types and
//! checked here against the receiver's clock. (A string `exp` or `nbf` is refused here,
//! not skipped, whatever the library version: the pattern of CVE-2026-25537, fixed in
//! `jsonwebtoken` 10.3.)

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::verify::{Secret, VerifyError, bearer_token, check_timestamp, constant_time_eq, hmac_sha256};

/// The header that carries the token.
pub const AUTHORIZATION_HEADER: &str = "authorization";

/// How far `iat` may be from the receiver's clock, either way, by default: 5 minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::minutes(5);

/// The issuer Vonage writes in `iss`.
pub const ISSUER: &str = "Vonage";

/// The verified claims of a Vonage token.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Claims {
    /// When Vonage signed the token (`iat`).
    pub issued_at: OffsetDateTime,
    /// `exp`, when present.
    pub expires_at: Option<OffsetDateTime>,
    /// `nbf`, when present.
    pub not_before: Option<OffsetDateTime>,
    /// The token's unique id (`jti`).
    pub jti: Option<String>,
    /// The issuer (`iss`, `"Vonage"`).
    pub iss: Option<String>,
    /// The hex SHA-256 of the body (`payload_hash`), checked against it.
    pub payload_hash: String,
    /// The account's API key (`api_key`).
    pub api_key: Option<String>,
    /// The application (`application_id`).
    pub application_id: Option<String>,
    /// Which of the secrets signed the token (their index).
    pub key_index: usize,
}

/// The claims as the token carries them: times stay JSON numbers (integers or not, as
/// JavaScript compares them); any other type is refused.
#[derive(Deserialize)]
struct WireClaims {
    #[serde(default, deserialize_with = "numeric_date")]
    iat: Option<f64>,
    #[serde(default, deserialize_with = "numeric_date")]
    exp: Option<f64>,
    #[serde(default, deserialize_with = "numeric_date")]
    nbf: Option<f64>,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    payload_hash: Option<String>,
    #[serde(default)]
    api_key: Option<String>,
    #[serde(default)]
    application_id: Option<String>,
}

/// A JSON number (`null` is absent); a string or anything else is an error.
fn numeric_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(deserializer)
}

fn time_of(secs: f64) -> Option<OffsetDateTime> {
    let nanos = secs * 1e9;
    (nanos.is_finite() && nanos.abs() < 1e27)
        .then(|| OffsetDateTime::from_unix_timestamp_nanos(nanos as i128).ok())
        .flatten()
}

/// The hex SHA-256 of `body`: what `payload_hash` carries.
///
/// ```
/// use callhook::providers::vonage::signature;
/// assert_eq!(
///     signature::payload_hash(b""),
///     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/// );
/// ```
pub fn payload_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// The token Vonage sends for `body` signed with `secret` at `at`: the header
/// `{"alg":"HS256","typ":"JWT"}` as Vonage's signer writes it, and the claims `iat`
/// (`at`, whole seconds), `jti` (derived from the body and time, so the same inputs
/// give the same token), `iss`, `payload_hash`, `api_key` and `application_id` (test
/// values). Any secret signs, an empty one too (for tests of what is refused).
///
/// ```
/// use callhook::providers::vonage::signature;
/// use time::macros::datetime;
/// let token = signature::sign("secret", b"{}", datetime!(2025-12-01 12:00 UTC));
/// assert!(token.starts_with("eyJ") && token.split('.').count() == 3);
/// ```
pub fn sign(secret: &str, body: &[u8], at: OffsetDateTime) -> String {
    sign_as(secret, "a1b2c3d4", body, at)
}

/// [`sign`], for the account whose API key is `api_key` (the `api_key` claim).
///
/// ```
/// use callhook::providers::vonage::signature;
/// use time::macros::datetime;
/// let token = signature::sign_as("secret", "abc123", b"{}", datetime!(2025-12-01 12:00 UTC));
/// assert_eq!(signature::unverified_account_names(&format!("Bearer {token}"))[0], "abc123");
/// ```
pub fn sign_as(secret: &str, api_key: &str, body: &[u8], at: OffsetDateTime) -> String {
    let hash = payload_hash(body);
    let iat = at.unix_timestamp();
    let d = hex::encode(Sha256::digest(format!("{hash}:{iat}")));
    let jti = format!("{}-{}-{}-{}-{}", &d[..8], &d[8..12], &d[12..16], &d[16..20], &d[20..32]);
    let claims = serde_json::json!({
        "iat": iat, "jti": jti, "iss": ISSUER, "payload_hash": hash,
        "api_key": api_key, "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
    });
    let message = [r#"{"alg":"HS256","typ":"JWT"}"#.to_owned(), claims.to_string()]
        .map(|part| URL_SAFE_NO_PAD.encode(part))
        .join(".");
    let mac = hmac_sha256(secret.as_bytes(), &[message.as_bytes()]);
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// Checks the `Authorization` header value against `body`, the secrets, and `now`
/// within `tolerance` (see the module docs for every rule), returning the claims.
///
/// ```
/// use callhook::providers::vonage::signature;
/// use callhook::verify::{Secret, VerifyError};
/// use time::{Duration, macros::datetime};
///
/// let at = datetime!(2025-12-01 12:00 UTC);
/// let header = format!("Bearer {}", signature::sign("new secret", b"{}", at));
/// let secrets = [Secret::new("old secret"), Secret::new("new secret")];
/// let tolerance = signature::DEFAULT_TOLERANCE;
/// let claims = signature::verify(&secrets, &header, b"{}", at + Duration::seconds(30), tolerance).unwrap();
/// assert_eq!(claims.iss.as_deref(), Some("Vonage"));
/// assert_eq!(
///     signature::verify(&secrets, &header, b"{ }", at, tolerance),
///     Err(VerifyError::BodyHashMismatch)
/// );
/// assert_eq!(
///     signature::verify(&secrets, &header, b"{}", at + Duration::minutes(6), tolerance),
///     Err(VerifyError::TimestampOutsideTolerance { skew_secs: -360 })
/// );
/// ```
pub fn verify(
    secrets: &[Secret],
    authorization: &str,
    body: &[u8],
    now: OffsetDateTime,
    tolerance: Duration,
) -> Result<Claims, VerifyError> {
    let malformed = |reason| VerifyError::MalformedHeader { header: AUTHORIZATION_HEADER, reason };
    let token = bearer_token(authorization).ok_or_else(|| malformed("expected Bearer <JWT>"))?;
    let header = jsonwebtoken::decode_header(token).map_err(|_| malformed("expected a JWT with an HS256 header"))?;
    if header.alg != Algorithm::HS256 {
        return Err(malformed("the JWT's algorithm must be HS256"));
    }
    let (key_index, wire) = authenticate(secrets, token)?;

    let now_secs = now.unix_timestamp() as f64;
    // As the SDK's jsonwebtoken: expired once `now >= exp`, early while `nbf > now`.
    if let Some(exp) = wire.exp
        && now_secs >= exp
    {
        return Err(VerifyError::TimestampOutsideTolerance { skew_secs: (exp - now_secs) as i64 });
    }
    if let Some(nbf) = wire.nbf
        && nbf > now_secs
    {
        return Err(VerifyError::TimestampOutsideTolerance { skew_secs: (nbf - now_secs) as i64 });
    }
    let iat = wire.iat.ok_or_else(|| malformed("the JWT has no iat claim"))?;
    // Compared in seconds first: an `iat` far off (in milliseconds, say) is a stale
    // token, not one out of `OffsetDateTime`'s range.
    let skew = iat - now.unix_timestamp_nanos() as f64 / 1e9;
    if skew.abs() > tolerance.as_seconds_f64().abs() + 1.0 {
        return Err(VerifyError::TimestampOutsideTolerance { skew_secs: skew as i64 });
    }
    let issued_at = time_of(iat).ok_or_else(|| malformed("the JWT's iat is out of range"))?;
    check_timestamp(issued_at, now, tolerance.unsigned_abs())?;

    let claimed = wire.payload_hash.ok_or_else(|| malformed("the JWT has no payload_hash claim"))?;
    let mut claimed_digest = [0u8; 32];
    hex::decode_to_slice(&claimed, &mut claimed_digest)
        .map_err(|_| malformed("the JWT's payload_hash is not 64 hex digits"))?;
    if !constant_time_eq(&Sha256::digest(body), &claimed_digest) {
        return Err(VerifyError::BodyHashMismatch);
    }

    Ok(Claims {
        issued_at,
        expires_at: wire.exp.and_then(time_of),
        not_before: wire.nbf.and_then(time_of),
        jti: wire.jti,
        iss: wire.iss,
        payload_hash: claimed,
        api_key: wire.api_key,
        application_id: wire.application_id,
        key_index,
    })
}

/// What the token in `authorization` says of its account (`api_key`, then
/// `application_id`), read without checking its signature: only to choose which
/// account's secrets verify it (see [`crate::account`]). Empty for anything that is not
/// a readable token.
///
/// ```
/// use callhook::providers::vonage::signature;
/// use time::macros::datetime;
/// let token = signature::sign_as("s", "abc123", b"{}", datetime!(2025-12-01 12:00 UTC));
/// let names = signature::unverified_account_names(&format!("Bearer {token}"));
/// assert_eq!(names, ["abc123", "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"]);
/// assert!(signature::unverified_account_names("Bearer nonsense").is_empty());
/// ```
pub fn unverified_account_names(authorization: &str) -> Vec<String> {
    #[derive(Deserialize)]
    struct Names {
        #[serde(default)]
        api_key: Option<String>,
        #[serde(default)]
        application_id: Option<String>,
    }
    let payload = bearer_token(authorization).and_then(|token| token.split('.').nth(1));
    let names = payload
        .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
        .and_then(|json| serde_json::from_slice::<Names>(&json).ok());
    names.map(|names| names.api_key.into_iter().chain(names.application_id).collect()).unwrap_or_default()
}

/// The index of the secret that signed `token` (HS256 only), and its claims.
fn authenticate(secrets: &[Secret], token: &str) -> Result<(usize, WireClaims), VerifyError> {
    let mut validation = Validation::new(Algorithm::HS256);
    // Claims are checked by `verify` on its own strict types, against the receiver's
    // clock: none of the library's (system-clock) claim checks run.
    validation.required_spec_claims = HashSet::new();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.leeway = 0;
    for (index, secret) in secrets.iter().enumerate().filter(|(_, secret)| !secret.expose().is_empty()) {
        let Ok(key) = DecodingKey::from_secret(secret.expose().as_bytes()) else { continue };
        match jsonwebtoken::decode::<WireClaims>(token, &key, &validation) {
            Ok(data) => return Ok((index, data.claims)),
            Err(error) if matches!(error.kind(), ErrorKind::InvalidSignature) => continue,
            Err(error) => {
                let reason = match error.kind() {
                    ErrorKind::Json(_) | ErrorKind::Utf8(_) => "the JWT's claims are not valid Vonage claims",
                    ErrorKind::Base64(_) => "the JWT is not base64url",
                    _ => "the JWT is malformed",
                };
                return Err(VerifyError::MalformedHeader { header: AUTHORIZATION_HEADER, reason });
            }
        }
    }
    Err(VerifyError::SignatureMismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2025-12-01 12:00 UTC);

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    fn claims(iat: serde_json::Value) -> serde_json::Value {
        serde_json::json!({"iat": iat, "iss": "Vonage", "payload_hash": payload_hash(b"{}")})
    }

    fn token_with(header: &serde_json::Value, claims: &serde_json::Value, secret: &str) -> String {
        let b64 = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let message = format!("{}.{}", b64(header), b64(claims));
        let mac = hmac_sha256(secret.as_bytes(), &[message.as_bytes()]);
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    #[test]
    fn only_hs256_is_accepted() {
        let secrets = [Secret::new("s")];
        let claims = claims(AT.unix_timestamp().into());
        for alg in ["none", "HS384", "HS512", "RS256", "hs256", ""] {
            let token = token_with(&serde_json::json!({"alg": alg, "typ": "JWT"}), &claims, "s");
            let result = verify(&secrets, &bearer(&token), b"{}", AT, DEFAULT_TOLERANCE);
            assert!(matches!(result, Err(VerifyError::MalformedHeader { .. })), "{alg}: {result:?}");
        }
        let unsigned = format!("{}.", token_with(&serde_json::json!({"alg": "none"}), &claims, "s").rsplit_once('.').unwrap().0);
        assert!(verify(&secrets, &bearer(&unsigned), b"{}", AT, DEFAULT_TOLERANCE).is_err());
        let token = token_with(&serde_json::json!({"alg": "HS256"}), &claims, "s");
        assert!(verify(&secrets, &bearer(&token), b"{}", AT, DEFAULT_TOLERANCE).is_ok());
    }

    #[test]
    fn time_claims_of_the_wrong_type_are_refused_not_skipped() {
        // CVE-2026-25537's pattern: a string where a number belongs.
        let secrets = [Secret::new("s")];
        let header = serde_json::json!({"alg": "HS256", "typ": "JWT"});
        let iat = AT.unix_timestamp();
        for (key, value) in [("iat", serde_json::json!(iat.to_string())), ("exp", "never".into()), ("nbf", "0".into())]
        {
            let mut claims = claims(iat.into());
            claims[key] = value;
            let token = token_with(&header, &claims, "s");
            let result = verify(&secrets, &bearer(&token), b"{}", AT, DEFAULT_TOLERANCE);
            assert!(matches!(result, Err(VerifyError::MalformedHeader { .. })), "{key}: {result:?}");
        }
        // A fractional iat is a number, compared as one.
        let token = token_with(&header, &claims(serde_json::json!(iat as f64 + 0.5)), "s");
        assert!(verify(&secrets, &bearer(&token), b"{}", AT, DEFAULT_TOLERANCE).is_ok());
    }

    #[test]
    fn tolerance_is_inclusive_both_ways_and_exp_nbf_follow_the_sdk() {
        let secrets = [Secret::new("s")];
        let header = bearer(&sign("s", b"x", AT));
        for offset in [Duration::minutes(5), -Duration::minutes(5)] {
            assert!(verify(&secrets, &header, b"x", AT + offset, DEFAULT_TOLERANCE).is_ok());
        }
        let late = verify(&secrets, &header, b"x", AT + Duration::minutes(5) + Duration::seconds(1), DEFAULT_TOLERANCE);
        assert_eq!(late, Err(VerifyError::TimestampOutsideTolerance { skew_secs: -301 }));

        let iat = AT.unix_timestamp();
        let with = |key: &str, value: i64| {
            let mut claims = claims(iat.into());
            claims[key] = value.into();
            bearer(&token_with(&serde_json::json!({"alg": "HS256"}), &claims, "s"))
        };
        assert!(verify(&secrets, &with("exp", iat), b"{}", AT, DEFAULT_TOLERANCE).is_err(), "exp == now is expired");
        assert!(verify(&secrets, &with("exp", iat + 1), b"{}", AT, DEFAULT_TOLERANCE).is_ok());
        assert!(verify(&secrets, &with("nbf", iat), b"{}", AT, DEFAULT_TOLERANCE).is_ok());
        assert!(verify(&secrets, &with("nbf", iat + 1), b"{}", AT, DEFAULT_TOLERANCE).is_err());
    }

    #[test]
    fn missing_or_malformed_payload_hash_is_refused() {
        let secrets = [Secret::new("s")];
        let header = serde_json::json!({"alg": "HS256"});
        let mut no_hash = claims(AT.unix_timestamp().into());
        no_hash.as_object_mut().unwrap().remove("payload_hash");
        let mut short = no_hash.clone();
        short["payload_hash"] = "abc".into();
        for claims in [no_hash, short] {
            let token = token_with(&header, &claims, "s");
            let result = verify(&secrets, &bearer(&token), b"{}", AT, DEFAULT_TOLERANCE);
            assert!(matches!(result, Err(VerifyError::MalformedHeader { .. })), "{result:?}");
        }
        let mut upper = claims(AT.unix_timestamp().into());
        upper["payload_hash"] = payload_hash(b"{}").to_uppercase().into();
        let token = token_with(&header, &upper, "s");
        assert!(verify(&secrets, &bearer(&token), b"{}", AT, DEFAULT_TOLERANCE).is_ok(), "hex in either case");
    }

    #[test]
    fn empty_secrets_never_verify() {
        let token = bearer(&sign("", b"{}", AT));
        assert_eq!(verify(&[Secret::new("")], &token, b"{}", AT, DEFAULT_TOLERANCE), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn signing_is_deterministic() {
        assert_eq!(sign("s", b"{}", AT), sign("s", b"{}", AT));
        assert_ne!(sign("s", b"{}", AT), sign("s", b"{} ", AT));
    }
}
