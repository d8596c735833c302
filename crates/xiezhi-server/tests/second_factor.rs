//! Login to 等保 level 3: password plus TOTP, replayed codes refused, lockout with a cool-down,
//! idle sessions ended, forged sessions refused, a forced change of an initial password with
//! the password rules named, and every outcome in the ledger with its source address.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use common::{fixture, PASSWORD};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use xiezhi_server::auth::{hash_password, Account, Users, USERS_FILE};
use xiezhi_server::{app, AppState, Limits};
use xiezhi_store::Store;

const SOURCE: &str = "10.20.30.40:51234";

/// A second server state over the fixture's data directory with short timeouts, and a new
/// account that an administrator created (initial password, forced change).
fn state() -> Arc<AppState> {
    static S: std::sync::OnceLock<Arc<AppState>> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let f = fixture();
        let path = f.data.join(USERS_FILE);
        let mut users = Users::load(&path).unwrap();
        users
            .add(Account {
                username: "new-prosecutor".into(),
                principal: "prosecutor".into(),
                password_hash: hash_password(
                    "Initial-Pass-2024",
                    argon2::Params::new(64, 1, 1, None).unwrap(),
                )
                .unwrap(),
                totp_secret: f.secrets.get("prosecutor").cloned(),
                must_change_password: true,
                client_cert_sha256: None,
            })
            .unwrap();
        users.save(&path).unwrap();
        AppState::open(
            &f.data,
            Limits {
                session_idle: Duration::from_secs(2),
                login_cooldown: Duration::from_secs(3),
                ..Limits::default()
            },
        )
        .unwrap()
    })
    .clone()
}

struct Reply {
    status: StatusCode,
    cookie: Option<String>,
    body: Value,
}

async fn send(mut req: Request<Body>) -> Reply {
    req.extensions_mut()
        .insert(ConnectInfo(SOURCE.parse::<SocketAddr>().unwrap()));
    let res = app(state()).oneshot(req).await.unwrap();
    let status = res.status();
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        cookie,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn login(username: &str, password: &str, totp: &str) -> Reply {
    send(
        Request::post("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"username": username, "password": password, "totp": totp}).to_string(),
            ))
            .unwrap(),
    )
    .await
}

async fn get(cookie: &str, uri: &str) -> Reply {
    send(
        Request::get(uri)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

fn rule(r: &Reply) -> String {
    r.body["errors"][0]["rule"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn code(user: &str, step_offset: i64) -> String {
    let secret = &fixture().secrets[user];
    let at = (now() as i64 + step_offset * 30) as u64;
    xiezhi_server::totp::code(secret, at).unwrap()
}

/// The authentication entries of the ledger: (username, event, outcome, reason, source).
fn auth_entries() -> Vec<(String, String, String, String, String)> {
    let store = xiezhi_store::SqliteStore::open(&fixture().data.join("xiezhi.db")).unwrap();
    let n = store.ledger_len().unwrap();
    store
        .ledger_entries(0, n)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "authentication")
        .map(|e| {
            let v: Value = serde_json::from_str(&e.body).unwrap();
            let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
            (
                s("username"),
                s("event"),
                s("outcome"),
                s("reason"),
                s("source"),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_totp_code_works_once_and_a_wrong_one_not_at_all() {
    let c = code("supervisor", 0);
    let first = login("supervisor", PASSWORD, &c).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let again = login("supervisor", PASSWORD, &c).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(rule(&again), "totp_replayed");
    // A code from a minute ago is outside the ±1 step window; a right code with a wrong
    // password is still a wrong login.
    let old = login("supervisor", PASSWORD, &code("supervisor", -2)).await;
    assert_eq!(rule(&old), "totp_wrong");
    let wrong_pw = login("supervisor", "nope", &code("supervisor", 1)).await;
    assert_eq!(rule(&wrong_pw), "login_failed");
    let entries = auth_entries();
    assert!(entries
        .iter()
        .any(|e| e.0 == "supervisor" && e.1 == "login" && e.2 == "success" && e.4 == SOURCE));
    assert!(entries
        .iter()
        .any(|e| e.0 == "supervisor" && e.2 == "failed" && e.3 == "totp_replayed"));
}

#[tokio::test]
async fn repeated_failures_lock_the_name_until_the_cool_down_ends() {
    for _ in 0..xiezhi_server::auth::LOGIN_FAILURES {
        let r = login("locked-out", PASSWORD, "000000").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = login("locked-out", PASSWORD, &code("locked-out", 0)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("已锁定"));
    assert!(auth_entries()
        .iter()
        .any(|e| e.0 == "locked-out" && e.1 == "lockout"));
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let r = login("locked-out", PASSWORD, &code("locked-out", 0)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn idle_and_forged_sessions_are_refused() {
    let r = login("judge", PASSWORD, &code("judge", 0)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cookie = r.cookie.unwrap();
    assert!(!cookie.is_empty());
    assert_eq!(get(&cookie, "/api/v1/session").await.status, StatusCode::OK);
    let forged = get(
        "xz_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "/api/v1/session",
    )
    .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let idle = get(&cookie, "/api/v1/session").await;
    assert_eq!(idle.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_initial_password_must_be_changed_before_anything_else() {
    // new-prosecutor shares the prosecutor's secret: use a step no other test takes.
    let r = login(
        "new-prosecutor",
        "Initial-Pass-2024",
        &code("prosecutor", 0),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["must_change_password"], true);
    let cookie = r.cookie.unwrap();
    let csrf = r.body["csrf_token"].as_str().unwrap().to_string();
    let blocked = get(&cookie, "/api/v1/cases").await;
    assert_eq!(blocked.status, StatusCode::FORBIDDEN);
    assert_eq!(rule(&blocked), "password_change_required");

    let change = |current: &str, new: &str| {
        Request::post("/api/v1/session/password")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, &cookie)
            .header("x-csrf-token", &csrf)
            .body(Body::from(
                json!({"current_password": current, "new_password": new}).to_string(),
            ))
            .unwrap()
    };
    let weak = send(change("Initial-Pass-2024", "short1A")).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(rule(&weak), "password_too_short");
    assert!(weak.body["detail"]
        .as_str()
        .unwrap()
        .contains("至少 12 个字符"));
    let named = send(change("Initial-Pass-2024", "New-Prosecutor-2024")).await;
    assert_eq!(rule(&named), "password_contains_username");
    let wrong = send(change("not-it", "Strong-Pass-2025!")).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let ok = send(change("Initial-Pass-2024", "Strong-Pass-2025!")).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    assert_eq!(get(&cookie, "/api/v1/cases").await.status, StatusCode::OK);
    // Stored: the next login takes the new password and no longer forces a change.
    let users = Users::load(&fixture().data.join(USERS_FILE)).unwrap();
    let a = users.get("new-prosecutor").unwrap();
    assert!(!a.must_change_password);
    assert!(xiezhi_server::auth::verify_password(
        "Strong-Pass-2025!",
        &a.password_hash
    ));
    assert!(auth_entries()
        .iter()
        .any(|e| e.0 == "new-prosecutor" && e.1 == "password_change" && e.2 == "success"));
}
