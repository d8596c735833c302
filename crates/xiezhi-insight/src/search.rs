//! Similar-case search: a tantivy index over judgment and fact texts, tokenised by jieba with
//! a legal user dictionary (every charge name of the charge table and the circumstance names),
//! BM25 with structured filters (charge, year, term), then a re-ranking by the case elements
//! the query and each hit share (charge, amount, circumstances), each part reported.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use jieba_rs::Jieba;
use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED,
    STRING,
};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{doc, Index, IndexReader, IndexWriter, TantivyDocument, Term};
use xiezhi_standard::codes::{table, CodeTable};

use crate::elements::{amounts, charges_in, circumstances};

const TOKENIZER: &str = "zh_legal";

/// The segmenter with the legal user dictionary, built once per process.
pub fn legal_jieba() -> &'static Arc<Jieba> {
    static J: OnceLock<Arc<Jieba>> = OnceLock::new();
    J.get_or_init(|| {
        let mut j = Jieba::new();
        for e in table(CodeTable::Charge).entries() {
            let core = e.name.strip_suffix('罪').unwrap_or(&e.name);
            // jieba splits at punctuation, so names with 、 enter as their parts.
            for part in core.split('、').filter(|p| p.chars().count() >= 2) {
                j.add_word(part, Some(20_000), Some("n"));
            }
        }
        for e in table(CodeTable::Circumstance).entries() {
            j.add_word(&e.name, Some(20_000), Some("n"));
        }
        Arc::new(j)
    })
}

/// Tokens of a text as the index sees them (search mode: words and their sub-words).
pub fn tokens(text: &str) -> Vec<String> {
    legal_jieba()
        .cut_for_search(text, true)
        .into_iter()
        .filter(|t| t.word.chars().any(char::is_alphanumeric))
        .map(|t| t.word.to_string())
        .collect()
}

/// jieba as a tantivy tokenizer.
#[derive(Clone)]
pub struct LegalTokenizer;

pub struct LegalTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl Tokenizer for LegalTokenizer {
    type TokenStream<'a> = LegalTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> LegalTokenStream {
        let tokens = legal_jieba()
            .cut_for_search(text, true)
            .into_iter()
            .filter(|t| t.word.chars().any(char::is_alphanumeric))
            .enumerate()
            .map(|(i, t)| Token {
                offset_from: t.byte_start,
                offset_to: t.byte_end,
                position: i,
                text: t.word.to_string(),
                position_length: 1,
            })
            .collect();
        LegalTokenStream { tokens, index: 0 }
    }
}

impl TokenStream for LegalTokenStream {
    fn advance(&mut self) -> bool {
        self.index += 1;
        self.index <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.index - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index - 1]
    }
}

/// A document to index: a judgment or a fact description with its structured fields.
#[derive(Debug, Clone, Serialize)]
pub struct SearchDoc {
    pub id: String,
    /// `cjrc`, `cail2018`, `synthetic` ...
    pub source: String,
    pub title: String,
    pub text: String,
    /// Charge names with 罪 (`盗窃罪`).
    pub charges: Vec<String>,
    pub year: Option<u64>,
    pub term_months: Option<u64>,
}

/// First four-digit year (19xx/20xx) followed by 年 in a text.
pub fn year_of(text: &str) -> Option<u64> {
    let c: Vec<char> = text.chars().collect();
    c.windows(5).find_map(|w| {
        let digits: String = w[..4].iter().collect();
        (w[4] == '年'
            && digits.chars().all(|d| d.is_ascii_digit())
            && (digits.starts_with("19") || digits.starts_with("20")))
        .then(|| digits.parse().ok())
        .flatten()
    })
}

struct Fields {
    id: Field,
    source: Field,
    title: Field,
    text: Field,
    charges: Field,
    year: Field,
    term: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let zh = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let f = Fields {
        id: b.add_text_field("id", STRING | STORED),
        source: b.add_text_field("source", STRING | STORED),
        title: b.add_text_field("title", STRING | STORED),
        text: b.add_text_field("text", zh),
        charges: b.add_text_field("charges", STRING | STORED),
        year: b.add_u64_field("year", INDEXED | FAST | STORED),
        term: b.add_u64_field("term_months", INDEXED | FAST | STORED),
    };
    (b.build(), f)
}

