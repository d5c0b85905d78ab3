//! # callhook
//!
//! Receive the webhooks of telephony and messaging providers safely and without losing
//! anything: verify the provider's signature, persist the exact payload durably,
//! acknowledge fast, then process asynchronously with retries. Duplicate deliveries
//! are stored once; out-of-order statuses never corrupt the folded call or message
//! state; failed events stay in the log and can be reprocessed.
//!
//! The core works on the `http` crate's types ([`Receiver::handle`] takes an
//! `http::Request<Bytes>`), so it runs inside any web framework; storage and
//! scheduling are traits ([`EventLog`], [`JobQueue`]) with in-memory implementations
//! here and durable ones in companion crates.
//!
//! ## Quick start
//!
//! Twilio's call status callbacks, kept in SQLite (`callhook-sqlite`), handed to your
//! handler once each, in the background:
//!
//! ```
//! use std::sync::Arc;
//! use callhook::{Receiver, Worker, event::Event, providers::twilio::Twilio};
//! use callhook::worker::{HandlerError, handler_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?; let path = dir.path().join("callhook.sqlite");
//! let store = Arc::new(callhook_sqlite::SqliteStore::open(&path).await?);
//! let twilio = Arc::new(Twilio::builder().auth_token("your Twilio auth token").build());
//! let receiver = Receiver::builder()
//!     .public_base_url("https://crm.example.com") // the origin Twilio calls
//!     .mount("/webhooks/twilio/call-status", twilio)
//!     .store(store.clone())
//!     .build()?;
//! let worker = Worker::builder_with_store(store)
//!     .providers(receiver.providers())
//!     .handler(handler_fn(|detail| async move {
//!         if let Some(Event::Call(call)) = &detail.event.event {
//!             println!("call {} is {:?}", call.call_id, call.status); // update your CRM here
//!         }
//!         Ok::<_, HandlerError>(())
//!     }))
//!     .build();
//! // Serve `receiver` with callhook-axum, -actix or -lambda; run `worker.run(shutdown)`.
//! # use callhook::providers::twilio::{FormParams, signature};
//! # let body = "CallSid=CA1&AccountSid=AC1&From=%2B15550100&To=%2B15550111&CallStatus=completed&CallDuration=42";
//! # let sig = signature::sign("your Twilio auth token", "https://crm.example.com/webhooks/twilio/call-status", &FormParams::parse(body.as_bytes()));
//! # let request = http::Request::post("/webhooks/twilio/call-status")
//! #     .header("content-type", "application/x-www-form-urlencoded").header("x-twilio-signature", sig)
//! #     .body(bytes::Bytes::from(body))?;
//! # assert_eq!(receiver.handle(request).await.status(), 200);
//! # assert_eq!(worker.run_due().await?, 1);
//! # Ok(()) }
//! ```
//!
//! Without a database, [`MemoryEventLog`] and [`MemoryJobQueue`] are the event log and
//! job queue (`.event_log(..).job_queue(..)`, `Worker::builder(storage, scheduler)`); your
//! own provider is a [`Provider`] implementation (see [`provider`]).
//!
//! ## Modules
//!
//! - [`event`]: the normalized model ([`Event`], [`CallEvent`](event::CallEvent),
//!   [`MessageEvent`](event::MessageEvent));
//! - [`state`]: order-independent folding of events into call and message state;
//! - [`provider`]: the [`Provider`] trait; [`verify`]: signature building blocks;
//! - [`receiver`]: the request flow and its [status table](receiver#responses);
//! - [`event_log`], [`job_queue`], [`store`], [`retry`], [`worker`], [`clock`]:
//!   persistence, jobs, both in one backend, backoff, processing and injectable time.
//!
//! ## Features
//!
//! Each provider is a feature of its name (all on by default). `runtime` (on by default)
//! is the pipeline: the receiver, storage, scheduler, worker and recordings, with tokio.
//! Without it (`default-features = false, features = ["whatsapp"]`) the crate is the
//! typed payloads, the signature checks and the normalization into [`Event`]s, with no
//! async runtime, for a Cloudflare worker, a CLI or your own pipeline (it builds for
//! `wasm32-unknown-unknown`). `testing` adds signed-request helpers per provider (and,
//! with `runtime`, the storage conformance suite); `recordings` the HTTP fetcher;
//! `webhook-alerts` alerts to a Slack-style webhook.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Models, verifiers and normalization: no runtime, no I/O.
pub mod account;
pub mod event;
pub mod provider;
pub mod providers;
pub mod redact;
pub mod state;
pub mod verify;
mod wire;

// The pipeline (feature `runtime`, on by default): receive, persist, process.
#[cfg(feature = "runtime")]
pub mod alert;
#[cfg(feature = "runtime")]
pub mod backend;
#[cfg(feature = "runtime")]
pub mod clock;
#[cfg(all(feature = "testing", feature = "runtime"))]
pub mod conformance;
#[cfg(feature = "runtime")]
pub mod event_log;
#[cfg(feature = "runtime")]
pub mod handoff;
#[cfg(feature = "runtime")]
pub mod job_queue;
#[cfg(feature = "runtime")]
pub mod receiver;
#[cfg(feature = "runtime")]
pub mod recording;
#[cfg(feature = "runtime")]
pub mod retry;
#[cfg(feature = "runtime")]
pub mod store;
#[cfg(feature = "runtime")]
pub mod worker;

pub use event::Event;
#[cfg(feature = "runtime")]
pub use event_log::{EventLog, MemoryEventLog};
#[cfg(feature = "runtime")]
pub use job_queue::{JobQueue, MemoryJobQueue};
pub use provider::Provider;
#[cfg(feature = "runtime")]
pub use receiver::Receiver;
#[cfg(feature = "runtime")]
pub use retry::RetryPolicy;
#[cfg(feature = "runtime")]
pub use store::Store;
#[cfg(feature = "runtime")]
pub use worker::Worker;
