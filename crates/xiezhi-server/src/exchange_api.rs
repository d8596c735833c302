//! Transfers and webhooks over HTTP: the logged-in organ's transfers in and out, one
//! transfer with its signature check and ledger entries, and webhook registration (system
//! administrators only). The console's 交换 page renders the same documents.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use xiezhi_access::{Principal, Role};
use xiezhi_exchange::inbox::{self, InboxItem};
use xiezhi_exchange::keys::Registry;
use xiezhi_exchange::outbox::{self, OutboxItem, OutboxState};
use xiezhi_exchange::{deadline, kind, Envelope, Receipt};
use xiezhi_store::{AnyStore, Store};

use crate::api::{blocking, JsonBody};
use crate::auth::Caller;
use crate::error::Problem;
use crate::state::AppState;
use crate::webhook::{self, DeliveryState, PlatformKey};

const TIME: &str = "%Y-%m-%d %H:%M:%S";

fn internal(e: impl std::fmt::Display) -> Problem {
    Problem::internal(e)
}

/// One transfer as the organ sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferRow {
    pub id: String,
    /// Transfer kind code (`arrest_request`, …) and its Chinese name.
    pub kind: String,
    pub kind_zh: String,
    pub case_uid: String,
    pub from: String,
    pub to: String,
    /// `in` (received by this organ) or `out` (sent by it).
    pub direction: String,
    pub direction_zh: String,
    pub sent_at: String,
    pub status_zh: String,
    /// Last day to answer, for kinds with a statutory answer period still unanswered.
    pub deadline: Option<String>,
    /// Days past the deadline (0 when not overdue).
    pub days_overdue: i64,
    /// The article that sets the answer period.
    pub deadline_basis: Option<String>,
    /// Receipts in, by their Chinese status.
    pub receipts_zh: Vec<String>,
    pub receiver_case_no: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferList {
    /// The organ whose transfers these are.
    pub organ: String,
    pub items: Vec<TransferRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentDoc {
    pub kind_zh: String,
    pub number: String,
    pub sha256: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptDoc {
    pub status_zh: String,
    pub by: String,
    pub at: String,
    pub reason: Option<String>,
    pub receiver_case_no: Option<String>,
    /// Whether the receiver's registered key verifies the receipt's signature.
    pub signature_valid: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryDoc {
    pub envelope_id: String,
    pub url: String,
    pub state: String,
    pub state_zh: String,
    pub attempts: usize,
    pub last_error: Option<String>,
    pub dead_reason: Option<String>,
}

/// One transfer with the evidence behind it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferDetail {
    pub transfer: TransferRow,
    /// Whether the sender's registered key verifies the envelope signature.
    pub signature_valid: bool,
    /// The verification result in words.
    pub signature_zh: String,
    pub envelope_sha256: String,
    pub documents: Vec<DocumentDoc>,
    pub receipts: Vec<ReceiptDoc>,
    /// Sequence numbers of the ledger entries that record this transfer and its receipts.
    pub ledger_entries: Vec<i64>,
    /// The webhook delivery to the receiving organ, when it has a webhook.
    pub webhook: Option<WebhookDeliveryDoc>,
}

/// An organ's webhook and how its deliveries stand.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookStatus {
    pub organ: String,
    pub url: Option<String>,
    pub registered_by: Option<String>,
    pub registered_at: Option<String>,
    pub pending: usize,
    pub delivered: usize,
    pub dead: usize,
    pub last_error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookStatus>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterWebhook {
    /// `http://host[:port]/path` of the department system's receiver.
    pub url: String,
}

/// The platform's webhook signing key.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookKey {
    pub algorithm: String,
    pub kid: String,
    /// Hex of the 32-byte Ed25519 public key.
    pub public_key_hex: String,
    /// How the `Xiezhi-Signature` header is formed.
    pub header: String,
}

fn row(
    organ: &str,
    env: &Envelope,
    status_zh: String,
    receipts: &[Receipt],
    due: &BTreeMap<String, deadline::Unanswered>,
) -> TransferRow {
    let b = &env.body;
    let out = b.from == organ;
    let d = due.get(&b.id);
    TransferRow {
        id: b.id.clone(),
        kind: b.kind.code().into(),
        kind_zh: b.kind.name_zh().into(),
        case_uid: b.case_uid.clone(),
        from: b.from.clone(),
        to: b.to.clone(),
        direction: if out { "out" } else { "in" }.into(),
        direction_zh: if out { "发出" } else { "收到" }.into(),
        sent_at: b.sent_at.format(TIME).to_string(),
        status_zh,
        deadline: d.map(|u| u.deadline.to_string()),
        days_overdue: d.map_or(0, |u| u.days_overdue),
        deadline_basis: d.map(|u| format!("{}{}", u.basis.law, u.basis.article)),
        receipts_zh: receipts
            .iter()
            .map(|r| r.body.status.zh().to_string())
            .collect(),
        receiver_case_no: receipts
            .iter()
            .find_map(|r| r.body.receiver_case_no.clone()),
    }
}

fn outbox_status(o: &OutboxItem) -> String {
    match o.state {
        OutboxState::Pending => format!("待送达（已尝试 {} 次）", o.attempts),
        OutboxState::Dead => match &o.refused {
            Some(r) => format!("被拒收：{}", r.zh()),
            None => "送达失败（死信）".into(),
        },
        OutboxState::Delivered => "已送达".into(),
    }
}

fn inbox_status(i: &InboxItem) -> String {
    match &i.reason {
        Some(r) => format!("{}：{r}", i.state.zh()),
        None => i.state.zh().into(),
    }
}

fn unanswered(store: &AnyStore) -> Result<BTreeMap<String, deadline::Unanswered>, Problem> {
    let now = chrono::Local::now().naive_local();
    Ok(deadline::unanswered(store, now)
        .map_err(internal)?
        .into_iter()
        .map(|u| (u.envelope_id.clone(), u))
        .collect())
}

/// The transfers sent or received by the principal's organ, newest first.
pub fn transfers_for(state: &AppState, principal: &Principal) -> Result<TransferList, Problem> {
    let organ = principal.org_code().to_string();
    let store = state.store()?;
    let due = unanswered(&store)?;
    let mut items = Vec::new();
    for i in inbox::inbox_items(&*store).map_err(internal)? {
        if i.envelope.body.to == organ {
            let receipts = inbox::receipts(&*store, &i.envelope.body.id).map_err(internal)?;
            items.push(row(&organ, &i.envelope, inbox_status(&i), &receipts, &due));
        }
    }
    for o in outbox::list(&*store).map_err(internal)? {
        if o.envelope.body.from == organ && o.envelope.body.to != organ {
            let receipts = inbox::receipts(&*store, &o.envelope.body.id).map_err(internal)?;
            items.push(row(&organ, &o.envelope, outbox_status(&o), &receipts, &due));
        }
    }
    items.sort_by(|a, b| b.sent_at.cmp(&a.sent_at).then(b.id.cmp(&a.id)));
    Ok(TransferList { organ, items })
}

/// One transfer, for an organ that sent or received it.
pub fn transfer_detail(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<TransferDetail, Problem> {
    let organ = principal.org_code();
    let store = state.store()?;
    let inbox_item = inbox::inbox_item(&*store, id).map_err(internal)?;
    let outbox_item = outbox::find(&*store, id).map_err(internal)?;
    let (env, status) = match (&inbox_item, &outbox_item) {
        (Some(i), _) if i.envelope.body.to == organ => (i.envelope.clone(), inbox_status(i)),
        (_, Some(o)) if o.envelope.body.from == organ => (o.envelope.clone(), outbox_status(o)),
        (Some(i), _) if i.envelope.body.from == organ => (i.envelope.clone(), inbox_status(i)),
        (None, None) => return Err(Problem::not_found(format!("移送 `{id}` 不存在"))),
        _ => {
            return Err(Problem::forbidden(format!(
                "移送 `{id}` 不是本机关（{organ}）发出或收到的"
            )))
        }
    };
    let registry = Registry::load(&*store).map_err(internal)?;
    let receipts = inbox::receipts(&*store, id).map_err(internal)?;
    let due = unanswered(&store)?;
    let transfer = row(organ, &env, status, &receipts, &due);
    let (signature_valid, signature_zh) = match registry.key(&env.body.from) {
        Some(k) if env.signature_valid(k) => (
            true,
            format!("签名有效：与 {} 登记的公钥相符", env.body.from),
        ),
        Some(_) => (
            false,
            format!("签名无效：与 {} 登记的公钥不符", env.body.from),
        ),
        None => (false, format!("无法验证：{} 未登记公钥", env.body.from)),
    };
    let receipts_doc = receipts
        .iter()
        .map(|r| ReceiptDoc {
            status_zh: r.body.status.zh().into(),
            by: r.body.by.clone(),
            at: r.body.at.format(TIME).to_string(),
            reason: r.body.reason.clone(),
            receiver_case_no: r.body.receiver_case_no.clone(),
            signature_valid: registry
                .key(&r.body.by)
                .is_some_and(|k| r.signature_valid(k)),
        })
        .collect();
    let ledger_entries = ledger_entries_of(&*store, id)?;
    let webhook = webhook::delivery(&*store, &env.body.to, id)
        .map_err(internal)?
        .map(|d| WebhookDeliveryDoc {
            envelope_id: d.envelope_id,
            url: d.url,
            state: format!("{:?}", d.state).to_lowercase(),
            state_zh: d.state.zh().into(),
            attempts: d.attempts.len(),
            last_error: d.attempts.last().and_then(|a| a.error.clone()),
            dead_reason: d.dead_reason,
        });
    Ok(TransferDetail {
        transfer,
        signature_valid,
        signature_zh,
        envelope_sha256: env.digest(),
        documents: env
            .body
            .payload
            .documents
            .iter()
            .map(|d| DocumentDoc {
                kind_zh: kind::document_name(&d.kind),
                number: d.number.clone(),
                sha256: d.sha256.clone(),
            })
            .collect(),
        receipts: receipts_doc,
        ledger_entries,
        webhook,
    })
}

/// The ledger entries of a transfer: those of kind `transfer_*` that name its envelope.
fn ledger_entries_of<S: Store>(store: &S, id: &str) -> Result<Vec<i64>, Problem> {
    let needle = format!("\"envelope\":\"{id}\"");
    let mut out = Vec::new();
    let mut from = 0;
    loop {
        let page = store.ledger_entries(from, 4096)?;
        let Some(last) = page.last() else { break };
        from = last.seq + 1;
        out.extend(
            page.iter()
                .filter(|e| e.kind.starts_with("transfer_") && e.body.contains(&needle))
                .map(|e| e.seq),
        );
    }
    Ok(out)
}

/// The webhook status of one organ.
pub fn webhook_status<S: Store>(store: &S, organ: &str) -> Result<WebhookStatus, Problem> {
    let config = webhook::config(store, organ).map_err(internal)?;
    let deliveries = webhook::deliveries(store, organ).map_err(internal)?;
    let count = |s: DeliveryState| deliveries.iter().filter(|d| d.state == s).count();
    Ok(WebhookStatus {
        organ: organ.into(),
        url: config.as_ref().map(|c| c.url.clone()),
        registered_by: config.as_ref().map(|c| c.registered_by.clone()),
        registered_at: config.map(|c| c.registered_at.format(TIME).to_string()),
        pending: count(DeliveryState::Pending),
        delivered: count(DeliveryState::Delivered),
        dead: count(DeliveryState::Dead),
        last_error: deliveries
            .iter()
            .flat_map(|d| d.attempts.iter())
            .filter(|a| a.error.is_some())
            .max_by_key(|a| a.at)
            .and_then(|a| a.error.clone()),
    })
}

fn require_admin(principal: &Principal) -> Result<(), Problem> {
    if principal.role() == Some(Role::Sysadmin) {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "只有系统管理员可以管理推送地址（webhook）",
        ))
    }
}

