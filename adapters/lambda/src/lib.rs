//! AWS Lambda adapter for [callhook]: serve a [`Receiver`] from a Lambda function behind
//! API Gateway (REST API or HTTP API) or a Lambda Function URL.
//!
//! [`run`] starts the Lambda runtime loop; [`handle`] converts one request, for your own
//! `service_fn`. The body comes whole in the event, already base64-decoded by
//! `lambda_http` when the event says `isBase64Encoded`; a body over the receiver's body
//! limit is answered `413`, any other is handed over as the exact bytes received
//! (signatures are checked over them). Method, headers and query string are kept.
//!
//! ```no_run
//! use std::sync::Arc;
//! use callhook::Receiver;
//! use callhook::providers::whatsapp::WhatsApp;
//!
//! # async fn example<S: callhook::Store>(store: Arc<S>) -> Result<(), lambda_http::Error> {
//! // `store`: a database the worker shares, e.g. `callhook_postgres::PostgresStore`
//! // (a Lambda has no lasting disk).
//! let whatsapp = WhatsApp::builder().app_secret(std::env::var("WHATSAPP_APP_SECRET")?).build();
//! let receiver = Receiver::builder()
//!     // The origin providers call: the API Gateway or Function URL one, or your domain.
//!     .public_base_url("https://abc123.execute-api.us-east-1.amazonaws.com")
//!     .mount("/webhooks/whatsapp", Arc::new(whatsapp))
//!     .store(store)
//!     .build()?;
//! callhook_lambda::run(receiver).await
//! # }
//! ```
//!
//! # Which path is matched
//!
//! On an `execute-api` URL the caller's path starts with the stage
//! (`https://abc123.execute-api.us-east-1.amazonaws.com/prod/webhooks/whatsapp`), and
//! `lambda_http` puts the stage in the request URI's path (`/prod/webhooks/whatsapp`).
//! By default the receiver is given the path **without the stage**, so one set of
//! mounts (`/webhooks/whatsapp`) works on every stage, on a Function URL and on a custom
//! domain:
//!
//! | event | path matched |
//! |---|---|
//! | REST API (payload 1.0) | the event's `path` ([`RequestExt::raw_http_path`]): without the stage on an `execute-api` URL, as called behind a custom domain |
//! | HTTP API (payload 2.0), named stage | the event's `rawPath` without its leading `/{stage}` (HTTP APIs include it) |
//! | HTTP API `$default` stage, Function URL | the event's `rawPath` |
//! | anything else (a request built by hand) | the request URI's path |
//!
//! The request URI's path is not used for API Gateway events because `lambda_http` adds
//! the stage to it even when the caller did not send one (a REST API behind a custom
//! domain), and [`RequestExt::raw_http_path`] alone is not stage-less for HTTP APIs
//! (`lambda_http`'s `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` changes neither choice).
//! [`Options::keep_stage`] matches the path exactly as the caller sent it instead
//! (`/prod/webhooks/whatsapp`), for the case below.
//!
//! # The public URL (Twilio)
//!
//! Twilio signs the full URL it called. The receiver rebuilds it from its configured
//! [`public_base_url`](callhook::receiver::ReceiverBuilder::public_base_url) followed by
//! the matched path and the query; this adapter hands it a path-only URI, so it is never
//! guessed from the `Host` header (from which `lambda_http` builds an absolute URI).
//! Configure the origin Twilio calls: `https://abc123.execute-api.us-east-1.amazonaws.com`,
//! the Function URL's `https://<url-id>.lambda-url.<region>.on.aws`, or your domain.
//!
//! The public base URL has no path, so Twilio's signature verifies only if the matched
//! path is the one Twilio called. That holds for Function URLs, HTTP API `$default`
//! stages and custom domains without a base path. On an `execute-api` URL with a named
//! stage (every REST API), either give Twilio a custom domain, or use
//! [`Options::keep_stage`] and mount with the stage
//! (`/prod/webhooks/twilio/incoming-call`).
//!
//! A REST API event carries no raw query string: `lambda_http` rebuilds it from the
//! parsed parameters, so with several parameters their order and encoding may differ
//! from what was sent. Only schemes that sign the query notice: a Twilio webhook URL
//! with query parameters of its own may not verify behind a REST API (one parameter,
//! such as Twilio's `bodySHA256`, always does). HTTP APIs and Function URLs pass
//! `rawQueryString` as sent.
//!
//! # Responses
//!
//! Status and headers (content type included) are kept. The body is text when the
//! content type is textual by the rule `lambda_http` applies (`text/*`, JSON, XML, YAML,
//! JavaScript, `+json`, `+xml`, `+yaml`, or no content type; no `Content-Encoding`) and
//! the bytes are UTF-8, so TwiML, JSON and plain answers reach the provider as they are
//! (a REST API without binary media types would otherwise pass base64 on); anything else
//! is binary. An empty body is [`Body::Empty`].
//!
//! # No background work
//!
//! Lambda freezes the function once it has answered, so do not run a
//! [`Worker`](callhook::Worker) beside the receiver: schedule into a shared database and
//! let a long-running worker elsewhere (e.g. `callhook-server --worker`) process the
//! events.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use callhook::Receiver;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode, Uri};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response, service_fn};

