//! Alert sinks against a local HTTP server that plays a chat's incoming webhook: one
//! alert per failed event under the limit, a single summary under a burst.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use callhook::alert::{Alert, AlertHook, JsonWebhookAlert, RateLimitedAlert};
use callhook::event::ProviderId;
use callhook::event_log::{DeliveryId, EventId, EventRecord};
use serde_json::Value;

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
    let event = EventRecord::new(
        EventId(id),
        DeliveryId(id),
        ProviderId::from_static(provider),
        "call-status.completed",
        format!("k{id}"),
        time::OffsetDateTime::now_utc(),
    );
    let mut event = event;
    event.attempts = 8;
    Alert::new(event, format!("crm answered 500 for {id}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_alert_per_failure_then_one_summary_for_a_burst() {
    let (url, received) = chat().await;
    let hook = RateLimitedAlert::new(JsonWebhookAlert::new(url).unwrap(), 3, Duration::from_millis(300));

    hook.alert(&alert(1, "twilio")).await;
    hook.alert(&alert(2, "whatsapp")).await;
    assert_eq!(received.lock().unwrap().len(), 2, "one alert per failed event");
    assert!(received.lock().unwrap()[0]["text"].as_str().unwrap().contains("event 1"));
    assert_eq!(received.lock().unwrap()[1]["event"]["provider"], "whatsapp");

    for id in 3..103 {
        hook.alert(&alert(id, if id % 2 == 0 { "twilio" } else { "retell" })).await;
    }
    assert_eq!(received.lock().unwrap().len(), 3, "the limit holds the burst back");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 4, "then a single summary: {received:#?}");
    let summary = &received[3];
    assert_eq!(summary["summary"]["suppressed"], 99);
    assert_eq!(summary["summary"]["by_provider"]["twilio"], 50);
    assert_eq!(summary["summary"]["by_provider"]["retell"], 49);
    assert!(summary["text"].as_str().unwrap().contains("99 more events failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_window_sends_alerts_again() {
    let (url, received) = chat().await;
    let hook = RateLimitedAlert::new(JsonWebhookAlert::new(url).unwrap(), 1, Duration::from_millis(100));
    hook.alert(&alert(1, "twilio")).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    hook.alert(&alert(2, "twilio")).await;
    assert_eq!(received.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn an_unreachable_webhook_is_logged_not_fatal() {
    let hook = JsonWebhookAlert::new("http://127.0.0.1:9/nowhere").unwrap();
    hook.alert(&alert(1, "twilio")).await;
}
