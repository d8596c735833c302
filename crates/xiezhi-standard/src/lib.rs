//! The Xiezhi unified data standard, v1.
//!
//! Entities and their classified fields ([`schema`]), typed values and records ([`value`]),
//! code tables built from the statutes and national standards ([`codes`]), and validators
//! that return the normalised record together with every finding ([`validate`]).
//!
//! Architecture invariant: this crate performs no I/O and imports no other Xiezhi crate; code
//! tables are compiled in. Everything that stores, reads or moves data builds on it.
//!
//! ```
//! use xiezhi_standard::{validate::id_number, codes::{table, CodeTable}};
//! let id = id_number::parse("11010519491231002x").unwrap();
//! assert_eq!(id.number, "11010519491231002X");
//! assert_eq!(table(CodeTable::Charge).get("C264.1").unwrap().name, "盗窃罪");
//! ```

pub mod calendar;
pub mod codes;
pub mod issue;
pub mod schema;
pub mod validate;
pub mod value;

pub use issue::{Issue, Severity};
pub use schema::{Entity, FieldDef, FieldType, Level};
pub use value::{Record, Value};
