//! Storage-free core of Xiezhi's tamper-evident audit ledger.
//!
//! The ledger is an append-only Merkle tree in the RFC 6962 / RFC 9162 shape (the same
//! tree as Certificate Transparency and Go's checksum database). This crate owns the
//! mathematics and the formats, and nothing else:
//!
//! - [`hash`]: leaf and node hashing with domain separation;
//! - [`compact`]: the O(log n) append-only tree state ([`CompactTree`]);
//! - [`proof`]: inclusion and consistency proofs, generated through the [`HashSource`]
//!   trait and verified by free functions that need no storage;
//! - [`checkpoint`]: signed tree heads in the c2sp.org/tlog-checkpoint format, as
//!   c2sp.org/signed-note notes with Ed25519 keys.
//!
//! Invariants the rest of the platform relies on:
//!
//! - **Append-only.** A tree only grows; every later tree has every earlier tree as a
//!   prefix, which [`verify_consistency`] proves between any two checkpoints.
//! - **Verifiable by anyone holding a checkpoint.** Given a signed checkpoint and the
//!   log's verifier key, anyone can check an entry ([`verify_inclusion`]) or a later
//!   checkpoint ([`verify_consistency`]) with hashes alone, without trusting or reading
//!   the log's storage.
//!
//! Storage, tiling, entry encoding and witnessing live in other crates; they implement
//! [`HashSource`] and call into this one.
//!
//! ```
//! use xiezhi_ledger::{
//!     inclusion_proof, leaf_hash, verify_consistency, verify_inclusion, consistency_proof,
//!     Checkpoint, CompactTree, InMemoryTree, Signer,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The log appends entries and signs a checkpoint.
//! let signer = Signer::generate("xiezhi.example/audit")?;
//! let entries: Vec<Vec<u8>> = (0..10).map(|i| format!("entry {i}").into_bytes()).collect();
//! let leaves: Vec<_> = entries.iter().map(|e| leaf_hash(e)).collect();
//! let tree = CompactTree::from_leaves(&leaves);
//! let note = Checkpoint::new("xiezhi.example/audit", tree.size(), tree.root()).sign(&signer)?;
//!
//! // Anyone holding the verifier key checks the checkpoint, then an entry against it.
//! let (checkpoint, _signers) = Checkpoint::open(&note, &[signer.verifier()])?;
//! let nodes = InMemoryTree::from_leaves(&leaves);
//! let proof = inclusion_proof(3, checkpoint.size, &nodes)?;
//! verify_inclusion(&leaf_hash(&entries[3]), 3, checkpoint.size, &proof, &checkpoint.root)?;
//!
//! // An older checkpoint (size 4) is proven to be a prefix of the newer one.
//! let old_root = CompactTree::from_leaves(&leaves[..4]).root();
//! let proof = consistency_proof(4, checkpoint.size, &nodes)?;
//! verify_consistency(4, checkpoint.size, &proof, &old_root, &checkpoint.root)?;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod archive;
pub mod checkpoint;
pub mod compact;
pub mod dossier;
pub mod hash;
pub mod log;
pub mod proof;
pub mod witness;

pub use checkpoint::{Checkpoint, CheckpointError, Signer, Verifier};
pub use compact::{CompactError, CompactTree};
pub use hash::{empty_root, leaf_hash, node_hash, Hash, TreeHash};
pub use proof::{
    consistency_proof, inclusion_proof, verify_consistency, verify_consistency_with,
    verify_inclusion, verify_inclusion_with, HashSource, InMemoryTree, ProofError,
};
