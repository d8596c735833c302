//! Justice administration over HTTP: the correction officer's alerts and subject view (read
//! through the access policy like any case data, so every field is decided, masked and
//! logged), recording a check or visit (a record in the corrections system's own format,
//! ingested through the same mapping, validation and ledger as an export), and 案件评查
//! (samples, checklists, scores).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use xiezhi_access::{OrgKind, Principal, Role};
use xiezhi_standard::validate::geo::MICRO;
use xiezhi_store::Entity;
use xiezhi_supervise::lifecycle;
use xiezhi_supervise::review::{self, ReviewSample, Verdict};

use crate::api::{
    blocking, ingest_checked, read_case_for, require_role, risk_doc, sees_case_events, today_ctx,
    RiskDoc,
};
use crate::auth::Caller;
use crate::error::Problem;
use crate::state::AppState;

/// A location fix as shown to the reader (decimal degrees).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FixDoc {
    pub at: String,
    pub lon: f64,
    pub lat: f64,
}

/// A fence as shown to the reader.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FenceDoc {
    /// `no_entry` or `no_exit`.
    pub rule: String,
    pub name: String,
    /// Vertices in decimal degrees, `[lon, lat]`.
    pub polygon: Vec<[f64; 2]>,
    pub valid_from: String,
    pub valid_until: String,
}

/// One subject's correction file as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionDoc {
    pub case_uid: String,
    /// 社区矫正对象 rows, field → shown text.
    pub subjects: Vec<BTreeMap<String, String>>,
    /// 社区矫正事项, in time order.
    pub acts: Vec<BTreeMap<String, String>>,
    pub fixes: Vec<FixDoc>,
    /// Fixes that exist but whose coordinates the reader may not see.
    pub fixes_withheld: usize,
    pub fences: Vec<FenceDoc>,
    /// Open correction risk items of the case.
    pub alerts: Vec<RiskDoc>,
}

fn section(doc: &crate::api::CaseDoc, entity: Entity) -> &[BTreeMap<String, String>] {
    doc.sections
        .iter()
        .find(|s| s.entity == entity.name())
        .map_or(&[], |s| s.records.as_slice())
}

fn degrees(shown: Option<&String>) -> Option<f64> {
    shown?.parse::<i64>().ok().map(|m| m as f64 / MICRO as f64)
}

/// Open correction risk items the principal may see, of one case or of all.
fn correction_alerts(
    state: &AppState,
    principal: &Principal,
    case: Option<&str>,
) -> Result<Vec<RiskDoc>, Problem> {
    let store = state.store()?;
    let authz = state.authz()?;
    let view = authz.compile(
        principal,
        xiezhi_access::Action::Read,
        Entity::CorrectionEvent,
        &today_ctx(),
    )?;
    let mut out = Vec::new();
    for r in lifecycle::records(&*store)? {
        if !r.rule_id.starts_with("sqjz-") || !r.status.is_open() {
            continue;
        }
        if case.is_some_and(|c| c != r.case_uid) {
            continue;
        }
        if sees_case_events(&view, &store, &r.case_uid)? {
            out.push(risk_doc(&r));
        }
    }
    out.sort_by(|a, b| {
        a.severity_rank()
            .cmp(&b.severity_rank())
            .then(b.overdue_days.cmp(&a.overdue_days))
    });
    Ok(out)
}

impl RiskDoc {
    fn severity_rank(&self) -> u8 {
        match self.severity.as_str() {
            "red" => 0,
            "orange" => 1,
            "yellow" => 2,
            _ => 3,
        }
    }
}

/// The correction alerts of the caller's reach (open items of the community-corrections rules).
pub fn alerts_for(state: &AppState, principal: &Principal) -> Result<Vec<RiskDoc>, Problem> {
    correction_alerts(state, principal, None)
}

