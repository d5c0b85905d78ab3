//! Verify and parse throughput per provider, against two baselines in the same run.
//!
//! One group per fixture in `tests/fixtures/`, each with:
//!
//! - `a_floor_verify`: the provider's own signature or token check alone (`Provider::verify`);
//! - `b_naive_verify_value`: the same check plus `serde_json::from_slice::<Value>` (Twilio:
//!   plus a form parse into `Vec<(String, String)>`);
//! - `c_callhook_verify_parse`: `verify` plus `parse` (wire model, normalization into `Event`s).
//!
//! Requests are signed once, outside the measured loop, with the `testing` helpers.
//!
//! `cargo bench --bench providers --features testing`

use std::hint::black_box;

use bytes::Bytes;
use callhook::provider::{Provider, WebhookRequest};
use callhook::providers::cloudtalk::{self, CloudTalk};
use callhook::providers::registry::{SampleRun, Settings};
use callhook::providers::retell::{self, Retell};
use callhook::providers::twilio::{self, Twilio};
use callhook::providers::wavoip::{self, WaVoip};
use callhook::providers::whatsapp::{self, WhatsApp};
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime};
use http::Request;
use time::OffsetDateTime;
use time::macros::datetime;

const WHATSAPP_SINGLE_TEXT: &[u8] = include_bytes!("../tests/fixtures/whatsapp/bench_single_text.json");
const WHATSAPP_STATUSES_200: &[u8] = include_bytes!("../tests/fixtures/whatsapp/bench_statuses_200.json");
const TWILIO_CALL_STATUS: &[u8] = include_bytes!("../tests/fixtures/twilio/call_status_completed.form");
const RETELL_CALL_ANALYZED: &[u8] = include_bytes!("../tests/fixtures/retell/call_analyzed_40_turns.json");
const CLOUDTALK_CALL_ENDED: &[u8] = include_bytes!("../tests/fixtures/cloudtalk/call_ended.json");
const WAVOIP_RECORD_READY: &[u8] = include_bytes!("../tests/fixtures/wavoip/record_ready.json");

const TWILIO_BASE_URL: &str = "https://crm.example.com";
const TWILIO_URL: &str = "https://crm.example.com/webhooks/twilio/call-status";

/// When the receiver got every request (and when Retell signed it).
const RECEIVED_AT: OffsetDateTime = datetime!(2026-12-01 10:00:42 UTC);

