//! The statute as knowledge: every current charge of the statute graph (`xiezhi-graph`) with
//! the conduct its Criminal Law (刑法) article describes (罪状) and the wording of the judicial
//! interpretations that name it, so a fact can be matched to a charge no labeled example shows.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use xiezhi_graph::{Charge, StatuteGraph};
use xiezhi_standard::codes::{table, CodeTable};

use crate::text::{dot, ngram_counts, SparseVec, Vocabulary};

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

/// One current charge as the statute graph describes it; kept in the model file so a saved
/// model needs no reference texts to predict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatuteCharge {
    /// Charge-table code, when the name is in the table.
    pub code: Option<String>,
    /// Official name, e.g. `盗窃罪`.
    pub name: String,
    /// The name without the final 罪, as CAIL2018 labels charges.
    pub core: String,
    /// `刑法第264条`, `刑法第133条之一第2款`.
    pub basis: String,
    pub article: u32,
    /// The conduct part (罪状) of the article or paragraph: the text before its first penalty
    /// clause (empty when the graph has no text for the paragraph).
    pub text: String,
    /// Sentences of the judicial interpretations that name the charge (amount standards,
    /// typical conduct), each prefixed by its source title.
    pub interpretation: Vec<String>,
    /// The graph's citation of the version in force today (charge, article, 罪名规定 text).
    pub citation: String,
    /// The 罪名规定 text that set the current name, and from when.
    pub version: String,
    pub in_force_from: NaiveDate,
}

/// Every current charge with its statute text and two profiles over it: a TF-IDF vector
/// (cosine) and its key terms (coverage).
#[derive(Debug)]
pub struct StatuteKnowledge {
    pub charges: Vec<StatuteCharge>,
    vocab: Vocabulary,
    profiles: Vec<SparseVec>,
    /// Per charge: (term, weight) of its name and 罪状 n-grams, and the weight sum.
    keys: Vec<(Vec<(u32, f32)>, f32)>,
}

/// A statute match for a fact.
#[derive(Debug, Clone)]
pub struct StatuteMatch {
    pub index: usize,
    /// Cosine between the fact and the charge's name, 罪状 and interpretation wording.
    pub similarity: f32,
    /// Share of the weight of the charge's key terms (name and 罪状 n-grams, weighted by how
    /// rarely other articles and facts use them) that the fact contains.
    pub coverage: f32,
    /// Whether the fact names the charge: its name (without 罪) followed by 罪, or the name
    /// twice (once alone is often a negation such as 不存在刑讯逼供).
    pub name_in_text: bool,
}

impl StatuteMatch {
    /// The ranking score: key-term coverage and cosine, literal naming counting most.
    pub fn score(&self) -> f32 {
        self.coverage + self.similarity + if self.name_in_text { 0.5 } else { 0.0 }
    }
}

/// The conduct part (罪状) of an article paragraph: the text before its first penalty clause
/// (`，处…` or `的，处…`), which describes the punishment rather than the act.
pub fn conduct(paragraph: &str) -> &str {
    paragraph.split("，处").next().unwrap_or(paragraph)
}

/// `刑法第264条`, `刑法第133条之一第2款`: the basis as the charge table writes it.
fn basis_of(c: &Charge) -> String {
    let mut s = format!("刑法第{}条", c.article.number);
    if c.article.sub > 0 {
        s.push('之');
        s.push_str(&chinese_number(c.article.sub));
    }
    if let Some(p) = c.paragraph {
        s.push_str(&format!("第{p}款"));
    }
    s
}

/// The 罪状 of a charge from its article's paragraphs (款) in the graph: the named paragraph,
/// else the first (later ones mostly add aggravations or unit liability). The conduct is the
/// text before the penalty, with the paragraph's items (`（一）…`) when the conduct refers to
/// them (`有下列情形之一`); items after a penalty alone list aggravations.
fn conduct_of(paragraphs: &[String], paragraph: Option<u32>) -> String {
    let i = paragraph.map_or(0, |p| p as usize).saturating_sub(1);
    let Some(p) = paragraphs.get(i) else {
        return String::new();
    };
    let mut lines = p.lines();
    let mut out = conduct(lines.next().unwrap_or("")).to_string();
    if out.contains("下列") {
        for item in lines {
            out.push('；');
            out.push_str(item.trim());
        }
    }
    out
}

/// The interpretation texts (`laws/司法解释-数额标准/*.md` under the reference directory) as
/// (title, article sentences); a missing directory gives none.
pub fn read_interpretations(reference: &Path) -> Vec<(String, Vec<String>)> {
    let dir = reference.join("laws/司法解释-数额标准");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let title = p.file_stem()?.to_string_lossy().into_owned();
            let body = text.split("<!-- INFO END -->").last().unwrap_or(&text);
            let sentences = body
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .flat_map(|l| l.split('。'))
                .map(|s| s.trim().to_string())
                .filter(|s| s.chars().count() >= 6)
                .collect();
            Some((title, sentences))
        })
        .collect()
}

