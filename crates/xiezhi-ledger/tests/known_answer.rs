//! Known-answer tests: the RFC 6962 test vectors used by transparency-dev/merkle.
//!
//! Sources (copied as hex, not regenerated):
//! - leaves, level hashes and roots: transparency-dev/merkle `testonly/constants.go`
//!   (`LeafInputs`, `NodeHashes`, `RootHashes`) at commit
//!   417fb0c314750d94e53942e9f92e79b6d35915db;
//! - inclusion and consistency proofs: transparency-dev/merkle `proof/verify_test.go`
//!   (`inclusionProofs`, `consistencyProofs`) at commit
//!   9ca563d3ac2bab915317cf153ed4f952f6e74c07, where leaf indices are 1-based; the same
//!   proofs are in `testdata/inclusion/*/happy-path.json` and
//!   `testdata/consistency/*/happy-path.json` (base64) at the later commit;
//! - `matching_root_and_leaf`: `testdata/inclusion/single-entry/matching-root-and-leaf.json`.

use xiezhi_ledger::proof::{root_at, InMemoryTree};
use xiezhi_ledger::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash, verify_consistency,
    verify_inclusion, CompactTree, Hash, ProofError,
};

fn h(hex: &str) -> Hash {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// `testonly.LeafInputs()`.
const LEAF_INPUTS: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// `testonly.NodeHashes()[0]`: the leaf hashes.
const LEAF_HASHES: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
];

/// `testonly.NodeHashes()[1..]`: levels 1, 2 and 3.
const LEVEL1: [&str; 4] = [
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
];
const LEVEL2: [&str; 2] = [
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
];
const LEVEL3: &str = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";

