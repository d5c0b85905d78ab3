'use strict';
// A plain Node.js webhook receiver, the peer baseline of callhook's load benchmark.
//
// Same paths and secrets as callhook's reference server under `callhook-load`: each
// request's raw body is read, its signature checked with the provider's official SDK
// (Twilio, Retell, Telnyx, Vonage) or node:crypto where there is none (WhatsApp,
// CloudTalk, WaVoIP), then it is parsed and INSERTed into a SQLite file (WAL,
// synchronous = FULL: one fsync'd transaction per request) before the 200.
//
//   node server.js [--port 3000] [--db peer-events.sqlite] [--workers 1]

const http = require('node:http');
const crypto = require('node:crypto');
const cluster = require('node:cluster');
const querystring = require('node:querystring');
const { parseArgs } = require('node:util');

const Database = require('better-sqlite3');
const twilio = require('twilio');
const { Retell } = require('retell-sdk');
const { Telnyx } = require('telnyx');
const { verifySignature: vonageVerifySignature } = require('@vonage/jwt');

// ---------------------------------------------------------------------------------
// Configuration: the defaults are the secrets `callhook-load` signs with.

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    db: { type: 'string' },
    workers: { type: 'string' },
  },
});
const PORT = Number(args.port ?? process.env.PORT ?? 3000);
const DB_PATH = args.db ?? process.env.PEER_DB ?? 'peer-events.sqlite';
const WORKERS = Math.max(1, Number(args.workers ?? process.env.WORKERS ?? 1));
const MAX_BODY = 1024 * 1024;

const env = (name, fallback) => process.env[name] ?? fallback;
const SECRETS = {
  // The URL Twilio calls (and signs): the load tool's public URL.
  publicUrl: env('CALLHOOK_PUBLIC_URL', 'http://callhook.loadgen.test').replace(/\/$/, ''),
  twilioAuthToken: env('TWILIO_AUTH_TOKEN', 'loadgen-twilio-auth_token'),
  whatsappAppSecret: env('WHATSAPP_APP_SECRET', 'loadgen-whatsapp-app_secret'),
  whatsappVerifyToken: env('WHATSAPP_VERIFY_TOKEN', 'loadgen-whatsapp-verify_token'),
  retellApiKey: env('RETELL_API_KEY', 'loadgen-retell-api_key'),
  cloudtalkToken: env('CLOUDTALK_WEBHOOK_TOKEN', 'loadgen-cloudtalk-token'),
  wavoipToken: env('WAVOIP_WEBHOOK_TOKEN', 'loadgen-wavoip-token'),
  // callhook's published *test* key pair and secret, which the load tool's samples
  // for these two providers sign with. Never use them outside tests.
  telnyxPublicKey: env('TELNYX_PUBLIC_KEY', 'rs9U5CR5Y1hy6hFzaFxul1U7ALN5mAWaOG3D+K7Erpc='),
  vonageSignatureSecret: env('VONAGE_SIGNATURE_SECRET', 'test signature_secret'),
};

const telnyx = new Telnyx({ apiKey: process.env.TELNYX_API_KEY, publicKey: SECRETS.telnyxPublicKey });

// ---------------------------------------------------------------------------------
// Small helpers.

const sha256Hex = (data) => crypto.createHash('sha256').update(data).digest('hex');

/** Constant-time equality of two strings or buffers (false on different lengths). */
function safeEqual(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && crypto.timingSafeEqual(x, y);
}

/** The token of `Authorization: Bearer <token>` (scheme in any case), or null. */
function bearerToken(authorization) {
  const match = /^bearer\s+(\S+)\s*$/i.exec((authorization ?? '').trim());
  return match ? match[1] : null;
}

/** A JSON body, as an object (a malformed one throws: 400). */
const json = (ctx) => JSON.parse(ctx.text);

// ---------------------------------------------------------------------------------
// Providers. `accept(ctx)` resolves to the parsed payload, or null when the request is
// not authentic (401). `key(payload)` is the dedupe key of its event, or null to fall
// back to the body's SHA-256 (identical retries are then still stored once).

