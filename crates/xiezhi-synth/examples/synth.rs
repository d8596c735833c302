//! Generates a synthetic province: `synth SEED CASES OUT_DIR [DIRTY_RATE]`.
//!
//! `cargo run --release -p xiezhi-synth --example synth -- 42 100000 /tmp/synth100k`

use std::path::PathBuf;
use std::process::ExitCode;

use xiezhi_synth::{generate, SynthConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: synth SEED CASES OUT_DIR [DIRTY_RATE]";
    let (Some(seed), Some(cases), Some(out)) = (
        args.first().and_then(|s| s.parse().ok()),
        args.get(1).and_then(|s| s.parse().ok()),
        args.get(2).map(PathBuf::from),
    ) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let mut config = SynthConfig {
        seed,
        cases,
        ..SynthConfig::default()
    };
    if let Some(rate) = args.get(3) {
        match rate.parse() {
            Ok(r) => config.dirty_rate = r,
            Err(_) => {
                eprintln!("{usage}");
                return ExitCode::from(2);
            }
        }
    }
    match generate(&config, &out) {
        Ok(summary) => {
            println!(
                "{} cases, {} persons, {} dirty records",
                summary.cases, summary.persons, summary.dirty_records
            );
            for f in &summary.files {
                println!("{:<28} {:>8}  {}", f.path, f.records, f.sha256);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
