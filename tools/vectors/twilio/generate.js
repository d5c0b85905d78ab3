#!/usr/bin/env node
// Generates X-Twilio-Signature test vectors for callhook from the OFFICIAL
// `twilio` npm package (version pinned exactly in package.json).
//
// Usage (see README.md):
//   npm ci && node generate.js > ../../../tests/fixtures/twilio/signature_vectors.json
//
// Every vector has two halves:
//   * the SIGNING side: which auth token / URL / params the header value was
//     computed for. Normally the SDK's own `getExpectedTwilioSignature`; a few
//     "negative control" vectors compute an HMAC by hand over a deliberately
//     wrong canonical string (e.g. unsorted values) to prove the SDK rejects it.
//   * the VALIDATING side: what the receiver sees (token, reconstructed URL,
//     params in body order, raw body). `valid` is exactly what the SDK's
//     `validateRequest` (form / GET) or `validateRequestWithBody` (JSON body with
//     `bodySHA256`) returned for it. Nothing is hand-edited.
//
// Only the validating side is written to the fixture (the schema the Rust tests
// read); the signing side stays documented here in the case list.
//
// Output is deterministic: no clocks, no randomness, fixed case order.

"use strict";

const crypto = require("crypto");
const webhooks = require("twilio/lib/webhooks/webhooks");
const twilioVersion = require("twilio/package.json").version;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

// Form params are given as [key, value] pairs in body order (the way they sit in
// an application/x-www-form-urlencoded body). The SDK wants an object, and the
// usual body parsers (express.urlencoded / querystring) turn a repeated key into
// an array value in body order, so do the same here.
function pairsToObject(pairs) {
  const obj = {};
  for (const [k, v] of pairs) {
    if (Object.prototype.hasOwnProperty.call(obj, k)) {
      obj[k] = Array.isArray(obj[k]) ? obj[k].concat([v]) : [obj[k], v];
    } else {
      obj[k] = v;
    }
  }
  return obj;
}

// Raw HMAC-SHA1/base64 over an arbitrary canonical string. Used ONLY for the
// negative-control vectors whose point is "a signature over this other
// canonicalisation is rejected by the SDK".
function rawHmac(token, data) {
  return crypto.createHmac("sha1", token).update(Buffer.from(data, "utf-8")).digest("base64");
}

// Signature as the SDK computes it.
function sdkSign(token, url, pairs) {
  return webhooks.getExpectedTwilioSignature(token, url, pairsToObject(pairs));
}

const sha256hex = (s) => webhooks.getExpectedBodyHash(s);

// ---------------------------------------------------------------------------
// Shared inputs
// ---------------------------------------------------------------------------

// Twilio's published example (twilio.com/docs/usage/security).
const DOC_TOKEN = "12345";
const DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2";
const DOC_PARAMS = [
  ["CallSid", "CA1234567890ABCDE"],
  ["Caller", "+12349013030"],
  ["Digits", "1234"],
  ["From", "+12349013030"],
  ["To", "+18005551212"],
];
const DOC_EXPECTED_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

// A generic (fake, 32 hex chars like a real one) auth token for the other cases.
const TOKEN = "0123456789abcdef0123456789abcdef";
const OTHER_TOKEN = "fedcba9876543210fedcba9876543210";

const SMALL = [
  ["CallSid", "CA0123456789abcdef0123456789abcdef"],
  ["From", "+14155550100"],
  ["To", "+14155550199"],
];

// Keys whose order differs between byte/code-unit sort and case-insensitive sort.
// Code-unit order: A B Z1 _x a b  (uppercase 0x41.. < '_' 0x5F < lowercase 0x61..)
const CASE_KEYS = [
  ["a", "1"],
  ["B", "2"],
  ["b", "3"],
  ["A", "4"],
  ["_x", "5"],
  ["Z1", "6"],
];

