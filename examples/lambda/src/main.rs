//! `callhook-example-lambda`: callhook as an AWS Lambda function, behind API Gateway (REST
//! or HTTP API) or a Function URL.
//!
//! Configuration, from the function's environment:
//!
//! - `DATABASE_URL` (required): PostgreSQL. A Lambda has no lasting disk, and the worker
//!   that processes the events reads the same database.
//! - `CALLHOOK_PUBLIC_URL`: the origin providers call, e.g.
//!   `https://abc123.execute-api.us-east-1.amazonaws.com` or the Function URL
//!   (`https://<url-id>.lambda-url.<region>.on.aws`); Twilio signs the URL it called.
//! - each provider's settings (`TWILIO_AUTH_TOKEN`, `RETELL_API_KEY`,
//!   `WHATSAPP_APP_SECRET` with `WHATSAPP_VERIFY_TOKEN`, `CLOUDTALK_WEBHOOK_TOKEN`,
//!   `WAVOIP_WEBHOOK_TOKEN`, ...: see `callhook::providers::all()`): each provider is
//!   mounted, at the paths its registration gives, when its required settings are set.
//!
//! Paths are matched without the API Gateway stage (`/webhooks/whatsapp`, not
//! `/prod/webhooks/whatsapp`); see the `callhook-lambda` docs for Twilio on a named stage.
//! Build with cargo-lambda: `cargo lambda build --release -p callhook-example-lambda`.

use std::sync::Arc;

use callhook::Receiver;
use callhook::providers::{self, registry::Settings};
use callhook_postgres::{Options, PostgresStore};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // CloudWatch adds timestamps and shows no colors.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,callhook=info".into()),
        )
        .with_ansi(false)
        .without_time()
        .init();

    // Connected once per instance (the cold start) and reused by warm invocations. An
    // instance answers one request at a time, so a small pool is enough; many instances
    // share the server's connection limit (RDS Proxy or Supabase's pooler help).
    let database_url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is required")?;
    let store = Arc::new(PostgresStore::connect_with(&database_url, Options::default().pool_size(2)).await?);

    // The store is the storage and the scheduler: the receiver stores each delivery and
    // queues one job per new event in the database. No worker runs here: Lambda freezes
    // the function as soon as it has answered, so nothing could run in the background. A
    // long-running worker elsewhere (`callhook-server --worker` with the same
    // DATABASE_URL) claims the jobs and processes the events.
    let mut builder = Receiver::builder().store(store.clone());
    match env("CALLHOOK_PUBLIC_URL") {
        Some(url) => builder = builder.public_base_url(url),
        None => tracing::warn!("CALLHOOK_PUBLIC_URL is not set: Twilio requests cannot be verified (500)"),
    }

    // Every provider whose required settings are in the environment (incoming Twilio
    // calls are rejected until `.on_incoming_call(..)` says what to do).
    for registration in providers::all() {
        let settings = Settings::from_lookup(registration, |name| std::env::var(name).ok());
        match (registration.mount)(&settings) {
            Some(mount) => {
                for path in &mount.paths {
                    builder = builder.mount(path.clone(), mount.provider.clone());
                }
                for note in &mount.notes {
                    tracing::warn!(provider = %registration.id, "{note}");
                }
            }
            None => tracing::info!(provider = %registration.id, "its settings are not set: not mounted"),
        }
    }

    let receiver = builder.build()?;
    tracing::info!(paths = ?receiver.paths(), "receiving webhooks");
    callhook_lambda::run(receiver).await
}

/// A non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}
