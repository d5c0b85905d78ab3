//! Alert sinks. The rate limit is checked on tokio's paused clock against a hook that
//! records what reaches it, so the window's length never races the machine's speed; the
//! JSON webhook is checked against a local HTTP server that plays a chat's incoming
//! webhook.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::Json;
use axum::extract::State;
use callhook::alert::{Alert, AlertHook, AlertSummary, JsonWebhookAlert, RateLimitedAlert};
use callhook::event::ProviderId;
use callhook::event_log::{DeliveryId, EventId, EventRecord};
use serde_json::Value;

/// What reached the hook behind the rate limit, in order.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Alert(i64),
    Summary(AlertSummary),
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Seen>>>);

impl Recorder {
    fn seen(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }
}

#[async_trait]
impl AlertHook for Recorder {
    async fn alert(&self, alert: &Alert) {
        self.0.lock().unwrap().push(Seen::Alert(alert.event.id.0));
    }

    async fn summary(&self, summary: &AlertSummary) {
        self.0.lock().unwrap().push(Seen::Summary(summary.clone()));
    }
}

async fn chat() -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(|State(received): State<Arc<Mutex<Vec<Value>>>>, Json(body): Json<Value>| async move {
                received.lock().unwrap().push(body);
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/hook"), received)
}

fn alert(id: i64, provider: &'static str) -> Alert {
    let mut event = EventRecord::new(
        EventId(id),
        DeliveryId(id),
        ProviderId::from_static(provider),
        "call-status.completed",
        format!("k{id}"),
        time::macros::datetime!(2026-12-01 10:00 UTC),
    );
    event.attempts = 8;
    Alert::new(event, format!("crm answered 500 for {id}"))
}

#[tokio::test(start_paused = true)]
async fn one_alert_per_failure_then_one_summary_for_a_burst() {
    let recorder = Recorder::default();
    let hook = RateLimitedAlert::new(recorder.clone(), 3, Duration::from_secs(60));

    for id in 1..103 {
        let provider = match id {
            1 => "twilio",
            2 => "whatsapp",
            _ if id % 2 == 0 => "twilio",
            _ => "retell",
        };
        hook.alert(&alert(id, provider)).await;
    }
    assert_eq!(recorder.seen(), [Seen::Alert(1), Seen::Alert(2), Seen::Alert(3)], "the limit holds the burst back");

    tokio::time::sleep(Duration::from_secs(59)).await;
    assert_eq!(recorder.seen().len(), 3, "nothing more before the window ends");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = recorder.seen();
    assert_eq!(seen.len(), 4, "then a single summary: {seen:#?}");
    let Seen::Summary(summary) = &seen[3] else { panic!("a summary, not {:?}", seen[3]) };
    assert_eq!(summary.suppressed, 99);
    assert_eq!(summary.by_provider.get("twilio"), Some(&50));
    assert_eq!(summary.by_provider.get("retell"), Some(&49));
    assert_eq!(summary.first_error, "crm answered 500 for 4");
    assert!(summary.text().starts_with("99 more events failed for good in the last 60 s"), "{}", summary.text());
}

#[tokio::test(start_paused = true)]
async fn a_new_window_sends_alerts_again() {
    let recorder = Recorder::default();
    let hook = RateLimitedAlert::new(recorder.clone(), 1, Duration::from_secs(60));
    hook.alert(&alert(1, "twilio")).await;
    tokio::time::sleep(Duration::from_secs(61)).await;
    hook.alert(&alert(2, "twilio")).await;
    assert_eq!(recorder.seen(), [Seen::Alert(1), Seen::Alert(2)]);
}

#[tokio::test(start_paused = true)]
async fn a_window_with_a_summary_pending_ends_when_the_summary_is_sent() {
    let recorder = Recorder::default();
    let hook = RateLimitedAlert::new(recorder.clone(), 1, Duration::from_secs(60));
    hook.alert(&alert(1, "twilio")).await;
    hook.alert(&alert(2, "twilio")).await;
    tokio::time::sleep(Duration::from_secs(61)).await;
    hook.alert(&alert(3, "twilio")).await;
    let seen = recorder.seen();
    assert_eq!(seen.len(), 3, "{seen:#?}");
    assert_eq!(seen[0], Seen::Alert(1));
    assert!(matches!(&seen[1], Seen::Summary(summary) if summary.suppressed == 1));
    assert_eq!(seen[2], Seen::Alert(3), "the next window starts with the limit free");
}

#[tokio::test]
async fn the_json_webhook_posts_each_alert_and_each_summary() {
    let (url, received) = chat().await;
    let hook = JsonWebhookAlert::new(url.clone()).unwrap();
    hook.alert(&alert(1, "twilio")).await;
    hook.alert(&alert(2, "whatsapp")).await;
    {
        let received = received.lock().unwrap();
        assert_eq!(received.len(), 2, "one post per alert");
        assert!(received[0]["text"].as_str().unwrap().contains("event 1"));
        assert_eq!(received[1]["event"]["provider"], "whatsapp");
        assert_eq!(received[1]["event"]["attempts"], 8);
        assert_eq!(received[1]["event"]["error"], "crm answered 500 for 2");
    }

    // A summary reaches the chat once its window ends; no alert is sent before it
    // (the limit is 0). The wait is only an upper bound: it ends when the post arrives.
    let limited = RateLimitedAlert::new(JsonWebhookAlert::new(url).unwrap(), 0, Duration::from_millis(10));
    limited.alert(&alert(3, "retell")).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while received.lock().unwrap().len() < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 3, "then the summary: {received:#?}");
    let summary = &received[2];
    assert_eq!(summary["summary"]["suppressed"], 1);
    assert_eq!(summary["summary"]["by_provider"]["retell"], 1);
    assert_eq!(summary["summary"]["first_error"], "crm answered 500 for 3");
    assert!(summary["text"].as_str().unwrap().contains("1 more events failed"));
}

#[tokio::test]
async fn an_unreachable_webhook_is_logged_not_fatal() {
    let hook = JsonWebhookAlert::new("http://127.0.0.1:9/nowhere").unwrap();
    hook.alert(&alert(1, "twilio")).await;
}
