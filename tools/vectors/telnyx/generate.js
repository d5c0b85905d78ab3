#!/usr/bin/env node
// Generates telnyx-signature-ed25519 test vectors for callhook from the OFFICIAL
// `telnyx` npm package (version pinned exactly in package.json).
//
//   npm ci && node generate.js > ../../../tests/fixtures/telnyx/signature_vectors.json
//
// Every `valid` flag in the output is what the SDK's own verifier decided:
// `new TelnyxWebhook(publicKey).verify(body, headers)` (lib/webhooks.js, the class
// behind `client.webhooks.unwrap(body, { headers, key })`), with `Date.now` pinned to
// the vector's `now_ms`. It resolves (valid) or throws TelnyxWebhookVerificationError
// (invalid); the error's message is kept as `sdk_error`.
//
// Signatures are made with node:crypto's Ed25519 over `${timestamp}|${body}`, from
// key pairs derived from fixed seeds, so the output is byte-for-byte deterministic
// (Ed25519 signatures have no randomness). Each case also carries the verdict we
// expect from reading the SDK source; if the SDK disagrees, the script still records
// the SDK's verdict but prints MISMATCH to stderr and exits 1, so a behaviour change
// in a newer SDK is noticed instead of silently rewriting the fixture. Every vector
// the SDK accepts is also checked with node:crypto's own verifier.

'use strict';

const crypto = require('node:crypto');
const { TelnyxWebhook } = require('telnyx/lib/webhooks');
const sdkVersion = require('telnyx/version').VERSION;

// ---------------------------------------------------------------------------
// Clock control: the SDK reads Date.now() (milliseconds) and floors it to seconds.
// ---------------------------------------------------------------------------
const realDateNow = Date.now;
let clock = null;
Date.now = () => {
  if (clock === null) throw new Error('clock not pinned');
  return clock;
};

// ---------------------------------------------------------------------------
// Keys: Ed25519 from fixed 32-byte seeds (RFC 8032 private keys).
// ---------------------------------------------------------------------------
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function keyPair(label) {
  const seed = crypto.createHash('sha256').update(label).digest();
  const privateKey = crypto.createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = crypto.createPublicKey(privateKey);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { seed, privateKey, publicKey, publicBase64: raw.toString('base64') };
}

const KEY = keyPair('callhook telnyx signature vectors: the account key');
const OTHER = keyPair('callhook telnyx signature vectors: another account');

function sign(key, timestamp, body) {
  return crypto.sign(null, Buffer.from(`${timestamp}|${body}`, 'utf8'), key.privateKey).toString('base64');
}

/** The SDK's verdict, with its clock at `nowMs`. */
async function sdkVerify(publicKey, body, signature, timestamp, nowMs) {
  const headers = {};
  if (signature !== null) headers['telnyx-signature-ed25519'] = signature;
  if (timestamp !== null) headers['telnyx-timestamp'] = timestamp;
  clock = nowMs;
  try {
    await new TelnyxWebhook(publicKey).verify(body, headers);
    return { valid: true, error: null };
  } catch (e) {
    if (e.name !== 'TelnyxWebhookVerificationError') throw e;
    return { valid: false, error: e.message };
  } finally {
    clock = null;
  }
}

// ---------------------------------------------------------------------------
// Fixed inputs (made-up ids and numbers).
// ---------------------------------------------------------------------------
const T = 1764590400; // the signing time: 2025-12-01T12:00:00Z, unix seconds
const NOW_MS = T * 1000 + 250; // the verifier's clock, 250 ms after signing
const TS = String(T);

function envelope(eventType, occurredAt, payload) {
  return {
    data: {
      record_type: 'event',
      id: '5f2a8f0e-3c1d-4b7a-9e61-2d0c4b8a7e11',
      event_type: eventType,
      occurred_at: occurredAt,
      payload,
    },
    meta: { attempt: 1, delivered_to: 'https://crm.example.com/webhooks/telnyx' },
  };
}

