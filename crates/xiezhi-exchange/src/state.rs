//! What the exchange keeps in the store (as workflow items) and the checks both sides share.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use xiezhi_standard::validate::record::{validate_record, ValidationContext};
use xiezhi_standard::{Entity, Record, Severity, Value};
use xiezhi_store::{LedgerEvent, Store, WorkflowWrite};

use crate::envelope::{Envelope, EnvelopeBody, Receipt, ReceiptStatus};
use crate::keys::Registry;
use crate::kind::OrganKind;
use crate::{ExchangeError, Refusal};

pub(crate) const OUTBOX: &str = "exchange.outbox";
pub(crate) const ENVELOPE: &str = "exchange.envelope";
pub(crate) const INBOX: &str = "exchange.inbox";
pub(crate) const RECEIPT: &str = "exchange.receipt";
pub(crate) const REFUSAL: &str = "exchange.refusal";
pub(crate) const META: &str = "exchange.meta";

pub(crate) fn queue(organ: &str) -> String {
    format!("exchange.queue:{organ}")
}

/// A zero-padded sequence number: ids that sort as numbers.
pub(crate) fn seq_id(n: i64) -> String {
    format!("{n:012}")
}

/// State of an outbox entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for (another) delivery attempt.
    Pending,
    /// The receiver holds it; its receipts are in.
    Delivered,
    /// Given up: the receiver refused it, or too many attempts failed. The reasons are kept.
    Dead,
}

/// One failed delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: NaiveDateTime,
    pub error: String,
}

/// An outbox entry with its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub seq: i64,
    pub envelope: Envelope,
    pub state: OutboxState,
    /// Failed attempts so far.
    pub attempts: u32,
    pub next_attempt_at: NaiveDateTime,
    pub failures: Vec<Attempt>,
    /// The receipt statuses received.
    pub receipts: Vec<ReceiptStatus>,
    /// Why the receiver refused it, when it did.
    pub refused: Option<Refusal>,
}

/// The stored delivery state of an outbox entry: small, rewritten on every attempt, while the
/// envelope (documents included) is written once under [`ENVELOPE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredOutbox {
    pub seq: i64,
    pub envelope_id: String,
    pub from: String,
    pub to: String,
    pub case_uid: String,
    pub digest: String,
    pub state: OutboxState,
    pub attempts: u32,
    pub next_attempt_at: NaiveDateTime,
    pub failures: Vec<Attempt>,
    pub receipts: Vec<ReceiptStatus>,
    pub refused: Option<Refusal>,
}

impl StoredOutbox {
    pub fn with(self, envelope: Envelope) -> OutboxItem {
        OutboxItem {
            seq: self.seq,
            envelope,
            state: self.state,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            failures: self.failures,
            receipts: self.receipts,
            refused: self.refused,
        }
    }
}

/// State of an inbox entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxState {
    Received,
    Accepted,
    Rejected,
}

impl InboxState {
    pub fn zh(self) -> &'static str {
        match self {
            InboxState::Received => "待处理",
            InboxState::Accepted => "已接收",
            InboxState::Rejected => "已退回",
        }
    }
}

/// An inbox entry: the envelope as received (its attachments' bytes stay in the sender's stored
/// envelope; the signed body keeps their hashes) and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub envelope: Envelope,
    pub digest: String,
    pub state: InboxState,
    pub received_at: NaiveDateTime,
    pub answered_at: Option<NaiveDateTime>,
    /// The transfer that answered this one, for kinds answered by a reply.
    pub answered_by: Option<String>,
    pub receiver_case_no: Option<String>,
    pub reason: Option<String>,
}

/// A stored refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalRecord {
    pub envelope_id: String,
    pub digest: String,
    pub from: String,
    pub to: String,
    pub at: NaiveDateTime,
    pub reason: Refusal,
}

/// Counters and items read once and written with the batch that changes them.
#[derive(Default)]
pub(crate) struct Pending {
    pub meta: BTreeMap<String, i64>,
    pub items: BTreeMap<(String, String), String>,
    pub events: Vec<LedgerEvent>,
}

impl Pending {
    pub fn counter<S: Store>(&mut self, store: &S, name: &str) -> Result<i64, ExchangeError> {
        if let Some(n) = self.meta.get(name) {
            return Ok(*n);
        }
        let n = match store.workflow_item(META, name)? {
            Some(body) => body
                .parse()
                .map_err(|_| ExchangeError::Corrupt(format!("counter `{name}` is `{body}`")))?,
            None => 0,
        };
        self.meta.insert(name.to_string(), n);
        Ok(n)
    }

    pub fn set_counter(&mut self, name: &str, n: i64) {
        self.meta.insert(name.to_string(), n);
    }

    /// Increments and returns the new value.
    pub fn next<S: Store>(&mut self, store: &S, name: &str) -> Result<i64, ExchangeError> {
        let n = self.counter(store, name)? + 1;
        self.set_counter(name, n);
        Ok(n)
    }

    pub fn put<T: Serialize>(
        &mut self,
        kind: &str,
        id: &str,
        value: &T,
    ) -> Result<(), ExchangeError> {
        self.items.insert(
            (kind.to_string(), id.to_string()),
            serde_json::to_string(value)?,
        );
        Ok(())
    }

