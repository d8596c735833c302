//! Inclusion and consistency proofs (RFC 9162 §2.1.3 and §2.1.4).
//!
//! Verification ([`verify_inclusion`], [`verify_consistency`]) is a pair of free functions
//! over hashes and sizes only: anyone holding a checkpoint can run them without access to
//! the log's storage. They follow the RFC 9162 §2.1.3.2 / §2.1.4.2 algorithms literally,
//! after checking the proof length up front so a wrong-length proof gets a precise error.
//!
//! Generation ([`inclusion_proof`], [`consistency_proof`]) follows the recursive
//! definitions of RFC 9162 §2.1.3.1 / §2.1.4.1 and reads the tree through the
//! [`HashSource`] trait, which only has to serve roots of perfect subtrees ("nodes"); the
//! root of any other subtree needed by a proof is folded from O(log n) such nodes.
//!
//! Cost: a proof needs O(log n) subtree roots covering disjoint leaf ranges. A plain
//! leaf-hash slice (`[Hash]`) recomputes every node from its leaves, so one proof costs
//! O(n) hashing at worst; [`InMemoryTree`] (or a storage backend that keeps interior
//! nodes, e.g. tlog tiles) answers each node in O(1), making a proof O(log² n).

use crate::compact::{fold_peaks, CompactTree};
use crate::hash::{Hash, TreeHash};

/// Errors of proof generation and verification.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// Leaf index asked for.
        index: u64,
        /// Tree size.
        size: u64,
    },
    /// A consistency proof needs `size1 <= size2`.
    #[error("first tree size {size1} is larger than second tree size {size2}")]
    SizeOrder {
        /// Older tree size.
        size1: u64,
        /// Newer tree size.
        size2: u64,
    },
    /// Consistency from the empty tree proves nothing (every tree extends it).
    #[error("consistency with the empty tree is meaningless")]
    EmptyFirstTree,
    /// The proof does not have the number of hashes the sizes call for.
    #[error("proof has {got} hashes, expected {want}")]
    WrongProofLength {
        /// Hashes in the proof.
        got: usize,
        /// Hashes a valid proof has for these sizes.
        want: usize,
    },
    /// The root computed from an inclusion proof, or the second (newer) root computed from
    /// a consistency proof, differs from the expected root.
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
    /// The first (older) root computed from a consistency proof differs from `root1`.
    #[error("the consistency proof does not lead to the first (older) root")]
    FirstRootMismatch,
    /// The tree size asked for is larger than the hash source.
    #[error("tree size {size} exceeds the {available} leaves of the hash source")]
    SizeBeyondSource {
        /// Size asked for.
        size: u64,
        /// Leaves in the source.
        available: u64,
    },
    /// `[start, end)` is not a subtree of an RFC 9162 tree: `start` must be a multiple of
    /// the smallest power of two not below `end - start`.
    #[error("[{start}, {end}) is not a subtree range")]
    InvalidRange {
        /// First leaf of the range.
        start: u64,
        /// One past the last leaf of the range.
        end: u64,
    },
    /// The hash source has no such node.
    #[error("hash source has no node at level {level}, index {index}")]
    MissingNode {
        /// Height of the node (0 = leaf).
        level: u32,
        /// Index of the node within its level.
        index: u64,
    },
    /// The hash source failed (storage error, corruption, ...).
    #[error("hash source: {0}")]
    Source(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Read access to a tree's hashes for proof generation.
///
/// A source only serves perfect subtree roots: `node(level, index)` is the Merkle root of
/// the `2^level` leaves starting at leaf `index << level` (level 0 = leaf hashes). This is
/// exactly what tiled storage (c2sp.org/tlog-tiles) holds, so a storage backend can
/// implement it directly.
pub trait HashSource {
    /// Number of leaves the source holds.
    fn size(&self) -> u64;

    /// Root of the perfect subtree of height `level` at position `index`. Only called for
    /// nodes lying entirely below [`HashSource::size`].
    fn node(&self, level: u32, index: u64) -> Result<Hash, ProofError>;

    /// The hash the tree is built with (SHA-256 unless the source says otherwise).
    fn hasher(&self) -> TreeHash {
        TreeHash::Sha256
    }
}

/// Leaf range `[start, end)` covered by node `(level, index)`, if it fits in a `u64`.
fn node_span(level: u32, index: u64) -> Option<(u64, u64)> {
    let width = 1u64.checked_shl(level)?;
    let start = index.checked_mul(width)?;
    Some((start, start.checked_add(width)?))
}

/// A slice of leaf hashes. Every node is recomputed from its leaves: O(2^level) per node.
impl HashSource for [Hash] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn node(&self, level: u32, index: u64) -> Result<Hash, ProofError> {
        let leaves = node_span(level, index)
            .and_then(|(start, end)| {
                let start = usize::try_from(start).ok()?;
                let end = usize::try_from(end).ok()?;
                self.get(start..end)
            })
            .ok_or(ProofError::MissingNode { level, index })?;
        // A perfect range has exactly one peak, so its compact root is the node.
        Ok(CompactTree::from_leaves(leaves).root())
    }
}

