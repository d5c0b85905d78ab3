#!/usr/bin/env node
// Generates Vonage signed-webhook (JWT) test vectors for callhook from the OFFICIAL
// Vonage SDK (`@vonage/jwt`, version pinned exactly in package.json).
//
//   npm ci && node generate.js > ../../../tests/fixtures/vonage/signature_vectors.json
//
// Every `sdk_valid` flag in the output is what `verifySignature(token, secret)` of
// `@vonage/jwt` returned, with `Date.now` pinned to the vector's `now_ms` (the SDK's
// `jsonwebtoken` reads it for `exp`/`nbf`). Tokens are signed with `jsonwebtoken.sign`,
// the JWT library the SDK itself depends on (resolved from the SDK's own folder), as
// Vonage's servers sign webhooks (the SDK has no HS256 signer of its own); tokens no
// library would write (claims of the wrong type, `alg: none`, odd base64) are made
// with `node:crypto`, marked `"crafted": true`.
//
// `callhook_valid` is callhook's verdict, which adds rules the SDK leaves to the
// caller: `payload_hash` must be present and match the body, and `iat` must be a
// number within 5 minutes of now. The script fails if callhook would accept a token
// the SDK refuses, or if the SDK's verdict differs from the one expected from reading
// its source (`expect_sdk`), so an SDK upgrade that changes behaviour is noticed.

'use strict';

const crypto = require('node:crypto');
const path = require('node:path');
const { verifySignature } = require('@vonage/jwt');
const fs = require('node:fs');
// `@vonage/jwt` does not export its package.json: read it, and resolve the
// jsonwebtoken the SDK loads, from the SDK's own folder.
const sdkDir = path.join(__dirname, 'node_modules', '@vonage', 'jwt');
const jwtPath = require.resolve('jsonwebtoken', { paths: [sdkDir] });
const jwt = require(jwtPath);
const packageVersion = (dir) => JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
const sdkVersion = packageVersion(sdkDir);
const jwtVersion = packageVersion(path.dirname(jwtPath));

// ---------------------------------------------------------------------------
// Clock control: jsonwebtoken's verify reads Date.now() for exp/nbf.
// ---------------------------------------------------------------------------
const realDateNow = Date.now;
let clock = null;
Date.now = () => {
  if (clock === null) throw new Error('clock not pinned');
  return clock;
};

function sdkVerify(token, secret, nowMs) {
  clock = nowMs;
  try {
    return verifySignature(token, secret);
  } finally {
    clock = null;
  }
}

// ---------------------------------------------------------------------------
// Fixed inputs (made-up secret, ids and numbers).
// ---------------------------------------------------------------------------
const SECRET = 'kT3s9vQ2xW8mZ1rB6nY4cH7jL0pD5fGa';
const WRONG_SECRET = 'kT3s9vQ2xW8mZ1rB6nY4cH7jL0pD5fGb'; // last char differs
const NOW = 1764590442; // 2025-12-01T12:00:42Z, the call's end below
const NOW_MS = NOW * 1000 + 731;
const MIN = 60;

// A `completed` event as Vonage sends it: compact JSON, strings for numbers.
const EVENT = {
  end_time: '2025-12-01T12:00:42.000Z',
  uuid: '63f61863-4a51-4f6b-86e1-46edebcf9356',
  network: 'GB-FIXED',
  duration: '42',
  start_time: '2025-12-01T12:00:00.000Z',
  rate: '0.00450000',
  price: '0.00315000',
  from: '447700900000',
  to: '447700900001',
  conversation_uuid: 'CON-f972836a-550f-45fa-956c-12a2ab5b7d22',
  status: 'completed',
  direction: 'inbound',
  timestamp: '2025-12-01T12:00:42.012Z',
};
const BODY = JSON.stringify(EVENT);
const BODY_UTF8 = JSON.stringify({ ...EVENT, from_user: 'joão.ç-请-🙏' });
const BODY_PRETTY = JSON.stringify(EVENT, null, 2);
const BODY_TAMPERED = BODY.replace('"duration":"42"', '"duration":"4200"');
if (BODY_TAMPERED === BODY) throw new Error('tamper did not apply');

