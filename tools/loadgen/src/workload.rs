//! The requests a load run sends: realistic webhooks of every provider, correctly
//! signed with the `callhook::providers::*::testing` helpers, generated before the
//! clock starts.
//!
//! Traffic is made of *scenarios*, each the webhooks one real call or message causes:
//!
//! | scenario | requests | events |
//! |---|---|---|
//! | `twilio-call` | call-status `initiated`, `ringing`, `in-progress`, `completed` (form bodies) | 1 each |
//! | `twilio-sms` | message-status `sent`, `delivered` | 1 each |
//! | `whatsapp-in` | one inbound text | 1 |
//! | `whatsapp-out` | statuses `sent`, `delivered`, `read`, one per request | 1 each |
//! | `whatsapp-batch` | one notification with 20 statuses of 20 messages | 20 |
//! | `retell` | `call_started`, `call_ended`, `call_analyzed` | 1 each |
//! | `cloudtalk` | `call.started`, `call.answered`, `call.ended` | 1 each |
//! | `wavoip` | `CALL` active, `RECORD` recording, `CALL` ended, `RECORD` ready | 1 each |
//! | `<provider id>` | any other provider: its registration's samples, in order | its own |
//!
//! 64 scenarios are in flight at once and their requests interleave. About 10% of the
//! time a scenario's next two requests are swapped (out-of-order statuses), and about
//! 5% of requests are exact copies of a recent request (a provider's retry: same bytes,
//! same signature), which the server must store once.
//!
//! The events each request carries (provider and dedupe key) are computed by parsing it
//! with the very providers the server mounts, so the checks compare like with like.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use callhook::Provider;
use callhook::provider::WebhookRequest;
use callhook::providers::registry::SampleRun;
use callhook::providers::{self, Registration, cloudtalk, retell, twilio, wavoip, whatsapp};
use callhook_server::config::Config;
use http::{HeaderMap, Method, Request, Uri};

/// The origin Twilio signs (the server is told it is its public URL).
pub const PUBLIC_URL: &str = "http://callhook.loadgen.test";

/// The value of every provider's setting `key` on both sides (`loadgen-twilio-auth_token`).
pub fn secret(provider: &str, key: &str) -> String {
    format!("loadgen-{provider}-{key}")
}

/// The server configuration with every provider's settings ([`secret`]), listening on
/// `listen`.
pub fn server_config(listen: std::net::SocketAddr, database: &str) -> Config {
    let mut values: HashMap<&str, String> = [
        ("CALLHOOK_LISTEN", listen.to_string()),
        ("DATABASE_URL", database.to_owned()),
        ("CALLHOOK_PUBLIC_URL", PUBLIC_URL.to_owned()),
    ]
    .into_iter()
    .collect();
    for registration in providers::all() {
        let id = registration.id.as_str();
        // Providers without a hand-written scenario are driven by their registration's
        // samples, which sign with its test settings (an Ed25519 key pair, say, where
        // any string would not do).
        let test_settings = (!HAND_WRITTEN.contains(&id)).then(|| (registration.test_settings)());
        for setting in registration.settings {
            let value = test_settings
                .as_ref()
                .and_then(|settings| settings.get(setting.key))
                .map(|value| value.expose().to_owned())
                .unwrap_or_else(|| secret(id, setting.key));
            values.insert(setting.env, value);
        }
    }
    Config::from_lookup(|name| values.get(name).cloned()).expect("the load generator's configuration is valid")
}

/// One signed request, ready to send, and the events the server will store for it.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The path and query.
    pub uri: Uri,
    /// The headers (signature, content type).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The provider (`twilio`, `whatsapp`, ...).
    pub provider: &'static str,
    /// The dedupe keys of its events.
    pub keys: Arc<[String]>,
    /// Whether it is an exact copy of an earlier request.
    pub duplicate: bool,
}

impl Prepared {
    /// The method: every webhook here is a `POST`.
    pub fn method(&self) -> Method {
        Method::POST
    }
}

