//! Insight over the API on the shared test province: case statistics through the aggregate
//! path (counts that agree with the store, the public's small cells withheld, every aggregate
//! in the ledger) and similar-case search over a real index built from the CAIL2018 fixture.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::NaiveDate;
use common::{fixture, next_totp, PASSWORD};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use xiezhi_access::{OrgKind, Principal, RequestContext, Role, User};
use xiezhi_insight::search::SearchIndex;
use xiezhi_insight::stats::Dim;
use xiezhi_server::app;
use xiezhi_server::insight_api::case_statistics;
use xiezhi_standard::{Entity, Level};
use xiezhi_store::Store;

async fn send(req: Request<Body>) -> (StatusCode, Value) {
    let res = app(fixture().state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (status, v)
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

async fn get_as(cookie: Option<&str>, uri: &str) -> (StatusCode, Value) {
    let mut b = Request::builder().method("GET").uri(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    send(b.body(Body::empty()).unwrap()).await
}

/// The search index of the fixture's data directory, built once from the CAIL2018 slice.
fn index() -> &'static Vec<xiezhi_insight::search::SearchDoc> {
    static DOCS: OnceLock<Vec<xiezhi_insight::search::SearchDoc>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let slice = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../xiezhi-insight/tests/fixtures/cail2018-slice.jsonl");
        let docs = xiezhi_insight::corpus::cail2018_docs(&slice).unwrap();
        let mut ix = SearchIndex::create(Some(&fixture().state.data.join("search-index"))).unwrap();
        ix.add(&docs).unwrap();
        docs
    })
}