/// A case's correction file for a principal: read through the policy, logged.
pub fn correction_for(
    state: &AppState,
    principal: &Principal,
    case_uid: &str,
) -> Result<CorrectionDoc, Problem> {
    let doc = read_case_for(state, principal, case_uid)?;
    let subjects = section(&doc, Entity::CorrectionSubject).to_vec();
    if subjects.is_empty() {
        return Err(Problem::not_found(format!(
            "案件 {case_uid} 没有可见的社区矫正对象"
        )));
    }
    let mut acts = section(&doc, Entity::CorrectionEvent).to_vec();
    acts.sort_by(|a, b| a.get("occurred_at").cmp(&b.get("occurred_at")));
    let mut fixes = Vec::new();
    let mut fixes_withheld = 0;
    for f in section(&doc, Entity::LocationFix) {
        match (degrees(f.get("longitude")), degrees(f.get("latitude"))) {
            (Some(lon), Some(lat)) => fixes.push(FixDoc {
                at: f.get("fixed_at").cloned().unwrap_or_default(),
                lon,
                lat,
            }),
            _ => fixes_withheld += 1,
        }
    }
    fixes.sort_by(|a, b| a.at.cmp(&b.at));
    let fences = section(&doc, Entity::Fence)
        .iter()
        .filter_map(|f| {
            let polygon = xiezhi_standard::validate::geo::Polygon::parse(f.get("polygon")?).ok()?;
            Some(FenceDoc {
                rule: f.get("rule").cloned().unwrap_or_default(),
                name: f.get("name").cloned().unwrap_or_default(),
                polygon: polygon
                    .vertices
                    .iter()
                    .map(|p| [p.lon as f64 / MICRO as f64, p.lat as f64 / MICRO as f64])
                    .collect(),
                valid_from: f.get("valid_from").cloned().unwrap_or_default(),
                valid_until: f.get("valid_until").cloned().unwrap_or_default(),
            })
        })
        .collect();
    Ok(CorrectionDoc {
        case_uid: case_uid.to_string(),
        subjects,
        acts,
        fixes,
        fixes_withheld,
        fences,
        alerts: correction_alerts(state, principal, Some(case_uid))?,
    })
}

/// An act the officer records.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActRequest {
    /// `check_in` (报告活动情况) or `visit` (实地查访).
    pub kind: String,
    /// What was found.
    #[serde(default)]
    pub note: String,
}

/// The result of recording an act.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActRecorded {
    pub case_uid: String,
    pub kind: String,
    pub occurred_at: String,
    /// The ingest report of the one record (read = accepted + quarantined).
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
}

/// Records a check-in or visit of a subject by an officer of the executing organ, as a record
/// of the corrections system's format, through the shipped mapping (validated, lineage,
/// ledger).
pub fn record_act(
    state: &AppState,
    caller: &Caller,
    case_uid: &str,
    req: &ActRequest,
) -> Result<ActRecorded, Problem> {
    let Principal::User(user) = &caller.principal else {
        return Err(Problem::forbidden("记录矫正事项仅限社区矫正机构工作人员"));
    };
    if !matches!(
        user.org_kind,
        OrgKind::CommunityCorrections | OrgKind::JusticeBureau
    ) {
        return Err(Problem::forbidden(format!(
            "记录矫正事项仅限社区矫正机构或司法局工作人员；当前身份 `{}` 属于{}",
            user.id,
            user.org_kind.name_zh()
        )));
    }
    require_role(caller, &[Role::CaseHandler], "记录矫正事项")?;
    let kind_zh = match req.kind.as_str() {
        "check_in" => "报告活动情况",
        "visit" => "实地查访",
        other => {
            return Err(Problem::bad_request(
                "kind",
                "enum",
                format!("事项 `{other}` 无效：应为 check_in 或 visit"),
            ))
        }
    };
    let doc = read_case_for(state, &caller.principal, case_uid)?;
    // Only the executing organ records acts of its subjects.
    if !section(&doc, Entity::CorrectionSubject)
        .iter()
        .any(|s| s.get("executing_org") == Some(&user.org_code))
    {
        return Err(Problem::forbidden(format!(
            "案件 {case_uid} 的社区矫正对象不由 {} 执行",
            user.org_code
        )));
    }
    let person = section(&doc, Entity::Person)
        .first()
        .ok_or_else(|| Problem::forbidden("无权查看矫正对象身份信息"))?;
    let case_no = section(&doc, Entity::Case)
        .first()
        .and_then(|c| c.get("court_case_no"))
        .cloned()
        .unwrap_or_default();
    let (name, id) = (
        person.get("name").cloned().unwrap_or_default(),
        person.get("id_number").cloned().unwrap_or_default(),
    );
    if id.contains('*') || name.contains('*') || id.is_empty() || case_no.is_empty() {
        return Err(Problem::forbidden(
            "矫正对象的身份号码或案号对当前身份不可见，无法记录事项",
        ));
    }
    let at = chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string();
    let clean = |s: &str| s.replace([',', '"', '\n', '\r'], " ");
    let csv = format!(
        "姓名,公民身份号码,判决案号,矫正事项,发生时间,办理机构,批准截止日期,文书号\n{},{},{},{kind_zh},{at},{},,{}\n",
        clean(&name),
        clean(&id),
        clean(&case_no),
        clean(&user.org_code),
        clean(&req.note.chars().take(60).collect::<String>()),
    );
    let file = format!("console-{}-{case_uid}.csv", user.id);
    let report = ingest_checked(state, "justice_correction_events", &file, csv.as_bytes())?;
    Ok(ActRecorded {
        case_uid: case_uid.to_string(),
        kind: req.kind.clone(),
        occurred_at: at,
        report: report.report,
    })
}