impl HashSource for Vec<Hash> {
    fn size(&self) -> u64 {
        self.as_slice().size()
    }

    fn node(&self, level: u32, index: u64) -> Result<Hash, ProofError> {
        self.as_slice().node(level, index)
    }
}

/// Every complete node of an append-only tree, held in memory (about 2n hashes for n
/// leaves): `node` is O(1), so proofs cost O(log² n). Meant for tests, benchmarks and
/// small trees; large logs keep the same nodes in storage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InMemoryTree {
    /// `levels[k][i]` is node `(k, i)`; `levels[0]` holds the leaf hashes.
    levels: Vec<Vec<Hash>>,
    hasher: TreeHash,
}

impl InMemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The empty tree, hashed with `hasher`.
    pub fn with_hasher(hasher: TreeHash) -> Self {
        InMemoryTree {
            levels: Vec::new(),
            hasher,
        }
    }

    /// Builds the tree holding `leaf_hashes`, in order.
    pub fn from_leaves<I>(leaf_hashes: I) -> Self
    where
        I: IntoIterator,
        I::Item: std::borrow::Borrow<Hash>,
    {
        let mut tree = Self::new();
        for leaf in leaf_hashes {
            tree.push(*std::borrow::Borrow::borrow(&leaf));
        }
        tree
    }

    /// Appends one leaf hash, completing the interior nodes it closes.
    pub fn push(&mut self, leaf_hash: Hash) {
        let mut hash = leaf_hash;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                return;
            };
            row.push(hash);
            if row.len() % 2 == 1 {
                return;
            }
            match row.rchunks_exact(2).next() {
                Some([left, right]) => hash = self.hasher.node(left, right),
                _ => return,
            }
            level += 1;
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// The Merkle tree hash of the whole tree; the hash of nothing when empty.
    pub fn root(&self) -> Hash {
        let size = self.size();
        // The peak of height k is the last complete node of level k, for each set bit k.
        let peaks: Vec<Hash> = self
            .levels
            .iter()
            .enumerate()
            .rev()
            .filter(|(level, _)| (size >> level) & 1 == 1)
            .filter_map(|(_, row)| row.last().copied())
            .collect();
        fold_peaks(self.hasher, &peaks).unwrap_or_else(|| self.hasher.empty())
    }
}

impl HashSource for InMemoryTree {
    fn size(&self) -> u64 {
        InMemoryTree::size(self)
    }

    fn hasher(&self) -> TreeHash {
        self.hasher
    }

    fn node(&self, level: u32, index: u64) -> Result<Hash, ProofError> {
        usize::try_from(level)
            .ok()
            .and_then(|level| self.levels.get(level))
            .zip(usize::try_from(index).ok())
            .and_then(|(row, index)| row.get(index).copied())
            .ok_or(ProofError::MissingNode { level, index })
    }
}

