//! Property tests: valid proofs verify; any tampering with the proof, the leaf, the roots
//! or the sizes makes verification fail; a forked tree is never proven consistent.

use proptest::prelude::*;
use xiezhi_ledger::proof::root_at;
use xiezhi_ledger::{
    consistency_proof, inclusion_proof, leaf_hash, verify_consistency, verify_inclusion, Hash,
    InMemoryTree,
};

const MAX_SIZE: u64 = 3000;

fn entry_hash(i: u64) -> Hash {
    leaf_hash(format!("audit entry #{i}").as_bytes())
}

fn tree(size: u64) -> InMemoryTree {
    InMemoryTree::from_leaves((0..size).map(entry_hash))
}

/// `hash` with byte `at` XORed with a non-zero `mask`.
fn flipped(hash: &Hash, at: usize, mask: u8) -> Hash {
    let mut out = *hash;
    out[at] ^= mask;
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn inclusion_verifies_and_every_tampered_byte_fails(
        size in 1..=MAX_SIZE,
        index_seed in any::<u64>(),
        other_size in 1..=MAX_SIZE,
        mask in 1u8..=255,
    ) {
        let index = index_seed % size;
        let mem = tree(size.max(other_size));
        let leaf = entry_hash(index);
        let root = root_at(&mem, size).unwrap();
        let proof = inclusion_proof(index, size, &mem).unwrap();
        prop_assert!(verify_inclusion(&leaf, index, size, &proof, &root).is_ok());

        // Every byte of every proof hash.
        for i in 0..proof.len() {
            for at in 0..32 {
                let mut bad = proof.clone();
                bad[i] = flipped(&bad[i], at, mask);
                prop_assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
            }
        }
        // Every byte of the leaf hash and of the root.
        for at in 0..32 {
            let bad_leaf = flipped(&leaf, at, mask);
            prop_assert!(verify_inclusion(&bad_leaf, index, size, &proof, &root).is_err());
            let bad_root = flipped(&root, at, mask);
            prop_assert!(verify_inclusion(&leaf, index, size, &proof, &bad_root).is_err());
        }
        // Dropped, added or reordered proof hashes.
        if let Some((_, shorter)) = proof.split_last() {
            prop_assert!(verify_inclusion(&leaf, index, size, shorter, &root).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert!(verify_inclusion(&leaf, index, size, &longer, &root).is_err());
        if proof.len() >= 2 {
            let mut swapped = proof.clone();
            swapped.swap(0, 1);
            prop_assert!(verify_inclusion(&leaf, index, size, &swapped, &root).is_err());
        }
        // Another index.
        let other_index = (index + 1 + index_seed % 7) % size;
        if other_index != index {
            prop_assert!(verify_inclusion(&leaf, other_index, size, &proof, &root).is_err());
        }
        // Another size, with that size's authentic root (as a checkpoint would give).
        if other_size != size && index < other_size {
            let other_root = root_at(&mem, other_size).unwrap();
            prop_assert!(
                verify_inclusion(&leaf, index, other_size, &proof, &other_root).is_err()
            );
        }
        // The same proof from the plain leaf slice (O(n) source).
        let leaves: Vec<Hash> = (0..size).map(entry_hash).collect();
        prop_assert_eq!(inclusion_proof(index, size, &leaves[..]).unwrap(), proof);
    }

    #[test]
    fn consistency_verifies_and_every_tampered_byte_fails(
        size2 in 1..=MAX_SIZE,
        size1_seed in any::<u64>(),
        other_seed in any::<u64>(),
        mask in 1u8..=255,
    ) {
        let size1 = 1 + size1_seed % size2;
        let mem = tree(MAX_SIZE);
        let root1 = root_at(&mem, size1).unwrap();
        let root2 = root_at(&mem, size2).unwrap();
        let proof = consistency_proof(size1, size2, &mem).unwrap();
        prop_assert!(verify_consistency(size1, size2, &proof, &root1, &root2).is_ok());

        for i in 0..proof.len() {
            for at in 0..32 {
                let mut bad = proof.clone();
                bad[i] = flipped(&bad[i], at, mask);
                prop_assert!(verify_consistency(size1, size2, &bad, &root1, &root2).is_err());
            }
        }
        for at in 0..32 {
            let bad1 = flipped(&root1, at, mask);
            prop_assert!(verify_consistency(size1, size2, &proof, &bad1, &root2).is_err());
            let bad2 = flipped(&root2, at, mask);
            prop_assert!(verify_consistency(size1, size2, &proof, &root1, &bad2).is_err());
        }
        if let Some((_, shorter)) = proof.split_last() {
            prop_assert!(verify_consistency(size1, size2, shorter, &root1, &root2).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root1);
        prop_assert!(verify_consistency(size1, size2, &longer, &root1, &root2).is_err());

        // Wrong sizes, each with its authentic root: the proof is for (size1, size2) only.
        let other1 = 1 + other_seed % size2;
        if other1 != size1 {
            let r = root_at(&mem, other1).unwrap();
            prop_assert!(verify_consistency(other1, size2, &proof, &r, &root2).is_err());
        }
        let other2 = size1 + other_seed % (MAX_SIZE - size1 + 1);
        if other2 != size2 {
            let r = root_at(&mem, other2).unwrap();
            prop_assert!(verify_consistency(size1, other2, &proof, &root1, &r).is_err());
        }
        // Reversed sizes never verify.
        if size1 != size2 {
            prop_assert!(verify_consistency(size2, size1, &proof, &root2, &root1).is_err());
        }
    }

    #[test]
    fn forked_tree_is_never_consistent(
        size2 in 1..=MAX_SIZE,
        size1_seed in any::<u64>(),
        fork_seed in any::<u64>(),
    ) {
        let size1 = 1 + size1_seed % size2;
        let honest: Vec<Hash> = (0..size2).map(entry_hash).collect();
        // The fork rewrites one entry inside the prefix both trees claim to share.
        let fork_at = (fork_seed % size1) as usize;
        let mut forked = honest.clone();
        forked[fork_at] = leaf_hash(b"rewritten entry");
        let (honest, forked) = (InMemoryTree::from_leaves(&honest), InMemoryTree::from_leaves(&forked));

        let honest1 = root_at(&honest, size1).unwrap();
        let honest2 = root_at(&honest, size2).unwrap();
        let forked1 = root_at(&forked, size1).unwrap();
        let forked2 = root_at(&forked, size2).unwrap();
        prop_assert_ne!(honest1, forked1);

        for source in [&honest, &forked] {
            let proof = consistency_proof(size1, size2, source).unwrap();
            prop_assert!(verify_consistency(size1, size2, &proof, &honest1, &forked2).is_err());
            prop_assert!(verify_consistency(size1, size2, &proof, &forked1, &honest2).is_err());
        }
        // Control: a change after the old size is an honest extension and does verify.
        if size1 < size2 {
            let mut extended: Vec<Hash> = (0..size2).map(entry_hash).collect();
            let after = size1 as usize + (fork_seed % (size2 - size1)) as usize;
            extended[after] = leaf_hash(b"appended later");
            let extended = InMemoryTree::from_leaves(&extended);
            let proof = consistency_proof(size1, size2, &extended).unwrap();
            let extended2 = root_at(&extended, size2).unwrap();
            prop_assert!(verify_consistency(size1, size2, &proof, &honest1, &extended2).is_ok());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The same proofs over an SM3 tree (the 国密 suite): inclusion and consistency verify with
    /// SM3, and neither verifies as a SHA-256 tree, so a verifier cannot be fooled into the
    /// other hash.
    #[test]
    fn sm3_trees_prove_and_verify_only_as_sm3(
        size in 2..=MAX_SIZE,
        index_seed in any::<u64>(),
        old_seed in any::<u64>(),
    ) {
        use xiezhi_ledger::{verify_consistency_with, verify_inclusion_with, TreeHash};
        let mut mem = InMemoryTree::with_hasher(TreeHash::Sm3);
        let mut compact = xiezhi_ledger::CompactTree::new().with_hasher(TreeHash::Sm3);
        for i in 0..size {
            let leaf = TreeHash::Sm3.leaf(&i.to_be_bytes());
            mem.push(leaf);
            compact.append(leaf);
        }
        let root = mem.root();
        prop_assert_eq!(root, compact.root());
        let index = index_seed % size;
        let leaf = TreeHash::Sm3.leaf(&index.to_be_bytes());
        let proof = inclusion_proof(index, size, &mem).unwrap();
        prop_assert!(verify_inclusion_with(TreeHash::Sm3, &leaf, index, size, &proof, &root).is_ok());
        prop_assert!(verify_inclusion_with(TreeHash::Sha256, &leaf, index, size, &proof, &root).is_err() || size == 1);
        let old = 1 + old_seed % size;
        let old_root = root_at(&mem, old).unwrap();
        let c = consistency_proof(old, size, &mem).unwrap();
        prop_assert!(verify_consistency_with(TreeHash::Sm3, old, size, &c, &old_root, &root).is_ok());
        if old < size {
            prop_assert!(verify_consistency_with(TreeHash::Sha256, old, size, &c, &old_root, &root).is_err());
        }
    }
}
