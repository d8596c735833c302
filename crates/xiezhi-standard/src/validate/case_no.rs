//! Court case numbers (案号) and procuratorate document numbers (检察文书文号).
//!
//! Court numbers since 2016-01-01 (法〔2015〕137号, amended 法〔2018〕335号):
//! `（年度）法院代字[专门审判代字]类型代字序号号[之N]`, e.g. `（2023）黔0102刑初123号`. The court
//! code is the province abbreviation plus 2 digits (intermediate court, GB/T 2260 digits 3–4) or
//! 4 digits (basic court, digits 3–6). Before 2016 numbers used `字第` and free-text court
//! abbreviations: `（2014）佛顺法刑初字第1802号`. Source: domain-facts §4.4, §4.5.

use crate::issue::Issue;

/// Court-code abbreviation of each province, by GB/T 2260 province digits.
/// Source: domain-facts §4.4 (《各级法院代字表》 as quoted there).
pub const COURT_PROVINCE_ABBREVIATIONS: [(&str, &str); 31] = [
    ("11", "京"),
    ("12", "津"),
    ("13", "冀"),
    ("14", "晋"),
    ("15", "内"),
    ("21", "辽"),
    ("22", "吉"),
    ("23", "黑"),
    ("31", "沪"),
    ("32", "苏"),
    ("33", "浙"),
    ("34", "皖"),
    ("35", "闽"),
    ("36", "赣"),
    ("37", "鲁"),
    ("41", "豫"),
    ("42", "鄂"),
    ("43", "湘"),
    ("44", "粤"),
    ("45", "桂"),
    ("46", "琼"),
    ("50", "渝"),
    ("51", "川"),
    ("52", "黔"),
    ("53", "云"),
    ("54", "藏"),
    ("61", "陕"),
    ("62", "甘"),
    ("63", "青"),
    ("64", "宁"),
    ("65", "新"),
];

/// The court code (`黔0102`) of a court seated in a division, at the given level.
pub fn court_code_for(division: &str, level: CourtLevel) -> Option<String> {
    let abbr = abbreviation_of_province(division.get(..2)?)?;
    Some(match level {
        CourtLevel::High => abbr.to_string(),
        CourtLevel::Intermediate => format!("{abbr}{}", division.get(2..4)?),
        CourtLevel::Basic => format!("{abbr}{}", division.get(2..6)?),
    })
}

fn abbreviation_of_province(digits: &str) -> Option<&'static str> {
    COURT_PROVINCE_ABBREVIATIONS
        .iter()
        .find(|(d, _)| *d == digits)
        .map(|(_, a)| *a)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CourtLevel {
    High,
    Intermediate,
    Basic,
}

/// A parsed court case number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourtCaseNo {
    pub year: u16,
    /// `最高法`, `黔`, `黔01`, `黔0102`; for legacy numbers the free-text abbreviation.
    pub court: String,
    /// `刑初`, `刑终`, `刑更` …
    pub type_code: String,
    pub sequence: u32,
    /// `之三` → 3.
    pub follow_up: Option<u32>,
    /// A pre-2016 `字第` number.
    pub legacy: bool,
}

impl CourtCaseNo {
    /// Whether the type code is a criminal one (starts with 刑).
    pub fn is_criminal(&self) -> bool {
        self.type_code.starts_with('刑')
    }

    /// Whether the court code agrees with the 6-digit division the court is seated in.
    /// Legacy numbers and special courts (digits 71–99) cannot be checked and pass.
    pub fn court_matches_division(&self, division: &str) -> bool {
        if self.legacy || self.court == "最高法" {
            return true;
        }
        let mut chars = self.court.chars();
        let abbr: String = chars.next().map(String::from).unwrap_or_default();
        let digits: String = chars.collect();
        if let Some(two) = digits.get(..2) {
            if two.parse::<u8>().is_ok_and(|n| n >= 71) {
                return true;
            }
        }
        let Some(expected_abbr) = division.get(..2).and_then(abbreviation_of_province) else {
            return false;
        };
        abbr == expected_abbr && division.get(2..2 + digits.len()) == Some(digits.as_str())
    }
}

