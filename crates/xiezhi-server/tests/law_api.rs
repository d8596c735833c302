//! The law navigator over the API and the console: charge, article and explained path as of a
//! date, each node naming its source, every query in the ledger, and the `/law` page.

mod common;

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{fixture, next_totp, PASSWORD};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use xiezhi_server::app;
use xiezhi_store::Store;

/// The reference texts are not part of the repository; without them there is nothing to test.
fn have_texts() -> bool {
    let ok = xiezhi_graph::default_reference_dir().join("laws").exists();
    if !ok {
        eprintln!("reference texts not found: skipped");
    }
    ok
}

/// Percent-encodes the non-ASCII and reserved bytes of a query value or path segment.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn raw(cookie: Option<&str>, uri: &str) -> (StatusCode, String) {
    let mut b = Request::builder().method("GET").uri(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    let res = app(fixture().state.clone())
        .oneshot(b.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn get_json(cookie: Option<&str>, uri: &str) -> (StatusCode, Value) {
    let (s, body) = raw(cookie, uri).await;
    let v = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    (s, v)
}

async fn login(username: &str) -> String {
    static SESSIONS: OnceLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
        OnceLock::new();
    let sessions = SESSIONS.get_or_init(Default::default);
    let _serial = common::login_lock().lock().await;
    if let Some(c) = sessions.lock().unwrap().get(username) {
        return c.clone();
    }
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"username": username, "password": PASSWORD, "totp": next_totp(username)})
                .to_string(),
        ))
        .unwrap();
    let res = app(fixture().state.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    sessions
        .lock()
        .unwrap()
        .insert(username.to_string(), cookie.clone());
    cookie
}

/// The `law_query` ledger entries written since `from`.
fn law_entries(from: i64) -> Vec<Value> {
    let store = fixture().state.store().unwrap();
    let to = store.ledger_len().unwrap();
    store
        .ledger_entries_of_kind("law_query", from, to)
        .unwrap()
        .into_iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

fn ledger_len() -> i64 {
    fixture().state.store().unwrap().ledger_len().unwrap()
}

#[tokio::test]
async fn a_charge_shows_its_article_thresholds_and_guideline_and_is_ledgered() {
    if !have_texts() {
        return;
    }
    let cookie = login("police").await;
    let before = ledger_len();
    let uri = format!("/api/v1/law/charges/{}?date=2023-05-01", enc("盗窃罪"));
    let (status, doc) = get_json(Some(&cookie), &uri).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["node"]["kind"], "罪名");
    assert!(doc["node"]["label"]
        .as_str()
        .unwrap()
        .contains("第二百六十四条"));
    let neighbours = doc["neighbours"].as_array().unwrap();
    let of = |k: &str| neighbours.iter().filter(|n| n["node"]["kind"] == k).count();
    assert_eq!(of("条文"), 1);
    assert_eq!(of("数额标准"), 3);
    assert_eq!(of("量刑起点"), 3);
    assert!(of("量刑情节") >= 10);
    for n in neighbours {
        assert!(!n["node"]["file"].as_str().unwrap().is_empty(), "{n}");
        assert!(!n["node"]["article"].as_str().unwrap().is_empty(), "{n}");
        assert!(!n["relation"].as_str().unwrap().is_empty());
    }
    let entries = law_entries(before);
    assert!(
        entries
            .iter()
            .any(|e| e["principal"] == "police" && e["query"].as_str().unwrap().contains("盗窃罪")),
        "{entries:?}"
    );
    // A name not in force on the date is a 404, and is ledgered too.
    let before = ledger_len();
    let uri = format!(
        "/api/v1/law/charges/{}?date=2020-12-31",
        enc("妨害安全驾驶罪")
    );
    let (status, _) = get_json(Some(&cookie), &uri).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(law_entries(before).iter().any(|e| e["found"] == false));
    let (status, p) = get_json(Some(&cookie), "/api/v1/law/charges/x?date=2023-13-01").await;
    assert_eq!(
        (status, p["errors"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("date"))
    );
    let (status, _) = get_json(None, &uri).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_article_lists_the_charge_in_force_on_the_date() {
    if !have_texts() {
        return;
    }
    let cookie = login("judge").await;
    let charges = |doc: &Value| -> Vec<String> {
        doc["neighbours"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["node"]["kind"] == "罪名")
            .map(|n| n["node"]["key"].as_str().unwrap().to_string())
            .collect()
    };
    let (s, before) = get_json(Some(&cookie), "/api/v1/law/articles/133-2?date=2020-12-31").await;
    assert_eq!(s, StatusCode::OK, "{before}");
    assert!(charges(&before).is_empty());
    let (_, after) = get_json(Some(&cookie), "/api/v1/law/articles/133-2?date=2021-03-01").await;
    assert_eq!(charges(&after), ["charge:妨害安全驾驶罪"]);
    // The 2024 rename of 第一百六十九条's charge, by either way of writing the article.
    let uri = format!(
        "/api/v1/law/articles/{}?date=2024-02-29",
        enc("第一百六十九条")
    );
    let (_, old) = get_json(Some(&cookie), &uri).await;
    assert_eq!(charges(&old), ["charge:徇私舞弊低价折股、出售国有资产罪"]);
    let (_, new) = get_json(Some(&cookie), "/api/v1/law/articles/169?date=2024-03-01").await;
    assert_eq!(
        charges(&new),
        ["charge:徇私舞弊低价折股、出售公司、企业资产罪"]
    );
    let ranges = new["neighbours"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["node"]["kind"] == "法定刑幅度")
        .count();
    assert!(ranges >= 2);
    let (s, _) = get_json(Some(&cookie), "/api/v1/law/articles/999").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, p) = get_json(Some(&cookie), "/api/v1/law/articles/abc").await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("no"))
    );
}

