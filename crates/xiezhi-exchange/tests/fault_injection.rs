//! Exactly-once under faults: the sender is killed between writing its outbox and sending and
//! between sending and recording the answer, the receiver is killed after applying but before
//! its answer reaches the sender, and the network loses, duplicates and reorders envelopes.
//! A crash is a dropped connection: nothing held in memory survives, the next call reopens the
//! store file. At the end every transfer is applied exactly once and has its receipts.

mod common;

use std::collections::BTreeMap;

use common::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xiezhi_exchange::inbox::{self, Mode};
use xiezhi_exchange::outbox::{self, Outcome, RetryPolicy};
use xiezhi_exchange::{Envelope, ReceiptStatus, TransferKind};
use xiezhi_store::{Entity, Store};

const SEEDS: u64 = 40;

fn run(seed: u64) {
    let p = platform();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sender = open(&p.path);
    let mut receiver = open(&p.path);
    let policy = RetryPolicy {
        base_secs: 1,
        max_secs: 8,
        max_attempts: u32::MAX,
    };
    // Per case: police asks for arrest, then transfers for prosecution; the procuratorate
    // prosecutes. Queued in a random interleaving that keeps each sender's order per case.
    let cases = rng.gen_range(3..7);
    let mut chains: Vec<Vec<_>> = (0..cases)
        .map(|c| {
            let case = format!("C{seed}-{c}");
            vec![
                draft(TransferKind::ArrestRequest, &case),
                draft(TransferKind::ProsecutionTransfer, &case),
                draft(TransferKind::PublicProsecution, &case),
            ]
        })
        .collect();
    let mut drafts = Vec::new();
    while chains.iter().any(|c| !c.is_empty()) {
        let c = rng.gen_range(0..chains.len());
        if !chains[c].is_empty() {
            drafts.push(chains[c].remove(0));
        }
    }
    let total = drafts.len();
    let mut now = t0();
    let mut in_flight: Vec<Envelope> = Vec::new();
    let mut sent = 0;
    for round in 0.. {
        assert!(round < 5_000, "seed {seed}: no progress");
        if sent < total && rng.gen_bool(0.5) {
            let n = rng.gen_range(1..=3).min(total - sent);
            outbox::send(
                &mut sender,
                &p.keys,
                &p.registry,
                drafts[sent..sent + n].to_vec(),
                now,
            )
            .expect("send");
            sent += n;
            if rng.gen_bool(0.3) {
                // Killed after writing the outbox, before sending.
                sender = open(&p.path);
                continue;
            }
        }
        let due = outbox::due(&sender, now, rng.gen_range(1..6)).expect("due");
        let mut outcomes = Vec::new();
        let mut batch: Vec<(i64, Envelope)> = Vec::new();
        for item in due {
            let env = item.envelope;
            match rng.gen_range(0..100) {
                // Lost on the way.
                0..=14 => outcomes.push((item.seq, Outcome::Retry("lost".into()))),
                // Arrives and is applied; the receiver dies before answering.
                15..=29 => {
                    inbox::receive(
                        &mut receiver,
                        &p.keys,
                        &p.registry,
                        vec![env],
                        Mode::AutoAccept,
                        now,
                    )
                    .expect("receive");
                    receiver = open(&p.path);
                    outcomes.push((item.seq, Outcome::Retry("no answer".into())));
                }
                // Duplicated: one copy now, one later, out of order.
                30..=44 => {
                    in_flight.push(env.clone());
                    batch.push((item.seq, env));
                }
                _ => batch.push((item.seq, env)),
            }
        }
        if !batch.is_empty() {
            let (seqs, envs): (Vec<i64>, Vec<Envelope>) = batch.into_iter().unzip();
            let got = inbox::receive(
                &mut receiver,
                &p.keys,
                &p.registry,
                envs,
                Mode::AutoAccept,
                now,
            )
            .expect("receive");
            outcomes.extend(seqs.into_iter().zip(got));
        }
        if rng.gen_bool(0.15) {
            // Killed after sending, before recording the answers: all sent again later.
            sender = open(&p.path);
        } else {
            outbox::record(&mut sender, &p.registry, outcomes, &policy, now).expect("record");
        }
        if !in_flight.is_empty() && rng.gen_bool(0.4) {
            in_flight.shuffle(&mut rng);
            let k = rng.gen_range(1..=in_flight.len());
            let late: Vec<Envelope> = in_flight.drain(..k).collect();
            for o in inbox::receive(
                &mut receiver,
                &p.keys,
                &p.registry,
                late,
                Mode::AutoAccept,
                now,
            )
            .expect("late copies")
            {
                assert!(
                    matches!(o, Outcome::Delivered(_)),
                    "seed {seed}: a late copy must be acknowledged, got {o:?}"
                );
            }
        }
        now += chrono::Duration::seconds(rng.gen_range(0..4));
        // Nothing dead-letters under this policy, so "nothing due, ever" means all delivered.
        let done = sent == total
            && outbox::due(&sender, now + chrono::Duration::days(1), 1)
                .expect("due")
                .is_empty();
        if done && in_flight.is_empty() {
            break;
        }
    }

    let store = open(&p.path);
    let outbox = outbox::list(&store).expect("list");
    assert_eq!(outbox.len(), total, "seed {seed}");
    assert!(outbox
        .iter()
        .all(|i| i.state == outbox::OutboxState::Delivered));
    let mut applied: BTreeMap<String, usize> = BTreeMap::new();
    for id in entries_for(&store, "transfer_applied") {
        *applied.entry(id).or_default() += 1;
    }
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for id in entries_for(&store, "transfer_received") {
        *received.entry(id).or_default() += 1;
    }
    for item in &outbox {
        let id = &item.envelope.body.id;
        assert_eq!(applied.get(id), Some(&1), "seed {seed}: {id} applied");
        assert_eq!(received.get(id), Some(&1), "seed {seed}: {id} received");
        let receipts = inbox::receipts(&store, id).expect("receipts");
        let statuses: Vec<_> = receipts.iter().map(|r| r.body.status).collect();
        assert_eq!(
            statuses,
            [ReceiptStatus::Delivered, ReceiptStatus::Accepted],
            "seed {seed}: {id}"
        );
        let key = p.registry.key(&item.envelope.body.to).expect("key");
        assert!(receipts.iter().all(|r| r.signature_valid(key)));
    }
    assert_eq!(applied.len(), total, "seed {seed}: nothing else applied");
    // Each chain writes: arrest request 1 event, transfer 1 event, prosecution 2 events.
    assert_eq!(
        store.count(Entity::Event).expect("count"),
        4 * cases as i64,
        "seed {seed}"
    );
    assert!(
        inbox::refusals(&store).expect("refusals").is_empty(),
        "seed {seed}"
    );
}

#[test]
fn every_transfer_applied_exactly_once_with_its_receipts() {
    for seed in 0..SEEDS {
        run(seed);
    }
}
