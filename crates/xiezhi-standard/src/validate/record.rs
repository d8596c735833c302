//! Validation of one standard record: field formats, code membership on the record's date,
//! required fields and cross-field consistency. Values are normalised in place (an ID number's
//! lower-case `x`, a phone's hyphens); each change is reported as a `Repaired` issue.

use chrono::NaiveDate;

use crate::codes::{table, CodeTable};
use crate::issue::{Issue, Severity};
use crate::schema::{Entity, FieldType};
use crate::validate::{case_no, credit_code, geo, id_number};
use crate::value::{Record, Value};

/// What validation may know beyond the record itself.
#[derive(Debug, Clone, Default)]
pub struct ValidationContext {
    /// Dates after this day are impossible (the export's date). `None` skips the check.
    pub as_of: Option<NaiveDate>,
}

/// Fields a record of each entity must carry.
fn required(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Organization => &["org_code", "name", "kind"],
        Entity::Person => &["name"],
        Entity::Case => &[],
        Entity::CasePerson => &["role"],
        Entity::Event => &["kind", "occurred_at"],
        Entity::Evidence => &["kind"],
        Entity::Document => &["kind"],
        Entity::Sentence => &["principal_penalty"],
        Entity::Execution => &["kind", "start_date"],
        Entity::Petition => &["received_on"],
        Entity::CorrectionSubject => &["kind", "effective_date"],
        Entity::CorrectionEvent => &["kind", "occurred_at"],
        Entity::LocationFix => &["fixed_at", "longitude", "latitude"],
        Entity::Fence => &["rule", "polygon"],
        Entity::Mediation => &["received_on", "dispute_kind"],
        Entity::LegalAid => &["kind", "applied_on"],
        Entity::SentencingProposal => &["proposed_on", "principal_penalty"],
    }
}

