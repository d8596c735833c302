//! Webhooks to department systems: when a transfer lands in an organ's inbox, the platform
//! POSTs the envelope JSON to the URL that organ registered, signed by the platform key.
//!
//! Everything is in the store, so nothing is lost across restarts: the registration
//! (`webhook.config`), a cursor per organ over its inbox queue (`webhook.cursor`), and one
//! delivery record per (organ, envelope) with every attempt (`webhook.delivery`); each attempt
//! and each dead letter is also a ledger entry. A background task ([`spawn`]) turns new inbox
//! entries into delivery records and feeds due ones through a bounded queue to the sender,
//! which retries with exponential backoff and dead-letters after `max_attempts`, keeping the
//! reason. Delivery is at least once: receivers dedup by the `Xiezhi-Envelope-Id` header.
//!
//! The signature header is `Xiezhi-Signature: t=<unix seconds>, kid=<key id>, sig=<base64>`,
//! an Ed25519 signature over `<t>.<body>`, so a replayed body with a fresh time fails.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::body::Bytes;
use base64::Engine;
use chrono::NaiveDateTime;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use http_body_util::Full;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use xiezhi_exchange::inbox;
use xiezhi_store::{LedgerEvent, Store, WorkflowWrite};

use crate::state::AppState;

pub const CONFIG_KIND: &str = "webhook.config";
pub const CURSOR_KIND: &str = "webhook.cursor";
pub const DELIVERY_KIND: &str = "webhook.delivery";
/// Per organ: every delivery up to this queue cursor is delivered or dead.
pub const SETTLED_KIND: &str = "webhook.settled";
/// The signature header.
pub const SIGNATURE_HEADER: &str = "xiezhi-signature";
/// The envelope id, for the receiver's dedup.
pub const ENVELOPE_HEADER: &str = "xiezhi-envelope-id";
const KEY_FILE: &str = "webhook.key";

/// The platform's webhook signing key and its id.
pub struct PlatformKey {
    key: SigningKey,
    pub kid: String,
}

impl PlatformKey {
    /// Loads `<data>/webhook.key`, creating it on first use.
    pub fn load_or_create(data: &Path) -> Result<PlatformKey> {
        let path = data.join(KEY_FILE);
        if !path.exists() {
            let mut seed = [0u8; 32];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
            std::fs::write(&path, hex(&seed))
                .with_context(|| format!("写入平台签名密钥 `{}` 失败", path.display()))?;
        }
        let text = std::fs::read_to_string(&path)?;
        let bytes = unhex(text.trim())
            .filter(|b| b.len() == 32)
            .with_context(|| {
                format!(
                    "平台签名密钥 `{}` 无效 (want 64 hex digits)",
                    path.display()
                )
            })?;
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&bytes);
        Ok(PlatformKey::from_seed(seed))
    }

    pub fn from_seed(seed: [u8; 32]) -> PlatformKey {
        let key = SigningKey::from_bytes(&seed);
        let kid = key_id(&key.verifying_key());
        PlatformKey { key, kid }
    }

    pub fn public(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The `Xiezhi-Signature` value for `body` sent at unix time `t`.
    pub fn header(&self, t: i64, body: &[u8]) -> String {
        let sig = self.key.sign(&signed_message(t, body));
        format!(
            "t={t}, kid={}, sig={}",
            self.kid,
            base64::engine::general_purpose::STANDARD.encode(sig.to_bytes())
        )
    }
}

/// The key id: the first 16 hex digits of the SHA-256 of the public key.
pub fn key_id(key: &VerifyingKey) -> String {
    hex(&sha2::Sha256::digest(key.as_bytes())[..8])
}

fn signed_message(t: i64, body: &[u8]) -> Vec<u8> {
    let mut m = format!("{t}.").into_bytes();
    m.extend_from_slice(body);
    m
}

/// Why a signature header does not verify.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("header is not `t=…, kid=…, sig=…`")]
    Malformed,
    #[error("key id `{0}` is not the platform key")]
    UnknownKey(String),
    #[error("signature does not verify over the body")]
    Invalid,
}

