//! The law navigator over the API: the statute graph (定罪量刑知识图谱) read by charge, by
//! article and as an explained sentencing path, each as of a date.
//!
//! Law text is public: any signed-in caller may read it, so no field decision is made; every
//! query is still written to the ledger (`law_query`: who, what, when) like other reads.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::extract::{Path, State};
use axum::Json;
use chrono::NaiveDate;
use serde::Serialize;
use xiezhi_graph::{default_reference_dir, parse_article_ref, NodeView, StatuteGraph};
use xiezhi_store::LedgerEvent;

use crate::api::percent_decode;
use crate::auth::Caller;
use crate::error::Problem;
use crate::state::AppState;

/// Why any signed-in caller may read the law, recorded in each query's ledger entry.
pub const BASIS: &str = "法律文本公开：任何已认证用户均可查询（不涉及案件数据，不作字段裁决）";

/// The statute graph of this process, built once from the reference texts.
pub fn statute() -> Result<Arc<StatuteGraph>, Problem> {
    static GRAPH: OnceLock<Result<Arc<StatuteGraph>, String>> = OnceLock::new();
    GRAPH
        .get_or_init(|| {
            StatuteGraph::build(&default_reference_dir())
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| {
            Problem::new(503, "法律文本不可用").detail(format!(
                "无法由参考文本构建知识图谱（{e}）：请设置 XIEZHI_REFERENCE 指向含 laws/ 的目录"
            ))
        })
}

/// A node of the graph as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct NodeDoc {
    /// Key for `/law?key=` and the navigator: `article:264`, `charge:盗窃罪`, `threshold:3` …
    pub key: String,
    /// 条文 / 罪名 / 法定刑幅度 / 数额标准 / 量刑起点 / 量刑情节 / 办案期限 / 来源文本.
    pub kind: &'static str,
    pub label: String,
    /// Source file (relative to the reference texts) and the article or table row in it.
    pub file: String,
    pub article: String,
}

impl From<NodeView> for NodeDoc {
    fn from(v: NodeView) -> NodeDoc {
        NodeDoc {
            key: v.key,
            kind: v.kind,
            label: v.label,
            file: v.file,
            article: v.article,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NeighbourDoc {
    /// The relation in Chinese, read from the neighbour (`数额标准`, `规定于条文` …).
    pub relation: &'static str,
    pub node: NodeDoc,
}

/// A node and its neighbours in force on a date.
#[derive(Debug, Clone, Serialize)]
pub struct NavigationDoc {
    pub date: NaiveDate,
    pub node: NodeDoc,
    pub neighbours: Vec<NeighbourDoc>,
    pub basis: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepDoc {
    pub kind: &'static str,
    pub text: String,
    pub file: String,
    pub article: String,
}

/// An explained sentencing path.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainDoc {
    /// The charge name in force on the date.
    pub charge: String,
    pub date: NaiveDate,
    pub steps: Vec<StepDoc>,
    /// Lower and upper month of the interval (拘役 counted in months), when one applies.
    pub interval_months: Option<[f64; 2]>,
    pub notes: Vec<String>,
    /// How the interval is computed, in Chinese.
    pub method: &'static str,
}

/// Query pairs, percent-decoded, a key allowed to repeat; a key outside `known` is named.
pub fn query_multi(
    raw: Option<&str>,
    known: &[&str],
) -> Result<BTreeMap<String, Vec<String>>, Problem> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for kv in raw.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let (k, v) = (percent_decode(k), percent_decode(&v.replace('+', " ")));
        if !known.contains(&k.as_str()) {
            return Err(Problem::bad_request(
                &k,
                "unknown_field",
                format!("未知的查询参数 `{k}`（可用：{}）", known.join("、")),
            ));
        }
        out.entry(k).or_default().push(v.trim().to_string());
    }
    Ok(out)
}

fn first<'a>(q: &'a BTreeMap<String, Vec<String>>, key: &str) -> Option<&'a str> {
    q.get(key)
        .and_then(|v| v.first())
        .map(String::as_str)
        .filter(|s| !s.is_empty())
}

