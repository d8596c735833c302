//! Writers of the output files. Every file goes through an [`Output`], which buffers, counts
//! records and hashes the bytes as they are written.

pub(crate) mod acts;
pub(crate) mod court;
pub(crate) mod justice;
pub(crate) mod justice_admin;
pub(crate) mod organs;
pub(crate) mod police;
pub(crate) mod procuratorate;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::cases::{Case, World};
use crate::truth::{self, Defect, Source};
use crate::util::csv_line;
use crate::{FileSummary, SynthError};

pub(crate) struct Output {
    rel: &'static str,
    source: &'static str,
    path: PathBuf,
    writer: BufWriter<File>,
    hasher: Sha256,
    pub records: usize,
}

impl Output {
    pub(crate) fn create(
        out_dir: &Path,
        rel: &'static str,
        source: &'static str,
    ) -> Result<Output, SynthError> {
        let path = out_dir.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| SynthError::write(dir, e))?;
        }
        let file = File::create(&path).map_err(|e| SynthError::write(&path, e))?;
        Ok(Output {
            rel,
            source,
            path,
            writer: BufWriter::with_capacity(1 << 16, file),
            hasher: Sha256::new(),
            records: 0,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<(), SynthError> {
        self.hasher.update(bytes);
        self.writer
            .write_all(bytes)
            .map_err(|e| SynthError::write(&self.path, e))
    }

    pub(crate) fn finish(mut self) -> Result<FileSummary, SynthError> {
        self.writer
            .flush()
            .map_err(|e| SynthError::write(&self.path, e))?;
        let digest = self.hasher.finalize();
        let mut sha256 = String::with_capacity(64);
        for b in digest {
            use std::fmt::Write as _;
            let _ = write!(sha256, "{b:02x}");
        }
        Ok(FileSummary {
            path: self.rel.to_string(),
            source: self.source.to_string(),
            records: self.records,
            sha256,
        })
    }
}

/// The ground-truth file, written alongside the exports in file order.
pub(crate) struct Truth {
    pub out: Output,
    line: String,
    pub dirty: usize,
}

impl Truth {
    pub(crate) fn create(out_dir: &Path) -> Result<Truth, SynthError> {
        Ok(Truth {
            out: Output::create(out_dir, truth::FILE, "truth")?,
            line: String::with_capacity(160),
            dirty: 0,
        })
    }

    pub(crate) fn record(
        &mut self,
        source: Source,
        record: usize,
        case: usize,
        person: usize,
        defect: Option<Defect>,
    ) -> Result<(), SynthError> {
        self.line.clear();
        truth::write_line(&mut self.line, source, record, case, person, defect);
        self.dirty += usize::from(defect.is_some());
        self.out.records += 1;
        let line = std::mem::take(&mut self.line);
        let r = self.out.write(line.as_bytes());
        self.line = line;
        r
    }
}

/// Writes one rendered record, and its copy when the defect is `duplicate_row`, with the
/// ground truth of both.
pub(crate) fn emit(
    out: &mut Output,
    truth: &mut Truth,
    source: Source,
    bytes: &[u8],
    case: usize,
    person: usize,
    defect: Option<Defect>,
) -> Result<(), SynthError> {
    let copies: &[Option<Defect>] = if defect == Some(Defect::DuplicateRow) {
        &[None, Some(Defect::DuplicateRow)]
    } else {
        &[defect]
    };
    for d in copies {
        out.write(bytes)?;
        out.records += 1;
        truth.record(source, out.records, case, person, *d)?;
    }
    Ok(())
}

/// The case name as police and procuratorate write it: `张某某盗窃案`, `张某某等2人盗窃案`.
pub(crate) fn case_name(world: &World, case: &Case) -> String {
    let first = &world.persons[case.defendants[0].person];
    let mut s = first.masked();
    if case.defendants.len() > 1 {
        use std::fmt::Write as _;
        let _ = write!(s, "等{}人", case.defendants.len());
    }
    s.push_str(world.charges[case.charges[0]].short);
    s.push('案');
    s
}

/// Writes `supervision-truth.jsonl`: one line per case and rule with a planted mark, in case
/// order; a violation outranks a near-miss of the same rule in the same case.
pub(crate) fn write_supervision_truth(
    world: &World,
    admin: &crate::justice_admin::Admin,
    out_dir: &Path,
) -> Result<FileSummary, SynthError> {
    use crate::violations::{Mark, SupervisionTruth, FILE};
    let mut out = Output::create(out_dir, FILE, "supervision")?;
    let mut write = |row: SupervisionTruth| -> Result<(), SynthError> {
        let mut line = serde_json::to_string(&row)
            .map_err(|e| SynthError::write(out.path(), std::io::Error::other(e)))?;
        line.push('\n');
        out.write(line.as_bytes())?;
        out.records += 1;
        Ok(())
    };
    // One mark per rule: a violation outranks a near-miss.
    let dedup = |mut marks: Vec<(&'static str, Mark)>| {
        marks.sort_unstable();
        marks.dedup_by_key(|(rule, _)| *rule);
        marks
    };
    for (i, case) in world.cases.iter().enumerate() {
        for (rule, mark) in dedup(case.marks.clone()) {
            write(SupervisionTruth {
                case: truth::case_id(i),
                police_case_no: case.police_no.clone(),
                petition_no: None,
                rule: rule.to_string(),
                mark,
            })?;
        }
    }
    // Petition marks, in petition order: a petition is judged on its own, case or not.
    for p in &admin.petitions {
        for (rule, mark) in dedup(p.marks.clone()) {
            write(SupervisionTruth {
                case: String::new(),
                police_case_no: String::new(),
                petition_no: Some(p.no.clone()),
                rule: rule.to_string(),
                mark,
            })?;
        }
    }
    out.finish()
}

/// Writes `case-numbers.tsv`: every true case id and its police case number, so that measures
/// over stored cases can name the true case of each.
pub(crate) fn write_case_numbers(world: &World, out_dir: &Path) -> Result<FileSummary, SynthError> {
    let mut out = Output::create(out_dir, crate::violations::CASE_NUMBERS, "supervision")?;
    let mut line = String::with_capacity(48);
    for (i, case) in world.cases.iter().enumerate() {
        line.clear();
        line.push_str(&truth::case_id(i));
        line.push('\t');
        line.push_str(&case.police_no);
        line.push('\n');
        out.write(line.as_bytes())?;
        out.records += 1;
    }
    out.finish()
}

/// Writes `surge-truth.jsonl`: one line per planted surge, with the filing weeks and cases.
pub(crate) fn write_surge_truth(world: &World, out_dir: &Path) -> Result<FileSummary, SynthError> {
    use crate::surges::{week_of, week_start, SurgeTruth, SurgeWeek, FILE};
    let mut out = Output::create(out_dir, FILE, "surges")?;
    for (si, plan) in world.surges.iter().enumerate() {
        let county = &world.province.counties[plan.county];
        let charge = &world.charges[plan.charge];
        let mut weeks: Vec<SurgeWeek> = Vec::new();
        let (mut cases, mut numbers) = (Vec::new(), Vec::new());
        for (i, case) in world.cases.iter().enumerate() {
            if case.surge != Some(si) {
                continue;
            }
            cases.push(truth::case_id(i));
            numbers.push(case.police_no.clone());
            let w = week_of(case.filed);
            match weeks.iter_mut().find(|x| x.week == w) {
                Some(x) => x.planted += 1,
                None => weeks.push(SurgeWeek {
                    week_start: week_start(w),
                    week: w,
                    planted: 1,
                }),
            }
        }
        weeks.sort_by_key(|w| w.week);
        let row = SurgeTruth {
            surge: si + 1,
            division: county.code.to_string(),
            division_name: county.name.to_string(),
            charge: charge.entry.code.clone(),
            charge_name: charge.name.to_string(),
            weeks,
            cases,
            police_case_nos: numbers,
        };
        let mut line = serde_json::to_string(&row)
            .map_err(|e| SynthError::write(out.path(), std::io::Error::other(e)))?;
        line.push('\n');
        out.write(line.as_bytes())?;
        out.records += 1;
    }
    out.finish()
}

/// Writes `co-offending-groups.jsonl`: one line per planted co-offending group.
pub(crate) fn write_group_truth(
    groups: &[crate::groups::Group],
    out_dir: &Path,
) -> Result<FileSummary, SynthError> {
    let mut out = Output::create(out_dir, crate::groups::FILE, "groups")?;
    for row in crate::groups::truth(groups) {
        let mut line = serde_json::to_string(&row)
            .map_err(|e| SynthError::write(out.path(), std::io::Error::other(e)))?;
        line.push('\n');
        out.write(line.as_bytes())?;
        out.records += 1;
    }
    out.finish()
}

/// A UTF-8 CSV export with a header row, LF line ends.
pub(crate) struct Csv {
    pub(crate) out: Output,
    line: String,
}

impl Csv {
    pub(crate) fn create(
        out_dir: &Path,
        source: &'static str,
        rel: &'static str,
        header: &[&str],
    ) -> Result<Csv, SynthError> {
        let mut out = Output::create(out_dir, rel, source)?;
        let mut line = String::new();
        csv_line(header, "\n", &mut line);
        out.write(line.as_bytes())?;
        Ok(Csv { out, line })
    }

    /// Writes a row; returns its 1-based record number.
    pub(crate) fn row(&mut self, fields: &[String]) -> Result<usize, SynthError> {
        self.line.clear();
        csv_line(fields, "\n", &mut self.line);
        let line = std::mem::take(&mut self.line);
        self.out.write(line.as_bytes())?;
        self.line = line;
        self.out.records += 1;
        Ok(self.out.records)
    }
}
