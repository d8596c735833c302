//! Transfers over HTTP and webhooks to a real department receiver: a local axum server on
//! 127.0.0.1 that checks the `Xiezhi-Signature` header with the platform's public key, fails
//! the first attempts, and dedups by envelope id; the 交换 API and page for the organs.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, Request, StatusCode};
use common::{fixture, next_totp, PASSWORD};
use ed25519_dalek::{SigningKey, VerifyingKey};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use xiezhi_exchange::envelope::WireValue;
use xiezhi_exchange::inbox::{self, Mode};
use xiezhi_exchange::keys::{register, Keyring, Registry};
use xiezhi_exchange::outbox::{self, Draft, RetryPolicy};
use xiezhi_exchange::{OrganKind, TransferKind};
use xiezhi_server::webhook::{self, DeliveryState, PlatformKey, WebhookOptions};
use xiezhi_server::{app, AppState};
use xiezhi_store::Store;

async fn call(req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let res = app(fixture().state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    (
        status,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

async fn login(username: &str) -> (String, String) {
    let _serial = common::login_lock().lock().await;
    let req = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"username": username, "password": PASSWORD, "totp": next_totp(username)})
                .to_string(),
        ))
        .unwrap();
    let res = app(fixture().state.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    let pair = cookie.split(';').next().unwrap().to_string();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap();
    (pair, v["csrf_token"].as_str().unwrap().to_string())
}

async fn get_as(cookie: &str, uri: &str) -> (StatusCode, Vec<u8>) {
    call(
        Request::get(uri)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn put_hook(user: &str, organ: &str, url: &str) -> (StatusCode, Value) {
    let (cookie, csrf) = login(user).await;
    let (status, body) = call(
        Request::put(format!("/api/v1/webhooks/{organ}"))
            .header(header::COOKIE, cookie)
            .header("x-csrf-token", csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "url": url }).to_string()))
            .unwrap(),
    )
    .await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// What the department system's receiver saw.
struct Receiver {
    key: VerifyingKey,
    /// Requests that reach the receiver are failed with 503 until this many have come in.
    fail_first: usize,
    calls: AtomicUsize,
    /// Envelope ids answered 200, in arrival order (duplicates kept).
    accepted: Mutex<Vec<String>>,
    /// Requests whose signature did not verify, with the reason.
    bad: Mutex<Vec<String>>,
}

