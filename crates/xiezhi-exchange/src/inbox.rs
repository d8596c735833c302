//! The receiving side: verify, take in once, apply to the case, answer with signed receipts.
//!
//! [`receive`] handles a delivery of envelopes in one transaction. Each envelope is checked in
//! this order: the sender's key is registered, the signature verifies, the receiver is one this
//! installation answers for, the id is new (or the very same envelope again: a redelivery,
//! answered with the receipts it already has and never applied twice), every attachment hashes
//! to its signed value, the contents fit the kind ([`crate::kind`]), and the envelope is the
//! next of its case from that sender. A refusal is stored and logged with its reason. With
//! [`Mode::AutoAccept`] a verified transfer is applied at once; with [`Mode::Manual`] it waits
//! for [`accept`] or [`reject`].

use chrono::{Datelike, NaiveDateTime};
use xiezhi_standard::{Entity, Record, Value};
use xiezhi_store::{Batch, EntityRow, NewRun, Outcome as RecordOutcome, SourceRecordRow, Store};

use crate::envelope::{digest_hex, sha256_hex, Envelope, Receipt, ReceiptBody, ReceiptStatus};
use crate::keys::{Keyring, Registry};
use crate::kind::{OrganKind, TransferKind};
use crate::outbox::Outcome;
use crate::state::{check_contents, queue, seq_id, Pending, INBOX, RECEIPT, REFUSAL};
pub use crate::state::{InboxItem, InboxState, RefusalRecord};
use crate::{ExchangeError, Refusal};

/// Whether verified transfers are applied on receipt or wait for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Manual,
    AutoAccept,
}

/// Case data to write for applied transfers, gathered for one batch.
#[derive(Default)]
struct Apply {
    source_records: Vec<SourceRecordRow>,
    entities: Vec<EntityRow>,
    next_source_id: Option<i64>,
}

