//! The sending side: a persistent outbox with at-least-once delivery.
//!
//! [`send`] writes a signed envelope into the outbox in one transaction with its ledger entry;
//! [`due`] lists what is ready to go (the oldest undelivered transfer of each case only, so a
//! case's transfers arrive in order; failed ones after their backoff); the caller carries the
//! envelopes (in process, or over HTTP) and hands the outcomes to [`record`], which marks them
//! delivered, schedules a retry with exponential backoff, or dead-letters them with every
//! reason kept. A crash anywhere leaves the outbox as last committed: unsent entries are simply
//! sent again.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};
use xiezhi_store::{Batch, Store};

use crate::envelope::{Attachment, DocumentRef, Envelope, EnvelopeBody, Payload, Receipt};
use crate::keys::{Keyring, Registry};
use crate::kind::TransferKind;
use crate::state::{
    check_contents, seq_id, InboxItem, Pending, StoredOutbox, ENVELOPE, INBOX, OUTBOX,
};
pub use crate::state::{Attempt, OutboxItem, OutboxState};
use crate::{ExchangeError, Refusal};

/// A document to send: its bytes travel as an attachment, its hash in the signed body.
#[derive(Debug, Clone)]
pub struct DraftDocument {
    pub kind: String,
    pub number: String,
    pub issued_on: Option<NaiveDate>,
    pub content: Vec<u8>,
}

/// A transfer before it is signed.
#[derive(Debug, Clone)]
pub struct Draft {
    pub kind: TransferKind,
    pub from: String,
    pub to: String,
    pub case_uid: String,
    pub decision: Option<String>,
    pub answer_to: Option<String>,
    pub case: std::collections::BTreeMap<String, crate::envelope::WireValue>,
    pub documents: Vec<DraftDocument>,
    pub note: Option<String>,
}

impl Draft {
    pub fn new(kind: TransferKind, from: &str, to: &str, case_uid: &str) -> Draft {
        Draft {
            kind,
            from: from.into(),
            to: to.into(),
            case_uid: case_uid.into(),
            decision: None,
            answer_to: None,
            case: Default::default(),
            documents: Vec::new(),
            note: None,
        }
    }

    pub fn document(mut self, kind: &str, number: &str, content: &[u8]) -> Draft {
        self.documents.push(DraftDocument {
            kind: kind.into(),
            number: number.into(),
            issued_on: None,
            content: content.to_vec(),
        });
        self
    }
}

/// Retry schedule: the n-th failure waits `base_secs * 2^(n-1)`, at most `max_secs`; after
/// `max_attempts` failures the entry is dead-lettered.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base_secs: i64,
    pub max_secs: i64,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_secs: 5,
            max_secs: 3600,
            max_attempts: 10,
        }
    }
}

impl RetryPolicy {
    fn wait_secs(&self, attempts: u32) -> i64 {
        let shift = attempts.saturating_sub(1).min(30);
        self.base_secs.saturating_mul(1 << shift).min(self.max_secs)
    }
}

