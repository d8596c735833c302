//! `procuratorate/cases.jsonl`: the procuratorate business system's export. UTF-8 JSON lines, one
//! object per (case, defendant) received for prosecution review, pinyin-initial keys, ISO dates,
//! codes for sex and ethnicity.

use std::path::Path;

use chrono::Datelike;
use rand::Rng;
use serde::Serialize;

use super::{case_name, emit, Output, Truth};
use crate::cases::World;
use crate::dirty::{self, Injector};
use crate::procedure::CaseActs;
use crate::truth::{Defect, Source};
use crate::util::{add_days, date, write_ymd, DateFmt};
use crate::{FileSummary, SynthError};

#[derive(Serialize)]
struct Record<'a> {
    bmsah: &'a str,
    gaajbh: &'a str,
    ajmc: &'a str,
    sxzm: Vec<String>,
    xyr: Suspect<'a>,
    cbdw: &'a str,
    pzdbrq: Option<String>,
    bpzdbrq: Option<String>,
    slscqsrq: String,
    tqgsrq: Option<String>,
    bqsrq: Option<String>,
    qsswh: Option<&'a str>,
    thbczc: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lxjy: Option<Proposal>,
}

/// 量刑建议: `tcrq` 提出日期, `jsrq` 具结日期, `zx` 建议主刑, `xx`/`sx` 刑期下限/上限（月）, `hx`
/// 1 适用缓刑 / 0 不适用.
#[derive(Serialize)]
struct Proposal {
    tcrq: String,
    jsrq: String,
    zx: &'static str,
    xx: u16,
    sx: u16,
    hx: u8,
}

#[derive(Serialize)]
struct Suspect<'a> {
    xm: String,
    zjhm: String,
    xb: &'static str,
    csrq: String,
    mz: &'a str,
    hjd: &'a str,
}

pub(crate) fn write(
    world: &World,
    acts: &[CaseActs],
    out_dir: &Path,
    seed: u64,
    rate: f64,
    truth: &mut Truth,
) -> Result<FileSummary, SynthError> {
    let source = Source::Procuratorate;
    let mut out = Output::create(out_dir, source.file(), source.name())?;
    let mut inj = Injector::new(seed, source, rate);
    let mut order: Vec<(chrono::NaiveDate, usize)> = world
        .cases
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.transferred.map(|t| (t, i)))
        .collect();
    order.sort_unstable();
    let mut buf = Vec::with_capacity(1024);
    for &(transferred, ci) in &order {
        let c = &world.cases[ci];
        let county = &world.province.counties[c.county];
        let principal = &world.charges[c.charges[0]];
        let ajmc = case_name(world, c);
        for (k, d) in c.defendants.iter().enumerate() {
            let p = &world.persons[d.person];
            let mut r = Record {
                bmsah: &c.procuratorate_no,
                gaajbh: &c.police_no,
                ajmc: &ajmc,
                sxzm: c
                    .charges
                    .iter()
                    .map(|&k| world.charges[k].name.to_string())
                    .collect(),
                xyr: Suspect {
                    xm: p.name.clone(),
                    zjhm: p.id_number.clone(),
                    xb: if p.male { "1" } else { "2" },
                    csrq: date(DateFmt::Iso, p.birth),
                    mz: &p.ethnicity.code,
                    hjd: p.household,
                },
                cbdw: &world.province.organs[county.procuratorate].org_code,
                pzdbrq: c.arrest_approved.map(|x| date(DateFmt::Iso, x)),
                bpzdbrq: c.arrest_denied.map(|x| date(DateFmt::Iso, x)),
                slscqsrq: if c.hide_transfer {
                    String::new()
                } else {
                    date(DateFmt::Iso, transferred)
                },
                tqgsrq: c
                    .prosecuted
                    .filter(|_| !c.hide_prosecuted)
                    .map(|x| date(DateFmt::Iso, x)),
                bqsrq: c.not_prosecuted.map(|x| date(DateFmt::Iso, x)),
                qsswh: (!c.indictment_no.is_empty()).then_some(c.indictment_no.as_str()),
                thbczc: c.returns.iter().map(|x| date(DateFmt::Iso, *x)).collect(),
                lxjy: acts[ci]
                    .proposals
                    .get(k)
                    .cloned()
                    .flatten()
                    .map(|p| Proposal {
                        tcrq: date(DateFmt::Iso, p.proposed),
                        jsrq: date(DateFmt::Iso, p.plea_signed),
                        zx: p.penalty.name(),
                        xx: p.min_months,
                        sx: p.max_months,
                        hx: u8::from(p.probation),
                    }),
            };

            let kinds = dirty::applicable(source, &p.id_number, p.birth.year() < 2000, true);
            let defect = inj.choose(&kinds);
            let rng = inj.rng();
            match defect {
                Some(Defect::BadChecksum) => r.xyr.zjhm = dirty::bad_checksum(&p.id_number, rng),
                Some(Defect::ImpossibleDate) => {
                    let (m, day) = dirty::impossible_day(rng);
                    r.slscqsrq.clear();
                    write_ymd(DateFmt::Iso, transferred.year(), m, day, &mut r.slscqsrq);
                }
                Some(Defect::DatesOutOfOrder) => {
                    let early = Some(date(
                        DateFmt::Iso,
                        add_days(transferred, -rng.gen_range(1..=30)),
                    ));
                    if r.tqgsrq.is_some() {
                        r.tqgsrq = early;
                    } else {
                        r.bqsrq = early;
                    }
                }
                Some(Defect::UnknownCode) => match rng.gen_range(0..3) {
                    0 if principal.typo_ok => {
                        r.sxzm[0] = format!("{}罪", principal.profile.typo);
                    }
                    1 => r.xyr.mz = dirty::UNKNOWN_ETHNICITY_CODE,
                    _ => r.xyr.hjd = &world.unknown_division,
                },
                Some(Defect::MissingField) => r.xyr.xm.clear(),
                Some(Defect::Mojibake) => r.xyr.xm = dirty::latin1_mojibake(&p.name),
                Some(Defect::LowercaseX) => r.xyr.zjhm = dirty::lowercase_x(&p.id_number),
                Some(Defect::LegacyId15) => r.xyr.zjhm = dirty::legacy15(&p.id_number),
                Some(Defect::NameWhitespace) => {
                    r.xyr.xm = dirty::name_whitespace(&p.name, rng, true);
                }
                Some(Defect::MissingId) => r.xyr.zjhm.clear(),
                Some(Defect::DuplicateRow) | None => {}
            }

            buf.clear();
            serde_json::to_writer(&mut buf, &r)
                .map_err(|e| SynthError::write(out.path(), std::io::Error::other(e)))?;
            buf.push(b'\n');
            emit(&mut out, truth, source, &buf, ci, d.person, defect)?;
        }
    }
    out.finish()
}
