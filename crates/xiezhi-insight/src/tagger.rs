//! A character-level BIO sequence tagger (averaged perceptron, greedy decoding with the
//! previous tag as a feature), trained on the CAIL2021/2022 entity annotations. It learns
//! whatever label set the training data has.

use std::collections::HashMap;
use std::io::{Read, Write};

use crate::InsightError;

/// One labeled span, in character offsets (end exclusive).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub label: String,
}

/// A sentence with its gold spans.
#[derive(Debug, Clone)]
pub struct Example {
    pub text: Vec<char>,
    pub spans: Vec<Span>,
}

fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn class(c: char) -> &'static str {
    if c.is_ascii_digit() || "０１２３４５６７８９".contains(c) {
        "d"
    } else if "零一二三四五六七八九十百千万亿两".contains(c) {
        "n"
    } else if c.is_ascii_alphabetic() {
        "a"
    } else if c.is_alphanumeric() {
        "h"
    } else {
        "p"
    }
}

/// Features of position `i` that do not depend on the previous tag.
fn features(text: &[char], i: usize) -> Vec<u64> {
    let at = |k: isize| -> String {
        let j = i as isize + k;
        if j < 0 || j >= text.len() as isize {
            "^".into()
        } else {
            text[j as usize].to_string()
        }
    };
    let (m2, m1, c0, p1, p2) = (at(-2), at(-1), at(0), at(1), at(2));
    let cls = |k: isize| -> &'static str {
        let j = i as isize + k;
        if j < 0 || j >= text.len() as isize {
            "^"
        } else {
            class(text[j as usize])
        }
    };
    vec![
        fnv(&["b"]),
        fnv(&["u0", &c0]),
        fnv(&["u-1", &m1]),
        fnv(&["u+1", &p1]),
        fnv(&["u-2", &m2]),
        fnv(&["u+2", &p2]),
        fnv(&["b-1", &m1, &c0]),
        fnv(&["b+1", &c0, &p1]),
        fnv(&["b-2", &m2, &m1]),
        fnv(&["b+2", &p1, &p2]),
        fnv(&["t0", &m1, &c0, &p1]),
        fnv(&["c", cls(-1), cls(0), cls(1)]),
        fnv(&["c2", cls(-2), cls(-1), cls(0), cls(1), cls(2)]),
    ]
}

/// The tagger: tag names (`O`, `B-x`, `I-x`) and averaged weights per feature.
#[derive(Debug, Clone)]
pub struct Tagger {
    pub tags: Vec<String>,
    weights: HashMap<u64, Vec<f32>>,
}

/// Per feature: current weights, running totals for the average, step of the last update.
type Averaged = (Vec<f32>, Vec<f32>, Vec<u32>);

struct Trainer {
    n: usize,
    w: HashMap<u64, Averaged>,
    step: u32,
}

impl Trainer {
    fn update(&mut self, f: u64, tag: usize, delta: f32) {
        let n = self.n;
        let e = self
            .w
            .entry(f)
            .or_insert_with(|| (vec![0.0; n], vec![0.0; n], vec![0; n]));
        e.1[tag] += (self.step - e.2[tag]) as f32 * e.0[tag];
        e.2[tag] = self.step;
        e.0[tag] += delta;
    }
}

fn prev_features(prev: usize, c0: char) -> [u64; 2] {
    let p = prev.to_string();
    [fnv(&["p", &p]), fnv(&["pu", &p, &c0.to_string()])]
}

fn scores(weights: &dyn Fn(u64) -> Option<Vec<f32>>, feats: &[u64], n: usize) -> Vec<f32> {
    let mut s = vec![0.0; n];
    for f in feats {
        if let Some(w) = weights(*f) {
            for (a, b) in s.iter_mut().zip(w) {
                *a += b;
            }
        }
    }
    s
}

impl Tagger {
    fn tag_index(tags: &[String], name: &str) -> usize {
        tags.iter().position(|t| t == name).unwrap_or(0)
    }

    /// Gold tag sequence of an example (overlapping spans: the earlier, longer one wins).
    fn gold(tags: &[String], ex: &Example) -> Vec<usize> {
        let mut g = vec![0; ex.text.len()];
        let mut spans = ex.spans.clone();
        spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        for s in spans {
            if s.end > ex.text.len()
                || s.start >= s.end
                || g[s.start..s.end].iter().any(|&t| t != 0)
            {
                continue;
            }
            g[s.start] = Tagger::tag_index(tags, &format!("B-{}", s.label));
            for t in &mut g[s.start + 1..s.end] {
                *t = Tagger::tag_index(tags, &format!("I-{}", s.label));
            }
        }
        g
    }