const CHINESE_DIGITS: [char; 10] = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];

fn chinese_small_number(s: &str) -> Option<u32> {
    let v: Vec<u32> = s
        .chars()
        .map(|c| {
            CHINESE_DIGITS
                .iter()
                .position(|&d| d == c)
                .map(|p| p as u32 + 1)
        })
        .collect::<Option<_>>()?;
    match v.as_slice() {
        [n] => Some(*n),
        [10, n] if *n < 10 => Some(10 + n),
        [n, 10] if *n < 10 => Some(n * 10),
        [n, 10, m] if *n < 10 && *m < 10 => Some(n * 10 + m),
        _ => None,
    }
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fa5}').contains(&c)
}

/// Parses a court case number in the current or the legacy form.
pub fn parse_court_case_no(raw: &str) -> Result<CourtCaseNo, Issue> {
    let bad = |zh: &str, en: &str| {
        Issue::error("court_case_no", "court_case_no.format", Some(raw), zh, en)
    };
    let s = raw.trim();
    let rest = s
        .strip_prefix('（')
        .or_else(|| s.strip_prefix('('))
        .ok_or_else(|| bad("案号应以（年度）开头", "a case number starts with (year)"))?;
    let (year, rest) = rest.split_at(
        rest.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len()),
    );
    let year: u16 = year
        .parse()
        .ok()
        .filter(|y| (1949..=2100).contains(y))
        .ok_or_else(|| bad("收案年度应为四位年份", "the year must have four digits"))?;
    let rest = rest
        .strip_prefix('）')
        .or_else(|| rest.strip_prefix(')'))
        .ok_or_else(|| {
            bad(
                "年度后应为右括号",
                "a closing parenthesis must follow the year",
            )
        })?;
    let (body, follow_up) = match rest.rsplit_once("号之") {
        Some((body, n)) => (
            body,
            Some(chinese_small_number(n).ok_or_else(|| {
                bad(
                    "“之”后应为中文序数",
                    "`之` must be followed by a Chinese ordinal",
                )
            })?),
        ),
        None => (
            rest.strip_suffix('号')
                .ok_or_else(|| bad("案号应以“号”结尾", "a case number ends with 号"))?,
            None,
        ),
    };
    // Sequence: trailing digits.
    let seq_start = body
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map(|(i, _)| i)
        .ok_or_else(|| bad("缺少案件序号", "the sequence number is missing"))?;
    let sequence: u32 = body[seq_start..]
        .parse()
        .ok()
        .filter(|n| *n > 0 && body.len() - seq_start <= 8)
        .ok_or_else(|| {
            bad(
                "案件序号应为1至8位正整数",
                "the sequence must be a positive number of up to 8 digits",
            )
        })?;
    let head = &body[..seq_start];
    if let Some(head) = head.strip_suffix("字第") {
        // Legacy: free-text court abbreviation, then a type code ending the head.
        if head.chars().count() < 2 || !head.chars().all(is_han) {
            return Err(bad(
                "旧式案号的法院简称和类型代字应为汉字",
                "legacy court and type codes must be Chinese characters",
            ));
        }
        let type_start = head.find('刑').unwrap_or_else(|| {
            head.char_indices()
                .rev()
                .nth(1)
                .map(|(i, _)| i)
                .unwrap_or(0)
        });
        return Ok(CourtCaseNo {
            year,
            court: head[..type_start].to_string(),
            type_code: head[type_start..].to_string(),
            sequence,
            follow_up,
            legacy: true,
        });
    }
    let (court, type_code) = if let Some(t) = head.strip_prefix("最高法") {
        ("最高法".to_string(), t)
    } else {
        let mut chars = head.char_indices();
        let (_, abbr) = chars
            .next()
            .ok_or_else(|| bad("缺少法院代字", "the court code is missing"))?;
        if !COURT_PROVINCE_ABBREVIATIONS
            .iter()
            .any(|(_, a)| a.starts_with(abbr))
            && abbr != '军'
            && abbr != '兵'
        {
            return Err(bad(
                "法院代字的省级简称不存在",
                "the court code names no known province",
            ));
        }
        let digits_end = head[abbr.len_utf8()..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(head.len(), |i| i + abbr.len_utf8());
        let digits = &head[abbr.len_utf8()..digits_end];
        if !matches!(digits.len(), 0 | 2 | 4) {
            return Err(bad(
                "法院代字的数字部分应为2位或4位",
                "the court code takes 2 or 4 digits",
            ));
        }
        (head[..digits_end].to_string(), &head[digits_end..])
    };
    let n = type_code.chars().count();
    if !(1..=4).contains(&n) || !type_code.chars().all(is_han) {
        return Err(bad(
            "类型代字应为1至4个汉字",
            "the type code must be 1 to 4 Chinese characters",
        ));
    }
    Ok(CourtCaseNo {
        year,
        court,
        type_code: type_code.to_string(),
        sequence,
        follow_up,
        legacy: false,
    })
}