/// How requests are handed to the receiver.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Options {
    /// Match the path exactly as the caller sent it, API Gateway stage included
    /// (`/prod/webhooks/twilio/incoming-call`): the REST API event's
    /// `requestContext.path`, the HTTP API event's `rawPath`. Mount the paths with the
    /// stage then. Default: the path without the stage (see the crate docs).
    pub keep_stage: bool,
}

impl Options {
    /// Sets [`Options::keep_stage`].
    pub fn keep_stage(mut self, keep: bool) -> Self {
        self.keep_stage = keep;
        self
    }
}

/// Runs the Lambda runtime loop, handing every request to `receiver` with the default
/// [`Options`]. Returns only when the runtime fails.
///
/// ```no_run
/// # async fn example(receiver: callhook::Receiver) -> Result<(), lambda_http::Error> {
/// callhook_lambda::run(receiver).await
/// # }
/// ```
pub async fn run(receiver: Receiver) -> Result<(), lambda_http::Error> {
    run_with(receiver, Options::default()).await
}

/// [`run`] with options.
///
/// ```no_run
/// # async fn example(receiver: callhook::Receiver) -> Result<(), lambda_http::Error> {
/// use callhook_lambda::Options;
/// callhook_lambda::run_with(receiver, Options::default().keep_stage(true)).await
/// # }
/// ```
pub async fn run_with(receiver: Receiver, options: Options) -> Result<(), lambda_http::Error> {
    let shared = Arc::new((receiver, options));
    lambda_http::run(service_fn(move |request: Request| {
        let shared = shared.clone();
        async move { Ok::<_, lambda_http::Error>(handle_with(&shared.0, &shared.1, request).await) }
    }))
    .await
}

/// Hands one Lambda request to `receiver` with the default [`Options`]: for your own
/// `service_fn`. Never fails: every outcome is an HTTP status.
///
/// ```no_run
/// use lambda_http::{Request, service_fn};
///
/// # async fn example(receiver: callhook::Receiver) -> Result<(), lambda_http::Error> {
/// lambda_http::run(service_fn(|request: Request| {
///     let receiver = receiver.clone();
///     async move { Ok::<_, lambda_http::Error>(callhook_lambda::handle(&receiver, request).await) }
/// }))
/// .await
/// # }
/// ```
pub async fn handle(receiver: &Receiver, request: Request) -> Response<Body> {
    handle_with(receiver, &Options::default(), request).await
}

/// [`handle`] with options.
pub async fn handle_with(receiver: &Receiver, options: &Options, request: Request) -> Response<Body> {
    let Some(uri) = receiver_uri(&request, options) else {
        return text_response(StatusCode::BAD_REQUEST, "invalid request path");
    };
    let (mut parts, body) = request.into_parts();
    if body.len() > receiver.body_limit() {
        return text_response(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
    }
    parts.uri = uri;
    let response = receiver.handle(http::Request::from_parts(parts, body_bytes(body))).await;
    into_response(response)
}

/// Converts a callhook response (for handlers that call the receiver themselves): text
/// or binary body as described in the crate docs, status and headers kept.
///
/// ```
/// let twiml = http::Response::builder()
///     .header("content-type", "text/xml; charset=utf-8")
///     .body(bytes::Bytes::from_static(b"<Response><Reject/></Response>"))
///     .unwrap();
/// let response = callhook_lambda::into_response(twiml);
/// assert_eq!(response.body(), &lambda_http::Body::Text("<Response><Reject/></Response>".into()));
/// assert_eq!(response.headers()["content-type"], "text/xml; charset=utf-8");
/// ```
pub fn into_response(response: http::Response<Bytes>) -> Response<Body> {
    let (parts, bytes) = response.into_parts();
    let body = if bytes.is_empty() {
        Body::Empty
    } else if is_text(&parts.headers) {
        match String::from_utf8(Vec::from(bytes)) {
            Ok(text) => Body::Text(text),
            Err(error) => Body::Binary(error.into_bytes()),
        }
    } else {
        Body::Binary(Vec::from(bytes))
    };
    Response::from_parts(parts, body)
}

/// The exact bytes of a body: the string's bytes, the decoded binary, or nothing.
fn body_bytes(body: Body) -> Bytes {
    match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        other => Bytes::copy_from_slice(&other),
    }
}

