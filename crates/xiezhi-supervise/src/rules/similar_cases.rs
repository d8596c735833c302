//! 类案偏离: a declared term far outside what similar cases in the store received. Punishment
//! must fit the crime and the responsibility borne (刑法 第5条); a term that departs sharply from
//! the cases like it is a point for the supervisor to read the judgment against (类案检索).
//!
//! Similar cases: single-charge sentences of the same charge, in the same guideline band (the
//! band `guideline-floors.tsv` places the case's amount in, else the charge's basic band), with an
//! amount of the same order of magnitude, and of the same principal penalty (circumstances are
//! not split out: a cohort of 减轻 cases alone is too small to judge, and their terms fall inside
//! the cohort's range anyway). A cohort of at least [`MIN_PEERS`] sentences
//! judges its members: a term above three times the cohort's 95th percentile, or below a third of
//! its 5th, is reported, with the cohort's size, median and middle 90 %, and the three peers
//! closest in amount. The percentiles include the sentence judged; a handful of outliers in a
//! cohort of thirty or more moves neither far.
//!
//! A cohort rule: its peers are the whole store, so it is judged on a full evaluation
//! ([`crate::engine::evaluate_all`]); an incremental run leaves its items as they are (the
//! worklist counts, but does not close, items not found again).

use chrono::NaiveDate;
use xiezhi_graph::StatuteGraph;

use super::guideline_floor::band_of;
use super::{charges_zh, code_zh, item, sentence_day, sentence_fact, sentence_zh, Rule};
use crate::{Basis, CaseFacts, RiskItem, SentenceFacts, Severity};
use xiezhi_standard::codes::CodeTable;

pub const RULE: Rule = Rule {
    id: "cl-005-similar-case-deviation",
    title_zh: "宣告刑明显偏离类案",
    basis: Basis {
        law: "刑法",
        version: "2023",
        article: 5,
        paragraph: None,
        quote: "刑罚的轻重，应当与犯罪分子所犯罪行和承担的刑事责任相适应。",
    },
    severity: Severity::Yellow,
};

/// The smallest cohort that judges its members.
pub const MIN_PEERS: usize = 30;

/// How far past the cohort's 95th (or short of its 5th) percentile a term is reported.
pub const FACTOR: i64 = 3;

/// What makes two sentences similar.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Cohort {
    charge: String,
    /// The guideline band's amount threshold (yuan); 0 for the basic band.
    band_from: i64,
    /// The amount's order of magnitude (`⌊log10 yuan⌋`); -1 without an amount.
    magnitude: i32,
    penalty: String,
}

impl Cohort {
    fn zh(&self) -> String {
        format!(
            "{}、{}{}、{}",
            charges_zh(std::slice::from_ref(&self.charge)),
            if self.band_from > 0 {
                format!("涉案金额{}元以上的量刑幅度", self.band_from)
            } else {
                "基本量刑幅度".to_string()
            },
            if self.magnitude >= 0 {
                format!(
                    "、涉案金额{}至{}元",
                    10i64.pow(self.magnitude as u32),
                    10i64.pow(self.magnitude as u32 + 1)
                )
            } else {
                String::new()
            },
            code_zh(CodeTable::PenaltyKind, &self.penalty)
        )
    }
}

/// One sentence of the store as a peer.
#[derive(Debug, Clone)]
struct Peer {
    cohort: Cohort,
    case_uid: String,
    term: i64,
    amount_yuan: Option<i64>,
    day: NaiveDate,
    sentence: SentenceFacts,
    /// What the statute graph's path is read with: the case's amount and offence date.
    amount_fen: Option<i64>,
    offence: Option<crate::statute_path::Offence>,
}

/// The sentences of the evaluated cases, gathered while the engine reads them.
#[derive(Debug, Default)]
pub struct Peers {
    peers: Vec<Peer>,
}