// Two non-ASCII keys whose order differs between UTF-16 code-unit order (what
// JavaScript's default Array#sort uses) and Unicode code point / UTF-8 byte order
// (what Rust's `str` Ord uses):
//   U+FF21 FULLWIDTH LATIN CAPITAL LETTER A   UTF-16: FF21       UTF-8: EF BC A1
//   U+1F600 GRINNING FACE                      UTF-16: D83D DE00  UTF-8: F0 9F 98 80
// UTF-16 order puts the emoji first (D83D < FF21); code point order puts U+FF21 first.
const FULLWIDTH_A = "\uFF21";
const GRIN = "\u{1F600}";
const UNICODE_KEYS = [
  [FULLWIDTH_A, "fullwidth"],
  [GRIN, "emoji"],
  ["Body", "x"],
];

// Realistic voice status callback (Call resource, statusCallback on completed).
const STATUS_URL = "https://crm.example.com/webhooks/twilio/call-status";
const STATUS_PARAMS = [
  ["Called", "+14155550199"],
  ["ToState", "CA"],
  ["CallerCountry", "US"],
  ["Direction", "inbound"],
  ["Timestamp", "Tue, 01 Dec 2026 10:00:42 +0000"],
  ["CallbackSource", "call-progress-events"],
  ["CallerState", "CA"],
  ["ToZip", "94105"],
  ["SequenceNumber", "0"],
  ["CallSid", "CAa1b2c3d4e5f60718293a4b5c6d7e8f90"],
  ["To", "+14155550199"],
  ["CallerZip", "94016"],
  ["ToCountry", "US"],
  ["CalledZip", "94105"],
  ["ApiVersion", "2010-04-01"],
  ["CalledCity", "SAN FRANCISCO"],
  ["CallStatus", "completed"],
  ["Duration", "1"],
  ["From", "+14155550100"],
  ["CallDuration", "42"],
  ["AccountSid", "AC00112233445566778899aabbccddeeff"],
  ["CalledCountry", "US"],
  ["CallerCity", "SAN FRANCISCO"],
  ["ToCity", "SAN FRANCISCO"],
  ["FromCountry", "US"],
  ["Caller", "+14155550100"],
  ["FromCity", "SAN FRANCISCO"],
  ["CalledState", "CA"],
  ["FromZip", "94016"],
  ["FromState", "CA"],
];

// JSON body case (newer products send application/json and put the body's hex
// SHA-256 in the URL as `bodySHA256`; the signature covers the URL only).
const JSON_BODY = '{"event_type":"com.twilio.messaging.message.delivered","data":{"to":"+14155550199","body":"Olá 😀","numSegments":1}}';
const JSON_BODY_TAMPERED = JSON_BODY.replace('"numSegments":1', '"numSegments":2');
const JSON_BASE = "https://hooks.example.com/twilio/events";
const JSON_URL = `${JSON_BASE}?bodySHA256=${sha256hex(JSON_BODY)}`;
const JSON_URL_WRONG_HASH = `${JSON_BASE}?bodySHA256=${sha256hex(JSON_BODY_TAMPERED)}`;
const JSON_URL_UPPER_HASH = `${JSON_BASE}?bodySHA256=${sha256hex(JSON_BODY).toUpperCase()}`;

// ---------------------------------------------------------------------------
// Cases
//
// Fields:
//   name                     description written to the fixture
//   sign: {token,url,params} what the signature is computed for (SDK), or
//   sign: {raw: [token,str]} a hand-made HMAC over `str` (negative controls), or
//   sign: {literal: "..."}   a literal header value
//   token, url, params, body the validating side (written to the fixture)
//   expect                   what we believed the SDK would answer; only used to
//                            print a warning on stderr if an SDK upgrade changes
//                            behaviour. The fixture always records the SDK's answer.
// ---------------------------------------------------------------------------

