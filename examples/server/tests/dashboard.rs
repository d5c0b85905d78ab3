//! The dashboard in a real headless Chromium (Debian's `chromium` and `chromium-driver`),
//! against the reference server on a real SQLite file: a wrong token sees nothing; after
//! signing in, signed samples of every provider appear live without a reload; filters
//! narrow the log; a failed event is opened and reprocessed and turns processed; the
//! failed events matching a filter are reprocessed after a confirmation with their
//! count; both actions are in the event log; a call's timeline shows its events and
//! folded state. A screenshot of the main page is kept in `target/dashboard.png`.
//!
//! Without Chromium the test is skipped, except under `CI=true`, where it fails.

mod webdriver;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use callhook::RetryPolicy;
use callhook::event_log::EventDetail;
use callhook::worker::{HandlerError, handler_fn};
use callhook_server::config::Config;
use serde_json::json;
use webdriver::Browser;

const ADMIN: &str = "dashboard-admin-token";

struct Server {
    base: String,
    config: Config,
    /// While set, the handler fails every CloudTalk event.
    cloudtalk_broken: Arc<AtomicBool>,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let env: HashMap<&str, String> = [
        ("TWILIO_AUTH_TOKEN", "twilio-secret".to_owned()),
        ("RETELL_API_KEY", "key_retell".to_owned()),
        ("WHATSAPP_APP_SECRET", "meta-secret".to_owned()),
        ("WHATSAPP_VERIFY_TOKEN", "verify-me".to_owned()),
        ("CLOUDTALK_WEBHOOK_TOKEN", "cloudtalk-secret".to_owned()),
        ("WAVOIP_WEBHOOK_TOKEN", "wavoip-secret".to_owned()),
        ("CALLHOOK_ADMIN_TOKEN", ADMIN.to_owned()),
        ("CALLHOOK_LISTEN", address.to_string()),
        ("DATABASE_URL", dir.path().join("dashboard.sqlite").display().to_string()),
        ("CALLHOOK_RECORDINGS_DIR", dir.path().join("recordings").display().to_string()),
    ]
    .into_iter()
    .collect();
    let config = Config::from_lookup(|name| env.get(name).cloned()).unwrap();
    let cloudtalk_broken = Arc::new(AtomicBool::new(true));
    let broken = cloudtalk_broken.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(callhook_server::serve_with(
        config.clone(),
        listener,
        None,
        move |worker| {
            worker
                // One attempt: a failure is final at once, as after a long retry schedule.
                .retry_policy(RetryPolicy::new(Duration::from_millis(10)).max_attempts(1))
                .handler(handler_fn(move |detail: EventDetail| {
                    let broken = broken.clone();
                    async move {
                        if detail.event.provider.as_str() == "cloudtalk" && broken.load(Ordering::SeqCst) {
                            return Err::<(), HandlerError>("the CRM rejected the contact (HTTP 422)".into());
                        }
                        Ok(())
                    }
                }))
        },
        async {
            let _ = stopped.await;
        },
    ));
    Server { base: format!("http://{address}"), config, cloudtalk_broken, _stop: stop, _dir: dir }
}

/// The text of column `column` of every row of the event log.
fn column(column: usize) -> String {
    format!(
        "return [...document.querySelectorAll('#events tbody tr[data-id]')].map(r => r.cells[{column}].textContent);"
    )
}

