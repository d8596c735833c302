//! The justice-administration exports: the community-corrections system (subjects, acts,
//! location fixes, fences), the petition system, people's mediation and legal aid, plus their
//! truth files (planted bad records, mediation hot spots). UTF-8 without BOM, LF, header row;
//! dates `YYYY-MM-DD`, times `YYYY-MM-DD HH:MM:SS`, coordinates in decimal degrees.

use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::{Csv, Output};
use crate::cases::World;
use crate::justice_admin::{Admin, BadFix, Geo, Subject};
use crate::util::add_days;
use crate::{FileSummary, SynthError};

pub(crate) const SUBJECTS: &str = "justice/correction-subjects.csv";
pub(crate) const ACTS: &str = "justice/correction-events.csv";
pub(crate) const FIXES: &str = "justice/location-fixes.csv";
pub(crate) const FENCES: &str = "justice/fences.csv";
pub(crate) const PETITIONS: &str = "petitions/petitions.jsonl";
pub(crate) const MEDIATION: &str = "justice/mediation.csv";
pub(crate) const LEGAL_AID: &str = "justice/legal-aid.csv";
/// Planted bad records of these files, and the rule each must be quarantined by.
pub const BAD_RECORDS: &str = "justice-admin-bad-records.jsonl";
/// Planted hot spots: mediation (by dispute kind) and petitions (`dispute_kind` = `petition`).
pub const HOT_SPOTS: &str = "hot-spots.jsonl";
/// Per correction subject: whether he misbehaved during the correction (the risk label).
pub const RISK_TRUTH: &str = "correction-risk-truth.jsonl";

/// The risk label of one correction subject, keyed as the platform keys him: the court case
/// number and the ID number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RiskTruth {
    pub court_case_no: String,
    pub id_number: String,
    /// A warning, a revocation proposal, a leave overrun, lost contact or a fence breach.
    pub violated: bool,
}

