//! Several accounts of one provider through the Receiver (issue 20): each request is
//! verified with its own account's keys, stored with its account and the key that
//! matched; one account's signature never authenticates a request that names another;
//! a refusal says which check failed and names no secret; reprocessing never verifies
//! again.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use callhook::Receiver;
use callhook::account::{Account, AccountId, KeySlot};
use callhook::event_log::{EventFilter, EventLog, EventStatus, MemoryEventLog};
use callhook::job_queue::MemoryJobQueue;
use callhook::provider::Provider;
use callhook::providers::{cloudtalk, retell, telnyx, twilio, vonage, wavoip, whatsapp};
use http::{Request, Response};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-12-01 10:00 UTC);
const ORIGIN: &str = "https://crm.example.com";

struct Setup {
    receiver: Receiver,
    log: Arc<MemoryEventLog>,
}

fn setup(path: &str, provider: impl Provider) -> Setup {
    mounted(path, Arc::new(provider))
}

/// [`setup`] for a provider already shared (a registration's mount).
fn mounted(path: &str, provider: Arc<dyn Provider>) -> Setup {
    let log = Arc::new(MemoryEventLog::new());
    let receiver = Receiver::builder()
        .public_base_url(ORIGIN)
        .clock(callhook::clock::ManualClock::new(NOW))
        .mount(path, provider)
        .event_log(log.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .build()
        .unwrap();
    Setup { receiver, log }
}

impl Setup {
    async fn send(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.receiver.handle(request).await
    }

    /// The account and key of the one delivery stored last.
    async fn last(&self) -> (Option<String>, Option<KeySlot>) {
        let events = self.log.list_events(&EventFilter::default().limit(1)).await.unwrap();
        let detail = self.log.event(events[0].id).await.unwrap().unwrap();
        assert_eq!(detail.event.account, detail.delivery.account, "the event carries its delivery's account");
        (detail.delivery.account.map(|a| a.to_string()), detail.delivery.key)
    }

    async fn stored(&self) -> usize {
        support::all_events(&*self.log).await.len()
    }
}

fn text(response: &Response<Bytes>) -> String {
    String::from_utf8_lossy(response.body()).into_owned()
}

/// The 401 says which check failed, never a secret.
fn assert_refused(response: &Response<Bytes>, secrets: &[&str]) {
    assert_eq!(response.status(), 401, "{}", text(response));
    let body = text(response);
    for secret in secrets {
        assert!(!body.contains(secret), "{body}");
    }
}

const SID_A: &str = "AC0000000000000000000000000000000a";
const SID_B: &str = "AC0000000000000000000000000000000b";

fn twilio_status(account_sid: &str, call_sid: &str) -> Vec<(String, String)> {
    let mut params = twilio::testing::call_status(call_sid, "ringing", 1, NOW);
    for (key, value) in &mut params {
        if key == "AccountSid" {
            *value = account_sid.to_owned();
        }
    }
    params
}

#[tokio::test]
async fn twilio_accounts_are_chosen_by_account_sid_and_never_cross() {
    let twilio = twilio::Twilio::builder()
        .account(Account::new("acme", "token-a").next_key("token-a2").named(SID_A))
        .account(Account::new("globex", "token-b").named(SID_B))
        .build();
    let s = setup("/webhooks/twilio/call-status", twilio);
    let url = format!("{ORIGIN}/webhooks/twilio/call-status");

    let a = twilio::testing::signed_form("token-a", &url, &twilio_status(SID_A, "CA1"));
    assert_eq!(s.send(a).await.status(), 200);
    assert_eq!(s.last().await, (Some("acme".into()), Some(KeySlot::Current)));
    let rotated = twilio::testing::signed_form("token-a2", &url, &twilio_status(SID_A, "CA2"));
    assert_eq!(s.send(rotated).await.status(), 200);
    assert_eq!(s.last().await, (Some("acme".into()), Some(KeySlot::Next)), "the next token is recorded as such");
    let b = twilio::testing::signed_form("token-b", &url, &twilio_status(SID_B, "CA3"));
    assert_eq!(s.send(b).await.status(), 200);
    assert_eq!(s.last().await, (Some("globex".into()), Some(KeySlot::Current)));

    // A's valid signature on a request claiming to be B's: refused, nothing stored.
    let forged = twilio::testing::signed_form("token-a", &url, &twilio_status(SID_B, "CA4"));
    assert_refused(&s.send(forged).await, &["token-a", "token-b"]);
    // A SID no account is named by, and no unnamed account to take it.
    let unknown =
        twilio::testing::signed_form("token-a", &url, &twilio_status("AC000000000000000000000000000000ff", "CA5"));
    let response = s.send(unknown).await;
    assert_refused(&response, &["token-a"]);
    assert!(text(&response).contains("account"), "{}", text(&response));
    assert_eq!(s.stored().await, 3);

    let acme = s.log.list_events(&EventFilter::default().account(AccountId::new("acme"))).await.unwrap();
    assert_eq!(acme.len(), 2);
}

#[tokio::test]
async fn an_unnamed_account_takes_the_sids_no_account_is_named_by_but_never_a_named_one() {
    let twilio = twilio::Twilio::builder()
        .auth_token("main-token")
        .account(Account::new("sub", "sub-token").named(SID_B))
        .build();
    let s = setup("/webhooks/twilio/call-status", twilio);
    let url = format!("{ORIGIN}/webhooks/twilio/call-status");
    let main = twilio::testing::signed_form("main-token", &url, &twilio_status(SID_A, "CA1"));
    assert_eq!(s.send(main).await.status(), 200);
    assert_eq!(s.last().await, (None, Some(KeySlot::Current)));
    let forged = twilio::testing::signed_form("main-token", &url, &twilio_status(SID_B, "CA2"));
    assert_refused(&s.send(forged).await, &["main-token"]);
    let sub = twilio::testing::signed_form("sub-token", &url, &twilio_status(SID_B, "CA3"));
    assert_eq!(s.send(sub).await.status(), 200);
    assert_eq!(s.last().await, (Some("sub".into()), Some(KeySlot::Current)));
}

fn whatsapp_body(waba: &str, phone_number_id: &str, wamid: &str) -> String {
    let mut value = whatsapp::testing::text_message(wamid, "5511987654321", "Oi", NOW.unix_timestamp());
    value["metadata"]["phone_number_id"] = phone_number_id.into();
    let body = whatsapp::testing::notification("messages", value);
    body.replace("102290129340398", waba)
}

#[tokio::test]
async fn whatsapp_apps_are_chosen_by_the_business_the_notification_names() {
    let whatsapp = whatsapp::WhatsApp::builder()
        .account(Account::new("brand-a", "secret-a").named("WABA-A"))
        .account(Account::new("brand-b", "secret-b").next_key("secret-b2").named("WABA-B").named("PHONE-B"))
        .verify_token("verify-a")
        .verify_token("verify-b")
        .build();
    let s = setup("/webhooks/whatsapp", whatsapp);
    let send = |secret: &str, body: &str| whatsapp::testing::signed(secret, "/webhooks/whatsapp", body, NOW);

    assert_eq!(s.send(send("secret-a", &whatsapp_body("WABA-A", "PHONE-A", "wamid.1"))).await.status(), 200);
    assert_eq!(s.last().await, (Some("brand-a".into()), Some(KeySlot::Current)));
    // Named by its phone number id alone.
    assert_eq!(s.send(send("secret-b2", &whatsapp_body("WABA-X", "PHONE-B", "wamid.2"))).await.status(), 200);
    assert_eq!(s.last().await, (Some("brand-b".into()), Some(KeySlot::Next)));

    // App A's signature on B's business.
    let forged = send("secret-a", &whatsapp_body("WABA-B", "PHONE-B", "wamid.3"));
    assert_refused(&s.send(forged).await, &["secret-a", "secret-b"]);
    // Two apps' businesses in one notification.
    let mixed = send("secret-a", &whatsapp_body("WABA-A", "PHONE-B", "wamid.4"));
    let response = s.send(mixed).await;
    assert_refused(&response, &["secret-a"]);
    assert!(text(&response).contains("two different accounts"), "{}", text(&response));
    assert_eq!(s.stored().await, 2);

    // Either app's verify token answers the handshake.
    for token in ["verify-a", "verify-b"] {
        let response = s.send(whatsapp::testing::handshake("/webhooks/whatsapp", token, "42")).await;
        assert_eq!((response.status().as_u16(), text(&response)), (200, "42".to_owned()));
    }
}

#[tokio::test]
async fn vonage_accounts_are_chosen_by_the_tokens_api_key() {
    let vonage = vonage::Vonage::builder()
        .account(Account::new("acme", "secret-a").named("key-a"))
        .account(Account::new("globex", "secret-b").named("key-b"))
        .build();
    let s = setup("/webhooks/vonage/events", vonage);
    let send = |secret: &str, api_key: &str, uuid: &str| {
        let body = vonage::testing::call_event("started", "CON-1", uuid, NOW);
        let token = vonage::signature::sign_as(secret, api_key, body.as_bytes(), NOW);
        Request::post("/webhooks/vonage/events")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(Bytes::from(body))
            .unwrap()
    };
    assert_eq!(s.send(send("secret-a", "key-a", "leg-1")).await.status(), 200);
    assert_eq!(s.last().await, (Some("acme".into()), Some(KeySlot::Current)));
    assert_eq!(s.send(send("secret-b", "key-b", "leg-2")).await.status(), 200);
    assert_eq!(s.last().await, (Some("globex".into()), Some(KeySlot::Current)));
    assert_refused(&s.send(send("secret-a", "key-b", "leg-3")).await, &["secret-a", "secret-b"]);
    assert_eq!(s.stored().await, 2);
}

/// Providers whose requests name no account: the key that verifies says which account
/// sent it, and a key no account has is refused.
#[tokio::test]
async fn token_and_key_accounts_are_told_apart_by_the_key_that_matches() {
    // CloudTalk: bearer tokens.
    let cloudtalk = cloudtalk::CloudTalk::builder()
        .account(Account::new("acme", "ct-a").next_key("ct-a2"))
        .account(Account::new("globex", "ct-b"))
        .build();
    let s = setup("/webhooks/cloudtalk", cloudtalk);
    for (token, id, expected) in [
        ("ct-a", 1, ("acme", KeySlot::Current)),
        ("ct-a2", 2, ("acme", KeySlot::Next)),
        ("ct-b", 3, ("globex", KeySlot::Current)),
    ] {
        let body = cloudtalk::testing::call_event("call.ended", id, NOW);
        assert_eq!(s.send(cloudtalk::testing::signed(token, "/webhooks/cloudtalk", &body, NOW)).await.status(), 200);
        assert_eq!(s.last().await, (Some(expected.0.into()), Some(expected.1)), "{token}");
    }
    let body = cloudtalk::testing::call_event("call.ended", 4, NOW);
    assert_refused(
        &s.send(cloudtalk::testing::signed("ct-c", "/webhooks/cloudtalk", &body, NOW)).await,
        &["ct-a", "ct-b", "ct-c"],
    );

    // WaVoIP: a token in the URL.
    let wavoip =
        wavoip::WaVoip::builder().account(Account::new("sp", "wv-a")).account(Account::new("rj", "wv-b")).build();
    let s = setup("/webhooks/wavoip", wavoip);
    let body = wavoip::testing::call("123", "UPDATE", "ENDED", 30);
    assert_eq!(s.send(wavoip::testing::signed("wv-b", "/webhooks/wavoip", &body, NOW)).await.status(), 200);
    assert_eq!(s.last().await, (Some("rj".into()), Some(KeySlot::Current)));

    // Retell: HMAC with the workspace's API key.
    let retell = retell::Retell::builder()
        .account(Account::new("brand-a", "key_a"))
        .account(Account::new("brand-b", "key_b").next_key("key_b2"))
        .build();
    let s = setup("/webhooks/retell", retell);
    let body = retell::testing::call_event("call_ended", "call_1", "user_hangup", NOW);
    assert_eq!(s.send(retell::testing::signed("key_b2", "/webhooks/retell", &body, NOW)).await.status(), 200);
    assert_eq!(s.last().await, (Some("brand-b".into()), Some(KeySlot::Next)));
    let body = retell::testing::call_event("call_ended", "call_2", "user_hangup", NOW);
    assert_refused(
        &s.send(retell::testing::signed("key_c", "/webhooks/retell", &body, NOW)).await,
        &["key_a", "key_b", "key_c"],
    );

    // Telnyx: Ed25519 with the account's key pair.
    use base64::Engine;
    let second = base64::engine::general_purpose::STANDARD.encode([2u8; 32]);
    let telnyx = telnyx::Telnyx::builder()
        .account(Account::new("acme", telnyx::TEST_PUBLIC_KEY.parse::<telnyx::signature::PublicKey>().unwrap()))
        .account(Account::new("globex", telnyx::signature::PublicKey::from_private_key(&[2; 32])))
        .build();
    let s = setup("/webhooks/telnyx", telnyx);
    let body = telnyx::testing::call_event("call.initiated", "leg-1", NOW);
    assert_eq!(s.send(telnyx::testing::signed(&second, "/webhooks/telnyx", &body, NOW)).await.status(), 200);
    assert_eq!(s.last().await, (Some("globex".into()), Some(KeySlot::Current)));
    let body = telnyx::testing::call_event("call.initiated", "leg-2", NOW);
    assert_eq!(
        s.send(telnyx::testing::signed(telnyx::testing::TEST_PRIVATE_KEY, "/webhooks/telnyx", &body, NOW))
            .await
            .status(),
        200
    );
    assert_eq!(s.last().await, (Some("acme".into()), Some(KeySlot::Current)));
}

/// Reprocessing reads the stored delivery again and never verifies it: it works after
/// the account's keys are gone (rotated out, or the account removed).
#[tokio::test]
async fn reprocessing_never_verifies_again() {
    let log = Arc::new(MemoryEventLog::new());
    let queue = Arc::new(MemoryJobQueue::new());
    let cloudtalk = cloudtalk::CloudTalk::builder().account(Account::new("acme", "old-token")).build();
    let receiver = Receiver::builder()
        .clock(callhook::clock::ManualClock::new(NOW))
        .mount("/webhooks/cloudtalk", Arc::new(cloudtalk))
        .event_log(log.clone())
        .job_queue(queue.clone())
        .build()
        .unwrap();
    let body = cloudtalk::testing::call_event("call.ended", 7, NOW);
    assert_eq!(
        receiver.handle(cloudtalk::testing::signed("old-token", "/webhooks/cloudtalk", &body, NOW)).await.status(),
        200
    );
    let id = support::all_events(&*log).await[0].id;

    // The worker knows the provider only with a new token now.
    let rotated: Arc<dyn Provider> =
        Arc::new(cloudtalk::CloudTalk::builder().account(Account::new("acme", "new-token")).build());
    let worker = callhook::Worker::builder(log.clone(), queue.clone())
        .providers(vec![rotated])
        .handler(callhook::worker::handler_fn(|_| async { Ok::<_, callhook::worker::HandlerError>(()) }))
        .clock(callhook::clock::ManualClock::new(NOW))
        .build();
    assert_eq!(worker.run_due().await.unwrap(), 1);
    worker.reprocess(id).await.unwrap();
    assert_eq!(worker.run_due().await.unwrap(), 1);
    let detail = log.event(id).await.unwrap().unwrap();
    assert_eq!(detail.event.status, EventStatus::Processed);
    assert_eq!(detail.attempts.len(), 2, "processed twice, verified once");
    assert_eq!(detail.event.account, Some(AccountId::new("acme")));
}

/// Accounts configured as settings (what the reference server reads from its config
/// file): every provider's registration builds a provider whose samples, signed with a
/// named account's secrets, are stored under that account.
#[tokio::test]
async fn every_registration_builds_named_accounts_from_settings() {
    use callhook::providers::registry::{SampleRun, Settings};
    for registration in callhook::providers::all() {
        let settings = Settings::default().account("acme", (registration.test_settings)());
        let mount = (registration.mount)(&settings).expect("a named account alone mounts the provider");
        let log = Arc::new(MemoryEventLog::new());
        let mut builder = Receiver::builder()
            .public_base_url(ORIGIN)
            .clock(callhook::clock::ManualClock::new(NOW))
            .event_log(log.clone())
            .job_queue(Arc::new(MemoryJobQueue::new()));
        for path in &mount.paths {
            builder = builder.mount(path, mount.provider.clone());
        }
        let receiver = builder.build().unwrap();
        let account_settings = (registration.test_settings)();
        let recording_url = |name: &str| format!("{ORIGIN}/recordings/{name}");
        let run = SampleRun::new(&account_settings, ORIGIN, "acct", NOW, &recording_url);
        let samples = (registration.samples)(&run);
        assert!(!samples.is_empty(), "{}", registration.id);
        for sample in samples {
            let response = receiver.handle(sample.request).await;
            assert!(response.status().is_success(), "{} {}: {}", registration.id, sample.name, text(&response));
        }
        let stored = support::all_events(&*log).await;
        assert!(!stored.is_empty(), "{}", registration.id);
        for event in stored {
            assert_eq!(event.account.as_ref().map(AccountId::as_str), Some("acme"), "{}", registration.id);
        }
    }
}

/// The next value of a secret, from the environment (`<VARIABLE>_NEXT`), verifies beside
/// the current one and is recorded as the next key.
#[tokio::test]
async fn a_next_secret_from_the_environment_verifies_and_is_recorded_as_next() {
    use callhook::providers::registry::Settings;
    let env = [("CLOUDTALK_WEBHOOK_TOKEN", "old token"), ("CLOUDTALK_WEBHOOK_TOKEN_NEXT", "new token")];
    let settings = Settings::from_lookup(&cloudtalk::REGISTRATION, |name| {
        env.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string())
    });
    let mount = (cloudtalk::REGISTRATION.mount)(&settings).unwrap();
    let s = mounted("/webhooks/cloudtalk", mount.provider);
    for (token, id, key) in [("old token", 1, KeySlot::Current), ("new token", 2, KeySlot::Next)] {
        let body = cloudtalk::testing::call_event("call.ended", id, NOW);
        assert_eq!(s.send(cloudtalk::testing::signed(token, "/webhooks/cloudtalk", &body, NOW)).await.status(), 200);
        assert_eq!(s.last().await, (None, Some(key)));
    }
}

