//! Charge, article and term prediction from a fact description (CAIL2018 task): three
//! softmax models over character n-gram TF-IDF, plus the statute graph as knowledge for
//! charges that no labeled example shows. Each prediction says which of the two decided and
//! cites the charge by the 罪名规定 version in force on the offence date.

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use xiezhi_graph::StatuteGraph;

use crate::cail::{charge_name_of_label, Labels, Record, Term};
use crate::linear::{ranked, SgdConfig, Softmax};
use crate::statute::{read_interpretations, StatuteCharge, StatuteKnowledge, StatuteMatch};
use crate::text::Vocabulary;
use crate::InsightError;

/// The statute sources a predictor is trained with: the statute graph (刑法 articles and the
/// 罪名规定 versions) and the judicial interpretations' sentences.
#[derive(Debug, Clone)]
pub struct StatuteSources {
    pub graph: Arc<StatuteGraph>,
    pub interpretations: Vec<(String, Vec<String>)>,
}

impl StatuteSources {
    /// Builds the graph from the reference directory (`laws/刑法.md`, `laws/罪名规定/`) and
    /// reads `laws/司法解释-数额标准/`.
    pub fn load(reference: &Path) -> Result<StatuteSources, InsightError> {
        let graph =
            StatuteGraph::build(reference).map_err(|e| InsightError::Model(e.to_string()))?;
        Ok(StatuteSources {
            graph: Arc::new(graph),
            interpretations: read_interpretations(reference),
        })
    }
}

/// Upper bounds (months, inclusive) of the term classes; beyond the last come life and death.
/// The classes are a modelling choice, not a legal range.
const TERM_BOUNDS: [u32; 12] = [0, 6, 9, 12, 18, 24, 36, 60, 84, 120, 180, 300];
const LIFE: usize = TERM_BOUNDS.len();
const DEATH: usize = TERM_BOUNDS.len() + 1;

fn term_class(t: &Term) -> usize {
    if t.death_penalty {
        DEATH
    } else if t.life_imprisonment {
        LIFE
    } else {
        TERM_BOUNDS
            .iter()
            .position(|&b| t.imprisonment <= b)
            .unwrap_or(TERM_BOUNDS.len() - 1)
    }
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainConfig {
    pub min_df: u32,
    pub max_features: usize,
    pub sgd: SgdConfig,
    /// Besides the first, a charge or article is also predicted when its probability reaches
    /// this value.
    pub multi_label_threshold: f32,
    /// Weight of the statute pseudo-examples (one per current charge: name, 罪状 and
    /// interpretation wording) beside the real facts (weight 1) in the charge model; 0 trains
    /// on the facts alone, and only labeled charges are labels.
    pub statute_example_weight: f32,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            min_df: 2,
            max_features: 60_000,
            sgd: SgdConfig::default(),
            multi_label_threshold: 0.3,
            // Pseudo-examples (weight 0.3, score shifts up to +9) added no left-out recall on
            // the tuning set at equal seen-charge accuracy, and make training about four times
            // as slow and the model file about four times larger: off by default.
            statute_example_weight: 0.0,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    vocab: Vocabulary,
    /// Charge labels: first those of the training facts, then the statute charges no fact
    /// carries (learned from statute language only).
    charges: Vec<String>,
    /// How many of `charges` have labeled facts.
    labeled: usize,
    articles: Vec<u32>,
    /// Representative term (median months) of each term class.
    term_values: Vec<Term>,
    multi_label_threshold: f32,
    trained_on: usize,
    /// The statute graph's current charges with their 罪状, kept in the model so it is
    /// self-contained.
    statute_charges: Vec<StatuteCharge>,
    /// Vocabulary and weights of the statute profiles (IDF over statute and training facts).
    statute_vocab: Vocabulary,
}

/// Evidence of one predicted charge.
#[derive(Debug, Clone, Serialize)]
pub struct ChargeEvidence {
    /// CAIL2018-style label (name without 罪).
    pub accusation: String,
    /// Charge-table code, when the name maps to one.
    pub code: Option<String>,
    pub basis: Option<String>,
    /// `learned` (labeled examples) or `statute` (article text and charge name).
    pub decided_by: &'static str,
    /// Probability of the learned model, or the statute fit for a statute decision.
    pub confidence: f32,
    /// The n-grams that pushed the learned score up the most.
    pub top_features: Vec<(String, f32)>,
    /// The statute path: charge → article (款) → 罪名规定 version in force on the offence
    /// date (or today's when no date is known).
    pub statute_path: Option<StatutePath>,
}

/// Where a predicted charge sits in the statute graph, as of a date.
#[derive(Debug, Clone, Serialize)]
pub struct StatutePath {
    /// The charge name in force on `as_of`.
    pub charge: String,
    /// `《刑法》第二百六十七条`.
    pub article: String,
    /// The article text (the graph's 刑法 text, which is the current amended one).
    pub article_text: String,
    /// The 罪名规定 text that set the name and its period.
    pub version: String,
    /// The graph's citation.
    pub citation: String,
    /// The date the version was chosen for, and where it came from: `input` (the line's
    /// `offence_date`), `fact` (first full date in the fact) or `current` (no date).
    pub as_of: Option<NaiveDate>,
    pub date_source: &'static str,
}

/// The why of a prediction.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub model: &'static str,
    pub charges: Vec<ChargeEvidence>,
    /// Best statute matches: (charge name, cosine, key-term coverage, name occurs in the fact).
    pub statute_matches: Vec<(String, f32, f32, bool)>,
    pub article_probabilities: Vec<(u32, f32)>,
    pub term_class_probability: f32,
}

