//! Meta's payload signature, `X-Hub-Signature-256: sha256=<hex>`.
//!
//! `HMAC-SHA256(app_secret, raw body)`, hex-encoded (either case accepted). The MAC
//! covers the body exactly as sent: Meta escapes non-ASCII characters as `\uXXXX` and
//! `/` as `\/`, so a body that was parsed and re-serialized no longer verifies, and
//! callhook never re-serializes before verifying. Several app secrets may be
//! configured (one endpoint for several apps, or a rotation); any one verifies.
//! Source: Graph API webhooks, "Validating payloads".

use crate::verify::{Secret, VerifyError, constant_time_eq, hmac_sha256};

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// The header value Meta sends for `body` signed with `app_secret`.
///
/// ```
/// use callhook::providers::whatsapp::signature;
/// let header = signature::sign("app-secret", br#"{"object":"whatsapp_business_account"}"#);
/// assert!(header.starts_with("sha256="));
/// assert_eq!(header.len(), 7 + 64);
/// ```
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(app_secret.as_bytes(), &[body])))
}

/// Checks `header` (the `X-Hub-Signature-256` value) against `body` and every secret;
/// the index of the secret that signed it.
///
/// ```
/// use callhook::providers::whatsapp::signature;
/// use callhook::verify::{Secret, VerifyError};
///
/// let body = br#"{"text":"Ol\u00e1 https:\/\/example.com"}"#;
/// let secrets = [Secret::new("app-1"), Secret::new("app-2")];
/// let header = signature::sign("app-2", body).to_uppercase().replace("SHA256=", "sha256=");
/// assert_eq!(signature::verify(&secrets, &header, body), Ok(1));
/// // The same JSON re-serialized is different bytes: it does not verify.
/// let reserialized = serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(body).unwrap()).unwrap();
/// assert_eq!(signature::verify(&secrets, &header, &reserialized), Err(VerifyError::SignatureMismatch));
/// ```
pub fn verify(secrets: &[Secret], header: &str, body: &[u8]) -> Result<usize, VerifyError> {
    let malformed = |reason| VerifyError::MalformedHeader { header: SIGNATURE_HEADER, reason };
    let hex_digest = header.trim().strip_prefix("sha256=").ok_or_else(|| malformed("expected sha256=<hex>"))?;
    let mut presented = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut presented).map_err(|_| malformed("expected 64 hex digits"))?;
    secrets
        .iter()
        .position(|secret| constant_time_eq(&hmac_sha256(secret.expose().as_bytes(), &[body]), &presented))
        .ok_or(VerifyError::SignatureMismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_headers_are_told_apart_from_wrong_ones() {
        let secrets = [Secret::new("s")];
        assert!(matches!(verify(&secrets, "sha1=abcd", b"{}"), Err(VerifyError::MalformedHeader { .. })));
        assert!(matches!(verify(&secrets, "sha256=xyz", b"{}"), Err(VerifyError::MalformedHeader { .. })));
        assert!(matches!(verify(&secrets, "sha256=abcd", b"{}"), Err(VerifyError::MalformedHeader { .. })));
        let other = sign("other", b"{}");
        assert_eq!(verify(&secrets, &other, b"{}"), Err(VerifyError::SignatureMismatch));
        assert_eq!(verify(&secrets, &sign("s", b"{}"), b"{}"), Ok(0));
        assert_eq!(verify(&[], &sign("s", b"{}"), b"{}"), Err(VerifyError::SignatureMismatch));
    }
}
