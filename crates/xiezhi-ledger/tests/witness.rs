//! Witnesses cosign only consistent growth: split views, rollbacks and rewritten histories
//! are refused and reported, verifiers can require k of n cosignatures, and a witness's
//! state survives a restart.

use proptest::prelude::*;
use xiezhi_ledger::checkpoint::{Checkpoint, Signer};
use xiezhi_ledger::proof::{consistency_proof, root_at, InMemoryTree};
use xiezhi_ledger::witness::{
    add_cosignature, cosigned_message, open_cosigned, CosignatureVerifier, Cosigner, Witness,
    WitnessError,
};
use xiezhi_ledger::{leaf_hash, Hash};

const ORIGIN: &str = "xiezhi.gz.gov.cn/ledger";

fn tree(leaves: &[&[u8]]) -> InMemoryTree {
    InMemoryTree::from_leaves(leaves.iter().map(|l| leaf_hash(l)))
}

fn numbered(n: usize, tag: &str) -> InMemoryTree {
    InMemoryTree::from_leaves((0..n).map(|i| leaf_hash(format!("{tag}{i}").as_bytes())))
}

fn note(log: &Signer, t: &InMemoryTree, size: u64) -> String {
    let root = root_at(t, size).unwrap();
    Checkpoint::new(ORIGIN, size, root).sign(log).unwrap()
}

fn proof(t: &InMemoryTree, from: u64, to: u64) -> Vec<Hash> {
    if from == 0 || from == to {
        Vec::new()
    } else {
        consistency_proof(from, to, t).unwrap()
    }
}

fn witness(dir: &std::path::Path, name: &str, log: &Signer) -> Witness {
    let mut w = Witness::init(dir, name).unwrap();
    w.add_log(&log.verifier()).unwrap();
    w
}

#[test]
fn consistent_growth_is_cosigned_and_a_quorum_verifies() {
    let log = Signer::generate(ORIGIN).unwrap();
    let t = numbered(40, "e");
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut ws: Vec<Witness> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| witness(d.path(), &format!("witness.org{i}.gov.cn"), &log))
        .collect();
    let vkeys: Vec<CosignatureVerifier> = ws.iter().map(Witness::verifier).collect();

    let mut last = 0;
    let mut lines = Vec::new();
    let mut final_note = String::new();
    for size in [1u64, 2, 7, 8, 8, 21, 40] {
        final_note = note(&log, &t, size);
        lines.clear();
        for w in &mut ws {
            let line = w
                .add_checkpoint(
                    last,
                    &proof(&t, last, size),
                    &final_note,
                    1_700_000_000 + size,
                )
                .unwrap();
            lines.push(line);
        }
        last = size;
    }
    let mut cosigned = final_note.clone();
    for line in &lines {
        cosigned = add_cosignature(&cosigned, line).unwrap();
    }
    let ok = open_cosigned(&cosigned, &[log.verifier()], &vkeys, 3).unwrap();
    assert_eq!(ok.checkpoint.size, 40);
    assert_eq!(ok.witnesses.len(), 3);
    assert!(ok.witnesses.iter().all(|(_, ts)| *ts == 1_700_000_040));

    // Two of three suffice for k = 2; not for k = 3.
    let mut partial = final_note.clone();
    for line in &lines[..2] {
        partial = add_cosignature(&partial, line).unwrap();
    }
    let two = open_cosigned(&partial, &[log.verifier()], &vkeys, 2).unwrap();
    assert_eq!(two.witnesses.len(), 2);
    match open_cosigned(&partial, &[log.verifier()], &vkeys, 3) {
        Err(WitnessError::QuorumNotMet {
            needed,
            found,
            missing,
        }) => {
            assert_eq!(needed, 3);
            assert_eq!(found.len(), 2);
            assert_eq!(missing, vec!["witness.org2.gov.cn".to_string()]);
        }
        other => panic!("expected QuorumNotMet, got {other:?}"),
    }
    assert!(matches!(
        open_cosigned(&cosigned, &[log.verifier()], &vkeys, 4),
        Err(WitnessError::QuorumTooLarge {
            quorum: 4,
            witnesses: 3
        })
    ));
    // Without the log's own signature nothing counts.
    let other_log = Signer::generate(ORIGIN).unwrap();
    assert!(matches!(
        open_cosigned(&cosigned, &[other_log.verifier()], &vkeys, 1),
        Err(WitnessError::Checkpoint(_))
    ));
}