/// A prediction with its explanation.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub labels: Labels,
    pub explanation: Explanation,
}

/// A fact scored by both models (see [`Predictor::score`]).
pub struct Scored {
    scores: Vec<f32>,
    matches: Vec<StatuteMatch>,
}

/// The trained predictor.
pub struct Predictor {
    header: Header,
    charge: Softmax,
    article: Softmax,
    term: Softmax,
    statute: StatuteKnowledge,
    /// Statute indices of the charges the learned model knows.
    learned_statute: Vec<Option<usize>>,
    /// The statute graph, when at hand, for citations as of the offence date.
    graph: Option<Arc<StatuteGraph>>,
    pub overrides: Overrides,
}

const FORMAT: &str = "xiezhi-insight-predictor-2";

/// When the statute overrides or joins the learned model. A candidate is the best-fitting
/// charge the learned model has no label for; its fit is `coverage_weight` × key-term
/// coverage + (1 − `coverage_weight`) × cosine, compared with the same fit of the learned
/// top charge. Set with seen-charge validation and a tuning set of left-out charges distinct
/// from the reported ones (`eval::UNSEEN_TUNE`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overrides {
    pub coverage_weight: f32,
    /// The fact names the candidate: replace when the learned probability is below this.
    pub named_below: f32,
    /// Replace when the learned probability is below `replace_below`, the candidate's fit
    /// reaches `replace_min` and is `replace_ratio` times the learned charge's.
    pub replace_below: f32,
    pub replace_min: f32,
    pub replace_ratio: f32,
    /// Add the candidate beside the learned charges (a second offence) when its fit reaches
    /// `add_min` and is `add_ratio` times the learned charge's.
    pub add_min: f32,
    pub add_ratio: f32,
    /// Added to the charge-model scores of the labels known from statute language only.
    pub unlabeled_shift: f32,
}

impl Default for Overrides {
    fn default() -> Self {
        // Tuned by `cargo run --release -p xiezhi-insight --example tune_overrides 0.01`:
        // the most left-out recall on `eval::UNSEEN_TUNE` whose seen-charge top-1 and
        // micro-F1 on the validation split stay within 0.01 of the learned model alone
        // (0.179 recall there; top-1 0.935 unchanged, micro-F1 0.902 -> 0.894).
        Overrides {
            coverage_weight: 0.0,
            named_below: 0.6,
            replace_below: 0.5,
            replace_min: 0.45,
            replace_ratio: 0.9,
            add_min: 0.2,
            add_ratio: 1.6,
            unlabeled_shift: 0.0,
        }
    }
}

