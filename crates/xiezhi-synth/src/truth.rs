//! Ground truth: one [`TruthRecord`] per data record of the four department exports, in file
//! order (police, procuratorate, court, justice), naming the true case and person behind the
//! record, the defect injected into it and what an ingest should do with it.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::SynthError;

/// Name of the ground-truth file in the output directory.
pub const FILE: &str = "ground-truth.jsonl";

/// The department whose export holds the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Police,
    Procuratorate,
    Court,
    Justice,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::Police,
        Source::Procuratorate,
        Source::Court,
        Source::Justice,
    ];

    /// `police`, `procuratorate`, `court`, `justice`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Police => "police",
            Source::Procuratorate => "procuratorate",
            Source::Court => "court",
            Source::Justice => "justice",
        }
    }

    /// The export's path relative to the output directory.
    pub fn file(self) -> &'static str {
        match self {
            Source::Police => "police/cases.csv",
            Source::Procuratorate => "procuratorate/cases.jsonl",
            Source::Court => "court/judgments.xml",
            Source::Justice => "justice/corrections.csv",
        }
    }
}

/// A defect injected into a record. See the crate documentation for each kind per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Defect {
    BadChecksum,
    ImpossibleDate,
    DatesOutOfOrder,
    UnknownCode,
    MissingField,
    Mojibake,
    LowercaseX,
    #[serde(rename = "legacy_id15")]
    LegacyId15,
    NameWhitespace,
    MissingId,
    DuplicateRow,
}

impl Defect {
    pub const ALL: [Defect; 11] = [
        Defect::BadChecksum,
        Defect::ImpossibleDate,
        Defect::DatesOutOfOrder,
        Defect::UnknownCode,
        Defect::MissingField,
        Defect::Mojibake,
        Defect::LowercaseX,
        Defect::LegacyId15,
        Defect::NameWhitespace,
        Defect::MissingId,
        Defect::DuplicateRow,
    ];

    /// The outcome an ingest should reach for a record with this defect.
    pub fn expect(self) -> Expect {
        match self {
            Defect::BadChecksum
            | Defect::ImpossibleDate
            | Defect::DatesOutOfOrder
            | Defect::UnknownCode
            | Defect::MissingField
            | Defect::Mojibake => Expect::Quarantined,
            Defect::LowercaseX | Defect::LegacyId15 | Defect::NameWhitespace => Expect::Repaired,
            Defect::MissingId | Defect::DuplicateRow => Expect::Accepted,
        }
    }

    /// The snake-case name used in the ground truth (`bad_checksum`).
    pub fn name(self) -> &'static str {
        match self {
            Defect::BadChecksum => "bad_checksum",
            Defect::ImpossibleDate => "impossible_date",
            Defect::DatesOutOfOrder => "dates_out_of_order",
            Defect::UnknownCode => "unknown_code",
            Defect::MissingField => "missing_field",
            Defect::Mojibake => "mojibake",
            Defect::LowercaseX => "lowercase_x",
            Defect::LegacyId15 => "legacy_id15",
            Defect::NameWhitespace => "name_whitespace",
            Defect::MissingId => "missing_id",
            Defect::DuplicateRow => "duplicate_row",
        }
    }
}

/// What an ingest should do with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Stored as is (clean records, `missing_id`, and `duplicate_row` once deduplicated).
    Accepted,
    /// Not stored; held with a reason.
    Quarantined,
    /// Stored after a normalising repair.
    Repaired,
}

impl Expect {
    pub fn name(self) -> &'static str {
        match self {
            Expect::Accepted => "accepted",
            Expect::Quarantined => "quarantined",
            Expect::Repaired => "repaired",
        }
    }
}

/// One line of `ground-truth.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthRecord {
    pub source: Source,
    /// The export's path relative to the output directory (`police/cases.csv`).
    pub file: String,
    /// 1-based data-record number within the file: CSV data row (header excluded), JSONL line,
    /// or index of the `<判决>` element.
    pub record: usize,
    /// True case id, `T000123`.
    pub case: String,
    /// True person id, `P000456`.
    pub person: String,
    pub defect: Option<Defect>,
    pub expect: Expect,
}

/// `T000123` for case index 122.
pub fn case_id(index: usize) -> String {
    format!("T{:06}", index + 1)
}

/// `P000456` for person index 455.
pub fn person_id(index: usize) -> String {
    format!("P{:06}", index + 1)
}

/// Reads `ground-truth.jsonl` from an output directory.
pub fn read(out_dir: &Path) -> Result<Vec<TruthRecord>, SynthError> {
    let path = out_dir.join(FILE);
    let file = File::open(&path).map_err(|source| SynthError::Read {
        path: path.clone(),
        source,
    })?;
    let mut records = Vec::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| SynthError::Read {
            path: path.clone(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(&line).map_err(|source| SynthError::Parse {
            path: path.clone(),
            line: n + 1,
            source,
        })?;
        records.push(record);
    }
    Ok(records)
}

/// Appends one ground-truth line to `out` (all values are ASCII identifiers, no escaping).
pub(crate) fn write_line(
    out: &mut String,
    source: Source,
    record: usize,
    case: usize,
    person: usize,
    defect: Option<Defect>,
) {
    use std::fmt::Write as _;
    let expect = defect.map_or(Expect::Accepted, Defect::expect);
    let _ = write!(
        out,
        "{{\"source\":\"{}\",\"file\":\"{}\",\"record\":{},\"case\":\"T{:06}\",\"person\":\"P{:06}\",\"defect\":",
        source.name(),
        source.file(),
        record,
        case + 1,
        person + 1,
    );
    match defect {
        Some(d) => {
            let _ = write!(out, "\"{}\"", d.name());
        }
        None => out.push_str("null"),
    }
    let _ = writeln!(out, ",\"expect\":\"{}\"}}", expect.name());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_written_lines_match_serde() {
        for d in Defect::ALL.into_iter().map(Some).chain([None]) {
            let mut s = String::new();
            write_line(&mut s, Source::Court, 7, 122, 455, d);
            let r: TruthRecord = serde_json::from_str(s.trim_end()).unwrap();
            assert_eq!(
                r,
                TruthRecord {
                    source: Source::Court,
                    file: "court/judgments.xml".into(),
                    record: 7,
                    case: case_id(122),
                    person: person_id(455),
                    defect: d,
                    expect: d.map_or(Expect::Accepted, Defect::expect),
                }
            );
            assert_eq!(serde_json::to_string(&r).unwrap(), s.trim_end());
        }
        assert_eq!(case_id(122), "T000123");
    }

    #[test]
    fn read_reports_the_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "{\"source\":\"police\"}\n").unwrap();
        let e = read(dir.path()).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        assert!(read(&dir.path().join("missing")).is_err());
    }
}