/// Receives envelopes; returns one outcome per envelope, in order. Everything the call decides
/// is one transaction: after a crash either all of it is stored or none, and a redelivery
/// finds it.
pub fn receive<S: Store>(
    store: &mut S,
    keys: &Keyring,
    registry: &Registry,
    envelopes: Vec<Envelope>,
    mode: Mode,
    now: NaiveDateTime,
) -> Result<Vec<Outcome>, ExchangeError> {
    let mut p = Pending::default();
    let mut apply = Apply::default();
    let mut out = Vec::with_capacity(envelopes.len());
    // The pure work first, across the cores: each envelope's digest and signature check.
    let bytes = crate::parallel::map(&envelopes, |e| e.body.signing_bytes());
    let known: Vec<(usize, crate::envelope::Triple<'_>)> = envelopes
        .iter()
        .zip(&bytes)
        .enumerate()
        .filter_map(|(i, (e, b))| {
            registry
                .key(&e.body.from)
                .filter(|k| k.suite() == e.suite)
                .map(|k| (i, (b.as_slice(), e.signature.as_str(), k)))
        })
        .collect();
    let triples: Vec<_> = known.iter().map(|(_, t)| *t).collect();
    // A known sender whose envelope names another suite than its registered key: bad signature.
    let mut signed: Vec<Option<bool>> = envelopes
        .iter()
        .map(|e| registry.key(&e.body.from).map(|_| false))
        .collect();
    for ((i, _), ok) in known.iter().zip(crate::envelope::verify_all(&triples)) {
        signed[*i] = Some(ok);
    }
    let checks: Vec<(Option<bool>, String)> = signed
        .into_iter()
        .zip(envelopes.iter().zip(&bytes))
        .map(|(s, (e, b))| (s, digest_hex(e.suite, b)))
        .collect();
    let mut unsigned: Vec<(usize, ReceiptBody)> = Vec::new();
    for (env, (signed, digest)) in envelopes.into_iter().zip(checks) {
        let check = Check { signed, digest };
        let outcome = match take_in(
            store, &mut p, &mut apply, keys, registry, &env, &check, mode, now,
        )? {
            Ok(Taken::Answered(outcome)) => outcome,
            Ok(Taken::ToSign(bodies)) => {
                unsigned.extend(bodies.into_iter().map(|b| (out.len(), b)));
                Outcome::Delivered(Vec::new())
            }
            Err(reason) => {
                refuse(store, &mut p, &env, &check.digest, reason.clone(), now)?;
                Outcome::Refused(reason)
            }
        };
        out.push(outcome);
    }
    // Receipts are signed across the cores too, then stored with the rest.
    let signed = crate::parallel::map(&unsigned, |(_, body)| {
        keys.get(&body.by).map(|k| body.clone().sign(k))
    });
    for ((index, body), receipt) in unsigned.iter().zip(signed) {
        let receipt = receipt.ok_or_else(|| ExchangeError::Key {
            organ: body.by.clone(),
            reason: "no private key for this organ".into(),
        })?;
        p.receipt(&receipt)?;
        if let Some(Outcome::Delivered(receipts)) = out.get_mut(*index) {
            receipts.push(receipt);
        }
    }
    commit(store, p, apply, now)?;
    Ok(out)
}

/// What was computed for an envelope before the sequential checks.
struct Check {
    /// Whether the registered sender key verifies the signature; `None` for an unknown sender.
    signed: Option<bool>,
    digest: String,
}

/// A verified envelope: answered already (a redelivery, or one that must wait) or taken in
/// with receipts to sign.
enum Taken {
    Answered(Outcome),
    ToSign(Vec<ReceiptBody>),
}

#[allow(clippy::too_many_arguments)] // one envelope's whole context; splitting it hides the order of checks
fn take_in<S: Store>(
    store: &S,
    p: &mut Pending,
    apply: &mut Apply,
    keys: &Keyring,
    registry: &Registry,
    env: &Envelope,
    check: &Check,
    mode: Mode,
    now: NaiveDateTime,
) -> Result<Result<Taken, Refusal>, ExchangeError> {
    let b = &env.body;
    match check.signed {
        None => {
            return Ok(Err(Refusal::UnknownSender {
                organ: b.from.clone(),
            }))
        }
        Some(false) => {
            return Ok(Err(Refusal::BadSignature {
                organ: b.from.clone(),
            }))
        }
        Some(true) => {}
    }
    if keys.get(&b.to).is_none() {
        return Ok(Err(Refusal::WrongReceiver {
            to: b.to.clone(),
            at: keys.organs().collect::<Vec<_>>().join(","),
        }));
    }
    let digest = check.digest.clone();
    if let Some(held) = p.get::<S, InboxItem>(store, INBOX, &b.id)? {
        if held.digest != digest {
            return Ok(Err(Refusal::IdReused { id: b.id.clone() }));
        }
        p.event(
            "transfer_duplicate",
            &b.case_uid,
            serde_json::json!({"envelope": b.id, "envelope_sha256": digest, "state": held.state}),
        );
        return Ok(Ok(Taken::Answered(Outcome::Delivered(receipts_in(
            store, p, &b.id,
        )?))));
    }
    // Order first: an envelope that overtook an earlier one of its case waits, whatever it
    // holds. Once intact, the envelope occupies its place in the case's order, refused or not,
    // so one refused transfer does not hold up the case; one damaged in transit does not take
    // the place its intact copy will need.
    let order = format!("recv_seq:{}|{}", b.from, b.case_uid);
    let expected = p.counter(store, &order)? as u64 + 1;
    if b.case_seq < expected {
        return Ok(Err(Refusal::StaleSequence {
            from: b.from.clone(),
            got: b.case_seq,
            expected,
        }));
    }
    if b.case_seq > expected {
        return Ok(Ok(Taken::Answered(Outcome::Retry(format!(
            "case {} from {}: waiting for sequence {expected}, got {}",
            b.case_uid, b.from, b.case_seq
        )))));
    }
    if env.attachments.len() != b.payload.documents.len() {
        return Ok(Err(Refusal::AttachmentCount {
            documents: b.payload.documents.len(),
            attachments: env.attachments.len(),
        }));
    }
    for (index, (doc, att)) in b.payload.documents.iter().zip(&env.attachments).enumerate() {
        let got = att
            .bytes()
            .map(|bytes| sha256_hex(&bytes))
            .unwrap_or_else(|| "not base64".into());
        if got != doc.sha256 {
            return Ok(Err(Refusal::DocumentTampered {
                index,
                kind: doc.kind.clone(),
                number: doc.number.clone(),
                got,
                want: doc.sha256.clone(),
            }));
        }
    }
    p.set_counter(&order, expected as i64);
    let record = match check_contents(b, registry) {
        Ok(r) => r,
        Err(reason) => return Ok(Err(reason)),
    };
    let n = p.next(store, &format!("queue_seq:{}", b.to))?;
    p.put(&queue(&b.to), &seq_id(n), &b.id)?;
    p.event(
        "transfer_received",
        &b.case_uid,
        serde_json::json!({
            "envelope": b.id,
            "envelope_sha256": digest,
            "transfer_kind": b.kind.code(),
            "from": b.from,
            "to": b.to,
            "case_seq": b.case_seq,
        }),
    );
    let delivered = ReceiptBody {
        envelope_id: b.id.clone(),
        envelope_sha256: digest.clone(),
        status: ReceiptStatus::Delivered,
        by: b.to.clone(),
        at: now,
        reason: None,
        receiver_case_no: None,
    };
    let mut item = InboxItem {
        envelope: Envelope {
            body: b.clone(),
            suite: env.suite,
            signature: env.signature.clone(),
            attachments: Vec::new(),
        },
        digest,
        state: InboxState::Received,
        received_at: now,
        answered_at: None,
        answered_by: None,
        receiver_case_no: None,
        reason: None,
    };
    let mut receipts = vec![delivered];
    if mode == Mode::AutoAccept {
        receipts.push(apply_one(
            store, p, apply, registry, &mut item, record, None, now,
        )?);
    }
    p.put(INBOX, &b.id, &item)?;
    Ok(Ok(Taken::ToSign(receipts)))
}

fn receipts_in<S: Store>(
    store: &S,
    p: &Pending,
    envelope_id: &str,
) -> Result<Vec<Receipt>, ExchangeError> {
    let mut out = Vec::new();
    for status in [
        ReceiptStatus::Delivered,
        ReceiptStatus::Accepted,
        ReceiptStatus::Rejected,
    ] {
        if let Some(r) = p.get(store, RECEIPT, &format!("{envelope_id}/{}", status.code()))? {
            out.push(r);
        }
    }
    Ok(out)
}

fn refuse<S: Store>(
    store: &S,
    p: &mut Pending,
    env: &Envelope,
    digest: &str,
    reason: Refusal,
    now: NaiveDateTime,
) -> Result<(), ExchangeError> {
    let b = &env.body;
    let digest = digest.to_string();
    let n = p.next(store, "refusal_seq")?;
    p.event(
        "transfer_refused",
        &b.case_uid,
        serde_json::json!({
            "envelope": b.id,
            "envelope_sha256": digest,
            "from": b.from,
            "to": b.to,
            "transfer_kind": b.kind.code(),
            "reason": reason.code(),
            "detail": reason.to_string(),
        }),
    );
    p.put(
        REFUSAL,
        &seq_id(n),
        &RefusalRecord {
            envelope_id: b.id.clone(),
            digest,
            from: b.from.clone(),
            to: b.to.clone(),
            at: now,
            reason,
        },
    )
}

/// Writes what an accepted transfer means for the case: the receiver's own case number, the
/// procedural events of both organs and the documents with their hashes, so the case's history
/// reads as one across organs. Returns the `accepted` receipt, to be signed.
#[allow(clippy::too_many_arguments)] // the acceptance needs each of these; a struct would only rename them
fn apply_one<S: Store>(
    store: &S,
    p: &mut Pending,
    apply: &mut Apply,
    registry: &Registry,
    item: &mut InboxItem,
    mut case: Record,
    number: Option<String>,
    now: NaiveDateTime,
) -> Result<ReceiptBody, ExchangeError> {
    let b = item.envelope.body.clone();
    let spec = b.kind.spec();
    let source_id = match apply.next_source_id {
        Some(n) => n,
        None => store.next_ids()?.source_record + 1,
    };
    apply.next_source_id = Some(source_id + 1);
    apply.source_records.push(SourceRecordRow {
        id: source_id,
        source: format!("exchange:{}", b.from),
        file: b.id.clone(),
        record_no: 1,
        line: 0,
        sha256: item.digest.clone(),
        outcome: RecordOutcome::Accepted,
    });
    let mut receiver_case_no = None;
    if let Some(field) = spec.receiver_number {
        let id = format!("{}|{}", b.to, b.case_uid);
        let assigned: Option<String> = p.get(store, CASE_NO, &id)?;
        let no = match (assigned, number) {
            (_, Some(given)) => given,
            (Some(kept), None) => kept,
            (None, None) => {
                let n = p.next(store, &format!("case_no:{}|{}", b.to, now.year()))?;
                case_number(store, registry, &b.to, field, now.year(), n)?
            }
        };
        p.put(CASE_NO, &id, &no)?;
        case.set(field, Value::Text(no.clone()))
            .map_err(ExchangeError::Corrupt)?;
        receiver_case_no = Some(no);
    }
    let row = |uid: String, record: Record| EntityRow {
        uid,
        case_uid: Some(b.case_uid.clone()),
        person_uid: None,
        record,
        source_record_id: source_id,
    };
    let mut rows = vec![EntityRow {
        uid: b.case_uid.clone(),
        case_uid: None,
        person_uid: None,
        record: case,
        source_record_id: source_id,
    }];
    let first_doc = b.payload.documents.first().map(|d| d.number.clone());
    let event = |kind: &str, at: NaiveDateTime, org: &str, doc: Option<String>| {
        let mut r = Record::new(Entity::Event);
        let _ = r.set("kind", Value::Code(kind.into()));
        let _ = r.set("occurred_at", Value::DateTime(at));
        let _ = r.set("org_code", Value::Text(org.into()));
        if let Some(d) = doc {
            let _ = r.set("document_no", Value::Text(d));
        }
        r
    };
    if let Some(kind) = spec.sender_event {
        rows.push(row(
            format!("{}-sent", b.id),
            event(kind, b.sent_at, &b.from, first_doc.clone()),
        ));
    }
    if let Some(d) = spec
        .decisions
        .iter()
        .find(|d| Some(d.code) == b.payload.decision.as_deref())
    {
        let doc = b
            .payload
            .documents
            .iter()
            .find(|x| x.kind == d.document)
            .map(|x| x.number.clone());
        rows.push(row(
            format!("{}-decision", b.id),
            event(d.event, b.sent_at, &b.from, doc),
        ));
    }
    let receiver_acts = match (b.kind, registry.kind(&b.to)) {
        (TransferKind::ExecutionNotice, Some(k)) => {
            matches!(k, OrganKind::Prison | OrganKind::DetentionCenter)
        }
        _ => true,
    };
    if let (Some(kind), true) = (spec.receiver_event, receiver_acts) {
        rows.push(row(
            format!("{}-received", b.id),
            event(kind, now, &b.to, receiver_case_no.clone()),
        ));
    }
    for (i, d) in b.payload.documents.iter().enumerate() {
        let mut r = Record::new(Entity::Document);
        let _ = r.set("kind", Value::Code(d.kind.clone()));
        let _ = r.set("document_no", Value::Text(d.number.clone()));
        let _ = r.set("issuer", Value::Text(b.from.clone()));
        if let Some(on) = d.issued_on {
            let _ = r.set("issued_on", Value::Date(on));
        }
        let _ = r.set("content_hash", Value::Text(d.sha256.clone()));
        rows.push(row(format!("{}-doc{}", b.id, i + 1), r));
    }
    p.event(
        "transfer_applied",
        &b.case_uid,
        serde_json::json!({
            "envelope": b.id,
            "envelope_sha256": item.digest,
            "by": b.to,
            "receiver_case_no": receiver_case_no,
            "rows": rows.iter().map(|r| r.uid.clone()).collect::<Vec<_>>(),
        }),
    );
    apply.entities.extend(rows);
    let receipt = ReceiptBody {
        envelope_id: b.id.clone(),
        envelope_sha256: item.digest.clone(),
        status: ReceiptStatus::Accepted,
        by: b.to.clone(),
        at: now,
        reason: None,
        receiver_case_no: receiver_case_no.clone(),
    };
    item.state = InboxState::Accepted;
    item.answered_at.get_or_insert(now);
    item.receiver_case_no = receiver_case_no;
    Ok(receipt)
}

const CASE_NO: &str = "exchange.case_no";

/// The receiver's own number for the case: a court's 案号 in the form of the 2016 rules
/// (（年份）法院代字 + 刑初 + 序号 + 号) when the court's 代字 is on record, else the organ code.
fn case_number<S: Store>(
    store: &S,
    registry: &Registry,
    organ: &str,
    field: &str,
    year: i32,
    n: i64,
) -> Result<String, ExchangeError> {
    if field == "court_case_no" {
        let code = store
            .get(Entity::Organization, organ)?
            .and_then(|o| o.record.text("court_code").map(str::to_string));
        if let Some(code) = code {
            return Ok(format!("（{year}）{code}刑初{n}号"));
        }
    }
    let name = registry
        .get(organ)
        .map(|e| e.name.clone())
        .unwrap_or_else(|| organ.to_string());
    Ok(format!("{name}受〔{year}〕{n}号"))
}

fn commit<S: Store>(
    store: &mut S,
    mut p: Pending,
    apply: Apply,
    now: NaiveDateTime,
) -> Result<(), ExchangeError> {
    let run_id = if apply.source_records.is_empty() {
        0
    } else {
        store.begin_run(&NewRun {
            kind: "exchange".into(),
            source: "exchange".into(),
            file: apply
                .source_records
                .first()
                .map(|s| s.file.clone())
                .unwrap_or_default(),
            mapping: "transfer".into(),
            started_at: now.format("%Y-%m-%dT%H:%M:%S").to_string(),
        })?
    };
    let n = apply.source_records.len() as i64;
    let batch = Batch {
        source_records: apply.source_records,
        entities: apply.entities,
        events: std::mem::take(&mut p.events),
        workflow: p.workflow(),
        ..Batch::default()
    };
    store.write_batch(run_id, &batch)?;
    if run_id != 0 {
        store.finish_run(
            run_id,
            &now.format("%Y-%m-%dT%H:%M:%S").to_string(),
            &xiezhi_store::RunCounts {
                records_read: n,
                accepted: n,
                ..Default::default()
            },
            "{}",
        )?;
    }
    Ok(())
}

fn pending_item<S: Store>(
    store: &S,
    p: &Pending,
    envelope_id: &str,
) -> Result<InboxItem, ExchangeError> {
    let item: InboxItem = p
        .get(store, INBOX, envelope_id)?
        .ok_or_else(|| ExchangeError::UnknownTransfer(envelope_id.to_string()))?;
    if item.state != InboxState::Received {
        return Err(ExchangeError::NotPending {
            id: envelope_id.to_string(),
            state: format!("{:?}", item.state).to_lowercase(),
        });
    }
    Ok(item)
}

/// Accepts a received transfer: applies it to the case and signs the `accepted` receipt.
/// `number` is the receiver's own case number when it has one; otherwise one is allocated.
pub fn accept<S: Store>(
    store: &mut S,
    keys: &Keyring,
    registry: &Registry,
    envelope_id: &str,
    number: Option<String>,
    now: NaiveDateTime,
) -> Result<Receipt, ExchangeError> {
    let mut p = Pending::default();
    let mut apply = Apply::default();
    let mut item = pending_item(store, &p, envelope_id)?;
    let key = keys
        .get(&item.envelope.body.to)
        .ok_or_else(|| ExchangeError::Key {
            organ: item.envelope.body.to.clone(),
            reason: "no private key for this organ".into(),
        })?;
    let record =
        check_contents(&item.envelope.body, registry).map_err(|reason| ExchangeError::Refused {
            id: envelope_id.to_string(),
            reason: Box::new(reason),
        })?;
    let receipt = apply_one(
        store, &mut p, &mut apply, registry, &mut item, record, number, now,
    )?
    .sign(key);
    p.receipt(&receipt)?;
    p.put(INBOX, envelope_id, &item)?;
    commit(store, p, apply, now)?;
    Ok(receipt)
}

/// Rejects a received transfer with a reason and signs the `rejected` receipt.
pub fn reject<S: Store>(
    store: &mut S,
    keys: &Keyring,
    envelope_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<Receipt, ExchangeError> {
    let mut p = Pending::default();
    let mut item = pending_item(store, &p, envelope_id)?;
    let b = item.envelope.body.clone();
    let key = keys.get(&b.to).ok_or_else(|| ExchangeError::Key {
        organ: b.to.clone(),
        reason: "no private key for this organ".into(),
    })?;
    let receipt = ReceiptBody {
        envelope_id: b.id.clone(),
        envelope_sha256: item.digest.clone(),
        status: ReceiptStatus::Rejected,
        by: b.to.clone(),
        at: now,
        reason: Some(reason.to_string()),
        receiver_case_no: None,
    }
    .sign(key);
    p.receipt(&receipt)?;
    item.state = InboxState::Rejected;
    item.answered_at = Some(now);
    item.reason = Some(reason.to_string());
    p.put(INBOX, envelope_id, &item)?;
    commit(store, p, Apply::default(), now)?;
    Ok(receipt)
}

/// The transfers received for `organ` after cursor `after` (0 = from the start), at most
/// `limit`, each with its cursor: a department system pulls with the last cursor it saw.
pub fn pull<S: Store>(
    store: &S,
    organ: &str,
    after: i64,
    limit: usize,
) -> Result<Vec<(i64, InboxItem)>, ExchangeError> {
    let mut out = Vec::new();
    for (id, body) in store.workflow_items_after(&queue(organ), &seq_id(after), limit)? {
        let cursor: i64 = id
            .parse()
            .map_err(|_| ExchangeError::Corrupt(format!("queue id `{id}`")))?;
        let envelope_id: String = serde_json::from_str(&body)?;
        let item = inbox_item(store, &envelope_id)?.ok_or_else(|| {
            ExchangeError::Corrupt(format!("queue names missing `{envelope_id}`"))
        })?;
        out.push((cursor, item));
    }
    Ok(out)
}

/// One inbox entry.
pub fn inbox_item<S: Store>(
    store: &S,
    envelope_id: &str,
) -> Result<Option<InboxItem>, ExchangeError> {
    Pending::default().get(store, INBOX, envelope_id)
}

/// Every stored receipt of a transfer.
pub fn receipts<S: Store>(store: &S, envelope_id: &str) -> Result<Vec<Receipt>, ExchangeError> {
    receipts_in(store, &Pending::default(), envelope_id)
}

/// Every stored refusal, oldest first.
pub fn refusals<S: Store>(store: &S) -> Result<Vec<RefusalRecord>, ExchangeError> {
    store
        .workflow_items(REFUSAL)?
        .into_iter()
        .map(|(id, body)| {
            serde_json::from_str(&body)
                .map_err(|e| ExchangeError::Corrupt(format!("refusal `{id}`: {e}")))
        })
        .collect()
}

/// Every inbox entry, by envelope id.
pub fn inbox_items<S: Store>(store: &S) -> Result<Vec<InboxItem>, ExchangeError> {
    store
        .workflow_items(INBOX)?
        .into_iter()
        .map(|(id, body)| {
            serde_json::from_str(&body)
                .map_err(|e| ExchangeError::Corrupt(format!("inbox `{id}`: {e}")))
        })
        .collect()
}