impl Overrides {
    /// Never lets the statute decide: the learned model alone.
    pub fn never() -> Overrides {
        Overrides {
            named_below: 0.0,
            replace_below: 0.0,
            add_min: f32::INFINITY,
            unlabeled_shift: f32::NEG_INFINITY,
            ..Overrides::default()
        }
    }

    fn fit(&self, m: &StatuteMatch) -> f32 {
        self.coverage_weight * m.coverage + (1.0 - self.coverage_weight) * m.similarity
    }
}

/// The first full date (`2015年3月27日`) in a fact, taken as the offence date when the input
/// gives none.
pub fn first_date(fact: &str) -> Option<NaiveDate> {
    let chars: Vec<char> = fact.chars().collect();
    let num = |from: usize| -> Option<(u32, usize)> {
        let mut i = from;
        let mut v = 0u32;
        while i < chars.len() && chars[i].is_ascii_digit() && i - from < 4 {
            v = v * 10 + chars[i].to_digit(10)?;
            i += 1;
        }
        (i > from).then_some((v, i))
    };
    for start in 0..chars.len() {
        if start > 0 && chars[start - 1].is_ascii_digit() {
            continue;
        }
        let Some((y, i)) = num(start) else { continue };
        if i - start != 4 || chars.get(i) != Some(&'年') {
            continue;
        }
        let Some((m, j)) = num(i + 1) else { continue };
        if chars.get(j) != Some(&'月') {
            continue;
        }
        let Some((d, k)) = num(j + 1) else { continue };
        if chars.get(k) != Some(&'日') {
            continue;
        }
        if let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d) {
            return Some(date);
        }
    }
    None
}

