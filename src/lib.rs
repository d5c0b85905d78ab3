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
//! scheduling are traits ([`Storage`], [`Scheduler`]) with in-memory implementations
//! here and durable ones in companion crates.
//!
//! ## Quick start
//!
//! ```
//! use std::sync::Arc;
//! use bytes::Bytes;
//! use callhook::event::{Event, ProviderId, UnmodeledEvent};
//! use callhook::provider::{ParseError, ParsedEvent, Provider, WebhookRequest};
//! use callhook::verify::{Secret, VerifyError, matches_any_token};
//! use callhook::worker::{handler_fn, HandlerError};
//! use callhook::{InProcessScheduler, MemoryStorage, Receiver, Worker};
//!
//! // A provider: here a made-up one that authenticates with a shared token.
//! struct Acme { tokens: Vec<Secret> }
//! impl Provider for Acme {
//!     fn id(&self) -> ProviderId { ProviderId::from_static("acme") }
//!     fn verify(&self, request: &WebhookRequest<'_>) -> Result<(), VerifyError> {
//!         let token = request.header("x-acme-token").ok_or(VerifyError::MissingToken)?;
//!         matches_any_token(&self.tokens, token).then_some(()).ok_or(VerifyError::TokenMismatch)
//!     }
//!     fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
//!         let id = std::str::from_utf8(request.body()).map_err(|_| ParseError::MissingField("id"))?;
//!         let event = Event::Unmodeled(UnmodeledEvent::new(self.id(), "ping"));
//!         Ok(vec![ParsedEvent::new("ping", id, event)])
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let storage = Arc::new(MemoryStorage::new());
//! let scheduler = Arc::new(InProcessScheduler::new());
//! let receiver = Receiver::builder()
//!     .storage(storage.clone())
//!     .scheduler(scheduler.clone())
//!     .mount("/webhooks/acme", Arc::new(Acme { tokens: vec![Secret::new("s3cret")] }))
//!     .build()
//!     .expect("valid configuration");
//! let worker = Worker::builder(storage, scheduler)
//!     .providers(receiver.providers())
//!     .handler(handler_fn(|detail| async move {
//!         println!("processing {} #{}", detail.event.event_type, detail.event.id);
//!         Ok::<_, HandlerError>(())
//!     }))
//!     .build();
//!
//! // Your web framework hands requests to the receiver...
//! let request = http::Request::post("/webhooks/acme")
//!     .header("x-acme-token", "s3cret")
//!     .body(Bytes::from("ping-1"))
//!     .unwrap();
//! assert_eq!(receiver.handle(request).await.status(), 200);
//! // ...and the worker processes what was stored (normally: `worker.run(shutdown)`).
//! assert_eq!(worker.run_due().await.unwrap(), 1);
//! # }
//! ```
//!
//! ## Modules
//!
//! - [`event`]: the normalized model ([`Event`], [`CallEvent`](event::CallEvent),
//!   [`MessageEvent`](event::MessageEvent));
//! - [`state`]: order-independent folding of events into call and message state;
//! - [`provider`]: the [`Provider`] trait; [`verify`]: signature building blocks;
//! - [`receiver`]: the request flow and its [status table](receiver#responses);
//! - [`storage`], [`scheduler`], [`store`], [`retry`], [`worker`], [`clock`]:
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
pub mod clock;
#[cfg(all(feature = "testing", feature = "runtime"))]
pub mod conformance;
#[cfg(feature = "runtime")]
pub mod receiver;
#[cfg(feature = "runtime")]
pub mod recording;
#[cfg(feature = "runtime")]
pub mod retry;
#[cfg(feature = "runtime")]
pub mod scheduler;
#[cfg(feature = "runtime")]
pub mod storage;
#[cfg(feature = "runtime")]
pub mod store;
#[cfg(feature = "runtime")]
pub mod worker;

pub use event::Event;
pub use provider::Provider;
#[cfg(feature = "runtime")]
pub use receiver::Receiver;
#[cfg(feature = "runtime")]
pub use retry::RetryPolicy;
#[cfg(feature = "runtime")]
pub use scheduler::{InProcessScheduler, Scheduler};
#[cfg(feature = "runtime")]
pub use storage::{MemoryStorage, Storage};
#[cfg(feature = "runtime")]
pub use store::Store;
#[cfg(feature = "runtime")]
pub use worker::Worker;
