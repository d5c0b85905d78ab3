//! The monitoring dashboard at `/dashboard`: one page and its script and styles,
//! compiled into the binary (no CDN, no separate front-end server), behind a login with
//! the admin token (see [`crate::session`] for why a signed cookie).
//!
//! The page only reads the admin JSON API (`/api/...`) with the session cookie, so
//! everything it shows is filtered and paginated by the server.

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use callhook::verify::matches_any_token;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::AppState;
use crate::session;

const APP_HTML: &str = include_str!("../assets/dashboard.html");
const LOGIN_HTML: &str = include_str!("../assets/login.html");
const APP_JS: &str = include_str!("../assets/dashboard.js");
const APP_CSS: &str = include_str!("../assets/dashboard.css");

/// Scripts and styles only from this server, nothing inline, no framing: an injected
/// string in a payload can never run.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `/` (redirects here), `/dashboard`, its login and logout, and its assets.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/dashboard", get(page))
        .route("/dashboard/login", axum::routing::post(login))
        .route("/dashboard/logout", axum::routing::post(logout))
        .route("/dashboard/app.js", get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }))
        .route("/dashboard/app.css", get(|| async { asset("text/css; charset=utf-8", APP_CSS) }))
        .with_state(state)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

fn html(status: StatusCode, body: String) -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    (status, headers, body).into_response()
}

fn login_page(status: StatusCode, message: &str) -> Response {
    html(status, LOGIN_HTML.replace("{{message}}", message))
}

fn logged_in(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = &state.admin_token else { return false };
    session::is_signed_in(token, headers)
}

/// The dashboard for a valid session, else the login form.
async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.admin_token.is_none() {
        return login_page(StatusCode::FORBIDDEN, "The dashboard is off: set CALLHOOK_ADMIN_TOKEN.");
    }
    if logged_in(&state, &headers) { html(StatusCode::OK, APP_HTML.to_owned()) } else { login_page(StatusCode::OK, "") }
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// Checks the token; on success sets the session cookie and goes to the dashboard.
async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    let Some(token) = &state.admin_token else {
        return login_page(StatusCode::FORBIDDEN, "The dashboard is off: set CALLHOOK_ADMIN_TOKEN.");
    };
    if !matches_any_token(std::slice::from_ref(token), form.token.trim()) {
        tracing::warn!("dashboard login refused: wrong admin token");
        return login_page(StatusCode::UNAUTHORIZED, "Wrong token.");
    }
    let cookie = session::set_cookie(&session::issue(token, OffsetDateTime::now_utc()), state.secure_cookies);
    tracing::info!("dashboard login");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/dashboard")).into_response()
}

/// Ends the session.
async fn logout() -> Response {
    ([(header::SET_COOKIE, session::clear_cookie())], Redirect::to("/dashboard")).into_response()
}
