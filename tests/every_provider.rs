//! What holds for every registered provider alike, run over each one's signed samples.

use callhook::provider::{ParsedEvent, WebhookRequest, parse_request};
use callhook::providers::registry::SampleRun;
use time::OffsetDateTime;
use time::macros::datetime;

const ORIGIN: &str = "https://crm.example.com";
const NOW: OffsetDateTime = datetime!(2026-12-01 10:00 UTC);
const NOTE: &str = "the payload repeats a key; the last value was used";

/// What each event is and its dedupe key.
fn keys(events: &[ParsedEvent]) -> Vec<(String, String)> {
    events.iter().map(|e| (e.event_type.clone(), e.dedupe_key.clone())).collect()
}

/// A JSON object repeating a key is read with the key's last value, as most JSON parsers
/// read it (issue 21), and every event read from it says so in its notes.
#[test]
fn a_repeated_key_reads_as_its_last_value_and_is_noted_for_every_json_provider() {
    let mut checked = Vec::new();
    for registration in callhook::providers::all() {
        let settings = (registration.test_settings)();
        let mount = (registration.mount)(&settings).expect("the test settings mount the provider");
        let recording_url = |name: &str| format!("{ORIGIN}/recordings/{name}");
        let run = SampleRun::new(&settings, ORIGIN, "dup", NOW, &recording_url);
        for sample in (registration.samples)(&run) {
            let body = sample.request.body();
            if body.first() != Some(&b'{') {
                continue; // Twilio's forms
            }
            let view = WebhookRequest::new(&sample.request, NOW, Some(ORIGIN));
            let plain = parse_request(&*mount.provider, &view).unwrap_or_else(|e| panic!("{}: {e}", sample.name));
            assert!(plain.iter().all(|event| event.event.notes().is_empty()), "{}", sample.name);

            // The first key once more, before its real value (the real one is the
            // last): with values of several types, as serde reads an earlier value
            // against the field's type before it sees the key again.
            let text = std::str::from_utf8(body).unwrap();
            let key_end = text[2..].find('"').map(|at| at + 3).expect("an object with a key");
            for earlier in ["\"an earlier value\"", "null", "{}", "[1]", "7"] {
                let repeated = format!("{{{}:{earlier},{}", &text[1..key_end], &text[1..]);
                let mut request = sample.request.clone();
                *request.body_mut() = repeated.clone().into();
                let view = WebhookRequest::new(&request, NOW, Some(ORIGIN));
                let events = parse_request(&*mount.provider, &view)
                    .unwrap_or_else(|e| panic!("{}: {e}: {repeated}", sample.name));
                assert_eq!(keys(&events), keys(&plain), "{}: {repeated}", sample.name);
                for event in &events {
                    assert_eq!(event.event.notes(), [NOTE], "{}: {repeated}", sample.name);
                }
            }
            checked.push(registration.id.to_string());
        }
    }
    checked.dedup();
    assert!(checked.len() >= 6, "every JSON provider's samples were checked: {checked:?}");
}
