//! A small actix-web service that receives Twilio and WhatsApp webhooks with callhook.
//!
//! ```sh
//! TWILIO_AUTH_TOKEN=... CALLHOOK_PUBLIC_URL=https://crm.example.com \
//! WHATSAPP_APP_SECRET=... WHATSAPP_VERIFY_TOKEN=... \
//! cargo run -p callhook-example-actix
//! ```
//!
//! Each provider is mounted only when its secret is set. Deliveries and jobs go to
//! `callhook.sqlite`; a worker processes the events (here: logs them) beside the HTTP
//! server. Ctrl-C stops accepting, finishes requests in flight, then stops the worker.

use std::sync::Arc;

use actix_web::{App, HttpServer, web};
use callhook::providers::{twilio::Twilio, whatsapp::WhatsApp};
use callhook::worker::{HandlerError, handler_fn};
use callhook::{Receiver, Worker};
use callhook_sqlite::SqliteStore;

/// Every Twilio endpoint; one Twilio provider serves them all.
const TWILIO_PATHS: [&str; 5] = [
    "/webhooks/twilio/incoming-call",
    "/webhooks/twilio/call-status",
    "/webhooks/twilio/recording-status",
    "/webhooks/twilio/message-status",
    "/webhooks/twilio/incoming-message",
];

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();

    // One SQLite file is both the event log and the job queue.
    let store = Arc::new(SqliteStore::open("callhook.sqlite").await?);
    let mut builder = Receiver::builder().store(store.clone());

    // Twilio signs the public URL it called: it must be configured behind a proxy.
    if let Some(url) = env("CALLHOOK_PUBLIC_URL") {
        builder = builder.public_base_url(url);
    }
    match env("TWILIO_AUTH_TOKEN") {
        Some(token) => {
            if env("CALLHOOK_PUBLIC_URL").is_none() {
                println!("warning: CALLHOOK_PUBLIC_URL is not set; Twilio requests will be refused (500)");
            }
            // No incoming-call hook: calls get the default reply (<Reject/>).
            let twilio = Arc::new(Twilio::new(token));
            for path in TWILIO_PATHS {
                builder = builder.mount(path, twilio.clone());
            }
            println!("twilio: mounted at /webhooks/twilio/*");
        }
        None => println!("twilio: not mounted (set TWILIO_AUTH_TOKEN)"),
    }
    match env("WHATSAPP_APP_SECRET") {
        Some(secret) => {
            let mut whatsapp = WhatsApp::builder().app_secret(secret);
            match env("WHATSAPP_VERIFY_TOKEN") {
                Some(token) => whatsapp = whatsapp.verify_token(token),
                None => println!("warning: WHATSAPP_VERIFY_TOKEN is not set; Meta's setup handshake will be refused"),
            }
            builder = builder.mount("/webhooks/whatsapp", Arc::new(whatsapp.build()));
            println!("whatsapp: mounted at /webhooks/whatsapp");
        }
        None => println!("whatsapp: not mounted (set WHATSAPP_APP_SECRET)"),
    }
    let receiver = builder.build()?;

    // The worker runs your business logic for each stored event, with retries.
    let worker = Worker::builder_with_store(store.clone())
        .providers(receiver.providers())
        .handler(handler_fn(|detail| async move {
            let event = &detail.event;
            tracing::info!(id = %event.id, provider = %event.provider, event_type = %event.event_type, "event");
            Ok::<_, HandlerError>(())
        }))
        .build();

    let listen = env("CALLHOOK_LISTEN").unwrap_or_else(|| "127.0.0.1:3001".to_owned());
    println!("listening on http://{listen}");
    let server = HttpServer::new(move || {
        App::new()
            .route("/health", web::get().to(|| async { "ok" }))
            .configure(callhook_actix::configure(receiver.clone()))
    })
    .bind(&listen)?
    // actix's own handler makes Ctrl-C a forced stop; ours below makes it graceful.
    .disable_signals()
    .run();

    // Ctrl-C: stop accepting, let requests in flight finish (they are acknowledged
    // only once stored), then stop the worker, which finishes the jobs it started.
    let server_handle = server.handle();
    actix_web::rt::spawn(async move {
        let _ = actix_web::rt::signal::ctrl_c().await;
        println!("shutting down");
        server_handle.stop(true).await;
    });
    let (stop_worker, worker_stopped) = tokio::sync::oneshot::channel::<()>();
    let worker_task = actix_web::rt::spawn(async move {
        worker
            .run(async {
                let _ = worker_stopped.await;
            })
            .await;
    });
    server.await?;
    let _ = stop_worker.send(());
    worker_task.await?;
    println!("stopped");
    Ok(())
}
