//! The API on a real store of a small synthetic province, driven with `oneshot` (no socket):
//! authentication, access decisions with reasons, masking, problem+json errors, pagination,
//! uploads, CSRF, rate limiting, security headers and the OpenAPI document's completeness.

mod common;

use std::path::Path;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{fixture, next_totp, PASSWORD};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use xiezhi_server::app;

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// A problem+json answer with this status; returns it.
    fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(self.content_type(), "application/problem+json");
        let p = self.json();
        assert_eq!(p["status"], status);
        assert!(p["title"].is_string());
        p
    }
}

async fn send(req: Request<Body>) -> Reply {
    let res = app(fixture().state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

fn get(uri: &str) -> axum::http::request::Builder {
    Request::builder().method("GET").uri(uri)
}

/// A session for a user: (cookie header, csrf token).
async fn login(username: &str) -> (String, String) {
    // One session per user for the whole binary: a code is good once, so logins are few.
    static SESSIONS: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, (String, String)>>,
    > = std::sync::OnceLock::new();
    let sessions = SESSIONS.get_or_init(Default::default);
    let _serial = common::login_lock().lock().await;
    if let Some(s) = sessions.lock().unwrap().get(username) {
        return s.clone();
    }
    let r = send(
        Request::builder()
            .method("POST")
            .uri("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"username": username, "password": PASSWORD, "totp": next_totp(username)})
                    .to_string(),
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let cookie = r.headers[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let pair = cookie.split(';').next().unwrap().to_string();
    let session = (pair, r.json()["csrf_token"].as_str().unwrap().to_string());
    sessions
        .lock()
        .unwrap()
        .insert(username.to_string(), session.clone());
    session
}

async fn get_as(cookie: &str, uri: &str) -> Reply {
    send(
        get(uri)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn unauthenticated_calls_are_401_problems() {
    let f = fixture();
    for uri in [
        "/api/v1/cases".to_string(),
        format!("/api/v1/cases/{}", f.case),
        "/api/v1/risks".into(),
        "/api/v1/ledger/checkpoint".into(),
        "/api/v1/quarantine".into(),
    ] {
        let r = send(get(&uri).body(Body::empty()).unwrap()).await;
        let p = r.problem(401);
        assert_eq!(p["type"], "/api/v1/problems/unauthenticated", "{uri}");
    }
    let r = send(
        get("/api/v1/cases")
            .header(header::COOKIE, "xz_session=forged")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    r.problem(401);
    let r = send(
        get("/api/v1/cases")
            .header(header::AUTHORIZATION, "Bearer xzk_not-a-key")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.problem(401)["errors"][0]["rule"], "api_key");
}

#[tokio::test]
async fn police_and_prosecutor_see_the_same_case_masked_differently() {
    let f = fixture();
    let uri = format!("/api/v1/cases/{}", f.case);
    let (police, _) = login("police").await;
    let (prosecutor, _) = login("prosecutor").await;
    let a = get_as(&police, &uri).await;
    let b = get_as(&prosecutor, &uri).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(b.status, StatusCode::OK, "{}", b.text());
    let field = |doc: &Value, entity: &str, name: &str| -> (Value, Value) {
        let s = doc["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["entity"] == entity)
            .unwrap_or_else(|| panic!("no {entity} section"))
            .clone();
        let d = s["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["field"] == name)
            .unwrap()
            .clone();
        (d, s["records"][0][name].clone())
    };
    let (pd, pv) = field(&a.json(), "person", "id_number");
    let (qd, qv) = field(&b.json(), "person", "id_number");
    assert_eq!(pd["action"], "show", "{pd}");
    assert_eq!(qd["action"], "mask", "{qd}");
    assert!(pd["policies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "org-participant"));
    assert!(qd["reason_zh"].as_str().unwrap().contains("L2"));
    let (pv, qv) = (pv.as_str().unwrap(), qv.as_str().unwrap());
    assert_eq!(pv.len(), 18, "{pv}");
    assert!(
        qv.contains('*') && qv != pv && qv[..4] == pv[..4],
        "{qv} vs {pv}"
    );
    assert!(a.json()["decisions_logged"].as_u64().unwrap() > 0);
}

/// The data-request test grants `other-judge` the fixture's case for a while: the tests that
/// rely on `other-judge` having no right to it take turns with it.
static OTHER_JUDGE_RIGHTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn a_case_outside_the_principals_rights_is_403_with_the_reason() {
    let _turn = OTHER_JUDGE_RIGHTS.lock().await;
    let f = fixture();
    let (other, _) = login("other-judge").await;
    let before = f.state.store().unwrap().ledger_len_for_test();
    let r = get_as(&other, &format!("/api/v1/cases/{}", f.case)).await;
    let p = r.problem(403);
    assert!(p["detail"].as_str().unwrap().contains("拒绝"), "{p}");
    assert_eq!(p["access"]["request_hint"]["case_uid"], f.case.as_str());
    assert!(
        f.state.store().unwrap().ledger_len_for_test() > before,
        "denials are logged"
    );
    // And the listing leaves the case out.
    let list = get_as(&other, "/api/v1/cases?limit=200").await.json();
    assert!(!list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["case_uid"] == f.case.as_str()));
    let missing = get_as(&other, "/api/v1/cases/C99999999").await;
    missing.problem(404);
}

trait LedgerLen {
    fn ledger_len_for_test(&self) -> i64;
}

impl LedgerLen for xiezhi_store::AnyStore {
    fn ledger_len_for_test(&self) -> i64 {
        xiezhi_store::Store::ledger_len(self).unwrap()
    }
}

#[tokio::test]
async fn bad_bodies_are_problem_4xx_naming_field_and_rule() {
    let post = |ct: &str, body: &str| {
        Request::builder()
            .method("POST")
            .uri("/api/v1/session")
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let p = send(post("application/json", "{\"username\": "))
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["rule"], "syntax");
    let p = send(post(
        "application/json",
        &json!({"username": "police", "password": "x", "role": "admin"}).to_string(),
    ))
    .await
    .problem(422);
    assert_eq!(p["errors"][0]["rule"], "unknown_field");
    assert_eq!(p["errors"][0]["field"], "role");
    let p = send(post("application/json", "{\"username\": \"police\"}"))
        .await
        .problem(422);
    assert_eq!(p["errors"][0]["rule"], "missing_field");
    assert_eq!(p["errors"][0]["field"], "password");
    let p = send(post("text/plain", "username=police"))
        .await
        .problem(415);
    assert_eq!(p["errors"][0]["field"], "Content-Type");
    let huge = format!(
        "{{\"username\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(100_000)
    );
    let p = send(post("application/json", &huge)).await.problem(413);
    assert_eq!(p["errors"][0]["rule"], "max_bytes");

    let (steward, csrf) = login("steward").await;
    let big = vec![b'x'; 65 * 1024];
    let r = send(
        Request::builder()
            .method("POST")
            .uri("/api/v1/ingest?source=justice")
            .header(header::COOKIE, &steward)
            .header("x-csrf-token", &csrf)
            .body(Body::from(big))
            .unwrap(),
    )
    .await;
    assert_eq!(r.problem(413)["errors"][0]["field"], "file");

    let (police, _) = login("police").await;
    let p = get_as(&police, "/api/v1/cases?colour=red")
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["rule"], "unknown_field");
    assert_eq!(p["errors"][0]["field"], "colour");
    let p = get_as(&police, "/api/v1/cases?limit=0").await.problem(400);
    assert_eq!(p["errors"][0]["field"], "limit");
    let p = get_as(&police, "/api/v1/cases?cursor=%%%")
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "cursor");
    send(get("/api/v1/nothing-here").body(Body::empty()).unwrap())
        .await
        .problem(404);
    let r = send(
        Request::builder()
            .method("PUT")
            .uri("/api/v1/cases")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    r.problem(405);
}

#[tokio::test]
async fn a_bad_export_is_quarantined_with_reasons() {
    let f = fixture();
    let original = std::fs::read_to_string(f.export.join("justice/corrections.csv")).unwrap();
    let mut lines: Vec<String> = original.lines().take(4).map(str::to_string).collect();
    // Second record: an ID number that fails the GB 11643 check.
    let mut cols: Vec<String> = lines[2].split(',').map(str::to_string).collect();
    cols[1] = "52010219990101123".into();
    lines[2] = cols.join(",");
    let body = lines.join("\n") + "\n";
    let (steward, csrf) = login("steward").await;
    let upload = |cookie: &str, csrf: &str| {
        Request::builder()
            .method("POST")
            .uri("/api/v1/ingest?source=justice&file=bad.csv")
            .header(header::COOKIE, cookie)
            .header("x-csrf-token", csrf)
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(body.clone()))
            .unwrap()
    };
    // Without the session's CSRF token the upload is refused.
    let p = send(upload(&steward, "wrong")).await.problem(403);
    assert_eq!(p["errors"][0]["rule"], "csrf");
    let r = send(upload(&steward, &csrf)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    let counts = &v["report"]["counts"];
    assert_eq!(counts["records_read"], 3);
    assert_eq!(
        counts["accepted"].as_i64().unwrap() + counts["quarantined"].as_i64().unwrap(),
        3
    );
    let q = v["quarantined"].as_array().unwrap();
    assert!(!q.is_empty(), "{v}");
    let bad = q
        .iter()
        .find(|e| e["line"] == 3)
        .expect("line 3 quarantined");
    assert!(bad["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["field"].as_str().unwrap().contains("id_number")));
    // The quarantine lists it; a case handler may not see the quarantine.
    let list = get_as(&steward, "/api/v1/quarantine?limit=200")
        .await
        .json();
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == bad["id"]));
    let one = get_as(&steward, &format!("/api/v1/quarantine/{}", bad["id"])).await;
    assert_eq!(one.json()["line"], 3);
    let (police, police_csrf) = login("police").await;
    get_as(&police, "/api/v1/quarantine").await.problem(403);
    let r = send(upload(&police, &police_csrf)).await;
    r.problem(403);
    // A source without a mapping names the field.
    let r = send(
        Request::builder()
            .method("POST")
            .uri("/api/v1/ingest?source=nowhere")
            .header(header::COOKIE, &steward)
            .header("x-csrf-token", &csrf)
            .body(Body::from("a,b\n"))
            .unwrap(),
    )
    .await;
    assert_eq!(r.problem(400)["errors"][0]["field"], "source");
}

/// The uids of every page of `/api/v1/cases` walked with `limit`, and the number of pages.
async fn walk(auth: (&str, &str), limit: usize) -> (Vec<String>, usize) {
    let mut uids = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let r = send(
            get(&format!("/api/v1/cases?limit={limit}&cursor={cursor}"))
                .header(auth.0, auth.1)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        pages += 1;
        let items = v["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        uids.extend(
            items
                .iter()
                .map(|c| c["case_uid"].as_str().unwrap().to_string()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    (uids, pages)
}

#[tokio::test]
async fn lists_page_by_cursor() {
    let f = fixture();
    let key = format!("Bearer {}", f.api_key);
    let (judge, _) = login("judge").await;
    let mut paged_somewhere = false;
    for auth in [
        (header::AUTHORIZATION.as_str(), key.as_str()),
        ("cookie", judge.as_str()),
    ] {
        let (all, _) = walk(auth, 200).await;
        let (paged, pages) = walk(auth, 1).await;
        assert!(!all.is_empty(), "{auth:?} sees its own cases");
        assert_eq!(paged, all, "pages of one concatenate to the whole list");
        assert!(
            all.windows(2).all(|w| w[0] < w[1]),
            "in uid order, no repeats"
        );
        paged_somewhere |= pages >= 2;
    }
    assert!(paged_somewhere);
}

#[tokio::test]
async fn login_is_rate_limited() {
    let bad = || {
        Request::builder()
            .method("POST")
            .uri("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"username": "locked-out", "password": "wrong"}).to_string(),
            ))
            .unwrap()
    };
    for _ in 0..xiezhi_server::auth::LOGIN_FAILURES {
        send(bad()).await.problem(401);
    }
    let r = send(bad()).await;
    r.problem(429);
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    // Even the right password waits out the lockout.
    let r = send(
        Request::builder()
            .method("POST")
            .uri("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"username": "locked-out", "password": PASSWORD}).to_string(),
            ))
            .unwrap(),
    )
    .await;
    r.problem(429);
}

#[tokio::test]
async fn pages_need_a_session_and_send_security_headers() {
    let f = fixture();
    let r = send(get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/login");
    let r = send(get("/login").body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK);
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert!(!r.text().contains("<script>"), "no inline script");
    // The form's token is also a pre-session cookie; without it the login is refused.
    let login_cookie = r.headers[header::SET_COOKIE].to_str().unwrap();
    let login_cookie = login_cookie.split(';').next().unwrap().to_string();
    let token = login_cookie.split_once('=').unwrap().1.to_string();
    assert!(r.text().contains(&token));
    let form = |cookie: Option<&str>| {
        let mut b = Request::builder()
            .method("POST")
            .uri("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        b.body(Body::from(format!(
            "username=judge&password={}&totp={}&csrf={token}",
            PASSWORD.replace(' ', "+").replace('马', "%E9%A9%AC"),
            next_totp("judge")
        )))
        .unwrap()
    };
    let r = send(form(None)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("xz_session=")));
    let r = send(form(Some(&login_cookie))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let cookie = r.headers[header::SET_COOKIE].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap();
    let page = get_as(cookie, &format!("/cases/{}", f.case)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(html.contains("跨部门时间线") && html.contains(&f.case));
    for path in [
        "/",
        "/cases",
        "/supervise",
        "/sharing",
        "/audit",
        "/governance",
    ] {
        let r = get_as(cookie, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
    }
    let js = send(get("/static/htmx.min.js").body(Body::empty()).unwrap()).await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.content_type(), "text/javascript");
}

/// The routes of `api::routes`, read from its source: (method, path).
fn routed() -> Vec<(String, String)> {
    let src =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api.rs")).unwrap();
    let mut out = Vec::new();
    for line in src
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with(".route(\""))
    {
        let path = line[8..].split('"').next().unwrap().to_string();
        for m in ["get", "post", "put", "patch", "delete"] {
            if [" ", ".", "("]
                .iter()
                .any(|pre| line.contains(&format!("{pre}{m}(")))
            {
                out.push((m.to_string(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_route_is_in_the_openapi_document_and_back() {
    let r = send(get("/api/v1/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let routes = routed();
    assert!(routes.len() >= 15, "{routes:?}");
    for (method, path) in &routes {
        assert!(
            doc["paths"][path][method].is_object(),
            "route {method} {path} is missing from the OpenAPI document"
        );
    }
    let paths = doc["paths"].as_object().unwrap();
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            assert!(
                routes.iter().any(|(m, p)| m == method && p == path),
                "documented {method} {path} is not routed"
            );
        }
    }
    // Every documented error is a Problem.
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

#[tokio::test]
async fn risks_ledger_and_stats_answer_for_a_session() {
    let f = fixture();
    let (judge, _) = login("judge").await;
    let risks = get_as(&judge, "/api/v1/risks?limit=5").await;
    assert_eq!(risks.status, StatusCode::OK, "{}", risks.text());
    for item in risks.json()["items"].as_array().unwrap() {
        assert!(item["basis"].as_str().unwrap().starts_with('《'));
        assert!(!item["facts_used"].as_array().unwrap().is_empty());
    }
    let cp = get_as(&judge, "/api/v1/ledger/checkpoint").await.json();
    assert!(cp["size"].as_u64().unwrap() > 0);
    let proof = get_as(
        &judge,
        &format!("/api/v1/ledger/proof?entity=case&uid={}", f.case),
    )
    .await;
    assert_eq!(proof.status, StatusCode::OK, "{}", proof.text());
    assert_eq!(proof.json()["verified"], true);
    let p = get_as(&judge, "/api/v1/ledger/proof").await.problem(400);
    assert_eq!(p["errors"][0]["field"], "seq");
    let stats = get_as(&judge, "/api/v1/stats").await.json();
    assert!(stats["cases"].as_i64().unwrap() >= 25, "{stats}");
    let me = get_as(&judge, "/api/v1/session").await.json();
    assert_eq!(me["principal"], "judge");
}

async fn post_as(auth: &(String, String), uri: &str, body: Value) -> Reply {
    send(
        Request::builder()
            .method("POST")
            .uri(uri)
            .header(header::COOKIE, &auth.0)
            .header("x-csrf-token", &auth.1)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_risk_is_worked_from_warning_to_closure_and_each_step_is_checked() {
    let _ = fixture();
    let sup = login("supervisor").await;
    let police = login("police").await;
    // Only supervisors run the rules.
    post_as(&police, "/api/v1/risks/run", json!({}))
        .await
        .problem(403);
    let run = post_as(&sup, "/api/v1/risks/run", json!({"as_of": "2030-01-01"})).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text());
    assert!(run.json()["cases_evaluated"].as_u64().unwrap() > 0);
    let list = get_as(&sup.0, "/api/v1/risks?status=warned&limit=50")
        .await
        .json();
    let items = list["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{list}");
    let item = &items[0];
    let id = item["id"].as_str().unwrap().to_string();
    assert!(item["basis"].as_str().unwrap().starts_with('《'));
    assert_eq!(item["history"][0]["action"], "detected");
    let act = |body: Value| {
        let uri = format!("/api/v1/risks/{id}/actions");
        let auth = sup.clone();
        async move { post_as(&auth, &uri, body).await }
    };
    // Out of order, unknown, or without a reason: refused, naming the field.
    let p = act(json!({"action": "close", "note": "x"}))
        .await
        .problem(409);
    assert!(
        p["detail"].as_str().unwrap_or_default().contains("预警")
            || p["title"].as_str().unwrap().contains("预警"),
        "{p}"
    );
    let p = act(json!({"action": "approve"})).await.problem(400);
    assert_eq!(p["errors"][0]["field"], "action");
    let p = act(json!({"action": "verify", "confirmed": true, "note": " "}))
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "note");
    // 核查 is the supervisor's: a case handler of another organ is refused or cannot see it.
    let other = post_as(
        &police,
        &format!("/api/v1/risks/{id}/actions"),
        json!({"action": "verify", "confirmed": true, "note": "属实"}),
    )
    .await;
    assert!(
        matches!(other.status.as_u16(), 403 | 404),
        "{}",
        other.text()
    );
    for (body, status) in [
        (
            json!({"action": "verify", "confirmed": true, "note": "调阅卷宗，属实"}),
            "confirmed",
        ),
        (json!({"action": "rectify", "note": "已整改"}), "rectified"),
        (json!({"action": "close", "note": "整改到位"}), "closed"),
    ] {
        let r = act(body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["status"], status);
    }
    let done = get_as(&sup.0, &format!("/api/v1/risks?id={id}"))
        .await
        .json();
    let steps: Vec<&str> = done["items"][0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["detected", "confirmed", "rectified", "closed"]);
}

/// A data request walked through the API: the deny turns into a grant and back into a deny on
/// revocation; wrong actors, wrong order and bad values are refused naming what is wrong; every
/// step is a ledger entry; the console form takes the same steps.
#[tokio::test]
async fn a_data_request_is_reviewed_granted_and_revoked_with_each_step_checked() {
    let _turn = OTHER_JUDGE_RIGHTS.lock().await;
    let f = fixture();
    let asker = login("other-judge").await;
    let owner = login("owner-steward").await;
    let police = login("police").await;
    let case_uri = format!("/api/v1/cases/{}", f.case);
    get_as(&asker.0, &case_uri).await.problem(403);
    let filed = post_as(
        &asker,
        "/api/v1/requests",
        json!({"case_uid": f.case, "scope": ["person.name", "case"], "purpose": "审查关联案件"}),
    )
    .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text());
    let id = filed.json()["id"].as_str().unwrap().to_string();
    let uri = format!("/api/v1/requests/{id}/actions");
    let ledger = || f.state.store().unwrap().ledger_len_for_test();

    // Not the owner organ's leader or steward; out of order; unknown step; missing field.
    let p = post_as(
        &police,
        &uri,
        json!({"action": "review", "approve": true, "reason": "同意"}),
    )
    .await
    .problem(403);
    assert!(p["detail"].as_str().unwrap().contains("审核"), "{p}");
    post_as(
        &owner,
        &uri,
        json!({"action": "grant", "expires": "2099-01-01"}),
    )
    .await
    .problem(409);
    let p = post_as(&owner, &uri, json!({"action": "approve"}))
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "action");
    let p = post_as(&owner, &uri, json!({"action": "review", "reason": "同意"}))
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "approve");

    let before = ledger();
    let r = post_as(
        &owner,
        &uri,
        json!({"action": "review", "approve": true, "reason": "用途正当"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["state"], "approved");
    // Other tests share the store, so look for the entry rather than count.
    let entries = {
        let store = f.state.store().unwrap();
        xiezhi_store::Store::ledger_entries(&*store, before, 10_000).unwrap()
    };
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.body.contains("\"request_reviewed\"") && e.body.contains(&id))
            .count(),
        1,
        "the review is one ledger entry"
    );

    let p = post_as(
        &owner,
        &uri,
        json!({"action": "grant", "expires": "2001-01-01"}),
    )
    .await
    .problem(400);
    assert_eq!(p["errors"][0]["field"], "expires");
    let p = post_as(
        &owner,
        &uri,
        json!({"action": "grant", "expires": "2099-01-01", "scope": ["document"]}),
    )
    .await
    .problem(400);
    assert_eq!(p["errors"][0]["field"], "scope");
    let r = post_as(
        &owner,
        &uri,
        json!({"action": "grant", "expires": "2099-01-01", "scope": ["case", "person.name"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["state"], "granted");

    // The grant takes effect at once: the case opens, with the granted field.
    let read = get_as(&asker.0, &case_uri).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text());

    // The console offers the requester the next steps, and its form records a use.
    let page = get_as(&asker.0, "/sharing").await.text();
    assert!(
        page.contains(&format!("id=\"req-{id}\"")) && page.contains("登记使用"),
        "{page}"
    );
    let form = send(
        Request::builder()
            .method("POST")
            .uri(format!("/sharing/{id}"))
            .header(header::COOKIE, &asker.0)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "csrf={}&action=use&detail=%E6%A0%B8%E5%AF%B9%E5%A7%93%E5%90%8D",
                asker.1
            )))
            .unwrap(),
    )
    .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER, "{}", form.text());
    let listed = get_as(&asker.0, "/api/v1/requests").await.json();
    let mine = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(mine["uses"][0]["detail"], "核对姓名");

    // Revoked by the owner: the case closes again.
    let r = post_as(
        &owner,
        &uri,
        json!({"action": "revoke", "reason": "用途已完成"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["state"], "revoked");
    get_as(&asker.0, &case_uri).await.problem(403);
    post_as(&asker, &uri, json!({"action": "use", "detail": "再查"}))
        .await
        .problem(409);
}

/// 三员分立 over HTTP: each administrator reaches only their own endpoints; every attempt,
/// permitted or denied, is an `admin` ledger entry with principal, role, source address,
/// action, target and outcome; case handlers reach none of them; no administrator reads a case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_administrator_is_refused_the_others_duties_and_every_attempt_is_logged() {
    use xiezhi_store::Store;
    let endpoints: [(&str, &str, &str); 7] = [
        ("GET", "/api/v1/admin/users", "sysadmin"),
        ("GET", "/api/v1/admin/status", "sysadmin"),
        ("GET", "/api/v1/admin/policies", "secadmin"),
        ("GET", "/api/v1/admin/keys", "secadmin"),
        ("POST", "/api/v1/admin/users/police/unlock", "secadmin"),
        ("GET", "/api/v1/admin/audit?limit=5", "auditor"),
        ("POST", "/api/v1/admin/ledger/verify", "auditor"),
    ];
    let ledger_before = fixture().state.store().unwrap().ledger_len().unwrap();
    let mut expected_denials = 0;
    for who in ["sysadmin", "secadmin", "auditor", "police"] {
        let (cookie, csrf) = login(who).await;
        for (method, uri, duty) in endpoints {
            let r = send(
                Request::builder()
                    .method(method)
                    .uri(uri)
                    .header(header::COOKIE, &cookie)
                    .header("x-csrf-token", &csrf)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            if who == duty {
                assert_eq!(r.status, StatusCode::OK, "{who} {uri}: {}", r.text());
                assert!(r.json()["decision"].as_str().unwrap().starts_with("允许"));
            } else {
                let p = r.problem(403);
                let detail = p["detail"].as_str().unwrap_or_default();
                assert!(detail.contains("拒绝"), "{who} {uri}: {detail}");
                expected_denials += 1;
            }
        }
        // No administrator reads case data (restrictions.cedar, admin-separation).
        if who != "police" {
            let r = send(
                get(&format!("/api/v1/cases/{}", fixture().case))
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{who} read a case: {}",
                r.text()
            );
        }
    }
    // What the admin endpoints answered is in the ledger, one entry per attempt.
    let store = fixture().state.store().unwrap();
    let entries = store.ledger_entries(ledger_before, 100_000).unwrap();
    let admin: Vec<Value> = entries
        .iter()
        .filter(|e| e.kind == "admin")
        .map(|e| serde_json::from_str(&e.body).unwrap())
        .collect();
    assert!(
        admin.len() >= endpoints.len() * 4,
        "{} admin entries",
        admin.len()
    );
    let denied = admin.iter().filter(|a| a["outcome"] == "denied").count();
    assert!(denied >= expected_denials, "{denied} < {expected_denials}");
    let one = admin
        .iter()
        .find(|a| a["principal"] == "sysadmin" && a["action"] == "audit.read")
        .expect("the system administrator's attempt to read the audit log is logged");
    assert_eq!(one["outcome"], "denied");
    assert_eq!(one["role"], "sysadmin");
    assert!(one["source"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(one["at"].is_string());
}

#[tokio::test]
async fn a_correction_file_is_read_through_the_policy_and_only_its_organ_records_acts() {
    let f = fixture();
    let case = &f.corrections_case;
    let officer = login("corrections").await;
    let doc = get_as(&officer.0, &format!("/api/v1/corrections/{case}")).await;
    assert_eq!(doc.status, StatusCode::OK, "{}", doc.text());
    let doc = doc.json();
    assert!(!doc["subjects"].as_array().unwrap().is_empty(), "{doc}");
    assert!(!doc["fences"].as_array().unwrap().is_empty(), "{doc}");
    let acts = doc["acts"].as_array().unwrap().len();

    // Another organ's officer may not record the executing organ's acts.
    let police = login("police").await;
    let r = post_as(
        &police,
        &format!("/api/v1/corrections/{case}/acts"),
        serde_json::json!({"kind": "visit"}),
    )
    .await;
    assert!(r.status == StatusCode::FORBIDDEN, "{}", r.text());
    let p = post_as(
        &officer,
        &format!("/api/v1/corrections/{case}/acts"),
        serde_json::json!({"kind": "coffee"}),
    )
    .await
    .problem(400);
    assert_eq!(p["errors"][0]["field"], "kind");

    let ok = post_as(
        &officer,
        &format!("/api/v1/corrections/{case}/acts"),
        serde_json::json!({"kind": "check_in", "note": "电话报告"}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let counts = &ok.json()["report"]["counts"];
    assert_eq!(counts["accepted"], 1, "{counts}");
    let after = get_as(&officer.0, &format!("/api/v1/corrections/{case}"))
        .await
        .json();
    assert_eq!(after["acts"].as_array().unwrap().len(), acts + 1);

    // A petition received and not yet accepted, from the petition system: the board shows
    // its acceptance deadline (15 days, 信访工作条例 第23条), deadlines only, soonest first.
    // The worklist knows the corrections case's leave overrun; a petition naming that case
    // is linked to it on the board.
    let court_case_no = {
        let as_of = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
        let calendar = xiezhi_supervise::DataCalendar::shipped().unwrap();
        let mut store = f.state.store().unwrap();
        let findings = xiezhi_supervise::engine::evaluate_all(&*store, as_of, &calendar).unwrap();
        xiezhi_supervise::lifecycle::sync(&mut *store, &findings, as_of, false).unwrap();
        use xiezhi_store::Store;
        let row = store
            .get(xiezhi_standard::Entity::Case, case)
            .unwrap()
            .unwrap();
        row.record.text("court_case_no").unwrap().to_string()
    };
    let today = chrono::Local::now().date_naive();
    let linked = serde_json::json!({
        "xfjbh": "XF-TEST-2", "djrq": today.to_string(), "xfxs": "信息网络", "xflb": "申诉求决类",
        "szd": "520102", "nr": "反映社区矫正监管问题", "ah": court_case_no,
        "xfr": {"xm": "李四", "zjhm": "11010519491231002X"},
        "cbjg": "SF52000001", "slrq": null, "ycts": null, "dfrq": null, "fcqqrq": null,
        "fcyjrq": null, "fhqqrq": null, "fhyjrq": null
    })
    .to_string();
    let line = serde_json::json!({
        "xfjbh": "XF-TEST-1", "djrq": today.to_string(), "xfxs": "走访", "xflb": "申诉求决类",
        "szd": f.state.principal("judge").unwrap().org_code()[2..8].to_string(),
        "nr": "请求复查", "ah": null, "xfr": {"xm": "张三", "zjhm": "11010519491231002X"},
        "cbjg": "SF52000001", "slrq": null, "ycts": null, "dfrq": null, "fcqqrq": null,
        "fcyjrq": null, "fhqqrq": null, "fhyjrq": null
    })
    .to_string();
    let (steward, csrf) = login("steward").await;
    let r = send(
        Request::builder()
            .method("POST")
            .uri("/api/v1/ingest?source=petitions&file=one.jsonl")
            .header(header::COOKIE, &steward)
            .header("x-csrf-token", &csrf)
            .header(header::CONTENT_TYPE, "application/x-ndjson")
            .body(Body::from(line + "\n" + &linked + "\n"))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["report"]["counts"]["accepted"], 2, "{}", r.text());
    let supervisor = login("supervisor").await;
    let board = get_as(&supervisor.0, "/api/v1/petitions/deadlines").await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.text());
    let rows = board.json();
    let rows = rows.as_array().unwrap();
    let mine = rows
        .iter()
        .find(|r| r["petition_no"] == "XF-TEST-1")
        .expect("the new petition is on the board");
    assert_eq!(mine["stage_zh"], "受理告知");
    let about_case = rows
        .iter()
        .find(|r| r["petition_no"] == "XF-TEST-2")
        .unwrap();
    assert_eq!(about_case["case_uid"], case.as_str());
    let risks = about_case["case_open_risks"].as_array().unwrap();
    assert!(
        risks
            .iter()
            .any(|r| r.as_str().unwrap().contains("请假外出逾期未归")),
        "{about_case}"
    );
    assert!(
        (14..=25).contains(&mine["days_left"].as_i64().unwrap()),
        "{mine}"
    );
    for pair in rows.windows(2) {
        assert!(pair[0]["days_left"].as_i64() <= pair[1]["days_left"].as_i64());
    }
    assert!(rows
        .iter()
        .all(|r| r["basis"].as_str().unwrap().contains("信访工作条例")));
    assert!(rows.iter().all(|r| r.get("content").is_none()));
    let spots = get_as(&supervisor.0, "/api/v1/hotspots").await;
    assert_eq!(spots.status, StatusCode::OK, "{}", spots.text());

    // 评查 is the reviewers' duty: a case handler is refused with the reason.
    let p = get_as(&officer.0, "/api/v1/reviews").await.problem(403);
    assert!(
        p["detail"].as_str().unwrap_or_default().contains("评查")
            || p["title"].as_str().unwrap().contains("评查"),
        "{p}"
    );
}

/// The gathered-case cache: a repeated read is served from it and answers exactly what the
/// uncached document says; a write to the case by another connection to the store (another
/// process, such as `xiezhi ingest`) is in the very next read; the read is logged every time.
#[tokio::test]
async fn a_write_to_a_cached_case_is_in_the_next_read() {
    use xiezhi_standard::{Entity, Record};
    use xiezhi_store::{Batch, EntityRow, NewRun, Outcome, SourceRecordRow, Store};
    let f = fixture();
    // The supervisor reads the procedural data of every case of the province; a case no
    // other test reads or writes.
    let supervisor = f.state.principal("supervisor").unwrap().clone();
    let case = (1..=30)
        .map(|n| format!("C{n:08}"))
        .find(|c| *c != f.case && *c != f.corrections_case)
        .unwrap();
    let (cookie, _) = login("supervisor").await;
    let uri = format!("/api/v1/cases/{case}");
    let events = |doc: &Value| {
        doc["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["entity"] == "event")
            .map_or(0, |s| s["records"].as_array().unwrap().len())
    };

    let first = get_as(&cookie, &uri).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let hits = f.state.cases.stats().hits;
    let ledger = f.state.store().unwrap().ledger_len_for_test();
    let second = get_as(&cookie, &uri).await;
    assert_eq!(
        f.state.cases.stats().hits,
        hits + 1,
        "served from the cache"
    );
    assert_eq!(second.body, first.body);
    assert!(
        f.state.store().unwrap().ledger_len_for_test() > ledger,
        "a read from the cache is logged too"
    );
    // The same document as the uncached path's, field for field.
    let doc = xiezhi_server::api::read_case_for(&f.state, &supervisor, &case).unwrap();
    assert_eq!(second.json(), serde_json::to_value(&doc).unwrap());

    // Another connection writes a new event of the case, with its `records_written` entry.
    let mut writer = xiezhi_store::open::open(f.state.location(), Some(&f.data)).unwrap();
    let run = writer
        .begin_run(&NewRun {
            kind: "ingest".into(),
            source: "police".into(),
            file: "police/cases.csv".into(),
            mapping: "police.toml".into(),
            started_at: "2026-01-01T00:00:00".into(),
        })
        .unwrap();
    let id = writer.next_ids().unwrap().source_record + 1;
    let mut event = Record::new(Entity::Event);
    event
        .set("note", xiezhi_standard::Value::Text("缓存失效测试".into()))
        .unwrap();
    writer
        .write_batch(
            run,
            &Batch {
                source_records: vec![SourceRecordRow {
                    id,
                    source: "police".into(),
                    file: "police/cases.csv".into(),
                    record_no: id,
                    line: id + 1,
                    sha256: format!("{id:064x}"),
                    outcome: Outcome::Accepted,
                }],
                entities: vec![EntityRow {
                    uid: "EV-CACHE-API".into(),
                    case_uid: Some(case.clone()),
                    person_uid: None,
                    record: event,
                    source_record_id: id,
                }],
                ..Batch::default()
            },
        )
        .unwrap();
    drop(writer);

    let third = get_as(&cookie, &uri).await;
    assert_eq!(third.status, StatusCode::OK, "{}", third.text());
    assert_eq!(events(&third.json()), events(&first.json()) + 1);
    let doc = xiezhi_server::api::read_case_for(&f.state, &supervisor, &case).unwrap();
    assert_eq!(third.json(), serde_json::to_value(&doc).unwrap());
}