/// 本机关发出和收到的移送（含期限与回执）。
#[utoipa::path(get, path = "/api/v1/transfers",
    responses((status = 200, body = TransferList), (status = 401, body = Problem)))]
pub async fn list_transfers(
    caller: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<TransferList>, Problem> {
    blocking(move || transfers_for(&state, &caller.principal).map(Json)).await
}

/// 一件移送：签名核验结果、文书哈希、回执、账本条目、推送状态。
#[utoipa::path(get, path = "/api/v1/transfers/{id}",
    params(("id" = String, Path, description = "移送编号 (TR…)")),
    responses((status = 200, body = TransferDetail), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn show_transfer(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<TransferDetail>, Problem> {
    blocking(move || transfer_detail(&state, &caller.principal, &id).map(Json)).await
}

/// 各机关的推送地址与推送情况（系统管理员）。
#[utoipa::path(get, path = "/api/v1/webhooks",
    responses((status = 200, body = WebhookList), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub async fn list_webhooks(
    caller: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<WebhookList>, Problem> {
    require_admin(&caller.principal)?;
    blocking(move || {
        let store = state.store()?;
        let items = webhook::configs(&*store)
            .map_err(internal)?
            .iter()
            .map(|c| webhook_status(&*store, &c.organ))
            .collect::<Result<_, _>>()?;
        Ok(Json(WebhookList { items }))
    })
    .await
}

/// 登记或更换机关的推送地址（系统管理员）。
#[utoipa::path(put, path = "/api/v1/webhooks/{organ}", request_body = RegisterWebhook,
    params(("organ" = String, Path, description = "接收机关代码")),
    responses((status = 200, body = WebhookStatus), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn register_webhook(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(organ): Path<String>,
    JsonBody(req): JsonBody<RegisterWebhook>,
) -> Result<Json<WebhookStatus>, Problem> {
    require_admin(&caller.principal)?;
    webhook::check_url(&req.url).map_err(|m| Problem::bad_request("url", "webhook_url", m))?;
    blocking(move || {
        let mut store = state.store()?;
        let registry = Registry::load(&*store).map_err(internal)?;
        if registry.key(&organ).is_none() {
            return Err(Problem::not_found(format!(
                "机关 `{organ}` 未在交换公钥登记册中"
            )));
        }
        let now = chrono::Local::now().naive_local();
        webhook::register(&mut *store, &organ, &req.url, caller.principal.id(), now)
            .map_err(internal)?;
        webhook_status(&*store, &organ).map(Json)
    })
    .await
}

/// 机关的逐件推送记录（系统管理员）。
#[utoipa::path(get, path = "/api/v1/webhooks/{organ}/deliveries",
    params(("organ" = String, Path, description = "接收机关代码")),
    responses((status = 200, body = Vec<WebhookDeliveryDoc>), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub async fn deliveries(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(organ): Path<String>,
) -> Result<Json<Vec<WebhookDeliveryDoc>>, Problem> {
    require_admin(&caller.principal)?;
    blocking(move || {
        let store = state.store()?;
        let list = webhook::deliveries(&*store, &organ).map_err(internal)?;
        Ok(Json(
            list.into_iter()
                .map(|d| WebhookDeliveryDoc {
                    envelope_id: d.envelope_id,
                    url: d.url,
                    state: format!("{:?}", d.state).to_lowercase(),
                    state_zh: d.state.zh().into(),
                    attempts: d.attempts.len(),
                    last_error: d.attempts.last().and_then(|a| a.error.clone()),
                    dead_reason: d.dead_reason,
                })
                .collect(),
        ))
    })
    .await
}

/// 平台推送签名公钥：接收方据此核验 `Xiezhi-Signature`。
#[utoipa::path(get, path = "/api/v1/webhooks/key",
    responses((status = 200, body = WebhookKey), (status = 401, body = Problem)))]
pub async fn webhook_key(
    _caller: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<WebhookKey>, Problem> {
    let key = PlatformKey::load_or_create(&state.data).map_err(internal)?;
    Ok(Json(WebhookKey {
        algorithm: "Ed25519".into(),
        kid: key.kid.clone(),
        public_key_hex: key
            .public()
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        header: "Xiezhi-Signature: t=<unix 秒>, kid=<密钥编号>, sig=<base64(Ed25519(\"<t>.\" + 请求体))>"
            .into(),
    }))
}