#[tokio::test]
async fn explain_returns_the_path_with_sources_and_the_interval() {
    if !have_texts() {
        return;
    }
    let cookie = login("prosecutor").await;
    let before = ledger_len();
    let uri = format!(
        "/api/v1/law/explain?charge={}&date=2023-05-01&amount=200000&circumstance={}&circumstance={}",
        enc("盗窃罪"),
        enc("累犯"),
        enc("自首")
    );
    let (status, doc) = get_json(Some(&cookie), &uri).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    let kinds: Vec<&str> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "罪名",
            "条文",
            "数额标准",
            "法定刑幅度",
            "量刑起点",
            "量刑情节",
            "量刑情节",
            "结果"
        ]
    );
    for s in doc["steps"].as_array().unwrap() {
        assert!(
            !s["file"].as_str().unwrap().is_empty() && !s["article"].as_str().unwrap().is_empty()
        );
    }
    // 数额巨大 everywhere: starting point 3–4 years; 累犯 and 自首 sum to −30..+40 %, and the
    // low end is held at the range's three years.
    let iv = doc["interval_months"].as_array().unwrap();
    assert_eq!(iv[0].as_f64(), Some(36.0));
    assert!((iv[1].as_f64().unwrap() - 67.2).abs() < 1e-9);
    assert!(law_entries(before)
        .iter()
        .any(|e| e["principal"] == "prosecutor"
            && e["query"].as_str().unwrap().starts_with("explain")));
    let uri = format!(
        "/api/v1/law/explain?charge={}&circumstance={}",
        enc("盗窃罪"),
        enc("无此情节")
    );
    let (status, p) = get_json(Some(&cookie), &uri).await;
    assert_eq!(
        (status, p["errors"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("circumstance"))
    );
    let (status, p) = get_json(Some(&cookie), "/api/v1/law/explain?date=2023-01-01").await;
    assert_eq!(
        (status, p["errors"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("charge"))
    );
    let uri = format!("/api/v1/law/explain?charge={}&amount=12a", enc("盗窃罪"));
    let (status, p) = get_json(Some(&cookie), &uri).await;
    assert_eq!(
        (status, p["errors"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("amount"))
    );
}

#[tokio::test]
async fn the_law_page_links_every_neighbour_and_shows_the_path() {
    if !have_texts() {
        return;
    }
    let cookie = login("judge").await;
    let uri = format!(
        "/law?charge={}&date=2023-05-01&amount=5000&circumstance={}",
        enc("盗窃罪"),
        enc("自首")
    );
    let (status, html) = raw(Some(&cookie), &uri).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("法律导航"));
    assert!(html.contains("id=\"law-path\""));
    assert!(html.contains("自首"));
    let links = html.matches("href=\"/law?key=").count();
    let rows = html
        .split("id=\"law-neighbours\"")
        .nth(1)
        .unwrap()
        .matches("<tr>")
        .count()
        - 1;
    assert!(links >= 20 && links == rows, "{links} links, {rows} rows");
    // Following a link shows that node.
    let (status, html) = raw(Some(&cookie), "/law?key=article%3A264&date=2023-05-01").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("【条文】《刑法》第二百六十四条"));
    // Pages need a session.
    let (status, _) = raw(None, "/law").await;
    assert!(status.is_redirection(), "{status}");
}
