//! The Xiezhi server: the JSON API under `/api/v1` (described by a generated OpenAPI 3
//! document at `/api/v1/openapi.json`) and the server-rendered Chinese web console.
//!
//! - [`auth`]: password login (argon2id) with session cookies and CSRF tokens, API keys for
//!   department systems, login rate limiting.
//! - [`api`]: the JSON routes; case data only through `xiezhi_access::reader::SharedReader`.
//! - [`ui`]: the console pages (minijinja templates, vendored htmx and ECharts, no CDN).
//! - [`error`]: RFC 9457 problem details naming field and rule.
//! - [`exchange_api`], [`exchange_pages`]: transfers in and out, webhook registration, 交换.
//! - [`tls`]: TLS (rustls), the loopback rule for plain HTTP, HSTS and `Secure` cookies.
//! - [`signed`]: requests signed by a department system's registered key (Ed25519 or SM2).
//! - [`webhook`]: signed POSTs of received envelopes to department systems, with retries.
//! - [`graph_api`], [`graph_pages`]: the case graph (关系图谱) queries and the link chart page.
//!
//! [`app`] builds the router, so tests drive it with `tower::ServiceExt::oneshot`, no socket.
//! Architecture: may import every Xiezhi library crate; reads case data only through the access
//! layer, which decides, masks and logs every field.

#![allow(
    clippy::result_large_err,
    reason = "Problem is every handler's error and is built only on the failure path"
)]

pub mod admin_api;
pub mod api;
pub mod auth;
pub mod error;
pub mod exchange_api;
pub mod exchange_pages;
pub mod graph_api;
pub mod graph_pages;
pub mod insight_api;
pub mod justice_api;
pub mod justice_pages;
pub mod law_api;
pub mod law_pages;
pub mod ledger_queue;
pub mod password;
pub mod signed;
pub mod state;
pub mod tls;
pub mod totp;
pub mod ui;
pub mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;

pub use error::Problem;
pub use state::{AppState, Limits};
pub use tls::Transport;

/// Content Security Policy: everything from this origin, no inline script, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    for (name, value) in [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=()",
        ),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

async fn api_not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        Problem::not_found(format!("没有接口 `{}`", uri.path())).into_response()
    } else {
        ui::not_found_page().into_response()
    }
}

async fn method_not_allowed(req: Request) -> Response {
    Problem::new(405, "不支持的方法 (method not allowed)")
        .detail(format!("`{} {}` 不受支持", req.method(), req.uri().path()))
        .into_response()
}

/// The whole application: API, console and static assets, with security headers.
pub fn app(state: Arc<AppState>) -> Router {
    // Multipart uploads from the console obey the same limit as the API's raw uploads.
    let upload_limit = axum::extract::DefaultBodyLimit::max(state.limits.upload_bytes);
    api::routes()
        .merge(ui::routes())
        .merge(exchange_pages::routes())
        .merge(justice_pages::routes())
        .merge(law_pages::routes())
        .merge(graph_pages::routes())
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(upload_limit)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            signed::verify_signed,
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// Serves until Ctrl-C, with the webhook task running beside the server. Refuses plain HTTP on
/// a non-loopback address unless the transport allows it, before binding anything; prints the
/// plain-HTTP warning to standard error.
pub async fn serve(
    state: Arc<AppState>,
    addr: SocketAddr,
    transport: Transport,
) -> std::io::Result<()> {
    if let Some(warning) = transport.check_bind(addr).map_err(std::io::Error::other)? {
        eprintln!("{warning}");
    }
    let key = webhook::PlatformKey::load_or_create(&state.data).map_err(std::io::Error::other)?;
    webhook::spawn(
        state.clone(),
        Arc::new(key),
        webhook::WebhookOptions::default(),
    );
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(listener, state, transport, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Serves the application on a bound listener until `shutdown` completes: over TLS (with HSTS
/// and `Secure` cookies) or plain HTTP. The bind rule is [`serve`]'s; tests bind port 0 here.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    transport: Transport,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match transport {
        Transport::Tls(config) => {
            let router = app(state).layer(axum::middleware::from_fn(tls::secure_transport));
            axum::serve(
                tls::TlsListener::new(listener, config)?,
                router.into_make_service_with_connect_info::<tls::TlsPeer>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
        }
        Transport::Plain { .. } => {
            axum::serve(
                listener,
                app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
        }
    }
}

/// Runs [`serve`] on a multi-threaded runtime (for the command line).
pub fn run_blocking(
    state: Arc<AppState>,
    addr: SocketAddr,
    transport: Transport,
) -> std::io::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(state, addr, transport))
}
