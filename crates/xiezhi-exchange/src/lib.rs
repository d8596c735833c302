//! Cross-department exchange: case transfers between organs as signed envelopes with signed
//! receipts, sent from a persistent outbox and taken in by an idempotent inbox.
//!
//! A transfer follows the procedure ([`kind`]): its kind names who may send it to whom, the
//! documents it must carry and the fields that travel. [`outbox::send`] refuses an incomplete
//! transfer before anything is written, signs it with the sender organ's key and stores it in
//! the outbox with its `transfer_sent` ledger entry. [`outbox::due`] hands out what is ready
//! (per case in order, with backoff), a transport carries it, [`inbox::receive`] verifies the
//! signature against the registry ([`keys`]), the document hashes, the route and the contents,
//! then stores it (and, for an automatic receiver, applies it to the case) in one transaction
//! together with signed receipts. [`outbox::record`] notes each outcome: delivered, retry later,
//! or dead-lettered with the reason. A redelivered envelope is answered with the receipts it
//! already has and never applied twice. [`deadline`] lists transfers not answered within their
//! statutory period, with the article.
//!
//! Architecture invariant: every state change is one store transaction holding its ledger
//! entries; no in-memory state survives a call, so a process killed at any point resumes from
//! the store. Nothing refused is dropped: each refusal is stored and logged with its reason.

pub mod bench;
pub mod deadline;
pub mod envelope;
pub mod inbox;
pub mod keys;
pub mod kind;
pub mod outbox;
mod parallel;
mod state;

pub use envelope::{Envelope, Receipt, ReceiptStatus};
pub use kind::{OrganKind, TransferKind};

/// Errors of the exchange that are not a verdict on a transfer.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error(transparent)]
    Store(#[from] xiezhi_store::StoreError),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("organ key of `{organ}`: {reason}")]
    Key { organ: String, reason: String },
    #[error("stored exchange data is corrupt: {0}")]
    Corrupt(String),
    #[error("transfer `{id}` is refused: {reason}")]
    Refused { id: String, reason: Box<Refusal> },
    #[error("no transfer `{0}` in the inbox")]
    UnknownTransfer(String),
    #[error("transfer `{id}` is {state}, not awaiting an answer")]
    NotPending { id: String, state: String },
}

/// Why a transfer is refused: checked by the sender before sending and again by the receiver.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    #[error("sender `{organ}` has no registered key")]
    UnknownSender { organ: String },
    #[error("receiver `{organ}` is not a registered organ")]
    UnknownReceiver { organ: String },
    #[error("signature does not verify with the registered key of `{organ}`")]
    BadSignature { organ: String },
    #[error(
        "document {index} ({kind} `{number}`): content hash {got} differs from the signed {want}"
    )]
    DocumentTampered {
        index: usize,
        kind: String,
        number: String,
        got: String,
        want: String,
    },
    #[error("{documents} documents listed but {attachments} attached")]
    AttachmentCount {
        documents: usize,
        attachments: usize,
    },
    #[error("a {kind} may not go from a {from_kind} to a {to_kind}")]
    KindNotAllowed {
        kind: String,
        from_kind: String,
        to_kind: String,
    },
    #[error("addressed to `{to}`, delivered to `{at}`")]
    WrongReceiver { to: String, at: String },
    #[error("required documents missing: {}", missing.join(", "))]
    MissingDocuments { missing: Vec<String> },
    #[error("decision `{given}` is not one of: {}", allowed.join(", "))]
    BadDecision { given: String, allowed: Vec<String> },
    #[error("case field `{field}` does not travel with a {kind}")]
    FieldNotAllowed { field: String, kind: String },
    #[error("case field `{field}` breaks rule `{rule}`: {message}")]
    InvalidField {
        field: String,
        rule: String,
        message: String,
    },
    #[error("at most {max} per case ({basis}); this would be number {count}")]
    LimitReached { max: u32, count: u32, basis: String },
    #[error("answers `{answer_to}`, which {why}")]
    BadAnswer { answer_to: String, why: String },
    #[error("envelope id `{id}` was already used for different content")]
    IdReused { id: String },
    #[error("case sequence {got} of sender `{from}` is behind the next expected {expected}")]
    StaleSequence {
        from: String,
        got: u64,
        expected: u64,
    },
}

impl Refusal {
    /// Whether the envelope may have been damaged on the way (the sender's copy can still be
    /// good): the sender tries again rather than giving up.
    pub fn in_transit(&self) -> bool {
        matches!(
            self,
            Refusal::BadSignature { .. }
                | Refusal::DocumentTampered { .. }
                | Refusal::AttachmentCount { .. }
        )
    }

    /// The machine-readable reason code (`bad_signature`, …).
    pub fn code(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("code").and_then(|c| c.as_str().map(str::to_string)))
            .unwrap_or_default()
    }

    /// A short Chinese statement of the reason, for the command line.
    pub fn zh(&self) -> String {
        match self {
            Refusal::UnknownSender { organ } => format!("发送机关 {organ} 未登记公钥"),
            Refusal::UnknownReceiver { organ } => format!("接收机关 {organ} 未登记"),
            Refusal::BadSignature { organ } => format!("签名与 {organ} 登记的公钥不符"),
            Refusal::DocumentTampered { index, kind, .. } => format!(
                "第 {} 份文书（{}）内容哈希与签名不符，疑被篡改",
                index + 1,
                kind::document_name(kind)
            ),
            Refusal::AttachmentCount { .. } => "文书附件数量与清单不符".into(),
            Refusal::KindNotAllowed {
                kind,
                from_kind,
                to_kind,
            } => format!(
                "{} 不得由{}发往{}",
                TransferKind::parse(kind).map_or(kind.as_str(), |k| k.name_zh()),
                OrganKind::from_code(from_kind).map_or(from_kind.as_str(), |k| k.name_zh()),
                OrganKind::from_code(to_kind).map_or(to_kind.as_str(), |k| k.name_zh())
            ),
            Refusal::WrongReceiver { to, .. } => format!("收件机关应为 {to}"),
            Refusal::MissingDocuments { missing } => format!(
                "缺少必备文书：{}",
                missing
                    .iter()
                    .map(|m| kind::document_name(m))
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            Refusal::BadDecision { given, .. } => format!("决定 {given} 不在允许范围内"),
            Refusal::FieldNotAllowed { field, .. } => {
                format!("字段 {field} 不属于该类移送所需数据（数据最小化）")
            }
            Refusal::InvalidField { field, message, .. } => {
                format!("字段 {field} 校验不通过：{message}")
            }
            Refusal::LimitReached { max, basis, .. } => {
                format!("每案以 {max} 次为限（{basis}）")
            }
            Refusal::BadAnswer { answer_to, why } => format!("答复对象 {answer_to} 无效：{why}"),
            Refusal::IdReused { id } => format!("移送编号 {id} 已用于其他内容（疑似重放）"),
            Refusal::StaleSequence { got, expected, .. } => {
                format!("案件内序号 {got} 早于应到的 {expected}（疑似重放）")
            }
        }
    }
}