/// Checks a `Xiezhi-Signature` header against the body with the platform's public key;
/// returns the signed time. What a receiving department system does.
pub fn verify_header(key: &VerifyingKey, header: &str, body: &[u8]) -> Result<i64, SignatureError> {
    let (mut t, mut kid, mut sig) = (None, None, None);
    for part in header.split(',').map(str::trim) {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("kid", v)) => kid = Some(v),
            Some(("sig", v)) => sig = Some(v),
            _ => return Err(SignatureError::Malformed),
        }
    }
    let (Some(t), Some(kid), Some(sig)) = (t, kid, sig) else {
        return Err(SignatureError::Malformed);
    };
    if kid != key_id(key) {
        return Err(SignatureError::UnknownKey(kid.into()));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sig)
        .map_err(|_| SignatureError::Malformed)?;
    let sig =
        ed25519_dalek::Signature::from_slice(&bytes).map_err(|_| SignatureError::Malformed)?;
    key.verify(&signed_message(t, body), &sig)
        .map_err(|_| SignatureError::Invalid)?;
    Ok(t)
}

/// An organ's registered webhook.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookConfig {
    pub organ: String,
    pub url: String,
    pub registered_by: String,
    pub registered_at: NaiveDateTime,
}

/// State of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Dead,
}

impl DeliveryState {
    pub fn zh(self) -> &'static str {
        match self {
            DeliveryState::Pending => "待推送",
            DeliveryState::Delivered => "已推送",
            DeliveryState::Dead => "推送失败（死信）",
        }
    }
}

/// One POST and how it ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttemptDoc {
    pub at: NaiveDateTime,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// What went wrong; none for a 2xx.
    pub error: Option<String>,
}

/// The webhook delivery of one envelope to one organ.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub organ: String,
    /// Position in the organ's inbox queue.
    pub cursor: i64,
    pub envelope_id: String,
    pub url: String,
    pub state: DeliveryState,
    pub attempts: Vec<AttemptDoc>,
    pub next_attempt_at: NaiveDateTime,
    /// Why it was given up, for a dead letter.
    pub dead_reason: Option<String>,
}

/// Deliveries are keyed by the organ's inbox-queue cursor, so they sort in arrival order and
/// the scan can start after the last settled one.
fn delivery_id(organ: &str, cursor: i64) -> String {
    format!("{organ}|{cursor:012}")
}