/// The path-only URI the receiver routes on: the path chosen per [`Options`] and the
/// query string as `lambda_http` has it. `None` if they do not form a valid URI.
fn receiver_uri(request: &Request, options: &Options) -> Option<Uri> {
    let uri_path = request.uri().path();
    let raw_path = Some(request.raw_http_path()).filter(|path| path.starts_with('/'));
    let path = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(context)) if options.keep_stage => {
            context.path.as_deref().filter(|path| path.starts_with('/')).unwrap_or(uri_path)
        }
        Some(RequestContext::ApiGatewayV1(_)) => raw_path.unwrap_or(uri_path),
        Some(RequestContext::ApiGatewayV2(_)) if options.keep_stage => raw_path.unwrap_or(uri_path),
        Some(RequestContext::ApiGatewayV2(context)) => {
            raw_path.map_or(uri_path, |path| without_stage(path, context.stage.as_deref()))
        }
        _ => uri_path,
    };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    path_and_query.parse().ok()
}

/// `path` without a leading `/{stage}` segment, unless the stage is `$default` (which
/// never appears in paths).
fn without_stage<'a>(path: &'a str, stage: Option<&str>) -> &'a str {
    let Some(stage) = stage.filter(|stage| !stage.is_empty() && *stage != "$default") else { return path };
    match path.strip_prefix('/').and_then(|rest| rest.strip_prefix(stage)) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

/// Whether `lambda_http` would send a body with these headers as text.
fn is_text(headers: &HeaderMap) -> bool {
    if headers.contains_key(CONTENT_ENCODING) {
        return false;
    }
    let Some(content_type) = headers.get(CONTENT_TYPE) else { return true };
    let Ok(content_type) = content_type.to_str() else { return false };
    let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let textual = ["text/", "application/json", "application/javascript", "application/xml", "application/yaml"];
    textual.iter().any(|prefix| mime.starts_with(prefix))
        || ["+json", "+xml", "+yaml"].iter().any(|suffix| mime.ends_with(suffix))
}

fn text_response(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::Text(text.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_become_their_exact_bytes() {
        let bytes = vec![0xff, 0x00, b'O', b'l', 0xe1, b'\r', b'\n'];
        assert_eq!(body_bytes(Body::Binary(bytes.clone())), bytes);
        assert_eq!(body_bytes(Body::Text("Olá\r\n".into())), "Olá\r\n".as_bytes());
        assert_eq!(body_bytes(Body::Empty), Bytes::new());
    }

    #[test]
    fn the_stage_is_removed_only_as_a_whole_leading_segment() {
        assert_eq!(without_stage("/prod/webhooks/whatsapp", Some("prod")), "/webhooks/whatsapp");
        assert_eq!(without_stage("/prod", Some("prod")), "/");
        assert_eq!(without_stage("/production/webhooks", Some("prod")), "/production/webhooks");
        assert_eq!(without_stage("/webhooks/whatsapp", Some("prod")), "/webhooks/whatsapp");
        assert_eq!(without_stage("/webhooks/whatsapp", Some("$default")), "/webhooks/whatsapp");
        assert_eq!(without_stage("/webhooks/whatsapp", None), "/webhooks/whatsapp");
    }

    #[test]
    fn text_content_types_give_text_bodies() {
        let response = |content_type: Option<&str>, body: &'static [u8]| {
            let mut builder = http::Response::builder();
            if let Some(content_type) = content_type {
                builder = builder.header(CONTENT_TYPE, content_type);
            }
            into_response(builder.body(Bytes::from_static(body)).unwrap()).into_body()
        };
        assert_eq!(response(Some("text/xml; charset=utf-8"), b"<Response/>"), Body::Text("<Response/>".into()));
        assert_eq!(response(Some("application/json"), b"{}"), Body::Text("{}".into()));
        assert_eq!(response(Some("application/problem+json"), b"{}"), Body::Text("{}".into()));
        assert_eq!(response(None, b"ok"), Body::Text("ok".into()));
        assert_eq!(response(Some("text/plain"), b"\xff"), Body::Binary(vec![0xff]));
        assert_eq!(response(Some("audio/mpeg"), b"ID3"), Body::Binary(b"ID3".to_vec()));
        assert_eq!(response(Some("text/plain"), b""), Body::Empty);
    }
}