/// A named Twilio account's recordings are downloaded with its own auth token, chosen by
/// the account SID in the recording's URL.
#[test]
fn a_subaccount_s_recordings_are_fetched_with_its_own_token() {
    use callhook::providers::registry::Settings;
    let settings = Settings::default()
        .with("auth_token", "main token")
        .with("account_sid", "AC000000000000000000000000000000aa")
        .account("sub", Settings::default().with("auth_token", "sub token").with("account_sid", SID_B));
    let recordings = &twilio::REGISTRATION.recordings;
    let credentials = (recordings.credentials)(&settings).unwrap();
    let url = |sid: &str| format!("https://api.twilio.com/2010-04-01/Accounts/{sid}/Recordings/RE1");
    let sub = (recordings.access)(&url(SID_B), Some(&credentials));
    assert_eq!(sub.basic_auth, Some((SID_B.to_owned(), "sub token".to_owned())));
    let main = (recordings.access)(&url("AC000000000000000000000000000000aa"), Some(&credentials));
    assert_eq!(main.basic_auth.unwrap().1, "main token");
}

/// Review of issue 20, finding 1: a notification whose shape the account reader could not
/// read fell back to trying every app; it must still be verified with the app of the
/// business it names.
#[tokio::test]
async fn a_whatsapp_body_in_an_odd_shape_is_still_verified_with_its_business_app() {
    let whatsapp = whatsapp::WhatsApp::builder()
        .account(Account::new("brand-a", "secret-a").named("WABA-A"))
        .account(Account::new("brand-b", "secret-b").named("WABA-B").named("PHONE-B"))
        .build();
    let s = setup("/webhooks/whatsapp", whatsapp);
    let message = serde_json::json!({"from": "5511987654321", "id": "wamid.odd", "timestamp": "1764590400",
        "type": "text", "text": {"body": "oi"}});
    let odd_shapes = [
        // `changes` null beside a second entry that names B.
        serde_json::json!({"object": "whatsapp_business_account", "entry": [
            {"id": "WABA-X", "changes": null},
            {"id": "WABA-B", "changes": [{"field": "messages", "value": {"messages": [message.clone()]}}]}]}),
        // `metadata` a string, the entry id a number-like text elsewhere.
        serde_json::json!({"object": "whatsapp_business_account", "entry": [
            {"id": "WABA-B", "changes": [{"field": "messages", "value": {"metadata": "odd", "messages": [message.clone()]}}]}]}),
        // The business named only by a change's phone number id, the entry's id a number.
        serde_json::json!({"object": "whatsapp_business_account", "entry": [
            {"id": 12345, "changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": "PHONE-B"}, "messages": [message]}}]}]}),
    ];
    for body in odd_shapes {
        let body = body.to_string();
        let forged = whatsapp::testing::signed("secret-a", "/webhooks/whatsapp", &body, NOW);
        assert_refused(&s.send(forged).await, &["secret-a", "secret-b"]);
        let genuine = whatsapp::testing::signed("secret-b", "/webhooks/whatsapp", &body, NOW);
        assert_eq!(s.send(genuine).await.status(), 200, "{body}");
        assert_eq!(s.last().await.0.as_deref(), Some("brand-b"));
    }
}