/// Checks a webhook URL: plain `http://host[:port]/path` (the platform speaks to department
/// systems over the internal network; TLS terminates at their gateway).
pub fn check_url(url: &str) -> Result<(), String> {
    let uri: axum::http::Uri = url.parse().map_err(|e| format!("不是有效的地址：{e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err("地址须以 http:// 开头".into());
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("地址缺少主机名".into());
    }
    Ok(())
}

/// Registers (or replaces) an organ's webhook; a ledger entry records who did it.
pub fn register<S: Store>(
    store: &mut S,
    organ: &str,
    url: &str,
    by: &str,
    now: NaiveDateTime,
) -> Result<WebhookConfig> {
    let config = WebhookConfig {
        organ: organ.into(),
        url: url.into(),
        registered_by: by.into(),
        registered_at: now,
    };
    let event = ledger_event(
        "webhook_registered",
        serde_json::json!({"organ": organ, "url": url, "by": by}),
    );
    store.put_workflow_item(
        CONFIG_KIND,
        organ,
        &serde_json::to_string(&config)?,
        &[event],
    )?;
    Ok(config)
}

/// Every registered webhook.
pub fn configs<S: Store>(store: &S) -> Result<Vec<WebhookConfig>> {
    parse_all(store.workflow_items(CONFIG_KIND)?)
}

/// The webhook of one organ, if registered.
pub fn config<S: Store>(store: &S, organ: &str) -> Result<Option<WebhookConfig>> {
    store
        .workflow_item(CONFIG_KIND, organ)?
        .map(|b| serde_json::from_str(&b).context("stored webhook config"))
        .transpose()
}

/// Every delivery to an organ, oldest first.
pub fn deliveries<S: Store>(store: &S, organ: &str) -> Result<Vec<Delivery>> {
    deliveries_after(store, organ, 0, usize::MAX)
}

/// Deliveries to an organ after queue cursor `after`, at most `limit`.
fn deliveries_after<S: Store>(
    store: &S,
    organ: &str,
    after: i64,
    limit: usize,
) -> Result<Vec<Delivery>> {
    let prefix = format!("{organ}|");
    let mut out = Vec::new();
    let mut from = delivery_id(organ, after);
    while out.len() < limit {
        let page = store.workflow_items_after(DELIVERY_KIND, &from, 512)?;
        let full = page.len() == 512;
        for (id, body) in page {
            if !id.starts_with(&prefix) || out.len() >= limit {
                return Ok(out);
            }
            out.push(serde_json::from_str(&body).with_context(|| format!("stored `{id}`"))?);
            from = id;
        }
        if !full {
            break;
        }
    }
    Ok(out)
}

/// The delivery of one envelope to an organ.
pub fn delivery<S: Store>(store: &S, organ: &str, envelope_id: &str) -> Result<Option<Delivery>> {
    Ok(deliveries(store, organ)?
        .into_iter()
        .find(|d| d.envelope_id == envelope_id))
}

fn counter<S: Store>(store: &S, kind: &str, organ: &str) -> Result<i64> {
    Ok(store
        .workflow_item(kind, organ)?
        .and_then(|b| b.parse().ok())
        .unwrap_or(0))
}

fn parse_all<T: for<'de> Deserialize<'de>>(items: Vec<(String, String)>) -> Result<Vec<T>> {
    items
        .into_iter()
        .map(|(id, b)| serde_json::from_str(&b).with_context(|| format!("stored `{id}`")))
        .collect()
}

fn ledger_event(kind: &str, body: serde_json::Value) -> LedgerEvent {
    LedgerEvent {
        kind: kind.into(),
        entity: None,
        uid: None,
        body: match body {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        },
    }
}

/// Retry schedule and pacing of the webhook task.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// How often the inbox queues are looked at.
    pub poll: Duration,
    /// The n-th failure waits `base * 2^(n-1)`, at most `max_wait`.
    pub base: Duration,
    pub max_wait: Duration,
    /// Failures before a delivery is dead-lettered.
    pub max_attempts: u32,
    /// Deliveries waiting for the sender at most; the rest wait in the store.
    pub queue: usize,
    /// Time allowed for one POST.
    pub timeout: Duration,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions {
            poll: Duration::from_secs(1),
            base: Duration::from_secs(5),
            max_wait: Duration::from_secs(3600),
            max_attempts: 10,
            queue: 64,
            timeout: Duration::from_secs(10),
        }
    }
}

impl WebhookOptions {
    fn wait(&self, failures: u32) -> Duration {
        let shift = failures.saturating_sub(1).min(20);
        self.base.saturating_mul(1 << shift).min(self.max_wait)
    }
}

/// One due delivery handed to the sender.
struct Job {
    organ: String,
    cursor: i64,
    envelope_id: String,
    url: String,
    body: Vec<u8>,
}

fn now() -> NaiveDateTime {
    chrono::Local::now().naive_local()
}

