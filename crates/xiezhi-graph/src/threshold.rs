//! Amount thresholds (数额标准) of the judicial interpretations, from `data/amount-thresholds.tsv`;
//! each row's quote is checked against the named article of the interpretation when the graph
//! is built.

use crate::{parse_article_ref, ArticleNo};

/// The data file, compiled in so a build from any directory sees the same rows.
pub const THRESHOLDS_TSV: &str = include_str!("../data/amount-thresholds.tsv");

/// The directory of the interpretations, relative to the reference directory.
pub const INTERPRETATIONS_DIR: &str = "laws/司法解释-数额标准";

/// One threshold: the amount at which a charge reaches a level, as a national range.
#[derive(Debug, Clone)]
pub struct Threshold {
    pub charge: String,
    /// 数额较大 / 数额巨大 / 数额特别巨大 / 情节严重, or 入罪 (the article's first range).
    pub level: String,
    /// Lowest and highest amount a province may fix, in fen (分).
    pub low_fen: i64,
    pub high_fen: i64,
    /// File name within `INTERPRETATIONS_DIR`.
    pub file: String,
    /// The interpretation's article, as written (`第一条`).
    pub article: String,
    pub quote: String,
    /// The charge whose amounts this row follows, when the text refers to another charge's.
    pub via: Option<String>,
    /// The 刑法 article the quote names (`刑法第二百六十四条`), else none.
    pub statute_article: Option<ArticleNo>,
    /// Index into `StatuteGraph::sources` once built.
    pub source: usize,
    /// The interpretation's 施行 date, as its text gives it (set when built).
    pub in_force_from: Option<chrono::NaiveDate>,
}

impl Threshold {
    /// `盗窃罪 数额较大：1000元至3000元（各省在此幅度内确定）`.
    pub fn describe(&self) -> String {
        let (lo, hi) = (self.low_fen / 100, self.high_fen / 100);
        if lo == hi {
            format!("{} {}：{}元以上", self.charge, self.level, lo)
        } else {
            format!(
                "{} {}：{}元至{}元以上（由各省、自治区、直辖市在此幅度内确定）",
                self.charge, self.level, lo, hi
            )
        }
    }

    /// Whether `amount_fen` reaches the level in every province (at or above the top of the
    /// range), in some (within the range), or in none.
    pub fn reached(&self, amount_fen: i64) -> Reached {
        if amount_fen >= self.high_fen {
            Reached::Everywhere
        } else if amount_fen >= self.low_fen {
            Reached::DependsOnProvince
        } else {
            Reached::Nowhere
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    Everywhere,
    DependsOnProvince,
    Nowhere,
}

/// Reads the rows of `THRESHOLDS_TSV` (source indexes left at 0).
pub fn parse_thresholds(tsv: &str) -> Result<Vec<Threshold>, String> {
    let mut out = Vec::new();
    for (n, line) in tsv.lines().enumerate() {
        if line.starts_with('#') || line.starts_with("charge\t") || line.trim().is_empty() {
            continue;
        }
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() != 8 {
            return Err(format!("第{}行应有8列，实有{}列", n + 1, c.len()));
        }
        let yuan = |s: &str| -> Result<i64, String> {
            s.parse::<i64>()
                .map(|y| y * 100)
                .map_err(|_| format!("第{}行金额无效：{s}", n + 1))
        };
        let (low_fen, high_fen) = (yuan(c[2])?, yuan(c[3])?);
        if low_fen > high_fen {
            return Err(format!("第{}行金额幅度颠倒", n + 1));
        }
        let statute_article = c[6]
            .find("刑法第")
            .and_then(|i| parse_article_ref(&c[6][i + "刑法".len()..]))
            .map(|(a, _, _)| a);
        out.push(Threshold {
            charge: c[0].to_string(),
            level: c[1].to_string(),
            low_fen,
            high_fen,
            file: c[4].to_string(),
            article: c[5].to_string(),
            quote: c[6].to_string(),
            via: (!c[7].is_empty()).then(|| c[7].to_string()),
            statute_article,
            source: 0,
            in_force_from: None,
        });
    }
    Ok(out)
}

/// An amount as the interpretations write it (`一千元`, `三十万元`, `10万元`, `5000万元`) at the
/// start of `s`, in yuan, with the bytes consumed.
pub fn parse_yuan(s: &str) -> Option<(i64, usize)> {
    let digits = s.chars().take_while(|c| c.is_ascii_digit()).count();
    let (mut value, mut used) = if digits > 0 {
        (s[..digits].parse::<i64>().ok()?, digits)
    } else {
        let mut total = 0i64;
        let mut current = 0i64;
        let mut used = 0;
        for c in s.chars() {
            let d = "零一二三四五六七八九".chars().position(|x| x == c);
            match (d, c) {
                (Some(d), _) => current = d as i64,
                (None, '十') => {
                    total += if current == 0 { 10 } else { current * 10 };
                    current = 0
                }
                (None, '百') => {
                    total += current * 100;
                    current = 0
                }
                (None, '千') => {
                    total += current * 1000;
                    current = 0
                }
                _ => break,
            }
            used += c.len_utf8();
        }
        if used == 0 {
            return None;
        }
        (total + current, used)
    };
    if s[used..].starts_with('万') {
        value *= 10_000;
        used += '万'.len_utf8();
    }
    s[used..]
        .starts_with('元')
        .then_some((value, used + '元'.len_utf8()))
}

/// Every amount written in `s`, in the order they appear. A range `A至B元` counts both ends,
/// the first taking the second's unit (`一千元至三千元`, `三万元至十万元`).
pub fn amounts_in(s: &str) -> Vec<i64> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if let Some((v, used)) = parse_yuan(&s[i..]) {
            out.push(v);
            i += used;
        } else {
            i += s[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}
