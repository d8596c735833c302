//! Transfers through the procedure, answers and deadlines, and each kind of bad envelope
//! refused with its reason and recorded.

mod common;

use common::*;
use xiezhi_crypto::Suite;
use xiezhi_exchange::deadline;
use xiezhi_exchange::envelope::{Attachment, EnvelopeBody};
use xiezhi_exchange::inbox::{self, InboxState, Mode};
use xiezhi_exchange::outbox::{self, Outcome, RetryPolicy};
use xiezhi_exchange::{Envelope, ExchangeError, ReceiptStatus, Refusal, TransferKind};
use xiezhi_store::{Entity, SqliteStore, Store};

fn send_one(store: &mut SqliteStore, p: &Platform, d: outbox::Draft) -> Envelope {
    outbox::send(store, &p.keys, &p.registry, vec![d], t0())
        .expect("send")
        .remove(0)
}

fn receive(store: &mut SqliteStore, p: &Platform, env: Envelope, mode: Mode) -> Outcome {
    inbox::receive(store, &p.keys, &p.registry, vec![env], mode, t0())
        .expect("receive")
        .remove(0)
}

fn refused(o: Outcome) -> Refusal {
    match o {
        Outcome::Refused(r) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_transfer_missing_a_required_document_is_refused_before_it_is_sent() {
    let p = platform();
    let mut store = open(&p.path);
    let before = store.ledger_len().expect("len");
    let mut d = draft(TransferKind::ExecutionNotice, "C1");
    d.documents.retain(|x| x.kind != "judgment");
    let err = outbox::send(&mut store, &p.keys, &p.registry, vec![d], t0()).expect_err("refused");
    match err {
        ExchangeError::Refused { reason, .. } => {
            assert_eq!(
                *reason,
                Refusal::MissingDocuments {
                    missing: vec!["judgment".into()]
                }
            );
            assert_eq!(reason.zh(), "缺少必备文书：刑事判决书");
        }
        other => panic!("{other}"),
    }
    assert_eq!(store.ledger_len().expect("len"), before, "nothing written");
    assert!(outbox::list(&store).expect("list").is_empty());
}

#[test]
fn kinds_are_refused_on_routes_the_procedure_does_not_have() {
    let p = platform();
    let mut store = open(&p.path);
    // The sender checks the route …
    let mut d = draft(TransferKind::ArrestRequest, "C1");
    d.to = COURT.into();
    let err =
        outbox::send(&mut store, &p.keys, &p.registry, vec![d.clone()], t0()).expect_err("refused");
    assert!(
        err.to_string()
            .contains("may not go from a police to a court"),
        "{err}"
    );
    // … and so does the receiver, for a sender that skipped the check.
    let env = signed(&p, d, POLICE);
    let r = refused(receive(&mut store, &p, env, Mode::AutoAccept));
    assert_eq!(r.code(), "kind_not_allowed");
    assert_eq!(r.zh(), "提请批准逮捕 不得由公安机关发往人民法院");
    assert_refusal_recorded(&store, "kind_not_allowed");
}

/// Signs a draft as-is, bypassing the outbox's checks, as a faulty or hostile sender would.
fn signed(p: &Platform, d: outbox::Draft, signer: &str) -> Envelope {
    let key = p.keys.get(signer).expect("key");
    let attachments = d
        .documents
        .iter()
        .map(|x| Attachment::new(&x.content))
        .collect();
    EnvelopeBody {
        id: format!("X-{}-{}", d.kind.code(), d.case_uid),
        kind: d.kind,
        from: d.from.clone(),
        to: d.to.clone(),
        case_uid: d.case_uid.clone(),
        case_seq: 1,
        sent_at: t0(),
        payload: xiezhi_exchange::envelope::Payload {
            decision: d.decision.clone(),
            answer_to: None,
            case: d.case.clone(),
            documents: d
                .documents
                .iter()
                .map(|x| xiezhi_exchange::envelope::DocumentRef {
                    kind: x.kind.clone(),
                    number: x.number.clone(),
                    issued_on: None,
                    sha256: xiezhi_exchange::envelope::sha256_hex(&x.content),
                })
                .collect(),
            note: None,
        },
    }
    .sign(key, attachments)
}

fn assert_refusal_recorded(store: &SqliteStore, code: &str) {
    assert!(
        inbox::refusals(store)
            .expect("refusals")
            .iter()
            .any(|r| r.reason.code() == code),
        "no stored refusal `{code}`"
    );
    let n = store.ledger_len().expect("len");
    assert!(
        store
            .ledger_entries(0, n)
            .expect("entries")
            .iter()
            .any(|e| e.kind == "transfer_refused" && e.body.contains(&format!("\"{code}\""))),
        "no ledger entry for `{code}`"
    );
}

#[test]
fn tampering_forgery_unknown_keys_and_replays_are_refused_and_recorded() {
    let p = platform();
    let mut store = open(&p.path);
    let env = send_one(&mut store, &p, draft(TransferKind::ArrestRequest, "C1"));

    // A payload field changed in transit: the signature no longer verifies.
    let mut tampered = env.clone();
    tampered.body.payload.case.insert(
        "name".into(),
        xiezhi_exchange::envelope::WireValue::Text("另案".into()),
    );
    let r = refused(receive(&mut store, &p, tampered, Mode::AutoAccept));
    assert_eq!(r.code(), "bad_signature");

    // A document swapped in transit: its hash differs from the signed one.
    let mut swapped = env.clone();
    swapped.attachments[0] = Attachment::new(b"another text");
    let r = refused(receive(&mut store, &p, swapped, Mode::AutoAccept));
    assert!(
        matches!(&r, Refusal::DocumentTampered { index: 0, kind, .. } if kind == "arrest_request"),
        "{r:?}"
    );

    // Signed with another organ's key.
    let mut forged = env.clone();
    forged.signature = signed(&p, draft(TransferKind::ArrestRequest, "C1"), COURT).signature;
    let r = refused(receive(&mut store, &p, forged, Mode::AutoAccept));
    assert_eq!(
        r,
        Refusal::BadSignature {
            organ: POLICE.into()
        }
    );

    // A sender whose key is not in the registry.
    let mut stranger = env.clone();
    stranger.body.from = "GA99".into();
    stranger = stranger.body.sign(
        &suite().signing_key(&[42; 32]).expect("key"),
        env.attachments.clone(),
    );
    let r = refused(receive(&mut store, &p, stranger, Mode::AutoAccept));
    assert_eq!(
        r,
        Refusal::UnknownSender {
            organ: "GA99".into()
        }
    );

    for code in ["bad_signature", "document_tampered", "unknown_sender"] {
        assert_refusal_recorded(&store, code);
    }
    // None of it reached the inbox or the case.
    assert!(inbox::inbox_items(&store).expect("inbox").is_empty());
    assert_eq!(store.count(Entity::Event).expect("count"), 0);

    // The genuine envelope is applied once …
    assert!(matches!(
        receive(&mut store, &p, env.clone(), Mode::AutoAccept),
        Outcome::Delivered(r) if r.len() == 2
    ));
    let events = store.count(Entity::Event).expect("count");
    // … and replayed, it is answered with the same receipts and not applied again.
    match receive(&mut store, &p, env.clone(), Mode::AutoAccept) {
        Outcome::Delivered(r) => {
            assert_eq!(r, inbox::receipts(&store, &env.body.id).expect("receipts"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.count(Entity::Event).expect("count"), events);
    assert_eq!(
        entries_for(&store, "transfer_duplicate"),
        vec![env.body.id.clone()]
    );
    assert_eq!(
        entries_for(&store, "transfer_applied"),
        vec![env.body.id.clone()]
    );

    // A replay under a used id with other content, properly signed, is refused.
    let mut reuse = env.clone();
    reuse.body.payload.note = Some("改写".into());
    let reuse = reuse
        .body
        .sign(p.keys.get(POLICE).expect("key"), env.attachments.clone());
    let r = refused(receive(&mut store, &p, reuse, Mode::AutoAccept));
    assert_eq!(r.code(), "id_reused");
    assert_refusal_recorded(&store, "id_reused");

    // A transfer addressed to an organ this installation does not answer for.
    let mut keys = xiezhi_exchange::keys::Keyring::new();
    keys.insert(COURT, suite().signing_key(&[3; 32]).expect("key"));
    let next = send_one(
        &mut store,
        &p,
        draft(TransferKind::ProsecutionTransfer, "C1"),
    );
    let o = inbox::receive(
        &mut store,
        &keys,
        &p.registry,
        vec![next],
        Mode::Manual,
        t0(),
    )
    .expect("receive")
    .remove(0);
    assert_eq!(refused(o).code(), "wrong_receiver");
}

#[test]
fn a_case_is_applied_in_order_whatever_order_its_envelopes_arrive_in() {
    let p = platform();
    let mut store = open(&p.path);
    let envs = outbox::send(
        &mut store,
        &p.keys,
        &p.registry,
        vec![
            draft(TransferKind::ArrestRequest, "C1"),
            draft(TransferKind::ProsecutionTransfer, "C1"),
        ],
        t0(),
    )
    .expect("send");
    assert_eq!(envs[1].body.case_seq, 2);
    // The second arrives first: it waits.
    assert!(matches!(
        receive(&mut store, &p, envs[1].clone(), Mode::AutoAccept),
        Outcome::Retry(m) if m.contains("waiting for sequence 1")
    ));
    // The outbox offers only the first of the case.
    let due = outbox::due(&store, t0(), 10).expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].envelope.body.id, envs[0].body.id);
    for e in &envs {
        assert!(matches!(
            receive(&mut store, &p, e.clone(), Mode::AutoAccept),
            Outcome::Delivered(_)
        ));
    }
    assert_eq!(
        entries_for(&store, "transfer_applied"),
        [envs[0].body.id.clone(), envs[1].body.id.clone()]
    );
}

#[test]
fn transfers_under_way_are_not_handed_out_again_and_still_hold_back_their_case() {
    let p = platform();
    let mut store = open(&p.path);
    let envs = outbox::send(
        &mut store,
        &p.keys,
        &p.registry,
        vec![
            draft(TransferKind::ArrestRequest, "C1"),
            draft(TransferKind::ProsecutionTransfer, "C1"),
            draft(TransferKind::ArrestRequest, "C2"),
        ],
        t0(),
    )
    .expect("send");
    let first = outbox::due(&store, t0(), 10).expect("due");
    let ids: Vec<&str> = first.iter().map(|i| i.envelope.body.id.as_str()).collect();
    assert_eq!(ids, [envs[0].body.id.as_str(), envs[2].body.id.as_str()]);
    // C1's first transfer is under way: nothing of C1 is offered, C2's is (not under way).
    let flying = std::collections::BTreeSet::from([first[0].seq]);
    let next = outbox::due_excluding(&store, t0(), 10, &flying).expect("due");
    let ids: Vec<&str> = next.iter().map(|i| i.envelope.body.id.as_str()).collect();
    assert_eq!(ids, [envs[2].body.id.as_str()]);
    let all = std::collections::BTreeSet::from([first[0].seq, first[1].seq]);
    assert!(outbox::due_excluding(&store, t0(), 10, &all)
        .expect("due")
        .is_empty());
}

#[test]
fn failed_deliveries_back_off_and_are_dead_lettered_with_their_reasons() {
    let p = platform();
    let mut store = open(&p.path);
    let env = send_one(&mut store, &p, draft(TransferKind::ArrestRequest, "C1"));
    let policy = RetryPolicy {
        base_secs: 10,
        max_secs: 40,
        max_attempts: 4,
    };
    let mut now = t0();
    let mut waits = Vec::new();
    for _ in 0..4 {
        let due = outbox::due(&store, now, 10).expect("due");
        assert_eq!(due.len(), 1);
        outbox::record(
            &mut store,
            &p.registry,
            vec![(due[0].seq, Outcome::Retry("connection refused".into()))],
            &policy,
            now,
        )
        .expect("record");
        let item = outbox::find(&store, &env.body.id)
            .expect("find")
            .expect("item");
        waits.push((item.next_attempt_at - now).num_seconds());
        assert!(
            outbox::due(&store, now, 10).expect("due").is_empty(),
            "backing off"
        );
        now = item.next_attempt_at;
    }
    assert_eq!(&waits[..3], [10, 20, 40]);
    let item = outbox::find(&store, &env.body.id)
        .expect("find")
        .expect("item");
    assert_eq!(item.state, outbox::OutboxState::Dead);
    assert_eq!(item.failures.len(), 4);
    assert!(item
        .failures
        .iter()
        .all(|f| f.error == "connection refused"));
    assert_eq!(
        entries_for(&store, "transfer_dead_lettered"),
        vec![env.body.id.clone()]
    );
    // A dead entry holds back later transfers of its case.
    send_one(
        &mut store,
        &p,
        draft(TransferKind::ProsecutionTransfer, "C1"),
    );
    assert!(outbox::due(&store, now, 10).expect("due").is_empty());
}

#[test]
fn answers_deadlines_case_numbers_and_the_limit_on_returns() {
    let p = platform();
    let mut store = open(&p.path);
    let request = send_one(&mut store, &p, draft(TransferKind::ArrestRequest, "C1"));
    assert!(matches!(
        receive(&mut store, &p, request.clone(), Mode::Manual),
        Outcome::Delivered(r) if r.len() == 1 && r[0].body.status == ReceiptStatus::Delivered
    ));
    // The procuratorate pulls its inbox by cursor.
    let pulled = inbox::pull(&store, PROCURATORATE, 0, 10).expect("pull");
    assert_eq!(pulled.len(), 1);
    assert!(inbox::pull(&store, PROCURATORATE, pulled[0].0, 10)
        .expect("pull")
        .is_empty());
    // Seven days to decide (刑事诉讼法第九十一条): due 8 March, overdue on the 9th.
    let open_items = deadline::unanswered(&store, t0()).expect("unanswered");
    assert_eq!(open_items.len(), 1);
    assert_eq!(open_items[0].deadline.to_string(), "2024-03-08");
    assert_eq!(open_items[0].basis.article, "第九十一条第三款");
    let day = chrono::Duration::days(1);
    assert!(deadline::overdue(&store, t0() + day * 7)
        .expect("o")
        .is_empty());
    assert_eq!(
        deadline::overdue(&store, t0() + day * 8).expect("o").len(),
        1
    );

    let receipt = inbox::accept(
        &mut store,
        &p.keys,
        &p.registry,
        &request.body.id,
        None,
        t0(),
    )
    .expect("accept");
    let number = receipt.body.receiver_case_no.clone().expect("检察受案号");
    assert!(number.contains("受〔2024〕1号"), "{number}");
    assert!(inbox::accept(
        &mut store,
        &p.keys,
        &p.registry,
        &request.body.id,
        None,
        t0()
    )
    .is_err());
    // Accepting is not the answer: the decision is.
    assert_eq!(deadline::unanswered(&store, t0()).expect("u").len(), 1);
    let mut decision = draft(TransferKind::ArrestDecision, "C1");
    decision.answer_to = Some(request.body.id.clone());
    let d = send_one(&mut store, &p, decision.clone());
    assert!(deadline::unanswered(&store, t0()).expect("u").is_empty());
    // An answer cannot be given twice.
    let err =
        outbox::send(&mut store, &p.keys, &p.registry, vec![decision], t0()).expect_err("answered");
    assert!(err.to_string().contains("already answered"), "{err}");
    receive(&mut store, &p, d.clone(), Mode::Manual);
    inbox::reject(&mut store, &p.keys, &d.body.id, "文书印章不清", t0()).expect("reject");
    let item = inbox::inbox_item(&store, &d.body.id)
        .expect("item")
        .expect("held");
    assert_eq!(item.state, InboxState::Rejected);
    assert_eq!(item.reason.as_deref(), Some("文书印章不清"));

    // 补充侦查以二次为限.
    for n in 1..=3 {
        let r = outbox::send(
            &mut store,
            &p.keys,
            &p.registry,
            vec![draft(TransferKind::SupplementaryInvestigation, "C1")],
            t0(),
        );
        if n <= 2 {
            r.expect("within the limit");
        } else {
            let err = r.expect_err("third return");
            assert!(err.to_string().contains("at most 2 per case"), "{err}");
        }
    }
}

#[test]
fn an_accepted_transfer_writes_the_case_history_of_both_organs() {
    let p = platform();
    let mut store = open(&p.path);
    let env = send_one(&mut store, &p, draft(TransferKind::PublicProsecution, "C7"));
    receive(&mut store, &p, env.clone(), Mode::AutoAccept);
    // 提起公诉 by the procuratorate, 法院受理 by the court, the indictment with its hash.
    assert_eq!(store.count(Entity::Event).expect("count"), 2);
    assert_eq!(store.count(Entity::Document).expect("count"), 1);
    let applied = store
        .ledger_entries(0, store.ledger_len().expect("len"))
        .expect("entries")
        .into_iter()
        .find(|e| e.kind == "transfer_applied")
        .expect("applied");
    for uid in ["-sent", "-received", "-doc1"] {
        assert!(
            applied.body.contains(&format!("{}{uid}", env.body.id)),
            "{uid}"
        );
    }
    // A field the kind does not carry stays behind.
    let mut extra = draft(TransferKind::ArrestDecision, "C8");
    extra.case.insert(
        "summary".into(),
        xiezhi_exchange::envelope::WireValue::Text("x".into()),
    );
    let err =
        outbox::send(&mut store, &p.keys, &p.registry, vec![extra], t0()).expect_err("minimised");
    assert!(
        err.to_string()
            .contains("case field `summary` does not travel with a arrest_decision"),
        "{err}"
    );
}

/// The procedure runs under either suite: envelopes and receipts name it, digests use its
/// hash, and an envelope relabelled with the other suite is refused as a bad signature.
#[test]
fn transfers_run_under_both_suites_and_name_them() {
    for suite in Suite::ALL {
        let p = platform_with(suite);
        let mut store = open(&p.path);
        let env = send_one(&mut store, &p, draft(TransferKind::PublicProsecution, "S1"));
        assert_eq!(env.suite, suite);
        assert_eq!(
            env.digest(),
            xiezhi_store::hex(&suite.hash(&env.body.signing_bytes()))
        );
        let Outcome::Delivered(receipts) = receive(&mut store, &p, env.clone(), Mode::AutoAccept)
        else {
            panic!("{suite}: not delivered");
        };
        assert!(receipts
            .iter()
            .any(|r| r.body.status == ReceiptStatus::Accepted));
        for r in &receipts {
            assert_eq!(r.suite, suite);
            assert!(r.signature_valid(p.registry.key(COURT).expect("court key")));
        }

        let mut relabelled = send_one(&mut store, &p, draft(TransferKind::PublicProsecution, "S2"));
        relabelled.suite = match suite {
            Suite::International => Suite::Guomi,
            Suite::Guomi => Suite::International,
        };
        assert!(matches!(
            refused(receive(&mut store, &p, relabelled, Mode::AutoAccept)),
            Refusal::BadSignature { .. }
        ));
    }
}

#[test]
fn damage_in_transit_is_retried_and_a_final_refusal_does_not_hold_up_the_case() {
    let p = platform();
    let mut store = open(&p.path);
    let first = send_one(&mut store, &p, draft(TransferKind::ArrestRequest, "C1"));
    let second = send_one(
        &mut store,
        &p,
        draft(TransferKind::ProsecutionTransfer, "C1"),
    );
    let policy = RetryPolicy::default();
    let damaged = Refusal::AttachmentCount {
        documents: 1,
        attachments: 0,
    };
    let seq = outbox::due(&store, t0(), 1).expect("due")[0].seq;
    outbox::record(
        &mut store,
        &p.registry,
        vec![(seq, Outcome::Refused(damaged))],
        &policy,
        t0(),
    )
    .expect("record");
    let item = outbox::find(&store, &first.body.id)
        .expect("find")
        .expect("item");
    assert_eq!(item.state, outbox::OutboxState::Pending);
    assert!(item.failures[0].error.contains("damaged in transit"));
    let final_refusal = Refusal::MissingDocuments {
        missing: vec!["arrest_request".into()],
    };
    outbox::record(
        &mut store,
        &p.registry,
        vec![(seq, Outcome::Refused(final_refusal.clone()))],
        &policy,
        t0(),
    )
    .expect("record");
    let item = outbox::find(&store, &first.body.id)
        .expect("find")
        .expect("item");
    assert_eq!(item.state, outbox::OutboxState::Dead);
    assert_eq!(item.refused, Some(final_refusal));
    let due = outbox::due(&store, t0() + chrono::Duration::hours(1), 10).expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].envelope.body.id, second.body.id);
}