impl Peers {
    /// Adds a case's single-charge sentences with a term.
    pub fn add(&mut self, facts: &CaseFacts) {
        let amount_yuan = facts.amount_fen.map(|f| f / 100);
        for s in &facts.sentences {
            let (Some(penalty), Some(term), [charge]) = (
                s.principal_penalty.as_deref(),
                s.term_months,
                s.charges.as_slice(),
            ) else {
                continue;
            };
            if term <= 0 || penalty == "exempted" {
                continue;
            }
            let Some(day) = sentence_day(facts, s) else {
                continue;
            };
            self.peers.push(Peer {
                cohort: Cohort {
                    charge: charge.clone(),
                    band_from: band_of(charge, amount_yuan)
                        .and_then(|b| b.from_yuan)
                        .unwrap_or(0),
                    magnitude: amount_yuan
                        .filter(|a| *a >= 1)
                        .map_or(-1, |a| a.ilog10() as i32),
                    penalty: penalty.to_string(),
                },
                case_uid: facts.case_uid.clone(),
                term,
                amount_yuan,
                day,
                sentence: s.clone(),
                amount_fen: facts.amount_fen,
                offence: crate::statute_path::offence_day(facts),
            });
        }
    }

    /// Judges every gathered sentence against its cohort.
    pub fn judge(self) -> Vec<RiskItem> {
        self.judge_in(None)
    }

    /// [`Peers::judge`], each finding explained by the statute graph's path where given (the
    /// graph changes no finding).
    pub fn judge_in(mut self, statute: Option<&StatuteGraph>) -> Vec<RiskItem> {
        self.peers
            .sort_by(|a, b| a.cohort.cmp(&b.cohort).then(a.term.cmp(&b.term)));
        let mut items = Vec::new();
        for group in self.peers.chunk_by(|a, b| a.cohort == b.cohort) {
            if group.len() < MIN_PEERS {
                continue;
            }
            // Nearest-rank percentiles of the sorted terms.
            let at = |q: f64| {
                group[((q * group.len() as f64).ceil() as usize).clamp(1, group.len()) - 1].term
            };
            let (p5, median, p95) = (at(0.05), at(0.5), at(0.95));
            let outlier = |q: &Peer| q.term > FACTOR * p95 || FACTOR * q.term < p5;
            // The examples a finding cites come from the cohort's other members, sorted here
            // once by amount. Sorting the whole cohort again for each finding cost the square
            // of the cohort: at 10⁶ cases cohorts hold thousands and the outliers are a share
            // of them.
            let mut by_amount: Vec<(usize, &Peer)> = group
                .iter()
                .enumerate()
                .filter(|(_, q)| !outlier(q))
                .collect();
            by_amount.sort_by(|(i, a), (j, b)| {
                (a.amount_yuan.unwrap_or(0), &a.case_uid, i).cmp(&(
                    b.amount_yuan.unwrap_or(0),
                    &b.case_uid,
                    j,
                ))
            });
            for p in group {
                if !outlier(p) {
                    continue;
                }
                let high = p.term > FACTOR * p95;
                let examples = nearest_in_amount(&by_amount, p, 3);
                let mut item = finding(p, group.len(), &examples, p5, median, p95, high);
                if let (Some(g), Some(offence)) = (statute, &p.offence) {
                    item.explanation_zh.push_str(&crate::statute_path::path_zh(
                        g,
                        &p.sentence,
                        offence,
                        p.amount_fen,
                    ));
                }
                items.push(item);
            }
        }
        items
    }
}