/// A kind of traffic (see the module docs).
#[derive(Clone, Copy, Debug)]
pub enum Scenario {
    /// Twilio call statuses.
    TwilioCall,
    /// Twilio message statuses.
    TwilioSms,
    /// A WhatsApp inbound text.
    WhatsAppIn,
    /// WhatsApp statuses of one outbound message, one per request.
    WhatsAppOut,
    /// 20 WhatsApp statuses in one request.
    WhatsAppBatch,
    /// A Retell call.
    Retell,
    /// A CloudTalk call.
    CloudTalk,
    /// A WaVoIP call and its recording.
    WaVoip,
    /// Another provider: its registration's samples.
    Samples(&'static Registration),
}

/// The providers the scenarios above are written for.
const HAND_WRITTEN: [&str; 5] = ["twilio", "whatsapp", "retell", "cloudtalk", "wavoip"];

impl PartialEq for Scenario {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Scenario {
    fn all() -> Vec<Scenario> {
        let written = [
            Scenario::TwilioCall,
            Scenario::TwilioSms,
            Scenario::WhatsAppIn,
            Scenario::WhatsAppOut,
            Scenario::WhatsAppBatch,
            Scenario::Retell,
            Scenario::CloudTalk,
            Scenario::WaVoip,
        ];
        written.into_iter().chain(Self::others()).collect()
    }

    /// One scenario per provider without a hand-written one.
    fn others() -> impl Iterator<Item = Scenario> {
        providers::all()
            .iter()
            .filter(|registration| !HAND_WRITTEN.contains(&registration.id.as_str()))
            .map(|registration| Scenario::Samples(registration))
    }

    /// Its name in `--mix`.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Samples(registration) => registration.id.as_str(),
            Scenario::TwilioCall => "twilio-call",
            Scenario::TwilioSms => "twilio-sms",
            Scenario::WhatsAppIn => "whatsapp-in",
            Scenario::WhatsAppOut => "whatsapp-out",
            Scenario::WhatsAppBatch => "whatsapp-batch",
            Scenario::Retell => "retell",
            Scenario::CloudTalk => "cloudtalk",
            Scenario::WaVoip => "wavoip",
        }
    }
}

/// How often each scenario starts, by weight.
#[derive(Clone, Debug, PartialEq)]
pub struct Mix {
    weights: Vec<(Scenario, u32)>,
    /// The share of requests that are exact copies of a recent one.
    pub duplicate_rate: f64,
    /// The share of requests sent before the one that should precede them.
    pub swap_rate: f64,
}

impl Mix {
    /// Single-event requests only (the headline figure): Twilio about 45% of requests,
    /// WhatsApp 30%, WaVoIP 10%, Retell and CloudTalk 8% each, and one scenario weight
    /// for every other provider.
    pub fn single() -> Self {
        let mut weights = vec![
            (Scenario::TwilioCall, 3),
            (Scenario::TwilioSms, 1),
            (Scenario::WhatsAppIn, 4),
            (Scenario::WhatsAppOut, 2),
            (Scenario::Retell, 1),
            (Scenario::CloudTalk, 1),
            (Scenario::WaVoip, 1),
        ];
        weights.extend(Scenario::others().map(|scenario| (scenario, 1)));
        Self::from_weights(&weights)
    }

    /// [`Mix::single`] plus 20-status WhatsApp batches (about 2% of requests, a third
    /// of the events).
    pub fn with_batches() -> Self {
        let mut mix = Self::single();
        mix.weights.push((Scenario::WhatsAppBatch, 1));
        mix
    }

    fn from_weights(weights: &[(Scenario, u32)]) -> Self {
        Self { weights: weights.to_vec(), duplicate_rate: 0.05, swap_rate: 0.10 }
    }

    /// `single`, `batches`, or `name=weight,...` with the scenario names of the module
    /// docs.
    pub fn parse(spec: &str) -> Result<Self, String> {
        match spec {
            "single" => return Ok(Self::single()),
            "batches" => return Ok(Self::with_batches()),
            _ => {}
        }
        let mut weights = Vec::new();
        for part in spec.split(',').filter(|p| !p.is_empty()) {
            let (name, weight) = part.split_once('=').ok_or_else(|| format!("--mix: {part:?} is not name=weight"))?;
            let scenario = Scenario::all().into_iter().find(|s| s.name() == name).ok_or_else(|| {
                let names: Vec<&str> = Scenario::all().iter().map(|s| s.name()).collect();
                format!("--mix: unknown scenario {name:?} (known: single, batches, {})", names.join(", "))
            })?;
            let weight = weight.parse().map_err(|e| format!("--mix {part:?}: {e}"))?;
            weights.push((scenario, weight));
        }
        if weights.iter().all(|(_, w)| *w == 0) {
            return Err("--mix: every weight is zero".into());
        }
        Ok(Self::from_weights(&weights))
    }

