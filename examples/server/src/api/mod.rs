//! The admin JSON API, behind `Authorization: Bearer $CALLHOOK_ADMIN_TOKEN` or the
//! dashboard's session cookie, and its OpenAPI document (generated from these handlers
//! and types with utoipa, so it cannot drift from the code).
//!
//! Errors are always `{"error": {"code": "...", "message": "..."}}` with the codes
//! `unauthorized`, `api_disabled`, `not_found`, `bad_request`, `conflict` and
//! `unavailable`.
//!
//! Requests authenticated by the session cookie that change something (`POST`) must also
//! carry `X-Callhook-Csrf: 1`: a header another site's form or image cannot send.
//!
//! Credentials in URLs (`https://user:password@host/...`, as some providers put in
//! recording URLs) are redacted from every response (see `redact`).

mod events;
mod live;
mod redact;
mod subjects;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use callhook::event_log::EventLogError;
use callhook::verify::{bearer_token, matches_any_token};
use callhook::worker::WorkerError;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{OpenApi, ToSchema};

pub use events::{AttemptView, DeliveryView, EventDetails, EventPage, EventSummary};

use crate::AppState;
use crate::session;

/// The header a cookie-authenticated `POST` must carry.
pub const CSRF_HEADER: &str = "x-callhook-csrf";

/// The OpenAPI document of the admin API.
#[derive(OpenApi)]
#[openapi(
    info(title = "callhook admin API", description = "The event log, its processing and the folded call and message state."),
    paths(
        events::list_events, events::count_events, events::get_event, events::event_body, events::reprocess_event,
        events::reprocess_matching, subjects::get_call, subjects::get_message, subjects::timeline, live::stats,
        live::stream
    ),
    components(schemas(
        EventSummary, EventPage, EventDetails, DeliveryView, AttemptView, ApiError, ErrorBody, events::EventCounts,
        events::Reprocessed, events::ReprocessRequest, subjects::Timeline, live::StatsView, live::ProviderStats,
        live::WindowStats, crate::stats::RequestCounts, crate::stats::AlertView
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new("admin_token", Vec::<String>::new())]);
    }
}

/// The admin routes (all behind the token or a session) and the OpenAPI document (public).
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route("/api/events", get(events::list_events))
        .route("/api/events/count", get(events::count_events))
        .route("/api/events/reprocess", post(events::reprocess_matching))
        .route("/api/events/{id}", get(events::get_event))
        .route("/api/events/{id}/body", get(events::event_body))
        .route("/api/events/{id}/reprocess", post(events::reprocess_event))
        .route("/api/calls/{provider}/{id}", get(subjects::get_call))
        .route("/api/messages/{provider}/{id}", get(subjects::get_message))
        .route("/api/timeline/{id}", get(subjects::timeline))
        .route("/api/stats", get(live::stats))
        .route("/api/stream", get(live::stream))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_admin))
        .route_layer(axum::middleware::from_fn(redact::redact_credentials))
        .with_state(state);
    protected.route("/api/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}

/// An error as the API reports it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    error: ErrorBody,
}

/// The error's code and message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: `unauthorized`, `api_disabled`, `not_found`, `bad_request`, `conflict`, `unavailable`.
    code: &'static str,
    /// What happened.
    message: String,
}

/// An error response: status and body.
#[derive(Debug)]
pub struct Failure(StatusCode, &'static str, String);

impl Failure {
    fn not_found(message: impl Into<String>) -> Self {
        Self(StatusCode::NOT_FOUND, "not_found", message.into())
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, "bad_request", message.into())
    }

    fn conflict(message: impl Into<String>) -> Self {
        Self(StatusCode::CONFLICT, "conflict", message.into())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(ApiError { error: ErrorBody { code: self.1, message: self.2 } })).into_response()
    }
}

impl From<EventLogError> for Failure {
    fn from(error: EventLogError) -> Self {
        match error {
            EventLogError::EventNotFound(id) => Failure::not_found(format!("event {id} not found")),
            other => Self(StatusCode::SERVICE_UNAVAILABLE, "unavailable", other.to_string()),
        }
    }
}

impl From<WorkerError> for Failure {
    fn from(error: WorkerError) -> Self {
        match error {
            WorkerError::EventLog(storage) => storage.into(),
            other => Self(StatusCode::SERVICE_UNAVAILABLE, "unavailable", other.to_string()),
        }
    }
}

/// Lets through requests with the admin bearer token, or with a valid session cookie
/// (and, for anything but `GET`, the CSRF header).
async fn require_admin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(token) = &state.admin_token else {
        let message = "the admin API is off: set CALLHOOK_ADMIN_TOKEN";
        return Failure(StatusCode::FORBIDDEN, "api_disabled", message.into()).into_response();
    };
    let headers = request.headers();
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(bearer_token);
    let by_token = bearer.is_some_and(|presented| matches_any_token(std::slice::from_ref(token), presented));
    let by_session = !by_token && session::is_signed_in(token, headers);
    if by_session && request.method() != http::Method::GET && headers.get(CSRF_HEADER).is_none() {
        let message = format!("a session-authenticated {} needs the {CSRF_HEADER} header", request.method());
        return Failure(StatusCode::FORBIDDEN, "unauthorized", message).into_response();
    }
    if by_token || by_session {
        return next.run(request).await;
    }
    let message = "missing or wrong bearer token";
    let mut response = Failure(StatusCode::UNAUTHORIZED, "unauthorized", message.into()).into_response();
    response.headers_mut().insert("www-authenticate", "Bearer".parse().expect("a valid header value"));
    response
}

/// RFC 3339, as every time in the API is written.
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

fn parse_time(name: &str, value: &Option<String>) -> Result<Option<OffsetDateTime>, Failure> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(|v| OffsetDateTime::parse(v, &Rfc3339).map_err(|e| Failure::bad_request(format!("{name}: {e}"))))
        .transpose()
}
