//! `justice/corrections.csv`: the justice administration's register of convicts in prison or
//! community corrections. UTF-8 with BOM, LF, Chinese headers, `YYYY/M/D` dates.

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rand::Rng;

use super::{emit, Output, Truth};
use crate::cases::World;
use crate::dirty::{self, Injector};
use crate::truth::{Defect, Source};
use crate::util::{add_days, csv_line, write_date, write_ymd, DateFmt};
use crate::{FileSummary, SynthError};

pub(crate) const HEADER: [&str; 10] = [
    "罪犯姓名",
    "公民身份号码",
    "性别",
    "判决案号",
    "执行方式",
    "执行机关",
    "起始日期",
    "届满日期",
    "报到日期",
    "累计减刑月数",
];
const NAME: usize = 0;
const ID: usize = 1;
const KIND: usize = 4;
const ORGAN: usize = 5;
const START: usize = 6;
const END: usize = 7;

pub(crate) fn write(
    world: &World,
    out_dir: &Path,
    seed: u64,
    rate: f64,
    truth: &mut Truth,
) -> Result<FileSummary, SynthError> {
    let source = Source::Justice;
    let mut out = Output::create(out_dir, source.file(), source.name())?;
    let mut inj = Injector::new(seed, source, rate);
    let mut line = String::from("\u{feff}");
    csv_line(&HEADER, "\n", &mut line);
    out.write(line.as_bytes())?;

    let mut order: Vec<(NaiveDate, usize, usize)> = Vec::new();
    for (ci, c) in world.cases.iter().enumerate() {
        for (k, d) in c.defendants.iter().enumerate() {
            if let Some(e) = &d.execution {
                order.push((e.report, ci, k));
            }
        }
    }
    order.sort_unstable();
    let mut f: [String; 10] = Default::default();
    for &(_, ci, k) in &order {
        let c = &world.cases[ci];
        let d = &c.defendants[k];
        let Some(e) = &d.execution else { continue };
        let p = &world.persons[d.person];
        for s in f.iter_mut() {
            s.clear();
        }
        f[NAME].push_str(&p.name);
        f[ID].push_str(&p.id_number);
        f[2].push_str(if p.male { "男" } else { "女" });
        f[3].push_str(&c.court_no);
        f[KIND].push_str(if e.prison { "监狱" } else { "社区矫正" });
        f[ORGAN].push_str(&world.province.organs[e.organ].org_code);
        write_date(DateFmt::Slash, e.start, &mut f[START]);
        write_date(DateFmt::Slash, e.end, &mut f[END]);
        write_date(DateFmt::Slash, e.report, &mut f[8]);
        f[9].push_str(&e.reduction_months.to_string());

        let kinds = dirty::applicable(source, &p.id_number, p.birth.year() < 2000, true);
        let defect = inj.choose(&kinds);
        let rng = inj.rng();
        match defect {
            Some(Defect::BadChecksum) => f[ID] = dirty::bad_checksum(&p.id_number, rng),
            Some(Defect::ImpossibleDate) => {
                let (m, day) = dirty::impossible_day(rng);
                f[START].clear();
                write_ymd(DateFmt::Slash, e.start.year(), m, day, &mut f[START]);
            }
            Some(Defect::DatesOutOfOrder) => {
                f[END].clear();
                write_date(
                    DateFmt::Slash,
                    add_days(e.start, -rng.gen_range(1..=30)),
                    &mut f[END],
                );
            }
            Some(Defect::UnknownCode) => f[KIND] = dirty::UNKNOWN_EXECUTION_KIND.to_string(),
            Some(Defect::MissingField) => f[NAME].clear(),
            Some(Defect::Mojibake) => f[NAME] = dirty::latin1_mojibake(&p.name),
            Some(Defect::LowercaseX) => f[ID] = dirty::lowercase_x(&p.id_number),
            Some(Defect::LegacyId15) => f[ID] = dirty::legacy15(&p.id_number),
            Some(Defect::NameWhitespace) => f[NAME] = dirty::name_whitespace(&p.name, rng, true),
            // Never chosen here: the register has no birth date to resolve a person without ID.
            Some(Defect::MissingId) | Some(Defect::DuplicateRow) | None => {}
        }
        line.clear();
        csv_line(&f, "\n", &mut line);
        emit(
            &mut out,
            truth,
            source,
            line.as_bytes(),
            ci,
            d.person,
            defect,
        )?;
    }
    out.finish()
}