/// Signs and stores transfers in the outbox, all in one transaction: either every draft is
/// accepted into the outbox or none is. A draft that fails a check of its kind (missing
/// documents, a route the procedure does not allow, a field that does not travel, …) is refused
/// before anything is written, naming the draft and what is wrong.
pub fn send<S: Store>(
    store: &mut S,
    keys: &Keyring,
    registry: &Registry,
    drafts: Vec<Draft>,
    now: NaiveDateTime,
) -> Result<Vec<Envelope>, ExchangeError> {
    let mut p = Pending::default();
    let mut sent = Vec::with_capacity(drafts.len());
    let mut bodies = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let seq = p.next(store, "outbox_seq")?;
        let id = format!("TR{}", seq_id(seq));
        let refuse = |reason: Refusal| ExchangeError::Refused {
            id: id.clone(),
            reason: Box::new(reason),
        };
        let key = keys.get(&draft.from).ok_or_else(|| ExchangeError::Key {
            organ: draft.from.clone(),
            reason: "no private key for this organ".into(),
        })?;
        match registry.key(&draft.from) {
            Some(k) if *k == key.verifying_key() => {}
            Some(_) => {
                return Err(ExchangeError::Key {
                    organ: draft.from.clone(),
                    reason: "private key does not match the registered public key".into(),
                })
            }
            None => {
                return Err(refuse(Refusal::UnknownSender {
                    organ: draft.from.clone(),
                }))
            }
        }
        let case_seq = p.next(
            store,
            &format!("case_seq:{}|{}", draft.from, draft.case_uid),
        )?;
        let documents: Vec<DocumentRef> = draft
            .documents
            .iter()
            .map(|d| DocumentRef {
                kind: d.kind.clone(),
                number: d.number.clone(),
                issued_on: d.issued_on,
                sha256: crate::envelope::sha256_hex(&d.content),
            })
            .collect();
        let body = EnvelopeBody {
            id: id.clone(),
            kind: draft.kind,
            from: draft.from.clone(),
            to: draft.to.clone(),
            case_uid: draft.case_uid.clone(),
            case_seq: case_seq as u64,
            sent_at: now,
            payload: Payload {
                decision: draft.decision.clone(),
                answer_to: draft.answer_to.clone(),
                case: draft.case.clone(),
                documents,
                note: draft.note.clone(),
            },
        };
        check_contents(&body, registry).map_err(refuse)?;
        let spec = draft.kind.spec();
        if let Some((max, basis)) = spec.max_per_case {
            let count_name = format!("count:{}|{}", draft.case_uid, draft.kind.code());
            let count = p.next(store, &count_name)?;
            if count > i64::from(max) {
                return Err(refuse(Refusal::LimitReached {
                    max,
                    count: count as u32,
                    basis: format!("{}{}", basis.law, basis.article),
                }));
            }
        }
        if let Some(answer_to) = &draft.answer_to {
            let bad = |why: &str| {
                refuse(Refusal::BadAnswer {
                    answer_to: answer_to.clone(),
                    why: why.into(),
                })
            };
            let mut original: InboxItem = p
                .get(store, INBOX, answer_to)?
                .ok_or_else(|| bad("is not in the inbox"))?;
            let o = &original.envelope.body;
            if o.to != draft.from || o.case_uid != draft.case_uid {
                return Err(bad("was not sent to this organ for this case"));
            }
            if !o.kind.spec().answered_by.contains(&draft.kind) {
                return Err(bad("is not answered by this kind of transfer"));
            }
            if original.answered_by.is_some() {
                return Err(bad("is already answered"));
            }
            original.answered_by = Some(id.clone());
            original.answered_at = Some(now);
            p.put(INBOX, answer_to, &original)?;
        }
        let attachments: Vec<Attachment> = draft
            .documents
            .iter()
            .map(|d| Attachment::new(&d.content))
            .collect();
        bodies.push((seq, draft, body, attachments, key));
    }
    // Signing is pure: across the cores, then everything stored in order.
    let envelopes = crate::parallel::map(&bodies, |(_, _, body, attachments, key)| {
        body.clone().sign_with_digest(key, attachments.clone())
    });
    for ((seq, draft, _, _, _), (envelope, digest)) in bodies.iter().zip(envelopes) {
        let (seq, id, case_seq) = (*seq, envelope.body.id.clone(), envelope.body.case_seq);
        p.event(
            "transfer_sent",
            &draft.case_uid,
            serde_json::json!({
                "envelope": id,
                "transfer_kind": draft.kind.code(),
                "from": draft.from,
                "to": draft.to,
                "case_seq": case_seq,
                "envelope_sha256": digest,
                "documents": envelope.body.payload.documents.iter().map(|d| d.sha256.clone()).collect::<Vec<_>>(),
                "signature": envelope.signature,
            }),
        );
        p.put(ENVELOPE, &seq_id(seq), &envelope)?;
        p.put(
            OUTBOX,
            &seq_id(seq),
            &StoredOutbox {
                seq,
                envelope_id: id.clone(),
                from: draft.from.clone(),
                to: draft.to.clone(),
                case_uid: draft.case_uid.clone(),
                digest,
                state: OutboxState::Pending,
                attempts: 0,
                next_attempt_at: now,
                failures: Vec::new(),
                receipts: Vec::new(),
                refused: None,
            },
        )?;
        sent.push(envelope);
    }
    commit(store, p)?;
    Ok(sent)
}

fn commit<S: Store>(store: &mut S, mut p: Pending) -> Result<(), ExchangeError> {
    let batch = Batch {
        events: std::mem::take(&mut p.events),
        workflow: p.workflow(),
        ..Batch::default()
    };
    // A batch without source records needs no run.
    store.write_batch(0, &batch)?;
    Ok(())
}

/// The entries ready for a delivery attempt at `now`, oldest first, at most `limit`: for each
/// case only its oldest entry not yet delivered, so a case's transfers are never overtaken.
pub fn due<S: Store>(
    store: &S,
    now: NaiveDateTime,
    limit: usize,
) -> Result<Vec<OutboxItem>, ExchangeError> {
    due_excluding(store, now, limit, &BTreeSet::new())
}