const cases = [
  // --- Twilio's documented example -----------------------------------------
  {
    name: "docs example (security docs): token 12345, query string in URL, 5 params",
    sign: { token: DOC_TOKEN, url: DOC_URL, params: DOC_PARAMS },
    token: DOC_TOKEN, url: DOC_URL, params: DOC_PARAMS, expect: true,
  },
  {
    name: "docs example with wrong auth token",
    sign: { token: DOC_TOKEN, url: DOC_URL, params: DOC_PARAMS },
    token: "54321", url: DOC_URL, params: DOC_PARAMS, expect: false,
  },
  {
    name: "docs example with a tampered param value (Digits=1235)",
    sign: { token: DOC_TOKEN, url: DOC_URL, params: DOC_PARAMS },
    token: DOC_TOKEN, url: DOC_URL,
    params: DOC_PARAMS.map(([k, v]) => [k, k === "Digits" ? "1235" : v]), expect: false,
  },
  {
    name: "docs example signature presented for a different path (/myapp2.php)",
    sign: { token: DOC_TOKEN, url: DOC_URL, params: DOC_PARAMS },
    token: DOC_TOKEN, url: "https://mycompany.com/myapp2.php?foo=1&bar=2", params: DOC_PARAMS,
    expect: false,
  },
  {
    name: "docs example with empty X-Twilio-Signature",
    sign: { literal: "" },
    token: DOC_TOKEN, url: DOC_URL, params: DOC_PARAMS, expect: false,
  },
  {
    name: "docs example with a param missing (Digits dropped)",
    sign: { token: DOC_TOKEN, url: DOC_URL, params: DOC_PARAMS },
    token: DOC_TOKEN, url: DOC_URL, params: DOC_PARAMS.filter(([k]) => k !== "Digits"),
    expect: false,
  },

  // --- Ports ----------------------------------------------------------------
  {
    name: "https: signed with :443, validated without port",
    sign: { token: TOKEN, url: "https://example.com:443/voice", params: SMALL },
    token: TOKEN, url: "https://example.com/voice", params: SMALL, expect: true,
  },
  {
    name: "https: signed without port, validated with :443",
    sign: { token: TOKEN, url: "https://example.com/voice", params: SMALL },
    token: TOKEN, url: "https://example.com:443/voice", params: SMALL, expect: true,
  },
  {
    name: "http: signed with :80, validated without port",
    sign: { token: TOKEN, url: "http://example.com:80/voice?x=1", params: SMALL },
    token: TOKEN, url: "http://example.com/voice?x=1", params: SMALL, expect: true,
  },
  {
    name: "http: signed without port, validated with :80",
    sign: { token: TOKEN, url: "http://example.com/voice?x=1", params: SMALL },
    token: TOKEN, url: "http://example.com:80/voice?x=1", params: SMALL, expect: true,
  },
  {
    name: "https: signed with non-standard :8443, validated without port",
    sign: { token: TOKEN, url: "https://example.com:8443/voice", params: SMALL },
    token: TOKEN, url: "https://example.com/voice", params: SMALL, expect: false,
  },
  {
    name: "https: signed without port, validated with non-standard :8443 (SDK strips any port)",
    sign: { token: TOKEN, url: "https://example.com/voice", params: SMALL },
    token: TOKEN, url: "https://example.com:8443/voice", params: SMALL, expect: true,
  },
  {
    name: "https: signed with :8443, validated with :8443",
    sign: { token: TOKEN, url: "https://example.com:8443/voice", params: SMALL },
    token: TOKEN, url: "https://example.com:8443/voice", params: SMALL, expect: true,
  },
  {
    name: "https: signed with :80 (not https's standard port), validated without port",
    sign: { token: TOKEN, url: "https://example.com:80/voice", params: SMALL },
    token: TOKEN, url: "https://example.com/voice", params: SMALL, expect: false,
  },

  // --- Query strings ----------------------------------------------------------
  {
    name: "GET-style: params only in the query string, nothing appended",
    sign: { token: TOKEN, url: "https://example.com/sms?MessageSid=SM1&From=%2B14155550100&Body=hi%20there", params: [] },
    token: TOKEN, url: "https://example.com/sms?MessageSid=SM1&From=%2B14155550100&Body=hi%20there",
    params: [], expect: true,
  },
  {
    name: "POST with several query params in URL plus form params",
    sign: { token: TOKEN, url: "https://example.com/voice?tenant=acme&flow=ivr&step=2", params: SMALL },
    token: TOKEN, url: "https://example.com/voice?tenant=acme&flow=ivr&step=2", params: SMALL, expect: true,
  },
  {
    name: "query string value changed (step=3)",
    sign: { token: TOKEN, url: "https://example.com/voice?tenant=acme&flow=ivr&step=2", params: SMALL },
    token: TOKEN, url: "https://example.com/voice?tenant=acme&flow=ivr&step=3", params: SMALL, expect: false,
  },
  {
    name: "query string params reordered (query is not sorted, signed verbatim)",
    sign: { token: TOKEN, url: "https://example.com/voice?tenant=acme&flow=ivr&step=2", params: SMALL },
    token: TOKEN, url: "https://example.com/voice?step=2&flow=ivr&tenant=acme", params: SMALL, expect: false,
  },
  {
    name: "query string dropped",
    sign: { token: TOKEN, url: "https://example.com/voice?tenant=acme&flow=ivr&step=2", params: SMALL },
    token: TOKEN, url: "https://example.com/voice", params: SMALL, expect: false,
  },

  // --- Repeated keys ----------------------------------------------------------
  {
    name: "repeated key Foo=b&Foo=a (body order b,a): values sorted then appended",
    sign: { token: TOKEN, url: "https://example.com/form", params: [["Foo", "b"], ["Foo", "a"], ["Bar", "x"]] },
    token: TOKEN, url: "https://example.com/form", params: [["Foo", "b"], ["Foo", "a"], ["Bar", "x"]],
    expect: true,
  },
  {
    name: "repeated key Foo=a&Foo=b (body order a,b): same signature as b,a",
    sign: { token: TOKEN, url: "https://example.com/form", params: [["Foo", "b"], ["Foo", "a"], ["Bar", "x"]] },
    token: TOKEN, url: "https://example.com/form", params: [["Foo", "a"], ["Foo", "b"], ["Bar", "x"]],
    expect: true,
  },
  {
    name: "repeated key, signature over values in body order unsorted (Barx Foob Fooa): rejected",
    sign: { raw: [TOKEN, "https://example.com/form" + "Barx" + "Foob" + "Fooa"] },
    token: TOKEN, url: "https://example.com/form", params: [["Foo", "b"], ["Foo", "a"], ["Bar", "x"]],
    expect: false,
  },
  {
    name: "repeated key with identical values Foo=a&Foo=a: SDK de-duplicates values (signs Fooa once)",
    sign: { token: TOKEN, url: "https://example.com/form", params: [["Foo", "a"], ["Foo", "a"]] },
    token: TOKEN, url: "https://example.com/form", params: [["Foo", "a"], ["Foo", "a"]], expect: true,
  },
  {
    name: "repeated key with identical values, signature over FooaFooa (no de-dup): rejected by SDK",
    sign: { raw: [TOKEN, "https://example.com/form" + "Fooa" + "Fooa"] },
    token: TOKEN, url: "https://example.com/form", params: [["Foo", "a"], ["Foo", "a"]], expect: false,
  },

  // --- Key sort order -----------------------------------------------------------
  {
    name: "keys a,B,b,A,_x,Z1: sorted by code unit (A B Z1 _x a b)",
    sign: { token: TOKEN, url: "https://example.com/sort", params: CASE_KEYS },
    token: TOKEN, url: "https://example.com/sort", params: CASE_KEYS, expect: true,
  },
  {
    name: "keys a,B,b,A,_x,Z1: signature over case-insensitive order (_x A a B b Z1): rejected",
    sign: { raw: [TOKEN, "https://example.com/sort" + "_x5" + "A4" + "a1" + "B2" + "b3" + "Z16"] },
    token: TOKEN, url: "https://example.com/sort", params: CASE_KEYS, expect: false,
  },
  {
    name: "non-ASCII keys U+FF21 and U+1F600: SDK sorts by UTF-16 code unit (emoji before U+FF21)",
    sign: { token: TOKEN, url: "https://example.com/sort", params: UNICODE_KEYS },
    token: TOKEN, url: "https://example.com/sort", params: UNICODE_KEYS, expect: true,
  },
  {
    name: "non-ASCII keys: signature over code point / UTF-8 byte order (U+FF21 before emoji): rejected",
    sign: { raw: [TOKEN, "https://example.com/sort" + "Bodyx" + FULLWIDTH_A + "fullwidth" + GRIN + "emoji"] },
    token: TOKEN, url: "https://example.com/sort", params: UNICODE_KEYS, expect: false,
  },

  // --- Empty values ---------------------------------------------------------------
  {
    name: "single empty value Body=",
    sign: { token: TOKEN, url: "https://example.com/sms", params: [["Body", ""]] },
    token: TOKEN, url: "https://example.com/sms", params: [["Body", ""]], expect: true,
  },
  {
    name: "empty value among others (Body= between From and To)",
    sign: { token: TOKEN, url: "https://example.com/sms", params: [["From", "+14155550100"], ["Body", ""], ["To", "+14155550199"]] },
    token: TOKEN, url: "https://example.com/sms", params: [["From", "+14155550100"], ["Body", ""], ["To", "+14155550199"]],
    expect: true,
  },
  {
    name: "empty-valued key still counts: signed without Body, presented with Body=",
    sign: { token: TOKEN, url: "https://example.com/sms", params: [["From", "+14155550100"], ["To", "+14155550199"]] },
    token: TOKEN, url: "https://example.com/sms", params: [["From", "+14155550100"], ["Body", ""], ["To", "+14155550199"]],
    expect: false,
  },

  // --- Non-ASCII and reserved characters in values ----------------------------------
  {
    name: "non-ASCII values (UTF-8): Body with accents and emoji, ProfileName=José",
    sign: { token: TOKEN, url: "https://example.com/whatsapp", params: [["Body", "Olá, ação 😀"], ["ProfileName", "José"], ["From", "whatsapp:+5511999990000"]] },
    token: TOKEN, url: "https://example.com/whatsapp",
    params: [["Body", "Olá, ação 😀"], ["ProfileName", "José"], ["From", "whatsapp:+5511999990000"]], expect: true,
  },
  {
    name: "values with + & = and spaces are signed decoded",
    sign: { token: TOKEN, url: "https://example.com/sms", params: [["Body", "1+1=2 & a b"], ["From", "+14155550100"], ["Note", "k=v&x=y"]] },
    token: TOKEN, url: "https://example.com/sms",
    params: [["Body", "1+1=2 & a b"], ["From", "+14155550100"], ["Note", "k=v&x=y"]], expect: true,
  },
  {
    name: "values with + & = and spaces: signature over the form-encoded (still escaped) values: rejected",
    sign: { raw: [TOKEN, "https://example.com/sms" + "Body1%2B1%3D2+%26+a+b" + "From%2B14155550100" + "Notek%3Dv%26x%3Dy"] },
    token: TOKEN, url: "https://example.com/sms",
    params: [["Body", "1+1=2 & a b"], ["From", "+14155550100"], ["Note", "k=v&x=y"]], expect: false,
  },

  // --- JSON body with bodySHA256 -------------------------------------------------------
  {
    name: "JSON body, bodySHA256 in URL matches body, signature over URL only",
    sign: { token: TOKEN, url: JSON_URL, params: [] },
    token: TOKEN, url: JSON_URL, params: [], body: JSON_BODY, expect: true,
  },
  {
    name: "JSON body tampered (URL signature valid, hash mismatch)",
    sign: { token: TOKEN, url: JSON_URL, params: [] },
    token: TOKEN, url: JSON_URL, params: [], body: JSON_BODY_TAMPERED, expect: false,
  },
  {
    name: "JSON body, wrong bodySHA256 in URL (URL signature itself valid)",
    sign: { token: TOKEN, url: JSON_URL_WRONG_HASH, params: [] },
    token: TOKEN, url: JSON_URL_WRONG_HASH, params: [], body: JSON_BODY, expect: false,
  },
  {
    name: "JSON body, bodySHA256 in uppercase hex (URL signature valid): SDK compares lowercase hex exactly",
    sign: { token: TOKEN, url: JSON_URL_UPPER_HASH, params: [] },
    token: TOKEN, url: JSON_URL_UPPER_HASH, params: [], body: JSON_BODY, expect: false,
  },
  {
    name: "JSON body, correct bodySHA256 but signature for the URL without the query: rejected",
    sign: { token: TOKEN, url: JSON_BASE, params: [] },
    token: TOKEN, url: JSON_URL, params: [], body: JSON_BODY, expect: false,
  },

  // --- Realistic call status callback ----------------------------------------------------
  {
    name: "call status callback (completed), realistic params",
    sign: { token: TOKEN, url: STATUS_URL, params: STATUS_PARAMS },
    token: TOKEN, url: STATUS_URL, params: STATUS_PARAMS, expect: true,
  },
  {
    name: "call status callback validated against the internal URL behind a proxy: rejected",
    sign: { token: TOKEN, url: STATUS_URL, params: STATUS_PARAMS },
    token: TOKEN, url: "http://127.0.0.1:8080/webhooks/twilio/call-status", params: STATUS_PARAMS, expect: false,
  },
  {
    name: "call status callback signed with the other (secondary) token: rejected by primary",
    sign: { token: OTHER_TOKEN, url: STATUS_URL, params: STATUS_PARAMS },
    token: TOKEN, url: STATUS_URL, params: STATUS_PARAMS, expect: false,
  },
];

