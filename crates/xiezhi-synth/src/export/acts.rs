//! The departments' second exports ([`crate::procedure`]): the police's procedural acts and
//! dossier catalogue, the court's appeals and procedure choices, and the prisons' commutation
//! and parole register. UTF-8 without BOM, LF, header row; times `YYYYMMDDHHMMSS` (police) or
//! `YYYY-MM-DD HH:MM:SS`, dates `YYYYMMDD` (police) or `YYYY-MM-DD`. Act and document names are
//! the standard's Chinese names (`event-kinds.tsv`, `document-kinds.tsv`, `evidence-kinds.tsv`).
//! Never dirty: they test the rules, not the quarantine.

use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use xiezhi_standard::codes::{table, CodeTable};

use super::Csv;
use crate::cases::{Procedure, World};
use crate::procedure::CaseActs;
use crate::{FileSummary, SynthError};

pub(crate) const POLICE_ACTS: &str = "police/acts.csv";
pub(crate) const POLICE_DOSSIER: &str = "police/dossier.csv";
pub(crate) const COURT_ACTS: &str = "court/acts.csv";
pub(crate) const COMMUTATIONS: &str = "justice/commutations.csv";

fn name(t: CodeTable, code: &str) -> String {
    table(t)
        .get(code)
        .map_or_else(|| code.to_string(), |e| e.name.clone())
}

fn compact_time(t: NaiveDateTime) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

fn compact_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

fn iso_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn iso_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Writes the four files; returns their summaries.
pub(crate) fn write(
    world: &World,
    acts: &[CaseActs],
    out_dir: &Path,
) -> Result<Vec<FileSummary>, SynthError> {
    let organ = |i: usize| world.province.organs[i].org_code.clone();
    let mut police = Csv::create(
        out_dir,
        "police_acts",
        POLICE_ACTS,
        &["AJBH", "JDMC", "FSSJ", "BLDW", "WSWH"],
    )?;
    let mut dossier = Csv::create(
        out_dir,
        "police_dossier",
        POLICE_DOSSIER,
        &[
            "AJBH", "WSZL", "WSWH", "ZZDW", "ZZRQ", "ZJZL", "ZJMC", "SJDW", "SJRQ",
        ],
    )?;
    let mut court = Csv::create(
        out_dir,
        "court_acts",
        COURT_ACTS,
        &["案号", "节点", "时间", "办理机构", "文书号"],
    )?;
    let mut changes = Csv::create(
        out_dir,
        "commutations",
        COMMUTATIONS,
        &["判决案号", "事项", "日期", "办理机关", "文书号"],
    )?;
    let mut order: Vec<usize> = (0..world.cases.len()).collect();
    order.sort_by_key(|&i| (world.cases[i].filed, i));
    for &ci in &order {
        let c = &world.cases[ci];
        let a = &acts[ci];
        let police_organ = organ(world.province.counties[c.county].police);
        for act in &a.police {
            police.row(&[
                c.police_no.clone(),
                name(CodeTable::EventKind, act.kind),
                compact_time(act.at),
                organ(act.organ),
                act.document_no.clone(),
            ])?;
        }
        for d in &a.documents {
            dossier.row(&[
                c.police_no.clone(),
                name(CodeTable::DocumentKind, d.kind),
                d.number.clone(),
                police_organ.clone(),
                compact_date(d.issued),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ])?;
        }
        for e in &a.evidence {
            dossier.row(&[
                c.police_no.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                name(CodeTable::EvidenceKind, e.kind),
                e.name.to_string(),
                police_organ.clone(),
                compact_date(e.collected),
            ])?;
        }
        let Some(stage) = &c.court else { continue };
        let first = organ(world.province.counties[c.county].court);
        let mut court_row = |kind: &str, day: NaiveDate, org: String| {
            court.row(&[
                c.court_no.clone(),
                name(CodeTable::EventKind, kind),
                iso_time(day.and_hms_opt(9, 0, 0).unwrap_or_default()),
                org,
                String::new(),
            ])
        };
        match stage.procedure {
            Procedure::FastTrack => {
                court_row("fast_track_procedure", stage.accepted, first.clone())?
            }
            Procedure::Summary => court_row("summary_procedure", stage.accepted, first.clone())?,
            Procedure::Ordinary => 0,
        };
        if let Some(ap) = &stage.appeal {
            court_row("appeal", ap.filed, first.clone())?;
            court_row("court_accepted", ap.accepted, organ(ap.court))?;
            court_row("verdict_announced", ap.verdict, organ(ap.court))?;
        }
        for act in &a.sentence_changes {
            changes.row(&[
                c.court_no.clone(),
                name(CodeTable::EventKind, act.kind),
                iso_date(act.at.date()),
                organ(act.organ),
                act.document_no.clone(),
            ])?;
        }
    }
    Ok(vec![
        police.out.finish()?,
        dossier.out.finish()?,
        court.out.finish()?,
        changes.out.finish()?,
    ])
}