const providers = [
  {
    id: 'twilio',
    paths: ['incoming-call', 'call-status', 'recording-status', 'message-status', 'incoming-message'].map(
      (endpoint) => `/webhooks/twilio/${endpoint}`,
    ),
    async accept(ctx) {
      const signature = ctx.headers['x-twilio-signature'];
      const url = SECRETS.publicUrl + ctx.url;
      if (ctx.query.has('bodySHA256')) {
        // A JSON body, whose hash is in the signed URL.
        const ok = twilio.validateRequestWithBody(SECRETS.twilioAuthToken, signature, url, ctx.text);
        return ok ? json(ctx) : null;
      }
      const params = querystring.parse(ctx.text);
      return twilio.validateRequest(SECRETS.twilioAuthToken, signature, url, params) ? params : null;
    },
    key(p) {
      const sid = p.MessageSid ?? p.RecordingSid ?? p.CallSid;
      const status = p.MessageStatus ?? p.SmsStatus ?? p.RecordingStatus ?? p.CallStatus;
      return sid ? [sid, status ?? '', p.SequenceNumber ?? ''].join(':') : null;
    },
    respond(res) {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    },
  },
  {
    id: 'whatsapp',
    paths: ['/webhooks/whatsapp'],
    // X-Hub-Signature-256: sha256=<hex of HMAC-SHA256(app secret, raw body)>.
    async accept(ctx) {
      const match = /^sha256=([0-9a-f]{64})$/i.exec((ctx.headers['x-hub-signature-256'] ?? '').trim());
      if (!match) return null;
      const expected = crypto.createHmac('sha256', SECRETS.whatsappAppSecret).update(ctx.raw).digest();
      return safeEqual(Buffer.from(match[1], 'hex'), expected) ? json(ctx) : null;
    },
    key(p) {
      const keys = [];
      for (const entry of p.entry ?? []) {
        for (const { value = {} } of entry.changes ?? []) {
          for (const m of value.messages ?? []) keys.push(`message:${m.id}`);
          for (const s of value.statuses ?? []) keys.push(`status:${s.id}:${s.status}`);
          for (const c of value.calls ?? []) keys.push(`call:${c.id}:${c.event ?? c.status ?? ''}`);
        }
      }
      return keys.length ? keys.join(',') : null;
    },
    // Meta's setup handshake: GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...
    handshake(ctx, res) {
      const ok =
        ctx.query.get('hub.mode') === 'subscribe' &&
        safeEqual(ctx.query.get('hub.verify_token') ?? '', SECRETS.whatsappVerifyToken);
      res.writeHead(ok ? 200 : 403, { 'content-type': 'text/plain' });
      res.end(ok ? ctx.query.get('hub.challenge') ?? '' : 'forbidden');
    },
  },
  {
    id: 'retell',
    paths: ['/webhooks/retell/call-events'],
    async accept(ctx) {
      const signature = ctx.headers['x-retell-signature'] ?? '';
      return (await Retell.verify(ctx.text, SECRETS.retellApiKey, signature)) ? json(ctx) : null;
    },
    key: (p) => (p.call?.call_id ? `${p.call.call_id}:${p.event}` : null),
  },
  {
    id: 'cloudtalk',
    paths: ['', '/call-started', '/call-answered', '/call-ended', '/call-missed', '/recording-uploaded'].map(
      (suffix) => `/webhooks/cloudtalk${suffix}`,
    ),
    // CloudTalk signs nothing: its webhook action sends `Authorization: Bearer <token>`.
    async accept(ctx) {
      return safeEqual(bearerToken(ctx.headers.authorization) ?? '', SECRETS.cloudtalkToken) ? json(ctx) : null;
    },
    // CloudTalk's call ids are integers beyond 2^53, which JSON.parse rounds: only a
    // safe one is a key (else the body's hash is).
    key: (p) => (Number.isSafeInteger(p.data?.id) ? `${p.data.id}:${p.event}` : null),
  },
  {
    id: 'wavoip',
    paths: ['/webhooks/wavoip'],
    // WaVoIP signs nothing: the token is in the webhook URL (?token=), or a Bearer header.
    async accept(ctx) {
      const token = ctx.query.get('token') ?? bearerToken(ctx.headers.authorization) ?? '';
      return safeEqual(token, SECRETS.wavoipToken) ? json(ctx) : null;
    },
    key(p) {
      if (!p.whatsapp_call_id) return null;
      const status = p.type === 'RECORD' ? p.record_status : p.status;
      return [p.whatsapp_call_id, p.type, p.action, status].join(':');
    },
  },
  {
    id: 'telnyx',
    paths: ['/webhooks/telnyx'],
    // Ed25519 over `${timestamp}|${body}`, checked (with the timestamp) by the SDK.
    async accept(ctx) {
      try {
        return await telnyx.webhooks.unwrap(ctx.text, { headers: ctx.headers });
      } catch (error) {
        if (error instanceof SyntaxError) throw error;
        return null;
      }
    },
    key: (p) => p.data?.id ?? null,
  },
  {
    id: 'vonage',
    paths: ['/webhooks/vonage/events'],
    // A HS256 JWT signed with the signature secret, whose payload_hash is the body's
    // SHA-256, issued within 5 minutes (as Vonage's docs say to check).
    async accept(ctx) {
      const token = bearerToken(ctx.headers.authorization);
      if (!token || !vonageVerifySignature(token, SECRETS.vonageSignatureSecret)) return null;
      const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
      if (typeof claims.iat !== 'number' || Math.abs(Date.now() / 1000 - claims.iat) > 300) return null;
      return safeEqual(String(claims.payload_hash ?? '').toLowerCase(), sha256Hex(ctx.raw)) ? json(ctx) : null;
    },
    key(p) {
      const id = p.uuid ?? p.recording_uuid;
      return id ? [id, p.status ?? 'record', p.timestamp ?? p.end_time ?? ''].join(':') : null;
    },
  },
];

