//! Insight over the API: case statistics computed from the store through the aggregate read
//! path (`GET /api/v1/stats/cases`), and similar-case search over the index `xiezhi insight
//! index` builds in the data directory (`GET /api/v1/search`).
//!
//! Statistics never see a record: `AggregateReader` decides each column once for the caller,
//! logs the decisions and streams the columns into `xiezhi_insight::stats`; what the public
//! is shown is suppressed below five. Search runs over the published judgments and facts of
//! the shared data (not over the store), so it needs a signed-in caller but no case decision.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use xiezhi_access::reader::ReadError;
use xiezhi_access::{AggregateGrant, AggregateReader, Authorizer, Principal, RequestContext};
use xiezhi_insight::search::{Hit, SearchIndex, SearchQuery};
use xiezhi_insight::stats::{self, CaseFacts, Dim, StatsReport};
use xiezhi_insight::warning::{self, SeriesKey};
use xiezhi_standard::Value;
use xiezhi_store::Store;

use crate::api::percent_decode;
use crate::auth::Caller;
use crate::error::Problem;
use crate::state::AppState;

/// Case columns the statistics read, in this order.
const CASE_COLUMNS: [&str; 4] = ["occurred_division", "charges", "stage", "handling_org"];
/// Event columns the statistics read (filing period, stage durations).
const EVENT_COLUMNS: [&str; 2] = ["kind", "occurred_at"];

/// A statistics table with the access decisions it was computed under.
#[derive(Debug, Clone, Serialize)]
pub struct CaseStatistics {
    #[serde(flatten)]
    pub report: StatsReport,
    /// Per column: permitted, by which policy, and the cases read.
    pub access: AggregateGrant,
}

fn text(v: &Option<Value>) -> Option<String> {
    v.as_ref()
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

/// The case facts of every stored case, read through the aggregate path for `principal`.
pub fn case_facts(
    store: &mut dyn Store,
    authz: &Authorizer,
    principal: &Principal,
    ctx: &RequestContext,
) -> Result<(Vec<CaseFacts>, AggregateGrant), ReadError> {
    let mut facts = Vec::new();
    let grant = AggregateReader::new(store, authz).read_columns(
        principal,
        &CASE_COLUMNS,
        &EVENT_COLUMNS,
        ctx,
        &mut |c| {
            let events: Vec<(String, chrono::NaiveDate)> = c
                .events
                .iter()
                .filter_map(|e| Some((text(&e[0])?, e[1].as_ref()?.as_date()?)))
                .collect();
            let filed_on = events
                .iter()
                .filter(|(k, _)| k == "case_filed")
                .map(|(_, d)| *d)
                .min()
                .or_else(|| events.iter().map(|(_, d)| *d).min());
            facts.push(CaseFacts {
                division: text(&c.case[0]),
                charges: match &c.case[1] {
                    Some(Value::Codes(v)) => v.clone(),
                    other => text(other).into_iter().collect(),
                },
                stage: text(&c.case[2]),
                organ: text(&c.case[3]),
                filed_on,
                events,
            });
        },
    )?;
    Ok((facts, grant))
}

/// Case statistics by `by` for `principal`, from the store through the aggregate path.
pub fn case_statistics(
    store: &mut dyn Store,
    authz: &Authorizer,
    principal: &Principal,
    by: &[Dim],
    ctx: &RequestContext,
) -> Result<CaseStatistics, ReadError> {
    let (facts, access) = case_facts(store, authz, principal, ctx)?;
    Ok(CaseStatistics {
        report: stats::report(&facts, by, access.min_cell),
        access,
    })
}

/// Weekly 立案 counts per (county, charge) of every stored case, read through the aggregate
/// path for `principal`: the series the early warning runs on.
pub fn weekly_case_series(
    store: &mut dyn Store,
    authz: &Authorizer,
    principal: &Principal,
    ctx: &RequestContext,
) -> Result<(BTreeMap<SeriesKey, Vec<f64>>, AggregateGrant), ReadError> {
    let (facts, access) = case_facts(store, authz, principal, ctx)?;
    let series = warning::weekly_series(
        facts
            .iter()
            .filter_map(|c| Some((c.filed_on?, c.division.as_deref()?, c.charges.as_slice()))),
    );
    Ok((series, access))
}

/// Cases by prefecture and the stage timeliness for the console's 总览, as `principal` may
/// see them; `None` when the principal may not aggregate (the administrators).
pub fn overview_case_stats(
    state: &AppState,
    principal: &Principal,
) -> Result<Option<CaseStatistics>, Problem> {
    let authz = state.authz()?;
    let mut store = state.store()?;
    let ctx = RequestContext::new(chrono::Local::now().naive_local());
    match case_statistics(&mut *store, &authz, principal, &[Dim::City], &ctx) {
        Ok(s) => Ok(Some(s)),
        Err(ReadError::AggregateDenied { .. }) => Ok(None),
        Err(e) => Err(Problem::internal(&e)),
    }
}

/// Parses `region,charge,…` into keys; an unknown key is named.
pub fn parse_dims(s: &str) -> Result<Vec<Dim>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| {
            Dim::parse(k).ok_or_else(|| {
                format!(
                    "未知的统计维度 `{k}`（可用：region/county、city、province、charge、stage、organ、period、year）"
                )
            })
        })
        .collect()
}