// ---------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------

function signatureFor(sign) {
  if ("literal" in sign) return sign.literal;
  if ("raw" in sign) return rawHmac(sign.raw[0], sign.raw[1]);
  return sdkSign(sign.token, sign.url, sign.params);
}

// Sanity check against Twilio's published value. If it ever differs the fixture
// still records the SDK's answer, but say so loudly.
const docSig = sdkSign(DOC_TOKEN, DOC_URL, DOC_PARAMS);
if (docSig !== DOC_EXPECTED_SIGNATURE) {
  process.stderr.write(`WARNING: SDK signs the docs example as ${docSig}, docs say ${DOC_EXPECTED_SIGNATURE}\n`);
}

const names = new Set();
const vectors = cases.map((c) => {
  if (names.has(c.name)) throw new Error(`duplicate vector name: ${c.name}`);
  names.add(c.name);

  const signature = signatureFor(c.sign);
  const body = c.body === undefined ? null : c.body;

  // The verdict comes from the SDK, never from `expect`.
  const valid = body === null
    ? webhooks.validateRequest(c.token, signature, c.url, pairsToObject(c.params))
    : webhooks.validateRequestWithBody(c.token, signature, c.url, body);

  if (valid !== c.expect) {
    process.stderr.write(`NOTE: "${c.name}": SDK says ${valid}, generator expected ${c.expect}\n`);
  }

  return { name: c.name, auth_token: c.token, url: c.url, params: c.params, body, signature, valid };
});

const out = {
  generator: `twilio@${twilioVersion} webhooks.validateRequest / validateRequestWithBody`,
  vectors,
};
process.stdout.write(JSON.stringify(out, null, 2) + "\n");
