//! Mapping files come from data stewards: compiling any text must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = xiezhi_ingest::compile("fuzz.toml", s);
    }
});