/// As [`due`], for a transport with deliveries still under way: the entries in `in_flight`
/// (outbox sequence numbers) are not handed out again, and they still hold back the later
/// transfers of their case.
pub fn due_excluding<S: Store>(
    store: &S,
    now: NaiveDateTime,
    limit: usize,
    in_flight: &BTreeSet<i64>,
) -> Result<Vec<OutboxItem>, ExchangeError> {
    let mut p = Pending::default();
    let mut cursor = seq_id(p.counter(store, "outbox_done")?);
    let mut blocked: BTreeSet<(String, String)> = BTreeSet::new();
    let mut out = Vec::new();
    const PAGE: usize = 1024;
    loop {
        let page = store.workflow_items_after(OUTBOX, &cursor, PAGE)?;
        let last = page.len() < PAGE;
        for (id, body) in page {
            cursor = id;
            let item: StoredOutbox = serde_json::from_str(&body)
                .map_err(|e| ExchangeError::Corrupt(format!("outbox `{cursor}`: {e}")))?;
            if item.state == OutboxState::Delivered {
                continue;
            }
            let b = &item;
            // An entry that never arrived blocks its case: later transfers must not overtake
            // it. One the receiver refused has taken its place in the order and does not.
            if item.refused.is_some() {
                continue;
            }
            if !blocked.insert((b.from.clone(), b.case_uid.clone())) {
                continue;
            }
            if item.state == OutboxState::Pending
                && item.next_attempt_at <= now
                && !in_flight.contains(&item.seq)
            {
                let envelope = envelope(store, item.seq)?;
                out.push(item.with(envelope));
                if out.len() >= limit {
                    return Ok(out);
                }
            }
        }
        if last {
            return Ok(out);
        }
    }
}

/// How one delivery attempt ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The receiver holds it and answered with these receipts.
    Delivered(Vec<Receipt>),
    /// It may not have arrived (no answer, connection lost, receiver busy): try again later.
    Retry(String),
    /// The receiver refused it. Refusals of what the sender wrote are final; those that may
    /// stem from damage on the way ([`Refusal::in_transit`]) are retried.
    Refused(Refusal),
}

/// What [`record`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub delivered: usize,
    pub retrying: usize,
    pub dead: usize,
}

