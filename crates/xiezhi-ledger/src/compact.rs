//! Compact append-only tree state: the O(log n) roots of the perfect subtrees ("peaks")
//! that make up a Merkle tree of n leaves.
//!
//! A tree of size `n` is the concatenation of one perfect subtree for every set bit of `n`,
//! largest (leftmost) first. Appending a leaf merges equal-sized peaks like a binary
//! counter carry, so an append costs O(1) hashes amortised and the state never holds more
//! than 64 hashes. The RFC 6962 root is the right-to-left fold of the peaks.
//!
//! This is the `[0, n)` case of transparency-dev/merkle's `compact.Range`.

use crate::hash::{Hash, TreeHash};

/// Errors of [`CompactTree::from_parts`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompactError {
    /// The number of peaks must equal the number of set bits of the size.
    #[error("a tree of size {size} has {expected} peaks, got {got}")]
    PeakCount {
        /// Claimed tree size.
        size: u64,
        /// Number of peaks a tree of that size has.
        expected: usize,
        /// Number of peaks supplied.
        got: usize,
    },
}

/// The compact state of an append-only Merkle tree: its size and the roots of its
/// perfect subtrees, largest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompactTree {
    size: u64,
    peaks: Vec<Hash>,
    hasher: TreeHash,
}

impl CompactTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same tree hashed with `hasher` (SHA-256 unless set; see [`TreeHash`]).
    pub fn with_hasher(mut self, hasher: TreeHash) -> Self {
        self.hasher = hasher;
        self
    }

    /// The hash this tree is built with.
    pub fn hasher(&self) -> TreeHash {
        self.hasher
    }

    /// Builds the compact state of the tree holding `leaf_hashes`, in order.
    pub fn from_leaves<I>(leaf_hashes: I) -> Self
    where
        I: IntoIterator,
        I::Item: std::borrow::Borrow<Hash>,
    {
        let mut tree = Self::new();
        for leaf in leaf_hashes {
            tree.append(*std::borrow::Borrow::borrow(&leaf));
        }
        tree
    }

    /// Restores a compact state saved from [`CompactTree::size`] and [`CompactTree::peaks`].
    ///
    /// Only the shape is checked (one peak per set bit of `size`); the hashes themselves
    /// are taken on trust, so restore only from a source that is itself authenticated
    /// (e.g. re-check [`CompactTree::root`] against a verified checkpoint).
    pub fn from_parts(size: u64, peaks: Vec<Hash>) -> Result<Self, CompactError> {
        let expected = size.count_ones() as usize;
        if peaks.len() != expected {
            return Err(CompactError::PeakCount {
                size,
                expected,
                got: peaks.len(),
            });
        }
        Ok(Self {
            size,
            peaks,
            hasher: TreeHash::default(),
        })
    }

    /// Number of leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Roots of the perfect subtrees, largest (leftmost) first; one per set bit of the size.
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// Appends one leaf given its leaf hash (see [`crate::hash::leaf_hash`]).
    ///
    /// Amortised O(1) hashes. The size is a `u64`; 2^64 appends are out of reach.
    pub fn append(&mut self, leaf_hash: Hash) {
        let mut carry = leaf_hash;
        let mut size = self.size;
        // Every trailing one bit of the old size is a peak of equal height to merge with.
        while size & 1 == 1 {
            match self.peaks.pop() {
                Some(left) => carry = self.hasher.node(&left, &carry),
                // Unreachable while the invariant peaks.len() == size.count_ones() holds.
                None => break,
            }
            size >>= 1;
        }
        self.peaks.push(carry);
        self.size += 1;
    }

    /// Hashes `entry` as a leaf, appends it, and returns its leaf hash.
    pub fn append_entry(&mut self, entry: &[u8]) -> Hash {
        let hash = self.hasher.leaf(entry);
        self.append(hash);
        hash
    }

    /// The RFC 6962 Merkle tree hash of the whole tree; [`empty_root`] when empty.
    pub fn root(&self) -> Hash {
        fold_peaks(self.hasher, &self.peaks).unwrap_or_else(|| self.hasher.empty())
    }
}

/// Folds perfect-subtree roots (largest first) right to left into their Merkle root;
/// `None` for no peaks.
pub(crate) fn fold_peaks(hasher: TreeHash, peaks: &[Hash]) -> Option<Hash> {
    let (last, rest) = peaks.split_last()?;
    Some(
        rest.iter()
            .rev()
            .fold(*last, |acc, left| hasher.node(left, &acc)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{empty_root, leaf_hash};

    #[test]
    fn peaks_follow_the_bits_of_the_size() {
        let mut tree = CompactTree::new();
        assert_eq!(tree.root(), empty_root());
        for i in 0u64..100 {
            tree.append_entry(&i.to_be_bytes());
            assert_eq!(tree.size(), i + 1);
            assert_eq!(tree.peaks().len(), (i + 1).count_ones() as usize);
        }
    }

    #[test]
    fn from_parts_round_trips_and_checks_shape() {
        let tree = CompactTree::from_leaves((0u8..13).map(|i| leaf_hash(&[i])));
        let restored = CompactTree::from_parts(tree.size(), tree.peaks().to_vec());
        assert_eq!(restored, Ok(tree.clone()));
        assert!(CompactTree::from_parts(12, tree.peaks().to_vec()).is_err());
    }
}
