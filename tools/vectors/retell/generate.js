#!/usr/bin/env node
// Generates x-retell-signature test vectors for callhook from the OFFICIAL
// `retell-sdk` npm package (version pinned exactly in package.json).
//
//   npm ci && node generate.js > ../../../tests/fixtures/retell/signature_vectors.json
//
// Every `valid` flag in the output is what `Retell.verify(body, apiKey, signature)`
// returned, with `Date.now` pinned to the vector's `now_ms`. Signatures are made
// with `Retell.sign(body, apiKey)` (which stamps `Date.now()`), with `Date.now`
// pinned to the wanted timestamp while signing. The output is fully deterministic:
// fixed keys, bodies, timestamps, and HMAC has no randomness.
//
// Each case also carries the verdict we expect from reading the SDK source
// (lib/webhook_auth.js). If the SDK disagrees, the script still records the SDK's
// verdict but prints the mismatch to stderr and exits 1, so a behaviour change in
// a newer SDK is noticed instead of silently rewriting the fixture.

'use strict';

const crypto = require('node:crypto');
const Retell = require('retell-sdk').default;
const sdkVersion = require('retell-sdk/version').VERSION;

// ---------------------------------------------------------------------------
// Clock control: the SDK reads Date.now() both in sign() (the `v=` value) and
// in verify() (the tolerance check). We replace it with a settable clock.
// ---------------------------------------------------------------------------
const realDateNow = Date.now;
let clock = null;
Date.now = () => {
  if (clock === null) throw new Error('clock not pinned');
  return clock;
};

/** Retell.sign with its timestamp pinned to `ts` (unix ms). */
async function sdkSign(body, apiKey, ts) {
  clock = ts;
  try {
    return await Retell.sign(body, apiKey);
  } finally {
    clock = null;
  }
}

/** Retell.verify as seen at time `nowMs` (unix ms). */
async function sdkVerify(body, apiKey, signature, nowMs) {
  clock = nowMs;
  try {
    return await Retell.verify(body, apiKey, signature);
  } finally {
    clock = null;
  }
}

/** Independent HMAC-SHA256 hex (node:crypto), for cross-checks and for crafting
 *  signatures the SDK cannot produce (e.g. a digest over non-normalised digits). */
function hmacHex(apiKey, message) {
  return crypto.createHmac('sha256', Buffer.from(apiKey, 'utf8')).update(Buffer.from(message, 'utf8')).digest('hex');
}

function digestOf(signature) {
  return /,d=([0-9a-f]+)$/i.exec(signature)[1];
}

// ---------------------------------------------------------------------------
// Fixed inputs (made-up ids and keys).
// ---------------------------------------------------------------------------
const API_KEY = 'key_3f9d2c7a41b84e0f9a6c5d1e2b7f8a90';
const WRONG_KEY = 'key_3f9d2c7a41b84e0f9a6c5d1e2b7f8a91'; // last char differs
// "Now" for the verifier: 731 ms after the call's end_timestamp below.
const NOW_MS = 1764590442731;

const SEC = 1000;
const MIN = 60 * SEC;

// A realistic call_ended envelope. JSON.stringify keeps insertion order, so the
// compact body is a fixed byte string.
function callEnded(transcript, callId) {
  return {
    event: 'call_ended',
    call: {
      call_id: callId,
      call_type: 'phone_call',
      agent_id: 'agent_41d8c2f0a9',
      agent_version: 3,
      call_status: 'ended',
      from_number: '+5533999887766',
      to_number: '+553322980007',
      direction: 'inbound',
      start_timestamp: 1764590400000,
      end_timestamp: 1764590442000,
      duration_ms: 42000,
      disconnection_reason: 'user_hangup',
      transcript,
      metadata: {},
      retell_llm_dynamic_variables: { customer_name: 'Ana' },
      opt_out_sensitive_data_storage: false,
    },
  };
}

const ENDED = callEnded('Agent: Hello, how can I help?\nUser: I want to talk to billing.', 'call_7f3a9c2e1b');
const BODY = JSON.stringify(ENDED);
// Non-ASCII transcript: Latin-1 range, a CJK string and an astral-plane emoji,
// written as raw UTF-8 (JSON.stringify does not escape them).
const BODY_UTF8 = JSON.stringify(
  callEnded('Agent: Olá, João! Em que posso ajudar?\nUser: Quero falar com o financeiro — 请转接 🙏', 'call_9b1e4d7c20'),
);
const BODY_PRETTY = JSON.stringify(ENDED, null, 2);
// Same body with one field changed (duration 42000 -> 42001).
const BODY_TAMPERED = BODY.replace('"duration_ms":42000', '"duration_ms":42001');
if (BODY_TAMPERED === BODY) throw new Error('tamper did not apply');

