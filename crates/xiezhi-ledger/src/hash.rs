//! RFC 6962 / RFC 9162 Merkle tree hashing: SHA-256 with one-byte domain separation.
//!
//! A leaf is hashed as `SHA-256(0x00 || entry)` and an interior node as
//! `SHA-256(0x01 || left || right)`, so a leaf hash can never be passed off as a node
//! hash (and vice versa). The root of the empty tree is `SHA-256("")`.

use sha2::{Digest, Sha256};

/// Size in bytes of every hash in the tree.
pub const HASH_SIZE: usize = 32;

/// A SHA-256 digest: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; HASH_SIZE];

/// Domain-separation prefix of leaf hashes (RFC 6962 §2.1).
pub const LEAF_PREFIX: u8 = 0x00;

/// Domain-separation prefix of interior node hashes (RFC 6962 §2.1).
pub const NODE_PREFIX: u8 = 0x01;

/// Hash of one log entry: `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(entry);
    hasher.finalize().into()
}

/// Hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The hash a tree is built with: SHA-256 (RFC 6962, the international suite) or SM3 (the 国密
/// suite, GB/T 32905), with the same one-byte domain separation. A log keeps one for life; its
/// checkpoints' signature algorithm names it (Ed25519 → SHA-256, SM2 → SM3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TreeHash {
    /// `SHA-256`, RFC 6962 / RFC 9162.
    #[default]
    Sha256,
    /// `SM3`, GB/T 32905.
    Sm3,
}

impl TreeHash {
    /// The tree hash of a crypto suite.
    pub fn of_suite(suite: xiezhi_crypto::Suite) -> TreeHash {
        match suite {
            xiezhi_crypto::Suite::International => TreeHash::Sha256,
            xiezhi_crypto::Suite::Guomi => TreeHash::Sm3,
        }
    }

    /// The suite whose hash this is.
    pub fn suite(self) -> xiezhi_crypto::Suite {
        match self {
            TreeHash::Sha256 => xiezhi_crypto::Suite::International,
            TreeHash::Sm3 => xiezhi_crypto::Suite::Guomi,
        }
    }

    fn digest(self, parts: &[&[u8]]) -> Hash {
        match self {
            TreeHash::Sha256 => {
                let mut hasher = Sha256::new();
                for p in parts {
                    hasher.update(p);
                }
                hasher.finalize().into()
            }
            TreeHash::Sm3 => {
                let mut hasher = self.suite().hasher();
                for p in parts {
                    hasher.update(p);
                }
                hasher.finalize()
            }
        }
    }

    /// Hash of one log entry: `H(0x00 || entry)`.
    pub fn leaf(self, entry: &[u8]) -> Hash {
        self.digest(&[&[LEAF_PREFIX], entry])
    }

    /// Hash of an interior node: `H(0x01 || left || right)`.
    pub fn node(self, left: &Hash, right: &Hash) -> Hash {
        self.digest(&[&[NODE_PREFIX], left, right])
    }

    /// Root of the empty tree: `H("")`.
    pub fn empty(self) -> Hash {
        self.digest(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_tree_hash_is_sm3_with_the_same_prefixes() {
        // GB/T 32905 Appendix A.1: SM3("abc").
        let abc = TreeHash::Sm3.digest(&[b"abc"]);
        let hex: String = abc.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(TreeHash::Sha256.leaf(b"x"), leaf_hash(b"x"));
        assert_ne!(TreeHash::Sm3.leaf(b"x"), leaf_hash(b"x"));
        let (a, b) = (TreeHash::Sm3.leaf(b"a"), TreeHash::Sm3.leaf(b"b"));
        let mut concat = a.to_vec();
        concat.extend_from_slice(&b);
        assert_ne!(TreeHash::Sm3.node(&a, &b), TreeHash::Sm3.leaf(&concat));
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        let hex: String = empty_root().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn leaf_and_node_are_domain_separated() {
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        let mut concat = Vec::new();
        concat.extend_from_slice(&a);
        concat.extend_from_slice(&b);
        assert_ne!(node_hash(&a, &b), leaf_hash(&concat));
        assert_ne!(node_hash(&a, &b), node_hash(&b, &a));
    }
}