/// Review finding 2: an account cannot have another account's events dropped as
/// duplicates by sending their ids first: dedupe keys are the account's own.
#[tokio::test]
async fn one_account_never_makes_another_s_events_duplicates() {
    let cloudtalk = cloudtalk::CloudTalk::builder()
        .account(Account::new("acme", "ct-a"))
        .account(Account::new("globex", "ct-b"))
        .build();
    let s = setup("/webhooks/cloudtalk", cloudtalk);
    let body = cloudtalk::testing::call_event("call.ended", 77, NOW);
    for token in ["ct-a", "ct-b", "ct-a"] {
        assert_eq!(s.send(cloudtalk::testing::signed(token, "/webhooks/cloudtalk", &body, NOW)).await.status(), 200);
    }
    let stored = support::all_events(&*s.log).await;
    let mut keys: Vec<(String, String)> = stored
        .iter()
        .map(|e| (e.account.as_ref().map(|a| a.to_string()).unwrap_or_default(), e.dedupe_key.clone()))
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            ("acme".to_owned(), "acme/77:call.ended".to_owned()),
            ("globex".to_owned(), "globex/77:call.ended".to_owned())
        ],
        "each account's event once; the repeat is a duplicate of its own"
    );
}

/// Review finding 3: the unnamed account's own SID names it, so another account's token
/// never verifies a request claiming that SID.
#[tokio::test]
async fn the_unnamed_account_is_named_by_its_own_sid() {
    use callhook::providers::registry::Settings;
    let settings = Settings::default()
        .with("auth_token", "main-token")
        .with("account_sid", SID_A)
        .account("tenant", Settings::default().with("auth_token", "tenant-token"));
    let mount = (twilio::REGISTRATION.mount)(&settings).unwrap();
    let s = mounted("/webhooks/twilio/call-status", mount.provider);
    let url = format!("{ORIGIN}/webhooks/twilio/call-status");
    let claiming_main = twilio::testing::signed_form("tenant-token", &url, &twilio_status(SID_A, "CA1"));
    assert_refused(&s.send(claiming_main).await, &["tenant-token", "main-token"]);
    let main = twilio::testing::signed_form("main-token", &url, &twilio_status(SID_A, "CA2"));
    assert_eq!(s.send(main).await.status(), 200);
    assert_eq!(s.last().await, (None, Some(KeySlot::Current)));
    // The tenant, named by no SID, takes the SIDs no one is named by.
    let tenant = twilio::testing::signed_form("tenant-token", &url, &twilio_status(SID_B, "CA3"));
    assert_eq!(s.send(tenant).await.status(), 200);
    assert_eq!(s.last().await, (Some("tenant".into()), Some(KeySlot::Current)));
}