#[test]
fn a_split_view_is_refused_reported_and_changes_nothing() {
    let log = Signer::generate(ORIGIN).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut w = witness(dir.path(), "witness.jcy.gov.cn", &log);
    let honest = numbered(10, "e");
    w.add_checkpoint(0, &[], &note(&log, &honest, 10), 1)
        .unwrap();

    // The log signs a second tree of the same size with one entry rewritten.
    let mut leaves: Vec<Vec<u8>> = (0..10).map(|i| format!("e{i}").into_bytes()).collect();
    leaves[3] = b"rewritten".to_vec();
    let fork = tree(&leaves.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let forked = note(&log, &fork, 10);
    match w.add_checkpoint(10, &[], &forked, 2) {
        Err(WitnessError::SplitView { size, report, .. }) => {
            assert_eq!(size, 10);
            let text = std::fs::read_to_string(&report).unwrap();
            assert!(text.contains("split_view"), "{text}");
            assert!(text.contains(&forked.lines().nth(2).unwrap().to_string()));
        }
        other => panic!("expected SplitView, got {other:?}"),
    }
    assert_eq!(w.cosigned_size(ORIGIN).unwrap(), 10);
    // The honest history still grows.
    let grown = numbered(12, "e");
    w.add_checkpoint(10, &proof(&grown, 10, 12), &note(&log, &grown, 12), 3)
        .unwrap();
}

#[test]
fn rollback_rewritten_history_and_stale_sizes_are_refused() {
    let log = Signer::generate(ORIGIN).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut w = witness(dir.path(), "witness.fy.gov.cn", &log);
    let t = numbered(30, "e");
    w.add_checkpoint(0, &[], &note(&log, &t, 20), 1).unwrap();

    assert!(matches!(
        w.add_checkpoint(20, &[], &note(&log, &t, 15), 2),
        Err(WitnessError::Rollback {
            cosigned: 20,
            offered: 15
        })
    ));
    assert!(matches!(
        w.add_checkpoint(15, &proof(&t, 15, 30), &note(&log, &t, 30), 2),
        Err(WitnessError::OldSizeMismatch {
            cosigned: 20,
            claimed: 15
        })
    ));

    // A longer tree whose first 20 entries differ: its own proof cannot link it to the
    // cosigned root.
    let mut leaves: Vec<Vec<u8>> = (0..30).map(|i| format!("e{i}").into_bytes()).collect();
    leaves[0] = b"forged".to_vec();
    let fork = tree(&leaves.iter().map(Vec::as_slice).collect::<Vec<_>>());
    match w.add_checkpoint(20, &proof(&fork, 20, 30), &note(&log, &fork, 30), 3) {
        Err(WitnessError::Inconsistent { report, .. }) => {
            assert!(std::fs::read_to_string(report)
                .unwrap()
                .contains("inconsistent"));
        }
        other => panic!("expected Inconsistent, got {other:?}"),
    }
    // A checkpoint from a log the witness does not know, or signed by the wrong key.
    let stranger = Signer::generate("other.example/log").unwrap();
    let strange = Checkpoint::new("other.example/log", 1, leaf_hash(b"x"))
        .sign(&stranger)
        .unwrap();
    assert!(matches!(
        w.add_checkpoint(0, &[], &strange, 4),
        Err(WitnessError::UnknownLog(o)) if o == "other.example/log"
    ));
    let impostor = Signer::generate(ORIGIN).unwrap();
    assert!(matches!(
        w.add_checkpoint(20, &proof(&t, 20, 30), &note(&impostor, &t, 30), 4),
        Err(WitnessError::Checkpoint(_))
    ));
    assert_eq!(w.cosigned_size(ORIGIN).unwrap(), 20);
    w.add_checkpoint(20, &proof(&t, 20, 30), &note(&log, &t, 30), 5)
        .unwrap();
}

#[test]
fn state_and_key_survive_a_restart() {
    let log = Signer::generate(ORIGIN).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let t = numbered(9, "e");
    let vkey = {
        let mut w = witness(dir.path(), "witness.sf.gov.cn", &log);
        w.add_checkpoint(0, &[], &note(&log, &t, 5), 1).unwrap();
        w.verifier().to_vkey()
    };
    let mut w = Witness::open(dir.path()).unwrap();
    assert_eq!(w.verifier().to_vkey(), vkey);
    assert_eq!(w.cosigned_size(ORIGIN).unwrap(), 5);
    assert!(matches!(
        w.add_checkpoint(0, &[], &note(&log, &t, 9), 2),
        Err(WitnessError::OldSizeMismatch {
            cosigned: 5,
            claimed: 0
        })
    ));
    let line = w
        .add_checkpoint(5, &proof(&t, 5, 9), &note(&log, &t, 9), 2)
        .unwrap();
    let v = CosignatureVerifier::from_vkey(&vkey).unwrap();
    let cosigned = add_cosignature(&note(&log, &t, 9), &line).unwrap();
    open_cosigned(&cosigned, &[log.verifier()], &[v], 1).unwrap();
    assert!(
        Witness::init(dir.path(), "again").is_err(),
        "init must not overwrite a key"
    );
}

#[test]
fn malformed_or_forged_cosignatures_are_named() {
    let log = Signer::generate(ORIGIN).unwrap();
    let witness_key = Cosigner::generate("witness.gaj.gov.cn").unwrap();
    let v = witness_key.verifier();
    let t = numbered(4, "e");
    let n = note(&log, &t, 4);
    let body = n.split("\n\n").next().map(|b| format!("{b}\n")).unwrap();
    let line = witness_key.cosignature_line(&body, 1_700_000_000);
    let good = add_cosignature(&n, &line).unwrap();
    open_cosigned(&good, &[log.verifier()], std::slice::from_ref(&v), 1).unwrap();

    // Timestamp changed: the signature covers it.
    let (head, b64) = line.rsplit_once(' ').unwrap();
    let mut raw = base64_decode(b64);
    raw[11] ^= 1;
    let bad_ts = add_cosignature(&n, &format!("{head} {}", base64_encode(&raw))).unwrap();
    assert!(matches!(
        open_cosigned(&bad_ts, &[log.verifier()], std::slice::from_ref(&v), 1),
        Err(WitnessError::BadCosignature { name, .. }) if name == "witness.gaj.gov.cn"
    ));
    // Truncated signature bytes.
    let short = add_cosignature(&n, &format!("{head} {}", base64_encode(&raw[..40]))).unwrap();
    match open_cosigned(&short, &[log.verifier()], std::slice::from_ref(&v), 1) {
        Err(WitnessError::BadCosignature { reason, .. }) => {
            assert!(reason.contains("72"), "{reason}")
        }
        other => panic!("expected BadCosignature, got {other:?}"),
    }
    // A cosignature line of an unknown witness is ignored, not an error.
    let stranger = Cosigner::generate("witness.unknown").unwrap();
    let extra = add_cosignature(&good, &stranger.cosignature_line(&body, 5)).unwrap();
    assert_eq!(
        open_cosigned(&extra, &[log.verifier()], std::slice::from_ref(&v), 1)
            .unwrap()
            .witnesses
            .len(),
        1
    );
    // Key text round trips; a vkey with a wrong key hash or algorithm is refused.
    let again = Cosigner::from_bytes(&witness_key.to_bytes()).unwrap();
    assert_eq!(again.verifier(), v);
    assert!(CosignatureVerifier::from_vkey(&v.to_vkey().replacen('+', "+0", 1)).is_err());
    assert!(CosignatureVerifier::from_vkey(&log.verifier().to_vkey()).is_err());
    assert!(cosigned_message("a\n", 7).starts_with(b"cosignature/v1\ntime 7\na\n"));
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any growth sequence of one honest log is cosigned step by step; a fork of any size at
    /// or past the last cosigned one, differing in any earlier entry, is refused.
    #[test]
    fn honest_growth_is_cosigned_and_any_fork_refused(
        steps in proptest::collection::vec(1u64..12, 1..6),
        forked_entry in any::<prop::sample::Index>(),
        extra in 0u64..6,
    ) {
        let log = Signer::generate(ORIGIN).unwrap();
        let total: u64 = steps.iter().sum();
        let t = numbered((total + extra) as usize, "e");
        let dir = tempfile::tempdir().unwrap();
        let mut w = witness(dir.path(), "witness.prop", &log);
        let mut last = 0;
        for s in &steps {
            let size = last + s;
            w.add_checkpoint(last, &proof(&t, last, size), &note(&log, &t, size), size).unwrap();
            last = size;
        }
        let i = forked_entry.index(last as usize);
        let mut leaves: Vec<Vec<u8>> = (0..(last + extra)).map(|k| format!("e{k}").into_bytes()).collect();
        leaves[i] = b"changed".to_vec();
        let fork = tree(&leaves.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let size = last + extra;
        let r = w.add_checkpoint(last, &proof(&fork, last, size), &note(&log, &fork, size), 99);
        prop_assert!(
            matches!(r, Err(WitnessError::SplitView { .. }) | Err(WitnessError::Inconsistent { .. })),
            "fork accepted: {:?}", r
        );
        prop_assert_eq!(w.cosigned_size(ORIGIN).unwrap(), last);
    }
}
