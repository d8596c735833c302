//! The statute as knowledge: every current charge of the charge table with the conduct its
//! Criminal Law (刑法) article describes (罪状), so a fact can be matched to a charge that no
//! labeled example shows.

use std::collections::HashMap;

use xiezhi_standard::codes::{table, CodeTable};

use crate::text::{dot, SparseVec, Vocabulary};

/// Chinese numeral of an article number as the statute writes it: 264 -> 二百六十四,
/// 105 -> 一百零五, 10 -> 十, 110 -> 一百一十.
pub fn chinese_number(n: u32) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (h, t, u) = (n / 100, (n / 10) % 10, n % 10);
    let mut s = String::new();
    if h > 0 {
        s.push_str(D[h as usize]);
        s.push('百');
    }
    if t > 0 {
        if !(h == 0 && t == 1) {
            s.push_str(D[t as usize]);
        }
        s.push('十');
    } else if h > 0 && u > 0 {
        s.push('零');
    }
    if u > 0 || n == 0 {
        s.push_str(D[u as usize]);
    }
    s
}

/// Articles of a statute text in the repository's Markdown form: heading key `第N条` or
/// `第N条之一` -> the article's paragraphs (款).
pub fn parse_articles(md: &str) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') {
            current = None;
            continue;
        }
        if line.starts_with('第') {
            if let Some((head, rest)) = line.split_once(' ') {
                if head.ends_with('条') || head.contains("条之") {
                    out.insert(head.to_string(), vec![rest.to_string()]);
                    current = Some(head.to_string());
                    continue;
                }
            }
        }
        if let Some(k) = &current {
            if let Some(v) = out.get_mut(k) {
                v.push(line.to_string());
            }
        }
    }
    out
}

/// `刑法第133条之一第2款` -> (article key `第一百三十三条之一`, paragraph 2, article number 133).
pub fn parse_basis(basis: &str) -> Option<(String, Option<usize>, u32)> {
    let rest = basis.strip_prefix("刑法第")?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u32 = digits.parse().ok()?;
    let rest = rest[digits.len()..].strip_prefix('条')?;
    let mut key = format!("第{}条", chinese_number(n));
    let mut rest = rest;
    if let Some(r) = rest.strip_prefix('之') {
        let suffix: String = r
            .chars()
            .take_while(|c| "一二三四五六七八九十".contains(*c))
            .collect();
        key.push('之');
        key.push_str(&suffix);
        rest = &r[suffix.len()..];
    }
    let para = rest.strip_prefix('第').and_then(|r| {
        let d: String = r.chars().take_while(|c| c.is_ascii_digit()).collect();
        d.parse().ok()
    });
    Some((key, para, n))
}

/// One charge as the statute describes it.
#[derive(Debug, Clone)]
pub struct StatuteCharge {
    pub code: String,
    /// Official name, e.g. `盗窃罪`.
    pub name: String,
    /// The name without the final 罪, as CAIL2018 labels charges.
    pub core: String,
    pub basis: String,
    pub article: u32,
    /// The article text used as the charge's description (empty if the article was not found).
    pub text: String,
}

/// Every current charge with its statute text and a TF-IDF profile over them.
#[derive(Debug)]
pub struct StatuteKnowledge {
    pub charges: Vec<StatuteCharge>,
    vocab: Vocabulary,
    profiles: Vec<SparseVec>,
}

/// A statute match for a fact.
#[derive(Debug, Clone)]
pub struct StatuteMatch {
    pub index: usize,
    /// Cosine between the fact and the charge's name and article text.
    pub similarity: f32,
    /// Whether the fact names the charge: its name (without 罪) followed by 罪, or the name
    /// twice (once alone is often a negation such as 不存在刑讯逼供).
    pub name_in_text: bool,
}

impl StatuteMatch {
    /// The ranking score: literal naming counts more than word overlap.
    pub fn score(&self) -> f32 {
        self.similarity + if self.name_in_text { 0.5 } else { 0.0 }
    }
}

