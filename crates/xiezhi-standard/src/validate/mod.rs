//! Validators of the standard. Each returns the normalised value or every problem it found.

pub mod case_no;
pub mod credit_code;
pub mod dates;
pub mod geo;
pub mod id_number;
pub mod record;

pub use record::{validate_record, ValidationContext};