/// Review finding 8: a secret given only as the next one is counted as the next key.
#[tokio::test]
async fn a_secret_given_only_as_next_is_recorded_as_next() {
    use callhook::providers::registry::Settings;
    let settings = Settings::default().with_next("token", "only-next");
    let mount = (cloudtalk::REGISTRATION.mount)(&settings).unwrap();
    let s = mounted("/webhooks/cloudtalk", mount.provider);
    let body = cloudtalk::testing::call_event("call.ended", 1, NOW);
    assert_eq!(s.send(cloudtalk::testing::signed("only-next", "/webhooks/cloudtalk", &body, NOW)).await.status(), 200);
    assert_eq!(s.last().await, (None, Some(KeySlot::Next)));
}

/// Twilio's account comes from the signed URL's query on GET and JSON requests; Vonage's
/// also from the token's `application_id`.
#[tokio::test]
async fn twilio_get_and_json_requests_and_vonage_applications_name_their_account() {
    let twilio = twilio::Twilio::builder()
        .account(Account::new("acme", "token-a").named(SID_A))
        .account(Account::new("globex", "token-b").named(SID_B))
        .build();
    let s = setup("/webhooks/twilio/call-status", twilio);
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(twilio_status(SID_B, "CA9").iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .finish();
    let url = format!("{ORIGIN}/webhooks/twilio/call-status?{query}");
    let get = |token: &str| {
        let signature = twilio::signature::sign(token, &url, &twilio::FormParams::default());
        Request::get(format!("/webhooks/twilio/call-status?{query}"))
            .header("x-twilio-signature", signature)
            .body(Bytes::new())
            .unwrap()
    };
    assert_refused(&s.send(get("token-a")).await, &["token-a"]);
    assert_eq!(s.send(get("token-b")).await.status(), 200);
    assert_eq!(s.last().await.0.as_deref(), Some("globex"));
    let json_url = format!("{ORIGIN}/webhooks/twilio/call-status?AccountSid={SID_A}");
    let forged = twilio::testing::signed_json("token-b", &json_url, br#"{"CallSid":"CA10"}"#);
    assert_refused(&s.send(forged).await, &["token-b"]);

    let vonage = vonage::Vonage::builder()
        .account(Account::new("app-team", "secret-app").named("aaaaaaaa-bbbb-cccc-dddd-0123456789ab"))
        .build();
    let s = setup("/webhooks/vonage/events", vonage);
    let body = vonage::testing::call_event("started", "CON-9", "leg-9", NOW);
    let token = vonage::signature::sign_as("secret-app", "some-other-key", body.as_bytes(), NOW);
    let request = Request::post("/webhooks/vonage/events")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Bytes::from(body))
        .unwrap();
    assert_eq!(s.send(request).await.status(), 200, "named by the token's application_id");
    assert_eq!(s.last().await.0.as_deref(), Some("app-team"));
}