/// Takes new inbox entries of organs with a webhook into delivery records and returns the
/// deliveries due at `at`, skipping those already queued.
fn scan<S: Store>(
    store: &mut S,
    at: NaiveDateTime,
    queued: &BTreeSet<String>,
    limit: usize,
) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for config in configs(store)? {
        let organ = &config.organ;
        let cursor = counter(store, CURSOR_KIND, organ)?;
        let new = inbox::pull(store, organ, cursor, 256)?;
        if let Some((last, _)) = new.last() {
            let mut writes: Vec<WorkflowWrite> = new
                .iter()
                .map(|(cursor, item)| {
                    let d = Delivery {
                        organ: organ.clone(),
                        cursor: *cursor,
                        envelope_id: item.envelope.body.id.clone(),
                        url: config.url.clone(),
                        state: DeliveryState::Pending,
                        attempts: Vec::new(),
                        next_attempt_at: at,
                        dead_reason: None,
                    };
                    Ok(WorkflowWrite {
                        kind: DELIVERY_KIND.into(),
                        id: delivery_id(organ, *cursor),
                        body: serde_json::to_string(&d)?,
                        events: Vec::new(),
                    })
                })
                .collect::<Result<_>>()?;
            writes.push(WorkflowWrite {
                kind: CURSOR_KIND.into(),
                id: organ.clone(),
                body: last.to_string(),
                events: Vec::new(),
            });
            store.put_workflow_items(&writes)?;
        }
        // Only deliveries after the settled mark can still be due; the mark moves over the
        // leading run of finished ones.
        let settled = counter(store, SETTLED_KIND, organ)?;
        let mut mark = settled;
        let mut open_seen = false;
        for d in deliveries_after(store, organ, settled, 4096)? {
            if d.state == DeliveryState::Pending {
                open_seen = true;
            } else if !open_seen {
                mark = d.cursor;
            }
            let id = delivery_id(organ, d.cursor);
            let due = d.state == DeliveryState::Pending && d.next_attempt_at <= at;
            if !due || queued.contains(&id) || jobs.len() >= limit {
                continue;
            }
            let Some(item) = inbox::inbox_item(store, &d.envelope_id)? else {
                continue;
            };
            jobs.push(Job {
                organ: d.organ,
                cursor: d.cursor,
                envelope_id: d.envelope_id,
                url: d.url,
                body: serde_json::to_vec(&item.envelope)?,
            });
        }
        if mark != settled {
            store.put_workflow_item(SETTLED_KIND, organ, &mark.to_string(), &[])?;
        }
    }
    Ok(jobs)
}

/// Records one attempt: delivered, retry after the backoff, or dead-lettered with the reason.
fn record_attempt<S: Store>(
    store: &mut S,
    organ: &str,
    cursor: i64,
    attempt: AttemptDoc,
    opts: &WebhookOptions,
) -> Result<()> {
    let Some(body) = store.workflow_item(DELIVERY_KIND, &delivery_id(organ, cursor))? else {
        return Ok(());
    };
    let mut d: Delivery = serde_json::from_str(&body).context("stored webhook delivery")?;
    let envelope_id = d.envelope_id.clone();
    let ok = attempt.error.is_none();
    let at = attempt.at;
    let mut events = vec![ledger_event(
        "webhook_attempt",
        serde_json::json!({
            "organ": organ, "envelope": envelope_id, "url": d.url,
            "status": attempt.status, "error": attempt.error, "attempt": d.attempts.len() + 1,
        }),
    )];
    d.attempts.push(attempt);
    if ok {
        d.state = DeliveryState::Delivered;
    } else {
        let failures = d.attempts.len() as u32;
        if failures >= opts.max_attempts {
            let last = d
                .attempts
                .last()
                .and_then(|a| a.error.clone())
                .unwrap_or_default();
            let reason = format!("{failures} 次推送均失败，最后一次：{last}");
            events.push(ledger_event(
                "webhook_dead_letter",
                serde_json::json!({"organ": organ, "envelope": envelope_id, "reason": reason}),
            ));
            d.state = DeliveryState::Dead;
            d.dead_reason = Some(reason);
        } else {
            let wait = chrono::Duration::from_std(opts.wait(failures)).unwrap_or_default();
            d.next_attempt_at = at + wait;
        }
    }
    store.put_workflow_item(
        DELIVERY_KIND,
        &delivery_id(organ, cursor),
        &serde_json::to_string(&d)?,
        &events,
    )?;
    Ok(())
}

type Client = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

async fn post(client: &Client, key: &PlatformKey, job: &Job, timeout: Duration) -> AttemptDoc {
    let t = chrono::Utc::now().timestamp();
    let request = axum::http::Request::post(&job.url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, key.header(t, &job.body))
        .header(ENVELOPE_HEADER, &job.envelope_id)
        .body(Full::new(Bytes::from(job.body.clone())));
    let at = now();
    let (status, error) = match request {
        Err(e) => (None, Some(format!("请求无效：{e}"))),
        Ok(request) => match tokio::time::timeout(timeout, client.request(request)).await {
            Err(_) => (None, Some(format!("{} 秒内无应答", timeout.as_secs_f32()))),
            Ok(Err(e)) => (None, Some(format!("连接失败：{e}"))),
            Ok(Ok(res)) => {
                let s = res.status();
                let error = (!s.is_success()).then(|| format!("接收方返回 HTTP {}", s.as_u16()));
                (Some(s.as_u16()), error)
            }
        },
    };
    AttemptDoc { at, status, error }
}