impl StatuteKnowledge {
    /// Builds the knowledge from the statute graph's current charges and the judicial
    /// interpretations. `background` (fact texts) lowers the weight of words every fact uses
    /// (被告人, 有期徒刑).
    pub fn from_graph<'a>(
        graph: &StatuteGraph,
        interpretations: &[(String, Vec<String>)],
        background: impl Iterator<Item = &'a str>,
    ) -> StatuteKnowledge {
        let charges = charges_of(graph, interpretations);
        StatuteKnowledge::from_charges(charges, background)
    }

    /// Builds the profiles over charges already described.
    pub fn from_charges<'a>(
        charges: Vec<StatuteCharge>,
        background: impl Iterator<Item = &'a str>,
    ) -> StatuteKnowledge {
        let docs = docs_of(&charges);
        let mut vocab = Vocabulary::build_min_len(docs.iter().map(String::as_str), 1, 200_000, 2);
        vocab.reweight(docs.iter().map(String::as_str), background);
        StatuteKnowledge::with_vocabulary(charges, vocab)
    }

    /// Rebuilds the knowledge with a vocabulary saved from [`StatuteKnowledge::from_graph`].
    pub fn with_vocabulary(charges: Vec<StatuteCharge>, vocab: Vocabulary) -> StatuteKnowledge {
        let docs = docs_of(&charges);
        let profiles = docs.iter().map(|d| vocab.vectorize(d)).collect();
        let keys = charges
            .iter()
            .map(|c| {
                let mut k: Vec<(u32, f32)> = ngram_counts(&format!("{} {}", c.core, c.text))
                    .into_keys()
                    .filter_map(|g| vocab.index_of(&g))
                    .map(|i| (i, vocab.idf[i as usize]))
                    .collect();
                k.sort_unstable_by_key(|p| p.0);
                let total = k.iter().map(|p| p.1).sum();
                (k, total)
            })
            .collect();
        StatuteKnowledge {
            charges,
            vocab,
            profiles,
            keys,
        }
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocab
    }

    /// Each charge's statute language (name, 罪状, interpretation sentences), in order.
    pub fn documents(&self) -> Vec<String> {
        docs_of(&self.charges)
    }

    /// Every charge scored against the fact, best first.
    pub fn rank(&self, fact: &str) -> Vec<StatuteMatch> {
        let x = self.vocab.vectorize(fact);
        let mut m: Vec<StatuteMatch> = self
            .profiles
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (k, total) = &self.keys[i];
                StatuteMatch {
                    index: i,
                    similarity: dot(&x, p),
                    coverage: if *total > 0.0 {
                        overlap(&x, k) / total
                    } else {
                        0.0
                    },
                    name_in_text: names(fact, &self.charges[i].core),
                }
            })
            .collect();
        m.sort_by(|a, b| b.score().total_cmp(&a.score()).then(a.index.cmp(&b.index)));
        m
    }

    pub fn by_core_name(&self, core: &str) -> Option<usize> {
        self.charges.iter().position(|c| c.core == core)
    }
}

/// Sum of the key weights whose term occurs in the fact vector (both sorted by term).
fn overlap(x: &[(u32, f32)], keys: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < x.len() && j < keys.len() {
        match x[i].0.cmp(&keys[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += keys[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

fn docs_of(charges: &[StatuteCharge]) -> Vec<String> {
    charges
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {}",
                c.core,
                c.core,
                c.text,
                c.interpretation.join("。")
            )
        })
        .collect()
}

fn charges_of(
    graph: &StatuteGraph,
    interpretations: &[(String, Vec<String>)],
) -> Vec<StatuteCharge> {
    let codes: HashMap<&str, &str> = table(CodeTable::Charge)
        .entries()
        .iter()
        .filter(|e| e.is_current())
        .map(|e| (e.name.as_str(), e.code.as_str()))
        .collect();
    graph
        .current_charges()
        .map(|c| {
            let text = graph
                .article_of(c)
                .map(|a| conduct_of(&a.paragraphs, c.paragraph))
                .unwrap_or_default();
            let core = c.name.strip_suffix('罪').unwrap_or(&c.name).to_string();
            let interpretation = interpretations
                .iter()
                .flat_map(|(title, sentences)| {
                    sentences
                        .iter()
                        .filter(|s| core.chars().count() >= 2 && s.contains(core.as_str()))
                        .map(move |s| format!("《{title}》：{s}"))
                })
                .collect();
            let src = &graph.sources[c.source].file;
            let title = src
                .rsplit('/')
                .next()
                .unwrap_or(src)
                .trim_end_matches(".md");
            StatuteCharge {
                code: codes.get(c.name.as_str()).map(|s| s.to_string()),
                name: c.name.clone(),
                core,
                basis: basis_of(c),
                article: c.article.number,
                text,
                interpretation,
                citation: graph.cite(c),
                version: format!("{title}，自{}起", c.in_force_from),
                in_force_from: c.in_force_from,
            }
        })
        .collect()
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
    fn conduct_stops_at_the_penalty_and_picks_the_paragraph() {
        let art = [
            "以暴力、威胁方法阻碍国家机关工作人员依法执行职务的，处三年以下有期徒刑。".to_string(),
            "暴力袭击正在依法执行职务的人民警察的，处三年以下有期徒刑。".to_string(),
        ];
        assert_eq!(
            conduct_of(&art, Some(1)),
            "以暴力、威胁方法阻碍国家机关工作人员依法执行职务的"
        );
        assert_eq!(conduct_of(&art, None), conduct_of(&art, Some(1)));
        assert_eq!(
            conduct_of(&art, Some(2)),
            "暴力袭击正在依法执行职务的人民警察的"
        );
        assert_eq!(conduct_of(&art, Some(3)), "");
        let items = ["有下列情形之一，进行信用卡诈骗活动，数额较大的，处五年以下有期徒刑：\n（一）使用伪造的信用卡的；\n（二）恶意透支的。".to_string()];
        assert_eq!(
            conduct_of(&items, None),
            "有下列情形之一，进行信用卡诈骗活动，数额较大的；（一）使用伪造的信用卡的；；（二）恶意透支的。"
        );
        let aggravations = ["强奸妇女的，处三年以上有期徒刑：\n（一）情节恶劣的。".to_string()];
        assert_eq!(conduct_of(&aggravations, None), "强奸妇女的");
    }
}
