//! The web console in Chinese: server-rendered pages (minijinja templates compiled into the
//! binary), htmx and ECharts served from `/static/` (vendored files, no CDN), no inline script
//! (the CSP forbids it). Every page runs as the logged-in principal through the same functions
//! as the API; forms carry the session's CSRF token.

use std::sync::{Arc, OnceLock};

use axum::extract::{Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::{context, Environment};
use serde::Deserialize;
use xiezhi_access::{Principal, Role};
use xiezhi_standard::codes::{table, CodeTable};

use crate::api::{self, CaseQuery, QuarantineQuery, RiskQuery};
use crate::auth::{self, Caller, Via};
use crate::error::Problem;
use crate::state::AppState;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("password.html", include_str!("../templates/password.html")),
    ("overview.html", include_str!("../templates/overview.html")),
    ("cases.html", include_str!("../templates/cases.html")),
    ("case.html", include_str!("../templates/case.html")),
    ("similar.html", include_str!("../templates/similar.html")),
    (
        "supervise.html",
        include_str!("../templates/supervise.html"),
    ),
    ("sharing.html", include_str!("../templates/sharing.html")),
    ("audit.html", include_str!("../templates/audit.html")),
    (
        "governance.html",
        include_str!("../templates/governance.html"),
    ),
    (
        "ingest_result.html",
        include_str!("../templates/ingest_result.html"),
    ),
    ("error.html", include_str!("../templates/error.html")),
    ("exchange.html", include_str!("../templates/exchange.html")),
    ("transfer.html", include_str!("../templates/transfer.html")),
    (
        "corrections.html",
        include_str!("../templates/corrections.html"),
    ),
    ("subject.html", include_str!("../templates/subject.html")),
    ("review.html", include_str!("../templates/review.html")),
    (
        "petitions.html",
        include_str!("../templates/petitions.html"),
    ),
    ("hotspots.html", include_str!("../templates/hotspots.html")),
    ("justice.html", include_str!("../templates/justice.html")),
    (
        "review_sample.html",
        include_str!("../templates/review_sample.html"),
    ),
    ("law.html", include_str!("../templates/law.html")),
    ("graph.html", include_str!("../templates/graph.html")),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, text) in TEMPLATES {
            if let Err(e) = env.add_template(name, text) {
                eprintln!("模板 {name} 无效: {e}");
            }
        }
        env
    })
}

pub(crate) fn render(name: &str, ctx: minijinja::Value) -> Response {
    match env().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html).into_response(),
        Err(e) => Problem::internal(&e).into_response(),
    }
}

/// The pages and static files.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(overview))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/password", get(password_page).post(password_submit))
        .route("/cases", get(cases))
        .route("/cases/{uid}", get(case_page))
        .route("/similar", get(similar))
        .route("/supervise", get(supervise))
        .route("/supervise/{id}", post(risk_action))
        .route("/sharing", get(sharing))
        .route("/sharing/{id}", post(request_action))
        .route("/audit", get(audit))
        .route("/governance", get(governance))
        .route("/governance/upload", post(upload))
        .route("/static/{file}", get(asset))
}

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "htmx.min.js",
        "text/javascript",
        include_bytes!("../static/htmx.min.js"),
    ),
    (
        "echarts.min.js",
        "text/javascript",
        include_bytes!("../static/echarts.min.js"),
    ),
    (
        "app.js",
        "text/javascript",
        include_bytes!("../static/app.js"),
    ),
    ("app.css", "text/css", include_bytes!("../static/app.css")),
];

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == file) {
        Some((_, ct, bytes)) => (
            [
                (header::CONTENT_TYPE, *ct),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => not_found_page().into_response(),
    }
}

pub fn not_found_page() -> Response {
    let mut res = render(
        "error.html",
        context! { title => "页面不存在", message => "没有这个页面。" },
    );
    *res.status_mut() = StatusCode::NOT_FOUND;
    res
}

/// The logged-in user of a page, or a redirect to the login page.
pub struct PageUser(pub Caller);

impl axum::extract::FromRequestParts<Arc<AppState>> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Response> {
        match auth::identify(state, parts) {
            Ok(
                c @ Caller {
                    via: Via::Session { .. },
                    ..
                },
            ) => Ok(PageUser(c)),
            Err(p)
                if p.errors
                    .iter()
                    .any(|e| e.rule == "password_change_required") =>
            {
                Err(Redirect::to("/password").into_response())
            }
            _ => Err(Redirect::to("/login").into_response()),
        }
    }
}

