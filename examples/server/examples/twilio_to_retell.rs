//! A Twilio number answered by a Retell AI agent, kept as one conversation.
//!
//! When a call comes in, the incoming-call hook registers it with Retell
//! (`POST /v2/register-phone-call`, with the Twilio `CallSid` in the call's metadata) and
//! answers Twilio with TwiML that dials Retell's SIP URI for that call:
//!
//! ```xml
//! <Response><Dial><Sip>sip:{retell call_id}@sip.retellai.com</Sip></Dial></Response>
//! ```
//!
//! Twilio's status callbacks for the dialed leg name its parent call and the SIP URI,
//! and Retell's `call_started`, `call_ended` and `call_analyzed` carry the Twilio
//! `CallSid` in their metadata: callhook links them (`CallEvent::links`), so
//! `GET /api/timeline/{either id}` on the reference server, or
//! `EventFilter::links_to`, shows one conversation with both providers' events, the
//! recording and the analysis. If Retell cannot be reached within 5 seconds, the caller
//! hears a message instead of silence.
//!
//! ```sh
//! export TWILIO_AUTH_TOKEN=... RETELL_API_KEY=... RETELL_AGENT_ID=agent_...
//! export CALLHOOK_PUBLIC_URL=https://crm.example.com   # the URL Twilio calls
//! cargo run -p callhook-server --example twilio_to_retell
//! ```
//!
//! Point the Twilio number's "A call comes in" at `/webhooks/twilio/incoming-call`, its
//! status callbacks at `/webhooks/twilio/call-status`, and the Retell agent's webhook at
//! `/webhooks/retell`.

use std::sync::Arc;
use std::time::Duration;

use callhook::providers::retell::Retell;
use callhook::providers::twilio::Twilio;
use callhook::providers::twilio::model::IncomingCall;
use callhook::providers::twilio::twiml::{Dial, Sip, VoiceResponse};
use callhook::worker::{HandlerError, handler_fn};
use callhook::{Receiver, Worker};
use serde_json::json;

/// How long the caller waits for Retell to register the call before hearing a message.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(5);

/// Registers calls with Retell's API.
#[derive(Clone)]
struct RetellRegistrar {
    http: reqwest::Client,
    /// `https://api.retellai.com` (a test points it at a local stand-in).
    api_base: String,
    api_key: callhook::verify::Secret,
    agent_id: String,
}

impl RetellRegistrar {
    /// The Retell call id for this Twilio call, or `None` if Retell refused or did not
    /// answer in time.
    async fn register(&self, call: &IncomingCall<'_>) -> Option<String> {
        let body = json!({
            "agent_id": self.agent_id,
            "from_number": call.call.from,
            "to_number": call.call.to,
            "direction": "inbound",
            // Retell's webhooks carry it back: how callhook links the two calls.
            "metadata": { "twilio_call_sid": call.call.call_sid },
        });
        let response = self
            .http
            .post(format!("{}/v2/register-phone-call", self.api_base))
            .bearer_auth(self.api_key.expose())
            .json(&body)
            .timeout(REGISTER_TIMEOUT)
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            tracing::error!(status = %response.status(), "Retell refused to register the call");
            return None;
        }
        let registered: serde_json::Value = response.json().await.ok()?;
        registered["call_id"].as_str().map(str::to_owned)
    }

    /// The TwiML answer: dial Retell's SIP URI for the registered call.
    fn answer(&self, call: &IncomingCall<'_>) -> VoiceResponse {
        // The hook is synchronous (Twilio waits for its answer); the registration is
        // an HTTP call, made on this runtime thread without stalling the others.
        let registered =
            tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(self.register(call)));
        match registered {
            Some(call_id) => {
                VoiceResponse::new().verb(Dial::new().sip(Sip::new(format!("sip:{call_id}@sip.retellai.com"))))
            }
            None => {
                VoiceResponse::new().say("Sorry, our assistant is not available right now. Please call again later.")
            }
        }
    }
}

