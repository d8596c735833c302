//! The JSON API under `/api/v1`. Every handler runs as a [`Caller`]; case data is read only
//! through [`SharedReader`], which decides every field, masks it and logs the decision.
//! Governance endpoints (ingest, quarantine) are for data stewards and department systems.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use xiezhi_access::reader::{
    case_resource, prepare_case_read_cached, prepare_held_case_read, CaseView, Decider,
    SharedReader,
};
use xiezhi_access::{
    Action, DataRequest, FieldAction, FieldRef, Principal, RequestContext, RequestError,
    RequestStep, Resource, Role,
};
use xiezhi_ingest::{IngestOptions, Ingestor};
use xiezhi_ledger::log::{latest_entry_of, prove_entry};
use xiezhi_ledger::Checkpoint;
use xiezhi_standard::Entity;
use xiezhi_store::{hex, QuarantineEntry, Store};
use xiezhi_supervise::lifecycle::{self, Action as LifecycleAction, ActionError, RiskRecord};

use crate::admin_api as adm;
use crate::auth::{self, Caller, Via};
use crate::error::Problem;
use crate::exchange_api as xa;
use crate::graph_api as ga;
use crate::justice_api as ja;
use crate::state::{self, AppState};

/// The API routes. The OpenAPI test reads this function's `.route(` lines: a route added here
/// and not documented in [`ApiDoc`] fails it.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/session", post(login).delete(logout).get(me))
        .route("/api/v1/session/password", post(change_password))
        .route("/api/v1/cases", get(list_cases))
        .route("/api/v1/cases/{uid}", get(read_case))
        .route("/api/v1/cases/{uid}/persons", get(case_persons))
        .route("/api/v1/ingest", post(ingest))
        .route("/api/v1/quarantine", get(list_quarantine))
        .route("/api/v1/quarantine/{id}", get(show_quarantine))
        .route("/api/v1/requests", get(list_requests).post(submit_request))
        .route("/api/v1/requests/{id}/actions", post(act_on_request))
        .route("/api/v1/risks", get(list_risks))
        .route("/api/v1/risks/run", post(run_risks))
        .route("/api/v1/risks/{id}/actions", post(act_on_risk))
        .route("/api/v1/ledger/checkpoint", get(checkpoint))
        .route("/api/v1/ledger/proof", get(proof))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/corrections/alerts", get(ja::list_alerts))
        .route("/api/v1/corrections/{case_uid}", get(ja::show_correction))
        .route("/api/v1/corrections/{case_uid}/acts", post(ja::post_act))
        .route("/api/v1/petitions/deadlines", get(ja::deadlines))
        .route("/api/v1/hotspots", get(ja::list_hot_spots))
        .route("/api/v1/reviews", get(ja::reviews).post(ja::draw))
        .route("/api/v1/reviews/{id}", get(ja::show_review))
        .route("/api/v1/reviews/{id}/cases/{case}/score", post(ja::score))
        .route("/api/v1/stats/cases", get(crate::insight_api::case_stats))
        .route("/api/v1/search", get(crate::insight_api::search))
        .route("/api/v1/law/charges/{name}", get(crate::law_api::charge))
        .route("/api/v1/law/articles/{no}", get(crate::law_api::article))
        .route("/api/v1/law/explain", get(crate::law_api::explain_path))
        .route("/api/v1/graph/neighbours", get(ga::graph_neighbours))
        .route("/api/v1/graph/path", get(ga::graph_path))
        .route("/api/v1/graph/node", get(ga::graph_node))
        .route("/api/v1/graph/communities", get(ga::graph_communities))
        .route("/api/v1/graph/central", get(ga::graph_central))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/transfers", get(xa::list_transfers))
        .route("/api/v1/transfers/{id}", get(xa::show_transfer))
        .route("/api/v1/webhooks", get(xa::list_webhooks))
        .route("/api/v1/webhooks/key", get(xa::webhook_key))
        .route("/api/v1/webhooks/{organ}", put(xa::register_webhook))
        .route("/api/v1/webhooks/{organ}/deliveries", get(xa::deliveries))
        .route("/api/v1/admin/users", get(adm::list_users))
        .route("/api/v1/admin/users/{user}/unlock", post(adm::unlock_user))
        .route("/api/v1/admin/policies", get(adm::list_policies))
        .route("/api/v1/admin/keys", get(adm::key_status))
        .route("/api/v1/admin/audit", get(adm::audit_entries))
        .route("/api/v1/admin/ledger/verify", post(adm::verify_ledger))
        .route("/api/v1/admin/status", get(adm::system_status))
}

/// The OpenAPI 3 document, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "獬豸 Xiezhi API",
        description = "政法跨部门数据共享、协同与监督平台 API"
    ),
    paths(
        login,
        logout,
        me,
        change_password,
        list_cases,
        read_case,
        case_persons,
        ingest,
        list_quarantine,
        show_quarantine,
        list_requests,
        submit_request,
        act_on_request,
        list_risks,
        run_risks,
        act_on_risk,
        checkpoint,
        proof,
        stats,
        crate::insight_api::case_stats,
        crate::insight_api::search,
        crate::law_api::charge,
        crate::law_api::article,
        crate::law_api::explain_path,
        ga::graph_neighbours,
        ga::graph_path,
        ga::graph_node,
        ga::graph_communities,
        ga::graph_central,
        crate::justice_api::list_alerts,
        crate::justice_api::show_correction,
        crate::justice_api::post_act,
        crate::justice_api::deadlines,
        crate::justice_api::list_hot_spots,
        crate::justice_api::reviews,
        crate::justice_api::draw,
        crate::justice_api::show_review,
        crate::justice_api::score,
        openapi,
        xa::list_transfers,
        xa::show_transfer,
        xa::list_webhooks,
        xa::webhook_key,
        xa::register_webhook,
        xa::deliveries,
        adm::list_users,
        adm::unlock_user,
        adm::list_policies,
        adm::key_status,
        adm::audit_entries,
        adm::verify_ledger,
        adm::system_status
    ),
    components(schemas(
        Problem,
        crate::error::FieldError,
        LoginRequest,
        PasswordChange,
        SessionInfo,
        CaseList,
        CaseSummary,
        CaseDoc,
        SectionDoc,
        FieldDoc,
        IngestReport,
        QuarantineList,
        QuarantineDoc,
        ReasonDoc,
        RequestList,
        SubmitRequest,
        RequestActionRequest,
        RiskList,
        RiskDoc,
        RiskStepDoc,
        RunRequest,
        RunReport,
        RiskActionRequest,
        CheckpointDoc,
        ProofDoc,
        Stats,
        crate::justice_api::CorrectionDoc,
        crate::justice_api::FixDoc,
        crate::justice_api::FenceDoc,
        crate::justice_api::ActRequest,
        crate::justice_api::ActRecorded,
        crate::justice_api::SampleRequest,
        crate::justice_api::VerdictDoc,
        crate::justice_api::ScoreRequest,
        crate::justice_api::PetitionDeadline,
        crate::justice_api::HotSpotDoc,
        xa::TransferList,
        xa::TransferRow,
        xa::TransferDetail,
        xa::DocumentDoc,
        xa::ReceiptDoc,
        xa::WebhookDeliveryDoc,
        xa::WebhookStatus,
        xa::WebhookList,
        xa::RegisterWebhook,
        xa::WebhookKey,
        adm::AccountDoc,
        adm::AccountList,
        adm::AdminResult,
        adm::PolicyDoc,
        adm::PolicyList,
        adm::KeyStatus,
        adm::AuditEntry,
        adm::AuditList,
        adm::LedgerCheck,
        adm::SystemStatus
    ))
)]
pub struct ApiDoc;

// ----- helpers -----

/// Runs store work on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Problem::internal(&e))?
}

pub(crate) fn today_ctx() -> RequestContext {
    RequestContext::new(chrono::Local::now().naive_local())
}

/// Opaque cursors: URL-safe base64 of the last key of the previous page.
pub fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

