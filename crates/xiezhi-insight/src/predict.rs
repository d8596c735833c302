//! Charge, article and term prediction from a fact description (CAIL2018 task): three
//! softmax models over character n-gram TF-IDF, plus the statute as knowledge for charges
//! that no labeled example shows. Each prediction says which of the two decided.

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cail::{charge_name_of_label, Labels, Record, Term};
use crate::linear::{ranked, SgdConfig, Softmax};
use crate::statute::StatuteKnowledge;
use crate::text::Vocabulary;
use crate::InsightError;

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
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            min_df: 2,
            max_features: 60_000,
            sgd: SgdConfig::default(),
            multi_label_threshold: 0.3,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    vocab: Vocabulary,
    charges: Vec<String>,
    articles: Vec<u32>,
    /// Representative term (median months) of each term class.
    term_values: Vec<Term>,
    multi_label_threshold: f32,
    trained_on: usize,
    /// 刑法 text the statute knowledge is built from, kept in the model so it is self-contained.
    criminal_law: String,
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
    /// Probability of the learned model, or the statute similarity for a statute decision.
    pub confidence: f32,
    /// The n-grams that pushed the learned score up the most.
    pub top_features: Vec<(String, f32)>,
}

/// The why of a prediction.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub model: &'static str,
    pub charges: Vec<ChargeEvidence>,
    /// Best statute matches: (charge name, similarity, name occurs in the fact).
    pub statute_matches: Vec<(String, f32, bool)>,
    pub article_probabilities: Vec<(u32, f32)>,
    pub term_class_probability: f32,
}

/// A prediction with its explanation.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub labels: Labels,
    pub explanation: Explanation,
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
}

const FORMAT: &str = "xiezhi-insight-predictor-1";

impl Predictor {
    /// Trains on labeled records; `criminal_law` is the text of `laws/刑法.md`.
    pub fn train(records: &[Record], criminal_law: &str, cfg: TrainConfig) -> Predictor {
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
        let n = vocab.len();
        let charge = Softmax::train(&xs, &yc, n, charges.len(), cfg.sgd);
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
        let statute = StatuteKnowledge::new(criminal_law, records.iter().map(|r| r.fact.as_str()));
        let header = Header {
            format: FORMAT.into(),
            vocab,
            charges,
            articles,
            term_values,
            multi_label_threshold: cfg.multi_label_threshold,
            trained_on: records.len(),
            criminal_law: criminal_law.to_string(),
            statute_vocab: statute.vocabulary().clone(),
        };
        Predictor::assemble(header, charge, article, term)
    }

    fn assemble(header: Header, charge: Softmax, article: Softmax, term: Softmax) -> Predictor {
        let statute =
            StatuteKnowledge::with_vocabulary(&header.criminal_law, header.statute_vocab.clone());
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
        }
    }

    pub fn charges(&self) -> &[String] {
        &self.header.charges
    }

    pub fn statute(&self) -> &StatuteKnowledge {
        &self.statute
    }

    /// Predicts charges, articles and term for one fact.
    pub fn predict(&self, fact: &str) -> Prediction {
        let v = &self.header.vocab;
        let x = v.vectorize(fact);
        let pc = self.charge.probs(&x);
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
        let statute_pick = self.statute_decision(&pc, rc[0], &matches);

        let mut evidence = Vec::new();
        let mut accusation = Vec::new();
        let mut articles = Vec::new();
        let replace = matches!(statute_pick, Some((_, false)));
        if !replace {
            for &c in rc.iter().take_while(|&&c| c == rc[0] || pc[c] >= thr) {
                let sc = self.learned_statute[c].map(|i| &self.statute.charges[i]);
                accusation.push(self.header.charges[c].clone());
                evidence.push(ChargeEvidence {
                    accusation: self.header.charges[c].clone(),
                    code: sc.map(|s| s.code.clone()),
                    basis: sc.map(|s| s.basis.clone()),
                    decided_by: "learned",
                    confidence: pc[c],
                    top_features: features(c),
                });
            }
            let pa = self.article.probs(&x);
            let ra = ranked(&pa);
            for &a in ra.iter().take_while(|&&a| a == ra[0] || pa[a] >= thr) {
                articles.push(self.header.articles[a]);
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
                code: Some(sc.code.clone()),
                basis: Some(sc.basis.clone()),
                decided_by: "statute",
                confidence: m.similarity,
                top_features: Vec::new(),
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
                model: "softmax over character 1-3-gram TF-IDF (learned) + 刑法 article text and charge names (statute)",
                charges: evidence,
                statute_matches: matches
                    .iter()
                    .take(3)
                    .map(|m| {
                        (
                            self.statute.charges[m.index].name.clone(),
                            m.similarity,
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

    /// The statute decides when it names, in the fact's own words, a charge the learned model
    /// never saw while the learned model is unsure, or when the article text of an unseen
    /// charge fits the fact clearly better than the learned choice's. The flag says whether the
    /// statute charge is added beside the learned ones (true) or replaces them (false).
    /// The thresholds were set on the CAIL2018 sample with charges left out (eval::UNSEEN_CHECK).
    fn statute_decision(
        &self,
        pc: &[f32],
        top: usize,
        matches: &[crate::statute::StatuteMatch],
    ) -> Option<(crate::statute::StatuteMatch, bool)> {
        let seen: BTreeSet<usize> = self.learned_statute.iter().flatten().copied().collect();
        let best_unseen = matches.iter().find(|m| !seen.contains(&m.index))?;
        let learned_match = self.learned_statute[top]
            .and_then(|i| matches.iter().find(|m| m.index == i))
            .cloned();
        let learned_named = learned_match.as_ref().is_some_and(|m| m.name_in_text);
        let learned_sim = learned_match.as_ref().map_or(0.0, |m| m.similarity);
        let p = pc[top];
        if best_unseen.name_in_text
            && !learned_named
            && p < 0.6
            && best_unseen.similarity >= learned_sim
        {
            return Some((best_unseen.clone(), false));
        }
        let clearly_better = best_unseen.similarity >= 1.5 * learned_sim;
        if p < 0.9 && best_unseen.similarity >= 0.25 && clearly_better {
            return Some((best_unseen.clone(), false));
        }
        // A second offence the learned model cannot name (e.g. 容留他人吸毒 beside a drug sale).
        if best_unseen.similarity >= 0.35 && best_unseen.similarity >= 2.0 * learned_sim {
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