/// The `n` peers closest in amount to `p` among `by_amount` (the cohort's members that are not
/// outliers, as (cohort position, peer) sorted by amount, case uid and position), leaving out
/// `p`'s own case: nearest first, equally near ones by case uid, then by cohort position. The
/// amounts at each distance are found by binary search on either side of `p`'s.
fn nearest_in_amount<'a>(by_amount: &[(usize, &'a Peer)], p: &Peer, n: usize) -> Vec<&'a Peer> {
    let amount = |q: &Peer| q.amount_yuan.unwrap_or(0);
    let a = amount(p);
    let mut out = Vec::with_capacity(n);
    // [..lo] lies below `a` and [hi..] at or above it; both move outwards a distance at a time.
    let mut lo = by_amount.partition_point(|(_, q)| amount(q) < a);
    let mut hi = lo;
    while out.len() < n {
        let below = (lo > 0).then(|| a - amount(by_amount[lo - 1].1));
        let above = (hi < by_amount.len()).then(|| amount(by_amount[hi].1) - a);
        let d = match (below, above) {
            (Some(l), Some(r)) => l.min(r),
            (Some(l), None) => l,
            (None, Some(r)) => r,
            (None, None) => break,
        };
        let left = if below == Some(d) {
            let start = by_amount[..lo].partition_point(|(_, q)| amount(q) < a - d);
            let run = &by_amount[start..lo];
            lo = start;
            run
        } else {
            &[]
        };
        let right = if above == Some(d) {
            let end = hi + by_amount[hi..].partition_point(|(_, q)| amount(q) <= a + d);
            let run = &by_amount[hi..end];
            hi = end;
            run
        } else {
            &[]
        };
        // Each run is in (case uid, position) order; merge the two.
        let key = |(i, q): &(usize, &'a Peer)| (q.case_uid.as_str(), *i);
        let (mut l, mut r) = (0, 0);
        while out.len() < n && (l < left.len() || r < right.len()) {
            let take_left = r == right.len() || (l < left.len() && key(&left[l]) < key(&right[r]));
            let q = if take_left {
                l += 1;
                left[l - 1].1
            } else {
                r += 1;
                right[r - 1].1
            };
            if q.case_uid != p.case_uid {
                out.push(q);
            }
        }
    }
    out
}