impl StatuteKnowledge {
    /// Builds the profiles from the charge table and the text of 刑法 (`laws/刑法.md`).
    /// `background` (fact texts) lowers the weight of words every fact uses (被告人, 有期徒刑);
    /// pass the vocabulary back through [`StatuteKnowledge::vocabulary`] to rebuild the same
    /// profiles later without the facts.
    pub fn new<'a>(
        criminal_law_md: &str,
        background: impl Iterator<Item = &'a str>,
    ) -> StatuteKnowledge {
        let charges = charges_of(criminal_law_md);
        let docs = docs_of(&charges);
        let mut vocab = Vocabulary::build_min_len(docs.iter().map(String::as_str), 1, 200_000, 2);
        vocab.reweight(docs.iter().map(String::as_str), background);
        StatuteKnowledge::assemble(charges, docs, vocab)
    }

    /// Rebuilds the knowledge with a vocabulary saved from [`StatuteKnowledge::new`].
    pub fn with_vocabulary(criminal_law_md: &str, vocab: Vocabulary) -> StatuteKnowledge {
        let charges = charges_of(criminal_law_md);
        let docs = docs_of(&charges);
        StatuteKnowledge::assemble(charges, docs, vocab)
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocab
    }

    fn assemble(
        charges: Vec<StatuteCharge>,
        docs: Vec<String>,
        vocab: Vocabulary,
    ) -> StatuteKnowledge {
        let profiles = docs.iter().map(|d| vocab.vectorize(d)).collect();
        StatuteKnowledge {
            charges,
            vocab,
            profiles,
        }
    }
}

/// The conduct part (罪状) of an article paragraph: the text before its first penalty clause
/// (`，处…`), which describes the punishment rather than the act.
fn conduct(paragraph: &str) -> &str {
    paragraph.split("，处").next().unwrap_or(paragraph)
}

fn docs_of(charges: &[StatuteCharge]) -> Vec<String> {
    charges
        .iter()
        .map(|c| format!("{} {} {}", c.core, c.core, c.text))
        .collect()
}

fn charges_of(criminal_law_md: &str) -> Vec<StatuteCharge> {
    {
        let articles = parse_articles(criminal_law_md);
        let mut charges = Vec::new();
        for e in table(CodeTable::Charge).entries() {
            if !e.is_current() {
                continue;
            }
            let Some((key, para, article)) = parse_basis(&e.basis) else {
                continue;
            };
            let paras = articles.get(&key).cloned().unwrap_or_default();
            let text = match para {
                Some(p) if p >= 1 && p <= paras.len() => conduct(&paras[p - 1]).to_string(),
                _ => paras
                    .iter()
                    .map(|p| conduct(p))
                    .collect::<Vec<_>>()
                    .join("。"),
            };
            let core = e.name.strip_suffix('罪').unwrap_or(&e.name).to_string();
            charges.push(StatuteCharge {
                code: e.code.clone(),
                name: e.name.clone(),
                core,
                basis: e.basis.clone(),
                article,
                text,
            });
        }
        charges
    }
}

impl StatuteKnowledge {
    /// Every charge scored against the fact, best first.
    pub fn rank(&self, fact: &str) -> Vec<StatuteMatch> {
        let x = self.vocab.vectorize(fact);
        let mut m: Vec<StatuteMatch> = self
            .profiles
            .iter()
            .enumerate()
            .map(|(i, p)| StatuteMatch {
                index: i,
                similarity: dot(&x, p),
                name_in_text: names(fact, &self.charges[i].core),
            })
            .collect();
        m.sort_by(|a, b| b.score().total_cmp(&a.score()).then(a.index.cmp(&b.index)));
        m
    }

    pub fn by_core_name(&self, core: &str) -> Option<usize> {
        self.charges.iter().position(|c| c.core == core)
    }
}

fn names(fact: &str, core: &str) -> bool {
    core.chars().count() >= 2
        && (fact.contains(&format!("{core}罪")) || fact.matches(core).count() >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_numbers_in_chinese() {
        assert_eq!(chinese_number(264), "二百六十四");
        assert_eq!(chinese_number(105), "一百零五");
        assert_eq!(chinese_number(10), "十");
        assert_eq!(chinese_number(110), "一百一十");
        assert_eq!(chinese_number(20), "二十");
        assert_eq!(chinese_number(300), "三百");
    }

    #[test]
    fn basis_parsing() {
        assert_eq!(
            parse_basis("刑法第133条之一第2款"),
            Some(("第一百三十三条之一".into(), Some(2), 133))
        );
        assert_eq!(
            parse_basis("刑法第264条"),
            Some(("第二百六十四条".into(), None, 264))
        );
        assert_eq!(parse_basis("全国人大常委会关于…决定第1条"), None);
    }

    #[test]
    fn articles_split_into_paragraphs() {
        let md = "## 章\n\n第一百零三条 组织分裂国家的，处刑。\n\n煽动分裂国家的，处刑。\n\n第一百零四条 叛乱的。\n";
        let a = parse_articles(md);
        assert_eq!(a["第一百零三条"].len(), 2);
        assert_eq!(a["第一百零四条"], vec!["叛乱的。".to_string()]);
    }
}
