//! Endpoints of the three separated administrators (三员分立): the system administrator
//! (accounts, system status), the security administrator (policies, keys, unlocking accounts)
//! and the audit administrator (audit records, ledger verification). Every call is decided by
//! the Cedar policies of `admin.cedar` (`Authorizer::decide_admin`), and every decision,
//! permitted or denied, is a ledger entry with time, principal, role, source address, action,
//! target and outcome before the answer goes out.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xiezhi_access::admin::{AdminAction, AdminDecision};
use xiezhi_store::{LedgerEvent, Store};

use crate::api::blocking;
use crate::auth::{Caller, Source};
use crate::error::Problem;
use crate::state::AppState;

/// Decides `action` for the caller, logs the decision, and refuses a denied one with the
/// decision's explanation.
fn gate(
    state: &AppState,
    caller: &Caller,
    source: &str,
    action: AdminAction,
    target: &str,
) -> Result<AdminDecision, Problem> {
    let decision = state
        .authz()?
        .decide_admin(&caller.principal, action)
        .map_err(Problem::internal)?;
    let event = decision.event(
        &caller.principal,
        chrono::Local::now().naive_local(),
        source,
        target,
    );
    let body = match serde_json::to_value(&event) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    state.ledger.log(LedgerEvent {
        kind: "admin".into(),
        entity: None,
        uid: None,
        body,
    })?;
    if decision.permit {
        Ok(decision)
    } else {
        Err(Problem::forbidden(decision.summary_zh.clone()))
    }
}

/// One login account, without its secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountDoc {
    pub username: String,
    pub principal: String,
    /// Whether the account has a second factor (TOTP) and so can log in.
    pub two_factor: bool,
    pub must_change_password: bool,
    /// Seconds until a lock after repeated failures ends, if locked.
    pub locked_for_seconds: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub items: Vec<AccountDoc>,
    /// The decision that allowed the listing.
    pub decision: String,
}