/// Records the outcomes of delivery attempts (outbox seq → outcome) in one transaction.
/// Receipts are checked against the receiver's registered key and the envelope's digest; a
/// receipt that fails is treated as no answer.
pub fn record<S: Store>(
    store: &mut S,
    registry: &Registry,
    outcomes: Vec<(i64, Outcome)>,
    policy: &RetryPolicy,
    now: NaiveDateTime,
) -> Result<Recorded, ExchangeError> {
    let mut p = Pending::default();
    let mut done = Recorded::default();
    // Every receipt's signature, checked across the cores before the sequential part.
    let receipts: Vec<&Receipt> = outcomes
        .iter()
        .flat_map(|(_, o)| match o {
            Outcome::Delivered(rs) => rs.iter().collect(),
            _ => Vec::new(),
        })
        .collect();
    let bytes = crate::parallel::map(&receipts, |r| crate::envelope::receipt_bytes(&r.body));
    let mut valid: Vec<bool> = vec![false; receipts.len()];
    let known: Vec<(usize, crate::envelope::Triple<'_>)> = receipts
        .iter()
        .zip(&bytes)
        .enumerate()
        .filter_map(|(i, (r, b))| {
            registry
                .key(&r.body.by)
                .map(|k| (i, (b.as_slice(), r.signature.as_str(), k)))
        })
        .collect();
    let triples: Vec<_> = known.iter().map(|(_, t)| *t).collect();
    for ((i, _), ok) in known.iter().zip(crate::envelope::verify_all(&triples)) {
        valid[*i] = ok;
    }
    let mut valid = valid.into_iter();
    for (seq, outcome) in outcomes {
        let signed: Vec<bool> = match &outcome {
            Outcome::Delivered(rs) => valid.by_ref().take(rs.len()).collect(),
            _ => Vec::new(),
        };
        let id = seq_id(seq);
        let mut item: StoredOutbox = p
            .get(store, OUTBOX, &id)?
            .ok_or_else(|| ExchangeError::Corrupt(format!("no outbox entry {seq}")))?;
        if item.state != OutboxState::Pending {
            continue;
        }
        let outcome = match outcome {
            Outcome::Delivered(receipts) => {
                match receipts.iter().zip(signed).find(|(r, signed)| {
                    r.body.envelope_id != item.envelope_id
                        || r.body.envelope_sha256 != item.digest
                        || r.body.by != item.to
                        || !signed
                }) {
                    Some((r, _)) => Outcome::Retry(format!(
                        "receipt `{}` does not verify for this envelope",
                        r.body.status.code()
                    )),
                    None if receipts.is_empty() => Outcome::Retry("no receipt".into()),
                    None => Outcome::Delivered(receipts),
                }
            }
            Outcome::Refused(reason) if reason.in_transit() => {
                Outcome::Retry(format!("refused as damaged in transit: {reason}"))
            }
            other => other,
        };
        let case_uid = item.case_uid.clone();
        let env_id = item.envelope_id.clone();
        match outcome {
            Outcome::Delivered(receipts) => {
                item.state = OutboxState::Delivered;
                item.receipts = receipts.iter().map(|r| r.body.status).collect();
                p.event(
                    "transfer_delivered",
                    &case_uid,
                    serde_json::json!({
                        "envelope": env_id,
                        "attempts": item.attempts + 1,
                        "receipts": receipts.iter().map(|r| r.digest()).collect::<Vec<_>>(),
                    }),
                );
                done.delivered += 1;
            }
            Outcome::Retry(error) => {
                item.attempts += 1;
                item.failures.push(Attempt { at: now, error });
                if item.attempts >= policy.max_attempts {
                    item.state = OutboxState::Dead;
                    p.event(
                        "transfer_dead_lettered",
                        &case_uid,
                        serde_json::json!({
                            "envelope": env_id,
                            "attempts": item.attempts,
                            "reason": "max_attempts",
                            "last_error": item.failures.last().map(|f| f.error.clone()),
                        }),
                    );
                    done.dead += 1;
                } else {
                    item.next_attempt_at =
                        now + chrono::Duration::seconds(policy.wait_secs(item.attempts));
                    done.retrying += 1;
                }
            }
            Outcome::Refused(reason) => {
                item.attempts += 1;
                item.failures.push(Attempt {
                    at: now,
                    error: reason.to_string(),
                });
                item.state = OutboxState::Dead;
                item.refused = Some(reason.clone());
                p.event(
                    "transfer_dead_lettered",
                    &case_uid,
                    serde_json::json!({
                        "envelope": env_id,
                        "attempts": item.attempts,
                        "reason": reason.code(),
                        "detail": reason.to_string(),
                    }),
                );
                done.dead += 1;
            }
        }
        p.put(OUTBOX, &id, &item)?;
    }
    // Advance the low-water mark over entries that are finished, so `due` skips them.
    let mark = p.counter(store, "outbox_done")?;
    let mut new_mark = mark;
    loop {
        let next = seq_id(new_mark + 1);
        let item: Option<StoredOutbox> = p.get(store, OUTBOX, &next)?;
        match item {
            Some(i) if i.state == OutboxState::Delivered || i.refused.is_some() => new_mark += 1,
            _ => break,
        }
    }
    if new_mark != mark {
        p.set_counter("outbox_done", new_mark);
    }
    commit(store, p)?;
    Ok(done)
}

fn envelope<S: Store>(store: &S, seq: i64) -> Result<Envelope, ExchangeError> {
    let body = store
        .workflow_item(ENVELOPE, &seq_id(seq))?
        .ok_or_else(|| ExchangeError::Corrupt(format!("outbox entry {seq} has no envelope")))?;
    serde_json::from_str(&body)
        .map_err(|e| ExchangeError::Corrupt(format!("envelope of outbox entry {seq}: {e}")))
}

/// Every outbox entry, oldest first.
pub fn list<S: Store>(store: &S) -> Result<Vec<OutboxItem>, ExchangeError> {
    let mut out = Vec::new();
    for (id, body) in store.workflow_items(OUTBOX)? {
        let item: StoredOutbox = serde_json::from_str(&body)
            .map_err(|e| ExchangeError::Corrupt(format!("outbox `{id}`: {e}")))?;
        let env = envelope(store, item.seq)?;
        out.push(item.with(env));
    }
    Ok(out)
}

/// One outbox entry by envelope id.
pub fn find<S: Store>(store: &S, envelope_id: &str) -> Result<Option<OutboxItem>, ExchangeError> {
    let Some(seq) = envelope_id
        .strip_prefix("TR")
        .and_then(|s| s.parse::<i64>().ok())
    else {
        return Ok(None);
    };
    let Some(body) = store.workflow_item(OUTBOX, &seq_id(seq))? else {
        return Ok(None);
    };
    let item: StoredOutbox = serde_json::from_str(&body)
        .map_err(|e| ExchangeError::Corrupt(format!("outbox `{envelope_id}`: {e}")))?;
    let env = envelope(store, seq)?;
    Ok(Some(item.with(env)))
}
