//! Turning a raw text into a standard value, as a field plan says.

use chrono::{NaiveDate, NaiveDateTime};
use xiezhi_standard::codes::{table, CodeTable};
use xiezhi_standard::{FieldType, Issue, Severity, Value};

use crate::mapping::{CodeMapping, FieldPlan};

/// Result of converting one raw text: the value, plus a repair note if the text was cleaned.
pub struct Converted {
    pub value: Value,
    pub repair: Option<Issue>,
}

/// Converts `raw` (already known non-empty) for `plan`. Errors name the field, the rule and the
/// raw value.
pub fn convert(plan: &FieldPlan, raw: &str) -> Result<Converted, Issue> {
    let field = plan.field;
    let err =
        |rule: &'static str, zh: String, en: String| Issue::error(field, rule, Some(raw), zh, en);
    let trimmed = raw.trim_matches(|c: char| c.is_whitespace());
    let mut repair = None;
    let text = if plan.remove_whitespace {
        let cleaned: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
        if cleaned != raw {
            repair = Some(
                Issue::error(
                    field,
                    "text.whitespace",
                    Some(raw),
                    "去除多余空白字符（含全角空格）",
                    "removed stray white space (full-width too)",
                )
                .with_severity(Severity::Repaired),
            );
        }
        cleaned
    } else {
        trimmed.to_string()
    };
    let value = match plan.ty {
        FieldType::Date | FieldType::DateTime => {
            let fmt = plan.date_format.as_deref().unwrap_or("%Y-%m-%d");
            let bad = || {
                err(
                    "field.date_format",
                    format!("“{text}”不是格式 {fmt} 的有效日期"),
                    format!("`{text}` is not a valid date in format {fmt}"),
                )
            };
            // `a|b`: alternatives tried in order (a source that writes a time only sometimes).
            let dt = fmt
                .split('|')
                .find_map(|f| {
                    NaiveDateTime::parse_from_str(&text, f).ok().or_else(|| {
                        NaiveDate::parse_from_str(&text, f)
                            .ok()
                            .and_then(|d| d.and_hms_opt(0, 0, 0))
                    })
                })
                .ok_or_else(bad)?;
            if plan.ty == FieldType::Date {
                Value::Date(dt.date())
            } else {
                Value::DateTime(dt)
            }
        }
        FieldType::Code(t) => {
            Value::Code(map_code(plan, t, &text).map_err(|(rule, zh, en)| err(rule, zh, en))?)
        }
        FieldType::Codes(t) => {
            let parts: Vec<&str> = match &plan.split {
                Some(sep) => text
                    .split(sep.as_str())
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect(),
                None => vec![text.as_str()],
            };
            let mut codes: Vec<String> = Vec::new();
            for p in parts {
                let code = map_code(plan, t, p).map_err(|(rule, zh, en)| err(rule, zh, en))?;
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
            Value::Codes(codes)
        }
        FieldType::Money => Value::Money(parse_money(&text, plan.yuan).ok_or_else(|| {
            err(
                "field.number",
                format!("“{text}”不是有效金额"),
                format!("`{text}` is not an amount of money"),
            )
        })?),
        FieldType::Int => Value::Int(text.parse().map_err(|_| {
            err(
                "field.number",
                format!("“{text}”不是整数"),
                format!("`{text}` is not a whole number"),
            )
        })?),
        FieldType::Longitude | FieldType::Latitude => Value::Int(
            xiezhi_standard::validate::geo::parse_degrees(&text).ok_or_else(|| {
                err(
                    "field.degrees",
                    format!("“{text}”不是以度为单位的十进制坐标"),
                    format!("`{text}` is not a coordinate in decimal degrees"),
                )
            })?,
        ),
        _ => Value::Text(text),
    };
    Ok(Converted { value, repair })
}

type CodeError = (&'static str, String, String);

fn map_code(plan: &FieldPlan, t: CodeTable, text: &str) -> Result<String, CodeError> {
    let name = match &plan.suffix {
        Some(s) if !text.ends_with(s.as_str()) => format!("{text}{s}"),
        _ => text.to_string(),
    };
    match &plan.codes {
        CodeMapping::Direct => Ok(name),
        CodeMapping::ByName => table(t)
            .current_by_name(&name)
            .or_else(|| table(t).by_name(&name).next())
            .map(|e| e.code.clone())
            .ok_or_else(|| {
                (
                    "code.unknown_name",
                    format!("“{name}”不是《{}》代码表中的名称", t.name_zh()),
                    format!("`{name}` is not a name in the `{}` table", t.name()),
                )
            }),
        CodeMapping::Crosswalk(map) => map.get(text).cloned().ok_or_else(|| {
            (
                "crosswalk.unmapped",
                format!("“{text}”在对照表中没有对应的《{}》代码", t.name_zh()),
                format!("`{text}` has no entry in the crosswalk to `{}`", t.name()),
            )
        }),
    }
}

/// Parses a decimal amount into fen. `yuan` amounts take up to two decimals.
pub fn parse_money(text: &str, yuan: bool) -> Option<i64> {
    let text = text.replace(',', "");
    if !yuan {
        return text.parse().ok().filter(|n: &i64| *n >= 0);
    }
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::FieldSource;
    use proptest::prelude::*;

    fn plan(ty: FieldType) -> FieldPlan {
        FieldPlan {
            field: "f",
            ty,
            source: FieldSource::Column("C".into()),
            date_format: None,
            split: None,
            suffix: None,
            codes: CodeMapping::Direct,
            yuan: true,
            remove_whitespace: false,
            optional: false,
        }
    }

    #[test]
    fn dates_in_department_formats() {
        let mut p = plan(FieldType::Date);
        for (fmt, text) in [
            ("%Y%m%d", "20230301"),
            ("%Y年%m月%d日", "2023年3月1日"),
            ("%Y/%m/%d", "2023/3/1"),
            ("%Y-%m-%d", "2023-03-01"),
        ] {
            p.date_format = Some(fmt.into());
            let v = convert(&p, text)
                .unwrap_or_else(|e| panic!("{fmt} {text}: {e}"))
                .value;
            assert_eq!(v, Value::Date(NaiveDate::from_ymd_opt(2023, 3, 1).unwrap()));
        }
        p.date_format = Some("%Y%m%d".into());
        assert_eq!(
            convert(&p, "20230230").err().unwrap().rule,
            "field.date_format"
        );
    }

    #[test]
    fn format_alternatives_are_tried_in_order() {
        let mut p = plan(FieldType::DateTime);
        p.date_format = Some("%Y%m%d%H%M%S|%Y%m%d".into());
        let at = |text| convert(&p, text).map(|c| c.value);
        let day = NaiveDate::from_ymd_opt(2023, 3, 1).unwrap();
        assert_eq!(
            at("20230301143000").unwrap(),
            Value::DateTime(day.and_hms_opt(14, 30, 0).unwrap())
        );
        assert_eq!(
            at("20230301").unwrap(),
            Value::DateTime(day.and_hms_opt(0, 0, 0).unwrap())
        );
        assert_eq!(at("2023-03-01").err().unwrap().rule, "field.date_format");
    }

    #[test]
    fn charge_names_with_suffix_map_to_codes() {
        let mut p = plan(FieldType::Codes(CodeTable::Charge));
        p.codes = CodeMapping::ByName;
        p.suffix = Some("罪".into());
        p.split = Some(";".into());
        assert_eq!(
            convert(&p, "盗窃;危险驾驶").unwrap().value,
            Value::Codes(vec!["C264.1".into(), "C133-1.1".into()])
        );
        assert_eq!(convert(&p, "盗切").err().unwrap().rule, "code.unknown_name");
    }

    #[test]
    fn whitespace_removal_is_a_repair() {
        let mut p = plan(FieldType::Text);
        p.remove_whitespace = true;
        let c = convert(&p, "张\u{3000}三 ").unwrap();
        assert_eq!(c.value, Value::Text("张三".into()));
        assert_eq!(c.repair.unwrap().rule, "text.whitespace");
        assert!(convert(&p, "张三").unwrap().repair.is_none());
    }

    proptest! {
        #[test]
        fn yuan_amounts_round_trip(fen in 0i64..10_000_000_000) {
            let text = format!("{}.{:02}", fen / 100, fen % 100);
            prop_assert_eq!(parse_money(&text, true), Some(fen));
        }

        #[test]
        fn convert_never_panics(s in "\\PC{1,20}") {
            for ty in [FieldType::Date, FieldType::Money, FieldType::Int, FieldType::Code(CodeTable::Sex)] {
                let mut p = plan(ty);
                p.date_format = Some("%Y%m%d".into());
                let _ = convert(&p, &s);
            }
        }
    }
}
