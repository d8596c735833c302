//! `organizations.csv`: the platform's organ master data (never dirty).

use std::path::Path;

use super::Output;
use crate::province::Province;
use crate::util::csv_line;
use crate::{FileSummary, SynthError};

pub(crate) const FILE: &str = "organizations.csv";
pub(crate) const HEADER: [&str; 7] = [
    "org_code",
    "name",
    "kind",
    "division",
    "parent_code",
    "credit_code",
    "court_code",
];

pub(crate) fn write(province: &Province, out_dir: &Path) -> Result<FileSummary, SynthError> {
    let mut out = Output::create(out_dir, FILE, "organizations")?;
    let mut line = String::with_capacity(256);
    csv_line(&HEADER, "\n", &mut line);
    out.write(line.as_bytes())?;
    for o in &province.organs {
        let parent = o
            .parent
            .map_or("", |i| province.organs[i].org_code.as_str());
        line.clear();
        csv_line(
            &[
                o.org_code.as_str(),
                &o.name,
                o.kind.code(),
                &o.division,
                parent,
                &o.credit_code,
                &o.court_code,
            ],
            "\n",
            &mut line,
        );
        out.write(line.as_bytes())?;
        out.records += 1;
    }
    out.finish()
}