/// A parsed procuratorate document number: `黔南检刑诉〔2023〕45号`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcuratorateDocNo {
    /// The procuratorate abbreviation before 检.
    pub org: String,
    /// Department and document code after 检 (`刑诉`, `公刑诉`).
    pub department: String,
    pub year: u16,
    pub sequence: u32,
}

/// Parses a procuratorate document number; full- and half-width brackets and a `第` before the
/// sequence are accepted, as seen in real documents.
pub fn parse_procuratorate_doc_no(raw: &str) -> Result<ProcuratorateDocNo, Issue> {
    let bad = |zh: &str, en: &str| {
        Issue::error(
            "indictment_no",
            "procuratorate_doc_no.format",
            Some(raw),
            zh,
            en,
        )
    };
    let s = raw.trim();
    let open = s
        .find(['〔', '[', '［', '(', '（'])
        .ok_or_else(|| bad("文号应含〔年度〕", "a document number contains 〔year〕"))?;
    let head = &s[..open];
    let (org, department) = head
        .rsplit_once('检')
        .ok_or_else(|| bad("文号应含“检”字", "a procuratorate number contains 检"))?;
    let han = |t: &str, lo: usize, hi: usize| {
        let n = t.chars().count();
        (lo..=hi).contains(&n) && t.chars().all(is_han)
    };
    if !han(org, 1, 8) || !han(department, 1, 4) {
        return Err(bad(
            "检察院简称或部门代字不合规",
            "bad procuratorate abbreviation or department code",
        ));
    }
    let after = &s[open + s[open..].chars().next().map_or(1, char::len_utf8)..];
    let close = after
        .find(['〕', ']', '］', ')', '）'])
        .ok_or_else(|| bad("年度括号未闭合", "the year bracket is not closed"))?;
    let year: u16 = after[..close]
        .parse()
        .ok()
        .filter(|y| (1949..=2100).contains(y))
        .ok_or_else(|| bad("年度应为四位年份", "the year must have four digits"))?;
    let tail = &after[close + after[close..].chars().next().map_or(1, char::len_utf8)..];
    let tail = tail.strip_prefix('第').unwrap_or(tail);
    let digits = tail
        .strip_suffix('号')
        .ok_or_else(|| bad("文号应以“号”结尾", "a document number ends with 号"))?;
    let sequence = digits
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            bad(
                "文号序号应为正整数",
                "the sequence must be a positive number",
            )
        })?;
    Ok(ProcuratorateDocNo {
        org: org.to_string(),
        department: department.to_string(),
        year,
        sequence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn real_numbers_parse() {
        for n in [
            "（2023）京0105刑初123号",
            "(2016)渝0113刑初696号",
            "（2018）川34刑更2110号",
            "（2018）沪01民初937号之三",
            "（2019）最高法知民终1号",
            "（2020）粤刑终88号",
        ] {
            parse_court_case_no(n).unwrap_or_else(|e| panic!("{n}: {e}"));
        }
        let c = parse_court_case_no("（2018）沪01民初937号之三").unwrap();
        assert_eq!(
            (
                c.court.as_str(),
                c.type_code.as_str(),
                c.sequence,
                c.follow_up
            ),
            ("沪01", "民初", 937, Some(3))
        );
    }

    #[test]
    fn legacy_numbers_parse() {
        let c = parse_court_case_no("（2014）佛顺法刑初字第1802号").unwrap();
        assert!(c.legacy);
        assert_eq!(c.type_code, "刑初");
        assert_eq!(c.court, "佛顺法");
        assert!(
            parse_court_case_no("（2014）民一终字第174号")
                .unwrap()
                .legacy
        );
    }

    #[test]
    fn malformed_numbers_are_rejected() {
        for n in [
            "2023京0105刑初123号",
            "（2023）京0105刑初123",
            "（2023）京010刑初12号",
            "（2023）X0105刑初12号",
            "（23）京0105刑初1号",
            "（2023）京0105刑初0号",
        ] {
            assert!(parse_court_case_no(n).is_err(), "{n}");
        }
    }

    #[test]
    fn court_code_must_match_division() {
        let c = parse_court_case_no("（2023）黔0102刑初5号").unwrap();
        assert!(c.court_matches_division("520102"));
        assert!(!c.court_matches_division("520103"));
        assert!(!c.court_matches_division("440703"));
        let c = parse_court_case_no("（2016）粤07刑终5号").unwrap();
        assert!(c.court_matches_division("440703"));
        assert_eq!(
            court_code_for("440703", CourtLevel::Basic).as_deref(),
            Some("粤0703")
        );
        assert_eq!(
            court_code_for("440703", CourtLevel::Intermediate).as_deref(),
            Some("粤07")
        );
    }

    #[test]
    fn procuratorate_numbers_parse() {
        for n in [
            "渝巴检刑诉〔2016〕585号",
            "深龙华检刑诉〔2019〕1247号",
            "左检刑诉〔2025〕54号",
            "仙检公刑诉[2017]192号",
            "京海检刑诉〔2024〕第0789号",
        ] {
            parse_procuratorate_doc_no(n).unwrap_or_else(|e| panic!("{n}: {e}"));
        }
        let d = parse_procuratorate_doc_no("仙检公刑诉[2017]192号").unwrap();
        assert_eq!(
            (d.org.as_str(), d.department.as_str(), d.year, d.sequence),
            ("仙", "公刑诉", 2017, 192)
        );
        for n in [
            "渝巴刑诉〔2016〕585号",
            "渝巴检刑诉〔16〕585号",
            "渝巴检刑诉〔2016〕号",
            "渝巴检刑诉〔2016585号",
        ] {
            assert!(parse_procuratorate_doc_no(n).is_err(), "{n}");
        }
    }

    proptest! {
        #[test]
        fn composed_court_numbers_round_trip(year in 2016u16..2030, div in prop::sample::select(vec!["520102", "440703", "110105"]), seq in 1u32..99_999_999, basic in any::<bool>()) {
            let level = if basic { CourtLevel::Basic } else { CourtLevel::Intermediate };
            let court = court_code_for(div, level).unwrap();
            let ty = if basic { "刑初" } else { "刑终" };
            let n = format!("（{year}）{court}{ty}{seq}号");
            let c = parse_court_case_no(&n).unwrap();
            prop_assert_eq!(c.year, year);
            prop_assert_eq!(&c.court, &court);
            prop_assert_eq!(c.sequence, seq);
            prop_assert!(c.court_matches_division(div));
        }

        #[test]
        fn composed_procuratorate_numbers_round_trip(org in "[\u{4e00}-\u{4e50}]{1,4}", year in 1990u16..2030, seq in 1u32..100_000) {
            let n = format!("{org}检刑诉〔{year}〕{seq}号");
            let d = parse_procuratorate_doc_no(&n).unwrap();
            prop_assert_eq!((d.year, d.sequence), (year, seq));
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,30}") {
            let _ = parse_court_case_no(&s);
            let _ = parse_procuratorate_doc_no(&s);
        }
    }
}