/// Merkle tree hash `MTH(D[start:end])` of a subtree range, folded from the perfect
/// subtrees of `source` that make it up (one per set bit of `end - start`).
///
/// `start` must be a multiple of the smallest power of two not below `end - start`, which
/// holds for every range the RFC 9162 recursion visits; the empty range hashes to
/// [`empty_root`].
pub fn subtree_root<S: HashSource + ?Sized>(
    source: &S,
    start: u64,
    end: u64,
) -> Result<Hash, ProofError> {
    let available = source.size();
    if end > available {
        return Err(ProofError::SizeBeyondSource {
            size: end,
            available,
        });
    }
    let invalid = ProofError::InvalidRange { start, end };
    let Some(len) = end.checked_sub(start) else {
        return Err(invalid);
    };
    if len == 0 {
        return Ok(source.hasher().empty());
    }
    match len.checked_next_power_of_two() {
        Some(align) if start % align == 0 => {}
        _ => return Err(invalid),
    }
    let mut peaks = Vec::with_capacity(len.count_ones() as usize);
    let mut pos = start;
    for level in (0..u64::BITS).rev() {
        if (len >> level) & 1 == 1 {
            peaks.push(source.node(level, pos >> level)?);
            pos += 1 << level;
        }
    }
    fold_peaks(source.hasher(), &peaks).ok_or(invalid)
}

/// Merkle tree hash of the first `size` leaves of `source` (the root at that size).
pub fn root_at<S: HashSource + ?Sized>(source: &S, size: u64) -> Result<Hash, ProofError> {
    subtree_root(source, 0, size)
}

/// Largest power of two strictly below `n`; `n` must be at least 2.
fn split_point(n: u64) -> u64 {
    1u64 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// Inclusion proof (audit path) of leaf `index` in the tree of the first `size` leaves of
/// `source`, per RFC 9162 §2.1.3.1: sibling subtree roots from the leaf up to the root.
///
/// Costs O(n) hashing at worst with a `[Hash]` source, O(log² n) with [`InMemoryTree`].
pub fn inclusion_proof<S: HashSource + ?Sized>(
    index: u64,
    size: u64,
    source: &S,
) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    check_source(size, source)?;
    // Walk down from the root; the siblings come out top-down.
    let mut path = Vec::new();
    let (mut start, mut end) = (0, size);
    while end - start > 1 {
        let mid = start + split_point(end - start);
        if index < mid {
            path.push(subtree_root(source, mid, end)?);
            end = mid;
        } else {
            path.push(subtree_root(source, start, mid)?);
            start = mid;
        }
    }
    path.reverse();
    Ok(path)
}

/// Consistency proof between the trees of the first `size1` and `size2` leaves of
/// `source`, per RFC 9162 §2.1.4.1. Needs `0 < size1 <= size2`; equal sizes give the
/// empty proof.
///
/// Costs O(n) hashing at worst with a `[Hash]` source, O(log² n) with [`InMemoryTree`].
pub fn consistency_proof<S: HashSource + ?Sized>(
    size1: u64,
    size2: u64,
    source: &S,
) -> Result<Vec<Hash>, ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizeOrder { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::EmptyFirstTree);
    }
    check_source(size2, source)?;
    // SUBPROOF(m, D[start:end], whole) walked iteratively; `whole` is false once the old
    // tree's boundary lies in a right subtree, whose root must then be sent explicitly.
    let mut path = Vec::new();
    let (mut start, mut end, mut whole) = (0, size2, true);
    while size1 != end {
        let mid = start + split_point(end - start);
        if size1 <= mid {
            path.push(subtree_root(source, mid, end)?);
            end = mid;
        } else {
            path.push(subtree_root(source, start, mid)?);
            start = mid;
            whole = false;
        }
    }
    if !whole {
        path.push(subtree_root(source, start, end)?);
    }
    path.reverse();
    Ok(path)
}

fn check_source<S: HashSource + ?Sized>(size: u64, source: &S) -> Result<(), ProofError> {
    let available = source.size();
    if size > available {
        return Err(ProofError::SizeBeyondSource { size, available });
    }
    Ok(())
}

