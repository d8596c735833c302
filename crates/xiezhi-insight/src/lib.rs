//! Insight: statistics, early warning, similar-case search, extraction from judgment text, and
//! charge/article/term prediction. Everything runs on a CPU, offline, and every computed
//! judgement carries its explanation (model or rule, inputs, legal basis).

pub mod batch;
pub mod cail;
pub mod corpus;
pub mod correction_risk;
pub mod data;
pub mod elements;
pub mod eval;
pub mod extract;
pub mod hotspots;
pub mod linear;
pub mod predict;
pub mod search;
pub mod stats;
pub mod statute;
pub mod tagger;
pub mod text;
pub mod warning;

/// Errors of the insight operations.
#[derive(Debug, thiserror::Error)]
pub enum InsightError {
    #[error("cannot read or write `{0}`: {1}")]
    Io(String, std::io::Error),
    #[error("model: {0}")]
    Model(String),
    #[error("`{path}` line {line}: {reason}")]
    Data {
        path: String,
        line: usize,
        reason: String,
    },
}