    /// Trains for `epochs` passes in a seeded order.
    pub fn train(examples: &[Example], epochs: usize, seed: u64) -> Tagger {
        let mut labels: Vec<String> = examples
            .iter()
            .flat_map(|e| e.spans.iter().map(|s| s.label.clone()))
            .collect();
        labels.sort();
        labels.dedup();
        let mut tags = vec!["O".to_string()];
        for l in &labels {
            tags.push(format!("B-{l}"));
            tags.push(format!("I-{l}"));
        }
        let n = tags.len();
        let golds: Vec<Vec<usize>> = examples.iter().map(|e| Tagger::gold(&tags, e)).collect();
        let feats: Vec<Vec<Vec<u64>>> = examples
            .iter()
            .map(|e| (0..e.text.len()).map(|i| features(&e.text, i)).collect())
            .collect();
        let mut tr = Trainer {
            n,
            w: HashMap::new(),
            step: 0,
        };
        let mut order: Vec<usize> = (0..examples.len()).collect();
        let mut rng = crate::linear::SplitMix(seed);
        for _ in 0..epochs {
            rng.shuffle(&mut order);
            for &k in &order {
                let ex = &examples[k];
                let mut prev = 0;
                for i in 0..ex.text.len() {
                    tr.step += 1;
                    let mut f = feats[k][i].clone();
                    f.extend(prev_features(prev, ex.text[i]));
                    let get = |h: u64| tr.w.get(&h).map(|e| e.0.clone());
                    let s = scores(&get, &f, n);
                    let guess = argmax(&s);
                    let truth = golds[k][i];
                    if guess != truth {
                        for &h in &f {
                            tr.update(h, truth, 1.0);
                            tr.update(h, guess, -1.0);
                        }
                    }
                    prev = truth;
                }
            }
        }
        let step = tr.step;
        let weights =
            tr.w.into_iter()
                .map(|(f, (w, mut total, last))| {
                    for t in 0..n {
                        total[t] += (step - last[t]) as f32 * w[t];
                        total[t] /= step.max(1) as f32;
                    }
                    (f, total)
                })
                .filter(|(_, w)| w.iter().any(|x| *x != 0.0))
                .collect();
        Tagger { tags, weights }
    }

    /// Tags a sentence and returns its spans.
    pub fn tag(&self, text: &[char]) -> Vec<Span> {
        let n = self.tags.len();
        let mut prev = 0;
        let mut seq = Vec::with_capacity(text.len());
        let get = |h: u64| self.weights.get(&h).cloned();
        for i in 0..text.len() {
            let mut f = features(text, i);
            f.extend(prev_features(prev, text[i]));
            let s = scores(&get, &f, n);
            let mut t = argmax(&s);
            // An I- tag must continue a span of the same label; otherwise it begins one.
            if self.tags[t].starts_with("I-") {
                let label = &self.tags[t][2..];
                let continues = prev != 0 && self.tags[prev][2..] == *label;
                if !continues {
                    t = Tagger::tag_index(&self.tags, &format!("B-{label}"));
                }
            }
            seq.push(t);
            prev = t;
        }
        let mut spans = Vec::new();
        let mut i = 0;
        while i < seq.len() {
            if let Some(label) = self.tags[seq[i]].strip_prefix("B-") {
                let inside = format!("I-{label}");
                let mut j = i + 1;
                while j < seq.len() && self.tags[seq[j]] == inside {
                    j += 1;
                }
                spans.push(Span {
                    start: i,
                    end: j,
                    label: label.to_string(),
                });
                i = j;
            } else {
                i += 1;
            }
        }
        spans
    }

    /// Binary form: tag names as a JSON line, then (feature, weights) as little-endian.
    pub fn write(&self, mut w: impl Write) -> std::io::Result<()> {
        let head = serde_json::to_string(&self.tags).map_err(std::io::Error::other)?;
        writeln!(w, "{head}")?;
        let mut keys: Vec<&u64> = self.weights.keys().collect();
        keys.sort();
        w.write_all(&(keys.len() as u64).to_le_bytes())?;
        for k in keys {
            w.write_all(&k.to_le_bytes())?;
            for x in &self.weights[k] {
                w.write_all(&x.to_le_bytes())?;
            }
        }
        w.flush()
    }