/// Validates and normalises a record. Returns every finding; the record is acceptable when no
/// finding has `Severity::Error`.
pub fn validate_record(record: &mut Record, ctx: &ValidationContext) -> Vec<Issue> {
    let entity = record.entity;
    let mut issues = Vec::new();
    for name in required(entity) {
        if record.get(name).is_none() {
            let zh = entity.field(name).map_or(*name, |f| f.name_zh);
            issues.push(Issue::error(
                *name,
                "required",
                None,
                format!("缺少必填项：{zh}"),
                format!("required field `{name}` is missing"),
            ));
        }
    }
    let on = record.reference_date();
    let resident_id = record.text("id_type").is_none_or(|t| t == "resident_id");
    let names: Vec<&'static str> = record.fields.keys().copied().collect();
    for name in names {
        let Some(def) = entity.field(name) else {
            continue;
        };
        let Some(value) = record.fields.get(name).cloned() else {
            continue;
        };
        match (def.ty, &value) {
            (FieldType::Code(t), Value::Code(c)) => issues.extend(check_code(name, t, c, on)),
            (FieldType::Codes(t), Value::Codes(cs)) => {
                for c in cs {
                    issues.extend(check_code(name, t, c, on));
                }
            }
            (FieldType::IdNumber, Value::Text(raw)) if resident_id => match id_number::parse(raw) {
                Ok(id) => {
                    issues.extend(id.repairs);
                    issues.extend(id.warnings);
                    if let Some(b) = record.date("birth_date") {
                        if b != id.birth_date {
                            issues.push(Issue::error(
                                "birth_date",
                                "person.birth_date_mismatch",
                                Some(&b.to_string()),
                                format!("出生日期与身份号码不符（号码为 {}）", id.birth_date),
                                format!(
                                    "birth date disagrees with the ID number ({})",
                                    id.birth_date
                                ),
                            ));
                        }
                    }
                    if let Some(sex) = record.text("sex") {
                        if (sex == "1" || sex == "2") && sex != id.sex {
                            issues.push(Issue::error(
                                "sex",
                                "person.sex_mismatch",
                                Some(sex),
                                "性别与身份号码第17位不符",
                                "sex disagrees with digit 17 of the ID number",
                            ));
                        }
                    }
                    record.fields.insert(name, Value::Text(id.number));
                }
                Err(errors) => issues.extend(errors),
            },
            (FieldType::Phone, Value::Text(raw)) => {
                let digits: String = raw
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
                    .collect();
                let body = digits.strip_prefix('+').unwrap_or(&digits);
                if !(7..=15).contains(&body.len()) || !body.bytes().all(|b| b.is_ascii_digit()) {
                    issues.push(Issue::error(
                        name,
                        "phone.format",
                        Some(raw),
                        "电话号码应为7至15位数字",
                        "a phone number has 7 to 15 digits",
                    ));
                } else if digits != *raw {
                    issues.push(
                        Issue::error(
                            name,
                            "phone.normalised",
                            Some(raw),
                            "去除电话号码中的分隔符",
                            "removed separators from the phone number",
                        )
                        .with_severity(Severity::Repaired),
                    );
                    record.fields.insert(name, Value::Text(digits));
                }
            }
            (FieldType::CreditCode, Value::Text(raw)) => {
                if let Err(e) = credit_code::check(raw) {
                    issues.extend(e);
                }
            }
            (FieldType::CourtCaseNo, Value::Text(raw)) => match case_no::parse_court_case_no(raw) {
                Ok(c) if !c.is_criminal() => issues.push(Issue::error(
                    name,
                    "court_case_no.not_criminal",
                    Some(raw),
                    "案号的类型代字不是刑事类",
                    "the case-type code is not a criminal one",
                )),
                Ok(_) => {}
                Err(e) => issues.push(e),
            },
            (FieldType::ProcuratorateDocNo, Value::Text(raw)) => {
                if let Err(e) = case_no::parse_procuratorate_doc_no(raw) {
                    issues.push(Issue {
                        field: name.to_string(),
                        ..e
                    });
                }
            }
            (FieldType::Sha256, Value::Text(raw)) if !is_sha256_hex(raw) => {
                issues.push(Issue::error(
                    name,
                    "sha256.format",
                    Some(raw),
                    "文件哈希应为64位小写十六进制",
                    "a SHA-256 hash has 64 lower-case hex digits",
                ));
            }
            (FieldType::Text, Value::Text(raw)) if looks_like_mojibake(raw) => {
                issues.push(Issue::error(
                    name,
                    "text.mojibake",
                    Some(raw),
                    "文本疑似乱码（编码错误）",
                    "text looks garbled by a wrong encoding",
                ));
            }
            (FieldType::Longitude | FieldType::Latitude, Value::Int(n)) => {
                let axis = if def.ty == FieldType::Longitude {
                    geo::Axis::Longitude
                } else {
                    geo::Axis::Latitude
                };
                let shown = geo::format_degrees(*n);
                let (lo, hi) = axis.valid_range();
                let (clo, chi) = axis.china_range();
                if !(lo..=hi).contains(n) {
                    issues.push(Issue::error(
                        name,
                        "geo.invalid",
                        Some(&shown),
                        format!("{}超出地球坐标范围", axis.name_zh()),
                        "the coordinate does not exist on Earth",
                    ));
                } else if !(clo..=chi).contains(n) {
                    issues.push(Issue::error(
                        name,
                        "geo.out_of_area",
                        Some(&shown),
                        format!("{}不在中国境内范围，定位不可能属实", axis.name_zh()),
                        "the coordinate lies outside China's extent",
                    ));
                }
            }
            (FieldType::Polygon, Value::Text(raw)) => match geo::Polygon::parse(raw) {
                Ok(polygon) => {
                    record.fields.insert(name, Value::Text(polygon.canonical()));
                }
                Err(e) => {
                    let (zh, en) = match e {
                        geo::PolygonError::Vertex(i) => (
                            format!("第{i}个顶点不是“经度,纬度”格式"),
                            format!("vertex {i} is not `lon,lat`"),
                        ),
                        geo::PolygonError::OutOfRange(i) => (
                            format!("第{i}个顶点超出地球坐标范围"),
                            format!("vertex {i} does not exist on Earth"),
                        ),
                        geo::PolygonError::TooFew => (
                            "区域边界少于3个不同顶点".to_string(),
                            "a polygon needs three distinct vertices".to_string(),
                        ),
                    };
                    issues.push(Issue::error(name, "polygon.invalid", Some(raw), zh, en));
                }
            },
            (FieldType::Money | FieldType::Int, Value::Money(n) | Value::Int(n)) if *n < 0 => {
                issues.push(Issue::error(
                    name,
                    "number.negative",
                    Some(&n.to_string()),
                    "数值不能为负",
                    "the value must not be negative",
                ));
            }
            (FieldType::Date | FieldType::DateTime, v) if !def.prospective => {
                if let Some(d) = v.as_date() {
                    if d < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default()
                        || ctx.as_of.is_some_and(|a| d > a)
                    {
                        issues.push(Issue::error(
                            name,
                            "date.range",
                            Some(&v.canonical()),
                            "日期超出合理范围（早于1900年或晚于导出日期）",
                            "date before 1900 or after the export date",
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    issues.extend(entity_rules(record));
    issues
        .into_iter()
        .map(|i| i.in_entity(entity.name()))
        .collect()
}

fn check_code(field: &str, t: CodeTable, code: &str, on: Option<NaiveDate>) -> Option<Issue> {
    match table(t).get(code) {
        None => Some(Issue::error(
            field,
            "code.unknown",
            Some(code),
            format!("代码不在《{}》代码表中", t.name_zh()),
            format!("code is not in the `{}` table", t.name()),
        )),
        Some(e) => match on {
            Some(d) if !e.valid_on(d) => Some(Issue::error(
                field,
                "code.not_in_force",
                Some(code),
                format!("代码“{}”在 {d} 不适用", e.name),
                format!("code `{code}` was not in force on {d}"),
            )),
            _ => None,
        },
    }
}

/// Text decoded with the wrong encoding: replacement characters, C1 controls, or UTF-8 lead
/// and continuation bytes read as Latin-1 (`å¼ ä¸‰` for 张三).
pub fn looks_like_mojibake(s: &str) -> bool {
    let mut prev_lead = false;
    for c in s.chars() {
        let u = c as u32;
        if c == '\u{FFFD}' || (0x80..=0x9F).contains(&u) {
            return true;
        }
        if prev_lead && (0x80..=0xBF).contains(&u) {
            return true;
        }
        prev_lead = (0xC2..=0xEF).contains(&u);
    }
    false
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

const CASE_NUMBER_FIELDS: [&str; 4] = [
    "police_case_no",
    "procuratorate_case_no",
    "indictment_no",
    "court_case_no",
];

fn entity_rules(r: &Record) -> Vec<Issue> {
    let mut issues = Vec::new();
    match r.entity {
        Entity::Person if r.get("id_number").is_none() && r.get("birth_date").is_none() => {
            issues.push(Issue::error(
                "",
                "person.identity_insufficient",
                None,
                "既无证件号码也无出生日期，无法识别人员",
                "neither ID number nor birth date: the person cannot be identified",
            ));
        }
        Entity::Case if CASE_NUMBER_FIELDS.iter().all(|f| r.get(f).is_none()) => {
            issues.push(Issue::error(
                "",
                "case.no_department_number",
                None,
                "案件缺少任何部门的案件编号",
                "the case carries no department's case number",
            ));
        }
        Entity::Sentence => {
            // Absolute bounds of terms, combined sentences included: 管制 3 months–3 years
            // (刑法第38条, 第69条), 拘役 1 month–1 year (第42条, 第69条), 有期徒刑 6 months–25 years
            // (第45条, 第69条).
            let bounds = match r.text("principal_penalty") {
                Some("public_surveillance") => Some((3, 36)),
                Some("criminal_detention") => Some((1, 12)),
                Some("fixed_term") => Some((6, 300)),
                _ => None,
            };
            match (bounds, r.int("term_months")) {
                (Some(_), None) => issues.push(Issue::error(
                    "term_months",
                    "sentence.term_missing",
                    None,
                    "该主刑须有刑期",
                    "this penalty needs a term",
                )),
                (Some((lo, hi)), Some(m)) if m < lo || m > hi => issues.push(Issue::error(
                    "term_months",
                    "sentence.term_range",
                    Some(&m.to_string()),
                    format!("刑期超出法定范围（{lo}至{hi}个月）"),
                    format!("term outside the statutory range ({lo} to {hi} months)"),
                )),
                _ => {}
            }
        }
        Entity::Execution => {
            if let (Some(s), Some(e)) = (r.date("start_date"), r.date("end_date")) {
                if e < s {
                    issues.push(Issue::error(
                        "end_date",
                        "dates.order",
                        Some(&format!("{s} > {e}")),
                        "执行届满日期早于起始日期",
                        "execution ends before it starts",
                    ));
                }
            }
        }
        Entity::CorrectionSubject => {
            issues.extend(date_chain(
                r,
                &[("effective_date", "生效日期"), ("reported_on", "报到日期")],
                "correction.report_before_judgment",
            ));
            issues.extend(date_chain(
                r,
                &[("start_date", "矫正起始日期"), ("end_date", "矫正期满日期")],
                "dates.order",
            ));
        }
        Entity::LocationFix => {
            if let (Some(fixed), Some(received)) =
                (r.datetime("fixed_at"), r.datetime("received_at"))
            {
                if fixed > received {
                    issues.push(Issue::error(
                        "fixed_at",
                        "location.time_travel",
                        Some(&format!("{fixed} > {received}")),
                        "定位时间晚于平台接收时间（设备时钟错误或数据伪造）",
                        "the fix is dated after the platform received it",
                    ));
                }
            }
        }
        Entity::Fence => issues.extend(date_chain(
            r,
            &[("valid_from", "生效日期"), ("valid_until", "失效日期")],
            "dates.order",
        )),
        Entity::Petition => issues.extend(date_chain(
            r,
            &[
                ("received_on", "登记日期"),
                ("accepted_on", "受理日期"),
                ("answered_on", "答复日期"),
                ("review_requested_on", "请求复查日期"),
                ("review_answered_on", "复查意见日期"),
                ("recheck_requested_on", "请求复核日期"),
                ("recheck_answered_on", "复核意见日期"),
            ],
            "petition.dates_order",
        )),
        Entity::Mediation => issues.extend(date_chain(
            r,
            &[
                ("received_on", "受理日期"),
                ("closed_on", "结案日期"),
                ("confirmed_on", "司法确认日期"),
            ],
            "dates.order",
        )),
        Entity::LegalAid => issues.extend(date_chain(
            r,
            &[("applied_on", "申请或通知日期"), ("decided_on", "决定日期")],
            "dates.order",
        )),
        Entity::SentencingProposal => {
            issues.extend(date_chain(
                r,
                &[
                    ("plea_signed_on", "认罪认罚具结日期"),
                    ("proposed_on", "提出日期"),
                ],
                "dates.order",
            ));
            let int = |f: &str| r.get(f).and_then(|v| v.as_int());
            if let (Some(lo), Some(hi)) = (int("term_min_months"), int("term_max_months")) {
                if lo > hi {
                    issues.push(Issue::error(
                        "term_max_months",
                        "proposal.term_range",
                        Some(&hi.to_string()),
                        format!("建议刑期上限{hi}个月低于下限{lo}个月"),
                        format!("proposed term maximum {hi} is below the minimum {lo}"),
                    ));
                }
            }
            if let Some(p) = int("probation").filter(|p| !matches!(p, 0 | 1)) {
                issues.push(Issue::error(
                    "probation",
                    "proposal.probation",
                    Some(&p.to_string()),
                    format!("缓刑建议应为1（适用）或0（不适用），实为{p}"),
                    format!("probation must be 1 (suggested) or 0 (not suggested), got {p}"),
                ));
            }
        }
        Entity::Organization => {
            if let (Some("court"), Some(code), Some(div)) =
                (r.text("kind"), r.text("court_code"), r.text("division"))
            {
                let probe = format!("（2020）{code}刑初1号");
                if !case_no::parse_court_case_no(&probe)
                    .is_ok_and(|c| c.court_matches_division(div))
                {
                    issues.push(Issue::error(
                        "court_code",
                        "organization.court_code_division",
                        Some(code),
                        "法院代字与所在行政区划不符",
                        "the court code disagrees with the court's division",
                    ));
                }
            }
        }
        _ => {}
    }
    issues
}

/// Dates that must not run backwards along `chain` (missing ones are skipped): one issue per
/// pair out of order, naming both fields.
fn date_chain(r: &Record, chain: &[(&str, &str)], rule: &'static str) -> Vec<Issue> {
    let present: Vec<(&str, &str, NaiveDate)> = chain
        .iter()
        .filter_map(|&(f, zh)| r.date(f).map(|d| (f, zh, d)))
        .collect();
    let mut issues = Vec::new();
    for (i, &(f1, zh1, d1)) in present.iter().enumerate() {
        for &(f2, zh2, d2) in &present[i + 1..] {
            if d2 < d1 {
                issues.push(Issue::error(
                    f2,
                    rule,
                    Some(&format!("{f1}={d1} > {f2}={d2}")),
                    format!("{zh2}（{d2}）早于{zh1}（{d1}）"),
                    format!("{f2} ({d2}) is before {f1} ({d1})"),
                ));
            }
        }
    }
    issues
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_sentencing_proposal_has_an_ordered_range_and_a_yes_or_no_probation() {
        let ctx = ValidationContext::default();
        let proposal = |lo: i64, hi: i64, probation: i64| {
            let mut r = Record::new(Entity::SentencingProposal);
            r.set(
                "proposed_on",
                Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()),
            )
            .unwrap();
            r.set("principal_penalty", Value::Code("fixed_term".into()))
                .unwrap();
            r.set("term_min_months", Value::Int(lo)).unwrap();
            r.set("term_max_months", Value::Int(hi)).unwrap();
            r.set("probation", Value::Int(probation)).unwrap();
            let mut issues = validate_record(&mut r, &ctx);
            issues.retain(Issue::is_error);
            issues.into_iter().map(|i| i.rule).collect::<Vec<_>>()
        };
        assert!(proposal(12, 18, 0).is_empty());
        assert!(proposal(12, 12, 1).is_empty());
        assert_eq!(proposal(18, 12, 0), ["proposal.term_range"]);
        assert_eq!(proposal(12, 18, 2), ["proposal.probation"]);
    }

    use super::*;
    use crate::validate::id_number::compose;

    fn person(fields: &[(&'static str, Value)]) -> Record {
        let mut r = Record::new(Entity::Person);
        for (k, v) in fields {
            r.set(k, v.clone()).unwrap();
        }
        r
    }

    fn rules(issues: &[Issue]) -> Vec<&'static str> {
        issues
            .iter()
            .filter(|i| i.is_error())
            .map(|i| i.rule)
            .collect()
    }

    #[test]
    fn valid_person_passes_and_id_is_normalised() {
        let birth = NaiveDate::from_ymd_opt(1990, 3, 4).unwrap();
        let id = compose("520102", birth, 123).unwrap().to_lowercase();
        let mut r = person(&[
            ("name", Value::Text("张三".into())),
            ("id_number", Value::Text(id.clone())),
            ("birth_date", Value::Date(birth)),
            ("sex", Value::Code("1".into())),
        ]);
        let issues = validate_record(&mut r, &ValidationContext::default());
        assert!(rules(&issues).is_empty(), "{issues:?}");
        assert_eq!(r.text("id_number"), Some(id.to_uppercase().as_str()));
    }

    #[test]
    fn inconsistent_person_reports_each_field() {
        let birth = NaiveDate::from_ymd_opt(1990, 3, 4).unwrap();
        let id = compose("520102", birth, 124).unwrap();
        let mut r = person(&[
            ("name", Value::Text("å¼ ä¸‰".into())),
            ("id_number", Value::Text(id)),
            ("birth_date", Value::Date(birth.succ_opt().unwrap())),
            ("sex", Value::Code("1".into())),
        ]);
        let issues = validate_record(&mut r, &ValidationContext::default());
        let found = rules(&issues);
        for rule in [
            "text.mojibake",
            "person.birth_date_mismatch",
            "person.sex_mismatch",
        ] {
            assert!(found.contains(&rule), "{rule} not in {found:?}");
        }
        assert!(issues.iter().all(|i| i.field.starts_with("person")));
    }

    #[test]
    fn unknown_and_retired_codes_are_errors() {
        let mut c = Record::new(Entity::Case);
        c.set("police_case_no", Value::Text("A1".into())).unwrap();
        c.set("charges", Value::Codes(vec!["C999.9".into()]))
            .unwrap();
        assert_eq!(
            rules(&validate_record(&mut c, &ValidationContext::default())),
            ["code.unknown"]
        );
        let mut p = person(&[
            ("name", Value::Text("李四".into())),
            (
                "birth_date",
                Value::Date(NaiveDate::from_ymd_opt(2015, 1, 1).unwrap()),
            ),
            ("household_division", Value::Code("110103".into())),
        ]);
        assert_eq!(
            rules(&validate_record(&mut p, &ValidationContext::default())),
            ["code.not_in_force"]
        );
    }

    #[test]
    fn sentence_terms_respect_statutory_bounds() {
        let mut s = Record::new(Entity::Sentence);
        s.set(
            "principal_penalty",
            Value::Code("criminal_detention".into()),
        )
        .unwrap();
        s.set("term_months", Value::Int(13)).unwrap();
        assert_eq!(
            rules(&validate_record(&mut s, &ValidationContext::default())),
            ["sentence.term_range"]
        );
        s.set("term_months", Value::Int(4)).unwrap();
        assert!(rules(&validate_record(&mut s, &ValidationContext::default())).is_empty());
    }

    #[test]
    fn only_prospective_dates_may_follow_the_export_date() {
        let ctx = ValidationContext {
            as_of: NaiveDate::from_ymd_opt(2026, 3, 31),
        };
        let mut e = Record::new(Entity::Execution);
        e.set("kind", Value::Code("prison".into())).unwrap();
        e.set(
            "start_date",
            Value::Date(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()),
        )
        .unwrap();
        e.set(
            "end_date",
            Value::Date(NaiveDate::from_ymd_opt(2030, 1, 1).unwrap()),
        )
        .unwrap();
        assert!(rules(&validate_record(&mut e, &ctx)).is_empty());
        e.set(
            "start_date",
            Value::Date(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
        )
        .unwrap();
        assert_eq!(rules(&validate_record(&mut e, &ctx)), ["date.range"]);
    }

    #[test]
    fn mojibake_heuristic() {
        assert!(looks_like_mojibake("å¼ ä¸‰"));
        assert!(looks_like_mojibake("张\u{FFFD}"));
        assert!(!looks_like_mojibake("张三"));
        assert!(!looks_like_mojibake("José"));
        assert!(!looks_like_mojibake("阿依古丽·买买提"));
    }
}