/// 账户清单（系统管理员）。
#[utoipa::path(get, path = "/api/v1/admin/users",
    responses((status = 200, body = AccountList), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub async fn list_users(
    caller: Caller,
    Source(source): Source,
    State(state): State<Arc<AppState>>,
) -> Result<Json<AccountList>, Problem> {
    blocking(move || {
        let d = gate(&state, &caller, &source, AdminAction::UserList, "users")?;
        let users = state.users()?;
        let items = users
            .accounts()
            .iter()
            .map(|a| AccountDoc {
                username: a.username.clone(),
                principal: a.principal.clone(),
                two_factor: a.totp_secret.is_some(),
                must_change_password: a.must_change_password,
                locked_for_seconds: state.limiter.locked(&a.username),
            })
            .collect();
        Ok(Json(AccountList {
            items,
            decision: d.summary_zh,
        }))
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminResult {
    /// What was done, in Chinese.
    pub done: String,
    pub decision: String,
}

/// 解除账户因连续登录失败的锁定（安全管理员）。
#[utoipa::path(post, path = "/api/v1/admin/users/{user}/unlock",
    params(("user" = String, Path, description = "账户名")),
    responses((status = 200, body = AdminResult), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn unlock_user(
    caller: Caller,
    Source(source): Source,
    State(state): State<Arc<AppState>>,
    Path(username): Path<String>,
) -> Result<Json<AdminResult>, Problem> {
    blocking(move || {
        let d = gate(&state, &caller, &source, AdminAction::UserUnlock, &username)?;
        if state.users()?.get(&username).is_none() {
            return Err(Problem::not_found(format!("账户 `{username}`")));
        }
        state.limiter.succeeded(&username);
        Ok(Json(AdminResult {
            done: format!("账户 `{username}` 已解锁"),
            decision: d.summary_zh,
        }))
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyDoc {
    pub file: String,
    /// The Cedar text of the file.
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyList {
    pub items: Vec<PolicyDoc>,
    pub decision: String,
}

/// 在用的访问策略（安全管理员）。
#[utoipa::path(get, path = "/api/v1/admin/policies",
    responses((status = 200, body = PolicyList), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub async fn list_policies(
    caller: Caller,
    Source(source): Source,
    State(state): State<Arc<AppState>>,
) -> Result<Json<PolicyList>, Problem> {
    blocking(move || {
        let d = gate(
            &state,
            &caller,
            &source,
            AdminAction::PolicyView,
            "policies",
        )?;
        let authz = state.authz()?;
        let items = authz
            .policies()
            .policy_files()
            .map(|(file, text)| PolicyDoc {
                file: file.to_string(),
                text: text.to_string(),
            })
            .collect();
        Ok(Json(PolicyList {
            items,
            decision: d.summary_zh,
        }))
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyStatus {
    /// `intl` or `gm`; absent when field encryption is off.
    pub suite: Option<String>,
    pub kek_version: Option<u32>,
    /// Sealed values not yet under their column's current key (a rotation under way).
    pub pending: i64,
    pub decision: String,
}

/// 字段加密密钥状态（安全管理员；轮换用 `xiezhi keys rotate`）。
#[utoipa::path(get, path = "/api/v1/admin/keys",
    responses((status = 200, body = KeyStatus), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub async fn key_status(
    caller: Caller,
    Source(source): Source,
    State(state): State<Arc<AppState>>,
) -> Result<Json<KeyStatus>, Problem> {
    blocking(move || {
        let d = gate(
            &state,
            &caller,
            &source,
            AdminAction::KeyOperate,
            "field_keys",
        )?;
        let store = state.store()?;
        let enc = store.field_encryption();
        let pending = store
            .reseal_pending()
            .map_err(Problem::internal)?
            .iter()
            .map(|p| p.2)
            .sum();
        Ok(Json(KeyStatus {
            suite: enc.as_ref().map(|e| e.0.id().to_string()),
            kek_version: enc.map(|e| e.1),
            pending,
            decision: d.summary_zh,
        }))
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// First entry number (default 0).
    pub from: Option<i64>,
    /// Entries to return (default 100, at most 1,000).
    pub limit: Option<i64>,
    /// Only entries of this kind (`authentication`, `admin`, `access` …).
    pub kind: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub kind: String,
    /// The entry's canonical JSON body.
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditEntry>,
    /// Entries in the ledger.
    pub total: i64,
    pub decision: String,
}

/// 审计记录（审计管理员）。
#[utoipa::path(get, path = "/api/v1/admin/audit", params(AuditQuery),
    responses((status = 200, body = AuditList), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub async fn audit_entries(
    caller: Caller,
    Source(source): Source,
    State(state): State<Arc<AppState>>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditList>, Problem> {
    blocking(move || {
        let from = q.from.unwrap_or(0).max(0);
        let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
        let target = format!("ledger[{from}..+{limit}]");
        let d = gate(&state, &caller, &source, AdminAction::AuditRead, &target)?;
        let store = state.store()?;
        let total = store.ledger_len().map_err(Problem::internal)?;
        let items = store
            .ledger_entries(from, if q.kind.is_some() { 100_000 } else { limit })
            .map_err(Problem::internal)?
            .into_iter()
            .filter(|e| q.kind.as_deref().is_none_or(|k| e.kind == k))
            .take(limit as usize)
            .map(|e| AuditEntry {
                seq: e.seq,
                kind: e.kind,
                body: e.body,
            })
            .collect();
        Ok(Json(AuditList {
            items,
            total,
            decision: d.summary_zh,
        }))
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerCheck {
    pub entries: i64,
    pub checkpoints: usize,
    pub rows_checked: usize,
    pub intact: bool,
    /// The first problem, if any.
    pub first_problem: Option<String>,
    pub decision: String,
}

/// 校验账本（审计管理员）：条目、检查点签名与根、库中记录。
#[utoipa::path(post, path = "/api/v1/admin/ledger/verify",
    responses((status = 200, body = LedgerCheck), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub async fn verify_ledger(
    caller: Caller,
    Source(source): Source,
    State(state): State<Arc<AppState>>,
) -> Result<Json<LedgerCheck>, Problem> {
    blocking(move || {
        let d = gate(
            &state,
            &caller,
            &source,
            AdminAction::LedgerVerify,
            "ledger",
        )?;
        let store = state.store()?;
        let report = xiezhi_ledger::log::verify(&*store, &[state.log.verifier()])
            .map_err(Problem::internal)?;
        Ok(Json(LedgerCheck {
            entries: report.entries,
            checkpoints: report.checkpoints,
            rows_checked: report.rows_checked,
            intact: report.intact(),
            first_problem: report.first_bad().map(|p| p.detail.clone()),
            decision: d.summary_zh,
        }))
    })
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SystemStatus {
    pub backend: String,
    pub cases: i64,
    pub persons: i64,
    pub ledger_entries: i64,
    pub accounts: usize,
    pub decision: String,
}

/// 系统状态（系统管理员）：不含案件内容，只有数量。
#[utoipa::path(get, path = "/api/v1/admin/status",
    responses((status = 200, body = SystemStatus), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub async fn system_status(
    caller: Caller,
    Source(source): Source,
    State(state): State<Arc<AppState>>,
) -> Result<Json<SystemStatus>, Problem> {
    blocking(move || {
        let d = gate(
            &state,
            &caller,
            &source,
            AdminAction::SystemStatus,
            "system",
        )?;
        let store = state.store()?;
        let count = |e| store.count(e).map_err(Problem::internal);
        Ok(Json(SystemStatus {
            backend: state.location().backend().to_string(),
            cases: count(xiezhi_store::Entity::Case)?,
            persons: count(xiezhi_store::Entity::Person)?,
            ledger_entries: store.ledger_len().map_err(Problem::internal)?,
            accounts: state.users()?.accounts().len(),
            decision: d.summary_zh,
        }))
    })
    .await
}