/// Number of bits needed to represent `x` (Go's `bits.Len64`).
fn bit_len(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// Hashes in a valid inclusion proof for `index < size`.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    // Below the level where the paths to `index` and `size - 1` meet, every level has a
    // sibling; above it, only the levels where `index`'s ancestor is a right child do.
    let inner = bit_len(index ^ (size - 1));
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// Hashes in a valid consistency proof for `0 < size1 < size2`.
fn consistency_proof_len(size1: u64, size2: u64) -> usize {
    let fork = bit_len((size1 - 1) ^ (size2 - 1));
    let border = (size1 - 1).checked_shr(fork).unwrap_or(0).count_ones();
    let inner = fork.saturating_sub(size1.trailing_zeros());
    // Unless the old tree is perfect, the proof starts with the root of its last peak.
    let seed = u32::from(!size1.is_power_of_two());
    (seed + inner + border) as usize
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves with root `root`
/// (RFC 9162 §2.1.3.2).
///
/// The size is authenticated only through `root`: take both from the same verified
/// checkpoint. (A verifier cannot tell what a proof hash covers, so e.g. the proof of leaf
/// 0 in a 5-leaf tree also "verifies" against that tree's root under a claimed size of 6;
/// no honest 6-leaf tree has that root.)
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    verify_inclusion_with(TreeHash::Sha256, leaf_hash, index, size, proof, root)
}

/// [`verify_inclusion`] for a tree hashed with `hasher`.
pub fn verify_inclusion_with(
    hasher: TreeHash,
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let want = inclusion_proof_len(index, size);
    let wrong_length = ProofError::WrongProofLength {
        got: proof.len(),
        want,
    };
    if proof.len() != want {
        return Err(wrong_length);
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = hasher.node(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = hasher.node(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(wrong_length);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `size1` leaves with root `root1` is a prefix of the tree of
/// `size2` leaves with root `root2` (RFC 9162 §2.1.4.2). Needs `0 < size1 <= size2`; for
/// equal sizes the proof must be empty and the roots equal.
///
/// As with [`verify_inclusion`], each size is authenticated only through its root (a
/// proof hash stands for an opaque subtree root), so take each `(size, root)` pair from
/// the same verified checkpoint.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), ProofError> {
    verify_consistency_with(TreeHash::Sha256, size1, size2, proof, root1, root2)
}

/// [`verify_consistency`] for trees hashed with `hasher`.
pub fn verify_consistency_with(
    hasher: TreeHash,
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizeOrder { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::EmptyFirstTree);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                got: proof.len(),
                want: 0,
            });
        }
        if root1 != root2 {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    let want = consistency_proof_len(size1, size2);
    let wrong_length = ProofError::WrongProofLength {
        got: proof.len(),
        want,
    };
    if proof.len() != want {
        return Err(wrong_length);
    }
    // Step 2: for a perfect old tree, its root is the implicit first path element.
    let (first, rest) = if size1.is_power_of_two() {
        (*root1, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(wrong_length),
        }
    };
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in rest {
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = hasher.node(c, &fr);
            sr = hasher.node(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = hasher.node(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(wrong_length);
    }
    if fr != *root1 {
        return Err(ProofError::FirstRootMismatch);
    }
    if sr != *root2 {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn subtree_root_rejects_misaligned_ranges() {
        let leaves: Vec<Hash> = (0u8..8).map(|i| leaf_hash(&[i])).collect();
        assert!(matches!(
            subtree_root(&leaves, 1, 3),
            Err(ProofError::InvalidRange { .. })
        ));
        assert!(matches!(
            subtree_root(&leaves, 0, 9),
            Err(ProofError::SizeBeyondSource { .. })
        ));
        assert_eq!(subtree_root(&leaves, 4, 7).ok(), {
            let t = InMemoryTree::from_leaves(&leaves[4..7]);
            Some(t.root())
        });
    }

    #[test]
    fn in_memory_tree_matches_compact_tree() {
        let mut mem = InMemoryTree::new();
        let mut compact = CompactTree::new();
        for i in 0u32..200 {
            let leaf = leaf_hash(&i.to_le_bytes());
            mem.push(leaf);
            compact.append(leaf);
            assert_eq!(mem.root(), compact.root());
        }
    }
}
