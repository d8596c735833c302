//! Character n-gram features with TF-IDF weights: Chinese legal text needs no word segmenter
//! for classification, and n-grams of one to three characters carry charge names, drug kinds
//! and amounts alike.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Longest n-gram (in characters) used as a feature.
pub const MAX_N: usize = 3;

/// Folds full-width digits and letters to ASCII so `３０００元` and `3000元` share features.
pub fn normalize_char(c: char) -> char {
    match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => {
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        _ => c,
    }
}

/// Runs of content characters (letters, CJK, digits); punctuation and spaces split runs so no
/// n-gram spans a sentence boundary.
fn runs(text: &str) -> Vec<Vec<char>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for c in text.chars().map(normalize_char) {
        if c.is_alphanumeric() {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Every n-gram (1..=MAX_N characters) of the text with its count.
pub fn ngram_counts(text: &str) -> HashMap<String, u32> {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for run in runs(text) {
        for i in 0..run.len() {
            let mut g = String::new();
            for n in 1..=MAX_N {
                if i + n > run.len() {
                    break;
                }
                g.push(run[i + n - 1]);
                *counts.entry(g.clone()).or_default() += 1;
            }
        }
    }
    counts
}

/// A fixed vocabulary of n-grams with their inverse document frequencies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vocabulary {
    pub terms: Vec<String>,
    pub idf: Vec<f32>,
    #[serde(skip)]
    index: HashMap<String, u32>,
}

/// A sparse, L2-normalised document vector: (feature index, weight), sorted by index.
pub type SparseVec = Vec<(u32, f32)>;

impl Vocabulary {
    /// Keeps n-grams seen in at least `min_df` documents, at most `max_features` of them
    /// (most frequent first, ties by text so the vocabulary is reproducible).
    pub fn build<'a>(
        docs: impl Iterator<Item = &'a str>,
        min_df: u32,
        max_features: usize,
    ) -> Vocabulary {
        Vocabulary::build_min_len(docs, min_df, max_features, 1)
    }

    /// As [`Vocabulary::build`], keeping only n-grams of at least `min_len` characters.
    pub fn build_min_len<'a>(
        docs: impl Iterator<Item = &'a str>,
        min_df: u32,
        max_features: usize,
        min_len: usize,
    ) -> Vocabulary {
        let mut df: HashMap<String, u32> = HashMap::new();
        let mut n_docs = 0u32;
        for d in docs {
            n_docs += 1;
            for g in ngram_counts(d)
                .into_keys()
                .filter(|g| g.chars().count() >= min_len)
            {
                *df.entry(g).or_default() += 1;
            }
        }
        let mut kept: Vec<(String, u32)> = df.into_iter().filter(|(_, c)| *c >= min_df).collect();
        kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        kept.truncate(max_features);
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        let idf = kept
            .iter()
            .map(|(_, c)| ((1.0 + n_docs as f32) / (1.0 + *c as f32)).ln() + 1.0)
            .collect();
        let terms = kept.into_iter().map(|(t, _)| t).collect();
        let mut v = Vocabulary {
            terms,
            idf,
            index: HashMap::new(),
        };
        v.reindex();
        v
    }

    /// Recomputes the IDF of the kept terms over two collections of documents together.
    pub fn reweight<'b, 'c>(
        &mut self,
        first: impl Iterator<Item = &'b str>,
        second: impl Iterator<Item = &'c str>,
    ) {
        let docs: Vec<&str> = first.collect();
        let docs2: Vec<&str> = second.collect();
        let mut df = vec![0u32; self.terms.len()];
        let mut n = 0u32;
        for d in docs.into_iter().chain(docs2) {
            n += 1;
            for g in ngram_counts(d).into_keys() {
                if let Some(&i) = self.index.get(&g) {
                    df[i as usize] += 1;
                }
            }
        }
        self.idf = df
            .iter()
            .map(|&c| ((1.0 + n as f32) / (1.0 + c as f32)).ln() + 1.0)
            .collect();
    }

    /// Rebuilds the lookup table after deserialisation.
    pub fn reindex(&mut self) {
        self.index = self
            .terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// The feature index of an n-gram, if kept.
    pub fn index_of(&self, term: &str) -> Option<u32> {
        self.index.get(term).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Sublinear TF times IDF, L2-normalised.
    pub fn vectorize(&self, text: &str) -> SparseVec {
        let mut v: SparseVec = ngram_counts(text)
            .into_iter()
            .filter_map(|(g, tf)| {
                let i = *self.index.get(&g)?;
                Some((i, (1.0 + (tf as f32).ln()) * self.idf[i as usize]))
            })
            .collect();
        v.sort_unstable_by_key(|p| p.0);
        let norm = v.iter().map(|p| p.1 * p.1).sum::<f32>().sqrt();
        if norm > 0.0 {
            for p in &mut v {
                p.1 /= norm;
            }
        }
        v
    }
}

/// Cosine of two L2-normalised sparse vectors sorted by index.
pub fn dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ngrams_do_not_cross_punctuation_and_fold_full_width_digits() {
        let c = ngram_counts("盗窃，３元");
        assert_eq!(c.get("盗窃"), Some(&1));
        assert!(!c.contains_key("窃3"));
        assert_eq!(c.get("3元"), Some(&1));
    }

    #[test]
    fn vectors_are_unit_length() {
        let docs = ["被告人盗窃财物", "被告人贩卖毒品", "被告人盗窃手机"];
        let v = Vocabulary::build(docs.iter().copied(), 1, 1000);
        let x = v.vectorize("被告人盗窃");
        let n: f32 = x.iter().map(|p| p.1 * p.1).sum();
        assert!((n - 1.0).abs() < 1e-4);
        assert!(dot(&x, &v.vectorize("盗窃财物")) > dot(&x, &v.vectorize("贩卖毒品")));
    }
}