    fn pick(&self, rng: &mut fastrand::Rng) -> Scenario {
        let total: u32 = self.weights.iter().map(|(_, w)| w).sum();
        let mut ticket = rng.u32(0..total);
        for (scenario, weight) in &self.weights {
            if ticket < *weight {
                return *scenario;
            }
            ticket -= weight;
        }
        unreachable!("the ticket is below the total weight")
    }
}

/// The providers exactly as the server mounts them, to compute each request's events.
pub struct Providers {
    by_id: HashMap<String, Arc<dyn Provider>>,
}

impl Providers {
    /// The providers of [`server_config`].
    pub fn new() -> Self {
        let config = server_config(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), ":memory:");
        let storage = Arc::new(callhook::MemoryEventLog::new());
        let scheduler = Arc::new(callhook::MemoryJobQueue::new());
        let (builder, _) = callhook_server::mounts::builder(&config);
        let receiver = builder.event_log(storage).job_queue(scheduler).build().expect("valid mounts");
        Self { by_id: receiver.providers().into_iter().map(|p| (p.id().to_string(), p)).collect() }
    }

    fn keys(&self, provider: &str, request: &Request<Bytes>) -> Arc<[String]> {
        let parser = self.by_id.get(provider).unwrap_or_else(|| panic!("provider {provider} is mounted"));
        let view = WebhookRequest::new(request, time::OffsetDateTime::now_utc(), Some(PUBLIC_URL));
        match parser.parse(&view) {
            Ok(events) => events.into_iter().map(|e| e.dedupe_key).collect(),
            Err(error) => panic!("a generated {provider} request does not parse: {error}"),
        }
    }
}

impl Default for Providers {
    fn default() -> Self {
        Self::new()
    }
}

/// Makes a stream of requests; see the module docs.
pub struct Generator<'a> {
    mix: &'a Mix,
    providers: &'a Providers,
    rng: fastrand::Rng,
    prefix: String,
    numeric_base: u64,
    counter: u64,
    active: Vec<VecDeque<Prepared>>,
    recent: VecDeque<Prepared>,
}

const IN_FLIGHT: usize = 64;
const RECENT: usize = 256;