const CALL = envelope('call.initiated', '2025-12-01T11:59:59.812345Z', {
  call_control_id: 'v3:Mk3xZ0Jm8h3b0kq1Yw2axZ_IiE4pqgLd9sQ',
  connection_id: '2419845711245213693',
  call_leg_id: '9a4d2c16-ce5a-11f0-8f1e-02420a1f0b6c',
  call_session_id: '9a4c8e7a-ce5a-11f0-b2a4-02420a1f0b6c',
  client_state: null,
  from: '+5511999998888',
  to: '+553322980007',
  direction: 'incoming',
  state: 'parked',
  start_time: '2025-12-01T11:59:59.801234Z',
});
const BODY = JSON.stringify(CALL);

// Raw UTF-8 beyond ASCII: Latin-1, CJK and an astral-plane emoji.
const BODY_UTF8 = JSON.stringify(
  envelope('message.received', '2025-12-01T11:59:58.000Z', {
    record_type: 'message',
    id: 'b0c4e3a2-7f11-4d5e-9a0b-3c2d1e0f9a8b',
    direction: 'inbound',
    type: 'SMS',
    from: { phone_number: '+5511999998888', carrier: 'Operadora', line_type: 'Wireless' },
    to: [{ phone_number: '+553322980007', status: 'webhook_delivered' }],
    text: 'Olá, João! Quero um orçamento — 请回电 🙏',
    media: [],
    errors: [],
  }),
);

// What some serializers write: `\/` and `\uXXXX` escapes, kept byte for byte.
const BODY_ESCAPED = BODY.replace('"to":"+553322980007"', '"to":"sip:agent@voice.example.com\\/pbx","caller_id_name":"Jo\\u00e3o"');
if (BODY_ESCAPED === BODY) throw new Error('escape edit did not apply');

// Whitespace: pretty-printed with two spaces, then with tabs and CRLF, then a
// trailing newline.
const BODY_PRETTY = JSON.stringify(CALL, null, 2);
const BODY_TABS = JSON.stringify(CALL, null, '\t').replace(/\n/g, '\r\n');
const BODY_NEWLINE = BODY + '\n';

// A body with the separator in it.
const BODY_PIPE = BODY.replace('"state":"parked"', '"state":"parked","note":"a|b||c"');

// One byte changed.
const BODY_TAMPERED = BODY.replace('+5511999998888', '+5511999998889');
if (BODY_TAMPERED === BODY) throw new Error('tamper did not apply');

// Signature encodings.
function lastCharWithTrailingBits(sig) {
  // A 64-byte signature is 86 base64 digits and "==": the last digit carries 2 bits
  // of data and 4 bits the decoder drops. Set one of those to 1.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const i = 85;
  const v = alphabet.indexOf(sig[i]);
  if ((v & 0x0f) !== 0) throw new Error('expected canonical trailing bits');
  return sig.slice(0, i) + alphabet[v | 0x01] + sig.slice(i + 1);
}

// The order of the group: S + L verifies under a verifier that does not insist on a
// canonical S.
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
function malleate(sigBase64) {
  const sig = Buffer.from(sigBase64, 'base64');
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]);
  s += L;
  if (s >= 1n << 256n) return null;
  const out = Buffer.from(sig);
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return out.toString('base64');
}

// A small-order public key (the identity point) and the "signature" that any
// verifier accepting it would take for every message: R = identity, S = 0.
const IDENTITY_KEY = Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]).toString('base64');
const IDENTITY_SIGNATURE = Buffer.concat([Buffer.from([1]), Buffer.alloc(63)]).toString('base64');