pub fn decode_cursor(cursor: Option<&str>) -> Result<String, Problem> {
    let Some(c) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(String::new());
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            Problem::bad_request(
                "cursor",
                "cursor",
                format!("游标 `{c}` 无效：请使用上一页返回的 next_cursor"),
            )
        })
}

fn page_limit(limit: Option<usize>) -> Result<usize, Problem> {
    match limit.unwrap_or(20) {
        n @ 1..=200 => Ok(n),
        n => Err(Problem::bad_request(
            "limit",
            "range",
            format!("limit {n} 超出范围：应为 1 到 200"),
        )),
    }
}

/// A JSON body: `application/json`, at most the configured size, unknown fields rejected by
/// the target type; every failure is a problem naming the field and the rule.
pub struct JsonBody<T>(pub T);

/// The rule and field of a serde_json error (`unknown field `x`` → (`unknown_field`, `x`)).
pub fn json_error(e: &serde_json::Error) -> Problem {
    let msg = e.to_string();
    let quoted = msg
        .split('`')
        .nth(1)
        .map(str::to_string)
        .unwrap_or_else(|| "body".to_string());
    let (status, rule, field) = if msg.starts_with("unknown field") {
        (422, "unknown_field", quoted)
    } else if msg.starts_with("missing field") {
        (422, "missing_field", quoted)
    } else if e.is_data() {
        (422, "invalid_value", "body".to_string())
    } else {
        (400, "syntax", "body".to_string())
    };
    let mut p = Problem::bad_request(&field, rule, format!("JSON 无效：{msg}"));
    p.status = status;
    p
}

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Problem> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !ct.starts_with("application/json") {
            let mut p = Problem::bad_request(
                "Content-Type",
                "media_type",
                format!("请求体应为 application/json，收到 `{ct}`"),
            );
            p.status = 415;
            return Err(p);
        }
        let limit = state.limits.json_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| too_large("body", limit))?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| json_error(&e))
    }
}

fn too_large(field: &str, limit: usize) -> Problem {
    let mut p = Problem::bad_request(
        field,
        "max_bytes",
        format!("请求体超过上限 {limit} 字节 (payload too large)"),
    );
    p.status = 413;
    p
}

pub(crate) fn require_role(caller: &Caller, roles: &[Role], what: &str) -> Result<(), Problem> {
    let ok = match &caller.principal {
        Principal::User(u) => roles.contains(&u.role),
        Principal::System(_) => false,
    };
    if ok {
        Ok(())
    } else {
        let names: Vec<&str> = roles.iter().map(|r| r.name_zh()).collect();
        Err(Problem::forbidden(format!(
            "{what}仅限{}；当前身份 `{}` 无此职责",
            names.join("、"),
            caller.principal.id()
        )))
    }
}

// ----- session -----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The current 6-digit code of the user's authenticator (RFC 6238 TOTP).
    #[serde(default)]
    pub totp: String,
}

/// A password change: the current password and the new one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// The logged-in principal and, for sessions, the CSRF token to send as `X-CSRF-Token`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    pub username: String,
    pub principal: String,
    pub name: String,
    pub org_code: String,
    pub role: String,
    pub clearance: String,
    pub csrf_token: String,
    /// The initial password must be changed before anything else.
    pub must_change_password: bool,
}

pub fn session_info(caller: &Caller) -> SessionInfo {
    let (name, role) = match &caller.principal {
        Principal::User(u) => (u.name.clone(), u.role.name_zh().to_string()),
        Principal::System(s) => (s.id.clone(), "部门系统".to_string()),
    };
    SessionInfo {
        username: caller.username().to_string(),
        principal: caller.principal.id().to_string(),
        name,
        org_code: caller.principal.org_code().to_string(),
        role,
        clearance: format!("{:?}", caller.principal.clearance()),
        csrf_token: caller.csrf().to_string(),
        must_change_password: matches!(&caller.via, Via::Session { session, .. } if session.must_change_password),
    }
}

/// 登录：用户名、口令与动态口令（TOTP）换取会话 Cookie（HttpOnly, SameSite=Strict）与 CSRF 令牌。
#[utoipa::path(post, path = "/api/v1/session", request_body = LoginRequest,
    responses((status = 200, body = SessionInfo), (status = 401, body = Problem),
        (status = 429, body = Problem), (status = 422, body = Problem)))]
async fn login(
    State(state): State<Arc<AppState>>,
    auth::Source(source): auth::Source,
    auth::PeerCert(cert): auth::PeerCert,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Response, Problem> {
    let st = state.clone();
    let (token, session) = blocking(move || {
        auth::login(
            &st,
            &req.username,
            &req.password,
            &req.totp,
            &source,
            cert.as_deref(),
        )
    })
    .await?;
    let principal = state
        .principal(&session.principal)
        .ok_or_else(Problem::unauthenticated)?
        .clone();
    let caller = Caller {
        principal,
        via: Via::Session {
            token: token.clone(),
            session,
        },
    };
    let mut res = Json(session_info(&caller)).into_response();
    set_cookie(res.headers_mut(), &auth::session_cookie(&token));
    Ok(res)
}

pub fn set_cookie(headers: &mut HeaderMap, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.append(header::SET_COOKIE, v);
    }
}

/// 退出登录。
#[utoipa::path(delete, path = "/api/v1/session",
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn logout(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    auth::Source(source): auth::Source,
) -> Response {
    auth::logout(&state, &caller, &source);
    let mut res = StatusCode::NO_CONTENT.into_response();
    set_cookie(res.headers_mut(), &auth::clear_cookie());
    res
}