impl<'a> Generator<'a> {
    /// A generator whose ids start with `prefix` (unique per generator and run).
    pub fn new(mix: &'a Mix, providers: &'a Providers, seed: u64, prefix: String) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let numeric_base = u64::from(rng.u32(..)) << 24;
        Self {
            mix,
            providers,
            rng,
            prefix,
            numeric_base,
            counter: 0,
            active: Vec::with_capacity(IN_FLIGHT),
            recent: VecDeque::with_capacity(RECENT),
        }
    }

    /// The next request.
    pub fn next_request(&mut self) -> Prepared {
        if !self.recent.is_empty() && self.rng.f64() < self.mix.duplicate_rate {
            let mut copy = self.recent[self.rng.usize(..self.recent.len())].clone();
            copy.duplicate = true;
            return copy;
        }
        while self.active.len() < IN_FLIGHT {
            let scenario = self.mix.pick(&mut self.rng);
            let requests = self.scenario(scenario);
            // A provider whose samples sign nothing with these settings adds no load.
            if !requests.is_empty() {
                self.active.push(requests);
            }
        }
        let slot = self.rng.usize(..self.active.len());
        let queue = &mut self.active[slot];
        let swap = queue.len() >= 2 && self.rng.f64() < self.mix.swap_rate;
        let request = if swap { queue.remove(1) } else { queue.pop_front() }.expect("active scenarios are not empty");
        if queue.is_empty() {
            self.active.swap_remove(slot);
        }
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(request.clone());
        request
    }

    fn prepared(&self, provider: &'static str, request: Request<Bytes>) -> Prepared {
        let keys = self.providers.keys(provider, &request);
        let (parts, body) = request.into_parts();
        Prepared { uri: parts.uri, headers: parts.headers, body, provider, keys, duplicate: false }
    }

    fn scenario(&mut self, scenario: Scenario) -> VecDeque<Prepared> {
        self.counter += 1;
        let id = format!("{}{:06x}", self.prefix, self.counter);
        let numeric = self.numeric_base + self.counter;
        let now = time::OffsetDateTime::now_utc();
        let at = now.unix_timestamp();
        let twilio_url = |endpoint: &str| format!("{PUBLIC_URL}/webhooks/twilio/{endpoint}");
        let twilio_token = secret("twilio", "auth_token");
        let whatsapp = |value: serde_json::Value| {
            let body = whatsapp::testing::notification("messages", value);
            whatsapp::testing::signed(&secret("whatsapp", "app_secret"), "/webhooks/whatsapp", &body, now)
        };
        let requests: Vec<(&'static str, Request<Bytes>)> = match scenario {
            Scenario::TwilioCall => ["initiated", "ringing", "in-progress", "completed"]
                .into_iter()
                .enumerate()
                .map(|(sequence, status)| {
                    let params = twilio::testing::call_status(&format!("CA{id}"), status, sequence as u64, now);
                    ("twilio", twilio::testing::signed_form(&twilio_token, &twilio_url("call-status"), &params))
                })
                .collect(),
            Scenario::TwilioSms => ["sent", "delivered"]
                .into_iter()
                .map(|status| {
                    let params = twilio::testing::message_status(&format!("SM{id}"), status);
                    ("twilio", twilio::testing::signed_form(&twilio_token, &twilio_url("message-status"), &params))
                })
                .collect(),
            Scenario::WhatsAppIn => {
                let value = whatsapp::testing::text_message(
                    &format!("wamid.in{id}"),
                    "5511999998888",
                    "Olá, quero um orçamento para 3 linhas",
                    at,
                );
                vec![("whatsapp", whatsapp(value))]
            }
            Scenario::WhatsAppOut => {
                let wamid = format!("wamid.out{id}");
                ["sent", "delivered", "read"]
                    .into_iter()
                    .enumerate()
                    .map(|(i, status)| {
                        ("whatsapp", whatsapp(whatsapp::testing::statuses(&[(&wamid, status, at + i as i64)])))
                    })
                    .collect()
            }
            Scenario::WhatsAppBatch => {
                let wamids: Vec<String> = (0..20).map(|i| format!("wamid.b{id}x{i:02}")).collect();
                let statuses = ["sent", "delivered", "read", "failed"];
                let items: Vec<(&str, &str, i64)> = wamids
                    .iter()
                    .enumerate()
                    .map(|(i, wamid)| (wamid.as_str(), statuses[self.rng.usize(..statuses.len())], at - i as i64))
                    .collect();
                vec![("whatsapp", whatsapp(whatsapp::testing::statuses(&items)))]
            }
            Scenario::Retell => ["call_started", "call_ended", "call_analyzed"]
                .into_iter()
                .map(|event| {
                    let body = retell::testing::call_event(event, &format!("call_{id}"), "user_hangup", now);
                    (
                        "retell",
                        retell::testing::signed(
                            &secret("retell", "api_key"),
                            "/webhooks/retell/call-events",
                            &body,
                            now,
                        ),
                    )
                })
                .collect(),
            Scenario::CloudTalk => ["call.started", "call.answered", "call.ended"]
                .into_iter()
                .map(|event| {
                    let body = cloudtalk::testing::call_event(event, numeric, now);
                    (
                        "cloudtalk",
                        cloudtalk::testing::signed(&secret("cloudtalk", "token"), "/webhooks/cloudtalk", &body, now),
                    )
                })
                .collect(),
            Scenario::WaVoip => {
                let call = format!("wv{id}");
                [
                    wavoip::testing::call(&call, "CREATE", "ACTIVE", 0),
                    wavoip::testing::record(&call, "RECORDING"),
                    wavoip::testing::call(&call, "UPDATE", "ENDED", 45),
                    wavoip::testing::record(&call, "READY"),
                ]
                .into_iter()
                .map(|body| {
                    ("wavoip", wavoip::testing::signed(&secret("wavoip", "token"), "/webhooks/wavoip", &body, now))
                })
                .collect()
            }
            Scenario::Samples(registration) => {
                let config = server_config(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), ":memory:");
                let settings = config.settings(registration.id.as_str()).expect("every provider is configured");
                let recording_url = |name: &str| format!("{PUBLIC_URL}/recordings/{name}");
                let run = SampleRun::new(settings, PUBLIC_URL, &id, now, &recording_url);
                let provider = registration.id.as_str();
                let samples = (registration.samples)(&run).into_iter();
                samples
                    .filter(|sample| sample.request.method() == Method::POST)
                    .map(|sample| (provider, sample.request))
                    .collect()
            }
        };
        requests.into_iter().map(|(provider, request)| self.prepared(provider, request)).collect()
    }
}