const sha256 = (text) => crypto.createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');

// Vonage's documented claim set (Messages "Signed webhooks" sample token).
function claims(body, overrides = {}) {
  const c = {
    iat: NOW,
    jti: 'c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5',
    iss: 'Vonage',
    payload_hash: sha256(body),
    api_key: 'a1b2c3d',
    application_id: 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab',
    ...overrides,
  };
  for (const [k, v] of Object.entries(c)) if (v === undefined) delete c[k];
  return c;
}

/** jsonwebtoken.sign, the SDK's own JWT library. */
function sign(payload, secret = SECRET, algorithm = 'HS256', extra = {}) {
  clock = NOW_MS; // sign() reads the clock even when `iat` is given
  try {
    return jwt.sign(payload, secret, { algorithm, noTimestamp: payload.iat === undefined, ...extra });
  } finally {
    clock = null;
  }
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** A token from raw JSON text, HMAC'd with node:crypto (for what no library writes). */
function craft(headerText, claimsText, secret = SECRET, hash = 'sha256') {
  const message = `${b64url(headerText)}.${b64url(claimsText)}`;
  const mac = secret === null ? '' : crypto.createHmac(hash, secret).update(message).digest('base64url');
  return `${message}.${mac}`;
}

// ---------------------------------------------------------------------------
// Cases: `expect_sdk` is our reading of the SDK source, `callhook` callhook's
// verdict: true, or the error it refuses with (malformed, signature, stale,
// body_hash).
// ---------------------------------------------------------------------------
function buildCases() {
  const cases = [];
  const add = (name, token, body, expect_sdk, callhook, opts = {}) =>
    cases.push({ name, secret: opts.secret ?? SECRET, token, body, now_ms: opts.now_ms ?? NOW_MS, expect_sdk, callhook, crafted: !!opts.crafted });

  const good = sign(claims(BODY));
  // --- Good tokens ----------------------------------------------------------
  add('valid_completed_event', good, BODY, true, true);
  add('valid_minimal_claims_iat_and_payload_hash', sign({ iat: NOW, payload_hash: sha256(BODY) }), BODY, true, true);
  add('valid_non_ascii_body_utf8', sign(claims(BODY_UTF8)), BODY_UTF8, true, true);
  add('valid_pretty_printed_body_hashed_as_sent', sign(claims(BODY_PRETTY)), BODY_PRETTY, true, true);
  add('valid_body_with_trailing_newline_hashed_as_sent', sign(claims(BODY + '\n')), BODY + '\n', true, true);
  add('valid_uppercase_payload_hash', sign(claims(BODY, { payload_hash: sha256(BODY).toUpperCase() })), BODY, true, true);
  add('valid_fractional_iat', sign(claims(BODY, { iat: NOW + 0.25 })), BODY, true, true);
  add('valid_without_typ_header', craft(JSON.stringify({ alg: 'HS256' }), JSON.stringify(claims(BODY))), BODY, true, true, { crafted: true });
  add('valid_with_kid_header', sign(claims(BODY), SECRET, 'HS256', { keyid: 'signature-secret-1' }), BODY, true, true);

  // --- iat: the SDK does not check it; callhook allows 5 minutes either way --
  add('valid_iat_4m59s_in_past', sign(claims(BODY, { iat: NOW - (4 * MIN + 59) })), BODY, true, true);
  add('valid_iat_exactly_5m_in_past', sign(claims(BODY, { iat: NOW - 5 * MIN })), BODY, true, true, { now_ms: NOW * 1000 });
  add('stale_iat_5m01s_in_past', sign(claims(BODY, { iat: NOW - (5 * MIN + 1) })), BODY, true, 'stale');
  add('stale_iat_one_hour_old', sign(claims(BODY, { iat: NOW - 3600 })), BODY, true, 'stale');
  add('valid_iat_exactly_5m_in_future', sign(claims(BODY, { iat: NOW + 5 * MIN })), BODY, true, true, { now_ms: NOW * 1000 });
  add('stale_iat_5m01s_in_future', sign(claims(BODY, { iat: NOW + 5 * MIN + 1 })), BODY, true, 'stale');
  add('stale_iat_in_milliseconds', sign(claims(BODY, { iat: NOW_MS })), BODY, true, 'stale');
  add('malformed_no_iat', sign(claims(BODY, { iat: undefined })), BODY, true, 'malformed');
  // CVE-2026-25537's pattern: a string where a number belongs is refused, not skipped.
  add('malformed_iat_as_string', craft(JSON.stringify({ alg: 'HS256', typ: 'JWT' }), JSON.stringify(claims(BODY, { iat: String(NOW) }))), BODY, true, 'malformed', { crafted: true });

  // --- exp / nbf: the SDK checks them (no leeway, whole seconds) -------------
  add('valid_exp_in_one_second', sign(claims(BODY, { exp: NOW + 1 })), BODY, true, true);
  add('invalid_exp_now', sign(claims(BODY, { exp: NOW })), BODY, false, 'stale');
  add('invalid_exp_passed', sign(claims(BODY, { exp: NOW - 60 })), BODY, false, 'stale');
  add('valid_nbf_now', sign(claims(BODY, { nbf: NOW })), BODY, true, true);
  add('invalid_nbf_in_one_second', sign(claims(BODY, { nbf: NOW + 1 })), BODY, false, 'stale');
  add('invalid_exp_as_string', craft(JSON.stringify({ alg: 'HS256', typ: 'JWT' }), JSON.stringify(claims(BODY, { exp: 'never' }))), BODY, false, 'malformed', { crafted: true });
  add('invalid_nbf_as_string', craft(JSON.stringify({ alg: 'HS256', typ: 'JWT' }), JSON.stringify(claims(BODY, { nbf: String(NOW + 3600) }))), BODY, false, 'malformed', { crafted: true });

  // --- payload_hash: the SDK never looks at it; callhook requires it ---------
  add('body_hash_tampered_body', good, BODY_TAMPERED, true, 'body_hash');
  add('body_hash_of_another_body', sign(claims(BODY_TAMPERED)), BODY, true, 'body_hash');
  add('body_hash_compact_hash_for_pretty_body', good, BODY_PRETTY, true, 'body_hash');
  add('body_hash_added_trailing_newline', good, BODY + '\n', true, 'body_hash');
  add('malformed_no_payload_hash', sign(claims(BODY, { payload_hash: undefined })), BODY, true, 'malformed');
  add('malformed_payload_hash_not_hex', sign(claims(BODY, { payload_hash: 'not-a-sha256' })), BODY, true, 'malformed');

  // --- Signature and algorithm ------------------------------------------------
  add('invalid_wrong_secret', good, BODY, false, 'signature', { secret: WRONG_SECRET });
  add('invalid_signed_with_wrong_secret', sign(claims(BODY), WRONG_SECRET), BODY, false, 'signature');
  const [h, p, s] = good.split('.');
  const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
  add('invalid_signature_one_char_changed', `${h}.${p}.${flipped}`, BODY, false, 'signature');
  const otherClaims = b64url(JSON.stringify(claims(BODY, { api_key: 'attacker' })));
  add('invalid_claims_swapped_signature_kept', `${h}.${otherClaims}.${s}`, BODY, false, 'signature');
  add('invalid_signature_removed', `${h}.${p}.`, BODY, false, 'signature');
  add('invalid_alg_none_unsigned', craft(JSON.stringify({ alg: 'none', typ: 'JWT' }), JSON.stringify(claims(BODY)), null), BODY, false, 'malformed', { crafted: true });
  add('invalid_alg_none_with_hs256_mac', craft(JSON.stringify({ alg: 'none', typ: 'JWT' }), JSON.stringify(claims(BODY))), BODY, false, 'malformed', { crafted: true });
  add('invalid_alg_hs384', sign(claims(BODY), SECRET, 'HS384'), BODY, false, 'malformed');
  add('invalid_alg_hs512', sign(claims(BODY), SECRET, 'HS512'), BODY, false, 'malformed');
  // With a shared secret, RS256 can never verify (the SDK needs a public key for it).
  add('invalid_alg_rs256', craft(JSON.stringify({ alg: 'RS256', typ: 'JWT' }), JSON.stringify(claims(BODY))), BODY, false, 'malformed', { crafted: true });
  add('invalid_alg_hs256_lowercase', craft(JSON.stringify({ alg: 'hs256', typ: 'JWT' }), JSON.stringify(claims(BODY))), BODY, false, 'malformed', { crafted: true });

  // --- Token syntax -------------------------------------------------------------
  add('invalid_two_segments', `${h}.${p}`, BODY, false, 'malformed');
  add('invalid_four_segments', `${good}.${s}`, BODY, false, 'malformed');
  add('invalid_empty_token', '', BODY, false, 'malformed');
  // A header of 37 bytes encodes with `==` padding; the SDK's jws refuses `=` in a token.
  const paddedHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: '1' })).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  if (!paddedHeader.endsWith('=')) throw new Error('the header needs padding');
  const paddedMessage = `${paddedHeader}.${p}`;
  const paddedMac = crypto.createHmac('sha256', SECRET).update(paddedMessage).digest('base64url');
  add('invalid_padded_header_segment', `${paddedMessage}.${paddedMac}`, BODY, false, 'malformed', { crafted: true });
  // Non-canonical base64url: the last character of the claims segment carries a
  // stray low bit. The SDK's Buffer decoding ignores it; callhook's decoder (RFC 4648
  // strict) refuses it. No JWT library writes such a token.
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  if (p.length % 4 === 0) throw new Error('the claims segment has no trailing bits');
  const last = ALPHABET.indexOf(p[p.length - 1]);
  const loose = p.slice(0, -1) + ALPHABET[last ^ 1];
  if (Buffer.from(loose, 'base64url').toString() !== Buffer.from(p, 'base64url').toString()) throw new Error('the stray bit changed the claims');
  const looseMessage = `${h}.${loose}`;
  const looseMac = crypto.createHmac('sha256', SECRET).update(looseMessage).digest('base64url');
  add('malformed_noncanonical_base64url_claims', `${looseMessage}.${looseMac}`, BODY, true, 'malformed', { crafted: true });
  add('malformed_claims_not_an_object', craft(JSON.stringify({ alg: 'HS256', typ: 'JWT' }), JSON.stringify('hello')), BODY, true, 'malformed', { crafted: true });

  return cases;
}

