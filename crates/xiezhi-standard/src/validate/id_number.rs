//! 公民身份号码 (GB 11643-1999): 6-digit address code, 8-digit birth date, 3-digit sequence
//! (odd = male), ISO 7064 MOD 11-2 check character. Legacy 15-digit numbers (GB 11643-1989)
//! are up-converted. Source: domain-facts §4.2.

use chrono::NaiveDate;

use crate::codes::division;
use crate::issue::{Issue, Severity};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// The check character for the first 17 digits. `None` if any is not an ASCII digit.
pub fn check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(CHECK_CHARS[(sum % 11) as usize] as char)
}

/// A valid 18-character ID number and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber {
    /// The normalised number: 18 characters, upper-case `X`.
    pub number: String,
    pub division: String,
    pub birth_date: NaiveDate,
    /// GB/T 2261.1 sex code: `1` male, `2` female.
    pub sex: &'static str,
    /// Repairs made to reach the normal form (lower-case x, 15-digit up-conversion, spaces).
    pub repairs: Vec<Issue>,
    /// Non-blocking findings (an address code absent from the division tables).
    pub warnings: Vec<Issue>,
}

/// Validates and normalises an ID number. All blocking problems are returned together.
pub fn parse(raw: &str) -> Result<IdNumber, Vec<Issue>> {
    let mut repairs = Vec::new();
    let trimmed: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if trimmed != raw {
        repairs.push(repaired(
            raw,
            "id_number.whitespace",
            "去除空白字符",
            "removed white space",
        ));
    }
    let mut number = trimmed;
    if number.ends_with('x') {
        number = format!("{}X", &number[..number.len() - 1]);
        repairs.push(repaired(
            raw,
            "id_number.lowercase_x",
            "校验码 x 改为大写 X",
            "upper-cased check character x",
        ));
    }
    if number.len() == 15 {
        if !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(vec![err(
                raw,
                "id_number.format",
                "15位身份号码应全为数字",
                "a 15-digit ID number must be all digits",
            )]);
        }
        number = upconvert15(&number).ok_or_else(|| {
            vec![err(
                raw,
                "id_number.format",
                "15位身份号码无法升位",
                "cannot up-convert 15-digit ID number",
            )]
        })?;
        repairs.push(repaired(
            raw,
            "id_number.legacy15",
            "15位身份号码已升为18位",
            "up-converted a 15-digit ID number to 18 digits",
        ));
    }
    let bytes = number.as_bytes();
    if bytes.len() != 18
        || !bytes[..17].iter().all(u8::is_ascii_digit)
        || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
    {
        return Err(vec![err(
            raw,
            "id_number.format",
            "身份号码应为18位：17位数字加1位校验码（数字或X）",
            "an ID number has 17 digits and a check character (digit or X)",
        )]);
    }
    let mut errors = Vec::new();
    let division = number[..6].to_string();
    let birth = NaiveDate::parse_from_str(&number[6..14], "%Y%m%d").ok();
    if birth.is_none() {
        errors.push(err(
            raw,
            "id_number.birth_date",
            "出生日期码不是有效日期",
            "the birth-date digits are not a real date",
        ));
    }
    if let Some(b) = birth {
        if b.format("%Y").to_string().as_str() < "1800" {
            errors.push(err(
                raw,
                "id_number.birth_date",
                "出生年份不合理",
                "implausible birth year",
            ));
        }
    }
    if !division::province_known(&division) {
        errors.push(err(
            raw,
            "id_number.division",
            "地址码的省级代码不存在",
            "the address code names no known province",
        ));
    }
    let expected = check_char(&number[..17]);
    if expected != Some(bytes[17] as char) {
        errors.push(err(
            raw,
            "id_number.checksum",
            format!("校验码错误，应为 {}", expected.unwrap_or('?')),
            format!("check character should be {}", expected.unwrap_or('?')),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let birth_date = birth.unwrap_or_default();
    let mut warnings = Vec::new();
    match division::get(&division) {
        None => warnings.push(
            err(
                raw,
                "id_number.division_unknown",
                "地址码不在行政区划代码表中",
                "the address code is in no division table",
            )
            .with_severity(Severity::Warning),
        ),
        Some(d) if !d.valid_on(birth_date) => warnings.push(
            err(
                raw,
                "id_number.division_retired",
                "地址码在出生日期时已撤销",
                "the address code was retired before the birth date",
            )
            .with_severity(Severity::Warning),
        ),
        Some(_) => {}
    }
    let sex = if (bytes[16] - b'0') % 2 == 1 {
        "1"
    } else {
        "2"
    };
    Ok(IdNumber {
        number,
        division,
        birth_date,
        sex,
        repairs,
        warnings,
    })
}

/// Up-converts a 15-digit number: insert century `19`, append the check character.
pub fn upconvert15(n15: &str) -> Option<String> {
    if n15.len() != 15 || !n15.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let first17 = format!("{}19{}", &n15[..6], &n15[6..]);
    let c = check_char(&first17)?;
    Some(format!("{first17}{c}"))
}

/// Builds a valid number from its parts (for synthetic data and tests).
pub fn compose(division: &str, birth: NaiveDate, sequence: u16) -> Option<String> {
    let first17 = format!("{division}{}{:03}", birth.format("%Y%m%d"), sequence % 1000);
    let c = check_char(&first17)?;
    Some(format!("{first17}{c}"))
}

fn err(raw: &str, rule: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Issue {
    Issue::error("id_number", rule, Some(raw), zh, en)
}

fn repaired(raw: &str, rule: &'static str, zh: &str, en: &str) -> Issue {
    err(raw, rule, zh, en).with_severity(Severity::Repaired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_good_samples_pass() {
        for n in [
            "11010519491231002X",
            "440524188001010014",
            "370101190102039973",
            "513101198201130014",
        ] {
            let id = parse(n).unwrap_or_else(|e| panic!("{n}: {e:?}"));
            assert_eq!(id.number, n);
        }
        let id = parse("11010519491231002X").unwrap();
        assert_eq!(id.sex, "2");
        assert_eq!(
            id.birth_date,
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
    }

    #[test]
    fn lowercase_x_is_repaired() {
        let id = parse("11010519491231002x").unwrap();
        assert_eq!(id.number, "11010519491231002X");
        assert_eq!(id.repairs[0].rule, "id_number.lowercase_x");
    }

    #[test]
    fn legacy_15_digit_is_upconverted() {
        let id = parse("110105491231002").unwrap();
        assert_eq!(id.number, "11010519491231002X");
        assert!(id.repairs.iter().any(|r| r.rule == "id_number.legacy15"));
    }

    #[test]
    fn errors_name_every_rule_broken() {
        let e = parse("110105194902300021").unwrap_err();
        let rules: Vec<_> = e.iter().map(|i| i.rule).collect();
        assert!(rules.contains(&"id_number.birth_date"), "{rules:?}");
        let e = parse("99010519491231002X").unwrap_err();
        assert!(e.iter().any(|i| i.rule == "id_number.division"));
        assert!(e.iter().any(|i| i.rule == "id_number.checksum"));
        assert_eq!(parse("1101").unwrap_err()[0].rule, "id_number.format");
    }

    #[test]
    fn retired_address_code_warns_only_after_retirement() {
        let old = compose("110103", NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(), 11).unwrap();
        assert!(parse(&old).unwrap().warnings.is_empty());
        let late = compose("110103", NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(), 11).unwrap();
        assert_eq!(
            parse(&late).unwrap().warnings[0].rule,
            "id_number.division_retired"
        );
    }

    fn birth() -> impl Strategy<Value = NaiveDate> {
        (1900i32..2020, 1u32..=12, 1u32..=28)
            .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    proptest! {
        #[test]
        fn composed_numbers_validate_and_round_trip(b in birth(), seq in 0u16..1000) {
            let n = compose("520102", b, seq).unwrap();
            let id = parse(&n).unwrap();
            prop_assert_eq!(&id.number, &n);
            prop_assert_eq!(id.birth_date, b);
            prop_assert_eq!(id.sex, if seq % 2 == 1 { "1" } else { "2" });
            prop_assert!(id.repairs.is_empty());
        }

        #[test]
        fn any_single_digit_change_is_caught(b in birth(), seq in 0u16..1000, pos in 0usize..17, delta in 1u8..10) {
            let n = compose("520102", b, seq).unwrap();
            let mut bytes = n.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(parse(&changed).is_err());
        }

        #[test]
        fn legacy_upconversion_agrees_with_compose(b in (1900i32..2000, 1u32..=12, 1u32..=28), seq in 0u16..1000) {
            let date = NaiveDate::from_ymd_opt(b.0, b.1, b.2).unwrap();
            let n18 = compose("520102", date, seq).unwrap();
            let n15 = format!("{}{}{}", &n18[..6], &n18[8..17], "");
            prop_assert_eq!(upconvert15(&n15), Some(n18));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = parse(&s);
        }
    }
}
