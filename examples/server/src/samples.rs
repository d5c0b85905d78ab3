//! Correctly signed sample webhooks of every provider and event kind, sent to a running
//! server: the quick start without a provider account. Each provider whose secret is set
//! in the environment gets its samples, signed with that secret (the same variables the
//! server reads). Provider times are the time of the run, and recording URLs point at the
//! server's own sample recordings ([`crate::sample_recordings`]), so every sample call's
//! recording is downloaded end to end.

use bytes::Bytes;
use callhook::providers::{cloudtalk, retell, twilio, wavoip, whatsapp};
use http::Request;
use time::OffsetDateTime;

use crate::config::Config;
use crate::sample_recordings;

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

/// The samples for every provider configured in `config`, sent at `now`, ids made
/// unique by `run`.
pub fn samples(config: &Config, run: &str, now: OffsetDateTime) -> Vec<(&'static str, String, Request<Bytes>)> {
    let mut out: Vec<(&'static str, String, Request<Bytes>)> = Vec::new();
    let recording_url = |name: &str| format!("{}{name}", sample_recordings::base_url(config));
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
                twilio::testing::call_status(&call, status, sequence as u64, now),
            );
        }
        let recording = format!("RE{run}");
        let mut completed = twilio::testing::recording_status(&call, &recording, "completed", now);
        set(&mut completed, "RecordingUrl", recording_url(&recording));
        push("recording completed".into(), "recording-status", completed);
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
        let at = now.unix_timestamp();
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
        let recording = recording_url(&format!("{call}.wav"));
        for event in ["call_started", "call_ended", "call_analyzed"] {
            let body = retell::testing::call_event(event, &call, "user_hangup", now);
            let body = with_field(&body, &["call", "recording_url"], recording.clone());
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
            let body = cloudtalk::testing::call_event(event, id, now);
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
            (
                "recording ready",
                with_field(&wavoip::testing::record(&call, "READY"), &["record_url"], recording_url(&call)),
            ),
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
    let now = OffsetDateTime::now_utc();
    let run = now.unix_timestamp_nanos().to_string();
    let mut sent = Vec::new();
    for (provider, name, request) in samples(config, &run, now) {
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

/// Sets form parameter `key` to `value`.
fn set(params: &mut twilio::testing::Params, key: &str, value: String) {
    if let Some((_, old)) = params.iter_mut().find(|(k, _)| k == key) {
        *old = value;
    }
}

/// The JSON `body` with the string at `path` replaced by `value` (where there is one).
fn with_field(body: &str, path: &[&str], value: String) -> String {
    let mut json: serde_json::Value = serde_json::from_str(body).expect("the testing helpers write JSON");
    if let Some(field) = path.iter().try_fold(&mut json, |json, key| json.get_mut(*key)).filter(|f| f.is_string()) {
        *field = value.into();
    }
    json.to_string()
}