async fn texts(browser: &Browser, script: &str) -> Vec<String> {
    let value = browser.run(script, json!([])).await;
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_in_a_real_browser() {
    let Some((driver, chromium)) = webdriver::binaries() else {
        assert!(
            std::env::var("CI").is_err(),
            "CI needs chromium and chromium-driver (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipped: no chromium/chromedriver on this machine");
        return;
    };
    let server = start().await;
    let base = server.base.clone();
    let browser = Browser::start(&driver, &chromium).await;

    // A wrong token sees the login form again and nothing else; the API refuses it too.
    browser.goto(&format!("{base}/dashboard")).await;
    browser.type_into(&browser.find("#token").await, "not-the-token").await;
    browser.click(&browser.find("#sign-in").await).await;
    browser.wait_for("the refusal", "return document.getElementById('login-error').textContent;").await;
    let leaked = browser
        .run(
            "return [document.getElementById('events'), document.getElementById('counters')].filter(Boolean).length;",
            json!([]),
        )
        .await;
    assert_eq!(leaked, 0, "no dashboard for a wrong token");
    let api = browser.run("return fetch('/api/events').then(r => r.status);", json!([])).await;
    assert_eq!(api, 401);

    // The right token opens the dashboard.
    browser.type_into(&browser.find("#token").await, ADMIN).await;
    browser.click(&browser.find("#sign-in").await).await;
    browser.wait_for("the live stream", "return document.getElementById('live').textContent === 'live';").await;
    browser.wait_for("the empty log", "return document.querySelector('#events tbody td.muted');").await;
    browser.run("window.__loadedOnce = true;", json!([])).await;

    // Samples of every provider, signed, arrive while the page is open.
    let sent = callhook_server::samples::send(&base, &server.config).await.unwrap();
    assert!(sent.iter().all(|s| s.status == 200), "{sent:?}");
    // And one forged: counted as rejected, by reason, and stored nowhere.
    let body = callhook::providers::whatsapp::testing::notification(
        "messages",
        callhook::providers::whatsapp::testing::statuses(&[("wamid.FORGED", "read", 1)]),
    );
    let (parts, body) = callhook::providers::whatsapp::testing::signed(
        "not-the-secret",
        "/webhooks/whatsapp",
        &body,
        time::OffsetDateTime::now_utc(),
    )
    .into_parts();
    let mut forged = reqwest::Client::new().post(format!("{base}/webhooks/whatsapp")).body(body);
    for (name, value) in &parts.headers {
        forged = forged.header(name, value);
    }
    assert_eq!(forged.send().await.unwrap().status(), 401);
    let providers = ["cloudtalk", "retell", "twilio", "wavoip", "whatsapp"];
    browser
        .wait_for(
            "a row of every provider, live",
            &format!(
                "const seen = new Set([...document.querySelectorAll('#events tbody tr[data-id]')].map(r => r.cells[2].textContent));
                 return {providers:?}.every(p => seen.has(p));"
            ),
        )
        .await;
    assert_eq!(browser.run("return window.__loadedOnce === true;", json!([])).await, true, "no reload happened");
    let counters = browser
        .wait_for(
            "the counters of every provider, CloudTalk's failures among them",
            "const rows = [...document.querySelectorAll('#counters tbody tr[data-provider]')];
             const ct = rows.find(r => r.dataset.provider === 'cloudtalk');
             return rows.length === 5 && ct && Number(ct.cells[6].textContent) > 0
                 ? rows.map(r => [r.dataset.provider, r.cells[1].textContent, r.cells[6].textContent]) : null;",
        )
        .await;
    browser
        .wait_for(
            "WhatsApp's rejection, by reason",
            "const row = document.querySelector('#counters tbody tr[data-provider=\"whatsapp\"]');
             return row && row.cells[3].dataset.reasons === 'bad_signature=1' && row.cells[3].textContent.includes('bad signature 1');",
        )
        .await;
    let cloudtalk_failed: u64 = counters.as_array().unwrap().iter().find(|r| r[0] == "cloudtalk").unwrap()[2]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(cloudtalk_failed >= 2, "{counters}");
    // The alerts sent for the failures are listed.
    browser.wait_for("the alerts", "return document.querySelector('#alerts li.failed');").await;

    // Filter: failed events only: all CloudTalk's.
    browser.run("document.getElementById('f-status').value = 'failed';", json!([])).await;
    browser.click(&browser.find("#apply").await).await;
    browser
        .wait_for(
            "only failed rows",
            "const rows = [...document.querySelectorAll('#events tbody tr[data-id]')];
             return rows.length > 0 && rows.every(r => r.cells[6].textContent === 'failed');",
        )
        .await;
    let failed_providers = texts(&browser, &column(2)).await;
    assert_eq!(failed_providers.len() as u64, cloudtalk_failed);
    assert!(failed_providers.iter().all(|p| p == "cloudtalk"), "{failed_providers:?}");
    assert!(browser.run("return location.hash;", json!([])).await.as_str().unwrap().contains("status=failed"));

    // Open the first failed event: its error, payload and attempt are shown.
    let failed_id = texts(&browser, &column(0)).await[0].clone();
    browser.click(&browser.find("#events tbody tr[data-id] td a").await).await;
    browser.wait_for("the event page", "return !document.getElementById('view-event').hidden && document.getElementById('e-status').textContent === 'failed';").await;
    let page = browser
        .run(
            "return { id: document.getElementById('e-id').textContent,
                      attempts: [...document.querySelectorAll('#e-attempts tbody tr')].map(r => r.cells[3].textContent),
                      payload: document.getElementById('e-payload').textContent,
                      facts: document.getElementById('e-facts').textContent,
                      headers: document.getElementById('e-headers').textContent };",
            json!([]),
        )
        .await;
    assert_eq!(page["id"], format!("#{failed_id}"));
    assert_eq!(page["attempts"], json!(["the CRM rejected the contact (HTTP 422)"]));
    assert!(
        page["payload"].as_str().unwrap().contains("\"call_uuid\"")
            || page["payload"].as_str().unwrap().contains("call"),
        "{page}"
    );
    assert!(page["facts"].as_str().unwrap().contains("signature verified"), "{page}");
    assert!(page["headers"].as_str().unwrap().contains("content-type"), "{page}");

    // The CRM is fixed; reprocess this one event and watch it turn processed.
    server.cloudtalk_broken.store(false, Ordering::SeqCst);
    browser.click(&browser.find("#e-reprocess").await).await;
    browser
        .wait_for("the event processed", "return document.getElementById('e-status').textContent === 'processed';")
        .await;
    let attempts = texts(
        &browser,
        "return [...document.querySelectorAll('#e-attempts tbody tr')].map(r => r.cells[3].textContent);",
    )
    .await;
    assert_eq!(attempts, ["the CRM rejected the contact (HTTP 422)", "processed"], "the history is kept");

    // Back to the failed CloudTalk events: reprocess all that match, after confirming the count.
    browser.goto(&format!("{base}/dashboard#/?provider=cloudtalk&status=failed")).await;
    browser
        .wait_for(
            "the remaining failed rows",
            &format!(
                "return document.querySelectorAll('#events tbody tr[data-id]').length === {};",
                cloudtalk_failed - 1
            ),
        )
        .await;
    browser.click(&browser.find("#reprocess-matching").await).await;
    let question = browser.wait_for("the confirmation", "const d = document.getElementById('confirm'); return d.open && document.getElementById('confirm-text').textContent;").await;
    assert!(
        question.as_str().unwrap().starts_with(&format!("Reprocess {} failed event", cloudtalk_failed - 1)),
        "{question}"
    );
    assert!(question.as_str().unwrap().contains("provider=cloudtalk"), "{question}");
    browser.click(&browser.find("#confirm-ok").await).await;
    let notice = browser
        .wait_for("the result", "const n = document.getElementById('notice'); return !n.hidden && n.textContent;")
        .await;
    assert!(notice.as_str().unwrap().starts_with(&format!("Reprocessing {} event", cloudtalk_failed - 1)), "{notice}");
    browser.click(&browser.find("#apply").await).await;
    browser
        .wait_for(
            "no failed events left",
            "return document.getElementById('matching').textContent.startsWith('0 matching');",
        )
        .await;

    // A customer's events, by their number in any spelling: the samples' Twilio caller
    // (an incoming call and message), and none of the other samples' customers.
    browser.goto(&format!("{base}/dashboard#/")).await;
    browser.run("document.getElementById('f-number').value = '55 11 98765-4321';", json!([])).await;
    browser.click(&browser.find("#apply").await).await;
    let providers = browser
        .wait_for(
            "the customer's events",
            "const rows = [...document.querySelectorAll('#events tbody tr[data-id]')];
             const types = rows.map(r => r.cells[4].textContent);
             // The filtered page, not the one before it.
             return rows.length > 0 && types.every(t => t.startsWith('incoming-')) && types;",
        )
        .await;
    let types: Vec<&str> = providers.as_array().unwrap().iter().filter_map(|p| p.as_str()).collect();
    assert_eq!(types, ["incoming-message", "incoming-call"], "{types:?}");

    // Both actions are in the event log.
    browser.goto(&format!("{base}/dashboard#/?provider=callhook")).await;
    browser
        .wait_for("the recorded actions", "return document.querySelectorAll('#events tbody tr[data-id]').length === 2;")
        .await;
    let actions = texts(&browser, &column(4)).await;
    assert_eq!(actions, ["callhook.admin.reprocess_matching", "callhook.admin.reprocess"]);

    // A Twilio call's timeline: its events in provider order and the folded state.
    browser.goto(&format!("{base}/dashboard#/?provider=twilio")).await;
    let subject = browser
        .wait_for(
            "a Twilio call",
            "const a = [...document.querySelectorAll('#events tbody tr[data-id] td:nth-child(6) a')]
                 .find(a => a.textContent.startsWith('CA'));
             return a && a.textContent;",
        )
        .await;
    browser.goto(&format!("{base}/dashboard#/subject/{}", subject.as_str().unwrap())).await;
    let states = browser
        .wait_for("the timeline", "return document.querySelectorAll('#s-events tbody tr').length > 1 && document.getElementById('s-states').textContent;")
        .await;
    let call = subject.as_str().unwrap();
    assert!(states.as_str().unwrap().contains(&format!("twilio call {call}: completed")), "{states}");

    // The main page, for the README and as a test artifact.
    browser.goto(&format!("{base}/dashboard#/")).await;
    browser.wait_for("the log", "return document.querySelectorAll('#events tbody tr[data-id]').length > 10;").await;
    browser
        .wait_for("the counters", "return document.querySelectorAll('#counters tbody tr[data-provider]').length === 5;")
        .await;
    let png = browser.screenshot().await;
    assert_eq!(&png[..4], b"\x89PNG");
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("dashboard.png"), &png).unwrap();
    browser.quit().await;
}