    /// The item as this batch will leave it, else as stored.
    pub fn get<S: Store, T: for<'de> Deserialize<'de>>(
        &self,
        store: &S,
        kind: &str,
        id: &str,
    ) -> Result<Option<T>, ExchangeError> {
        let body = match self.items.get(&(kind.to_string(), id.to_string())) {
            Some(b) => Some(b.clone()),
            None => store.workflow_item(kind, id)?,
        };
        body.map(|b| {
            serde_json::from_str(&b)
                .map_err(|e| ExchangeError::Corrupt(format!("{kind} `{id}`: {e}")))
        })
        .transpose()
    }

    pub fn event(&mut self, kind: &str, case_uid: &str, fields: serde_json::Value) {
        let body = match fields {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        self.events.push(LedgerEvent {
            kind: kind.to_string(),
            entity: Some("case".into()),
            uid: Some(case_uid.to_string()),
            body,
        });
    }

    pub fn receipt(&mut self, r: &Receipt) -> Result<(), ExchangeError> {
        let id = format!("{}/{}", r.body.envelope_id, r.body.status.code());
        self.event(
            "transfer_receipt",
            "",
            serde_json::json!({
                "envelope": r.body.envelope_id,
                "envelope_sha256": r.body.envelope_sha256,
                "status": r.body.status.code(),
                "by": r.body.by,
                "reason": r.body.reason,
                "receiver_case_no": r.body.receiver_case_no,
                "receipt_sha256": r.digest(),
                "signature": r.signature,
            }),
        );
        if let Some(last) = self.events.last_mut() {
            last.entity = Some("transfer".into());
            last.uid = Some(r.body.envelope_id.clone());
        }
        self.put(RECEIPT, &id, r)
    }

    pub fn workflow(&mut self) -> Vec<WorkflowWrite> {
        let mut out: Vec<WorkflowWrite> = std::mem::take(&mut self.meta)
            .into_iter()
            .map(|(id, n)| WorkflowWrite {
                kind: META.into(),
                id,
                body: n.to_string(),
                events: Vec::new(),
            })
            .collect();
        out.extend(
            std::mem::take(&mut self.items)
                .into_iter()
                .map(|((kind, id), body)| WorkflowWrite {
                    kind,
                    id,
                    body,
                    events: Vec::new(),
                }),
        );
        out
    }
}

/// The checks of a transfer's contents, shared by the sender (before sending) and the receiver
/// (before taking it in). Returns the case record the payload describes.
pub(crate) fn check_contents(body: &EnvelopeBody, registry: &Registry) -> Result<Record, Refusal> {
    let spec = body.kind.spec();
    let from_kind = registry
        .kind(&body.from)
        .ok_or_else(|| Refusal::UnknownSender {
            organ: body.from.clone(),
        })?;
    let to_kind = registry
        .kind(&body.to)
        .ok_or_else(|| Refusal::UnknownReceiver {
            organ: body.to.clone(),
        })?;
    route(body, from_kind, to_kind)?;
    let present: Vec<&str> = body
        .payload
        .documents
        .iter()
        .map(|d| d.kind.as_str())
        .collect();
    let mut missing: Vec<String> = spec
        .required_documents
        .iter()
        .filter(|d| !present.contains(d))
        .map(|d| d.to_string())
        .collect();
    if !spec.decisions.is_empty() {
        let allowed = || spec.decisions.iter().map(|d| d.code.to_string()).collect();
        let given = body.payload.decision.clone().unwrap_or_default();
        let decision = spec
            .decisions
            .iter()
            .find(|d| d.code == given)
            .ok_or_else(|| Refusal::BadDecision {
                given: given.clone(),
                allowed: allowed(),
            })?;
        if !present.contains(&decision.document) {
            missing.push(decision.document.to_string());
        }
    } else if let Some(given) = &body.payload.decision {
        return Err(Refusal::BadDecision {
            given: given.clone(),
            allowed: Vec::new(),
        });
    }
    if !missing.is_empty() {
        return Err(Refusal::MissingDocuments { missing });
    }
    let mut record = Record::new(Entity::Case);
    for (field, value) in &body.payload.case {
        if !spec.case_fields.contains(&field.as_str()) {
            return Err(Refusal::FieldNotAllowed {
                field: field.clone(),
                kind: body.kind.code().into(),
            });
        }
        record
            .set(field, Value::from(value))
            .map_err(|message| Refusal::InvalidField {
                field: field.clone(),
                rule: "type".into(),
                message,
            })?;
    }
    // A payload is part of a case: the field rules apply, the whole-record ones (a case must
    // carry some department's number) do not.
    let issues = validate_record(&mut record, &ValidationContext { as_of: None });
    if let Some(i) = issues
        .iter()
        .find(|i| i.severity == Severity::Error && body.payload.case.contains_key(&i.field))
    {
        return Err(Refusal::InvalidField {
            field: i.field.clone(),
            rule: i.rule.to_string(),
            message: i.message_en.clone(),
        });
    }
    Ok(record)
}

fn route(body: &EnvelopeBody, from: OrganKind, to: OrganKind) -> Result<(), Refusal> {
    if body.kind.allows(from, to) {
        Ok(())
    } else {
        Err(Refusal::KindNotAllowed {
            kind: body.kind.code().into(),
            from_kind: from.code().into(),
            to_kind: to.code().into(),
        })
    }
}
