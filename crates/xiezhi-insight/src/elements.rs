//! Rule extraction of the case elements whose wording the statute fixes: charges named as
//! `…罪`, articles cited as `第…条`, amounts in 元/万元, the principal penalty and its term, and
//! sentencing circumstances (量刑情节) from the circumstance code table.

use serde::Serialize;
use xiezhi_standard::codes::{table, CodeTable};

/// Elements found in a judgment or indictment text.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Elements {
    /// Charge names of the charge table found in the text (`盗窃罪`), longest match first.
    pub charges: Vec<String>,
    /// Article numbers cited as `第…条`.
    pub articles: Vec<u32>,
    /// Amounts in yuan.
    pub amounts: Vec<f64>,
    /// Circumstance codes of the code table (surrender, confession, ...).
    pub circumstances: Vec<String>,
    /// Fixed-term imprisonment or criminal detention in months (`有期徒刑一年六个月`).
    pub term_months: Option<u32>,
    pub probation: bool,
}

/// Words that express each circumstance code in judgment language.
const CIRCUMSTANCE_WORDS: &[(&str, &[&str])] = &[
    ("surrender", &["自首", "投案"]),
    ("confession", &["坦白", "如实供述"]),
    ("recidivist", &["累犯"]),
    ("plea_leniency", &["认罪认罚"]),
    ("restitution", &["退赃", "退赔", "退还"]),
    ("forgiveness", &["谅解"]),
    ("meritorious", &["立功"]),
    ("attempt", &["未遂"]),
    ("accessory", &["从犯"]),
    ("prior_record", &["前科"]),
    ("minor", &["未成年"]),
];

/// Value of a Chinese numeral up to 9999 (`二百六十四`, `十`, `一千零五`); digits pass through.
pub fn parse_number(s: &str) -> Option<u32> {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse().ok();
    }
    let (mut total, mut digit) = (0u32, None::<u32>);
    for c in s.chars() {
        let d = "零一二三四五六七八九".chars().position(|x| x == c);
        if let Some(d) = d {
            digit = Some(d as u32);
            continue;
        }
        let unit = match c {
            '两' => {
                digit = Some(2);
                continue;
            }
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            _ => return None,
        };
        total += digit.unwrap_or(1) * unit;
        digit = None;
    }
    let v = total + digit.unwrap_or(0);
    (!s.is_empty()).then_some(v)
}

fn is_num_char(c: char) -> bool {
    c.is_ascii_digit() || "零一二三四五六七八九十百千两".contains(c)
}

/// Reads the numeral ending just before byte `end` of `s`.
fn number_before(s: &str, end: usize) -> Option<(u32, usize)> {
    let head = &s[..end];
    let start = head
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_num_char(*c))
        .last()
        .map(|(i, _)| i)?;
    Some((parse_number(&head[start..])?, start))
}

/// Charge names found in a text, longest first, masking what matched so 诈骗罪 is not found
/// inside 合同诈骗罪. With `bare`, names without the final 罪 count too (a query such as
/// 入户盗窃手机 names 盗窃罪 without saying 罪).
pub fn charges_in(text: &str, bare: bool) -> Vec<String> {
    let mut names: Vec<(&str, &str)> = table(CodeTable::Charge)
        .entries()
        .iter()
        .filter(|c| c.is_current())
        .map(|c| {
            let shown = if bare {
                c.name.strip_suffix('罪').unwrap_or(&c.name)
            } else {
                c.name.as_str()
            };
            (shown, c.name.as_str())
        })
        .filter(|(shown, _)| shown.chars().count() >= 2)
        .collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.0.chars().count()));
    let mut out = Vec::new();
    let mut masked = text.to_string();
    for (shown, name) in names {
        if masked.contains(shown) {
            out.push(name.to_string());
            masked = masked.replace(shown, &"□".repeat(shown.chars().count()));
        }
    }
    out
}