/// 修改口令（初始口令须在首次登录后修改）。
#[utoipa::path(post, path = "/api/v1/session/password", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn change_password(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    auth::Source(source): auth::Source,
    JsonBody(req): JsonBody<PasswordChange>,
) -> Result<StatusCode, Problem> {
    let Via::Session { session, .. } = &caller.via else {
        return Err(Problem::forbidden("只有登录用户可以修改口令 (people only)"));
    };
    let username = session.username.clone();
    blocking(move || {
        auth::change_password(
            &state,
            &username,
            &req.current_password,
            &req.new_password,
            &source,
        )
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 当前身份。
#[utoipa::path(get, path = "/api/v1/session",
    responses((status = 200, body = SessionInfo), (status = 401, body = Problem)))]
async fn me(caller: Caller) -> Json<SessionInfo> {
    Json(session_info(&caller))
}

// ----- cases -----

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–200, default 20.
    pub limit: Option<usize>,
    /// Text that a shown field of the case contains (uid, number, charge …).
    pub q: Option<String>,
    /// 案件类别 code, matched on the shown value.
    pub category: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseSummary {
    pub case_uid: String,
    /// The case record's fields as shown to the caller (masked or `***` as decided).
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseSummary>,
    pub next_cursor: Option<String>,
    /// Cases considered for this page (visible or not).
    pub scanned: usize,
}

/// Query parameters are parsed here so an unknown or malformed one is a problem naming it.
fn parse_query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, Problem> {
    let raw = raw.unwrap_or("");
    let pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let mut obj = serde_json::Map::new();
    for (k, v) in pairs {
        let value = match v.parse::<u64>() {
            Ok(n) if k != "q" && k != "category" && k != "cursor" && k != "uid" => n.into(),
            _ => serde_json::Value::String(v),
        };
        obj.insert(k, value);
    }
    serde_json::from_value(serde_json::Value::Object(obj)).map_err(|e| {
        let mut p = json_error(&e);
        p.status = 400;
        p
    })
}

fn hex_value(d: u8) -> u8 {
    match d {
        b'0'..=b'9' => d - b'0',
        b'a'..=b'f' => d - b'a' + 10,
        _ => d - b'A' + 10,
    }
}

/// `%XX` and `+` decoding of a query component; a `%` not followed by two hex digits stays.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(&h), Some(&l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                    out.push(hex_value(h) << 4 | hex_value(l));
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// 案件列表：按权限过滤（编译后的策略逐行判定），字段按权限脱敏；游标分页。
#[utoipa::path(get, path = "/api/v1/cases", params(CaseQuery),
    responses((status = 200, body = CaseList), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
async fn list_cases(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Json<CaseList>, Problem> {
    let q: CaseQuery = parse_query(uri.query())?;
    blocking(move || list_cases_for(&state, &caller.principal, &q).map(Json)).await
}

/// The case listing of [`list_cases`], for the UI too.
pub fn list_cases_for(
    state: &AppState,
    principal: &Principal,
    q: &CaseQuery,
) -> Result<CaseList, Problem> {
    let after = decode_cursor(q.cursor.as_deref())?;
    let limit = page_limit(q.limit)?;
    let text = q.q.clone().filter(|s| !s.is_empty());
    let category = q.category.clone().filter(|s| !s.is_empty());
    let keep = move |fields: &[(&'static str, String)]| {
        let t = text
            .as_deref()
            .is_none_or(|t| fields.iter().any(|(_, v)| v.contains(t)));
        let c = category
            .as_deref()
            .is_none_or(|c| fields.iter().any(|(k, v)| *k == "category" && v == c));
        t && c
    };
    let authz = state.authz()?;
    let mut store = state.store()?;
    let page = SharedReader::new(&mut *store, &authz, &state.salt)
        .list_cases(
            principal,
            &after,
            limit,
            state.limits.list_scan,
            &today_ctx(),
            &keep,
        )
        .map_err(read_error)?;
    Ok(CaseList {
        items: page
            .rows
            .into_iter()
            .map(|r| CaseSummary {
                case_uid: r.case_uid,
                fields: r
                    .fields
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            })
            .collect(),
        next_cursor: page.next_after.map(|k| encode_cursor(&k)),
        scanned: page.scanned,
    })
}

fn read_error(e: xiezhi_access::reader::ReadError) -> Problem {
    match e {
        xiezhi_access::reader::ReadError::NoCase(uid) => {
            Problem::not_found(format!("案件 `{uid}` 不存在"))
        }
        other => Problem::internal(&other),
    }
}

/// One field's decision, explained.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldDoc {
    pub field: String,
    pub name_zh: String,
    /// L1–L4.
    pub level: String,
    pub permit: bool,
    /// `show`, `mask` or `redact`.
    pub action: String,
    /// The masking operator in Chinese, when masked.
    pub masking: Option<String>,
    /// The Cedar policies that decided.
    pub policies: Vec<String>,
    pub reason_zh: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectionDoc {
    pub entity: String,
    pub entity_zh: String,
    pub fields: Vec<FieldDoc>,
    pub records: Vec<BTreeMap<String, String>>,
    /// Records that exist but were withheld: no field of them is permitted.
    pub withheld: usize,
}

/// One case across departments as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDoc {
    pub case_uid: String,
    pub participating_orgs: Vec<String>,
    pub ongoing_investigation: bool,
    pub sections: Vec<SectionDoc>,
    /// Ledger entries appended for this read (one per decision).
    pub decisions_logged: usize,
}

pub fn case_doc(view: &CaseView) -> CaseDoc {
    let sections = view
        .sections
        .iter()
        .map(|s| SectionDoc {
            entity: s.entity.name().to_string(),
            entity_zh: s.entity.name_zh().to_string(),
            fields: s
                .plan
                .fields
                .iter()
                .map(|f| {
                    let (action, masking) = match f.action {
                        FieldAction::Show => ("show", None),
                        FieldAction::Mask(op) => ("mask", Some(op.name_zh().to_string())),
                        FieldAction::Redact => ("redact", None),
                    };
                    FieldDoc {
                        field: f.field.clone(),
                        name_zh: s
                            .entity
                            .field(&f.field)
                            .map_or(f.field.clone(), |d| d.name_zh.to_string()),
                        level: format!("{:?}", f.level),
                        permit: f.permit,
                        action: action.to_string(),
                        masking,
                        policies: f.policies.clone(),
                        reason_zh: f.reason_zh.clone(),
                    }
                })
                .collect(),
            records: s
                .records
                .iter()
                .map(|r| {
                    r.fields
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.clone()))
                        .collect()
                })
                .collect(),
            withheld: s.withheld,
        })
        .collect();
    CaseDoc {
        case_uid: view.resource.case_uid.clone(),
        participating_orgs: view.resource.participating_orgs.clone(),
        ongoing_investigation: view.resource.ongoing_investigation,
        sections,
        decisions_logged: view.decisions_logged,
    }
}

/// [`CaseDoc`] borrowed from the view: the same JSON, byte for byte, without copying every
/// field name, reason and value into owned strings first (the hot read's response).
#[derive(Serialize)]
struct CaseDocRef<'a> {
    case_uid: &'a str,
    participating_orgs: &'a [String],
    ongoing_investigation: bool,
    sections: Vec<SectionDocRef<'a>>,
    decisions_logged: usize,
}

#[derive(Serialize)]
struct SectionDocRef<'a> {
    entity: &'static str,
    entity_zh: &'static str,
    fields: Vec<FieldDocRef<'a>>,
    records: Vec<&'a BTreeMap<&'static str, String>>,
    withheld: usize,
}

#[derive(Serialize)]
struct FieldDocRef<'a> {
    field: &'a str,
    name_zh: &'a str,
    level: xiezhi_standard::Level,
    permit: bool,
    action: &'static str,
    masking: Option<&'static str>,
    policies: &'a [String],
    reason_zh: &'a str,
}

impl<'a> CaseDocRef<'a> {
    fn new(view: &'a CaseView) -> Self {
        let sections = view
            .sections
            .iter()
            .map(|s| SectionDocRef {
                entity: s.entity.name(),
                entity_zh: s.entity.name_zh(),
                fields: s
                    .plan
                    .fields
                    .iter()
                    .map(|f| {
                        let (action, masking) = match f.action {
                            FieldAction::Show => ("show", None),
                            FieldAction::Mask(op) => ("mask", Some(op.name_zh())),
                            FieldAction::Redact => ("redact", None),
                        };
                        FieldDocRef {
                            field: &f.field,
                            name_zh: s.entity.field(&f.field).map_or(&f.field, |d| d.name_zh),
                            level: f.level,
                            permit: f.permit,
                            action,
                            masking,
                            policies: &f.policies,
                            reason_zh: &f.reason_zh,
                        }
                    })
                    .collect(),
                records: s.records.iter().map(|r| &r.fields).collect(),
                withheld: s.withheld,
            })
            .collect();
        CaseDocRef {
            case_uid: &view.resource.case_uid,
            participating_orgs: &view.resource.participating_orgs,
            ongoing_investigation: view.resource.ongoing_investigation,
            sections,
            decisions_logged: view.decisions_logged,
        }
    }
}

