//! Ingest: department files in their own formats become standard records.
//!
//! [`mapping`] compiles a declarative per-source mapping (TOML) into a checked plan;
//! [`read`] decodes CSV (GBK or UTF-8), JSON lines and XML into raw records; [`convert`] turns
//! raw text into typed values; the standard validates them; [`resolve`] binds persons and cases
//! seen by several departments to one platform entity; [`pipeline`] stores accepted records with
//! lineage and quarantines the rest with every reason; [`evaluate`] measures outcomes against a
//! synthetic province's ground truth.
//!
//! Architecture invariant: nothing read is dropped. For every file, records read = accepted +
//! quarantined, and a whole-file problem (empty, wrong encoding, missing column) stops the file
//! before anything is written.

pub mod convert;
pub mod evaluate;
pub mod export;
pub mod mapping;
pub mod pipeline;
pub mod read;
pub mod resolve;

pub use mapping::{compile, Plan};
pub use pipeline::{FileReport, IngestError, IngestOptions, Ingestor};
