//! Loading the shared data sets and splitting them reproducibly.

use std::path::{Path, PathBuf};

use crate::linear::SplitMix;
use crate::InsightError;

/// The shared data directory: `$XIEZHI_SHARED_DATA`, else `../shared/data` beside the
/// repository, else `/work/shared/data`.
pub fn shared_data_dir() -> PathBuf {
    if let Ok(d) = std::env::var("XIEZHI_SHARED_DATA") {
        return PathBuf::from(d);
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if beside.exists() {
        return beside;
    }
    PathBuf::from("/work/shared/data")
}

/// The reference directory beside the data directory (`shared/reference`).
pub fn reference_dir(data: &Path) -> PathBuf {
    data.join("../reference")
}

/// Reads a JSON-lines file, parsing each line with `parse`; a bad line is an error naming
/// the file and line.
pub fn read_jsonl<T>(
    path: &Path,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, InsightError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InsightError::Io(path.display().to_string(), e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse(line).map_err(|reason| InsightError::Data {
            path: path.display().to_string(),
            line: i + 1,
            reason,
        })?);
    }
    Ok(out)
}

/// Splits items into (train, test) with a seeded shuffle; `test_share` of them are held out.
pub fn split<T: Clone>(items: &[T], test_share: f64, seed: u64) -> (Vec<T>, Vec<T>) {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    SplitMix(seed).shuffle(&mut idx);
    let n_test = (items.len() as f64 * test_share).round() as usize;
    let test = idx[..n_test].iter().map(|&i| items[i].clone()).collect();
    let mut train_idx = idx[n_test..].to_vec();
    train_idx.sort_unstable();
    let train = train_idx.iter().map(|&i| items[i].clone()).collect();
    (train, test)
}