/// `count` requests of `mix`, generated on `threads` threads (each its own stream of
/// scenarios, ids unique per `run`).
pub fn generate(count: usize, mix: &Mix, run: &str, threads: usize) -> Vec<Prepared> {
    let providers = Providers::new();
    let threads = threads.clamp(1, 16);
    let per_thread = count.div_ceil(threads);
    let seed = fastrand::u64(..);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let providers = &providers;
                let take = per_thread.min(count.saturating_sub(t * per_thread));
                scope.spawn(move || {
                    let mut generator =
                        Generator::new(mix, providers, seed.wrapping_add(t as u64), format!("{run}t{t}n"));
                    (0..take).map(|_| generator.next_request()).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("generation does not panic")).collect()
    })
}

/// A run id for request ids: the time, in base 36, so runs on one database differ.
pub fn run_id() -> String {
    let mut n = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u128 / 1000;
    let mut out = Vec::new();
    while n > 0 {
        out.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use callhook::EventLog;

    use super::*;

    /// Every generated request is accepted by the server's own receiver and stores
    /// exactly the events we expect, duplicates once.
    #[tokio::test]
    async fn the_server_accepts_every_scenario_and_stores_the_expected_events() {
        let config = server_config(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), ":memory:");
        let storage = Arc::new(callhook::MemoryEventLog::new());
        let scheduler = Arc::new(callhook::MemoryJobQueue::new());
        let (builder, _) = callhook_server::mounts::builder(&config);
        let receiver = builder.event_log(storage.clone()).job_queue(scheduler).build().unwrap();
        let mix = Mix::parse(
            "twilio-call=1,twilio-sms=1,whatsapp-in=1,whatsapp-out=1,whatsapp-batch=1,retell=1,cloudtalk=1,wavoip=1",
        )
        .unwrap();
        let requests = generate(600, &mix, &run_id(), 2);
        let mut expected = HashSet::new();
        let mut providers = HashSet::new();
        for prepared in &requests {
            let mut request = Request::post(prepared.uri.clone()).body(prepared.body.clone()).unwrap();
            *request.headers_mut() = prepared.headers.clone();
            let response = receiver.handle(request).await;
            assert_eq!(response.status(), 200, "{} {}", prepared.provider, prepared.uri);
            providers.insert(prepared.provider);
            for key in prepared.keys.iter() {
                expected.insert((prepared.provider.to_owned(), key.clone()));
            }
        }
        assert_eq!(providers.len(), 5);
        assert!(requests.iter().any(|r| r.duplicate) && requests.iter().any(|r| r.keys.len() == 20));
        let stored = storage.list_events(&callhook::event_log::EventFilter::default().limit(100_000)).await.unwrap();
        let stored: HashSet<(String, String)> =
            stored.into_iter().map(|e| (e.provider.to_string(), e.dedupe_key)).collect();
        assert_eq!(stored, expected);
    }

    #[test]
    fn mixes() {
        assert_eq!(Mix::parse("single").unwrap(), Mix::single());
        assert!(Mix::parse("retell=2,nope=1").is_err());
        assert!(Mix::parse("retell=0").is_err());
    }
}