pub(crate) fn me(caller: &Caller) -> minijinja::Value {
    let (name, role, org) = match &caller.principal {
        Principal::User(u) => (u.name.clone(), u.role.name_zh(), u.org_code.clone()),
        Principal::System(s) => (s.id.clone(), "部门系统", s.org_code.clone()),
    };
    context! {
        name, role, org,
        clearance => format!("{:?}", caller.principal.clearance()),
        csrf => caller.csrf(),
    }
}

pub(crate) fn error_page(caller: &Caller, p: &Problem) -> Response {
    let mut res = render(
        "error.html",
        context! {
            me => me(caller),
            title => p.title.clone(),
            message => p.detail.clone().unwrap_or_default(),
            errors => p.errors.clone(),
            access => p.access.clone(),
        },
    );
    *res.status_mut() = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
    res
}

pub(crate) async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Problem::internal(&e))?
}

// ----- login -----

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    totp: String,
    csrf: String,
}

/// The pre-session cookie of the login form: its value is also the form's hidden token
/// (double submit), so a login posted from another site, which SameSite=Strict keeps the
/// cookie from, is refused.
const LOGIN_COOKIE: &str = "xz_login";

fn login_form(error: Option<String>, username: &str, status: StatusCode) -> Response {
    let token = auth::random_token(18);
    let mut res = render(
        "login.html",
        context! { error, username, csrf => token.clone() },
    );
    *res.status_mut() = status;
    api::set_cookie(
        res.headers_mut(),
        &format!("{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=1800"),
    );
    res
}

async fn login_page() -> Response {
    login_form(None, "", StatusCode::OK)
}

async fn login_submit(
    State(state): State<Arc<AppState>>,
    auth::Source(source): auth::Source,
    auth::PeerCert(cert): auth::PeerCert,
    headers: axum::http::HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == LOGIN_COOKIE)
        .map(|(_, v)| v.to_string());
    if f.csrf.is_empty() || cookie.as_deref() != Some(f.csrf.as_str()) {
        return login_form(
            Some("登录表单已失效，请重新登录 (login form expired)".into()),
            &f.username,
            StatusCode::FORBIDDEN,
        );
    }
    let st = state.clone();
    let username = f.username.clone();
    let login = move || {
        auth::login(
            &st,
            &f.username,
            &f.password,
            &f.totp,
            &source,
            cert.as_deref(),
        )
    };
    match run(login).await {
        Ok((token, session)) => {
            let to = if session.must_change_password {
                "/password"
            } else {
                "/"
            };
            let mut res = Redirect::to(to).into_response();
            api::set_cookie(res.headers_mut(), &auth::session_cookie(&token));
            res
        }
        Err(p) => login_form(
            Some(p.detail.clone().unwrap_or(p.title.clone())),
            &username,
            StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNAUTHORIZED),
        ),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
}

async fn password_page(PageUser(caller): PageUser) -> Response {
    let forced =
        matches!(&caller.via, Via::Session { session, .. } if session.must_change_password);
    render(
        "password.html",
        context! { me => me(&caller), forced, error => None::<String>, done => false },
    )
}

async fn password_submit(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    auth::Source(source): auth::Source,
    Form(f): Form<PasswordForm>,
) -> Response {
    if let Err(p) = check_csrf(&caller, &f.csrf) {
        return error_page(&caller, &p);
    }
    let Via::Session { session, .. } = &caller.via else {
        return Redirect::to("/login").into_response();
    };
    let forced = session.must_change_password;
    let username = session.username.clone();
    let st = state.clone();
    match run(move || {
        auth::change_password(
            &st,
            &username,
            &f.current_password,
            &f.new_password,
            &source,
        )
    })
    .await
    {
        Ok(()) if forced => Redirect::to("/").into_response(),
        Ok(()) => render(
            "password.html",
            context! { me => me(&caller), forced => false, error => None::<String>, done => true },
        ),
        Err(p) => {
            let mut res = render(
                "password.html",
                context! { me => me(&caller), forced, error => p.detail.clone().unwrap_or(p.title.clone()), done => false },
            );
            *res.status_mut() = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
            res
        }
    }
}

pub(crate) fn check_csrf(caller: &Caller, given: &str) -> Result<(), Problem> {
    if given == caller.csrf() && !given.is_empty() {
        Ok(())
    } else {
        Err(Problem::new(403, "表单已失效 (CSRF token missing or wrong)").field("csrf", "csrf"))
    }
}

async fn logout(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    auth::Source(source): auth::Source,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(p) = check_csrf(&caller, &f.csrf) {
        return error_page(&caller, &p);
    }
    auth::logout(&state, &caller, &source);
    let mut res = Redirect::to("/login").into_response();
    api::set_cookie(res.headers_mut(), &auth::clear_cookie());
    res
}

