//! Throughput of each primitive under each suite, for `xiezhi bench crypto`: signatures and
//! verifications per second, AEAD and hash MB/s on 4 KiB buffers, and per-operation rates on
//! 64-byte values (the size of an encrypted field or a blind-index input).

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::Suite;

/// One measured figure.
#[derive(Debug, Clone)]
pub struct Figure {
    pub suite: Suite,
    /// What was measured, e.g. `SM2-with-SM3 sign`.
    pub what: String,
    /// Operations per second.
    pub ops_per_sec: f64,
    /// MB/s (10^6 bytes) where the operation has a size.
    pub mb_per_sec: Option<f64>,
}

/// Runs `op` repeatedly for about `budget` and returns operations per second.
fn rate(budget: Duration, mut op: impl FnMut()) -> f64 {
    // Warm up, then time batches until the budget is spent.
    for _ in 0..10 {
        op();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..16 {
            op();
        }
        n += 16;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Measures every primitive of both suites, spending about `budget` on each figure.
pub fn run(budget: Duration) -> Vec<Figure> {
    let mut out = Vec::new();
    let big = vec![0x5au8; 4096];
    let small = [0xa5u8; 64];
    for suite in Suite::ALL {
        let mut push = |what: String, ops: f64, bytes: Option<usize>| {
            out.push(Figure {
                suite,
                what,
                ops_per_sec: ops,
                mb_per_sec: bytes.map(|b| ops * b as f64 / 1e6),
            })
        };
        let sk = suite.generate_signing_key();
        let vk = sk.verifying_key();
        let msg = b"xiezhi transfer envelope canonical bytes, about a hundred bytes long ......";
        let sig = sk.sign(msg);
        let sig_name = suite.signature_name();
        push(
            format!("{sig_name} sign"),
            rate(budget, || {
                black_box(sk.sign(black_box(msg)));
            }),
            None,
        );
        push(
            format!("{sig_name} verify"),
            rate(budget, || {
                black_box(vk.verify(black_box(msg), &sig).is_ok());
            }),
            None,
        );

        let key = suite.generate_aead_key();
        let aead = suite.aead_name();
        let sealed_big = key.seal(b"aad", &big);
        push(
            format!("{aead} seal 4 KiB"),
            rate(budget, || {
                black_box(key.seal(b"aad", black_box(&big)));
            }),
            Some(big.len()),
        );
        push(
            format!("{aead} open 4 KiB"),
            rate(budget, || {
                black_box(key.open(b"aad", black_box(&sealed_big)).is_ok());
            }),
            Some(big.len()),
        );
        let sealed_small = key.seal(b"person|id_number|case-1|7", &small);
        push(
            format!("{aead} seal 64 B field"),
            rate(budget, || {
                black_box(key.seal(b"person|id_number|case-1|7", black_box(&small)));
            }),
            Some(small.len()),
        );
        push(
            format!("{aead} open 64 B field"),
            rate(budget, || {
                black_box(
                    key.open(b"person|id_number|case-1|7", black_box(&sealed_small))
                        .is_ok(),
                );
            }),
            Some(small.len()),
        );

        push(
            format!("{} 4 KiB", suite.hash_name()),
            rate(budget, || {
                black_box(suite.hash(black_box(&big)));
            }),
            Some(big.len()),
        );
        push(
            format!("{} 18 B (blind index)", suite.mac_name()),
            rate(budget, || {
                black_box(suite.mac(b"index key 32 bytes long........", b"52010219800101001X"));
            }),
            None,
        );
    }
    out
}