#[tokio::test]
async fn statistics_agree_with_the_store_and_are_logged() {
    let f = fixture();
    let (cases, before) = {
        let store = f.state.store().unwrap();
        (
            store.count(Entity::Case).unwrap() as u64,
            store.ledger_len().unwrap(),
        )
    };
    let cookie = login("supervisor").await;
    let (status, doc) = get_as(Some(&cookie), "/api/v1/stats/cases?by=city,charge").await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["total"], cases);
    assert_eq!(doc["access"]["min_cell"], Value::Null);
    assert_eq!(doc["access"]["cases_read"], cases);
    let cells = doc["cells"].as_array().unwrap();
    // Internal figures: nothing withheld; a case counts once per charge, so the cells add up
    // to at least the cases.
    assert!(cells.iter().all(|c| c["suppressed"].is_null()));
    let sum: u64 = cells.iter().map(|c| c["count"].as_u64().unwrap()).sum();
    assert!(sum >= cases, "{sum} < {cases}");
    assert!(cells.iter().all(|c| {
        let k = c["keys"][0].as_str().unwrap();
        (k.len() == 6 && k.ends_with("00")) || k == "未知"
    }));
    assert!(doc["method"]["counting"].as_str().unwrap().contains("city"));
    let timeliness = doc["timeliness"].as_array().unwrap();
    assert_eq!(timeliness.len(), 4);
    assert!(timeliness
        .iter()
        .all(|t| t["basis"].as_str().unwrap().starts_with("刑事诉讼法第")));
    // Six column decisions and the aggregate entry, at least (the login logs nothing here).
    let after = f.state.store().unwrap().ledger_len().unwrap();
    assert!(after >= before + 7, "{before} -> {after}");

    let (status, p) = get_as(Some(&cookie), "/api/v1/stats/cases?by=county,colour").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(p["errors"][0]["field"], "by");
    let (status, p) = get_as(Some(&cookie), "/api/v1/stats/cases?group=county").await;
    assert_eq!(
        (status, p["errors"][0]["rule"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_field"))
    );
    let (status, _) = get_as(None, "/api/v1/stats/cases").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[test]
fn the_public_sees_no_cell_under_five() {
    let f = fixture();
    let public = Principal::User(User {
        id: "citizen".into(),
        name: "公众".into(),
        org_code: String::new(),
        org_kind: OrgKind::Police,
        division: "520000".into(),
        role: Role::Public,
        clearance: Level::L1,
    });
    let ctx = RequestContext::on(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
    let authz = f.state.authz().unwrap();
    let mut store = f.state.store().unwrap();
    let internal = case_statistics(
        &mut *store,
        &authz,
        &fixture_supervisor(),
        &[Dim::County],
        &ctx,
    )
    .unwrap();
    let public_stats = case_statistics(&mut *store, &authz, &public, &[Dim::County], &ctx).unwrap();
    assert_eq!(public_stats.access.min_cell, Some(5));
    // Same cells, same order; the public's are the internal ones or withheld.
    assert_eq!(internal.report.cells.len(), public_stats.report.cells.len());
    let mut small = 0;
    for (i, p) in internal.report.cells.iter().zip(&public_stats.report.cells) {
        let n = i.count.unwrap();
        if n < 5 {
            small += 1;
            assert_eq!((p.count, p.suppressed), (None, Some("primary")));
        } else {
            assert!(p.count == Some(n) || p.suppressed == Some("complementary"));
        }
    }
    assert!(small > 0, "30 cases over the counties leave small cells");
    assert!(public_stats
        .report
        .cells
        .iter()
        .all(|c| c.count.is_none_or(|n| n >= 5)));
    // Stage figures from fewer than five stages are withheld too.
    for t in &public_stats.report.timeliness {
        assert!(t.n.is_none_or(|n| n >= 5));
    }
}

fn fixture_supervisor() -> Principal {
    fixture()
        .state
        .principal("supervisor")
        .expect("the fixture's supervisor")
        .clone()
}

#[tokio::test]
async fn search_ranks_similar_cases_and_explains_the_reranking() {
    let docs = index();
    let cookie = login("judge").await;
    let theft = docs
        .iter()
        .find(|d| d.charges == ["盗窃罪"] && d.text.chars().count() > 60)
        .unwrap();
    let q: String = theft.text.chars().take(60).collect();
    let uri = format!(
        "/api/v1/search?q={}&limit=5",
        utf8_percent(&format!("盗窃罪 {q}"))
    );
    let (status, doc) = get_as(Some(&cookie), &uri).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    let hits = doc["hits"].as_array().unwrap();
    assert!(!hits.is_empty() && hits.len() <= 5);
    assert_eq!(hits[0]["id"], theft.id.as_str(), "{doc}");
    assert!(hits[0]["matched"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m.as_str().unwrap().starts_with("罪名相同")));
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(doc["method"].as_str().unwrap().contains("BM25"));

    // Charge filter: every hit carries it.
    let uri = format!(
        "/api/v1/search?q={}&charge={}",
        utf8_percent("被告人 手机"),
        utf8_percent("诈骗")
    );
    let (status, doc) = get_as(Some(&cookie), &uri).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    let hits = doc["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["charges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "诈骗罪")));
    // Region filter: the place is in every hit's text.
    let uri = format!("/api/v1/search?q={}&region=110112", utf8_percent("被告人"));
    let (status, doc) = get_as(Some(&cookie), &uri).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    let expected = docs.iter().filter(|d| d.text.contains("通州区")).count();
    let hits = doc["hits"].as_array().unwrap();
    assert!(!hits.is_empty() && hits.len() <= expected, "{doc}");
    assert!(hits
        .iter()
        .all(|h| h["matched"].to_string().contains("通州区")));
}

#[tokio::test]
async fn bad_search_parameters_are_named() {
    index();
    let cookie = login("judge").await;
    for (uri, field, rule) in [
        ("/api/v1/search?charge=x", "q", "missing_field"),
        ("/api/v1/search?q=a&limit=0", "limit", "range"),
        ("/api/v1/search?q=a&limit=51", "limit", "range"),
        ("/api/v1/search?q=a&year=abc", "year", "range"),
        (
            "/api/v1/search?q=a&penalty_min=12&penalty_max=6",
            "penalty_min",
            "range",
        ),
        ("/api/v1/search?q=a&sort=x", "sort", "unknown_field"),
    ] {
        let (status, p) = get_as(Some(&cookie), uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {p}");
        assert_eq!(
            (
                p["errors"][0]["field"].as_str(),
                p["errors"][0]["rule"].as_str()
            ),
            (Some(field), Some(rule)),
            "{uri}"
        );
    }
    let (status, _) = get_as(None, "/api/v1/search?q=a").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

fn utf8_percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn the_overview_shows_case_statistics_and_timeliness() {
    let cookie = login("supervisor").await;
    let req = Request::builder()
        .method("GET")
        .uri("/")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let res = app(fixture().state.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(html.contains("案件分布（按市州）"), "{html}");
    assert!(html.contains("data-bars="));
    assert!(html.contains("刑事诉讼法第172条第1款"));
    assert!(
        !html.contains("不予公布"),
        "internal figures are not suppressed"
    );
}

#[tokio::test]
async fn the_cases_page_searches_similar_cases() {
    index();
    let cookie = login("judge").await;
    let req = Request::builder()
        .method("GET")
        .uri(format!(
            "/similar?q={}&charge=&region=",
            utf8_percent("盗窃 手机")
        ))
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let res = app(fixture().state.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(html.contains("id=\"similar-hits\""), "{html}");
    assert!(
        html.contains("盗窃罪") && html.contains("匹配要素"),
        "{html}"
    );
    assert!(!html.contains("未找到类案"));
}