// ----- pages -----

async fn overview(PageUser(caller): PageUser, State(state): State<Arc<AppState>>) -> Response {
    let principal = caller.principal.clone();
    let st = state.clone();
    let result = run(move || {
        let stats = api::stats_doc(&st)?;
        let q = RiskQuery {
            cursor: None,
            limit: Some(1),
            severity: None,
            status: None,
            id: None,
        };
        let risks = api::risks_for(&st, &principal, &q)?;
        let cases = crate::insight_api::overview_case_stats(&st, &principal)?;
        Ok((stats, risks.by_severity, cases))
    })
    .await;
    match result {
        Ok((stats, by_severity, cases)) => {
            let chart = serde_json::json!({
                "sources": stats.sources,
                "risks": by_severity,
            });
            let bars = cases.as_ref().map(|c| {
                let shown: Vec<_> = c
                    .report
                    .cells
                    .iter()
                    .filter(|x| x.count.is_some())
                    .collect();
                serde_json::json!({
                    "labels": shown.iter().map(|x| x.labels.join(" ")).collect::<Vec<_>>(),
                    "counts": shown.iter().map(|x| x.count).collect::<Vec<_>>(),
                })
                .to_string()
            });
            render(
                "overview.html",
                context! {
                    me => me(&caller), page => "overview", stats, by_severity,
                    chart => chart.to_string(), cases, bars,
                },
            )
        }
        Err(p) => error_page(&caller, &p),
    }
}

/// 类案检索 from the 案件 page: the same query and index as `GET /api/v1/search`.
async fn similar(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Response {
    let raw = uri.query().unwrap_or("").to_string();
    // An empty form field is no filter.
    let kept: Vec<&str> = raw
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.ends_with('='))
        .collect();
    let query = match crate::insight_api::search_query(Some(&kept.join("&"))) {
        Ok(q) => q,
        Err(p) => return error_page(&caller, &p),
    };
    let shown = (
        query.text.clone(),
        query.charge.clone(),
        query.region.clone(),
    );
    let result = run(move || {
        let ix = crate::insight_api::index_of(&state.data)?;
        ix.search(&query).map_err(|e| Problem::internal(&e))
    })
    .await;
    match result {
        Ok(hits) => render(
            "similar.html",
            context! {
                me => me(&caller), page => "cases", hits,
                q => shown.0, charge => shown.1, region => shown.2,
            },
        ),
        Err(p) => error_page(&caller, &p),
    }
}

async fn cases(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    Query(q): Query<CaseQuery>,
) -> Response {
    let principal = caller.principal.clone();
    let (qq, cat) = (q.q.clone(), q.category.clone());
    match run(move || api::list_cases_for(&state, &principal, &q)).await {
        Ok(list) => render(
            "cases.html",
            context! { me => me(&caller), page => "cases", list, q => qq, category => cat },
        ),
        Err(p) => error_page(&caller, &p),
    }
}

/// The department of an organ by its code prefix (GA 公安, JC 检察, FY 法院, else 司法行政).
fn department(org: &str) -> (&'static str, &'static str) {
    match org.get(..2) {
        Some("GA") => ("police", "公安"),
        Some("JC") => ("procuratorate", "检察"),
        Some("FY") => ("court", "法院"),
        _ => ("justice", "司法行政"),
    }
}

async fn case_page(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    Path(uid): Path<String>,
) -> Response {
    let principal = caller.principal.clone();
    match run(move || api::read_case_for(&state, &principal, &uid)).await {
        Ok(doc) => {
            let events = table(CodeTable::EventKind);
            let mut timeline: Vec<serde_json::Value> = doc
                .sections
                .iter()
                .filter(|s| s.entity == "event")
                .flat_map(|s| s.records.iter())
                .map(|r| {
                    let kind = r.get("kind").cloned().unwrap_or_default();
                    let org = r.get("org_code").cloned().unwrap_or_default();
                    let (dept, dept_zh) = department(&org);
                    serde_json::json!({
                        "at": r.get("occurred_at").cloned().unwrap_or_default(),
                        "kind": events.get(&kind).map_or(kind.clone(), |e| e.name.clone()),
                        "org": org, "dept": dept, "dept_zh": dept_zh,
                        "document_no": r.get("document_no").cloned().unwrap_or_default(),
                    })
                })
                .collect();
            timeline.sort_by(|a, b| a["at"].as_str().cmp(&b["at"].as_str()));
            render(
                "case.html",
                context! { me => me(&caller), page => "cases", doc, timeline },
            )
        }
        Err(p) => error_page(&caller, &p),
    }
}

