//! The search corpus from the shared data (CJRC judgments, CAIL2018 facts), the judged query
//! set and its quality figures, and a seeded synthetic corpus for the search benchmark.

use std::path::Path;

use serde::Serialize;

use crate::cail::{self, charge_name_of_label};
use crate::linear::SplitMix;
use crate::search::{year_of, SearchDoc, SearchIndex, SearchQuery};
use crate::InsightError;

/// CJRC judgments (`judgments/cjrc_dev.json`): criminal cases carry their charge as case name.
pub fn cjrc_docs(path: &Path) -> Result<Vec<SearchDoc>, InsightError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InsightError::Io(path.display().to_string(), e))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| InsightError::Data {
        path: path.display().to_string(),
        line: e.line(),
        reason: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (i, case) in v["data"].as_array().into_iter().flatten().enumerate() {
        for (j, p) in case["paragraphs"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let context = p["context"].as_str().unwrap_or_default().to_string();
            let name = p["casename"].as_str().unwrap_or_default().to_string();
            out.push(SearchDoc {
                id: format!("cjrc-{i}-{j}"),
                source: "cjrc".into(),
                charges: if name.ends_with('罪') {
                    vec![name.clone()]
                } else {
                    Vec::new()
                },
                title: name,
                year: year_of(&context),
                term_months: None,
                text: context,
            });
        }
    }
    Ok(out)
}

/// CAIL2018 facts with their labeled charges and terms.
pub fn cail2018_docs(path: &Path) -> Result<Vec<SearchDoc>, InsightError> {
    let recs = crate::data::read_jsonl(path, cail::parse_record)?;
    Ok(recs
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let charges: Vec<String> = r
                .meta
                .accusation
                .iter()
                .map(|a| charge_name_of_label(a))
                .collect();
            let t = r.meta.term_of_imprisonment;
            SearchDoc {
                id: format!("cail2018-{}", i + 1),
                source: "cail2018".into(),
                title: charges.join("、"),
                year: year_of(&r.fact),
                term_months: (!t.death_penalty && !t.life_imprisonment)
                    .then_some(u64::from(t.imprisonment)),
                charges,
                text: r.fact,
            }
        })
        .collect())
}

/// A judged query.
#[derive(Debug, Clone)]
pub struct Judged {
    pub query: String,
    pub relevant: Vec<String>,
}

/// Reads the judged set (`query<TAB>charge,charge`); `#` lines are comments.
pub fn judged(text: &str) -> Vec<Judged> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (q, r) = l.split_once('\t')?;
            Some(Judged {
                query: q.trim().to_string(),
                relevant: r.split(',').map(|s| s.trim().to_string()).collect(),
            })
        })
        .collect()
}

/// The judged set shipped with the crate.
pub const JUDGED: &str = include_str!("../data/search-judged.tsv");

/// Search quality over the judged set.
#[derive(Debug, Clone, Serialize)]
pub struct SearchQuality {
    pub queries: usize,
    /// Queries skipped because no indexed document carries their charges.
    pub skipped: usize,
    pub precision_at_10: f64,
    pub mrr: f64,
    pub ndcg_at_10: f64,
}

/// Scores the index on the judged queries (binary relevance by charge); `bm25_only` turns the
/// element re-ranking off for the baseline figure.
pub fn search_quality(
    ix: &SearchIndex,
    docs: &[SearchDoc],
    set: &[Judged],
    bm25_only: bool,
) -> Result<SearchQuality, crate::search::SearchError> {
    let (mut n, mut skipped, mut p10, mut mrr, mut ndcg) = (0usize, 0usize, 0.0, 0.0, 0.0);
    for j in set {
        let total = docs
            .iter()
            .filter(|d| d.charges.iter().any(|c| j.relevant.contains(c)))
            .count();
        if total == 0 {
            skipped += 1;
            continue;
        }
        n += 1;
        let hits = ix.search(&SearchQuery {
            text: j.query.clone(),
            limit: 10,
            bm25_only,
            ..Default::default()
        })?;
        let rel: Vec<bool> = hits
            .iter()
            .map(|h| h.charges.iter().any(|c| j.relevant.contains(c)))
            .collect();
        p10 += rel.iter().filter(|r| **r).count() as f64 / 10.0;
        if let Some(k) = rel.iter().position(|r| *r) {
            mrr += 1.0 / (k as f64 + 1.0);
        }
        let dcg: f64 = rel
            .iter()
            .enumerate()
            .filter(|p| *p.1)
            .map(|(k, _)| 1.0 / (k as f64 + 2.0).log2())
            .sum();
        let idcg: f64 = (0..total.min(10))
            .map(|k| 1.0 / (k as f64 + 2.0).log2())
            .sum();
        ndcg += dcg / idcg;
    }
    let d = n.max(1) as f64;
    Ok(SearchQuality {
        queries: n,
        skipped,
        precision_at_10: p10 / d,
        mrr: mrr / d,
        ndcg_at_10: ndcg / d,
    })
}

/// `n` synthetic documents recombined from sentences of the real ones (seeded): each takes
/// three sentences of random real documents and the charges of the first.
pub fn synthetic_docs(real: &[SearchDoc], n: usize, seed: u64) -> Vec<SearchDoc> {
    let sentences: Vec<(usize, &str)> = real
        .iter()
        .enumerate()
        .flat_map(|(i, d)| {
            d.text
                .split('。')
                .filter(|s| s.chars().count() > 8)
                .map(move |s| (i, s))
        })
        .collect();
    if sentences.is_empty() {
        return Vec::new();
    }
    let mut rng = SplitMix(seed);
    (0..n)
        .map(|k| {
            let pick =
                |rng: &mut SplitMix| sentences[(rng.next_u64() % sentences.len() as u64) as usize];
            let (first, s1) = pick(&mut rng);
            let (_, s2) = pick(&mut rng);
            let (_, s3) = pick(&mut rng);
            let src = &real[first];
            SearchDoc {
                id: format!("synthetic-{k}"),
                source: "synthetic".into(),
                title: src.title.clone(),
                text: format!("{s1}。{s2}。{s3}。"),
                charges: src.charges.clone(),
                year: src.year,
                term_months: src.term_months,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_judged_set_parses() {
        let j = judged(JUDGED);
        assert!(j.len() >= 20);
        assert!(j
            .iter()
            .all(|q| q.relevant.iter().all(|c| c.ends_with('罪'))));
    }

    #[test]
    fn synthetic_docs_are_seeded() {
        let real = vec![SearchDoc {
            id: "r".into(),
            source: "t".into(),
            title: "盗窃罪".into(),
            text: "被告人张某于某日窃取手机一部。后被公安机关抓获归案。赃物已发还被害人。".into(),
            charges: vec!["盗窃罪".into()],
            year: Some(2016),
            term_months: Some(6),
        }];
        let a = synthetic_docs(&real, 5, 1);
        let b = synthetic_docs(&real, 5, 1);
        assert_eq!(
            a.iter().map(|d| &d.text).collect::<Vec<_>>(),
            b.iter().map(|d| &d.text).collect::<Vec<_>>()
        );
        assert_eq!(a[0].charges, vec!["盗窃罪".to_string()]);
    }
}