async fn hook(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let n = r.calls.fetch_add(1, Ordering::SeqCst) + 1;
    let sig = headers
        .get(webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Err(e) = webhook::verify_header(&r.key, sig, &body) {
        r.bad.lock().unwrap().push(e.to_string());
        return StatusCode::UNAUTHORIZED;
    }
    let envelope: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let id = envelope["body"]["id"].as_str().unwrap_or("").to_string();
    let header_id = headers
        .get(webhook::ENVELOPE_HEADER)
        .and_then(|v| v.to_str().ok());
    if header_id != Some(id.as_str()) {
        r.bad
            .lock()
            .unwrap()
            .push(format!("header id {header_id:?} != body id {id}"));
        return StatusCode::BAD_REQUEST;
    }
    if n <= r.fail_first {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    r.accepted.lock().unwrap().push(id);
    StatusCode::OK
}

async fn start_receiver(r: Arc<Receiver>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(r);
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/hook")
}

/// Registers keys for the police and procuratorate organs of the fixture and returns them.
fn organs(state: &AppState) -> (String, String, Keyring) {
    let ga = state.principal("police").unwrap().org_code().to_string();
    let jc = state
        .principal("prosecutor")
        .unwrap()
        .org_code()
        .to_string();
    let mut keys = Keyring::new();
    let mut store = state.store().unwrap();
    for (i, (organ, kind)) in [(&ga, OrganKind::Police), (&jc, OrganKind::Procuratorate)]
        .into_iter()
        .enumerate()
    {
        let key = SigningKey::from_bytes(&[i as u8 + 21; 32]);
        register(
            &mut *store,
            organ,
            organ,
            kind,
            &key.verifying_key().into(),
            "2024-03-01T09:00:00",
        )
        .unwrap();
        keys.insert(organ, key);
    }
    (ga, jc, keys)
}

/// Sends `cases` 提请批准逮捕 from `ga` to `jc` and delivers them into `jc`'s inbox (to be
/// answered by a person); returns the envelope ids.
fn send_transfers(
    state: &AppState,
    keys: &Keyring,
    ga: &str,
    jc: &str,
    cases: &[&str],
) -> Vec<String> {
    let mut store = state.store().unwrap();
    let registry = Registry::load(&*store).unwrap();
    let now = chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let drafts = cases
        .iter()
        .map(|case| {
            let mut d = Draft::new(TransferKind::ArrestRequest, ga, jc, case).document(
                "arrest_request",
                &format!("提捕字〔2024〕{case}号"),
                "提请批准逮捕书。".as_bytes(),
            );
            d.case
                .insert("name".into(), WireValue::Text(format!("{case} 盗窃案")));
            d.case
                .insert("charges".into(), WireValue::Codes(vec!["C264.1".into()]));
            d
        })
        .collect();
    let sent = outbox::send(&mut *store, keys, &registry, drafts, now).unwrap();
    let due = outbox::due(&*store, now, 100).unwrap();
    let (seqs, envs): (Vec<i64>, Vec<_>) = due.into_iter().map(|i| (i.seq, i.envelope)).unzip();
    let outcomes = inbox::receive(&mut *store, keys, &registry, envs, Mode::Manual, now).unwrap();
    outbox::record(
        &mut *store,
        &registry,
        seqs.into_iter().zip(outcomes).collect(),
        &RetryPolicy::default(),
        now,
    )
    .unwrap();
    sent.into_iter().map(|e| e.body.id).collect()
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..400 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn deliveries(organ: &str) -> Vec<webhook::Delivery> {
    let store = fixture().state.store().unwrap();
    webhook::deliveries(&*store, organ).unwrap()
}

fn ledger() -> Vec<xiezhi_store::LedgerRow> {
    let store = fixture().state.store().unwrap();
    store.ledger_entries(0, 1_000_000).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn received_transfers_reach_the_webhook_signed_retried_and_recorded() {
    let f = fixture();
    let (ga, jc, keys) = organs(&f.state);
    let platform = PlatformKey::load_or_create(&f.state.data).unwrap();
    let receiver = Arc::new(Receiver {
        key: platform.public(),
        fail_first: 2,
        calls: AtomicUsize::new(0),
        accepted: Mutex::default(),
        bad: Mutex::default(),
    });
    let url = start_receiver(receiver.clone()).await;

    // Only a system administrator registers a webhook, and only a plain http URL.
    let (status, _) = put_hook("police", &jc, &url).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, p) = put_hook("sysadmin", &jc, "ftp://example/hook").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{p}");
    let (status, p) = put_hook("sysadmin", "NOSUCHORGAN", &url).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{p}");
    let (status, doc) = put_hook("sysadmin", &jc, &url).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["url"], url.as_str());

    // The public key a department system needs, as the API gives it.
    let (cookie, _) = login("prosecutor").await;
    let (status, body) = get_as(&cookie, "/api/v1/webhooks/key").await;
    assert_eq!(status, StatusCode::OK);
    let key_doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(key_doc["kid"], platform.kid.as_str());

    let opts = WebhookOptions {
        poll: Duration::from_millis(50),
        base: Duration::from_millis(100),
        max_wait: Duration::from_millis(400),
        max_attempts: 4,
        queue: 2,
        timeout: Duration::from_secs(5),
    };
    webhook::spawn(f.state.clone(), Arc::new(platform), opts);

    let ids = send_transfers(
        &f.state,
        &keys,
        &ga,
        &jc,
        &["W0000001", "W0000002", "W0000003"],
    );
    wait_for("every delivery to be acknowledged", || {
        let d = deliveries(&jc);
        d.len() == ids.len() && d.iter().all(|d| d.state == DeliveryState::Delivered)
    })
    .await;

    assert!(
        receiver.bad.lock().unwrap().is_empty(),
        "{:?}",
        receiver.bad.lock().unwrap()
    );
    let accepted = receiver.accepted.lock().unwrap().clone();
    let unique: BTreeSet<&String> = accepted.iter().collect();
    assert_eq!(
        unique,
        ids.iter().collect::<BTreeSet<_>>(),
        "each envelope exactly once after dedup"
    );
    // Every POST is an attempt on record: the two 503s and the successes.
    let d = deliveries(&jc);
    let attempts: usize = d.iter().map(|d| d.attempts.len()).sum();
    assert_eq!(attempts, receiver.calls.load(Ordering::SeqCst));
    let failed: Vec<_> = d
        .iter()
        .flat_map(|d| &d.attempts)
        .filter(|a| a.error.is_some())
        .collect();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|a| a.status == Some(503)));
    assert_eq!(
        ledger()
            .iter()
            .filter(|e| e.kind == "webhook_attempt")
            .count(),
        attempts
    );

    // A receiver that is gone: the delivery is retried, then dead-lettered with the reason.
    let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone_url = format!("http://{}/hook", gone.local_addr().unwrap());
    drop(gone);
    let (status, _) = put_hook("sysadmin", &jc, &gone_url).await;
    assert_eq!(status, StatusCode::OK);
    let lost = send_transfers(&f.state, &keys, &ga, &jc, &["W0000004"]);
    wait_for("the dead letter", || {
        deliveries(&jc)
            .iter()
            .any(|d| d.envelope_id == lost[0] && d.state == DeliveryState::Dead)
    })
    .await;
    let dead = deliveries(&jc)
        .into_iter()
        .find(|d| d.envelope_id == lost[0])
        .unwrap();
    assert_eq!(dead.attempts.len(), 4);
    let reason = dead.dead_reason.unwrap();
    assert!(
        reason.contains("4 次推送均失败") && reason.contains("连接失败"),
        "{reason}"
    );
    assert!(ledger()
        .iter()
        .any(|e| e.kind == "webhook_dead_letter" && e.body.contains(&lost[0])));
    // With nothing left pending, the scan's settled mark passes every delivery.
    let last = deliveries(&jc).iter().map(|d| d.cursor).max().unwrap();
    wait_for("the settled mark", || {
        let store = fixture().state.store().unwrap();
        store.workflow_item(webhook::SETTLED_KIND, &jc).unwrap() == Some(last.to_string())
    })
    .await;

    // The organs see the transfers with their Chinese kind, overdue answer and evidence.
    let (status, body) = get_as(&cookie, "/api/v1/transfers").await;
    assert_eq!(status, StatusCode::OK);
    let list: Value = serde_json::from_slice(&body).unwrap();
    let mine: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| ids.contains(&t["id"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(mine.len(), 3);
    for t in &mine {
        assert_eq!(t["kind_zh"], "提请批准逮捕");
        assert_eq!(t["direction"], "in");
        // Sent on 2024-03-01 and unanswered: the 7-day review period is long past.
        assert!(t["days_overdue"].as_i64().unwrap() > 0, "{t}");
        assert!(
            t["deadline_basis"].as_str().unwrap().contains("刑事诉讼法"),
            "{t}"
        );
    }
    let (status, body) = get_as(&cookie, &format!("/api/v1/transfers/{}", ids[0])).await;
    assert_eq!(status, StatusCode::OK);
    let detail: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(detail["signature_valid"], true);
    assert_eq!(detail["webhook"]["state"], "delivered");
    assert!(
        detail["ledger_entries"].as_array().unwrap().len() >= 2,
        "{detail}"
    );
    assert_eq!(detail["receipts"][0]["signature_valid"], true);

    // The police organ sees them as sent; a court that is no party is refused the detail.
    let (police, _) = login("police").await;
    let (_, body) = get_as(&police, "/api/v1/transfers").await;
    let sent: Value = serde_json::from_slice(&body).unwrap();
    assert!(sent["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == ids[0].as_str() && t["direction"] == "out"));
    let (judge, _) = login("judge").await;
    let (status, _) = get_as(&judge, &format!("/api/v1/transfers/{}", ids[0])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The 交换 page of the receiving organ.
    let (status, html) = get_as(&cookie, "/exchange").await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("提请批准逮捕") && html.contains(&ids[0]));
    assert!(html.contains("已超期"));
    let host = gone_url
        .trim_start_matches("http://")
        .trim_end_matches("/hook");
    assert!(
        html.contains(host),
        "webhook status shows the registered URL"
    );
    assert!(html.contains("死信 1 件"), "and the dead letter");
    let (status, html) = get_as(&cookie, &format!("/exchange/{}", ids[0])).await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("签名有效") && html.contains("已推送"),
        "{html}"
    );
}
