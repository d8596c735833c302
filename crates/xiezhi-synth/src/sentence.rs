//! Sentences plausible for the charge: principal penalty, term, probation, fine and sentencing
//! circumstances (量刑情节), with the circumstances moving the term as the 2021 guideline's
//! ratios do, roughly.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::charges::Charge;
use crate::util::chance;

/// Principal penalty, named as in the standard's penalty-kind table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Penalty {
    Surveillance,
    Detention,
    FixedTerm,
    Exempt,
}

impl Penalty {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Penalty::Surveillance => "管制",
            Penalty::Detention => "拘役",
            Penalty::FixedTerm => "有期徒刑",
            Penalty::Exempt => "免予刑事处罚",
        }
    }

    #[cfg(test)]
    pub(crate) fn code(self) -> &'static str {
        match self {
            Penalty::Surveillance => "public_surveillance",
            Penalty::Detention => "criminal_detention",
            Penalty::FixedTerm => "fixed_term",
            Penalty::Exempt => "exempted",
        }
    }
}

/// Sentencing circumstances, in the order of the standard's circumstance table; a sentence
/// holds them as a bit set over this array.
pub(crate) const CIRCUMSTANCES: [&str; 9] = [
    "犯罪未遂",
    "从犯",
    "累犯",
    "自首",
    "坦白",
    "认罪认罚",
    "退赃退赔",
    "取得谅解",
    "前科",
];
const ATTEMPT: u16 = 1 << 0;
const ACCESSORY: u16 = 1 << 1;
pub(crate) const RECIDIVIST: u16 = 1 << 2;
const SURRENDER: u16 = 1 << 3;
const CONFESSION: u16 = 1 << 4;
pub(crate) const PLEA: u16 = 1 << 5;
const RESTITUTION: u16 = 1 << 6;
const FORGIVENESS: u16 = 1 << 7;
pub(crate) const PRIOR: u16 = 1 << 8;

/// Per-mille adjustment of each circumstance, in `CIRCUMSTANCES` order.
const ADJUST: [i32; 9] = [-300, -250, 200, -200, -100, -100, -100, -100, 100];

#[derive(Debug, Clone)]
pub(crate) struct Sentence {
    pub penalty: Penalty,
    /// Months; 0 for 免予刑事处罚.
    pub term_months: u16,
    /// Months of 缓刑 (probation); 0 when not suspended.
    pub probation_months: u16,
    /// 罚金 in yuan; 0 when none.
    pub fine: u32,
    /// Bit set over [`CIRCUMSTANCES`].
    pub circumstances: u16,
}

impl Sentence {
    /// Names joined by `、`, or `None` when there are none.
    pub(crate) fn circumstance_names(&self) -> Option<String> {
        let mut s = String::new();
        for (i, name) in CIRCUMSTANCES.iter().enumerate() {
            if self.circumstances & (1 << i) != 0 {
                if !s.is_empty() {
                    s.push('、');
                }
                s.push_str(name);
            }
        }
        (!s.is_empty()).then_some(s)
    }
}

/// What sentencing needs to know beyond the charge.
pub(crate) struct Facts {
    /// Where the amount lies in the charge's range, 0..1 (`None` without an amount).
    pub amount_q: Option<f64>,
    /// Two charges (数罪并罚).
    pub joined: bool,
    /// Not the principal offender of a group case.
    pub secondary: bool,
    /// Extra circumstances from the person's record (累犯, 前科).
    pub record: u16,
    /// 涉案金额 in yuan, when the charge has one.
    pub amount_yuan: Option<u64>,
}

/// Circumstances with which the Criminal Law lets a term go below its band (减轻处罚).
pub(crate) const MITIGATING: u16 = ATTEMPT | ACCESSORY | SURRENDER;

