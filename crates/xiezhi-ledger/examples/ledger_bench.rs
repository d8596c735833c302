//! Benchmark of the ledger core at 1,000,000 leaves.
//!
//! Run with `cargo run --release -p xiezhi-ledger --example ledger_bench [leaves]`.
//! Prints append throughput (hashing ~200-byte entries plus compact-tree append), and the
//! cost of inclusion/consistency proof generation and verification.

use std::hint::black_box;
use std::time::{Duration, Instant};

use xiezhi_ledger::proof::root_at;
use xiezhi_ledger::{
    consistency_proof, inclusion_proof, leaf_hash, verify_consistency, verify_inclusion,
    Checkpoint, CompactTree, Hash, InMemoryTree, Signer,
};

const ENTRY_BYTES: usize = 200;

/// Deterministic pseudo-random indices (xorshift64*), so runs are comparable.
struct Indices(u64);

impl Indices {
    fn next_below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
    }
}

fn per_op_us(elapsed: Duration, ops: u64) -> f64 {
    elapsed.as_secs_f64() * 1e6 / ops as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 1_000_000,
    };
    println!("xiezhi-ledger benchmark, {n} leaves, {ENTRY_BYTES}-byte entries");

    // 1. Append: hash each entry as a leaf and append it to the compact tree.
    let mut entry = [0u8; ENTRY_BYTES];
    for (i, byte) in entry.iter_mut().enumerate() {
        *byte = (i * 31 % 251) as u8;
    }
    let mut leaves: Vec<Hash> = Vec::with_capacity(n as usize);
    let mut tree = CompactTree::new();
    let start = Instant::now();
    for i in 0..n {
        entry[..8].copy_from_slice(&i.to_be_bytes());
        let leaf = leaf_hash(&entry);
        tree.append(leaf);
        leaves.push(leaf);
    }
    let root = tree.root();
    let elapsed = start.elapsed();
    println!(
        "append (leaf hash + compact append): {:>12.0} appends/s  ({:.3} s total)",
        n as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );

    // 2. Compact tree alone from precomputed leaf hashes.
    let start = Instant::now();
    let rebuilt = CompactTree::from_leaves(&leaves);
    let elapsed = start.elapsed();
    assert_eq!(rebuilt.root(), root);
    println!(
        "CompactTree::from_leaves:            {:>12.0} appends/s  ({:.3} s total)",
        n as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );

    // 3. Inclusion proofs.
    let mut rng = Indices(0x9e37_79b9_7f4a_7c15);
    let slice_rounds = 5;
    let start = Instant::now();
    for _ in 0..slice_rounds {
        let index = rng.next_below(n);
        black_box(inclusion_proof(index, n, &leaves[..])?);
    }
    let slice_us = per_op_us(start.elapsed(), slice_rounds);

    let start = Instant::now();
    let mem = InMemoryTree::from_leaves(&leaves);
    let mem_build = start.elapsed();
    assert_eq!(mem.root(), root);

    let rounds = 20_000u64;
    let indices: Vec<u64> = (0..rounds).map(|_| rng.next_below(n)).collect();
    let start = Instant::now();
    let proofs: Vec<Vec<Hash>> = indices
        .iter()
        .map(|&index| inclusion_proof(index, n, &mem))
        .collect::<Result<_, _>>()?;
    let mem_us = per_op_us(start.elapsed(), rounds);

    let start = Instant::now();
    for (&index, proof) in indices.iter().zip(&proofs) {
        verify_inclusion(&leaves[index as usize], index, n, proof, &root)?;
    }
    let verify_us = per_op_us(start.elapsed(), rounds);
    println!("inclusion proof generation, &[Hash] leaf slice (O(n)): {slice_us:>10.1} us/proof");
    println!(
        "inclusion proof generation, InMemoryTree (O(log^2 n)): {mem_us:>10.2} us/proof  (tree build {:.3} s)",
        mem_build.as_secs_f64()
    );
    println!(
        "inclusion proof verification:                          {verify_us:>10.2} us/proof  ({} hashes/proof)",
        proofs[0].len()
    );

    // 4. Consistency proofs between random earlier sizes and n.
    let sizes: Vec<u64> = (0..rounds).map(|_| 1 + rng.next_below(n)).collect();
    let old_roots: Vec<Hash> = sizes
        .iter()
        .map(|&size| root_at(&mem, size))
        .collect::<Result<_, _>>()?;
    let start = Instant::now();
    let cproofs: Vec<Vec<Hash>> = sizes
        .iter()
        .map(|&size| consistency_proof(size, n, &mem))
        .collect::<Result<_, _>>()?;
    let cgen_us = per_op_us(start.elapsed(), rounds);
    let start = Instant::now();
    for ((&size, proof), old_root) in sizes.iter().zip(&cproofs).zip(&old_roots) {
        verify_consistency(size, n, proof, old_root, &root)?;
    }
    let cver_us = per_op_us(start.elapsed(), rounds);
    println!("consistency proof generation, InMemoryTree:           {cgen_us:>10.2} us/proof");
    println!("consistency proof verification:                       {cver_us:>10.2} us/proof");

    // 5. Checkpoint signing and opening.
    let signer = Signer::generate("xiezhi.example/bench")?;
    let verifiers = [signer.verifier()];
    let checkpoint = Checkpoint::new("xiezhi.example/bench", n, root);
    let sign_rounds = 2_000u64;
    let start = Instant::now();
    let mut note = String::new();
    for _ in 0..sign_rounds {
        note = checkpoint.sign(&signer)?;
    }
    let sign_us = per_op_us(start.elapsed(), sign_rounds);
    let start = Instant::now();
    for _ in 0..sign_rounds {
        black_box(Checkpoint::open(&note, &verifiers)?);
    }
    let open_us = per_op_us(start.elapsed(), sign_rounds);
    println!("checkpoint sign:                                      {sign_us:>10.2} us");
    println!("checkpoint open (parse + verify):                     {open_us:>10.2} us");
    Ok(())
}