// ---------------------------------------------------------------------------
// Cases. `expect` is our reading of the SDK source; `valid` in the output is what
// the SDK returned.
// ---------------------------------------------------------------------------
function buildCases() {
  const cases = [];
  const add = (name, body, signature, timestamp, expect, opts = {}) =>
    cases.push({
      name,
      public_key: opts.publicKey ?? KEY.publicBase64,
      body,
      signature,
      timestamp,
      now_ms: opts.nowMs ?? NOW_MS,
      expect,
      differs: opts.differs ?? null,
    });
  const sigNow = sign(KEY, TS, BODY);

  // --- Good signatures over different bodies --------------------------------
  add('valid_call_initiated_signed_now', BODY, sigNow, TS, true);
  add('valid_non_ascii_utf8_body', BODY_UTF8, sign(KEY, TS, BODY_UTF8), TS, true);
  add('valid_escaped_slashes_and_unicode_escapes', BODY_ESCAPED, sign(KEY, TS, BODY_ESCAPED), TS, true);
  add('valid_pretty_printed_body', BODY_PRETTY, sign(KEY, TS, BODY_PRETTY), TS, true);
  add('valid_tabs_and_crlf_body', BODY_TABS, sign(KEY, TS, BODY_TABS), TS, true);
  add('valid_trailing_newline_signed_as_is', BODY_NEWLINE, sign(KEY, TS, BODY_NEWLINE), TS, true);
  add('valid_body_containing_the_separator', BODY_PIPE, sign(KEY, TS, BODY_PIPE), TS, true);
  add('valid_empty_body', '', sign(KEY, TS, ''), TS, true);

  // --- The body must be byte for byte what was signed ------------------------
  add('invalid_tampered_body', BODY_TAMPERED, sigNow, TS, false);
  add('invalid_trailing_newline_added', BODY_NEWLINE, sigNow, TS, false);
  add('invalid_pretty_printed_with_compact_signature', BODY_PRETTY, sigNow, TS, false);
  add('invalid_escapes_decoded_before_verifying', BODY_ESCAPED.replace('\\/', '/'), sign(KEY, TS, BODY_ESCAPED), TS, false);

  // --- Keys ---------------------------------------------------------------------
  add('invalid_signed_by_another_key', BODY, sign(OTHER, TS, BODY), TS, false);
  add('invalid_verified_with_another_key', BODY, sigNow, TS, false, { publicKey: OTHER.publicBase64 });

  // --- Tolerance: |floor(now / 1000) - timestamp| <= 300 ------------------------
  const at = (offsetSecs) => {
    const ts = String(T + offsetSecs);
    return [sign(KEY, ts, BODY), ts];
  };
  add('valid_timestamp_300s_in_past', BODY, ...at(-300), true);
  add('invalid_timestamp_301s_in_past', BODY, ...at(-301), false);
  add('valid_timestamp_300s_in_future', BODY, ...at(300), true);
  add('invalid_timestamp_301s_in_future', BODY, ...at(301), false);
  add('invalid_timestamp_one_hour_in_past', BODY, ...at(-3600), false);
  // The clock is floored to whole seconds before comparing: 300.999 s of age passes ...
  add('valid_timestamp_300_999s_in_past_floor', BODY, sigNow, TS, true, { nowMs: (T + 300) * 1000 + 999 });
  // ... while a timestamp 300.5 s ahead counts as 301 s ahead.
  add('invalid_timestamp_300_5s_in_future_floor', BODY, sigNow, TS, false, { nowMs: (T - 301) * 1000 + 500 });
  // The timestamp is seconds: milliseconds are ~55,000 years ahead.
  const tsMs = String(T * 1000);
  add('invalid_timestamp_in_milliseconds', BODY, sign(KEY, tsMs, BODY), tsMs, false);

  // --- Timestamp syntax: /^\d+$/ and a safe integer; the raw header is signed ---
  add('valid_timestamp_leading_zero_signed_as_sent', BODY, sign(KEY, '0' + TS, BODY), '0' + TS, true);
  add('invalid_timestamp_leading_zero_signed_without_it', BODY, sigNow, '0' + TS, false);
  add('invalid_signature_for_another_timestamp', BODY, sign(KEY, String(T - 1), BODY), TS, false);
  add('invalid_timestamp_with_space', BODY, sign(KEY, ' ' + TS, BODY), ' ' + TS, false);
  add('invalid_timestamp_with_plus_sign', BODY, sign(KEY, '+' + TS, BODY), '+' + TS, false);
  add('invalid_timestamp_with_fraction', BODY, sign(KEY, TS + '.0', BODY), TS + '.0', false);
  add('invalid_timestamp_exponent', BODY, sign(KEY, '1.7645904e9', BODY), '1.7645904e9', false);
  add('invalid_timestamp_beyond_safe_integer', BODY, sign(KEY, '9007199254740993', BODY), '9007199254740993', false);
  add('invalid_timestamp_not_a_number', BODY, sigNow, 'yesterday', false);
  add('invalid_timestamp_missing', BODY, sigNow, null, false);
  add('invalid_timestamp_empty', BODY, sigNow, '', false);

  // --- Signature syntax: strict padded base64 of exactly 64 bytes -------------
  add('invalid_signature_missing', BODY, null, TS, false);
  add('invalid_signature_empty', BODY, '', TS, false);
  add('invalid_signature_unpadded', BODY, sigNow.replace(/=+$/, ''), TS, false);
  if (/[+/]/.test(sigNow)) {
    add('invalid_signature_url_safe_alphabet', BODY, sigNow.replace(/\+/g, '-').replace(/\//g, '_'), TS, false);
  }
  add('invalid_signature_with_surrounding_space', BODY, ' ' + sigNow, TS, false);
  add('invalid_signature_with_trailing_newline', BODY, sigNow + '\n', TS, false);
  add('invalid_signature_truncated_to_63_bytes', BODY, Buffer.from(sigNow, 'base64').subarray(0, 63).toString('base64'), TS, false);
  add('invalid_signature_65_bytes', BODY, Buffer.concat([Buffer.from(sigNow, 'base64'), Buffer.from([0])]).toString('base64'), TS, false);
  add('invalid_signature_hex_encoded', BODY, Buffer.from(sigNow, 'base64').toString('hex'), TS, false);
  add('invalid_signature_all_zeros', BODY, Buffer.alloc(64).toString('base64'), TS, false);
  add('invalid_signature_one_bit_flipped', BODY, (() => {
    const b = Buffer.from(sigNow, 'base64');
    b[10] ^= 0x01;
    return b.toString('base64');
  })(), TS, false);
  // The SDK's decoder ignores the bits past the last byte: a non-canonical encoding of
  // the same 64 bytes verifies.
  add('valid_signature_non_canonical_trailing_bits', BODY, lastCharWithTrailingBits(sigNow), TS, true);
  // A non-canonical S (S + L) is refused by Web Crypto.
  const malleated = malleate(sigNow);
  if (malleated) add('invalid_signature_s_plus_group_order', BODY, malleated, TS, false);
  // A small-order public key (the identity point): Web Crypto accepts the trivial
  // forgery R = identity, S = 0 for every message. callhook refuses such a key when it
  // is configured (and verifies strictly), so this is the one vector where it
  // deliberately disagrees with the SDK; `callhook_differs` says why.
  add('sdk_accepts_identity_public_key_trivial_forgery', BODY, IDENTITY_SIGNATURE, TS, true, {
    publicKey: IDENTITY_KEY,
    differs: 'a small-order public key makes every message verify: callhook refuses it as a configured key',
  });

  return cases;
}

async function main() {
  const cases = buildCases();
  const vectors = [];
  let mismatches = 0;
  for (const c of cases) {
    const { valid, error } = await sdkVerify(c.public_key, c.body, c.signature, c.timestamp, c.now_ms);
    if (valid !== c.expect) {
      mismatches++;
      process.stderr.write(`MISMATCH ${c.name}: SDK says ${valid} (${error}), expected ${c.expect}\n`);
    }
    vectors.push({
      name: c.name,
      public_key: c.public_key,
      body: c.body,
      signature: c.signature,
      timestamp: c.timestamp,
      now_ms: c.now_ms,
      valid,
      sdk_error: error,
      ...(c.differs ? { callhook_differs: c.differs } : {}),
    });
  }

  // Cross-check: whatever the SDK accepts, node:crypto accepts too (over the bytes
  // the signature decodes to), and the message is `${timestamp}|${body}`.
  for (const v of vectors.filter((v) => v.valid && !v.callhook_differs)) {
    const key = crypto.createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(v.public_key, 'base64')]),
      format: 'der',
      type: 'spki',
    });
    const ok = crypto.verify(null, Buffer.from(`${v.timestamp}|${v.body}`, 'utf8'), key, Buffer.from(v.signature, 'base64'));
    if (!ok) {
      mismatches++;
      process.stderr.write(`CROSS-CHECK FAILED ${v.name}\n`);
    }
  }

  Date.now = realDateNow;
  const out = {
    generator: `telnyx@${sdkVersion} TelnyxWebhook.verify (lib/webhooks.js)`,
    public_key: KEY.publicBase64,
    vectors,
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  process.stderr.write(`${vectors.length} vectors (${vectors.filter((v) => v.valid).length} valid)\n`);
  if (mismatches) process.exit(1);
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