/// Query pairs of a URI, percent-decoded; a key outside `known` is a problem naming it.
fn query_pairs(raw: Option<&str>, known: &[&str]) -> Result<HashMap<String, String>, Problem> {
    let mut out = HashMap::new();
    for kv in raw.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let (k, v) = (percent_decode(k), percent_decode(v));
        if !known.contains(&k.as_str()) {
            return Err(Problem::bad_request(
                &k,
                "unknown_field",
                format!("未知的查询参数 `{k}`（可用：{}）", known.join("、")),
            ));
        }
        out.insert(k, v);
    }
    Ok(out)
}

fn number(q: &HashMap<String, String>, key: &str, max: u64) -> Result<Option<u64>, Problem> {
    q.get(key)
        .filter(|v| !v.is_empty())
        .map(|v| match v.parse::<u64>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err(Problem::bad_request(
                key,
                "range",
                format!("`{key}` 应为 0–{max} 的整数，收到 `{v}`"),
            )),
        })
        .transpose()
}

/// Statistics query parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Keys, comma-separated: `region` (= `county`), `city`, `province`, `charge`, `stage`,
    /// `organ`, `period` (month of filing), `year`. Default `region`.
    pub by: Option<String>,
}

/// 案件统计：按地区（省/市/县）、罪名、阶段、机构、期间计数与占比，及各阶段办理时长与法定期限内办结比例；每个数字附计算方法。经汇总读取路径（逐字段决定并记入账本），社会公众只见抑制小格后的汇总。
#[utoipa::path(get, path = "/api/v1/stats/cases", params(StatsQuery),
    responses((status = 200, body = Object, description = "by, total, cells (keys, labels, count, share_pct, suppressed), timeliness (stage, n, median_days, within_limit_share, limit, basis, method), method, access (per column decision, min_cell, cases_read)"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn case_stats(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Json<CaseStatistics>, Problem> {
    let q = query_pairs(uri.query(), &["by"])?;
    let by = parse_dims(q.get("by").map_or("region", String::as_str))
        .map_err(|m| Problem::bad_request("by", "unknown_value", m))?;
    tokio::task::spawn_blocking(move || {
        let authz = state.authz()?;
        let mut store = state.store()?;
        let ctx = RequestContext::new(chrono::Local::now().naive_local());
        case_statistics(&mut *store, &authz, &caller.principal, &by, &ctx)
            .map(Json)
            .map_err(|e| match e {
                ReadError::AggregateDenied { field, reason } => {
                    Problem::forbidden(format!("不得汇总 `{field}`：{reason}"))
                }
                other => Problem::internal(&other),
            })
    })
    .await
    .map_err(|e| Problem::internal(&e))?
}

/// The search index of a data directory, opened once per process.
pub fn index_of(data: &Path) -> Result<Arc<SearchIndex>, Problem> {
    static OPEN: OnceLock<Mutex<HashMap<PathBuf, Arc<SearchIndex>>>> = OnceLock::new();
    let dir = data.join("search-index");
    let mut open = OPEN
        .get_or_init(Default::default)
        .lock()
        .map_err(|e| Problem::internal(&e))?;
    if let Some(ix) = open.get(&dir) {
        return Ok(ix.clone());
    }
    if !dir.join("meta.json").exists() {
        return Err(Problem::new(503, "类案检索索引尚未建立").detail(format!(
            "数据目录中没有检索索引 `{}`：请运行 `xiezhi insight index`（`xiezhi demo` 在有共享数据时自动建立）",
            dir.display()
        )));
    }
    let ix = Arc::new(SearchIndex::open(&dir).map_err(|e| Problem::internal(&e))?);
    open.insert(dir, ix.clone());
    Ok(ix)
}

/// Search results with the query as understood.
#[derive(Debug, Serialize)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    /// How hits are ranked, in Chinese.
    pub method: &'static str,
}

/// Search query parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// 案情描述 (required).
    pub q: String,
    /// 罪名, with or without 罪.
    pub charge: Option<String>,
    /// GB/T 2260 code or name of a division the text must name.
    pub region: Option<String>,
    /// Year of the judgment or facts.
    pub year: Option<u64>,
    /// Minimum term of imprisonment, months.
    pub penalty_min: Option<u64>,
    /// Maximum term of imprisonment, months.
    pub penalty_max: Option<u64>,
    /// 1–50, default 10.
    pub limit: Option<usize>,
}

/// The search query of a request, every bad parameter named.
pub fn search_query(raw: Option<&str>) -> Result<SearchQuery, Problem> {
    let q = query_pairs(
        raw,
        &[
            "q",
            "charge",
            "region",
            "year",
            "penalty_min",
            "penalty_max",
            "limit",
        ],
    )?;
    let text = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    if text.is_empty() {
        return Err(Problem::bad_request(
            "q",
            "missing_field",
            "缺少案情描述 `q`",
        ));
    }
    let year = number(&q, "year", 9999)?;
    let (term_min, term_max) = (
        number(&q, "penalty_min", 1200)?,
        number(&q, "penalty_max", 1200)?,
    );
    if let (Some(lo), Some(hi)) = (term_min, term_max) {
        if lo > hi {
            return Err(Problem::bad_request(
                "penalty_min",
                "range",
                format!("`penalty_min`（{lo}）大于 `penalty_max`（{hi}）"),
            ));
        }
    }
    let limit = match number(&q, "limit", 50)? {
        Some(0) => {
            return Err(Problem::bad_request(
                "limit",
                "range",
                "`limit` 应为 1–50 的整数，收到 `0`",
            ))
        }
        n => n.unwrap_or(10) as usize,
    };
    let opt = |k: &str| {
        q.get(k)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    Ok(SearchQuery {
        text,
        charge: opt("charge"),
        region: opt("region"),
        year_from: year,
        year_to: year,
        term_min,
        term_max,
        limit,
        bm25_only: false,
    })
}

/// 类案检索：BM25（jieba 法律词典分词）加结构化过滤（罪名、地区、年份、刑期），按共有要素（罪名、金额、量刑情节）重排；每条结果给出各部分得分与匹配要素。
#[utoipa::path(get, path = "/api/v1/search", params(SearchParams),
    responses((status = 200, body = Object, description = "hits (id, source, title, charges, year, term_months, snippet, score, bm25, charge_bonus, amount_bonus, circumstance_bonus, matched), method"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 503, body = Problem)))]
pub async fn search(
    _caller: Caller,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Json<SearchResults>, Problem> {
    let query = search_query(uri.query())?;
    tokio::task::spawn_blocking(move || {
        let ix = index_of(&state.data)?;
        let hits = ix.search(&query).map_err(|e| Problem::internal(&e))?;
        Ok(Json(SearchResults {
            hits,
            method: "BM25 相关度（以最高分归一）+ 罪名相同 0.30 + 金额相近 至多 0.20（对数尺度）+ 量刑情节重合 至多 0.10；地区按文中出现该地名过滤",
        }))
    })
    .await
    .map_err(|e| Problem::internal(&e))?
}
