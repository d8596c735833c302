//! Department files are outside input: reading and checking any bytes with any shipped mapping
//! must not panic, and every item read must carry a record number.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use xiezhi_ingest::export::shipped_plans;
use xiezhi_ingest::read::{read_bytes, Item};
use xiezhi_ingest::Plan;

fn plans() -> &'static [Plan] {
    static PLANS: OnceLock<Vec<Plan>> = OnceLock::new();
    PLANS.get_or_init(|| shipped_plans().expect("shipped mappings compile"))
}

fuzz_target!(|data: &[u8]| {
    let Some((selector, body)) = data.split_first() else {
        return;
    };
    let plan = &plans()[*selector as usize % plans().len()];
    if let Ok(items) = read_bytes(plan, body, "fuzz") {
        for item in &items {
            assert!(item.record_no() >= 1);
            if let Item::Record(raw) = item {
                let _ = xiezhi_ingest::pipeline::check(plan, raw, &Default::default());
            }
        }
    }
});