/// The receiver: Twilio answered through `registrar`, Retell's webhooks, one store.
fn receiver(
    registrar: RetellRegistrar,
    twilio_token: &str,
    retell_key: &str,
    store: Arc<dyn callhook::Store>,
) -> Receiver {
    let twilio = Arc::new(
        Twilio::builder()
            .auth_token(twilio_token)
            .on_incoming_call(move |call: &IncomingCall<'_>| registrar.answer(call))
            .build(),
    );
    let retell = Arc::new(Retell::builder().api_key(retell_key).build());
    let mut builder = Receiver::builder()
        .public_base_url(std::env::var("CALLHOOK_PUBLIC_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into()))
        .store(store);
    for endpoint in ["incoming-call", "call-status", "recording-status"] {
        builder = builder.mount(format!("/webhooks/twilio/{endpoint}"), twilio.clone());
    }
    builder.mount("/webhooks/retell", retell).build().expect("distinct paths and a store")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let env = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let registrar = RetellRegistrar {
        http: reqwest::Client::new(),
        api_base: std::env::var("RETELL_API_BASE").unwrap_or_else(|_| "https://api.retellai.com".into()),
        api_key: env("RETELL_API_KEY")?.into(),
        agent_id: env("RETELL_AGENT_ID")?,
    };
    let store = Arc::new(callhook_sqlite::SqliteStore::open("callhook.sqlite").await?);
    let receiver = receiver(registrar, &env("TWILIO_AUTH_TOKEN")?, &env("RETELL_API_KEY")?, store.clone());
    let worker = Worker::builder_with_store(store)
        .providers(receiver.providers())
        .handler(handler_fn(|detail| async move {
            // Your CRM here: the event, and `EventFilter::links_to` for the other calls.
            tracing::info!(event = %detail.event.event_type, "processed");
            Ok::<_, HandlerError>(())
        }))
        .build();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let processing = tokio::spawn(async move {
        worker
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    axum::serve(listener, callhook_axum::router::<()>(receiver)).with_graceful_shutdown(shutdown).await?;
    let _ = stop.send(());
    processing.await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use axum::Json;
    use callhook::providers::twilio::testing;

    use super::*;

    /// A local stand-in for Retell's register endpoint: answers a call id, keeps what it
    /// was sent.
    async fn retell_api(answer: Option<&'static str>) -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = seen.clone();
        let app = axum::Router::new().route(
            "/v2/register-phone-call",
            axum::routing::post(move |Json(body): Json<serde_json::Value>| {
                kept.lock().unwrap().push(body);
                async move {
                    match answer {
                        Some(call_id) => Ok(Json(json!({"call_id": call_id, "call_status": "registered"}))),
                        None => Err(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{address}"), seen)
    }

    async fn answer_a_call(api_base: String) -> String {
        let registrar = RetellRegistrar {
            http: reqwest::Client::new(),
            api_base,
            api_key: "key".into(),
            agent_id: "agent_test".into(),
        };
        let store = Arc::new(callhook::MemoryEventLog::new());
        let queue = Arc::new(callhook::MemoryJobQueue::new());
        let twilio = Arc::new(
            Twilio::builder()
                .auth_token("token")
                .on_incoming_call(move |call: &IncomingCall<'_>| registrar.answer(call))
                .build(),
        );
        let receiver = Receiver::builder()
            .public_base_url("http://127.0.0.1:3000")
            .mount("/webhooks/twilio/incoming-call", twilio)
            .event_log(store)
            .job_queue(queue)
            .build()
            .unwrap();
        let params = testing::incoming_call("CA00000000000000000000000000000042", "+5511987654321", "+14155550100");
        let request = testing::signed_form("token", "http://127.0.0.1:3000/webhooks/twilio/incoming-call", &params);
        let response = receiver.handle(request).await;
        assert_eq!(response.status(), 200);
        String::from_utf8(response.body().to_vec()).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_incoming_call_is_registered_with_retell_and_dialed_to_its_sip_uri() {
        let (api, seen) = retell_api(Some("call_example42")).await;
        let twiml = answer_a_call(api).await;
        assert!(twiml.contains("<Dial><Sip>sip:call_example42@sip.retellai.com</Sip></Dial>"), "{twiml}");
        let sent = seen.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["metadata"]["twilio_call_sid"], "CA00000000000000000000000000000042");
        assert_eq!(
            (sent[0]["from_number"].as_str(), sent[0]["agent_id"].as_str()),
            (Some("+5511987654321"), Some("agent_test"))
        );
        // The SIP URI names the Retell call: the dialed leg will link to it.
        let (provider, call) = callhook::providers::call_dialed_at("sip:call_example42@sip.retellai.com").unwrap();
        assert_eq!((provider.as_str(), call.as_str()), ("retell", "call_example42"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_hears_a_message_when_retell_refuses() {
        let (api, _) = retell_api(None).await;
        let twiml = answer_a_call(api).await;
        assert!(twiml.contains("<Say>") && !twiml.contains("<Dial>"), "{twiml}");
    }
}
