//! `police/cases.csv`: the police case system's export. GBK, CRLF, one row per (case, suspect),
//! pinyin-initial column names, compact dates.

use std::path::Path;

use chrono::Datelike;
use rand::Rng;

use super::{emit, Output, Truth};
use crate::cases::World;
use crate::dirty::{self, Injector};
use crate::procedure::CaseActs;
use crate::truth::{Defect, Source};
use crate::util::{csv_line, write_compact_datetime, write_date, write_ymd, DateFmt};
use crate::{FileSummary, SynthError};

pub(crate) const HEADER: [&str; 22] = [
    "AJBH", "AJLB", "AJMC", "AY", "FASJ", "FADD", "JYAQ", "SAJE", "LASJ", "BADW", "XYRXM", "XYRXB",
    "XYRSFZH", "XYRCSRQ", "XYRMZ", "XYRHJD", "XYRZZ", "XYRLXDH", "JLSJ", "TQPBSJ", "YSQSSJ",
    "QSYJSWH",
];
const AY: usize = 3;
const LASJ: usize = 8;
const XYRXM: usize = 10;
const XYRSFZH: usize = 12;
const XYRMZ: usize = 14;
const XYRHJD: usize = 15;
const TQPBSJ: usize = 19;
const YSQSSJ: usize = 20;

fn gbk(text: &str, out: &Output) -> Result<Vec<u8>, SynthError> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    if unmappable {
        return Err(SynthError::Encoding {
            path: out.path().to_path_buf(),
            text: text.to_string(),
        });
    }
    Ok(bytes.into_owned())
}

pub(crate) fn write(
    world: &World,
    acts: &[CaseActs],
    out_dir: &Path,
    seed: u64,
    rate: f64,
    truth: &mut Truth,
) -> Result<FileSummary, SynthError> {
    let source = Source::Police;
    let mut out = Output::create(out_dir, source.file(), source.name())?;
    let mut inj = Injector::new(seed, source, rate);
    let mut line = String::with_capacity(512);
    csv_line(&HEADER, "\r\n", &mut line);
    let header = gbk(&line, &out)?;
    out.write(&header)?;

    let mut order: Vec<usize> = (0..world.cases.len()).collect();
    order.sort_by_key(|&i| (world.cases[i].filed, i));
    let mut f: [String; 22] = Default::default();
    for &ci in &order {
        let c = &world.cases[ci];
        let county = &world.province.counties[c.county];
        let principal = &world.charges[c.charges[0]];
        let case_name = super::case_name(world, c);
        for d in &c.defendants {
            let p = &world.persons[d.person];
            for s in f.iter_mut() {
                s.clear();
            }
            f[0].push_str(&c.police_no);
            f[1].push_str("刑事");
            f[2].push_str(&case_name);
            for (k, &ch) in c.charges.iter().enumerate() {
                if k > 0 {
                    f[3].push(';');
                }
                f[3].push_str(world.charges[ch].short);
            }
            write_compact_datetime(c.occurred, &mut f[4]);
            f[5].push_str(county.code);
            f[6].push_str(&c.facts);
            if let Some(fen) = c.amount_fen {
                f[7].push_str(&format!("{}.{:02}", fen / 100, fen % 100));
            }
            write_date(DateFmt::Compact, c.filed, &mut f[LASJ]);
            f[9].push_str(&world.province.organs[county.police].org_code);
            f[XYRXM].push_str(&p.name);
            f[11].push_str(if p.male { "男" } else { "女" });
            f[XYRSFZH].push_str(&p.id_number);
            write_date(DateFmt::Compact, p.birth, &mut f[13]);
            f[XYRMZ].push_str(&p.ethnicity.name);
            f[XYRHJD].push_str(p.household);
            f[16].push_str(&p.address);
            f[17].push_str(&p.phone);
            if let Some(x) = acts[ci].detained_at {
                write_compact_datetime(x, &mut f[18]);
            }
            if let Some(x) = c.arrest_requested.filter(|_| !c.hide_arrest_request) {
                write_date(DateFmt::Compact, x, &mut f[TQPBSJ]);
            }
            if let Some(x) = c.transferred.filter(|_| !c.hide_transfer) {
                write_date(DateFmt::Compact, x, &mut f[YSQSSJ]);
                if let Some(no) = &acts[ci].transfer_document {
                    f[21].push_str(no);
                }
            }

            let kinds = dirty::applicable(
                source,
                &p.id_number,
                p.birth.year() < 2000,
                c.transferred.is_some() || c.arrest_requested.is_some(),
            );
            let defect = inj.choose(&kinds);
            let mut mojibake = false;
            let rng = inj.rng();
            match defect {
                Some(Defect::BadChecksum) => f[XYRSFZH] = dirty::bad_checksum(&p.id_number, rng),
                Some(Defect::ImpossibleDate) => {
                    let (m, day) = dirty::impossible_day(rng);
                    f[LASJ].clear();
                    write_ymd(DateFmt::Compact, c.filed.year(), m, day, &mut f[LASJ]);
                }
                Some(Defect::DatesOutOfOrder) => {
                    let early = crate::util::add_days(c.filed, -rng.gen_range(1..=30));
                    let field = if c.transferred.is_some() {
                        YSQSSJ
                    } else {
                        TQPBSJ
                    };
                    f[field].clear();
                    write_date(DateFmt::Compact, early, &mut f[field]);
                }
                Some(Defect::UnknownCode) => match rng.gen_range(0..3) {
                    0 if principal.typo_ok => {
                        f[AY] = f[AY].replacen(principal.short, principal.profile.typo, 1);
                    }
                    1 => f[XYRMZ] = dirty::UNKNOWN_ETHNICITY_NAME.to_string(),
                    _ => f[XYRHJD] = world.unknown_division.clone(),
                },
                Some(Defect::MissingField) => f[XYRXM].clear(),
                Some(Defect::Mojibake) => mojibake = true,
                Some(Defect::LowercaseX) => f[XYRSFZH] = dirty::lowercase_x(&p.id_number),
                Some(Defect::LegacyId15) => f[XYRSFZH] = dirty::legacy15(&p.id_number),
                Some(Defect::NameWhitespace) => {
                    f[XYRXM] = dirty::name_whitespace(&p.name, rng, true)
                }
                Some(Defect::MissingId) => f[XYRSFZH].clear(),
                Some(Defect::DuplicateRow) | None => {}
            }

            line.clear();
            let bytes = if mojibake {
                // The name's last character cut to its GBK lead byte, followed by the comma:
                // a lead byte before an ASCII byte is no GBK sequence.
                csv_line(&f[..XYRXM], ",", &mut line);
                let mut bytes = gbk(&line, &out)?;
                let mut name = gbk(&f[XYRXM], &out)?;
                name.pop();
                bytes.extend_from_slice(&name);
                line.clear();
                line.push(',');
                csv_line(&f[XYRXM + 1..], "\r\n", &mut line);
                bytes.extend_from_slice(&gbk(&line, &out)?);
                bytes
            } else {
                csv_line(&f, "\r\n", &mut line);
                gbk(&line, &out)?
            };
            emit(&mut out, truth, source, &bytes, ci, d.person, defect)?;
        }
    }
    out.finish()
}