/// Errors of the search index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("cannot open index directory `{0}`: {1}")]
    Dir(String, String),
}

/// An opened index.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    f: Fields,
}

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    /// Charge name, with or without 罪.
    pub charge: Option<String>,
    pub year_from: Option<u64>,
    pub year_to: Option<u64>,
    pub term_min: Option<u64>,
    pub term_max: Option<u64>,
    pub limit: usize,
    /// Rank by BM25 alone (the baseline the element re-ranking is measured against).
    pub bm25_only: bool,
    /// A GB/T 2260 division (6-digit code or name) the text must name: the corpora carry no
    /// division code, so the place is matched in the text.
    pub region: Option<String>,
}

/// The name a region filter looks for in the text: a division code's name, or the text given.
pub fn region_name(region: &str) -> String {
    let r = region.trim();
    if r.len() == 6 && r.bytes().all(|b| b.is_ascii_digit()) {
        if let Some(e) = table(CodeTable::Division).get(r) {
            return e.name.clone();
        }
    }
    r.to_string()
}

/// One hit with the parts of its score.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: String,
    pub source: String,
    pub title: String,
    pub charges: Vec<String>,
    pub year: Option<u64>,
    pub term_months: Option<u64>,
    pub snippet: String,
    pub score: f32,
    /// BM25 of the text match.
    pub bm25: f32,
    /// Re-ranking bonus for a charge the query names (with or without 罪) or filters on.
    pub charge_bonus: f32,
    /// Bonus for amounts of similar size (log scale).
    pub amount_bonus: f32,
    /// Bonus for shared sentencing circumstances.
    pub circumstance_bonus: f32,
    /// The elements query and hit share, in Chinese (罪名, 金额, 情节), each bonus explained.
    pub matched: Vec<String>,
}

fn register(index: &Index) {
    index
        .tokenizers()
        .register(TOKENIZER, TextAnalyzer::builder(LegalTokenizer).build());
}

impl SearchIndex {
    /// Creates an empty index in `dir` (created if missing), or in memory when `None`.
    pub fn create(dir: Option<&Path>) -> Result<SearchIndex, SearchError> {
        let (schema, f) = schema();
        let index = match dir {
            Some(d) => {
                std::fs::create_dir_all(d)
                    .map_err(|e| SearchError::Dir(d.display().to_string(), e.to_string()))?;
                Index::create_in_dir(d, schema)?
            }
            None => Index::create_in_ram(schema),
        };
        register(&index);
        let reader = index.reader()?;
        Ok(SearchIndex { index, reader, f })
    }

    /// Opens an index written by [`SearchIndex::create`].
    pub fn open(dir: &Path) -> Result<SearchIndex, SearchError> {
        let index = Index::open_in_dir(dir)?;
        register(&index);
        let (_, f) = schema();
        let reader = index.reader()?;
        Ok(SearchIndex { index, reader, f })
    }