const routes = new Map();
for (const provider of providers) {
  for (const path of provider.paths) routes.set(path, provider);
}

// ---------------------------------------------------------------------------------
// The durable log.

function openDatabase() {
  const db = new Database(DB_PATH, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS webhooks (
    id          INTEGER PRIMARY KEY,
    provider    TEXT NOT NULL,
    received_at TEXT NOT NULL,
    headers     TEXT NOT NULL,
    body        TEXT NOT NULL,
    dedupe_key  TEXT NOT NULL,
    UNIQUE (provider, dedupe_key)
  )`);
  return db;
}

// ---------------------------------------------------------------------------------
// The HTTP server.

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(text);
}

function serve() {
  const db = openDatabase();
  const insert = db.prepare(
    `INSERT INTO webhooks (provider, received_at, headers, body, dedupe_key)
     VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider, dedupe_key) DO NOTHING`,
  );

  async function handle(req, res) {
    const at = req.url.indexOf('?');
    const path = at < 0 ? req.url : req.url.slice(0, at);
    const provider = routes.get(path);
    if (!provider) return reply(res, 404, 'not found');
    const query = new URLSearchParams(at < 0 ? '' : req.url.slice(at + 1));
    if (req.method === 'GET' && provider.handshake) return provider.handshake({ query }, res);
    if (req.method !== 'POST') return reply(res, 405, 'method not allowed');

    const raw = await readBody(req);
    const ctx = { url: req.url, query, headers: req.headers, raw, text: raw.toString('utf8') };
    let payload;
    try {
      payload = await provider.accept(ctx);
    } catch {
      return reply(res, 400, 'malformed body');
    }
    if (!payload) return reply(res, 401, 'invalid signature');

    const key = provider.key(payload) ?? `sha256:${sha256Hex(raw)}`;
    // Autocommit: one transaction, on disk (WAL fsync'd) before the answer.
    insert.run(provider.id, new Date().toISOString(), JSON.stringify(req.headers), ctx.text, key);
    if (provider.respond) return provider.respond(res);
    return reply(res, 200, 'ok');
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) reply(res, error.status ?? 500, error.status ? error.message : 'internal error');
      if (!error.status) console.error(error);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(PORT, '127.0.0.1', () => {
    const who = cluster.isWorker ? `worker ${process.pid}` : `pid ${process.pid}`;
    console.log(`peer-node (${who}) listening on http://127.0.0.1:${PORT}, log in ${DB_PATH}`);
  });
  const stop = () => {
    server.close(() => {
      db.close();
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (WORKERS > 1 && cluster.isPrimary) {
  // Create the schema once, then let the workers share the port and the file.
  openDatabase().close();
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
  });
  const stop = () => {
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  serve();
}