fn utf8(body: &'static [u8]) -> &'static str {
    std::str::from_utf8(body).expect("fixtures are UTF-8")
}

/// The three variants of a JSON fixture (and, for a batch, (c) again in events per second).
fn bench_json(
    group: &mut BenchmarkGroup<'_, WallTime>,
    provider: &dyn Provider,
    request: &Request<Bytes>,
    events: usize,
) {
    let view = WebhookRequest::new(request, RECEIVED_AT, None);
    provider.verify(&view).expect("the request is correctly signed");
    assert_eq!(provider.parse(&view).expect("the fixture parses").len(), events);

    group.throughput(Throughput::Bytes(request.body().len() as u64));
    group.bench_function("a_floor_verify", |b| b.iter(|| provider.verify(black_box(&view)).unwrap()));
    group.bench_function("b_naive_verify_value", |b| {
        b.iter(|| {
            let view = black_box(&view);
            provider.verify(view).unwrap();
            serde_json::from_slice::<serde_json::Value>(view.body()).unwrap()
        })
    });
    callhook_variant(group, "c_callhook_verify_parse", provider, &view);
    if events > 1 {
        // The same work again, reported in events per second.
        group.throughput(Throughput::Elements(events as u64));
        callhook_variant(group, "c_callhook_verify_parse_events", provider, &view);
    }
}

/// (c): verify, then parse and normalize into events.
fn callhook_variant(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    provider: &dyn Provider,
    view: &WebhookRequest<'_>,
) {
    group.bench_function(name, |b| {
        b.iter(|| {
            let view = black_box(view);
            provider.verify(view).unwrap();
            provider.parse(view).unwrap()
        })
    });
}

fn whatsapp(c: &mut Criterion) {
    let provider = WhatsApp::builder().app_secret("bench app secret").build();
    for (name, body, events) in
        [("whatsapp_single_text", WHATSAPP_SINGLE_TEXT, 1), ("whatsapp_statuses_200", WHATSAPP_STATUSES_200, 200)]
    {
        let request = whatsapp::testing::signed(
            "bench app secret",
            "/webhooks/whatsapp",
            utf8(body),
            time::OffsetDateTime::now_utc(),
        );
        assert_eq!(request.body().as_ref(), body);
        let mut group = c.benchmark_group(name);
        bench_json(&mut group, &provider, &request, events);
        group.finish();
    }
}

fn twilio(c: &mut Criterion) {
    let provider = Twilio::new("bench auth token");
    let params: Vec<(String, String)> = form_urlencoded::parse(TWILIO_CALL_STATUS).into_owned().collect();
    let request = twilio::testing::signed_form("bench auth token", TWILIO_URL, &params);
    assert_eq!(request.body().as_ref(), TWILIO_CALL_STATUS, "the helper re-encodes the fixture byte for byte");
    let view = WebhookRequest::new(&request, RECEIVED_AT, Some(TWILIO_BASE_URL));
    provider.verify(&view).expect("the request is correctly signed");
    assert_eq!(provider.parse(&view).expect("the fixture parses").len(), 1);

    let mut group = c.benchmark_group("twilio_call_status_completed");
    group.throughput(Throughput::Bytes(TWILIO_CALL_STATUS.len() as u64));
    group.bench_function("a_floor_verify", |b| b.iter(|| provider.verify(black_box(&view)).unwrap()));
    group.bench_function("b_naive_verify_form", |b| {
        b.iter(|| {
            let view = black_box(&view);
            provider.verify(view).unwrap();
            form_urlencoded::parse(view.body()).into_owned().collect::<Vec<(String, String)>>()
        })
    });
    callhook_variant(&mut group, "c_callhook_verify_parse", &provider, &view);
    group.finish();
}

fn retell(c: &mut Criterion) {
    let provider = Retell::builder().api_key("key_bench").build();
    let request =
        retell::testing::signed("key_bench", "/webhooks/retell/call-events", utf8(RETELL_CALL_ANALYZED), RECEIVED_AT);
    let mut group = c.benchmark_group("retell_call_analyzed_40_turns");
    bench_json(&mut group, &provider, &request, 1);
    group.finish();
}

fn cloudtalk(c: &mut Criterion) {
    let provider = CloudTalk::builder().bearer_token("bench bearer token").build();
    let request = cloudtalk::testing::signed(
        "bench bearer token",
        "/webhooks/cloudtalk",
        utf8(CLOUDTALK_CALL_ENDED),
        time::OffsetDateTime::now_utc(),
    );
    let mut group = c.benchmark_group("cloudtalk_call_ended");
    bench_json(&mut group, &provider, &request, 1);
    group.finish();
}

fn wavoip(c: &mut Criterion) {
    let provider = WaVoip::builder().token("bench token").build();
    let request = wavoip::testing::signed(
        "bench token",
        "/webhooks/wavoip",
        utf8(WAVOIP_RECORD_READY),
        time::OffsetDateTime::now_utc(),
    );
    let mut group = c.benchmark_group("wavoip_record_ready");
    bench_json(&mut group, &provider, &request, 1);
    group.finish();
}

/// Providers benchmarked above by hand, with their fixtures.
const HAND_WRITTEN: [&str; 5] = ["twilio", "whatsapp", "retell", "cloudtalk", "wavoip"];

/// Every other provider ([`callhook::providers::all`]): (c) on each of its samples.
fn registered(c: &mut Criterion) {
    for registration in callhook::providers::all().iter().filter(|r| !HAND_WRITTEN.contains(&r.id.as_str())) {
        let mut settings = Settings::default();
        for setting in registration.settings {
            settings = settings.with(setting.key, format!("bench {}", setting.key));
        }
        let mount = (registration.mount)(&settings).expect("every setting is set");
        let recording_url = |name: &str| format!("{TWILIO_BASE_URL}/recordings/{name}");
        let run = SampleRun::new(&settings, TWILIO_BASE_URL, "bench", RECEIVED_AT, &recording_url);
        let mut group = c.benchmark_group(format!("{}_samples", registration.id));
        for (i, sample) in (registration.samples)(&run).into_iter().enumerate() {
            let view = WebhookRequest::new(&sample.request, RECEIVED_AT, Some(TWILIO_BASE_URL));
            if mount.provider.verify(&view).is_err() || mount.provider.parse(&view).is_err() {
                continue; // a handshake, not a delivery
            }
            group.throughput(Throughput::Bytes(sample.request.body().len() as u64));
            let name = format!("c_callhook_verify_parse_{i}_{}", sample.name.replace(' ', "_"));
            callhook_variant(&mut group, &name, mount.provider.as_ref(), &view);
        }
        group.finish();
    }
}

criterion_group!(benches, whatsapp, twilio, retell, cloudtalk, wavoip, registered);
criterion_main!(benches);
