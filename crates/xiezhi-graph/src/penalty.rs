//! Penalty ranges (法定刑幅度): each `处…` clause of an article read into its kinds of penalty,
//! with the condition wording (数额较大, 情节严重 …) that selects it.

use crate::{parse_number, Article, ArticleNo};

/// Condition words an article uses to select a penalty range; a threshold or a guideline band
/// is matched to a range by them.
pub const CONDITION_WORDS: &[&str] = &[
    "数额较大",
    "数额巨大",
    "数额特别巨大",
    "其他严重情节",
    "其他特别严重情节",
    "情节较轻",
    "情节严重",
    "情节特别严重",
    "情节恶劣",
    "情节特别恶劣",
    "致人重伤",
    "致人死亡",
    "严重残疾",
    "下列情形之一",
];

/// One `处…` clause where the article words it, with the condition before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PenaltyClause<'a> {
    /// 款 number, from 1.
    pub paragraph: u32,
    /// The wording before `处` in the same sentence, and the items (（一）…) the clause lists
    /// when it ends with `：`.
    pub condition: String,
    /// From `处` to the end of the sentence (or the `：` before a list of items).
    pub clause: &'a str,
}

/// How a fine (罚金) goes with the principal penalty, as worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FineMode {
    /// 并处罚金
    Mandatory,
    /// 并处或者单处罚金
    MandatoryOrAlone,
    /// 可以并处罚金
    Optional,
    /// 罚金 as an alternative principal penalty (`…、管制或者罚金`)
    Alternative,
}

impl FineMode {
    pub fn chinese(&self) -> &'static str {
        match self {
            FineMode::Mandatory => "并处罚金",
            FineMode::MandatoryOrAlone => "并处或者单处罚金",
            FineMode::Optional => "可以并处罚金",
            FineMode::Alternative => "或者单处罚金",
        }
    }
}

/// The kinds of penalty one clause provides. A fixed term is in months: `N年以下` starts at six
/// months and `N年以上` ends at fifteen years (刑法 第四十五条: 有期徒刑的期限为六个月以上十五年以下).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Penalty {
    pub fixed_term: Option<(u32, u32)>,
    pub life: bool,
    pub death: bool,
    /// 拘役 (刑法 第四十二条: 一个月以上六个月以下).
    pub detention: bool,
    /// 管制 (刑法 第三十八条: 三个月以上二年以下).
    pub control: bool,
    pub fine: Option<FineMode>,
    /// 没收财产
    pub confiscation: bool,
    /// 剥夺政治权利
    pub deprivation: bool,
}

/// The fixed-term bounds of 刑法 第四十五条, in months.
pub const FIXED_TERM_MIN: u32 = 6;
pub const FIXED_TERM_MAX: u32 = 180;

impl Penalty {
    /// Reads a `处…` clause. Returns `None` when the clause names no penalty.
    pub fn parse(clause: &str) -> Option<Penalty> {
        let mut p = Penalty {
            life: clause.contains("无期徒刑"),
            death: clause.contains("死刑"),
            detention: clause.contains("拘役"),
            control: clause.contains("管制"),
            confiscation: clause.contains("没收财产"),
            deprivation: clause.contains("剥夺政治权利"),
            ..Penalty::default()
        };
        if clause.contains("罚金") {
            p.fine = Some(if clause.contains("并处或者单处罚金") {
                FineMode::MandatoryOrAlone
            } else if clause.contains("可以并处罚金") {
                FineMode::Optional
            } else if clause.contains("并处罚金") {
                FineMode::Mandatory
            } else {
                FineMode::Alternative
            });
        }
        if let Some(pos) = clause.find("有期徒刑") {
            let before = &clause[..pos];
            let start = before
                .rfind(['处', '、', '，'])
                .map(|i| i + before[i..].chars().next().map_or(0, char::len_utf8))
                .unwrap_or(0);
            let term = before[start..].trim_start_matches("或者");
            p.fixed_term = parse_term(term);
        }
        if p.fixed_term.is_none()
            && !p.life
            && !p.death
            && !p.detention
            && !p.control
            && p.fine.is_none()
        {
            return None;
        }
        Some(p)
    }

    /// The heaviest principal penalty in Chinese, then the lightest, e.g. `三年以下有期徒刑、拘役或者管制`.
    pub fn chinese(&self) -> String {
        let mut kinds = Vec::new();
        if self.death {
            kinds.push("死刑".to_string());
        }
        if self.life {
            kinds.push("无期徒刑".to_string());
        }
        if let Some((lo, hi)) = self.fixed_term {
            kinds.push(format!("有期徒刑{}至{}", months(lo), months(hi)));
        }
        if self.detention {
            kinds.push("拘役".into());
        }
        if self.control {
            kinds.push("管制".into());
        }
        let mut s = kinds.join("、");
        if let Some(f) = self.fine {
            if !s.is_empty() {
                s.push('，');
            }
            s.push_str(f.chinese());
        }
        if self.confiscation {
            s.push_str("，或者没收财产");
        }
        s
    }

