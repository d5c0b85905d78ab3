//! Correctly signed sample webhooks of every provider and event kind, sent to a running
//! server: the quick start without a provider account. Each provider whose secret is set
//! in the environment gets its samples, signed with that secret (the same variables the
//! server reads).

use bytes::Bytes;
use callhook::providers::{cloudtalk, retell, twilio, wavoip, whatsapp};
use http::Request;

use crate::config::Config;

/// One sample sent and the status it got.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// The provider.
    pub provider: &'static str,
    /// What the sample is.
    pub name: String,
    /// The HTTP status the server answered.
    pub status: u16,
}

/// The samples for every provider configured in `config`, ids made unique by `run`.
pub fn samples(config: &Config, run: &str) -> Vec<(&'static str, String, Request<Bytes>)> {
    let mut out: Vec<(&'static str, String, Request<Bytes>)> = Vec::new();
    if let Some(token) = &config.twilio_auth_token {
        let token = token.expose();
        let base = config.twilio_base_url();
        let url = |endpoint: &str| format!("{base}/webhooks/twilio/{endpoint}");
        let call = format!("CA{run}");
        let mut push = |name: String, endpoint: &str, params: twilio::testing::Params| {
            out.push(("twilio", name, twilio::testing::signed_form(token, &url(endpoint), &params)));
        };
        push(
            "incoming call".into(),
            "incoming-call",
            twilio::testing::incoming_call(&call, "+5511987654321", "+14155550100"),
        );
        for (sequence, status) in ["initiated", "ringing", "in-progress", "completed"].into_iter().enumerate() {
            push(
                format!("call status {status}"),
                "call-status",
                twilio::testing::call_status(&call, status, sequence as u64),
            );
        }
        push(
            "recording completed".into(),
            "recording-status",
            twilio::testing::recording_status(&call, &format!("RE{run}"), "completed"),
        );
        for status in ["sent", "delivered", "read"] {
            push(
                format!("message status {status}"),
                "message-status",
                twilio::testing::message_status(&format!("SM{run}"), status),
            );
        }
        push(
            "incoming message".into(),
            "incoming-message",
            twilio::testing::incoming_message(&format!("SM{run}in"), "+5511987654321", "Olá!"),
        );
    }
    if let Some(secret) = &config.whatsapp_app_secret {
        let secret = secret.expose();
        let path = "/webhooks/whatsapp";
        let at = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut push = |name: &str, field: &str, value: serde_json::Value| {
            let body = whatsapp::testing::notification(field, value);
            out.push(("whatsapp", name.to_owned(), whatsapp::testing::signed(secret, path, &body)));
        };
        push(
            "inbound text",
            "messages",
            whatsapp::testing::text_message(&format!("wamid.in{run}"), "5511999998888", "Olá, quero um orçamento", at),
        );
        let wamid = format!("wamid.out{run}");
        push(
            "statuses out of order",
            "messages",
            whatsapp::testing::statuses(&[
                (&wamid, "read", at + 3),
                (&wamid, "sent", at + 1),
                (&wamid, "delivered", at + 2),
            ]),
        );
        let call = format!("wacid.{run}");
        push("call connect", "calls", whatsapp::testing::call_connect(&call, "5511999998888", at));
        push(
            "call terminate",
            "calls",
            whatsapp::testing::call_terminate(&call, "5511999998888", "COMPLETED", at + 60, 55),
        );
        if let Some(verify) = &config.whatsapp_verify_token {
            out.push((
                "whatsapp",
                "verification handshake".into(),
                whatsapp::testing::handshake(path, verify.expose(), "1158201444"),
            ));
        }
    }
    if let Some(key) = &config.retell_api_key {
        let call = format!("call_{run}");
        for event in ["call_started", "call_ended", "call_analyzed"] {
            let body = retell::testing::call_event(event, &call, "user_hangup");
            let now = time::OffsetDateTime::now_utc();
            out.push((
                "retell",
                event.into(),
                retell::testing::signed(key.expose(), "/webhooks/retell/call-events", &body, now),
            ));
        }
    }
    if let Some(token) = &config.cloudtalk_token {
        let id = run.bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))) % 1_000_000_000;
        for event in ["call.started", "call.answered", "call.ended"] {
            let body = cloudtalk::testing::call_event(event, id);
            out.push((
                "cloudtalk",
                event.into(),
                cloudtalk::testing::authorized(token.expose(), "/webhooks/cloudtalk", &body),
            ));
        }
    }
    if let Some(token) = &config.wavoip_token {
        let call = format!("wv{run}");
        let bodies = [
            ("call active", wavoip::testing::call(&call, "CREATE", "ACTIVE", 0)),
            ("recording", wavoip::testing::record(&call, "RECORDING")),
            ("call ended", wavoip::testing::call(&call, "UPDATE", "ENDED", 45)),
            ("recording mixing", wavoip::testing::record(&call, "MIXING")),
            ("recording ready", wavoip::testing::record(&call, "READY")),
        ];
        for (name, body) in bodies {
            out.push(("wavoip", name.into(), wavoip::testing::with_token(token.expose(), "/webhooks/wavoip", &body)));
        }
    }
    out
}

/// Sends every sample to `target` (e.g. `http://127.0.0.1:3000`), in order.
pub async fn send(target: &str, config: &Config) -> Result<Vec<Sent>, reqwest::Error> {
    let client = reqwest::Client::new();
    let run = time::OffsetDateTime::now_utc().unix_timestamp_nanos().to_string();
    let mut sent = Vec::new();
    for (provider, name, request) in samples(config, &run) {
        let (parts, body) = request.into_parts();
        let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let mut builder = client.request(parts.method, format!("{}{path}", target.trim_end_matches('/'))).body(body);
        for (header, value) in &parts.headers {
            builder = builder.header(header, value);
        }
        let status = builder.send().await?.status().as_u16();
        sent.push(Sent { provider, name, status });
    }
    Ok(sent)
}