async fn supervise(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    Query(q): Query<RiskQuery>,
) -> Response {
    let principal = caller.principal.clone();
    let severity = q.severity.clone();
    match run(move || api::risks_for(&state, &principal, &q)).await {
        Ok(list) => render(
            "supervise.html",
            context! { me => me(&caller), page => "supervise", list, severity },
        ),
        Err(p) => error_page(&caller, &p),
    }
}

#[derive(Deserialize)]
struct RiskActionForm {
    csrf: String,
    action: String,
    #[serde(default)]
    confirmed: Option<String>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    org: String,
}

/// A lifecycle step posted from the 监督 page; back to the page at the item.
async fn risk_action(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(f): Form<RiskActionForm>,
) -> Response {
    if let Err(p) = check_csrf(&caller, &f.csrf) {
        return error_page(&caller, &p);
    }
    let req = api::RiskActionRequest {
        action: f.action,
        confirmed: f.confirmed.as_deref().map(|c| c == "true"),
        note: Some(f.note),
        org: (!f.org.is_empty()).then_some(f.org),
    };
    let principal = caller.principal.clone();
    let target = id.clone();
    match run(move || api::act_for(&state, &principal, &target, &req)).await {
        Ok(_) => Redirect::to(&format!("/supervise?id={id}")).into_response(),
        Err(p) => error_page(&caller, &p),
    }
}

#[derive(Deserialize)]
struct RequestForm {
    csrf: String,
    action: String,
    #[serde(default)]
    approve: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    expires: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    case_uid: String,
}

