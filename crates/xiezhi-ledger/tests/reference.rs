//! Reference test: the crate against a naive, literal transcription of the RFC 6962 §2.1
//! definitions (MTH, PATH, PROOF/SUBPROOF) over slices, for every tree size 1..=70, every
//! leaf index and every pair of sizes.

use xiezhi_ledger::proof::{root_at, subtree_root, InMemoryTree};
use xiezhi_ledger::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash, verify_consistency,
    verify_inclusion, CompactTree, Hash,
};

const MAX: usize = 70;

/// Largest power of two strictly less than `n` (n >= 2).
fn k(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]) over leaf hashes.
fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => empty_root(),
        1 => d[0],
        n => {
            let k = k(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]).
fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n == 1 {
        return vec![];
    }
    let k = k(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b).
fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(d)] };
    }
    let k = k(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

fn leaves() -> Vec<Hash> {
    (0..MAX as u32)
        .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
        .collect()
}

#[test]
fn roots_agree_with_naive_mth() {
    let d = leaves();
    let mem = InMemoryTree::from_leaves(&d);
    let mut compact = CompactTree::new();
    for n in 1..=MAX {
        compact.append(d[n - 1]);
        let want = mth(&d[..n]);
        assert_eq!(compact.root(), want, "compact root, size {n}");
        assert_eq!(
            root_at(&d[..], n as u64).unwrap(),
            want,
            "slice root, size {n}"
        );
        assert_eq!(
            root_at(&mem, n as u64).unwrap(),
            want,
            "memory root, size {n}"
        );
        assert_eq!(InMemoryTree::from_leaves(&d[..n]).root(), want);
    }
}

#[test]
fn subtree_roots_agree_with_naive_mth() {
    let d = leaves();
    let mem = InMemoryTree::from_leaves(&d);
    for start in 0..MAX {
        for end in start + 1..=MAX {
            let len = end - start;
            let aligned = start % len.next_power_of_two() == 0;
            let got = subtree_root(&d[..], start as u64, end as u64);
            let got_mem = subtree_root(&mem, start as u64, end as u64);
            if aligned {
                assert_eq!(got.unwrap(), mth(&d[start..end]), "[{start}, {end})");
                assert_eq!(got_mem.unwrap(), mth(&d[start..end]), "[{start}, {end})");
            } else {
                assert!(got.is_err() && got_mem.is_err(), "[{start}, {end})");
            }
        }
    }
}

#[test]
fn inclusion_proofs_agree_with_naive_path() {
    let d = leaves();
    let mem = InMemoryTree::from_leaves(&d);
    let roots: Vec<Hash> = (0..=MAX).map(|n| mth(&d[..n])).collect();
    for n in 1..=MAX {
        let root = roots[n];
        for m in 0..n {
            let want = path(m, &d[..n]);
            let (index, size) = (m as u64, n as u64);
            assert_eq!(
                inclusion_proof(index, size, &d[..]).unwrap(),
                want,
                "({m}, {n})"
            );
            assert_eq!(
                inclusion_proof(index, size, &mem).unwrap(),
                want,
                "({m}, {n})"
            );
            verify_inclusion(&d[m], index, size, &want, &root).unwrap();
            // Any other leaf at this index, or this leaf at any other index, fails.
            let other = (m + 1) % n;
            if other != m {
                assert!(verify_inclusion(&d[other], index, size, &want, &root).is_err());
                assert!(verify_inclusion(&d[m], other as u64, size, &want, &root).is_err());
            }
            // The proof does not verify against the root of any other size.
            for n2 in (1..=MAX).filter(|&n2| n2 != n && m < n2) {
                assert!(
                    verify_inclusion(&d[m], index, n2 as u64, &want, &roots[n2]).is_err(),
                    "proof ({m}, {n}) verified as size {n2}"
                );
            }
        }
    }
}

#[test]
fn consistency_proofs_agree_with_naive_subproof() {
    let d = leaves();
    let mem = InMemoryTree::from_leaves(&d);
    let roots: Vec<Hash> = (0..=MAX).map(|n| mth(&d[..n])).collect();
    for n in 1..=MAX {
        for m in 1..=n {
            let want = subproof(m, &d[..n], true);
            let (size1, size2) = (m as u64, n as u64);
            assert_eq!(
                consistency_proof(size1, size2, &d[..]).unwrap(),
                want,
                "({m}, {n})"
            );
            assert_eq!(
                consistency_proof(size1, size2, &mem).unwrap(),
                want,
                "({m}, {n})"
            );
            verify_consistency(size1, size2, &want, &roots[m], &roots[n]).unwrap();
            // The same proof with any other pair of (authentic) sizes and roots fails.
            for m2 in 1..=n {
                if m2 != m {
                    assert!(
                        verify_consistency(m2 as u64, size2, &want, &roots[m2], &roots[n]).is_err(),
                        "proof ({m}, {n}) verified as ({m2}, {n})"
                    );
                }
            }
            for n2 in m..=MAX {
                if n2 != n {
                    assert!(
                        verify_consistency(size1, n2 as u64, &want, &roots[m], &roots[n2]).is_err(),
                        "proof ({m}, {n}) verified as ({m}, {n2})"
                    );
                }
            }
        }
    }
}