/// Amounts in yuan: digits followed by 元 or 万元.
pub fn amounts(text: &str) -> Vec<f64> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].1.is_ascii_digit() {
            let s = i;
            while i < chars.len()
                && (chars[i].1.is_ascii_digit() || chars[i].1 == '.' || chars[i].1 == ',')
            {
                i += 1;
            }
            let num: String = chars[s..i]
                .iter()
                .map(|p| p.1)
                .filter(|c| *c != ',')
                .collect();
            let rest = &text[chars.get(i).map_or(text.len(), |p| p.0)..];
            if let Ok(v) = num.parse::<f64>() {
                if rest.starts_with("万元") {
                    out.push(v * 10_000.0);
                } else if rest.starts_with('元') {
                    out.push(v);
                }
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Circumstance codes whose wording occurs in the text.
pub fn circumstances(text: &str) -> Vec<String> {
    CIRCUMSTANCE_WORDS
        .iter()
        .filter(|(_, words)| words.iter().any(|w| text.contains(w)))
        .map(|(code, _)| (*code).to_string())
        .collect()
}

/// Extracts the elements of one text.
pub fn elements(text: &str) -> Elements {
    let mut e = Elements {
        charges: charges_in(text, false),
        amounts: amounts(text),
        circumstances: circumstances(text),
        ..Elements::default()
    };
    // Articles: 第…条.
    for (i, _) in text.match_indices('条') {
        if let Some((n, start)) = number_before(text, i) {
            if text[..start].ends_with('第') && !e.articles.contains(&n) {
                e.articles.push(n);
            }
        }
    }
    // Principal penalty: 有期徒刑X年Y个月 or 拘役X个月, the first one stated.
    for kind in ["有期徒刑", "拘役"] {
        if let Some(p) = text.find(kind) {
            let rest = &text[p + kind.len()..];
            let mut months = 0;
            let mut r = rest;
            let take = |r: &str| -> (String, usize) {
                let n: String = r.chars().take_while(|c| is_num_char(*c)).collect();
                let len = n.len();
                (n, len)
            };
            let (n, len) = take(r);
            if let Some(v) = parse_number(&n) {
                let after = &r[len..];
                if let Some(a) = after.strip_prefix('年') {
                    months += v * 12;
                    r = a;
                    let (n2, len2) = take(r);
                    if let Some(v2) = parse_number(&n2) {
                        if r[len2..].starts_with("个月") {
                            months += v2;
                        }
                    }
                    e.term_months = Some(months);
                } else if after.starts_with("个月") {
                    e.term_months = Some(v);
                }
            }
            if e.term_months.is_some() {
                break;
            }
        }
    }
    e.probation = text.contains("缓刑");
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numbers() {
        assert_eq!(parse_number("二百六十四"), Some(264));
        assert_eq!(parse_number("十"), Some(10));
        assert_eq!(parse_number("一百零五"), Some(105));
        assert_eq!(parse_number("两"), Some(2));
        assert_eq!(parse_number("35"), Some(35));
        assert_eq!(parse_number("年"), None);
    }

    #[test]
    fn elements_of_a_judgment() {
        let t = "被告人张某犯合同诈骗罪，涉案金额人民币3.5万元，另退赔1,200元，依照《中华人民共和国刑法》第二百二十四条、第六十七条第三款之规定，\
                 被告人张某如实供述，取得被害人谅解，判处有期徒刑一年六个月，缓刑二年，并处罚金人民币5000元。";
        let e = elements(t);
        assert_eq!(e.charges, vec!["合同诈骗罪".to_string()]);
        assert_eq!(e.articles, vec![224, 67]);
        assert_eq!(e.amounts, vec![35000.0, 1200.0, 5000.0]);
        assert_eq!(e.term_months, Some(18));
        assert!(e.probation);
        for c in ["confession", "forgiveness", "restitution"] {
            assert!(e.circumstances.contains(&c.to_string()), "{c}");
        }
        assert!(!e.circumstances.contains(&"recidivist".to_string()));
    }

    #[test]
    fn detention_in_months() {
        assert_eq!(elements("判处拘役四个月").term_months, Some(4));
    }

    #[test]
    fn bare_charge_names_in_queries() {
        assert_eq!(charges_in("入户盗窃手机", true), vec!["盗窃罪".to_string()]);
        assert_eq!(
            charges_in("以签订合同为名诈骗", true),
            vec!["诈骗罪".to_string()]
        );
        assert!(charges_in("入户盗窃手机", false).is_empty());
    }
}
