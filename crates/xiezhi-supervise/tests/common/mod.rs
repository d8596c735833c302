//! A synthetic province generated and ingested into an in-memory store, for the engine's
//! integration tests.

use std::path::Path;

use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_store::SqliteStore;

pub fn province(dir: &Path, seed: u64, cases: usize, dirty_rate: f64) -> SqliteStore {
    xiezhi_synth::generate(
        &xiezhi_synth::SynthConfig {
            seed,
            cases,
            dirty_rate,
            ..Default::default()
        },
        dir,
    )
    .unwrap();
    let mut store = SqliteStore::in_memory().unwrap();
    ingest_export(
        &mut store,
        &shipped_plans().unwrap(),
        dir,
        &IngestOptions::default(),
        &mut |_, _, _| {},
    )
    .unwrap();
    store
}
