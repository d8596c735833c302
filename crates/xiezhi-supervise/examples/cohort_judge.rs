//! Times the similar-case cohort rule (类案偏离) alone over provinces of growing size: the
//! cohorts are a fixed set of charges, so each grows with the province, and a share of each
//! cohort's terms lie far outside it, as judgments a supervisor should read do.
//!
//! `cargo run --release -p xiezhi-supervise --example cohort_judge -- [SENTENCES…]`

use std::time::Instant;

use chrono::NaiveDate;
use xiezhi_supervise::rules::similar_cases::Peers;
use xiezhi_supervise::{CaseFacts, SentenceFacts};

/// Charges of the cohorts (charges.tsv codes), all in the basic band with amounts of one order
/// of magnitude, so one cohort per charge.
const CHARGES: &[&str] = &["C264.1", "C266.1", "C234.1", "C133.1", "C347.1", "C293.1"];

/// One judgment in this many has a term ten times its cohort's usual range.
const OUTLIER_EVERY: usize = 100;

fn province(sentences: usize) -> Peers {
    let day = NaiveDate::from_ymd_opt(2024, 3, 1).expect("a date");
    let mut peers = Peers::default();
    // A fixed linear congruential sequence: the same province every run.
    let mut x: u64 = 42;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    for i in 0..sentences {
        let mut facts = CaseFacts::new(&format!("C{i:08}"));
        facts.amount_fen = Some((1_000 + (next() % 9_000) as i64) * 100);
        let usual = 6 + (next() % 30) as i64;
        facts.sentences.push(SentenceFacts {
            charges: vec![CHARGES[i % CHARGES.len()].to_string()],
            principal_penalty: Some("fixed_term".into()),
            term_months: Some(if i % OUTLIER_EVERY == 0 {
                usual * 10
            } else {
                usual
            }),
            judgment_date: Some(day),
            ..SentenceFacts::default()
        });
        peers.add(&facts);
    }
    peers
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a number of sentences"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000, 1_000_000]
    } else {
        sizes
    };
    println!("sentences\tcohorts\tfindings\tjudge_s\tus_per_sentence");
    for n in sizes {
        let peers = province(n);
        let started = Instant::now();
        let items = peers.judge();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{n}\t{}\t{}\t{secs:.3}\t{:.2}",
            CHARGES.len(),
            items.len(),
            secs * 1e6 / n as f64
        );
    }
}