// ---------------------------------------------------------------------------
// Cases. `expect` is our reading of the SDK source; `valid` in the output is
// what the SDK actually returned.
// ---------------------------------------------------------------------------
async function buildCases() {
  const at = (ts) => sdkSign(BODY, API_KEY, ts);
  const sigNow = await at(NOW_MS);
  const digestNow = digestOf(sigNow);

  const cases = [];
  const add = (name, body, signature, expect, opts = {}) =>
    cases.push({ name, api_key: opts.apiKey ?? API_KEY, body, signature, now_ms: NOW_MS, expect });

  // --- Good signatures -----------------------------------------------------
  add('valid_call_ended_signed_now', BODY, sigNow, true);
  add('valid_non_ascii_transcript_utf8', BODY_UTF8, await sdkSign(BODY_UTF8, API_KEY, NOW_MS), true);

  // --- Tolerance window (5 min = 300000 ms, compared with `>`: inclusive) ---
  add('valid_timestamp_4m59s_in_past', BODY, await at(NOW_MS - (4 * MIN + 59 * SEC)), true);
  add('valid_timestamp_exactly_300000ms_in_past', BODY, await at(NOW_MS - 300000), true);
  add('invalid_timestamp_300001ms_in_past', BODY, await at(NOW_MS - 300001), false);
  add('invalid_timestamp_5m01s_in_past', BODY, await at(NOW_MS - (5 * MIN + 1 * SEC)), false);
  add('valid_timestamp_4m59s_in_future', BODY, await at(NOW_MS + (4 * MIN + 59 * SEC)), true);
  add('valid_timestamp_exactly_300000ms_in_future', BODY, await at(NOW_MS + 300000), true);
  add('invalid_timestamp_300001ms_in_future', BODY, await at(NOW_MS + 300001), false);
  add('invalid_timestamp_5m01s_in_future', BODY, await at(NOW_MS + (5 * MIN + 1 * SEC)), false);
  // The timestamp is milliseconds: a correctly-signed seconds value is ~55 years old.
  const nowSecs = Math.floor(NOW_MS / 1000);
  add('invalid_timestamp_in_seconds_not_ms', BODY, await at(nowSecs), false);

  // --- Wrong content / key --------------------------------------------------
  add('invalid_tampered_body', BODY_TAMPERED, sigNow, false);
  add('invalid_wrong_api_key', BODY, sigNow, false, { apiKey: WRONG_KEY });
  add('invalid_body_with_added_trailing_newline', BODY + '\n', sigNow, false);
  add('valid_body_with_trailing_newline_signed_as_is', BODY + '\n', await sdkSign(BODY + '\n', API_KEY, NOW_MS), true);
  add('valid_pretty_printed_body_signed_as_is', BODY_PRETTY, await sdkSign(BODY_PRETTY, API_KEY, NOW_MS), true);
  add('invalid_pretty_printed_body_with_compact_signature', BODY_PRETTY, sigNow, false);

  // --- Header syntax --------------------------------------------------------
  // The SDK's regex has the `i` flag: hex case does not matter ...
  add('valid_uppercase_hex_digest', BODY, `v=${NOW_MS},d=${digestNow.toUpperCase()}`, true);
  // ... and neither does the case of the `v=` / `d=` labels.
  add('valid_uppercase_labels', BODY, `V=${NOW_MS},D=${digestNow}`, true);
  add('invalid_missing_v_part', BODY, `d=${digestNow}`, false);
  add('invalid_missing_d_part', BODY, `v=${NOW_MS}`, false);
  add('invalid_reversed_order', BODY, `d=${digestNow},v=${NOW_MS}`, false);
  add('invalid_space_after_comma', BODY, `v=${NOW_MS}, d=${digestNow}`, false);
  add('invalid_surrounding_whitespace', BODY, ` ${sigNow} `, false);
  add('invalid_non_numeric_timestamp', BODY, `v=abc,d=${digestNow}`, false);
  add('invalid_empty_signature', BODY, '', false);
  add('invalid_truncated_digest_63_hex', BODY, `v=${NOW_MS},d=${digestNow.slice(0, 63)}`, false);
  // Leading zeros: the SDK parses v= with Number() and signs body + that *number*
  // re-rendered in decimal, so "v=0<ts>" verifies with a digest over body+"<ts>" ...
  add('valid_timestamp_leading_zero_digest_over_normalised_digits', BODY, `v=0${NOW_MS},d=${digestNow}`, true);
  // ... and NOT with a digest over the raw header digits body+"0<ts>".
  const rawDigest = hmacHex(API_KEY, BODY + '0' + NOW_MS);
  add('invalid_timestamp_leading_zero_digest_over_raw_digits', BODY, `v=0${NOW_MS},d=${rawDigest}`, false);

  return cases;
}

async function main() {
  const cases = await buildCases();
  const vectors = [];
  let mismatches = 0;
  for (const c of cases) {
    const valid = await sdkVerify(c.body, c.api_key, c.signature, c.now_ms);
    if (valid !== c.expect) {
      mismatches++;
      process.stderr.write(`MISMATCH ${c.name}: SDK says ${valid}, expected ${c.expect}\n`);
    }
    vectors.push({
      name: c.name,
      api_key: c.api_key,
      body: c.body,
      signature: c.signature,
      now_ms: c.now_ms,
      valid,
    });
  }

  // Cross-check: every SDK-made signature of the plain form is
  // v=<ts>,d=hex(HMAC-SHA256(key, body + ts)) in lower case.
  for (const v of vectors) {
    const m = /^v=(\d+),d=([0-9a-f]{64})$/.exec(v.signature);
    if (v.valid && m && String(Number(m[1])) === m[1]) {
      const want = hmacHex(v.api_key, v.body + m[1]);
      if (want !== m[2]) {
        mismatches++;
        process.stderr.write(`CROSS-CHECK FAILED ${v.name}\n`);
      }
    }
  }

  Date.now = realDateNow;
  const out = { generator: `retell-sdk@${sdkVersion} Retell.verify`, vectors };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  process.stderr.write(`${vectors.length} vectors (${vectors.filter((v) => v.valid).length} valid)\n`);
  if (mismatches) process.exit(1);
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