    /// Adds documents and commits; returns how many were added.
    pub fn add(&mut self, docs: &[SearchDoc]) -> Result<usize, SearchError> {
        let mut w: IndexWriter = self.index.writer(100_000_000)?;
        let f = &self.f;
        for d in docs {
            let mut td = doc!(
                f.id => d.id.clone(),
                f.source => d.source.clone(),
                f.title => d.title.clone(),
                f.text => d.text.clone(),
            );
            for c in &d.charges {
                td.add_text(f.charges, c);
            }
            if let Some(y) = d.year {
                td.add_u64(f.year, y);
            }
            if let Some(t) = d.term_months {
                td.add_u64(f.term, t);
            }
            w.add_document(td)?;
        }
        w.commit()?;
        self.reader.reload()?;
        Ok(docs.len())
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// BM25 over the query's tokens with the filters, then re-ranked by shared elements.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>, SearchError> {
        let f = &self.f;
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for t in tokens(&q.text) {
            if seen.insert(t.clone()) {
                should.push((
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.text, &t),
                        IndexRecordOption::WithFreqs,
                    )),
                ));
            }
        }
        if should.is_empty() {
            return Ok(Vec::new());
        }
        let mut must: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        if let Some(c) = &q.charge {
            let name = if c.ends_with('罪') {
                c.clone()
            } else {
                format!("{c}罪")
            };
            must.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.charges, &name),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        let range = |field: Field, lo: Option<u64>, hi: Option<u64>| -> Option<Box<dyn Query>> {
            use std::ops::Bound;
            if lo.is_none() && hi.is_none() {
                return None;
            }
            let b = |v: Option<u64>| {
                v.map_or(Bound::Unbounded, |v| {
                    Bound::Included(Term::from_field_u64(field, v))
                })
            };
            Some(Box::new(RangeQuery::new(b(lo), b(hi))))
        };
        let region = q
            .region
            .as_deref()
            .map(region_name)
            .filter(|r| !r.is_empty());
        if let Some(r) = &region {
            // Every token of the name must occur; the exact name is checked on the text below.
            for t in tokens(r) {
                must.push((
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.text, &t),
                        IndexRecordOption::Basic,
                    )),
                ));
            }
        }
        if let Some(r) = range(f.year, q.year_from, q.year_to) {
            must.push((Occur::Must, r));
        }
        if let Some(r) = range(f.term, q.term_min, q.term_max) {
            must.push((Occur::Must, r));
        }
        let query = BooleanQuery::new(must);
        let limit = q.limit.max(1);
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit((limit * 5).max(50)))?;
        let mut q_charges = charges_in(&q.text, true);
        if let Some(c) = &q.charge {
            q_charges.push(if c.ends_with('罪') {
                c.clone()
            } else {
                format!("{c}罪")
            });
        }
        let q_amount = amounts(&q.text).into_iter().fold(0.0, f64::max);
        let q_circ = circumstances(&q.text);
        let max_bm25 = top.first().map_or(1.0, |t| t.0.max(1e-6));
        let mut hits = Vec::new();
        for (bm25, addr) in top {
            let d: TantivyDocument = searcher.doc(addr)?;
            let s = |fl: Field| {
                d.get_first(fl)
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            };
            let u = |fl: Field| d.get_first(fl).and_then(|v| v.as_u64());
            let charges: Vec<String> = d
                .get_all(f.charges)
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            let text = s(f.text);
            if region.as_ref().is_some_and(|r| !text.contains(r.as_str())) {
                continue;
            }
            let mut matched = Vec::new();
            let shared_charges: Vec<&String> =
                charges.iter().filter(|c| q_charges.contains(c)).collect();
            let charge_bonus = if shared_charges.is_empty() {
                0.0
            } else {
                matched.push(format!(
                    "罪名相同：{}（+0.30）",
                    shared_charges
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join("、")
                ));
                0.3
            };
            let d_amount = amounts(&text).into_iter().fold(0.0, f64::max);
            let amount_bonus = match (q_amount, d_amount) {
                (a, b) if a > 0.0 && b > 0.0 => {
                    (0.2 * (1.0 - ((a.log10() - b.log10()).abs() / 3.0)).max(0.0)) as f32
                }
                _ => 0.0,
            };
            if amount_bonus > 0.0 {
                matched.push(format!(
                    "金额相近：查询 {q_amount:.0} 元，本案 {d_amount:.0} 元（+{amount_bonus:.2}）"
                ));
            }
            let d_circ = circumstances(&text);
            let common: Vec<&str> = q_circ
                .iter()
                .filter(|c| d_circ.contains(c))
                .map(String::as_str)
                .collect();
            if !common.is_empty() {
                matched.push(format!("量刑情节相同：{}", common.join("、")));
            }
            if let Some(r) = &region {
                matched.push(format!("地区：文中出现“{r}”"));
            }
            let shared = q_circ.iter().filter(|c| d_circ.contains(c)).count();
            let union = q_circ.len() + d_circ.len() - shared;
            let circumstance_bonus = if union == 0 {
                0.0
            } else {
                0.1 * shared as f32 / union as f32
            };
            hits.push(Hit {
                id: s(f.id),
                source: s(f.source),
                title: s(f.title),
                charges,
                year: u(f.year),
                term_months: u(f.term),
                snippet: text.chars().take(120).collect(),
                score: if q.bm25_only {
                    bm25 / max_bm25
                } else {
                    bm25 / max_bm25 + charge_bonus + amount_bonus + circumstance_bonus
                },
                bm25,
                charge_bonus,
                amount_bonus,
                circumstance_bonus,
                matched,
            });
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        hits.truncate(limit);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: &str, text: &str, charge: &str, year: u64, term: u64) -> SearchDoc {
        SearchDoc {
            id: id.into(),
            source: "test".into(),
            title: charge.into(),
            text: text.into(),
            charges: vec![charge.into()],
            year: Some(year),
            term_months: Some(term),
        }
    }

    #[test]
    fn the_legal_dictionary_keeps_charge_names_whole() {
        assert!(tokens("被告人构成非法吸收公众存款罪")
            .iter()
            .any(|t| t == "非法吸收公众存款"));
    }

    #[test]
    fn bm25_filters_and_reranking() {
        let mut ix = SearchIndex::create(None).unwrap();
        ix.add(&[
            d(
                "a",
                "被告人张某入户盗窃手机一部，价值人民币3000元，到案后如实供述。",
                "盗窃罪",
                2016,
                8,
            ),
            d(
                "b",
                "被告人李某醉酒驾驶机动车，血液酒精含量为180mg/100ml。",
                "危险驾驶罪",
                2017,
                3,
            ),
            d(
                "c",
                "被告人王某盗窃电动车一辆，价值人民币2800元，取得谅解。",
                "盗窃罪",
                2018,
                6,
            ),
            d(
                "d",
                "被告人赵某以非法占有为目的骗取他人财物3000元。",
                "诈骗罪",
                2016,
                10,
            ),
        ])
        .unwrap();
        assert_eq!(ix.num_docs(), 4);
        let q = |text: &str| SearchQuery {
            text: text.into(),
            limit: 10,
            ..Default::default()
        };
        let hits = ix.search(&q("盗窃罪 价值人民币3000元的手机")).unwrap();
        assert_eq!(hits[0].id, "a");
        assert!(hits[0].charge_bonus > 0.0 && hits[0].amount_bonus > 0.0);
        let hits = ix
            .search(&SearchQuery {
                charge: Some("盗窃".into()),
                year_from: Some(2017),
                ..q("盗窃")
            })
            .unwrap();
        assert_eq!(
            hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
            vec!["c"]
        );
        let hits = ix
            .search(&SearchQuery {
                term_max: Some(4),
                ..q("被告人")
            })
            .unwrap();
        assert_eq!(
            hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
            vec!["b"]
        );
        assert!(ix.search(&q("，。")).unwrap().is_empty());
        assert!(hits_have_matched_elements(
            &ix.search(&q("盗窃罪 价值人民币3000元的手机")).unwrap()[0]
        ));
    }

    fn hits_have_matched_elements(h: &Hit) -> bool {
        h.matched.iter().any(|m| m.contains("罪名相同：盗窃罪"))
            && h.matched.iter().any(|m| m.starts_with("金额相近"))
    }

    #[test]
    fn the_region_filter_needs_the_place_in_the_text() {
        let mut ix = SearchIndex::create(None).unwrap();
        ix.add(&[
            d(
                "g",
                "贵州省贵阳市南明区被告人王某盗窃手机一部。",
                "盗窃罪",
                2018,
                6,
            ),
            d(
                "h",
                "浙江省杭州市西湖区被告人李某盗窃手机一部。",
                "盗窃罪",
                2018,
                6,
            ),
        ])
        .unwrap();
        let q = |region: &str| SearchQuery {
            text: "盗窃手机".into(),
            region: Some(region.into()),
            limit: 10,
            ..Default::default()
        };
        let ids = |r: &str| -> Vec<String> {
            ix.search(&q(r))
                .unwrap()
                .into_iter()
                .map(|h| h.id)
                .collect()
        };
        assert_eq!(ids("520102"), ["g"]);
        assert_eq!(ids("杭州市"), ["h"]);
        assert_eq!(ids("330106"), ["h"]);
        assert!(ix.search(&q("南明区")).unwrap()[0]
            .matched
            .iter()
            .any(|m| m.contains("南明区")));
    }

    #[test]
    fn years_are_read_from_text() {
        assert_eq!(year_of("2014年8月7日"), Some(2014));
        assert_eq!(year_of("3000年"), None);
        assert_eq!(year_of("无"), None);
    }
}