/// One planted bad record: the file, its 1-based record number, the rule that must refuse it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BadRecord {
    pub file: String,
    pub record: usize,
    pub rule: String,
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn ymd_hms(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn degrees(micro: i64) -> String {
    let sign = if micro < 0 { "-" } else { "" };
    let m = micro.unsigned_abs();
    format!("{sign}{}.{:06}", m / 1_000_000, m % 1_000_000)
}

fn polygon(corners: &[Geo]) -> String {
    corners
        .iter()
        .map(|g| format!("{},{}", degrees(g.lon), degrees(g.lat)))
        .collect::<Vec<_>>()
        .join(";")
}

fn code_name(table: xiezhi_standard::codes::CodeTable, code: &str) -> String {
    xiezhi_standard::codes::table(table)
        .get(code)
        .map_or_else(|| code.to_string(), |e| e.name.clone())
}

fn who(world: &World, s: &Subject) -> [String; 3] {
    let p = &world.persons[s.person];
    [
        p.name.clone(),
        p.id_number.clone(),
        world.cases[s.case].court_no.clone(),
    ]
}

/// Writes every justice-administration file; returns their summaries.
pub(crate) fn write(
    world: &World,
    admin: &Admin,
    out_dir: &Path,
) -> Result<Vec<FileSummary>, SynthError> {
    use xiezhi_standard::codes::CodeTable as T;
    let mut bad: Vec<BadRecord> = Vec::new();
    let organ = |i: usize| world.province.organs[i].org_code.clone();

    let mut subjects = Csv::create(
        out_dir,
        "justice_admin",
        SUBJECTS,
        &[
            "姓名",
            "公民身份号码",
            "判决案号",
            "矫正类别",
            "决定机关",
            "执行机关",
            "执行地",
            "生效日期",
            "报到日期",
            "矫正起始日期",
            "矫正期满日期",
            "禁止令",
            "就业就学",
        ],
    )?;
    for (i, s) in admin.subjects.iter().enumerate() {
        let [name, id, case_no] = who(world, s);
        let mut row = vec![
            name,
            id,
            case_no,
            code_name(T::CorrectionKind, s.kind),
            organ(s.decision_organ),
            organ(s.executing_organ),
            world.province.counties[world.persons[s.person].residence]
                .code
                .to_string(),
            ymd(s.effective),
            ymd(s.reported),
            ymd(s.effective),
            ymd(s.end),
            s.prohibition.unwrap_or_default().to_string(),
            code_name(T::Employment, s.employment),
        ];
        subjects.row(&row)?;
        if admin.bad_subjects.contains(&i) {
            // A second register row whose report-in precedes the judgment's effect.
            row[8] = ymd(add_days(s.effective, -3));
            let record = subjects.row(&row)?;
            bad.push(BadRecord {
                file: SUBJECTS.into(),
                record,
                rule: "correction.report_before_judgment".into(),
            });
        }
    }

    let mut acts = Csv::create(
        out_dir,
        "justice_admin",
        ACTS,
        &[
            "姓名",
            "公民身份号码",
            "判决案号",
            "矫正事项",
            "发生时间",
            "办理机构",
            "批准截止日期",
            "文书号",
        ],
    )?;
    for s in &admin.subjects {
        let [name, id, case_no] = who(world, s);
        for a in &s.acts {
            acts.row(&[
                name.clone(),
                id.clone(),
                case_no.clone(),
                code_name(T::CorrectionEventKind, a.kind),
                ymd_hms(a.at),
                organ(a.organ),
                a.until.map(ymd).unwrap_or_default(),
                a.document_no.clone(),
            ])?;
        }
    }

    let mut fixes = Csv::create(
        out_dir,
        "justice_admin",
        FIXES,
        &[
            "设备编号",
            "姓名",
            "公民身份号码",
            "判决案号",
            "定位时间",
            "接收时间",
            "经度",
            "纬度",
        ],
    )?;
    for (si, s) in admin.subjects.iter().enumerate() {
        let [name, id, case_no] = who(world, s);
        let row = |at: NaiveDateTime, received: NaiveDateTime, lon: String, lat: String| {
            vec![
                s.device.clone(),
                name.clone(),
                id.clone(),
                case_no.clone(),
                ymd_hms(at),
                ymd_hms(received),
                lon,
                lat,
            ]
        };
        for f in &s.fixes {
            fixes.row(&row(
                f.at,
                f.received,
                degrees(f.at_geo.lon),
                degrees(f.at_geo.lat),
            ))?;
        }
        for (_, kind) in admin.bad_fixes.iter().filter(|(i, _)| *i == si) {
            let Some(f) = s.fixes.last() else { continue };
            let (r, rule) = match kind {
                BadFix::ImpossibleCoordinates => (
                    row(f.at, f.received, degrees(f.at_geo.lon), "95.000000".into()),
                    "geo.invalid",
                ),
                BadFix::TimeTravel => (
                    row(
                        f.received + chrono::TimeDelta::hours(1),
                        f.received,
                        degrees(f.at_geo.lon),
                        degrees(f.at_geo.lat),
                    ),
                    "location.time_travel",
                ),
            };
            let record = fixes.row(&r)?;
            bad.push(BadRecord {
                file: FIXES.into(),
                record,
                rule: rule.into(),
            });
        }
    }

    let mut fences = Csv::create(
        out_dir,
        "justice_admin",
        FENCES,
        &[
            "姓名",
            "公民身份号码",
            "判决案号",
            "围栏规则",
            "区域名称",
            "区域边界",
            "生效日期",
            "失效日期",
            "禁止令文书号",
        ],
    )?;
    for s in &admin.subjects {
        let [name, id, case_no] = who(world, s);
        for f in &s.fences {
            fences.row(&[
                name.clone(),
                id.clone(),
                case_no.clone(),
                code_name(T::FenceRule, f.rule),
                f.name.clone(),
                polygon(&f.corners),
                ymd(f.from),
                ymd(f.until),
                f.document_no.clone(),
            ])?;
        }
    }

    let mut petitions = Output::create(out_dir, PETITIONS, "justice_admin")?;
    for p in &admin.petitions {
        let person = &world.persons[p.person];
        let d = |x: Option<NaiveDate>| x.map(ymd);
        let row = serde_json::json!({
            "xfjbh": p.no,
            "djrq": ymd(p.received),
            "xfxs": code_name(T::PetitionChannel, p.channel),
            "xflb": code_name(T::PetitionKind, p.kind),
            "szd": p.division,
            "nr": p.content,
            "ah": p.case.map(|c| world.cases[c].court_no.clone()),
            "xfr": {"xm": person.name, "zjhm": person.id_number},
            "cbjg": organ(p.organ),
            "slrq": d(p.accepted),
            "ycts": p.extended_days,
            "dfrq": d(p.answered),
            "fcqqrq": d(p.review_requested),
            "fcyjrq": d(p.review_answered),
            "fhqqrq": d(p.recheck_requested),
            "fhyjrq": d(p.recheck_answered),
        });
        let mut line = row.to_string();
        line.push('\n');
        petitions.write(line.as_bytes())?;
        petitions.records += 1;
        if p.bad {
            bad.push(BadRecord {
                file: PETITIONS.into(),
                record: petitions.records,
                rule: "petition.dates_order".into(),
            });
        }
    }

    let mut mediation = Csv::create(
        out_dir,
        "justice_admin",
        MEDIATION,
        &[
            "调解编号",
            "人民调解委员会",
            "纠纷发生地",
            "纠纷类型",
            "当事人数",
            "受理日期",
            "结案日期",
            "调解结果",
            "司法确认日期",
        ],
    )?;
    for m in &admin.mediations {
        mediation.row(&[
            m.no.clone(),
            m.committee.clone(),
            world.province.counties[m.county].code.to_string(),
            code_name(T::DisputeKind, m.kind),
            m.parties.to_string(),
            ymd(m.received),
            m.closed.map(ymd).unwrap_or_default(),
            m.outcome
                .map(|o| code_name(T::MediationOutcome, o))
                .unwrap_or_default(),
            m.confirmed.map(ymd).unwrap_or_default(),
        ])?;
    }

    let mut aid = Csv::create(
        out_dir,
        "justice_admin",
        LEGAL_AID,
        &[
            "援助编号",
            "援助形式",
            "法律援助机构",
            "受援人姓名",
            "公民身份号码",
            "起诉书文号",
            "案号",
            "申请日期",
            "决定日期",
            "审查决定",
            "指派律师",
        ],
    )?;
    for a in &admin.legal_aid {
        let p = &world.persons[a.person];
        let c = a.case.map(|c| &world.cases[c]);
        aid.row(&[
            a.no.clone(),
            code_name(T::LegalAidKind, a.kind),
            organ(a.organ),
            p.name.clone(),
            p.id_number.clone(),
            c.map(|c| c.indictment_no.clone()).unwrap_or_default(),
            c.filter(|c| c.court.is_some())
                .map(|c| c.court_no.clone())
                .unwrap_or_default(),
            ymd(a.applied),
            ymd(a.decided),
            code_name(
                T::LegalAidDecision,
                if a.granted { "granted" } else { "refused" },
            ),
            a.lawyer.clone(),
        ])?;
    }

    let mut bad_out = Output::create(out_dir, BAD_RECORDS, "justice_admin_truth")?;
    for b in &bad {
        let mut line = serde_json::to_string(b)
            .map_err(|e| SynthError::write(bad_out.path(), std::io::Error::other(e)))?;
        line.push('\n');
        bad_out.write(line.as_bytes())?;
        bad_out.records += 1;
    }
    let mut spots = Output::create(out_dir, HOT_SPOTS, "justice_admin_truth")?;
    for h in admin.hot_spots.iter().chain(&admin.petition_hot_spots) {
        let mut line = serde_json::to_string(h)
            .map_err(|e| SynthError::write(spots.path(), std::io::Error::other(e)))?;
        line.push('\n');
        spots.write(line.as_bytes())?;
        spots.records += 1;
    }
    let mut risk = Output::create(out_dir, RISK_TRUTH, "justice_admin_truth")?;
    for s in &admin.subjects {
        let row = RiskTruth {
            court_case_no: world.cases[s.case].court_no.clone(),
            id_number: world.persons[s.person].id_number.clone(),
            violated: s.violated,
        };
        let mut line = serde_json::to_string(&row)
            .map_err(|e| SynthError::write(risk.path(), std::io::Error::other(e)))?;
        line.push('\n');
        risk.write(line.as_bytes())?;
        risk.records += 1;
    }
    Ok(vec![
        subjects.out.finish()?,
        acts.out.finish()?,
        fixes.out.finish()?,
        fences.out.finish()?,
        petitions.finish()?,
        mediation.out.finish()?,
        aid.out.finish()?,
        bad_out.finish()?,
        spots.finish()?,
        risk.finish()?,
    ])
}

/// Reads the planted bad records of an output directory.
pub fn read_bad_records(out_dir: &Path) -> Result<Vec<BadRecord>, SynthError> {
    crate::util::read_jsonl(&out_dir.join(BAD_RECORDS))
}

/// Reads the correction subjects' risk labels of an output directory.
pub fn read_risk_truth(out_dir: &Path) -> Result<Vec<RiskTruth>, SynthError> {
    crate::util::read_jsonl(&out_dir.join(RISK_TRUTH))
}

/// Reads the planted mediation hot spots of an output directory.
pub fn read_hot_spots(
    out_dir: &Path,
) -> Result<Vec<crate::justice_admin::HotSpotTruth>, SynthError> {
    crate::util::read_jsonl(&out_dir.join(HOT_SPOTS))
}
