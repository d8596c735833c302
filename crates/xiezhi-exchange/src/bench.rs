//! The end-to-end loop behind `xiezhi bench exchange`: sign and store in the outbox, take what
//! is due, verify and apply at the receiver with signed receipts, record the receipts at the
//! sender. Every step is the production path over a real SQLite file; transfers go in batches
//! of `batch`, each step of a batch one transaction.

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use ed25519_dalek::SigningKey;
use xiezhi_store::{SqliteStore, Store};

use crate::envelope::{Envelope, WireValue};
use crate::inbox::{self, Mode};
use crate::keys::{register, Keyring, Registry};
use crate::kind::{OrganKind, TransferKind};
use crate::outbox::{self, Draft, Outcome, RetryPolicy};
use crate::ExchangeError;

/// Time spent per step, and the totals.
#[derive(Debug, Default, Clone)]
pub struct BenchReport {
    pub transfers: usize,
    pub send: Duration,
    pub due: Duration,
    pub receive: Duration,
    pub record: Duration,
    pub total: Duration,
    pub delivered: usize,
    pub ledger_entries: i64,
}

impl BenchReport {
    pub fn per_second(&self) -> f64 {
        self.transfers as f64 / self.total.as_secs_f64().max(1e-9)
    }
}

/// Runs `transfers` 提请批准逮捕 transfers (one per case, each with a 2 KiB document and the
/// case fields the kind carries) from a police organ to a procuratorate, applied on receipt.
pub fn run(
    db: &Path,
    transfers: usize,
    batch: usize,
    now: NaiveDateTime,
) -> Result<BenchReport, ExchangeError> {
    let mut sender = SqliteStore::open(db)?;
    // The receiving organ keeps its own store, as a procuratorate's node would.
    let mut receiver = SqliteStore::open(&db.with_extension("receiver.db"))?;
    let mut keys = Keyring::new();
    for (i, (organ, kind)) in [("GA", OrganKind::Police), ("JC", OrganKind::Procuratorate)]
        .into_iter()
        .enumerate()
    {
        let key = SigningKey::from_bytes(&[i as u8 + 7; 32]);
        register(
            &mut sender,
            organ,
            organ,
            kind,
            &key.verifying_key().into(),
            "bench",
        )?;
        keys.insert(organ, key);
    }
    let registry = Registry::load(&sender)?;
    let document = "提请批准逮捕书。".repeat(2048 / 24);
    let mut report = BenchReport {
        transfers,
        ..BenchReport::default()
    };
    let policy = RetryPolicy::default();
    let make = |from: usize, n: usize| -> Vec<Draft> {
        (from..from + n)
            .map(|i| {
                let case = format!("B{i:08}");
                let mut d = Draft::new(TransferKind::ArrestRequest, "GA", "JC", &case).document(
                    "arrest_request",
                    &format!("GA提捕字〔2024〕{i}号"),
                    document.as_bytes(),
                );
                d.case
                    .insert("name".into(), WireValue::Text(format!("{case} 盗窃案")));
                d.case
                    .insert("charges".into(), WireValue::Codes(vec!["C264.1".into()]));
                d.case.insert("amount".into(), WireValue::Money(1_234_500));
                d
            })
            .collect()
    };
    // Sender and receiver are separate organs, each on its own thread and store: while the
    // receiver checks batch k + 1, the sender records batch k's receipts and signs and stores
    // batch k + 2. What is under way is excluded from what is due, so nothing goes twice.
    let (to_receiver, deliveries) = std::sync::mpsc::sync_channel::<Vec<Envelope>>(2);
    let (to_sender, answers) = std::sync::mpsc::sync_channel::<Vec<Outcome>>(2);
    let started = Instant::now();
    let (receive_time, sender_side) = std::thread::scope(|s| {
        let (keys, registry) = (&keys, &registry);
        let receiving = s.spawn(move || -> Result<(Duration, i64), ExchangeError> {
            let mut spent = Duration::ZERO;
            for envelopes in deliveries {
                let t = Instant::now();
                let outcomes = inbox::receive(
                    &mut receiver,
                    keys,
                    registry,
                    envelopes,
                    Mode::AutoAccept,
                    now,
                )?;
                spent += t.elapsed();
                if to_sender.send(outcomes).is_err() {
                    break;
                }
            }
            Ok((spent, receiver.ledger_len()?))
        });
        let sending = (|| -> Result<BenchReport, ExchangeError> {
            let mut r = BenchReport::default();
            let mut made = 0;
            // Batches handed to the receiver and not yet answered, oldest first.
            let mut in_flight: VecDeque<Vec<i64>> = VecDeque::new();
            while made < transfers || !in_flight.is_empty() {
                if made < transfers {
                    let n = batch.min(transfers - made);
                    let drafts = make(made, n);
                    made += n;
                    let t = Instant::now();
                    outbox::send(&mut sender, keys, registry, drafts, now)?;
                    r.send += t.elapsed();
                }
                let flying: BTreeSet<i64> = in_flight.iter().flatten().copied().collect();
                let t = Instant::now();
                let due = outbox::due_excluding(&sender, now, batch, &flying)?;
                r.due += t.elapsed();
                if !due.is_empty() {
                    let (seqs, envelopes): (Vec<i64>, Vec<_>) =
                        due.into_iter().map(|i| (i.seq, i.envelope)).unzip();
                    if to_receiver.send(envelopes).is_err() {
                        break;
                    }
                    in_flight.push_back(seqs);
                }
                // Two batches under way keep the receiver busy while the sender records.
                if in_flight.len() >= 2 || made >= transfers {
                    let Some(seqs) = in_flight.pop_front() else {
                        break;
                    };
                    let outcomes = answers
                        .recv()
                        .map_err(|_| ExchangeError::Corrupt("receiver stopped".into()))?;
                    let t = Instant::now();
                    let pairs: Vec<(i64, Outcome)> = seqs.into_iter().zip(outcomes).collect();
                    r.delivered +=
                        outbox::record(&mut sender, registry, pairs, &policy, now)?.delivered;
                    r.record += t.elapsed();
                }
            }
            drop(to_receiver);
            Ok(r)
        })();
        let received = receiving
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (received, sending)
    });
    let sent = sender_side?;
    let (receive_time, receiver_entries) = receive_time?;
    report.receive = receive_time;
    report.send = sent.send;
    report.due = sent.due;
    report.record = sent.record;
    report.delivered = sent.delivered;
    report.total = started.elapsed();
    report.ledger_entries = sender.ledger_len()? + receiver_entries;
    Ok(report)
}