/// 社区矫正预警：社区矫正规则下、当前身份可见案件的未办结风险。
#[utoipa::path(get, path = "/api/v1/corrections/alerts",
    responses((status = 200, body = [RiskDoc]), (status = 401, body = Problem)))]
pub async fn list_alerts(
    caller: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<Vec<RiskDoc>>, Problem> {
    blocking(move || alerts_for(&state, &caller.principal).map(Json)).await
}

/// 社区矫正档案：对象、事项、定位轨迹、电子围栏与预警，每个字段经策略判定并脱敏、记入审计账本。
#[utoipa::path(get, path = "/api/v1/corrections/{case_uid}", params(("case_uid" = String, Path, description = "platform case uid")),
    responses((status = 200, body = CorrectionDoc), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn show_correction(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(case_uid): Path<String>,
) -> Result<Json<CorrectionDoc>, Problem> {
    blocking(move || correction_for(&state, &caller.principal, &case_uid).map(Json)).await
}

/// 记录报告或走访：以社区矫正系统的格式经映射、校验写入，记入审计账本。
#[utoipa::path(post, path = "/api/v1/corrections/{case_uid}/acts", params(("case_uid" = String, Path, description = "platform case uid")),
    request_body = ActRequest,
    responses((status = 200, body = ActRecorded), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn post_act(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(case_uid): Path<String>,
    Json(req): Json<ActRequest>,
) -> Result<Json<ActRecorded>, Problem> {
    blocking(move || record_act(&state, &caller, &case_uid, &req).map(Json)).await
}

// ---- 案件评查 ----

/// Who may draw samples and score: supervisors of the political-legal committee and leaders.
const REVIEWERS: &[Role] = &[Role::Supervisor, Role::Leader];

/// A request to draw a review sample.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleRequest {
    /// 机构代码 of the organ reviewed.
    pub organ: String,
    /// First and last day of the period (`YYYY-MM-DD`).
    pub from: String,
    pub to: String,
    pub size: Option<usize>,
    pub seed: Option<u64>,
}

/// One verdict of a score.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerdictDoc {
    pub rule_id: String,
    /// `conform` (符合), `nonconform` (不符合) or `na` (不适用).
    pub verdict: String,
    #[serde(default)]
    pub note: String,
}

/// A reviewer's score of one sampled case: a verdict for every checklist item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRequest {
    pub items: Vec<VerdictDoc>,
}

fn review_problem(e: review::ReviewError) -> Problem {
    match e {
        review::ReviewError::Store(e) => Problem::internal(&e),
        review::ReviewError::NoSample(_) | review::ReviewError::NotSampled(..) => {
            Problem::not_found(e.to_string())
        }
        review::ReviewError::Exists(_) => Problem::new(409, e.to_string()),
        other => Problem::bad_request("review", "invalid", other.to_string()),
    }
}

fn date(field: &str, s: &str) -> Result<chrono::NaiveDate, Problem> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| Problem::bad_request(field, "date", format!("`{s}` 应为 YYYY-MM-DD")))
}

pub fn draw_sample(
    state: &AppState,
    caller: &Caller,
    req: &SampleRequest,
) -> Result<ReviewSample, Problem> {
    require_role(caller, REVIEWERS, "案件评查抽样")?;
    let (from, to) = (date("from", &req.from)?, date("to", &req.to)?);
    let size = req.size.unwrap_or(10);
    if !(1..=200).contains(&size) {
        return Err(Problem::bad_request(
            "size",
            "range",
            "抽样件数应为 1 到 200",
        ));
    }
    let cal = xiezhi_supervise::DataCalendar::shipped().map_err(Problem::internal)?;
    let mut store = state.store()?;
    review::draw(
        &mut *store,
        req.organ.trim(),
        from,
        to,
        size,
        req.seed.unwrap_or(1),
        caller.principal.id(),
        chrono::Local::now().date_naive(),
        &cal,
    )
    .map_err(review_problem)
}

pub fn samples_for(caller: &Caller, state: &AppState) -> Result<Vec<ReviewSample>, Problem> {
    require_role(caller, REVIEWERS, "案件评查")?;
    let store = state.store()?;
    review::samples(&*store).map_err(review_problem)
}

