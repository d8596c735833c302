//! Multinomial logistic regression over sparse vectors, trained by seeded SGD: small, fast on
//! a CPU, and every score decomposes into per-feature contributions for the explanation.

use crate::text::SparseVec;

/// A deterministic generator (SplitMix64) for the shuffling order, so training reproduces.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct SgdConfig {
    pub epochs: usize,
    pub learning_rate: f32,
    pub seed: u64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            epochs: 12,
            learning_rate: 1.0,
            seed: 2018,
        }
    }
}

/// Weights are stored feature-major (`weights[f * n_labels + label]`) so one sparse input
/// touches contiguous memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Softmax {
    pub n_labels: usize,
    pub n_features: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

impl Softmax {
    /// Trains on inputs `xs` whose targets are label sets (a record with two charges puts
    /// half its target mass on each).
    pub fn train(
        xs: &[SparseVec],
        ys: &[Vec<usize>],
        n_features: usize,
        n_labels: usize,
        cfg: SgdConfig,
    ) -> Softmax {
        Softmax::train_weighted(xs, ys, &vec![1.0; xs.len()], n_features, n_labels, cfg)
    }

    /// As [`Softmax::train`], each example's gradient scaled by its weight (statute-language
    /// pseudo-examples count less than real facts).
    pub fn train_weighted(
        xs: &[SparseVec],
        ys: &[Vec<usize>],
        weights: &[f32],
        n_features: usize,
        n_labels: usize,
        cfg: SgdConfig,
    ) -> Softmax {
        let mut m = Softmax {
            n_labels,
            n_features,
            weights: vec![0.0; n_features * n_labels],
            bias: vec![0.0; n_labels],
        };
        let mut order: Vec<usize> = (0..xs.len()).filter(|&i| !ys[i].is_empty()).collect();
        let mut rng = SplitMix(cfg.seed);
        let mut p = vec![0.0f32; n_labels];
        for epoch in 0..cfg.epochs {
            rng.shuffle(&mut order);
            let lr = cfg.learning_rate / (1.0 + epoch as f32 * 0.5);
            for &i in &order {
                m.probs_into(&xs[i], &mut p);
                let share = 1.0 / ys[i].len() as f32;
                for &y in &ys[i] {
                    p[y] -= share;
                }
                if weights[i] != 1.0 {
                    for g in p.iter_mut() {
                        *g *= weights[i];
                    }
                }
                // p now holds the gradient of the cross-entropy w.r.t. the scores.
                for (l, g) in p.iter().enumerate() {
                    m.bias[l] -= lr * g;
                }
                for &(f, x) in &xs[i] {
                    let row = &mut m.weights[f as usize * n_labels..(f as usize + 1) * n_labels];
                    for (w, g) in row.iter_mut().zip(p.iter()) {
                        *w -= lr * x * g;
                    }
                }
            }
        }
        m
    }

    fn probs_into(&self, x: &SparseVec, out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        for &(f, v) in x {
            let row = &self.weights[f as usize * self.n_labels..(f as usize + 1) * self.n_labels];
            for (o, w) in out.iter_mut().zip(row) {
                *o += v * w;
            }
        }
        softmax_in_place(out);
    }

    /// The raw scores (logits) of one input.
    pub fn scores(&self, x: &SparseVec) -> Vec<f32> {
        let mut out = self.bias.clone();
        for &(f, v) in x {
            let row = &self.weights[f as usize * self.n_labels..(f as usize + 1) * self.n_labels];
            for (o, w) in out.iter_mut().zip(row) {
                *o += v * w;
            }
        }
        out
    }

    /// Class probabilities for one input.
    pub fn probs(&self, x: &SparseVec) -> Vec<f32> {
        let mut p = vec![0.0; self.n_labels];
        self.probs_into(x, &mut p);
        p
    }

    /// The features that pushed `label` up the most: (feature, weight × value), largest first.
    pub fn top_contributions(&self, x: &SparseVec, label: usize, k: usize) -> Vec<(u32, f32)> {
        let mut c: Vec<(u32, f32)> = x
            .iter()
            .map(|&(f, v)| (f, v * self.weights[f as usize * self.n_labels + label]))
            .filter(|p| p.1 > 0.0)
            .collect();
        c.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        c.truncate(k);
        c
    }
}

/// Turns scores into probabilities in place.
pub fn softmax_in_place(out: &mut [f32]) {
    let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for o in out.iter_mut() {
        *o = (*o - max).exp();
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}

/// Indices sorted by descending probability.
pub fn ranked(p: &[f32]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_separable_problem() {
        let xs: Vec<SparseVec> = vec![vec![(0, 1.0)], vec![(1, 1.0)], vec![(2, 1.0)]];
        let ys = vec![vec![0], vec![1], vec![2]];
        let m = Softmax::train(&xs, &ys, 3, 3, SgdConfig::default());
        for (i, x) in xs.iter().enumerate() {
            assert_eq!(ranked(&m.probs(x))[0], i);
        }
        assert_eq!(m.top_contributions(&xs[1], 1, 5)[0].0, 1);
    }

    #[test]
    fn shuffling_is_seeded() {
        let mut a: Vec<u32> = (0..50).collect();
        let mut b = a.clone();
        SplitMix(7).shuffle(&mut a);
        SplitMix(7).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..50).collect::<Vec<_>>());
    }
}