/// `testonly.RootHashes()`, indexed by tree size.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// `inclusionProofs`: (1-based leaf index, tree size, audit path). The `{0, 0, nil}` entry
/// is an invalid-input case and is covered by `inclusion_rejects_out_of_range`.
const INCLUSION: &[(u64, u64, &[&str])] = &[
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        3,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        2,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// `consistencyProofs`: (size1, size2, proof).
const CONSISTENCY: &[(u64, u64, &[&str])] = &[
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn leaves() -> Vec<Hash> {
    LEAF_INPUTS.iter().map(|x| leaf_hash(&bytes(x))).collect()
}

fn hashes(hex: &[&str]) -> Vec<Hash> {
    hex.iter().map(|x| h(x)).collect()
}

#[test]
fn empty_root_vector() {
    assert_eq!(empty_root(), h(ROOTS[0]));
    assert_eq!(CompactTree::new().root(), h(ROOTS[0]));
}

#[test]
fn leaf_hash_vectors() {
    assert_eq!(leaves(), hashes(&LEAF_HASHES));
}

#[test]
fn interior_node_vectors() {
    let l = hashes(&LEAF_HASHES);
    let level1: Vec<Hash> = l.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
    assert_eq!(level1, hashes(&LEVEL1));
    let level2: Vec<Hash> = level1.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
    assert_eq!(level2, hashes(&LEVEL2));
    assert_eq!(node_hash(&level2[0], &level2[1]), h(LEVEL3));
}

#[test]
fn root_vectors_for_every_size() {
    let leaves = leaves();
    let mut tree = CompactTree::new();
    for (size, expected) in ROOTS.iter().enumerate().skip(1) {
        tree.append(leaves[size - 1]);
        assert_eq!(tree.root(), h(expected), "compact root at size {size}");
        assert_eq!(
            CompactTree::from_leaves(&leaves[..size]).root(),
            h(expected)
        );
        assert_eq!(
            root_at(&leaves[..], size as u64).unwrap(),
            h(expected),
            "root_at size {size}"
        );
        assert_eq!(
            InMemoryTree::from_leaves(&leaves[..size]).root(),
            h(expected)
        );
    }
}

#[test]
fn compact_tree_peaks_match_the_published_compact_trees() {
    // `testonly.CompactTrees()`: the peaks of each tree size, largest first.
    let n = |level: usize, index: usize| -> Hash {
        match level {
            0 => h(LEAF_HASHES[index]),
            1 => h(LEVEL1[index]),
            2 => h(LEVEL2[index]),
            _ => h(LEVEL3),
        }
    };
    let expected: [Vec<Hash>; 9] = [
        vec![],
        vec![n(0, 0)],
        vec![n(1, 0)],
        vec![n(1, 0), n(0, 2)],
        vec![n(2, 0)],
        vec![n(2, 0), n(0, 4)],
        vec![n(2, 0), n(1, 2)],
        vec![n(2, 0), n(1, 2), n(0, 6)],
        vec![n(3, 0)],
    ];
    let leaves = leaves();
    for (size, peaks) in expected.iter().enumerate() {
        assert_eq!(
            CompactTree::from_leaves(&leaves[..size]).peaks(),
            &peaks[..]
        );
    }
}

#[test]
fn inclusion_vectors_generate_and_verify() {
    let leaves = leaves();
    let mem = InMemoryTree::from_leaves(&leaves);
    for &(one_based, size, proof_hex) in INCLUSION {
        let index = one_based - 1;
        let expected = hashes(proof_hex);
        let root = h(ROOTS[size as usize]);
        assert_eq!(
            inclusion_proof(index, size, &leaves[..]).unwrap(),
            expected,
            "generate ({index}, {size}) from leaf slice"
        );
        assert_eq!(inclusion_proof(index, size, &mem).unwrap(), expected);
        verify_inclusion(&leaves[index as usize], index, size, &expected, &root).unwrap();

        // transparency-dev's probes: wrong index, halved/doubled size, wrong leaf,
        // random and empty roots all fail.
        let some_hash = h("abacaba000000000000000000000000000000000000000000060061e00123456");
        for (i, s) in [
            (index ^ 2, size),
            (index + 1, size),
            (index.wrapping_sub(1), size),
            (index, size / 2),
            (index, size * 2),
        ] {
            if (i, s) == (index, size) {
                continue;
            }
            assert!(
                verify_inclusion(&leaves[index as usize], i, s, &expected, &root).is_err(),
                "probe ({i}, {s}) for ({index}, {size}) verified"
            );
        }
        assert!(verify_inclusion(&some_hash, index, size, &expected, &root).is_err());
        assert!(
            verify_inclusion(&leaves[index as usize], index, size, &expected, &some_hash).is_err()
        );
        assert!(verify_inclusion(
            &leaves[index as usize],
            index,
            size,
            &expected,
            &empty_root()
        )
        .is_err());
    }
}

#[test]
fn inclusion_rejects_out_of_range() {
    let leaves = leaves();
    assert!(matches!(
        inclusion_proof(0, 0, &leaves[..]),
        Err(ProofError::IndexOutOfRange { .. })
    ));
    assert!(matches!(
        inclusion_proof(8, 8, &leaves[..]),
        Err(ProofError::IndexOutOfRange { .. })
    ));
    assert!(matches!(
        inclusion_proof(0, 9, &leaves[..]),
        Err(ProofError::SizeBeyondSource { .. })
    ));
    assert!(matches!(
        verify_inclusion(&leaves[0], 0, 0, &[], &empty_root()),
        Err(ProofError::IndexOutOfRange { .. })
    ));
}

#[test]
fn matching_root_and_leaf() {
    // testdata/inclusion/single-entry/matching-root-and-leaf.json: a one-leaf tree whose
    // root is the leaf hash itself verifies with an empty proof.
    let leaf = h("0d3aed023148ffd2a259fbd0cdc7fb3cf975658760d3775b82af6f90aacc2dfc");
    verify_inclusion(&leaf, 0, 1, &[], &leaf).unwrap();
}

#[test]
fn consistency_vectors_generate_and_verify() {
    let leaves = leaves();
    let mem = InMemoryTree::from_leaves(&leaves);
    for &(size1, size2, proof_hex) in CONSISTENCY {
        let expected = hashes(proof_hex);
        let (root1, root2) = (h(ROOTS[size1 as usize]), h(ROOTS[size2 as usize]));
        assert_eq!(
            consistency_proof(size1, size2, &leaves[..]).unwrap(),
            expected,
            "generate ({size1}, {size2})"
        );
        assert_eq!(consistency_proof(size1, size2, &mem).unwrap(), expected);
        verify_consistency(size1, size2, &expected, &root1, &root2).unwrap();

        if size1 == size2 {
            continue;
        }
        // transparency-dev's probes: swapped roots, perturbed sizes, truncated and
        // extended proofs, wrong roots.
        assert!(verify_consistency(size1, size2, &expected, &root2, &root1).is_err());
        for (s1, s2) in [
            (size1 + 1, size2),
            (size1 - 1, size2),
            (size1 ^ 2, size2),
            (size1, size2 * 2),
            (size1, size2 / 2),
        ] {
            if (s1, s2) == (size1, size2) {
                continue;
            }
            assert!(
                verify_consistency(s1, s2, &expected, &root1, &root2).is_err(),
                "probe ({s1}, {s2}) for ({size1}, {size2}) verified"
            );
        }
        assert!(verify_consistency(size1, size2, &expected[1..], &root1, &root2).is_err());
        let mut longer = expected.clone();
        longer.push(root1);
        assert!(verify_consistency(size1, size2, &longer, &root1, &root2).is_err());
        let mut preceded = vec![root2];
        preceded.extend_from_slice(&expected);
        assert!(verify_consistency(size1, size2, &preceded, &root1, &root2).is_err());
        assert!(verify_consistency(size1, size2, &expected, &empty_root(), &root2).is_err());
        assert!(verify_consistency(size1, size2, &expected, &root1, &empty_root()).is_err());
    }
}

#[test]
fn consistency_edge_cases() {
    let leaves = leaves();
    let r = |s: usize| h(ROOTS[s]);
    // From the empty tree: meaningless, rejected (as in transparency-dev).
    assert!(matches!(
        verify_consistency(0, 0, &[], &empty_root(), &empty_root()),
        Err(ProofError::EmptyFirstTree)
    ));
    assert!(matches!(
        consistency_proof(0, 3, &leaves[..]),
        Err(ProofError::EmptyFirstTree)
    ));
    // Equal sizes: empty proof and equal roots only.
    verify_consistency(3, 3, &[], &r(3), &r(3)).unwrap();
    assert!(verify_consistency(3, 3, &[], &r(3), &r(4)).is_err());
    assert!(verify_consistency(3, 3, &[r(1)], &r(3), &r(3)).is_err());
    // Size order.
    assert!(matches!(
        verify_consistency(5, 2, &[], &r(5), &r(2)),
        Err(ProofError::SizeOrder { .. })
    ));
    assert!(matches!(
        consistency_proof(5, 2, &leaves[..]),
        Err(ProofError::SizeOrder { .. })
    ));
    // Non-empty proof needed when sizes differ.
    assert!(verify_consistency(1, 2, &[], &r(1), &r(2)).is_err());
}