pub fn sample_for(caller: &Caller, state: &AppState, id: &str) -> Result<ReviewSample, Problem> {
    require_role(caller, REVIEWERS, "案件评查")?;
    let store = state.store()?;
    review::sample(&*store, id).map_err(review_problem)
}

pub fn score_case(
    state: &AppState,
    caller: &Caller,
    id: &str,
    case_uid: &str,
    req: &ScoreRequest,
) -> Result<review::SampledCase, Problem> {
    require_role(caller, REVIEWERS, "案件评查评分")?;
    let mut verdicts = Vec::new();
    for i in &req.items {
        let v = Verdict::parse(&i.verdict).ok_or_else(|| {
            Problem::bad_request(
                "verdict",
                "enum",
                format!("`{}` 应为 conform、nonconform 或 na", i.verdict),
            )
        })?;
        verdicts.push((i.rule_id.clone(), v, i.note.clone()));
    }
    let mut store = state.store()?;
    review::score(
        &mut *store,
        id,
        case_uid,
        &verdicts,
        caller.principal.id(),
        chrono::Local::now().date_naive(),
    )
    .map_err(review_problem)
}

/// 案件评查样本列表。
#[utoipa::path(get, path = "/api/v1/reviews",
    responses((status = 200, body = serde_json::Value), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn reviews(
    caller: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<Vec<ReviewSample>>, Problem> {
    blocking(move || samples_for(&caller, &state).map(Json)).await
}

/// 抽取评查样本：某机关某期间办结案件的可复现随机抽样，记入审计账本。
#[utoipa::path(post, path = "/api/v1/reviews", request_body = SampleRequest,
    responses((status = 200, body = serde_json::Value), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn draw(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Json(req): Json<SampleRequest>,
) -> Result<Json<ReviewSample>, Problem> {
    blocking(move || draw_sample(&state, &caller, &req).map(Json)).await
}

/// 评查样本与评查表。
#[utoipa::path(get, path = "/api/v1/reviews/{id}", params(("id" = String, Path, description = "sample id")),
    responses((status = 200, body = serde_json::Value), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn show_review(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<ReviewSample>, Problem> {
    blocking(move || sample_for(&caller, &state, &id).map(Json)).await
}

/// 评分：逐项给出符合、不符合或不适用，记入审计账本。
#[utoipa::path(post, path = "/api/v1/reviews/{id}/cases/{case}/score",
    params(("id" = String, Path, description = "sample id"), ("case" = String, Path, description = "platform case uid")),
    request_body = ScoreRequest,
    responses((status = 200, body = serde_json::Value), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn score(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path((id, case_uid)): Path<(String, String)>,
    Json(req): Json<ScoreRequest>,
) -> Result<Json<review::SampledCase>, Problem> {
    blocking(move || score_case(&state, &caller, &id, &case_uid, &req).map(Json)).await
}

// ---- 信访期限看板 and 热点 ----

/// One open petition's next deadline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PetitionDeadline {
    pub petition_no: String,
    /// The case the petition names, if any.
    pub case_uid: Option<String>,
    /// Open supervision risk items of that case: a petition about a case the engine already
    /// flags is linked to those items.
    pub case_open_risks: Vec<String>,
    pub org_code: String,
    /// 受理告知 / 办结答复 / 复查意见 / 复核意见.
    pub stage_zh: String,
    /// The act that opened the period, and its day.
    pub since: String,
    pub due: String,
    /// Days to the deadline; negative when past it.
    pub days_left: i64,
    /// The rule and article the period comes from.
    pub basis: String,
}

/// The open petitions' next deadlines, soonest first: every petition for supervisors and
/// leaders, the organ's own for others. Deadlines only: no petition content or petitioner.
pub fn petition_board(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<PetitionDeadline>, Problem> {
    use xiezhi_supervise::deadline::{deadline, Period};
    use xiezhi_supervise::rules::{
        petition_acceptance, petition_handling, petition_recheck, petition_review,
    };
    let all_organs = matches!(principal, Principal::User(u) if matches!(u.role, Role::Supervisor | Role::Leader));
    let cal = xiezhi_supervise::DataCalendar::shipped().map_err(Problem::internal)?;
    let today = chrono::Local::now().date_naive();
    let store = state.store()?;
    let mut open: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in lifecycle::records(&*store)? {
        if r.status.is_open() {
            open.entry(r.case_uid.clone())
                .or_default()
                .push(r.title_zh.clone());
        }
    }
    let mut out = Vec::new();
    for p in xiezhi_supervise::petitions::all(&*store)? {
        if !all_organs && p.org_code != principal.org_code() {
            continue;
        }
        let next = match (
            p.received,
            p.accepted,
            p.answered,
            p.review_requested.filter(|_| p.review_answered.is_none()),
            p.recheck_requested.filter(|_| p.recheck_answered.is_none()),
        ) {
            (_, _, _, _, Some(r)) => Some((
                "复核意见",
                "请求复核",
                r,
                petition_recheck::DAYS,
                petition_recheck::RULE,
            )),
            (_, _, _, Some(r), _) => Some((
                "复查意见",
                "请求复查",
                r,
                petition_review::DAYS,
                petition_review::RULE,
            )),
            (_, Some(a), None, _, _) => Some((
                "办结答复",
                "受理",
                a,
                petition_handling::days(&p),
                petition_handling::RULE,
            )),
            (Some(r), None, _, _, _) => Some((
                "受理告知",
                "登记",
                r,
                petition_acceptance::DAYS,
                petition_acceptance::RULE,
            )),
            _ => None,
        };
        let Some((stage, since_zh, since, days, rule)) = next else {
            continue;
        };
        let due = deadline(since, Period::Days(days), false, &cal);
        out.push(PetitionDeadline {
            petition_no: p.petition_no.clone().unwrap_or_else(|| p.uid.clone()),
            case_open_risks: p
                .case_uid
                .as_ref()
                .and_then(|c| open.get(c).cloned())
                .unwrap_or_default(),
            case_uid: p.case_uid.clone(),
            org_code: p.org_code.clone(),
            stage_zh: stage.into(),
            since: format!("{since_zh} {since}"),
            due: due.to_string(),
            days_left: (due - today).num_days(),
            basis: rule.basis.cite(),
        });
    }
    out.sort_by_key(|d| d.days_left);
    Ok(out)
}

/// A hot-spot alert of mediation or petitions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HotSpotDoc {
    pub division: String,
    /// Dispute kind code, or `petition`.
    pub kind: String,
    pub month_start: String,
    pub observed: f64,
    pub baseline: f64,
    pub score: f64,
    pub method: String,
}

/// Mediation and petition hot spots by division × month, highest score first (aggregates of
/// every organ: dispute counts carry no personal data).
pub fn hot_spots(state: &AppState) -> Result<Vec<HotSpotDoc>, Problem> {
    use xiezhi_insight::hotspots;
    let (mediation, petitions) = {
        let store = state.store()?;
        (
            xiezhi_supervise::hotspot_inputs::mediation(&*store)?,
            xiezhi_supervise::hotspot_inputs::petitions(&*store)?,
        )
    };
    let first_year = mediation
        .iter()
        .chain(&petitions)
        .map(|(d, _, _)| chrono::Datelike::year(d))
        .min()
        .unwrap_or(2023);
    let today = chrono::Local::now().date_naive();
    let months = hotspots::month_index(first_year, today).unwrap_or(0) + 1;
    let mut out = Vec::new();
    for rows in [&mediation, &petitions] {
        let series = hotspots::monthly_series(
            first_year,
            months,
            rows.iter().map(|(d, a, b)| (*d, a.as_str(), b.as_str())),
        );
        for a in hotspots::scan(first_year, &series, None, hotspots::DETECTOR) {
            out.push(HotSpotDoc {
                division: a.division,
                kind: a.kind,
                month_start: a.month_start.to_string(),
                observed: a.alert.observed,
                baseline: a.alert.baseline,
                score: a.alert.score,
                method: a.alert.method,
            });
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(out)
}

/// 信访期限看板：未办结信访事项的下一个法定期限（受理告知、办结答复、复查、复核），最近的在前。
#[utoipa::path(get, path = "/api/v1/petitions/deadlines",
    responses((status = 200, body = [PetitionDeadline]), (status = 401, body = Problem)))]
pub async fn deadlines(
    caller: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<Vec<PetitionDeadline>>, Problem> {
    blocking(move || petition_board(&state, &caller.principal).map(Json)).await
}

/// 人民调解与信访热点：按行政区划 × 纠纷类型 × 月的激增预警。
#[utoipa::path(get, path = "/api/v1/hotspots",
    responses((status = 200, body = [HotSpotDoc]), (status = 401, body = Problem)))]
pub async fn list_hot_spots(
    _caller: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<Vec<HotSpotDoc>>, Problem> {
    blocking(move || hot_spots(&state).map(Json)).await
}