function main() {
  const cases = buildCases();
  const vectors = [];
  let failures = 0;
  for (const c of cases) {
    const sdkValid = sdkVerify(c.token, c.secret, c.now_ms);
    if (sdkValid !== c.expect_sdk) {
      failures++;
      process.stderr.write(`MISMATCH ${c.name}: SDK says ${sdkValid}, expected ${c.expect_sdk}\n`);
    }
    if (c.callhook === true && !sdkValid) {
      failures++;
      process.stderr.write(`CALLHOOK WOULD ACCEPT WHAT THE SDK REFUSES: ${c.name}\n`);
    }
    vectors.push({
      name: c.name,
      secret: c.secret,
      token: c.token,
      body: c.body,
      now_ms: c.now_ms,
      sdk_valid: sdkValid,
      callhook_valid: c.callhook === true,
      callhook_error: c.callhook === true ? null : c.callhook,
      crafted: c.crafted,
    });
  }
  // Cross-check: every token the SDK accepts carries an HMAC-SHA256 of its first two
  // segments under the vector's secret (node:crypto).
  for (const v of vectors.filter((v) => v.sdk_valid)) {
    const [a, b, mac] = v.token.split('.');
    if (crypto.createHmac('sha256', v.secret).update(`${a}.${b}`).digest('base64url') !== mac) {
      failures++;
      process.stderr.write(`CROSS-CHECK FAILED ${v.name}\n`);
    }
  }

  Date.now = realDateNow;
  const out = {
    generator: `@vonage/jwt@${sdkVersion} verifySignature (jsonwebtoken@${jwtVersion})`,
    vectors,
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  const count = (f) => vectors.filter(f).length;
  process.stderr.write(
    `${vectors.length} vectors: SDK accepts ${count((v) => v.sdk_valid)}, callhook accepts ${count((v) => v.callhook_valid)}\n`,
  );
  if (failures) process.exit(1);
}

main();
