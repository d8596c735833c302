//! `court/judgments.xml`: the trial system's export of first-instance criminal judgments. UTF-8
//! XML with Chinese element names and Chinese dates, one `<判决>` per (case, defendant).

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rand::Rng;

use super::{emit, Output, Truth};
use crate::cases::{export_date, World};
use crate::dirty::{self, Injector};
use crate::sentence::Penalty;
use crate::truth::{Defect, Source};
use crate::util::{add_days, write_date, write_ymd, xml_escape, DateFmt};
use crate::{FileSummary, SynthError};

fn element(out: &mut String, indent: &str, name: &str, text: &str) {
    out.push_str(indent);
    out.push('<');
    out.push_str(name);
    out.push('>');
    xml_escape(text, out);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn date_element(out: &mut String, name: &str, d: NaiveDate) {
    let mut s = String::with_capacity(16);
    write_date(DateFmt::Zh, d, &mut s);
    element(out, "    ", name, &s);
}

pub(crate) fn write(
    world: &World,
    out_dir: &Path,
    seed: u64,
    rate: f64,
    truth: &mut Truth,
) -> Result<FileSummary, SynthError> {
    let source = Source::Court;
    let mut out = Output::create(out_dir, source.file(), source.name())?;
    let mut inj = Injector::new(seed, source, rate);
    let mut head = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<判决集 生成日期=\"");
    write_date(DateFmt::Zh, export_date(), &mut head);
    head.push_str("\">\n");
    out.write(head.as_bytes())?;

    let mut order: Vec<(NaiveDate, usize)> = world
        .cases
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.court.as_ref().map(|s| (s.accepted, i)))
        .collect();
    order.sort_unstable();
    let mut x = String::with_capacity(2048);
    for &(_, ci) in &order {
        let c = &world.cases[ci];
        let Some(stage) = &c.court else { continue };
        let county = &world.province.counties[c.county];
        let principal = &world.charges[c.charges[0]];
        for d in &c.defendants {
            let Some(s) = &d.sentence else { continue };
            let p = &world.persons[d.person];
            let kinds = dirty::applicable(source, &p.id_number, p.birth.year() < 2000, true);
            let defect = inj.choose(&kinds);
            let rng = inj.rng();
            let mut id = p.id_number.clone();
            let mut name = p.name.clone();
            let mut household = p.household;
            let mut charge_typo = false;
            let mut verdict = None;
            match defect {
                Some(Defect::BadChecksum) => id = dirty::bad_checksum(&p.id_number, rng),
                Some(Defect::ImpossibleDate) => {
                    let (m, day) = dirty::impossible_day(rng);
                    let mut v = String::new();
                    write_ymd(DateFmt::Zh, stage.verdict.year(), m, day, &mut v);
                    verdict = Some(v);
                }
                Some(Defect::DatesOutOfOrder) => {
                    let early = add_days(stage.accepted, -rng.gen_range(1..=30));
                    let mut v = String::new();
                    write_date(DateFmt::Zh, early, &mut v);
                    verdict = Some(v);
                }
                Some(Defect::UnknownCode) => {
                    if principal.typo_ok && rng.gen_bool(0.5) {
                        charge_typo = true;
                    } else {
                        household = &world.unknown_division;
                    }
                }
                Some(Defect::MissingField) => name.clear(),
                Some(Defect::Mojibake) => name = dirty::latin1_mojibake(&p.name),
                Some(Defect::LowercaseX) => id = dirty::lowercase_x(&p.id_number),
                Some(Defect::LegacyId15) => id = dirty::legacy15(&p.id_number),
                Some(Defect::NameWhitespace) => name = dirty::name_whitespace(&p.name, rng, false),
                Some(Defect::MissingId) => id.clear(),
                Some(Defect::DuplicateRow) | None => {}
            }

            x.clear();
            x.push_str("  <判决>\n");
            element(&mut x, "    ", "案号", &c.court_no);
            element(&mut x, "    ", "起诉书文号", &c.indictment_no);
            element(
                &mut x,
                "    ",
                "承办法院",
                &world.province.organs[county.court].org_code,
            );
            date_element(&mut x, "收案日期", stage.accepted);
            date_element(&mut x, "开庭日期", stage.hearing);
            match &verdict {
                Some(v) => element(&mut x, "    ", "宣判日期", v),
                None => date_element(&mut x, "宣判日期", stage.verdict),
            }
            if !c.hide_effective {
                date_element(&mut x, "生效日期", stage.effective);
            }
            if s.penalty != Penalty::Exempt {
                date_element(&mut x, "交付执行日期", stage.delivered);
            }
            x.push_str("    <被告人 证件号码=\"");
            xml_escape(&id, &mut x);
            x.push_str("\">\n");
            element(&mut x, "      ", "姓名", &name);
            element(&mut x, "      ", "性别", if p.male { "男" } else { "女" });
            let mut birth = String::with_capacity(16);
            write_date(DateFmt::Zh, p.birth, &mut birth);
            element(&mut x, "      ", "出生日期", &birth);
            element(&mut x, "      ", "户籍地", household);
            x.push_str("    </被告人>\n");
            for (k, &ch) in c.charges.iter().enumerate() {
                if k == 0 && charge_typo {
                    let typo = format!("{}罪", principal.profile.typo);
                    element(&mut x, "    ", "罪名", &typo);
                } else {
                    element(&mut x, "    ", "罪名", world.charges[ch].name);
                }
            }
            element(&mut x, "    ", "主刑", s.penalty.name());
            if s.term_months > 0 {
                element(&mut x, "    ", "刑期月数", &s.term_months.to_string());
            }
            if s.probation_months > 0 {
                element(&mut x, "    ", "缓刑月数", &s.probation_months.to_string());
            }
            if s.fine > 0 {
                element(&mut x, "    ", "罚金", &s.fine.to_string());
            }
            if let Some(names) = s.circumstance_names() {
                element(&mut x, "    ", "量刑情节", &names);
            }
            x.push_str("  </判决>\n");
            emit(&mut out, truth, source, x.as_bytes(), ci, d.person, defect)?;
        }
    }
    out.write("</判决集>\n".as_bytes())?;
    out.finish()
}
