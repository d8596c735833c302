//! Validators of identifiers never panic, and what they accept re-validates to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiezhi_standard::validate::{case_no, credit_code, id_number};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = id_number::parse(s) {
        let again = id_number::parse(&id.number).expect("a normalised ID number validates");
        assert_eq!(again.number, id.number);
    }
    let _ = credit_code::check(s);
    if let Ok(c) = case_no::parse_court_case_no(s) {
        assert!(c.sequence > 0);
    }
    let _ = case_no::parse_procuratorate_doc_no(s);
});