/// `date=YYYY-MM-DD`, today when absent.
pub fn date_of(q: &BTreeMap<String, Vec<String>>) -> Result<NaiveDate, Problem> {
    match first(q, "date") {
        None => Ok(chrono::Local::now().date_naive()),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            Problem::bad_request("date", "format", format!("日期应为 YYYY-MM-DD，收到 `{d}`"))
        }),
    }
}

/// Yuan (`5000`, `5000.5`) into fen.
pub fn fen_of(s: &str) -> Result<i64, Problem> {
    let bad = || {
        Problem::bad_request(
            "amount",
            "format",
            format!("金额应为元（至多两位小数），收到 `{s}`"),
        )
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || whole.len() > 13
    {
        return Err(bad());
    }
    let fen: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    Ok(whole.parse::<i64>().map_err(|_| bad())? * 100 + fen)
}

/// Writes the query's ledger entry.
pub fn log_query(
    state: &AppState,
    caller: &Caller,
    query: &str,
    found: bool,
) -> Result<(), Problem> {
    let mut body = serde_json::Map::new();
    body.insert("principal".into(), caller.principal.id().into());
    body.insert("query".into(), query.into());
    body.insert("found".into(), found.into());
    body.insert("basis".into(), BASIS.into());
    body.insert(
        "at".into(),
        chrono::Local::now().naive_local().to_string().into(),
    );
    state.ledger.log(LedgerEvent {
        kind: "law_query".into(),
        entity: None,
        uid: None,
        body,
    })?;
    Ok(())
}

/// A node of the graph and its neighbours on `date`.
pub fn navigation(g: &StatuteGraph, key: &str, date: NaiveDate) -> Result<NavigationDoc, Problem> {
    let n = g
        .find_key(key)
        .ok_or_else(|| Problem::not_found(format!("知识图谱中无节点 `{key}`")))?;
    let (node, neighbours) = g.navigate(n, date);
    Ok(NavigationDoc {
        date,
        node: node.into(),
        neighbours: neighbours
            .into_iter()
            .map(|(relation, v)| NeighbourDoc {
                relation,
                node: v.into(),
            })
            .collect(),
        basis: BASIS,
    })
}

/// The navigator key of a charge name on `date` (the name in force then).
pub fn charge_key(g: &StatuteGraph, name: &str, date: NaiveDate) -> Result<String, Problem> {
    let found = g.charge_as_of(name, date);
    let c = found.first().ok_or_else(|| {
        Problem::not_found(format!(
            "{name}：{date} 时无有效罪名（该罪名尚未设立或名称不在罪名规定中）"
        ))
    })?;
    Ok(format!("charge:{}", c.name))
}

/// `264`, `133-1`, `第二百六十四条`, `第133条之一` → the navigator key.
pub fn article_key(no: &str) -> Result<String, Problem> {
    let bad = || {
        Problem::bad_request(
            "no",
            "format",
            format!("条文编号应为 264、133-1 或 第二百六十四条，收到 `{no}`"),
        )
    };
    if let Some((a, b)) = no.split_once('-') {
        let (a, b): (u32, u32) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
        return Ok(format!("article:{a}-{b}"));
    }
    if let Ok(a) = no.parse::<u32>() {
        return Ok(format!("article:{a}"));
    }
    let (a, _, _) = parse_article_ref(no).ok_or_else(bad)?;
    Ok(if a.sub > 0 {
        format!("article:{}-{}", a.number, a.sub)
    } else {
        format!("article:{}", a.number)
    })
}

/// The explained path for a query.
pub fn explain(g: &StatuteGraph, q: &BTreeMap<String, Vec<String>>) -> Result<ExplainDoc, Problem> {
    let charge = first(q, "charge")
        .ok_or_else(|| Problem::bad_request("charge", "missing_field", "缺少罪名 `charge`"))?;
    let date = date_of(q)?;
    let amount = first(q, "amount").map(fen_of).transpose()?;
    let circumstances: Vec<&str> = q
        .get("circumstance")
        .into_iter()
        .flatten()
        .flat_map(|v| v.split([',', '，']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let e = g
        .explain_sentence(charge, date, amount, &circumstances)
        .map_err(|m| {
            if m.starts_with("未知的量刑情节") {
                Problem::bad_request("circumstance", "unknown_value", m)
            } else {
                Problem::not_found(m)
            }
        })?;
    Ok(ExplainDoc {
        charge: e.charge,
        date: e.date,
        steps: e
            .steps
            .into_iter()
            .map(|s| StepDoc {
                kind: s.kind,
                text: s.text,
                file: s.file,
                article: s.article,
            })
            .collect(),
        interval_months: e.interval.map(|(a, b)| [a, b]),
        notes: e.notes,
        method: "罪名（行为日有效版本）→ 条文 → 数额标准选定法定刑幅度 → 量刑指导意见量刑起点 → 第一类情节依次连乘、第二类情节同向相加逆向相减后一次调节 → 限于法定刑幅度",
    })
}

/// 法律导航·罪名：行为日期有效的罪名及其条文、法定刑幅度、数额标准、量刑起点与量刑情节；每个节点注明来源文件与条文。任何已认证用户可查询，查询记入账本。
#[utoipa::path(get, path = "/api/v1/law/charges/{name}",
    params(("name" = String, Path, description = "罪名（任一历史名称均可）"),
        ("date" = Option<String>, Query, description = "行为日期 YYYY-MM-DD，默认今天")),
    responses((status = 200, body = Object, description = "date, node (key, kind, label, file, article), neighbours (relation, node), basis"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub async fn charge(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    uri: axum::http::Uri,
) -> Result<Json<NavigationDoc>, Problem> {
    let q = query_multi(uri.query(), &["date"])?;
    let date = date_of(&q)?;
    tokio::task::spawn_blocking(move || {
        let g = statute()?;
        let doc = charge_key(&g, &name, date).and_then(|k| navigation(&g, &k, date));
        log_query(
            &state,
            &caller,
            &format!("charge={name}&date={date}"),
            doc.is_ok(),
        )?;
        doc.map(Json)
    })
    .await
    .map_err(|e| Problem::internal(&e))?
}

/// 法律导航·条文：《刑法》条文及其罪名（行为日期有效者）、法定刑幅度；每个节点注明来源文件与条文。任何已认证用户可查询，查询记入账本。
#[utoipa::path(get, path = "/api/v1/law/articles/{no}",
    params(("no" = String, Path, description = "条文编号：264、133-1（第一百三十三条之一）或 第二百六十四条"),
        ("date" = Option<String>, Query, description = "日期 YYYY-MM-DD，默认今天")),
    responses((status = 200, body = Object, description = "date, node, neighbours (relation, node), basis"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub async fn article(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(no): Path<String>,
    uri: axum::http::Uri,
) -> Result<Json<NavigationDoc>, Problem> {
    let q = query_multi(uri.query(), &["date"])?;
    let date = date_of(&q)?;
    let key = article_key(&no)?;
    tokio::task::spawn_blocking(move || {
        let g = statute()?;
        let doc = navigation(&g, &key, date);
        log_query(
            &state,
            &caller,
            &format!("article={no}&date={date}"),
            doc.is_ok(),
        )?;
        doc.map(Json)
    })
    .await
    .map_err(|e| Problem::internal(&e))?
}

/// 量刑路径解释：罪名 → 条文（行为日有效版本）→ 数额标准 → 法定刑幅度 → 量刑起点 → 各量刑情节调节 → 量刑区间，每一步注明来源文件与条文。任何已认证用户可查询，查询记入账本。
#[utoipa::path(get, path = "/api/v1/law/explain",
    params(("charge" = String, Query, description = "罪名"),
        ("date" = Option<String>, Query, description = "行为日期 YYYY-MM-DD，默认今天"),
        ("amount" = Option<String>, Query, description = "数额（元）"),
        ("circumstance" = Option<Vec<String>>, Query, description = "量刑情节，可重复或以逗号分隔，如 自首")),
    responses((status = 200, body = Object, description = "charge, date, steps (kind, text, file, article), interval_months, notes, method"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub async fn explain_path(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Json<ExplainDoc>, Problem> {
    let q = query_multi(uri.query(), &["charge", "date", "amount", "circumstance"])?;
    let raw = uri.query().map(percent_decode).unwrap_or_default();
    tokio::task::spawn_blocking(move || {
        let g = statute()?;
        let doc = explain(&g, &q);
        log_query(&state, &caller, &format!("explain {raw}"), doc.is_ok())?;
        doc.map(Json)
    })
    .await
    .map_err(|e| Problem::internal(&e))?
}