fn finding(
    p: &Peer,
    cohort_size: usize,
    nearest: &[&Peer],
    p5: i64,
    median: i64,
    p95: i64,
    high: bool,
) -> RiskItem {
    let examples: Vec<String> = nearest
        .iter()
        .map(|q| {
            format!(
                "{}（{}{}）",
                q.case_uid,
                sentence_zh(&q.sentence),
                q.amount_yuan
                    .map_or(String::new(), |a| format!("，涉案金额{a}元"))
            )
        })
        .collect();
    let how = if high {
        format!("高于第95百分位数的{FACTOR}倍（{}个月）", FACTOR * p95)
    } else {
        format!(
            "低于第5百分位数的1/{FACTOR}（{:.1}个月）",
            p5 as f64 / FACTOR as f64
        )
    };
    let facts = CaseFacts::new(&p.case_uid);
    item(
        &RULE,
        &facts,
        p.day,
        format!(
            "{}宣判{}{}。同类案件（{}）共{}件，刑期中位数{}个月，中间90%在{}至{}个月之间；本案{}。依{}，请对照类案核查量刑理由。涉案金额最接近的类案：{}。",
            p.day,
            sentence_zh(&p.sentence),
            p.amount_yuan.map_or(String::new(), |a| format!("，涉案金额{a}元")),
            p.cohort.zh(),
            cohort_size,
            median,
            p5,
            p95,
            how,
            RULE.basis.cite(),
            examples.join("、")
        ),
        vec![
            sentence_fact(p.day, &p.sentence),
            format!("peers {cohort_size} p5 {p5}m median {median}m p95 {p95}m"),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;

    fn theft(uid: &str, term: i64, amount_yuan: i64) -> CaseFacts {
        let mut f = CaseFacts::new(uid);
        f.amount_fen = Some(amount_yuan * 100);
        f.sentences.push(SentenceFacts {
            charges: vec!["C264.1".into()],
            principal_penalty: Some("fixed_term".into()),
            term_months: Some(term),
            judgment_date: Some(d(2024, 3, 1)),
            ..SentenceFacts::default()
        });
        f
    }

    fn cohort_of(extra: &[CaseFacts]) -> Vec<RiskItem> {
        let mut peers = Peers::default();
        for i in 0..40 {
            peers.add(&theft(&format!("C{i:03}"), 8 + i % 10, 5_000 + 100 * i));
        }
        for f in extra {
            peers.add(f);
        }
        peers.judge()
    }

    #[test]
    fn a_term_beyond_three_times_the_95th_percentile_is_reported_with_its_peers() {
        // Terms 8..17: the 95th percentile is 17, three times it 51.
        assert!(cohort_of(&[theft("X", 51, 6_000)]).is_empty());
        let items = cohort_of(&[theft("X", 52, 6_000)]);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].case_uid, "X");
        assert!(items[0].explanation_zh.contains("共41件"));
        assert!(items[0].explanation_zh.contains("3倍（51个月）"));
        assert_eq!(items[0].explanation_zh.matches("C0").count(), 3);
    }

    #[test]
    fn below_a_third_of_the_5th_percentile_is_reported_too() {
        // The 5th percentile is 8: 3 months is not below its third, 2 is.
        assert!(cohort_of(&[theft("X", 3, 6_000)]).is_empty());
        assert_eq!(cohort_of(&[theft("X", 2, 6_000)]).len(), 1);
    }

    #[test]
    fn other_bands_magnitudes_penalties_and_small_cohorts_are_not_peers() {
        // From 100,000 yuan the case is in another band, from 10,000 of another magnitude.
        assert!(cohort_of(&[theft("X", 90, 150_000)]).is_empty());
        assert!(cohort_of(&[theft("X", 90, 12_000)]).is_empty());
        let mut detention = theft("X", 90, 6_000);
        detention.sentences[0].principal_penalty = Some("criminal_detention".into());
        assert!(cohort_of(&[detention]).is_empty());
        let mut peers = Peers::default();
        for i in 0..(MIN_PEERS as i64 - 2) {
            peers.add(&theft(&format!("C{i:03}"), 8, 5_000));
        }
        peers.add(&theft("X", 90, 5_000));
        assert!(peers.judge().is_empty());
    }

    /// What a finding's examples were before: the cohort's other non-outlier members, sorted
    /// whole by distance in amount, then case uid (a stable sort keeps cohort order).
    fn nearest_by_sorting<'a>(
        group: &'a [Peer],
        p: &Peer,
        keep: impl Fn(&Peer) -> bool,
    ) -> Vec<&'a Peer> {
        let amount = p.amount_yuan.unwrap_or(0);
        let mut near: Vec<&Peer> = group
            .iter()
            .filter(|q| q.case_uid != p.case_uid && keep(q))
            .collect();
        near.sort_by_key(|q| {
            (
                (q.amount_yuan.unwrap_or(0) - amount).abs(),
                q.case_uid.clone(),
            )
        });
        near.truncate(3);
        near
    }

    fn peer(case: u8, term: i64, amount_yuan: Option<i64>) -> Peer {
        let mut facts = theft(&format!("C{case}"), term, 1);
        facts.amount_fen = amount_yuan.map(|a| a * 100);
        let mut peers = Peers::default();
        peers.add(&facts);
        peers.peers.pop().expect("a peer")
    }

    proptest::proptest! {
        /// The binary search picks exactly the peers the whole sort picked, in its order,
        /// over cohorts with repeated cases, equal amounts, missing amounts and outliers.
        #[test]
        fn nearest_in_amount_is_the_whole_sort_s_first_three(
            members in proptest::collection::vec(
                (0u8..12, 1i64..40, proptest::option::weighted(0.8, 0i64..30)),
                1..60,
            ),
            judged in 0usize..60,
        ) {
            let group: Vec<Peer> = members.iter().map(|&(c, t, a)| peer(c, t, a)).collect();
            let keep = |q: &Peer| q.term < 35;
            let mut by_amount: Vec<(usize, &Peer)> =
                group.iter().enumerate().filter(|(_, q)| keep(q)).collect();
            by_amount.sort_by(|(i, a), (j, b)| {
                (a.amount_yuan.unwrap_or(0), &a.case_uid, i)
                    .cmp(&(b.amount_yuan.unwrap_or(0), &b.case_uid, j))
            });
            let p = &group[judged % group.len()];
            let fast: Vec<*const Peer> =
                nearest_in_amount(&by_amount, p, 3).into_iter().map(|q| q as *const Peer).collect();
            let slow: Vec<*const Peer> =
                nearest_by_sorting(&group, p, keep).into_iter().map(|q| q as *const Peer).collect();
            proptest::prop_assert_eq!(fast, slow);
        }
    }
}
