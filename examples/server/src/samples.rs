//! Correctly signed sample webhooks of every provider and event kind, sent to a running
//! server: the quick start without a provider account. Each provider whose secret is set
//! in the environment gets its samples, signed with that secret (the same variables the
//! server reads). Provider times are the time of the run, and recording URLs point at the
//! server's own sample recordings ([`crate::sample_recordings`]), so every sample call's
//! recording is downloaded end to end.

use bytes::Bytes;
use callhook::providers::registry::SampleRun;
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
/// unique by `run`: each provider's own ([`callhook::providers::Registration`]).
pub fn samples(config: &Config, run: &str, now: OffsetDateTime) -> Vec<(&'static str, String, Request<Bytes>)> {
    let base_url = config.base_url();
    let recording_url = |name: &str| format!("{}{name}", sample_recordings::base_url(config));
    let mut out = Vec::new();
    for (registration, settings) in &config.providers {
        let sample_run = SampleRun::new(settings, &base_url, run, now, &recording_url);
        for sample in (registration.samples)(&sample_run) {
            out.push((registration.id.as_str(), sample.name, sample.request));
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