/// The minimum (months) of the band a case is certainly in, for the charges whose guideline
/// starting point the supervision rule `gl21-guideline-floor` places (its
/// `guideline-floors.tsv`): 抢劫罪 and 强奸罪 at 3 years, 盗窃罪 and 诈骗罪 from 100,000 yuan at 3
/// years and from 500,000 at 10 (刑法 第236、263、264、266条; 盗窃解释 and 诈骗解释 第1条).
pub(crate) fn band_minimum(charge: &str, amount_yuan: Option<u64>) -> Option<u16> {
    match (charge, amount_yuan) {
        ("抢劫罪" | "强奸罪", _) => Some(36),
        ("盗窃罪" | "诈骗罪", Some(a)) if a >= 500_000 => Some(120),
        ("盗窃罪" | "诈骗罪", Some(a)) if a >= 100_000 => Some(36),
        _ => None,
    }
}

pub(crate) fn sentence(rng: &mut ChaCha8Rng, charge: &Charge, facts: &Facts) -> Sentence {
    let p = charge.profile;
    let s = &p.sentencing;

    // Circumstances.
    let mut c = facts.record;
    if chance(rng, 15) {
        c |= SURRENDER;
    } else if chance(rng, 60) {
        c |= CONFESSION;
    }
    if chance(rng, 85) {
        c |= PLEA;
    }
    if p.amount.is_some() && p.name != "帮助信息网络犯罪活动罪" && chance(rng, 30) {
        c |= RESTITUTION;
    }
    if matches!(
        p.name,
        "故意伤害罪" | "交通肇事罪" | "寻衅滋事罪" | "聚众斗殴罪" | "非法拘禁罪"
    ) && chance(rng, 40)
    {
        c |= FORGIVENESS;
    }
    if facts.secondary && chance(rng, 35) {
        c |= ACCESSORY;
    }
    if matches!(p.name, "盗窃罪" | "诈骗罪" | "抢劫罪") && chance(rng, 3) {
        c |= ATTEMPT;
    }

    // Principal penalty; a large amount or a heavy band forces a fixed term.
    let heavy = s.heavy_months.is_some()
        && match facts.amount_q {
            Some(q) => q > 0.85,
            None => chance(rng, 8),
        };
    let penalty = if heavy {
        Penalty::FixedTerm
    } else {
        let w = s.weights;
        let items = [
            (Penalty::Surveillance, w[0]),
            (Penalty::Detention, w[1]),
            (Penalty::FixedTerm, w[2]),
            (Penalty::Exempt, w[3]),
        ];
        *crate::util::pick(rng, &items)
    };
    let position = {
        let u: f64 = rng.gen();
        let x = match facts.amount_q {
            Some(q) => 0.6 * q + 0.4 * u,
            None => u,
        };
        x * x
    };
    let within =
        |(lo, hi): (u16, u16)| -> u16 { lo + (f64::from(hi - lo) * position + 0.5) as u16 };
    let (base, min, max) = match penalty {
        Penalty::Surveillance => (within((3, 24)), 3, 24),
        Penalty::Detention => (within(s.detention_months), 1, 6),
        Penalty::FixedTerm => {
            let band = if heavy {
                s.heavy_months.unwrap_or(s.fixed_months)
            } else {
                s.fixed_months
            };
            (within(band), 6, 180)
        }
        Penalty::Exempt => (0, 0, 0),
    };
    let mut factor = 1000i32;
    for (i, adj) in ADJUST.iter().enumerate() {
        if c & (1 << i) != 0 {
            factor += adj;
        }
    }
    let factor = factor.clamp(500, 1300);
    let mut term = (i32::from(base) * factor / 1000) as u16;
    if facts.joined && penalty != Penalty::Exempt {
        term += term / 3;
    }
    let term = if penalty == Penalty::Exempt {
        0
    } else {
        term.clamp(min, max)
    };

    // The band's minimum holds without a statutory mitigation (刑法 第63条); with one, the term
    // stays at or above 60 % of it, above every floor the guideline's largest reductions reach
    // (at most 36 × 0.6 × 1.1 × 0.8 months for a 3-year band), so only planted terms fall below.
    let (penalty, term) = match band_minimum(p.name, facts.amount_yuan) {
        Some(min) if penalty != Penalty::Exempt => {
            let least = if c & MITIGATING != 0 {
                (min * 6).div_ceil(10)
            } else {
                min
            };
            if penalty == Penalty::FixedTerm && term >= least {
                (penalty, term)
            } else {
                (Penalty::FixedTerm, term.max(least))
            }
        }
        _ => (penalty, term),
    };

    let eligible = match penalty {
        Penalty::Detention => true,
        Penalty::FixedTerm => term <= 36,
        _ => false,
    };
    let probation_months = if eligible
        && c & RECIDIVIST == 0
        && chance(
            rng,
            u32::from(s.probation_pct) + if c & PLEA != 0 { 5 } else { 0 },
        ) {
        if penalty == Penalty::Detention {
            let lo = term.max(2);
            rng.gen_range(lo..=(term * 2).clamp(lo, 12))
        } else {
            let lo = term.max(12);
            rng.gen_range(lo..=(term * 2).clamp(lo, 60))
        }
    } else {
        0
    };

    let fine = match (s.fine, penalty) {
        (_, Penalty::Exempt) | (None, _) => 0,
        (Some((lo, hi)), _) => {
            let u: f64 = rng.gen();
            let x = match facts.amount_q {
                Some(q) => 0.7 * q + 0.3 * u,
                None => 0.5 * position + 0.5 * u,
            };
            let raw = f64::from(lo) + f64::from(hi - lo) * x * x;
            let step = if raw < 10_000.0 { 1000.0 } else { 5000.0 };
            ((raw / step + 0.5) as u32 * step as u32).max(lo.min(1000))
        }
    };

    Sentence {
        penalty,
        term_months: term,
        probation_months,
        fine,
        circumstances: c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xiezhi_standard::codes::{table, CodeTable};

    #[test]
    fn names_agree_with_the_standard() {
        for p in [
            Penalty::Surveillance,
            Penalty::Detention,
            Penalty::FixedTerm,
            Penalty::Exempt,
        ] {
            assert_eq!(
                table(CodeTable::PenaltyKind).get(p.code()).unwrap().name,
                p.name()
            );
        }
        let t = table(CodeTable::Circumstance);
        for c in CIRCUMSTANCES {
            assert!(t.current_by_name(c).is_some(), "{c}");
        }
    }

    #[test]
    fn sentences_stay_in_statutory_bounds() {
        let (charges, _) = crate::charges::load();
        let mut rng = crate::util::stream(9, 9);
        for charge in &charges {
            for i in 0..200 {
                let facts = Facts {
                    amount_q: charge.profile.amount.map(|_| f64::from(i % 100) / 100.0),
                    joined: i % 7 == 0,
                    secondary: i % 3 == 0,
                    record: if i % 11 == 0 { RECIDIVIST } else { 0 },
                    amount_yuan: charge
                        .profile
                        .amount
                        .map(|_| [5_000, 100_000, 600_000][(i % 3) as usize]),
                };
                let s = sentence(&mut rng, charge, &facts);
                // The band's minimum, or 60 % of it with a statutory mitigation (刑法 第63条).
                if let (Some(min), false) = (
                    band_minimum(charge.name, facts.amount_yuan),
                    s.penalty == Penalty::Exempt,
                ) {
                    assert_eq!(s.penalty, Penalty::FixedTerm, "{} {s:?}", charge.name);
                    let least = if s.circumstances & MITIGATING != 0 {
                        (min * 6).div_ceil(10)
                    } else {
                        min
                    };
                    assert!(s.term_months >= least, "{} {s:?}", charge.name);
                }
                let (lo, hi) = match s.penalty {
                    Penalty::Surveillance => (3, 24),
                    Penalty::Detention => (1, 6),
                    Penalty::FixedTerm => (6, 180),
                    Penalty::Exempt => (0, 0),
                };
                assert!((lo..=hi).contains(&s.term_months), "{} {s:?}", charge.name);
                if s.probation_months > 0 {
                    assert!(s.probation_months >= s.term_months);
                    assert!(s.circumstances & RECIDIVIST == 0);
                }
                if charge.name == "危险驾驶罪" && s.penalty != Penalty::Exempt {
                    assert_eq!(s.penalty, Penalty::Detention);
                    assert!(s.fine > 0);
                }
            }
        }
    }
}