    pub fn read(mut r: impl Read) -> Result<Tagger, InsightError> {
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes)
            .map_err(|e| InsightError::Io("tagger model".into(), e))?;
        let bad = |m: &str| InsightError::Model(format!("tagger model: {m}"));
        let nl = bytes
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| bad("no header"))?;
        let tags: Vec<String> =
            serde_json::from_slice(&bytes[..nl]).map_err(|e| bad(&e.to_string()))?;
        let n = tags.len();
        let mut rest = &bytes[nl + 1..];
        let take = |rest: &mut &[u8], k: usize| -> Result<Vec<u8>, InsightError> {
            if rest.len() < k {
                return Err(bad("truncated"));
            }
            let (a, b) = rest.split_at(k);
            *rest = b;
            Ok(a.to_vec())
        };
        let count = u64::from_le_bytes(take(&mut rest, 8)?.try_into().map_err(|_| bad("count"))?);
        let mut weights = HashMap::new();
        for _ in 0..count {
            let k = u64::from_le_bytes(take(&mut rest, 8)?.try_into().map_err(|_| bad("key"))?);
            let w: Vec<f32> = take(&mut rest, 4 * n)?
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            weights.insert(k, w);
        }
        Ok(Tagger { tags, weights })
    }
}

fn argmax(s: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in s.iter().enumerate() {
        if *v > s[best] {
            best = i;
        }
    }
    best
}

/// Precision, recall and F1 of exact span matches (label and both offsets).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SpanScores {
    pub gold: usize,
    pub predicted: usize,
    pub correct: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

pub fn span_scores(pairs: &[(Vec<Span>, Vec<Span>)]) -> SpanScores {
    let (mut g, mut p, mut c) = (0, 0, 0);
    for (pred, gold) in pairs {
        let gs: std::collections::HashSet<&Span> = gold.iter().collect();
        let ps: std::collections::HashSet<&Span> = pred.iter().collect();
        g += gs.len();
        p += ps.len();
        c += ps.intersection(&gs).count();
    }
    let precision = c as f64 / p.max(1) as f64;
    let recall = c as f64 / g.max(1) as f64;
    SpanScores {
        gold: g,
        predicted: p,
        correct: c,
        precision,
        recall,
        f1: if c == 0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, spans: &[(usize, usize, &str)]) -> Example {
        Example {
            text: text.chars().collect(),
            spans: spans
                .iter()
                .map(|&(start, end, l)| Span {
                    start,
                    end,
                    label: l.into(),
                })
                .collect(),
        }
    }

    #[test]
    fn learns_spans_and_round_trips() {
        let data = vec![
            ex("被告人张某贩卖海洛因", &[(3, 5, "Nh"), (7, 10, "NDR")]),
            ex("被告人李某贩卖冰毒", &[(3, 5, "Nh"), (7, 9, "NDR")]),
            ex("被告人王某持有海洛因", &[(3, 5, "Nh"), (7, 10, "NDR")]),
        ];
        let t = Tagger::train(&data, 10, 1);
        let text: Vec<char> = "被告人赵某贩卖海洛因".chars().collect();
        let spans = t.tag(&text);
        assert!(spans.contains(&Span {
            start: 7,
            end: 10,
            label: "NDR".into()
        }));
        let mut buf = Vec::new();
        t.write(&mut buf).unwrap();
        let back = Tagger::read(&buf[..]).unwrap();
        assert_eq!(back.tag(&text), spans);
        assert!(Tagger::read(&buf[..buf.len() - 3]).is_err());
    }

    #[test]
    fn span_scores_count_exact_matches() {
        let a = Span {
            start: 0,
            end: 2,
            label: "Nh".into(),
        };
        let b = Span {
            start: 3,
            end: 4,
            label: "NT".into(),
        };
        let s = span_scores(&[(vec![a.clone()], vec![a.clone(), b])]);
        assert_eq!((s.correct, s.gold, s.predicted), (1, 2, 1));
        assert!((s.f1 - 2.0 / 3.0).abs() < 1e-9);
    }
}
