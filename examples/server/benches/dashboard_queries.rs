//! What the dashboard asks the server, on a SQLite log of 100,000 events against the
//! same requests on 1,000 events (the baseline, same run): whether a page stays fast
//! when the log is large. Requests go through the whole axum app in-process (routing,
//! auth, query parsing, storage, JSON), without a socket.
//!
//! `cargo bench -p callhook-server --bench dashboard_queries`

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use callhook::event::{
    CallEvent, CallStatus, Event, MessageEvent, MessageKind, MessageStatus, ProviderId, StatusUpdate,
};
use callhook::event_log::{AttemptReport, AttemptResult, EventLog, NewDelivery, NewEvent};
use callhook::{MemoryJobQueue, Receiver, Worker};
use callhook_server::AppState;
use callhook_server::config::Config;
use callhook_server::stats::Stats;
use criterion::{Criterion, criterion_group, criterion_main};
use tower::ServiceExt;

const TOKEN: &str = "bench-admin-token";
const PROVIDERS: [&str; 5] = ["twilio", "whatsapp", "retell", "cloudtalk", "wavoip"];

/// Event `n`: a call status or a message status of one of five providers, one in ten
/// failed, ten events per call or message.
fn event(n: u64) -> (NewDelivery, Vec<NewEvent>) {
    let provider = ProviderId::new(PROVIDERS[(n % 5) as usize]);
    let subject = format!("S{:08}", n / 10);
    let body = format!(r#"{{"id":"{subject}","n":{n},"padding":"{}"}}"#, "x".repeat(400));
    let received = time::OffsetDateTime::now_utc() - time::Duration::seconds((100_000 - n as i64).max(0));
    let delivery = NewDelivery::new(provider.clone(), "/webhooks/bench", received, body);
    let event = if n.is_multiple_of(2) {
        let mut call = CallEvent::new(provider, subject.clone());
        call.status = Some(CallStatus::Ringing);
        Event::Call(call)
    } else {
        Event::Message(MessageEvent::new(
            provider,
            subject.clone(),
            MessageKind::Status(StatusUpdate::new(MessageStatus::Delivered)),
        ))
    };
    let kind = if n.is_multiple_of(2) { "call.ringing" } else { "statuses.delivered" };
    (delivery, vec![NewEvent::parsed(kind, format!("{subject}:{n}"), event)])
}

async fn seeded(events: u64, dir: &std::path::Path) -> (axum::Router, Arc<callhook_sqlite::SqliteStore>) {
    let store = Arc::new(callhook_sqlite::SqliteStore::open(dir.join("bench.sqlite")).await.unwrap());
    let writers: Vec<_> = (0..32u64)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut n = w;
                while n < events {
                    let (delivery, new) = event(n);
                    let outcome = store.append(delivery, new).await.unwrap();
                    let id = outcome.events[0].id();
                    let now = time::OffsetDateTime::now_utc();
                    let result = if n % 10 == 3 {
                        AttemptResult::Failed { error: "the CRM answered 500".into() }
                    } else {
                        AttemptResult::Processed
                    };
                    store.record_attempt(id, AttemptReport::new(now, now, result)).await.unwrap();
                    n += 32;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let config = Config::from_lookup(|name| (name == "CALLHOOK_ADMIN_TOKEN").then(|| TOKEN.to_owned())).unwrap();
    let scheduler = Arc::new(MemoryJobQueue::new());
    let receiver = Receiver::builder().event_log(store.clone()).job_queue(scheduler.clone()).build().unwrap();
    let worker = Worker::builder(store.clone(), scheduler).build();
    let state = AppState::new(&config, store.clone(), worker, None, Stats::new());
    (callhook_server::app(receiver, state, false), store)
}

async fn get(app: &axum::Router, path: &str) -> usize {
    let request =
        http::Request::get(path).header("authorization", format!("Bearer {TOKEN}")).body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().len()
}

fn dashboard(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let queries = [
        ("first_page", "/api/events?limit=50".to_owned()),
        ("deep_page", "/api/events?limit=50&before={middle}".to_owned()),
        ("provider_and_failed", "/api/events?limit=50&provider=retell&status=failed".to_owned()),
        ("search_id_text", "/api/events?limit=50&q=S0000{subject_tail}".to_owned()),
        ("count_failed", "/api/events/count?status=failed".to_owned()),
        ("stats", "/api/stats".to_owned()),
        ("timeline", "/api/timeline/S{subject}".to_owned()),
        ("event_detail", "/api/events/{middle}".to_owned()),
    ];
    for size in [1_000u64, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        let (app, _store) = runtime.block_on(seeded(size, dir.path()));
        let middle = size / 2;
        let subject = format!("{:08}", middle / 10);
        let mut group = c.benchmark_group(format!("dashboard_{size}_events"));
        group.sample_size(20).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500));
        for (name, template) in &queries {
            let path = template
                .replace("{middle}", &middle.to_string())
                .replace("{subject_tail}", &subject[4..])
                .replace("{subject}", &subject);
            group.bench_function(*name, |b| b.to_async(&runtime).iter(|| get(&app, &path)));
        }
        group.finish();
    }
}

criterion_group!(benches, dashboard);
criterion_main!(benches);