/// The JSON response of a case view ([`CaseDoc`]'s form).
fn case_json(view: &CaseView) -> Result<axum::response::Response, Problem> {
    let body = serde_json::to_vec(&CaseDocRef::new(view)).map_err(|e| Problem::internal(&e))?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// Reads a case for a principal; a case of which not one field of the case record is
/// permitted is a 403 naming the reason and the data request that would grant it.
pub fn read_case_for(
    state: &AppState,
    principal: &Principal,
    uid: &str,
) -> Result<CaseDoc, Problem> {
    let read = prepare_read(state, principal, uid)?;
    // In the ledger (group-committed with concurrent reads) before anything is returned.
    state.ledger.log(read.pending.entry().clone())?;
    read.logged(principal)
}

/// A case read decided and masked, its ledger entry not yet committed.
pub(crate) struct PreparedRead {
    pending: xiezhi_access::reader::PendingRead,
    authz: Arc<xiezhi_access::Authorizer>,
    ctx: RequestContext,
}

/// Gathers (through the case cache), decides and masks a case on a pooled read connection.
pub(crate) fn prepare_read(
    state: &AppState,
    principal: &Principal,
    uid: &str,
) -> Result<PreparedRead, Problem> {
    prepare_with(state, principal, uid, false)
        .transpose()
        .unwrap_or_else(|| Err(Problem::internal("case read without a result")))
}

/// [`prepare_read`] when the case cache holds the case; `None` when it has to be gathered.
fn prepare_if_held(
    state: &AppState,
    principal: &Principal,
    uid: &str,
) -> Result<Option<PreparedRead>, Problem> {
    prepare_with(state, principal, uid, true)
}

fn prepare_with(
    state: &AppState,
    principal: &Principal,
    uid: &str,
    held_only: bool,
) -> Result<Option<PreparedRead>, Problem> {
    let authz = state.authz()?;
    let ctx = today_ctx();
    let pending = {
        let reader = state.reader()?;
        reader.begin_snapshot()?;
        let decider = Decider::Cached(&state.views, &authz);
        let read = if held_only {
            prepare_held_case_read(
                &**reader,
                &state.cases,
                &decider,
                &state.salt,
                principal,
                uid,
                &ctx,
            )
        } else {
            prepare_case_read_cached(
                &**reader,
                &state.cases,
                &decider,
                &state.salt,
                principal,
                uid,
                &ctx,
            )
            .map(Some)
        };
        reader.end_snapshot()?;
        read.map_err(read_error)?
    };
    Ok(pending.map(|pending| PreparedRead {
        pending,
        authz,
        ctx,
    }))
}

impl PreparedRead {
    /// The document of the read, once its entry is in the ledger.
    fn logged(self, principal: &Principal) -> Result<CaseDoc, Problem> {
        self.visible(principal).map(|v| case_doc(&v))
    }

    /// The view of the read, once its entry is in the ledger; a 403 when not one field of the
    /// case record is permitted.
    fn visible(self, principal: &Principal) -> Result<CaseView, Problem> {
        let PreparedRead {
            pending,
            authz,
            ctx,
        } = self;
        let view = pending.logged();
        let case_visible = view
            .sections
            .iter()
            .any(|s| s.entity == Entity::Case && !s.records.is_empty());
        if !case_visible {
            let field = FieldRef::standard(Entity::Case, Entity::Case.fields()[0].name)
                .ok_or_else(|| Problem::internal("schema: case has no fields"))?;
            let d = authz.decide(
                principal,
                Action::Read,
                &Resource::new(&view.resource, field),
                &ctx,
            )?;
            let mut p = Problem::forbidden(d.summary_zh());
            p.access = Some(serde_json::json!({
                "policies": d.policies,
                "request_hint": d.deny_hint,
            }));
            return Err(p);
        }
        Ok(view)
    }
}

/// [`read_case_for`] for async handlers. A case the case cache holds is decided and masked
/// in place (CPU work of a fraction of a millisecond: a hand-off to another thread and back
/// would cost about as much); a case to gather from the store is read on the blocking pool,
/// at most [`AppState::read_slots`] at a time (more threads than cores only add switching
/// and tail latency). The task, not a thread, waits for the group commit.
pub(crate) async fn read_case_async(
    state: Arc<AppState>,
    principal: Principal,
    uid: String,
) -> Result<CaseView, Problem> {
    let read = match prepare_if_held(&state, &principal, &uid)? {
        Some(read) => read,
        None => {
            let _slot = state
                .read_slots
                .acquire()
                .await
                .map_err(|e| Problem::internal(&e))?;
            let (state, principal) = (Arc::clone(&state), principal.clone());
            blocking(move || prepare_read(&state, &principal, &uid)).await?
        }
    };
    state.ledger.log_async(read.pending.entry().clone()).await?;
    read.visible(&principal)
}

/// 单个案件跨部门视图：案件、人员、流程节点、文书、判决、执行，每个字段经策略判定并脱敏、记入审计账本。
#[utoipa::path(get, path = "/api/v1/cases/{uid}", params(("uid" = String, Path, description = "platform case uid")),
    responses((status = 200, body = CaseDoc), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn read_case(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(uid): Path<String>,
) -> Result<axum::response::Response, Problem> {
    case_json(&read_case_async(state, caller.principal, uid).await?)
}

/// 案件涉案人员（经策略判定并脱敏）。
#[utoipa::path(get, path = "/api/v1/cases/{uid}/persons", params(("uid" = String, Path, description = "platform case uid")),
    responses((status = 200, body = SectionDoc), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn case_persons(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(uid): Path<String>,
) -> Result<Json<SectionDoc>, Problem> {
    blocking(move || {
        let doc = read_case_for(&state, &caller.principal, &uid)?;
        doc.sections
            .into_iter()
            .find(|s| s.entity == Entity::Person.name())
            .map(Json)
            .ok_or_else(|| Problem::not_found(format!("案件 `{uid}` 没有涉案人员记录")))
    })
    .await
}

// ----- ingest and quarantine -----

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IngestQuery {
    /// Source of the mapping to use (`police`, `procuratorate`, `court`, `corrections`, …).
    pub source: String,
    /// File name as the department sent it (kept in lineage and quarantine).
    pub file: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IngestReport {
    /// The batch report: counts (read = accepted + quarantined), reasons, repairs, quality.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// The records of this file that were quarantined, with every reason.
    pub quarantined: Vec<QuarantineDoc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonDoc {
    pub field: String,
    pub rule: String,
    pub severity: String,
    pub value: Option<String>,
    pub message_zh: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantineDoc {
    pub id: i64,
    pub source: String,
    pub file: String,
    pub record_no: i64,
    pub line: i64,
    pub status: String,
    pub reasons: Vec<ReasonDoc>,
    /// Raw fields as read (column, text).
    pub raw: Vec<(String, String)>,
}

pub fn quarantine_doc(e: &QuarantineEntry) -> QuarantineDoc {
    QuarantineDoc {
        id: e.id,
        source: e.source.clone(),
        file: e.file.clone(),
        record_no: e.record_no,
        line: e.line,
        status: e.status.clone(),
        reasons: e
            .reasons
            .iter()
            .map(|r| ReasonDoc {
                field: r.field.clone(),
                rule: r.rule.clone(),
                severity: r.severity.clone(),
                value: r.value.clone(),
                message_zh: r.message_zh.clone(),
            })
            .collect(),
        raw: e.raw.clone(),
    }
}

const GOVERNANCE: &[Role] = &[Role::DataSteward];

/// Ingests one uploaded department export with its source's mapping.
pub fn ingest_bytes(
    state: &AppState,
    caller: &Caller,
    source: &str,
    file: &str,
    bytes: &[u8],
) -> Result<IngestReport, Problem> {
    // Department systems push their own exports; people need the steward's role.
    if !matches!(caller.principal, Principal::System(_)) {
        require_role(caller, GOVERNANCE, "接入部门数据")?;
    }
    ingest_checked(state, source, file, bytes)
}

/// Ingests bytes in a source's format once the caller's right to write them is established
/// (the steward's upload, or an officer's act recorded from the console).
pub(crate) fn ingest_checked(
    state: &AppState,
    source: &str,
    file: &str,
    bytes: &[u8],
) -> Result<IngestReport, Problem> {
    if bytes.is_empty() {
        return Err(Problem::bad_request("file", "empty", "上传的文件为空"));
    }
    let plans = mappings(state)?;
    let Some(plan) = plans.iter().find(|p| p.source == source) else {
        let known: Vec<&str> = plans.iter().map(|p| p.source.as_str()).collect();
        return Err(Problem::bad_request(
            "source",
            "unknown_source",
            format!("没有来源 `{source}` 的映射；可用：{}", known.join(", ")),
        ));
    };
    let safe: String = file
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let safe = if safe.is_empty() {
        "upload".into()
    } else {
        safe
    };
    let dir = state.data.join("uploads");
    std::fs::create_dir_all(&dir).map_err(|e| Problem::internal(&e))?;
    let path = dir.join(format!("{}-{safe}", auth::random_token(6)));
    std::fs::write(&path, bytes).map_err(|e| Problem::internal(&e))?;
    let mut store = state.store()?;
    let report = {
        let mut ingestor = Ingestor::new(&mut *store).map_err(|e| Problem::internal(&e))?;
        ingestor.ingest_file(plan, &path, file, &IngestOptions::default(), &mut |_, _| {})
    };
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            return Err(Problem::new(422, "文件无法接入 (export rejected)")
                .kind("export-rejected")
                .detail(e.to_string())
                .field("file", "export"))
        }
    };
    let _ = state.log.checkpoint(
        &mut *store,
        &chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
    );
    let quarantined = store
        .quarantine_list(None, usize::MAX)?
        .iter()
        .filter(|q| q.run_id == report.run_id)
        .map(quarantine_doc)
        .collect();
    Ok(IngestReport {
        report: serde_json::to_value(&report).map_err(|e| Problem::internal(&e))?,
        quarantined,
    })
}

fn mappings(state: &AppState) -> Result<Vec<xiezhi_ingest::Plan>, Problem> {
    let dir = state.data.join("mappings");
    let plans = if dir.exists() {
        xiezhi_ingest::export::plans_from_dir(&dir).map_err(|errs| {
            Problem::internal(format!(
                "映射目录 `{}` 中有 {} 个映射无效",
                dir.display(),
                errs.len()
            ))
        })?
    } else {
        xiezhi_ingest::export::shipped_plans().map_err(|e| Problem::internal(&e))?
    };
    Ok(plans)
}

/// 上传部门导出文件并接入：返回批次报告（读入 = 接收 + 隔离）与本文件的隔离记录及原因。
#[utoipa::path(post, path = "/api/v1/ingest", params(IngestQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = IngestReport), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn ingest(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
    req: Request,
) -> Result<Json<IngestReport>, Problem> {
    let q: IngestQuery = parse_query(uri.query())?;
    let limit = state.limits.upload_bytes;
    let bytes = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| too_large("file", limit))?;
    let file = q
        .file
        .clone()
        .unwrap_or_else(|| format!("{}-upload", q.source));
    blocking(move || ingest_bytes(&state, &caller, &q.source, &file, &bytes).map(Json)).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuarantineQuery {
    pub cursor: Option<String>,
    pub limit: Option<usize>,
    /// `open` (default) or `all`.
    pub status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantineList {
    pub items: Vec<QuarantineDoc>,
    pub next_cursor: Option<String>,
    /// Open records by rule.
    pub by_rule: Vec<(String, i64)>,
}

pub fn quarantine_for(
    state: &AppState,
    caller: &Caller,
    q: &QuarantineQuery,
) -> Result<QuarantineList, Problem> {
    require_role(caller, GOVERNANCE, "隔离区")?;
    let after: i64 = match decode_cursor(q.cursor.as_deref())?.as_str() {
        "" => 0,
        s => s
            .parse()
            .map_err(|_| Problem::bad_request("cursor", "cursor", "游标无效"))?,
    };
    let limit = page_limit(q.limit)?;
    let status = match q.status.as_deref().unwrap_or("open") {
        "open" => Some("open"),
        "all" => None,
        other => {
            return Err(Problem::bad_request(
                "status",
                "enum",
                format!("status `{other}` 无效：应为 open 或 all"),
            ))
        }
    };
    let store = state.store()?;
    let mut all: Vec<QuarantineEntry> = store.quarantine_list(status, usize::MAX)?;
    all.retain(|e| e.id > after);
    all.sort_by_key(|e| e.id);
    let more = all.len() > limit;
    all.truncate(limit);
    Ok(QuarantineList {
        next_cursor: more
            .then(|| all.last().map(|e| encode_cursor(&e.id.to_string())))
            .flatten(),
        items: all.iter().map(quarantine_doc).collect(),
        by_rule: store.quarantine_by_rule()?,
    })
}

/// 隔离区：被拒记录及全部原因（文件、行、字段、规则、值）。数据管理员。
#[utoipa::path(get, path = "/api/v1/quarantine", params(QuarantineQuery),
    responses((status = 200, body = QuarantineList), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_quarantine(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Json<QuarantineList>, Problem> {
    let q: QuarantineQuery = parse_query(uri.query())?;
    blocking(move || quarantine_for(&state, &caller, &q).map(Json)).await
}

/// 一条隔离记录。
#[utoipa::path(get, path = "/api/v1/quarantine/{id}", params(("id" = i64, Path, description = "quarantine id")),
    responses((status = 200, body = QuarantineDoc), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn show_quarantine(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<QuarantineDoc>, Problem> {
    require_role(&caller, GOVERNANCE, "隔离区")?;
    let id: i64 = id
        .parse()
        .map_err(|_| Problem::bad_request("id", "integer", format!("`{id}` 不是隔离记录编号")))?;
    blocking(move || {
        let store = state.store()?;
        store
            .quarantine_get(id)?
            .map(|e| Json(quarantine_doc(&e)))
            .ok_or_else(|| Problem::not_found(format!("隔离记录 {id} 不存在")))
    })
    .await
}

// ----- data requests -----

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestList {
    /// Requests the caller made, or that its organ decides.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<DataRequest>,
}

pub fn requests_for(state: &AppState, principal: &Principal) -> Result<RequestList, Problem> {
    let store = state.store()?;
    let all = state::requests(&store)?;
    let steward = principal.role() == Some(Role::DataSteward);
    Ok(RequestList {
        items: all
            .into_iter()
            .filter(|r| {
                steward || r.requester == principal.id() || r.owner_org == principal.org_code()
            })
            .collect(),
    })
}

/// 数据共享申请：本人提出的与本机构审核的。
#[utoipa::path(get, path = "/api/v1/requests",
    responses((status = 200, body = RequestList), (status = 401, body = Problem)))]
async fn list_requests(
    caller: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<RequestList>, Problem> {
    blocking(move || requests_for(&state, &caller.principal).map(Json)).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    pub case_uid: String,
    /// Entities or `entity.field` items (`person`, `person.name`).
    pub scope: Vec<String>,
    pub purpose: String,
}

/// Submits a data request (申请) as a user; stored with its ledger entry.
pub fn submit_for(
    state: &AppState,
    principal: &Principal,
    req: &SubmitRequest,
) -> Result<DataRequest, Problem> {
    let Principal::User(user) = principal else {
        return Err(Problem::forbidden("部门系统不能办理数据申请"));
    };
    if req.purpose.trim().is_empty() {
        return Err(Problem::bad_request("purpose", "required", "须说明用途"));
    }
    let mut store = state.store()?;
    let resource = case_resource(&*store, &req.case_uid)?
        .ok_or_else(|| Problem::not_found(format!("案件 `{}` 不存在", req.case_uid)))?;
    let id = format!("R{:04}", state::requests(&store)?.len() + 1);
    let (r, event) = DataRequest::submit(
        id,
        user,
        &resource,
        req.scope.clone(),
        req.purpose.clone(),
        chrono::Local::now().naive_local(),
    )
    .map_err(|e| Problem::bad_request("scope", "request", e.to_string()))?;
    let entry = xiezhi_access::reader::ledger_event(&event, &r.case_uid);
    let body = serde_json::to_string(&r).map_err(|e| Problem::internal(&e))?;
    store.put_workflow_item(state::REQUEST_KIND, &r.id, &body, &[entry])?;
    Ok(r)
}

/// 提出数据共享申请（申请 → 审核 → 授权 → 使用 → 反馈）。
#[utoipa::path(post, path = "/api/v1/requests", request_body = SubmitRequest,
    responses((status = 201, body = Object), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn submit_request(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    JsonBody(req): JsonBody<SubmitRequest>,
) -> Result<(StatusCode, Json<DataRequest>), Problem> {
    blocking(move || {
        submit_for(&state, &caller.principal, &req).map(|r| (StatusCode::CREATED, Json(r)))
    })
    .await
}

/// One workflow step on a filed data request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestActionRequest {
    /// `review` (审核), `grant` (授权), `use` (使用), `feedback` (反馈) or `revoke` (撤销).
    pub action: String,
    /// For `review`: approve or reject.
    pub approve: Option<bool>,
    /// For `review` and `revoke`.
    pub reason: Option<String>,
    /// For `grant`: last valid day, `YYYY-MM-DD`.
    pub expires: Option<String>,
    /// For `grant`: a narrower scope than requested; empty grants what was asked.
    #[serde(default)]
    pub scope: Vec<String>,
    /// For `grant`: the purpose; absent keeps the requested one.
    pub purpose: Option<String>,
    /// For `use`.
    pub detail: Option<String>,
    /// For `feedback`.
    pub text: Option<String>,
}

impl RequestActionRequest {
    fn step(&self) -> Result<RequestStep, Problem> {
        let text = |v: &Option<String>, field: &str| {
            v.clone()
                .ok_or_else(|| Problem::bad_request(field, "required", format!("须填写 `{field}`")))
        };
        Ok(match self.action.as_str() {
            "review" => RequestStep::Review {
                approve: self.approve.ok_or_else(|| {
                    Problem::bad_request("approve", "required", "须说明审核是否通过")
                })?,
                reason: text(&self.reason, "reason")?,
            },
            "grant" => {
                let raw = text(&self.expires, "expires")?;
                let expires =
                    chrono::NaiveDate::parse_from_str(&raw, "%Y-%m-%d").map_err(|_| {
                        Problem::bad_request(
                            "expires",
                            "date",
                            format!("有效期 `{raw}` 不是 YYYY-MM-DD 日期"),
                        )
                    })?;
                RequestStep::Grant {
                    expires,
                    scope: self.scope.clone(),
                    purpose: self.purpose.clone().filter(|p| !p.trim().is_empty()),
                }
            }
            "use" => RequestStep::Use {
                detail: text(&self.detail, "detail")?,
            },
            "feedback" => RequestStep::Feedback {
                text: text(&self.text, "text")?,
            },
            "revoke" => RequestStep::Revoke {
                reason: text(&self.reason, "reason")?,
            },
            other => {
                return Err(Problem::bad_request(
                    "action",
                    "one_of",
                    format!("未知的办理步骤 `{other}`（review、grant、use、feedback、revoke）"),
                ))
            }
        })
    }
}

/// A refused step as a problem: who may not (403), which state forbids it (409), or which
/// value is wrong (400).
fn request_problem(e: RequestError) -> Problem {
    let message = e.to_string();
    match e {
        RequestError::NotAllowed { .. } => Problem::forbidden(message),
        RequestError::IllegalTransition { .. } | RequestError::GrantExpired { .. } => {
            Problem::new(409, message).field("action", "state")
        }
        RequestError::Empty(_) => Problem::bad_request("body", "required", message),
        RequestError::ScopeWidened { .. } => {
            Problem::bad_request("scope", "within_request", message)
        }
        RequestError::ExpiryInPast { .. } => Problem::bad_request("expires", "not_past", message),
        RequestError::NoOwner(_) => Problem::bad_request("case_uid", "owner", message),
        RequestError::Access(e) => Problem::internal(&e),
    }
}

/// Takes one step on a request as a user: stored with its ledger entry, then the grants in
/// force are rebuilt from the store so a grant or revocation takes effect at once.
pub fn request_step_for(
    state: &AppState,
    principal: &Principal,
    id: &str,
    req: &RequestActionRequest,
) -> Result<DataRequest, Problem> {
    let Principal::User(user) = principal else {
        return Err(Problem::forbidden("部门系统不能办理数据申请"));
    };
    let step = req.step()?;
    let mut store = state.store()?;
    let body = store
        .workflow_item(state::REQUEST_KIND, id)?
        .ok_or_else(|| Problem::not_found(format!("数据申请 `{id}` 不存在")))?;
    let mut r: DataRequest = serde_json::from_str(&body).map_err(|e| Problem::internal(&e))?;
    let mut scratch = (*state.authz()?).clone();
    let event = r
        .take(user, step, chrono::Local::now().naive_local(), &mut scratch)
        .map_err(request_problem)?;
    let entry = xiezhi_access::reader::ledger_event(&event, &r.case_uid);
    let body = serde_json::to_string(&r).map_err(|e| Problem::internal(&e))?;
    store.put_workflow_item(state::REQUEST_KIND, &r.id, &body, &[entry])?;
    state.reload_authz(&mut store)?;
    Ok(r)
}

/// 办理数据共享申请：审核、授权、使用、反馈、撤销；每一步记入审计账本。
#[utoipa::path(post, path = "/api/v1/requests/{id}/actions", request_body = RequestActionRequest,
    params(("id" = String, Path, description = "申请编号")),
    responses((status = 200, body = Object), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn act_on_request(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<RequestActionRequest>,
) -> Result<Json<DataRequest>, Problem> {
    blocking(move || request_step_for(&state, &caller.principal, &id, &req).map(Json)).await
}

// ----- risks -----

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RiskQuery {
    pub cursor: Option<String>,
    pub limit: Option<usize>,
    /// Colour: `red`, `orange`, `yellow` or `blue`.
    pub severity: Option<String>,
    /// `warned`, `confirmed`, `dismissed`, `rectified` or `closed`; default every status.
    pub status: Option<String>,
    /// One item by id (`case_uid:rule_id`).
    pub id: Option<String>,
}

/// One step of a risk item's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskStepDoc {
    pub on: String,
    pub action: String,
    pub by: String,
    pub note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RiskDoc {
    /// `case_uid:rule_id`.
    pub id: String,
    pub rule_id: String,
    pub title_zh: String,
    /// Colour by severity and days overdue: 红/橙/黄/蓝.
    pub severity_zh: String,
    pub severity: String,
    /// `warned` (预警), `confirmed` (核查属实), `dismissed`, `rectified`, `closed` (销号).
    pub status: String,
    pub status_zh: String,
    pub assignee: String,
    pub overdue_days: i64,
    pub case_uid: String,
    pub due: String,
    pub explanation_zh: String,
    /// The legal basis, cited (`《刑事诉讼法》(2018) 第91条第1款`), and the sentence relied on.
    pub basis: String,
    pub basis_quote: String,
    pub facts_used: Vec<String>,
    pub history: Vec<RiskStepDoc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RiskList {
    pub items: Vec<RiskDoc>,
    pub next_cursor: Option<String>,
    /// Counts by colour over every visible open item.
    pub by_severity: BTreeMap<String, usize>,
}

pub(crate) fn risk_doc(r: &RiskRecord) -> RiskDoc {
    let name = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    RiskDoc {
        id: r.id.clone(),
        rule_id: r.rule_id.clone(),
        title_zh: r.title_zh.clone(),
        severity_zh: r.colour.name_zh().to_string(),
        severity: name(serde_json::to_value(r.colour)),
        status: name(serde_json::to_value(r.status)),
        status_zh: r.status.name_zh().to_string(),
        assignee: r.assignee.clone(),
        overdue_days: r.overdue_days,
        case_uid: r.case_uid.clone(),
        due: r.due.to_string(),
        explanation_zh: r.explanation_zh.clone(),
        basis: r.basis.clone(),
        basis_quote: r.basis_quote.clone(),
        facts_used: r.facts_used.clone(),
        history: r
            .history
            .iter()
            .map(|h| RiskStepDoc {
                on: h.on.to_string(),
                action: h.action.clone(),
                by: h.by.clone(),
                note: h.note.clone(),
            })
            .collect(),
    }
}

/// Whether the principal may read the procedural events (流程节点) of a case: the test for
/// seeing its risk items.
pub(crate) fn sees_case_events(
    view: &xiezhi_access::compiled::CompiledView<'_>,
    store: &xiezhi_store::AnyStore,
    case_uid: &str,
) -> Result<bool, Problem> {
    Ok(match case_resource(store, case_uid)? {
        Some(r) => view.row_visible(&r)?,
        None => false,
    })
}

/// The risk worklist (`xiezhi_supervise::lifecycle`, kept by `xiezhi supervise run` and
/// `POST /api/v1/risks/run`) of the cases whose procedural events the principal may read.
pub fn risks_for(
    state: &AppState,
    principal: &Principal,
    q: &RiskQuery,
) -> Result<RiskList, Problem> {
    let limit = page_limit(q.limit)?;
    let after = decode_cursor(q.cursor.as_deref())?;
    let store = state.store()?;
    let records = lifecycle::records(&*store)?;
    let authz = state.authz()?;
    let view = authz.compile(principal, Action::Read, Entity::Event, &today_ctx())?;
    let mut visible: BTreeMap<String, bool> = BTreeMap::new();
    let mut kept = Vec::new();
    for r in records {
        let seen = match visible.get(&r.case_uid) {
            Some(v) => *v,
            None => {
                let v = sees_case_events(&view, &store, &r.case_uid)?;
                visible.insert(r.case_uid.clone(), v);
                v
            }
        };
        if seen {
            kept.push(r);
        }
    }
    let mut by_severity = BTreeMap::new();
    for r in kept.iter().filter(|r| r.status.is_open()) {
        *by_severity
            .entry(r.colour.name_zh().to_string())
            .or_insert(0) += 1;
    }
    let colour = q.severity.as_deref().filter(|s| !s.is_empty());
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    let mut docs: Vec<RiskDoc> = kept
        .iter()
        .map(risk_doc)
        .filter(|d| colour.is_none_or(|w| d.severity == w))
        .filter(|d| status.is_none_or(|w| d.status == w))
        .filter(|d| q.id.as_deref().is_none_or(|w| w.is_empty() || d.id == w))
        .collect();
    docs.sort_by(|a, b| a.id.cmp(&b.id));
    docs.retain(|d| after.is_empty() || d.id > after);
    let more = docs.len() > limit;
    docs.truncate(limit);
    Ok(RiskList {
        next_cursor: more
            .then(|| docs.last().map(|d| encode_cursor(&d.id)))
            .flatten(),
        items: docs,
        by_severity,
    })
}

/// 风险预警清单（执法监督）：每项附颜色、状态、承办机构、规则、法律依据、所用事实与处置经过；
/// 仅含可查阅其流程节点的案件。
#[utoipa::path(get, path = "/api/v1/risks", params(RiskQuery),
    responses((status = 200, body = RiskList), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
async fn list_risks(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Json<RiskList>, Problem> {
    let q: RiskQuery = parse_query(uri.query())?;
    blocking(move || risks_for(&state, &caller.principal, &q).map(Json)).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// Evaluate as of this day (YYYY-MM-DD); default today.
    pub as_of: Option<String>,
}

/// What a run changed in the worklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunReport {
    pub incremental: bool,
    pub cases_evaluated: usize,
    pub findings: usize,
    pub new: usize,
    pub updated: usize,
    pub reopened: usize,
    pub unchanged: usize,
}

/// Runs the rules (only over the cases changed since the last run for the same day) and brings
/// the worklist in line. Supervisors and leaders only.
pub fn run_for(
    state: &AppState,
    principal: &Principal,
    req: &RunRequest,
) -> Result<RunReport, Problem> {
    if !matches!(principal.role(), Some(Role::Supervisor | Role::Leader)) {
        return Err(Problem::forbidden("只有执法监督员或领导可以运行监督规则"));
    }
    let as_of = match req.as_of.as_deref() {
        None | Some("") => chrono::Local::now().date_naive(),
        Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            Problem::bad_request("as_of", "date", format!("as_of `{s}` 应为 YYYY-MM-DD"))
        })?,
    };
    let calendar = xiezhi_supervise::DataCalendar::shipped().map_err(Problem::internal)?;
    let mut store = state.store()?;
    let r = lifecycle::run(&mut *store, as_of, false, &calendar)?;
    Ok(RunReport {
        incremental: r.incremental,
        cases_evaluated: r.cases_evaluated,
        findings: r.findings,
        new: r.new,
        updated: r.updated,
        reopened: r.reopened,
        unchanged: r.unchanged,
    })
}

/// 运行监督规则并更新风险清单（同一日期下仅评估数据有变化的案件）。
#[utoipa::path(post, path = "/api/v1/risks/run", request_body = RunRequest,
    responses((status = 200, body = RunReport), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn run_risks(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    JsonBody(req): JsonBody<RunRequest>,
) -> Result<Json<RunReport>, Problem> {
    blocking(move || run_for(&state, &caller.principal, &req).map(Json)).await
}

/// A lifecycle step on a risk item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskActionRequest {
    /// `verify` (核查), `rectify` (整改), `close` (销号) or `assign` (转办).
    pub action: String,
    /// For `verify`: true = 属实, false = 不属实.
    pub confirmed: Option<bool>,
    /// The reason (核查) or note (整改, 销号).
    pub note: Option<String>,
    /// For `assign`: the organ code.
    pub org: Option<String>,
}

/// Applies a lifecycle step. 核查, 转办 and 销号 are the supervisor's (or a leader's); 整改 is
/// reported by the assigned organ or a supervisor. The caller must see the case's events.
pub fn act_for(
    state: &AppState,
    principal: &Principal,
    id: &str,
    req: &RiskActionRequest,
) -> Result<RiskDoc, Problem> {
    let supervisor = matches!(principal.role(), Some(Role::Supervisor | Role::Leader));
    let mut store = state.store()?;
    let record = lifecycle::record(&*store, id)?
        .ok_or_else(|| Problem::not_found(format!("风险事项 `{id}`")))?;
    let authz = state.authz()?;
    let view = authz.compile(principal, Action::Read, Entity::Event, &today_ctx())?;
    if !sees_case_events(&view, &store, &record.case_uid)? {
        return Err(Problem::not_found(format!("风险事项 `{id}`")));
    }
    let note = req.note.clone().unwrap_or_default();
    let action = match req.action.as_str() {
        "verify" => LifecycleAction::Verify {
            confirmed: req.confirmed.ok_or_else(|| {
                Problem::bad_request(
                    "confirmed",
                    "missing_field",
                    "核查须写明 confirmed（是否属实）",
                )
            })?,
            reason: note,
        },
        "rectify" => LifecycleAction::Rectify { note },
        "close" => LifecycleAction::Close { note },
        "assign" => LifecycleAction::Assign {
            org: req.org.clone().unwrap_or_default(),
        },
        other => {
            return Err(Problem::bad_request(
                "action",
                "one_of",
                format!("action `{other}` 应为 verify、rectify、close 或 assign"),
            ))
        }
    };
    let allowed = match action {
        LifecycleAction::Rectify { .. } => {
            supervisor || principal.org_code() == record.assignee.as_str()
        }
        _ => supervisor,
    };
    if !allowed {
        return Err(Problem::forbidden(format!(
            "「{}」须由执法监督员办理（整改可由承办机构 {} 报告）",
            req.action, record.assignee
        )));
    }
    let today = chrono::Local::now().date_naive();
    match lifecycle::act(&mut *store, id, &action, principal.id(), today) {
        Ok(r) => Ok(risk_doc(&r)),
        Err(ActionError::Store(e)) => Err(e.into()),
        Err(ActionError::NotFound(_)) => Err(Problem::not_found(format!("风险事项 `{id}`"))),
        Err(e @ ActionError::MissingReason(_)) => {
            Err(Problem::bad_request("note", "missing_field", e.to_string()))
        }
        Err(e @ ActionError::WrongState { .. }) => {
            Err(Problem::new(409, e.to_string()).field("action", "state"))
        }
    }
}

/// 风险处置：核查（属实/不属实）、整改、销号、转办；每一步记入审计账本。
#[utoipa::path(post, path = "/api/v1/risks/{id}/actions", request_body = RiskActionRequest,
    params(("id" = String, Path, description = "case_uid:rule_id")),
    responses((status = 200, body = RiskDoc), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn act_on_risk(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<RiskActionRequest>,
) -> Result<Json<RiskDoc>, Problem> {
    blocking(move || act_for(&state, &caller.principal, &id, &req).map(Json)).await
}

// ----- ledger -----

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointDoc {
    pub size: u64,
    pub root_hex: String,
    /// The signed note (C2SP tlog-checkpoint).
    pub note: String,
    /// The verifier key (`name+hash+key`).
    pub vkey: String,
}

pub fn checkpoint_doc(state: &AppState) -> Result<CheckpointDoc, Problem> {
    let mut store = state.store()?;
    let now = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string();
    let note = match state
        .log
        .checkpoint(&mut *store, &now)
        .map_err(|e| Problem::internal(&e))?
    {
        Some(n) => n,
        None => store
            .checkpoints()?
            .pop()
            .map(|(_, n)| n)
            .ok_or_else(|| Problem::not_found("账本为空"))?,
    };
    let (cp, _) =
        Checkpoint::open(&note, &[state.log.verifier()]).map_err(|e| Problem::internal(&e))?;
    Ok(CheckpointDoc {
        size: cp.size,
        root_hex: hex(&cp.root),
        note,
        vkey: state.log.verifier().to_vkey(),
    })
}

/// 审计账本最新签名检查点（先封存未封存条目）。
#[utoipa::path(get, path = "/api/v1/ledger/checkpoint",
    responses((status = 200, body = CheckpointDoc), (status = 401, body = Problem)))]
async fn checkpoint(
    _caller: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<CheckpointDoc>, Problem> {
    blocking(move || checkpoint_doc(&state).map(Json)).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProofQuery {
    /// Ledger sequence number.
    pub seq: Option<i64>,
    /// Or the entity (`person`, `case`, …) and uid whose latest entry to prove.
    pub entity: Option<String>,
    pub uid: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProofDoc {
    pub seq: i64,
    /// The entry's canonical JSON body.
    pub body: String,
    pub leaf_hash_hex: String,
    /// Audit path, leaf to root.
    pub proof_hex: Vec<String>,
    /// The signed checkpoint the proof is against.
    pub checkpoint: String,
    /// Checked here against the checkpoint's root and signature.
    pub verified: bool,
}

pub fn proof_doc(state: &AppState, q: &ProofQuery) -> Result<ProofDoc, Problem> {
    let store = state.store()?;
    let seq = match (q.seq, q.entity.as_deref(), q.uid.as_deref()) {
        (Some(s), None, None) => s,
        (None, Some(e), Some(u)) => {
            let entity = Entity::from_name(e)
                .ok_or_else(|| Problem::bad_request("entity", "enum", format!("未知实体 `{e}`")))?;
            latest_entry_of(&*store, entity, u)
                .map_err(|e| Problem::internal(&e))?
                .ok_or_else(|| Problem::not_found(format!("{e} {u} 没有账本记录")))?
        }
        _ => {
            return Err(Problem::bad_request(
                "seq",
                "one_of",
                "请给出 seq，或 entity 与 uid",
            ))
        }
    };
    let p = prove_entry(&*store, seq, state.log.hasher())
        .map_err(|e| Problem::not_found(format!("第 {seq} 条无法证明（未封存或不存在）：{e}")))?;
    let (cp, _) = Checkpoint::open(&p.checkpoint, &[state.log.verifier()])
        .map_err(|e| Problem::internal(&e))?;
    let verified = xiezhi_ledger::verify_inclusion_with(
        state.log.hasher(),
        &p.leaf_hash,
        seq as u64,
        cp.size,
        &p.proof,
        &cp.root,
    )
    .is_ok();
    Ok(ProofDoc {
        seq,
        body: p.body.clone(),
        leaf_hash_hex: hex(&p.leaf_hash),
        proof_hex: p.proof.iter().map(|h| hex(h)).collect(),
        checkpoint: p.checkpoint.clone(),
        verified,
    })
}

/// 包含证明：某条账本记录在已签名检查点中。
#[utoipa::path(get, path = "/api/v1/ledger/proof", params(ProofQuery),
    responses((status = 200, body = ProofDoc), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn proof(
    _caller: Caller,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Json<ProofDoc>, Problem> {
    let q: ProofQuery = parse_query(uri.query())?;
    blocking(move || proof_doc(&state, &q).map(Json)).await
}

// ----- statistics -----

/// Aggregate counts: no case data.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub cases: i64,
    pub persons: i64,
    pub events: i64,
    pub documents: i64,
    pub quarantine_open: i64,
    pub ledger_entries: i64,
    /// Records per source file: accepted and quarantined.
    pub sources: Vec<SourceCount>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceCount {
    pub source: String,
    pub file: String,
    pub accepted: i64,
    pub quarantined: i64,
}

pub fn stats_doc(state: &AppState) -> Result<Stats, Problem> {
    let store = state.store()?;
    let open: i64 = store.quarantine_by_rule()?.iter().map(|(_, n)| n).sum();
    Ok(Stats {
        cases: store.count(Entity::Case)?,
        persons: store.count(Entity::Person)?,
        events: store.count(Entity::Event)?,
        documents: store.count(Entity::Document)?,
        quarantine_open: open,
        ledger_entries: store.ledger_len()?,
        sources: store
            .source_outcomes()?
            .into_iter()
            .map(|(source, file, accepted, quarantined)| SourceCount {
                source,
                file,
                accepted,
                quarantined,
            })
            .collect(),
    })
}

/// 统计：各类记录数、隔离、账本规模（汇总数，不含案件数据）。
#[utoipa::path(get, path = "/api/v1/stats",
    responses((status = 200, body = Stats), (status = 401, body = Problem)))]
async fn stats(
    _caller: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<Stats>, Problem> {
    blocking(move || stats_doc(&state).map(Json)).await
}

/// OpenAPI 3 文档（由代码生成）。
#[utoipa::path(get, path = "/api/v1/openapi.json", responses((status = 200, body = Object)))]
async fn openapi() -> Response {
    let body = ApiDoc::openapi().to_json().unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A cursor handed out decodes to the key it was made from.
        #[test]
        fn cursors_round_trip(key in ".*") {
            prop_assert_eq!(decode_cursor(Some(&encode_cursor(&key))).unwrap(), key);
        }

        /// Percent-encoding any text byte by byte and decoding it gives the text back.
        #[test]
        fn percent_decoding_inverts_encoding(text in ".*") {
            let encoded: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
            prop_assert_eq!(percent_decode(&encoded), text);
        }

        /// Decoding never panics, whatever arrives in a query string.
        #[test]
        fn percent_decoding_takes_any_input(raw in ".*") {
            let _ = percent_decode(&raw);
        }
    }

    #[test]
    fn bad_cursors_and_limits_name_their_parameter() {
        let p = decode_cursor(Some("%%%")).unwrap_err();
        assert_eq!((p.status, p.errors[0].field.as_str()), (400, "cursor"));
        assert_eq!(decode_cursor(None).unwrap(), "");
        assert_eq!(page_limit(None).unwrap(), 20);
        let p = page_limit(Some(201)).unwrap_err();
        assert_eq!(
            (p.errors[0].field.as_str(), p.errors[0].rule.as_str()),
            ("limit", "range")
        );
        assert_eq!(percent_decode("a+b%2Fc%"), "a b/c%");
        assert_eq!(percent_decode("%E9%A9%AC"), "马");
    }

    #[test]
    fn serde_errors_become_field_and_rule() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code, reason = "only deserialized")]
        struct T {
            a: u32,
        }
        let e = serde_json::from_str::<T>("{\"a\": 1, \"b\": 2}").unwrap_err();
        let p = json_error(&e);
        assert_eq!(
            (
                p.status,
                p.errors[0].rule.as_str(),
                p.errors[0].field.as_str()
            ),
            (422, "unknown_field", "b")
        );
        let e = serde_json::from_str::<T>("{}").unwrap_err();
        assert_eq!(json_error(&e).errors[0].field, "a");
        let e = serde_json::from_str::<T>("{\"a\": \"x\"}").unwrap_err();
        assert_eq!(json_error(&e).errors[0].rule, "invalid_value");
        let e = serde_json::from_str::<T>("{").unwrap_err();
        assert_eq!(
            (
                json_error(&e).status,
                json_error(&e).errors[0].rule.as_str()
            ),
            (400, "syntax")
        );
    }
}