/// Comma- or space-separated scope items as typed in a form.
fn scope_items(raw: &str) -> Vec<String> {
    raw.split([',', '，', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// A data-request step (or a new request, `action=submit`) posted from the 数据共享 page.
async fn request_action(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(f): Form<RequestForm>,
) -> Response {
    if let Err(p) = check_csrf(&caller, &f.csrf) {
        return error_page(&caller, &p);
    }
    let principal = caller.principal.clone();
    let outcome = if f.action == "submit" {
        let req = api::SubmitRequest {
            case_uid: f.case_uid.trim().to_string(),
            scope: scope_items(&f.scope),
            purpose: f.purpose,
        };
        run(move || api::submit_for(&state, &principal, &req)).await
    } else {
        let non_empty = |s: String| (!s.trim().is_empty()).then_some(s);
        let req = api::RequestActionRequest {
            action: f.action,
            approve: f.approve.as_deref().map(|a| a == "true"),
            reason: non_empty(f.reason),
            expires: non_empty(f.expires),
            scope: scope_items(&f.scope),
            purpose: non_empty(f.purpose),
            detail: non_empty(f.detail),
            text: non_empty(f.text),
        };
        run(move || api::request_step_for(&state, &principal, &id, &req)).await
    };
    match outcome {
        Ok(r) => Redirect::to(&format!("/sharing#req-{}", r.id)).into_response(),
        Err(p) => error_page(&caller, &p),
    }
}

async fn sharing(PageUser(caller): PageUser, State(state): State<Arc<AppState>>) -> Response {
    let principal = caller.principal.clone();
    match run(move || api::requests_for(&state, &principal)).await {
        Ok(list) => {
            let catalog: Vec<serde_json::Value> = xiezhi_standard::Entity::ALL
                .iter()
                .map(|e| {
                    let levels: Vec<String> = e
                        .fields()
                        .iter()
                        .map(|f| format!("{:?}", f.level))
                        .collect();
                    serde_json::json!({
                        "entity": e.name(), "name_zh": e.name_zh(),
                        "fields": e.fields().len(),
                        "l3": levels.iter().filter(|l| *l == "L3").count(),
                        "l4": levels.iter().filter(|l| *l == "L4").count(),
                    })
                })
                .collect();
            let user = match &caller.principal {
                Principal::User(u) => Some(u),
                Principal::System(_) => None,
            };
            let items: Vec<serde_json::Value> = list
                .items
                .iter()
                .map(|r| {
                    let steps = user.map(|u| r.steps_open_to(u)).unwrap_or_default();
                    serde_json::json!({
                        "id": r.id, "state": r.state.name_zh(), "case_uid": r.case_uid,
                        "requester": r.requester, "owner_org": r.owner_org,
                        "scope": r.scope.join(", "), "purpose": r.purpose,
                        "review": r.review.as_ref().map(|v| format!(
                            "{}：{}（{}）", v.reviewer, v.reason, if v.approved { "通过" } else { "不通过" })),
                        "grant": r.grant.as_ref().map(|g| format!(
                            "{} 至 {} 有效，范围 {}", g.granted_by, g.expires, g.scopes.join(", "))),
                        "uses": r.uses.len(),
                        "steps": steps,
                    })
                })
                .collect();
            let can_submit = user.is_some_and(|u| u.role != Role::Public && !u.role.is_admin());
            render(
                "sharing.html",
                context! { me => me(&caller), page => "sharing", items, catalog, can_submit },
            )
        }
        Err(p) => error_page(&caller, &p),
    }
}

#[derive(Deserialize)]
struct AuditQuery {
    entity: Option<String>,
    uid: Option<String>,
}

async fn audit(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    Query(q): Query<AuditQuery>,
) -> Response {
    let (entity, uid) = (q.entity.clone(), q.uid.clone());
    let result = run(move || {
        let cp = api::checkpoint_doc(&state)?;
        let proof = match (
            q.entity.filter(|s| !s.is_empty()),
            q.uid.filter(|s| !s.is_empty()),
        ) {
            (Some(e), Some(u)) => Some(api::proof_doc(
                &state,
                &api::ProofQuery {
                    seq: None,
                    entity: Some(e),
                    uid: Some(u),
                },
            )),
            _ => None,
        };
        Ok((cp, proof))
    })
    .await;
    match result {
        Ok((cp, proof)) => {
            let (proof, proof_error) = match proof {
                Some(Ok(p)) => (Some(p), None),
                Some(Err(p)) => (None, p.detail),
                None => (None, None),
            };
            render(
                "audit.html",
                context! { me => me(&caller), page => "audit", cp, proof, proof_error, entity, uid },
            )
        }
        Err(p) => error_page(&caller, &p),
    }
}

async fn governance(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    Query(q): Query<QuarantineQuery>,
) -> Response {
    let c = caller.clone();
    let result = run(move || {
        let stats = api::stats_doc(&state)?;
        let quarantine = api::quarantine_for(&state, &c, &q);
        Ok((stats, quarantine))
    })
    .await;
    match result {
        Ok((stats, quarantine)) => {
            let (quarantine, denied) = match quarantine {
                Ok(q) => (Some(q), None),
                Err(p) => (None, p.detail),
            };
            render(
                "governance.html",
                context! { me => me(&caller), page => "governance", stats, quarantine, denied },
            )
        }
        Err(p) => error_page(&caller, &p),
    }
}

/// The upload form: `multipart/form-data` with `csrf`, `source` and `file`.
async fn upload(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    req: Request,
) -> Response {
    let limit = state.limits.upload_bytes;
    let mut mp =
        match <Multipart as axum::extract::FromRequest<Arc<AppState>>>::from_request(req, &state)
            .await
        {
            Ok(m) => m,
            Err(e) => {
                return error_page(
                    &caller,
                    &Problem::bad_request("file", "multipart", e.body_text()),
                )
            }
        };
    let (mut csrf, mut source, mut name, mut bytes) =
        (String::new(), String::new(), String::new(), Vec::new());
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let fname = field.name().unwrap_or("").to_string();
                if fname == "file" {
                    name = field.file_name().unwrap_or("upload").to_string();
                }
                match field.bytes().await {
                    Ok(b) if b.len() <= limit => match fname.as_str() {
                        "csrf" => csrf = String::from_utf8_lossy(&b).into_owned(),
                        "source" => source = String::from_utf8_lossy(&b).into_owned(),
                        "file" => bytes = b.to_vec(),
                        _ => {}
                    },
                    _ => {
                        return error_page(
                            &caller,
                            &Problem::bad_request(
                                "file",
                                "max_bytes",
                                format!("文件超过上限 {limit} 字节"),
                            ),
                        )
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                return error_page(
                    &caller,
                    &Problem::bad_request("file", "multipart", e.body_text()),
                )
            }
        }
    }
    if let Err(p) = check_csrf(&caller, &csrf) {
        return error_page(&caller, &p);
    }
    let c = caller.clone();
    match run(move || api::ingest_bytes(&state, &c, &source, &name, &bytes)).await {
        Ok(report) => render(
            "ingest_result.html",
            context! { me => me(&caller), page => "governance", report },
        ),
        Err(p) => error_page(&caller, &p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A template with a syntax error would only show as a 500 on its page; refuse it here.
    #[test]
    fn every_template_parses() {
        let mut env = Environment::new();
        for (name, text) in TEMPLATES {
            env.add_template(name, text)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