impl Predictor {
    /// Trains on labeled records; the statute knowledge comes from `statute`.
    pub fn train(records: &[Record], statute: &StatuteSources, cfg: TrainConfig) -> Predictor {
        let vocab = Vocabulary::build(
            records.iter().map(|r| r.fact.as_str()),
            cfg.min_df,
            cfg.max_features,
        );
        let xs: Vec<_> = records.iter().map(|r| vocab.vectorize(&r.fact)).collect();
        let charges: Vec<String> = records
            .iter()
            .flat_map(|r| r.meta.accusation.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let articles: Vec<u32> = records
            .iter()
            .flat_map(|r| r.meta.relevant_articles.iter().copied())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let ci: HashMap<&str, usize> = charges
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let ai: HashMap<u32, usize> = articles.iter().enumerate().map(|(i, a)| (*a, i)).collect();
        let yc: Vec<Vec<usize>> = records
            .iter()
            .map(|r| r.meta.accusation.iter().map(|c| ci[c.as_str()]).collect())
            .collect();
        let ya: Vec<Vec<usize>> = records
            .iter()
            .map(|r| r.meta.relevant_articles.iter().map(|a| ai[a]).collect())
            .collect();
        let yt: Vec<Vec<usize>> = records
            .iter()
            .map(|r| vec![term_class(&r.meta.term_of_imprisonment)])
            .collect();
        let knowledge = StatuteKnowledge::from_graph(
            &statute.graph,
            &statute.interpretations,
            records.iter().map(|r| r.fact.as_str()),
        );
        // Every current charge becomes a label through its statute pseudo-example, so a
        // charge no fact shows is in the model itself.
        let labeled = charges.len();
        let mut charges = charges;
        let (mut cx, mut cy, mut cw) = (xs.clone(), yc, vec![1.0f32; records.len()]);
        if cfg.statute_example_weight > 0.0 {
            let by_name: HashMap<String, usize> = charges
                .iter()
                .enumerate()
                .map(|(i, l)| (charge_name_of_label(l), i))
                .collect();
            for (i, doc) in knowledge.documents().into_iter().enumerate() {
                let sc = &knowledge.charges[i];
                let label = match by_name.get(&sc.name) {
                    Some(&l) => l,
                    None => {
                        charges.push(sc.core.clone());
                        charges.len() - 1
                    }
                };
                cx.push(vocab.vectorize(&doc));
                cy.push(vec![label]);
                cw.push(cfg.statute_example_weight);
            }
        }
        let n = vocab.len();
        let charge = Softmax::train_weighted(&cx, &cy, &cw, n, charges.len(), cfg.sgd);
        let article = Softmax::train(&xs, &ya, n, articles.len(), cfg.sgd);
        let term = Softmax::train(&xs, &yt, n, DEATH + 1, cfg.sgd);
        let term_values = (0..=DEATH)
            .map(|c| {
                let mut months: Vec<u32> = records
                    .iter()
                    .map(|r| r.meta.term_of_imprisonment)
                    .filter(|t| term_class(t) == c)
                    .map(|t| t.imprisonment)
                    .collect();
                months.sort_unstable();
                let fallback = if c < LIFE { TERM_BOUNDS[c] } else { 0 };
                Term {
                    imprisonment: months.get(months.len() / 2).copied().unwrap_or(fallback),
                    death_penalty: c == DEATH,
                    life_imprisonment: c == LIFE,
                }
            })
            .collect();
        let header = Header {
            format: FORMAT.into(),
            vocab,
            charges,
            labeled,
            articles,
            term_values,
            multi_label_threshold: cfg.multi_label_threshold,
            trained_on: records.len(),
            statute_vocab: knowledge.vocabulary().clone(),
            statute_charges: knowledge.charges,
        };
        Predictor::assemble(header, charge, article, term).with_graph(statute.graph.clone())
    }

    fn assemble(header: Header, charge: Softmax, article: Softmax, term: Softmax) -> Predictor {
        let statute = StatuteKnowledge::with_vocabulary(
            header.statute_charges.clone(),
            header.statute_vocab.clone(),
        );
        let learned_statute = header
            .charges
            .iter()
            .map(|l| {
                let name = charge_name_of_label(l);
                statute.by_core_name(name.strip_suffix('罪').unwrap_or(&name))
            })
            .collect();
        Predictor {
            header,
            charge,
            article,
            term,
            statute,
            learned_statute,
            graph: None,
            overrides: Overrides::default(),
        }
    }

    /// Attaches the statute graph, so citations name the version in force on the offence
    /// date (without it they name today's version, as kept in the model).
    pub fn with_graph(mut self, graph: Arc<StatuteGraph>) -> Predictor {
        self.graph = Some(graph);
        self
    }

    /// Every charge label, those learned from statute language only included.
    pub fn charges(&self) -> &[String] {
        &self.header.charges
    }

    /// The charge labels that had labeled facts in training.
    pub fn labeled_charges(&self) -> &[String] {
        &self.header.charges[..self.header.labeled]
    }

    /// Charge probabilities: the scores of the labels without facts shifted by
    /// `Overrides::unlabeled_shift` (calibrated stacking: a model trained mostly on facts
    /// under-scores the labels it saw only in statute language).
    fn charge_probs(&self, x: &crate::text::SparseVec, o: &Overrides) -> Vec<f32> {
        let mut s = self.charge.scores(x);
        for v in &mut s[self.header.labeled..] {
            *v += o.unlabeled_shift;
        }
        crate::linear::softmax_in_place(&mut s);
        s
    }

    pub fn statute(&self) -> &StatuteKnowledge {
        &self.statute
    }

    /// The statute path of a charge name (with or without 罪, CAIL2018 brackets allowed) as
    /// of `date`: through the graph when attached (following renames, so an old name leads
    /// to the version in force), else today's version kept in the model.
    pub fn statute_path_of(
        &self,
        label: &str,
        date: Option<NaiveDate>,
        date_source: &'static str,
    ) -> Option<StatutePath> {
        let name = charge_name_of_label(label);
        if let Some(g) = &self.graph {
            let on = date.unwrap_or_else(|| chrono::Local::now().date_naive());
            let found = g.charge_as_of(&name, on);
            let c = found.first().copied().or_else(|| {
                // No version in force on that date (e.g. an offence before the charge
                // existed): the current one, said so by `as_of: None`.
                g.current_charges().find(|c| c.name == name)
            })?;
            let in_force = !found.is_empty();
            let src = &g.sources[c.source].file;
            let title = src
                .rsplit('/')
                .next()
                .unwrap_or(src)
                .trim_end_matches(".md");
            let mut version = format!("{title}，自{}起", c.in_force_from);
            if let Some(r) = c.retired_from {
                version.push_str(&format!("至{r}止"));
            }
            return Some(StatutePath {
                charge: c.name.clone(),
                article: format!("《刑法》{}", c.article.chinese()),
                article_text: g.article_of(c).map(|a| a.text.clone()).unwrap_or_default(),
                version,
                citation: g.cite(c),
                as_of: if in_force { date } else { None },
                date_source: if in_force && date.is_some() {
                    date_source
                } else {
                    "current"
                },
            });
        }
        let i = self
            .statute
            .by_core_name(name.strip_suffix('罪').unwrap_or(&name))?;
        let c = &self.statute.charges[i];
        Some(StatutePath {
            charge: c.name.clone(),
            article: format!("《刑法》第{}条", crate::statute::chinese_number(c.article)),
            article_text: c.text.clone(),
            version: c.version.clone(),
            citation: c.citation.clone(),
            as_of: None,
            date_source: "current",
        })
    }

    /// Predicts charges, articles and term for one fact; the offence date for citations is
    /// the first full date in the fact.
    pub fn predict(&self, fact: &str) -> Prediction {
        match first_date(fact) {
            Some(d) => self.predict_on(fact, Some(d), "fact"),
            None => self.predict_on(fact, None, "current"),
        }
    }

    /// Predicts with an offence date given by the caller (`input`) or found in the fact.
    pub fn predict_on(
        &self,
        fact: &str,
        date: Option<NaiveDate>,
        date_source: &'static str,
    ) -> Prediction {
        let v = &self.header.vocab;
        let x = v.vectorize(fact);
        let pc = self.charge_probs(&x, &self.overrides);
        let rc = ranked(&pc);
        let thr = self.header.multi_label_threshold;
        let features = |c: usize| -> Vec<(String, f32)> {
            self.charge
                .top_contributions(&x, c, 8)
                .into_iter()
                .map(|(f, w)| (v.terms[f as usize].clone(), w))
                .collect()
        };
        let matches = self.statute.rank(fact);
        let statute_pick = self.statute_decision(&pc, rc[0], &matches, &self.overrides);

        let mut evidence = Vec::new();
        let mut accusation = Vec::new();
        let mut articles = Vec::new();
        let replace = matches!(statute_pick, Some((_, false)));
        if !replace {
            for &c in rc.iter().take_while(|&&c| c == rc[0] || pc[c] >= thr) {
                let sc = self.learned_statute[c].map(|i| &self.statute.charges[i]);
                accusation.push(self.header.charges[c].clone());
                let from_statute = c >= self.header.labeled;
                if let Some(sc) = sc.filter(|_| from_statute) {
                    if !articles.contains(&sc.article) {
                        articles.push(sc.article);
                    }
                }
                evidence.push(ChargeEvidence {
                    accusation: self.header.charges[c].clone(),
                    code: sc.and_then(|s| s.code.clone()),
                    basis: sc.map(|s| s.basis.clone()),
                    // A label without facts was learned from its statute pseudo-example.
                    decided_by: if from_statute { "statute" } else { "learned" },
                    confidence: pc[c],
                    top_features: features(c),
                    statute_path: self.statute_path_of(&self.header.charges[c], date, date_source),
                });
            }
            let pa = self.article.probs(&x);
            let ra = ranked(&pa);
            for &a in ra.iter().take_while(|&&a| a == ra[0] || pa[a] >= thr) {
                if !articles.contains(&self.header.articles[a]) {
                    articles.push(self.header.articles[a]);
                }
            }
        }
        if let Some((m, _)) = statute_pick {
            let sc = &self.statute.charges[m.index];
            accusation.push(sc.core.clone());
            if !articles.contains(&sc.article) {
                articles.push(sc.article);
            }
            evidence.push(ChargeEvidence {
                accusation: sc.core.clone(),
                code: sc.code.clone(),
                basis: Some(sc.basis.clone()),
                decided_by: "statute",
                confidence: self.overrides.fit(&m),
                top_features: Vec::new(),
                statute_path: self.statute_path_of(&sc.name, date, date_source),
            });
        }
        let pa = self.article.probs(&x);
        let pt = self.term.probs(&x);
        let t = ranked(&pt)[0];
        Prediction {
            labels: Labels {
                accusation,
                relevant_articles: articles,
                term_of_imprisonment: self.header.term_values[t],
            },
            explanation: Explanation {
                model: "softmax over character 1-3-gram TF-IDF (learned) + statute graph: TF-IDF cosine to the 罪状 and interpretation wording of every current charge (statute)",
                charges: evidence,
                statute_matches: matches
                    .iter()
                    .take(3)
                    .map(|m| {
                        (
                            self.statute.charges[m.index].name.clone(),
                            m.similarity,
                            m.coverage,
                            m.name_in_text,
                        )
                    })
                    .collect(),
                article_probabilities: ranked(&pa)
                    .into_iter()
                    .take(3)
                    .map(|a| (self.header.articles[a], pa[a]))
                    .collect(),
                term_class_probability: pt[t],
            },
        }
    }

    /// The learned probabilities and statute matches of a fact, to try several
    /// [`Overrides`] on without scoring again.
    pub fn score(&self, fact: &str) -> Scored {
        let x = self.header.vocab.vectorize(fact);
        Scored {
            scores: self.charge.scores(&x),
            matches: self.statute.rank(fact),
        }
    }

    /// The charge labels [`Predictor::predict`] would give for a scored fact under `o`.
    pub fn charges_under(&self, s: &Scored, o: &Overrides) -> Vec<String> {
        let thr = self.header.multi_label_threshold;
        let mut pc = s.scores.clone();
        for v in &mut pc[self.header.labeled..] {
            *v += o.unlabeled_shift;
        }
        crate::linear::softmax_in_place(&mut pc);
        let rc = ranked(&pc);
        let pick = self.statute_decision(&pc, rc[0], &s.matches, o);
        let mut out = Vec::new();
        if !matches!(pick, Some((_, false))) {
            for &c in rc.iter().take_while(|&&c| c == rc[0] || pc[c] >= thr) {
                out.push(self.header.charges[c].clone());
            }
        }
        if let Some((m, _)) = pick {
            out.push(self.statute.charges[m.index].core.clone());
        }
        out
    }

    /// The statute decides when it names, in the fact's own words, a charge the learned model
    /// never saw while the learned model is unsure, or when the statute text of an unseen
    /// charge fits the fact clearly better than the learned choice's. The flag says whether the
    /// statute charge is added beside the learned ones (true) or replaces them (false).
    fn statute_decision(
        &self,
        pc: &[f32],
        top: usize,
        matches: &[StatuteMatch],
        o: &Overrides,
    ) -> Option<(StatuteMatch, bool)> {
        if top >= self.header.labeled {
            // The charge model already chose a charge from its statute language.
            return None;
        }
        let seen: BTreeSet<usize> = self.learned_statute[..self.header.labeled]
            .iter()
            .flatten()
            .copied()
            .collect();
        let key = |m: &StatuteMatch| o.fit(m) + if m.name_in_text { 0.5 } else { 0.0 };
        let best_unseen = matches
            .iter()
            .filter(|m| !seen.contains(&m.index))
            .max_by(|a, b| key(a).total_cmp(&key(b)).then(b.index.cmp(&a.index)))?;
        let learned_match =
            self.learned_statute[top].and_then(|i| matches.iter().find(|m| m.index == i));
        let learned_named = learned_match.is_some_and(|m| m.name_in_text);
        let learned_fit = learned_match.map_or(0.0, |m| o.fit(m));
        let fit = o.fit(best_unseen);
        let p = pc[top];
        if best_unseen.name_in_text && !learned_named && p < o.named_below && fit >= learned_fit {
            return Some((best_unseen.clone(), false));
        }
        if p < o.replace_below && fit >= o.replace_min && fit >= o.replace_ratio * learned_fit {
            return Some((best_unseen.clone(), false));
        }
        // A second offence the learned model cannot name (e.g. 容留他人吸毒 beside a drug sale).
        if fit >= o.add_min && fit >= o.add_ratio * learned_fit {
            return Some((best_unseen.clone(), true));
        }
        None
    }

    /// Writes the model: a JSON header, then the weights as little-endian f32.
    pub fn save(&self, path: &Path) -> Result<(), InsightError> {
        let io = |e: std::io::Error| InsightError::Io(path.display().to_string(), e);
        let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
        let header =
            serde_json::to_vec(&self.header).map_err(|e| InsightError::Model(e.to_string()))?;
        f.write_all(&(header.len() as u64).to_le_bytes())
            .map_err(io)?;
        f.write_all(&header).map_err(io)?;
        for m in [&self.charge, &self.article, &self.term] {
            f.write_all(&(m.n_labels as u64).to_le_bytes())
                .map_err(io)?;
            f.write_all(&(m.n_features as u64).to_le_bytes())
                .map_err(io)?;
            for w in m.bias.iter().chain(&m.weights) {
                f.write_all(&w.to_le_bytes()).map_err(io)?;
            }
        }
        f.flush().map_err(io)
    }

    /// Reads a model written by [`Predictor::save`].
    pub fn load(path: &Path) -> Result<Predictor, InsightError> {
        let io = |e: std::io::Error| InsightError::Io(path.display().to_string(), e);
        let bytes = std::fs::read(path).map_err(io)?;
        let mut r = &bytes[..];
        let bad = |what: &str| InsightError::Model(format!("`{}`: {what}", path.display()));
        let mut u64buf = [0u8; 8];
        let mut read_u64 = |r: &mut &[u8]| -> Result<usize, InsightError> {
            r.read_exact(&mut u64buf).map_err(|_| bad("truncated"))?;
            Ok(u64::from_le_bytes(u64buf) as usize)
        };
        let hl = read_u64(&mut r)?;
        if hl > r.len() {
            return Err(bad("truncated header"));
        }
        let mut header: Header =
            serde_json::from_slice(&r[..hl]).map_err(|e| bad(&format!("header: {e}")))?;
        if header.format != FORMAT {
            return Err(bad(&format!("unknown format `{}`", header.format)));
        }
        header.vocab.reindex();
        header.statute_vocab.reindex();
        r = &r[hl..];
        let mut models = Vec::new();
        for _ in 0..3 {
            let n_labels = read_u64(&mut r)?;
            let n_features = read_u64(&mut r)?;
            let count = n_labels
                .checked_mul(n_features + 1)
                .filter(|c| c.checked_mul(4).is_some_and(|b| b <= r.len()))
                .ok_or_else(|| bad("truncated weights"))?;
            let mut all: Vec<f32> = r[..count * 4]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            r = &r[count * 4..];
            let weights = all.split_off(n_labels);
            models.push(Softmax {
                n_labels,
                n_features,
                weights,
                bias: all,
            });
        }
        let term = models.pop().ok_or_else(|| bad("missing model"))?;
        let article = models.pop().ok_or_else(|| bad("missing model"))?;
        let charge = models.pop().ok_or_else(|| bad("missing model"))?;
        Ok(Predictor::assemble(header, charge, article, term))
    }
}
