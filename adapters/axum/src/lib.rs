//! axum adapter for [callhook]: serve a [`Receiver`] from an axum
//! [`Router`].
//!
//! The body is read whole, bounded by the receiver's body limit (a bigger body is
//! answered `413` without reading on), and handed over as the exact bytes received:
//! signatures are checked over them. The URL a provider signed (Twilio) comes from the
//! receiver's configured public base URL; behind a proxy that sets
//! `X-Forwarded-Proto` and `X-Forwarded-Host` you may instead opt in to trusting those
//! ([`Options::trust_forwarded_headers`]), never the `Host` header alone.
//!
//! ```no_run
//! # async fn run(receiver: callhook::Receiver) -> std::io::Result<()> {
//! let app = axum::Router::new()
//!     .route("/", axum::routing::get(|| async { "hello" }))
//!     // Merge, don't nest: the receiver matches full paths.
//!     .merge(callhook_axum::router(receiver));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! Bodies are read within [`Options::body_timeout`]; request *heads* are the server's
//! job, and `axum::serve` gives hyper no timer, so it never times out a client that
//! does not finish its headers. Facing the internet, serve through hyper's connection
//! builder with a timer and `header_read_timeout` (the reference server's
//! `examples/server/src/http_server.rs` does), or behind a proxy that bounds headers.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bytes::Bytes;
use callhook::Receiver;
use http::StatusCode;
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// How requests are handed to the receiver.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// Rebuild the request URL from `X-Forwarded-Proto` and `X-Forwarded-Host` (the
    /// first value of each). Only for services behind a proxy that sets them and
    /// strips them from clients; a configured public base URL still wins.
    pub trust_forwarded_headers: bool,
    /// The longest a client may take to send the body (default 30 s): a slow sender
    /// gets `408` instead of holding a connection and a task forever.
    pub body_timeout: std::time::Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self { trust_forwarded_headers: false, body_timeout: std::time::Duration::from_secs(30) }
    }
}

impl Options {
    /// Sets [`Options::body_timeout`].
    pub fn body_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Sets [`Options::trust_forwarded_headers`].
    pub fn trust_forwarded_headers(mut self, trust: bool) -> Self {
        self.trust_forwarded_headers = trust;
        self
    }
}

/// A router with every path mounted on `receiver`, any method (the receiver answers
/// `405` itself). Merge it into your app.
pub fn router<S: Clone + Send + Sync + 'static>(receiver: Receiver) -> Router<S> {
    router_with(receiver, Options::default())
}

/// [`router`] with options.
pub fn router_with<S: Clone + Send + Sync + 'static>(receiver: Receiver, options: Options) -> Router<S> {
    let shared = Arc::new((receiver.clone(), options));
    receiver.paths().into_iter().fold(Router::new(), |router, path| {
        let shared = shared.clone();
        router.route(path, any(move |request: Request| async move { handle(&shared.0, &shared.1, request).await }))
    })
}

/// Hands one axum request to `receiver`: for use in your own handler or fallback.
pub async fn handle(receiver: &Receiver, options: &Options, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    // A declared length (hyper's size hint is the `Content-Length`) over the limit is
    // refused before a byte is read: `Limited` alone would wait for the first byte over
    // the limit, or for the body timeout if the client sends no more.
    if HttpBody::size_hint(&body).lower() > receiver.body_limit() as u64 {
        return (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response();
    }
    let read = tokio::time::timeout(options.body_timeout, Limited::new(body, receiver.body_limit()).collect());
    let body = match read.await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response();
        }
        Ok(Err(_)) => return (StatusCode::BAD_REQUEST, "could not read the body").into_response(),
        Err(_) => return (StatusCode::REQUEST_TIMEOUT, "body not received in time").into_response(),
    };
    // The URL a provider signed comes from configuration or trusted forwarded headers,
    // never from what the client wrote on its request line.
    parts.uri = callhook::receiver::adapter_uri(&parts.headers, &parts.uri, options.trust_forwarded_headers);
    let response = receiver.handle(http::Request::from_parts(parts, body)).await;
    response.map(Body::from)
}

/// Converts a callhook response (for handlers that call the receiver themselves).
pub fn into_response(response: http::Response<Bytes>) -> Response {
    response.map(Body::from)
}