/// Starts the webhook task on the current tokio runtime: a scanner that feeds due deliveries
/// into a bounded queue and a sender that POSTs them and records each attempt.
pub fn spawn(state: Arc<AppState>, key: Arc<PlatformKey>, opts: WebhookOptions) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Job>(opts.queue.max(1));
    let queued: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let client: Client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let (scan_state, scan_queued, scan_opts) = (state.clone(), queued.clone(), opts.clone());
    tokio::spawn(async move {
        loop {
            let (state, queued) = (scan_state.clone(), scan_queued.clone());
            let room = tx.capacity();
            let found = tokio::task::spawn_blocking(move || -> Result<Vec<Job>> {
                let skip = queued.lock().map(|q| q.clone()).unwrap_or_default();
                let mut store = state.store().map_err(|p| anyhow::anyhow!("{}", p.title))?;
                scan(&mut *store, now(), &skip, room)
            })
            .await;
            match found {
                Ok(Ok(jobs)) => {
                    for job in jobs {
                        let id = delivery_id(&job.organ, job.cursor);
                        if let Ok(mut q) = scan_queued.lock() {
                            q.insert(id);
                        }
                        if tx.send(job).await.is_err() {
                            return;
                        }
                    }
                }
                Ok(Err(e)) => eprintln!("webhook: 扫描收件箱失败：{e:#}"),
                Err(e) => eprintln!("webhook: {e}"),
            }
            tokio::time::sleep(scan_opts.poll).await;
        }
    });
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            let attempt = post(&client, &key, &job, opts.timeout).await;
            let (state, opts2, queued) = (state.clone(), opts.clone(), queued.clone());
            let id = delivery_id(&job.organ, job.cursor);
            let done = tokio::task::spawn_blocking(move || -> Result<()> {
                let mut store = state.store().map_err(|p| anyhow::anyhow!("{}", p.title))?;
                record_attempt(&mut *store, &job.organ, job.cursor, attempt, &opts2)
            })
            .await;
            if let Ok(mut q) = queued.lock() {
                q.remove(&id);
            }
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => eprintln!("webhook: 记录推送结果失败：{e:#}"),
                Err(e) => eprintln!("webhook: {e}"),
            }
        }
    });
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_verifies_and_binds_time_and_body() {
        let key = PlatformKey::from_seed([3; 32]);
        let body = br#"{"id":"TR1"}"#;
        let h = key.header(1_700_000_000, body);
        assert_eq!(verify_header(&key.public(), &h, body), Ok(1_700_000_000));
        assert_eq!(
            verify_header(&key.public(), &h, br#"{"id":"TR2"}"#),
            Err(SignatureError::Invalid)
        );
        let moved = h.replace("t=1700000000", "t=1700000001");
        assert_eq!(
            verify_header(&key.public(), &moved, body),
            Err(SignatureError::Invalid)
        );
        let other = PlatformKey::from_seed([4; 32]);
        assert!(matches!(
            verify_header(&other.public(), &h, body),
            Err(SignatureError::UnknownKey(_))
        ));
        assert_eq!(
            verify_header(&key.public(), "sig", body),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn urls_must_be_plain_http_with_a_host() {
        assert!(check_url("http://10.0.0.5:8080/hook").is_ok());
        assert!(check_url("ftp://x/").is_err());
        assert!(check_url("/relative").is_err());
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn backoff_doubles_to_the_cap() {
        let o = WebhookOptions {
            base: Duration::from_secs(5),
            max_wait: Duration::from_secs(30),
            ..WebhookOptions::default()
        };
        let waits: Vec<u64> = (1..=5).map(|n| o.wait(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 30, 30]);
    }
}