    /// The lightest and heaviest fixed-term months the range allows, counting 拘役 as one month
    /// and 无期徒刑/死刑 as the fixed-term maximum (for clamping a guideline interval).
    pub fn month_bounds(&self) -> Option<(u32, u32)> {
        let lo = if self.detention {
            Some(1)
        } else {
            self.fixed_term.map(|t| t.0)
        };
        let hi = if self.life || self.death {
            Some(FIXED_TERM_MAX)
        } else {
            self.fixed_term.map(|t| t.1).or(self.detention.then_some(6))
        };
        Some((lo?, hi?))
    }
}

/// `三年以上十年以下` / `三年以下` / `十年以上` / `六个月以下` / `十年` → months.
fn parse_term(s: &str) -> Option<(u32, u32)> {
    let (a, rest) = parse_duration(s)?;
    if rest.is_empty() {
        return Some((a, a));
    }
    if let Some(rest) = rest.strip_prefix("以下") {
        return rest.is_empty().then_some((FIXED_TERM_MIN, a));
    }
    let rest = rest.strip_prefix("以上")?;
    if rest.is_empty() {
        return Some((a, FIXED_TERM_MAX));
    }
    let (b, rest) = parse_duration(rest)?;
    (rest == "以下").then_some((a, b))
}

fn parse_duration(s: &str) -> Option<(u32, &str)> {
    let (n, used) = parse_number(s)?;
    let rest = &s[used..];
    if let Some(r) = rest.strip_prefix('年') {
        return Some((n * 12, r));
    }
    rest.strip_prefix("个月").map(|r| (n, r))
}

/// Months as a sentence states them: `3年`, `1年6个月`, `6个月`.
pub fn months(m: u32) -> String {
    match (m / 12, m % 12) {
        (0, r) => format!("{r}个月"),
        (y, 0) => format!("{y}年"),
        (y, r) => format!("{y}年{r}个月"),
    }
}

/// A penalty range node: the clause, its place and what it provides.
#[derive(Debug, Clone)]
pub struct PenaltyRange {
    pub article: ArticleNo,
    pub paragraph: u32,
    /// Index of the clause within the article, from 0.
    pub index: usize,
    pub condition: String,
    /// The `CONDITION_WORDS` found in the condition.
    pub conditions: Vec<&'static str>,
    pub clause: String,
    pub penalty: Penalty,
    pub source: usize,
}

impl PenaltyRange {
    /// How the range is cited: `《刑法》第二百六十四条第一款（第2档）`.
    pub fn cite(&self) -> String {
        format!(
            "《刑法》{}第{}款",
            self.article.chinese(),
            crate::to_chinese(self.paragraph)
        )
    }
}

impl Article {
    /// The article's `处…` clauses with the condition each is selected by.
    pub fn penalty_clauses(&self) -> Vec<PenaltyClause<'_>> {
        let mut out = Vec::new();
        for (k, para) in self.paragraphs.iter().enumerate() {
            let mut offset = 0;
            for seg in para.split_inclusive(['；', '。', '\n']) {
                let seg_start = offset;
                offset += seg.len();
                let body = seg.trim_end_matches(['；', '。', '\n']);
                let Some(i) = clause_start(body) else {
                    continue;
                };
                let full = &body[i..];
                let end = full.find(['：', '\n']).unwrap_or(full.len());
                let clause = &full[..end];
                let is_penalty = ["有期徒刑", "拘役", "管制", "死刑", "罚金"]
                    .iter()
                    .any(|p| clause.contains(p));
                if !is_penalty {
                    continue;
                }
                let mut condition = body[..i].to_string();
                if full[end..].starts_with('：') {
                    // The items listed after the colon are the condition too.
                    let after = seg_start + i + end + '：'.len_utf8();
                    condition.push_str(para[after..].trim());
                }
                out.push(PenaltyClause {
                    paragraph: k as u32 + 1,
                    condition,
                    clause,
                });
            }
        }
        out
    }

    /// The clauses as nodes' content: parsed penalty and condition words.
    pub fn penalty_range_nodes(&self) -> Vec<PenaltyRange> {
        self.penalty_clauses()
            .into_iter()
            .filter_map(|c| {
                let penalty = Penalty::parse(c.clause)?;
                Some((c, penalty))
            })
            .enumerate()
            .map(|(index, (c, penalty))| PenaltyRange {
                article: self.no,
                paragraph: c.paragraph,
                index,
                conditions: CONDITION_WORDS
                    .iter()
                    .copied()
                    .filter(|w| c.condition.contains(w))
                    .collect(),
                condition: c.condition,
                clause: c.clause.to_string(),
                penalty,
                source: self.source,
            })
            .collect()
    }
}

/// The byte offset of the `处` that opens a penalty clause (not 并处, 单处, 判处, 处罚).
fn clause_start(seg: &str) -> Option<usize> {
    let mut prev = None;
    for (i, c) in seg.char_indices() {
        if c == '处' && !matches!(prev, Some('并') | Some('单') | Some('判')) {
            return Some(i);
        }
        prev = Some(c);
    }
    None
}
