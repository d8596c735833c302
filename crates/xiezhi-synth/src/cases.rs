//! The synthetic world: cases flowing police → procuratorate → court → prison or community
//! corrections, and the persons in them.
//!
//! Cases are generated in order of the day they happened, so a repeat offender's earlier case is
//! always an earlier case id. Every date of a case is in procedural order; gaps follow the
//! statutory clocks (domain-facts §1.2).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::charges::{self, Charge};
use crate::people::{self, PeopleGen, Person, Prior};
use crate::province::Province;
use crate::sentence::{self, Facts, Penalty, Sentence, PRIOR, RECIDIVIST};
use crate::surges;
use crate::util::{add_days, chance, pick_cumulative, stream, term_end};
use crate::violations::{rule, Limit, Mark, Planner};
use crate::{SynthConfig, SynthError};

/// First and last day on which synthetic offences happen.
pub(crate) fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 1, 1).unwrap_or_default()
}
pub(crate) fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default()
}
/// The day every export is taken; every generated date is on or before it.
pub(crate) fn export_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 30).unwrap_or_default()
}

#[derive(Debug, Clone)]
pub(crate) struct CourtStage {
    pub accepted: NaiveDate,
    pub hearing: NaiveDate,
    pub verdict: NaiveDate,
    pub effective: NaiveDate,
    /// 交付执行: the court sends the judgment and execution notice to the executing organ.
    pub delivered: NaiveDate,
    /// The procedure the court chose (速裁 / 简易 / 普通).
    pub procedure: Procedure,
    /// The appeal and the second instance, when a defendant appealed; the judgment then takes
    /// effect on the second-instance verdict (二审终审).
    pub appeal: Option<Appeal>,
}

/// 审判程序: the first instance's procedure, as the court's act choosing it records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Procedure {
    /// 速裁程序 (刑事诉讼法 第222条).
    FastTrack,
    /// 简易程序 (第214条).
    Summary,
    /// 普通程序: no act records it.
    Ordinary,
}

/// 上诉 and 二审.
#[derive(Debug, Clone)]
pub(crate) struct Appeal {
    pub filed: NaiveDate,
    /// Organ index of the intermediate court.
    pub court: usize,
    pub accepted: NaiveDate,
    pub verdict: NaiveDate,
}

#[derive(Debug, Clone)]
pub(crate) struct Execution {
    /// Prison (监狱) rather than community corrections (社区矫正).
    pub prison: bool,
    /// Organ index of the prison or the county community-corrections organ.
    pub organ: usize,
    pub start: NaiveDate,
    /// Current expiry, after any commutation.
    pub end: NaiveDate,
    /// 入监 or 社区矫正报到.
    pub report: NaiveDate,
    pub reduction_months: u16,
}

#[derive(Debug, Clone)]
pub(crate) struct Defendant {
    pub person: usize,
    pub sentence: Option<Sentence>,
    pub execution: Option<Execution>,
}

#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub county: usize,
    /// Indexes into `World::charges`; the first is the principal charge.
    pub charges: Vec<usize>,
    pub occurred: NaiveDateTime,
    pub filed: NaiveDate,
    /// 涉案金额 in fen.
    pub amount_fen: Option<u64>,
    /// 简要案情.
    pub facts: String,
    pub detained: Option<NaiveDate>,
    pub arrest_requested: Option<NaiveDate>,
    pub arrest_approved: Option<NaiveDate>,
    /// 不批准逮捕.
    pub arrest_denied: Option<NaiveDate>,
    pub transferred: Option<NaiveDate>,
    /// 退回补充侦查 dates.
    pub returns: Vec<NaiveDate>,
    pub prosecuted: Option<NaiveDate>,
    pub not_prosecuted: Option<NaiveDate>,
    pub court: Option<CourtStage>,
    pub defendants: Vec<Defendant>,
    /// Police AJBH.
    pub police_no: String,
    /// Procuratorate 部门受案号 (empty when not transferred).
    pub procuratorate_no: String,
    /// 起诉书文号 (empty when not prosecuted).
    pub indictment_no: String,
    /// Court 案号 (empty when not judged).
    pub court_no: String,
    /// Violations and near-misses planted in this case, by catalog rule id.
    pub marks: Vec<(&'static str, Mark)>,
    /// Planted: the arrest is approved with no 提请批准逮捕 on record (the police export leaves
    /// the request date out).
    pub hide_arrest_request: bool,
    /// Planted: the executing organ acts on a judgment with no 生效 on record (the court export
    /// leaves the effective date out).
    pub hide_effective: bool,
    /// Planted: the case is prosecuted with no 移送审查起诉 on record (police and procuratorate
    /// leave the transfer date out).
    pub hide_transfer: bool,
    /// Planted: the court tries a case with no 提起公诉 on record (the procuratorate leaves the
    /// prosecution date out).
    pub hide_prosecuted: bool,
    /// Planted: the case is one of the extra cases of this surge (index into `World::surges`).
    pub surge: Option<usize>,
}

pub(crate) struct World {
    pub province: Province,
    pub charges: Vec<Charge>,
    pub persons: Vec<Person>,
    pub cases: Vec<Case>,
    pub unknown_division: String,
    /// The planted surges (early-warning ground truth).
    pub surges: Vec<surges::Plan>,
}

/// Random streams of the generator (the dirty-data streams are in `dirty`).
const STREAM_ORGANS: u64 = 1;
const STREAM_CASES: u64 = 2;
const STREAM_SURGES: u64 = 3;
/// The term-range plantings draw from a stream of their own: adding them took no draw from
/// the case stream.
const STREAM_TERMS: u64 = 4;
/// Appeals and the short procedures' plantings draw from a stream of their own, so the case
/// stream is as it was before they existed.
const STREAM_COURT: u64 = 5;

/// Per mille of judged cases appealed.
const APPEAL_PER_MILLE: u32 = 60;

/// Per mille of suspect slots filled by someone from an earlier case.
const REPEAT_PER_MILLE: u32 = 22;

pub(crate) fn build(
    config: &SynthConfig,
    progress: &mut dyn FnMut(usize),
) -> Result<World, SynthError> {
    let province = Province::build(&config.province, &mut stream(config.seed, STREAM_ORGANS))?;
    let (charges, charge_weights) = charges::load();
    if charges.is_empty() {
        return Err(SynthError::NoCharges);
    }
    let plans = surges::plan(
        config.cases,
        &province,
        &charges,
        &mut stream(config.seed, STREAM_SURGES),
    );
    let planted: usize = plans.iter().map(|p| p.days.len()).sum();
    let mut rng = stream(config.seed, STREAM_CASES);
    let span = (last_day() - first_day()).num_days() as u32 + 1;
    // (day offset, surge index): surge cases come out of the case budget, in day order with
    // the rest.
    let mut days: Vec<(u32, Option<usize>)> = (0..config.cases.saturating_sub(planted))
        .map(|_| (rng.gen_range(0..span), None))
        .collect();
    for (si, p) in plans.iter().enumerate() {
        for d in &p.days {
            days.push(((*d - first_day()).num_days() as u32, Some(si)));
        }
    }
    days.sort_unstable();

    // Group-capable charges get the second and third suspects, so that over all cases 80 % have
    // one suspect, 15 % two and 5 % three.
    let total: u64 = charges.iter().map(|c| u64::from(c.profile.weight)).sum();
    let group: u64 = charges
        .iter()
        .filter(|c| c.profile.group)
        .map(|c| u64::from(c.profile.weight))
        .sum::<u64>()
        .max(1);
    let group_two = (150_000 * total / group).min(750_000) as u32;
    let group_three = (50_000 * total / group).min(250_000) as u32;
    let mut g = Gen {
        group_two,
        group_three,
        rng,
        terms: stream(config.seed, STREAM_TERMS),
        court: stream(config.seed, STREAM_COURT),
        province: &province,
        charges: &charges,
        charge_weights: &charge_weights,
        people: PeopleGen::new(&province),
        persons: Vec::new(),
        pool: Vec::new(),
    };
    let mut cases = Vec::with_capacity(config.cases);
    for (i, (day, surge)) in days.iter().enumerate() {
        let forced = surge.map(|si| (plans[si].county, plans[si].charge));
        let mut case = g.case(add_days(first_day(), i64::from(*day)), forced);
        case.surge = *surge;
        cases.push(case);
        if (i + 1) % 1024 == 0 && i + 1 < config.cases {
            progress(i + 1);
        }
    }
    let persons = g.persons;
    number(&province, &mut cases);
    let unknown_division = province.unknown_division();
    Ok(World {
        province,
        charges,
        persons,
        cases,
        unknown_division,
        surges: plans,
    })
}

struct Gen<'a> {
    /// Per million group-capable cases with two and with three suspects.
    group_two: u32,
    group_three: u32,
    rng: ChaCha8Rng,
    /// Stream of the term-range plantings ([`STREAM_TERMS`]).
    terms: ChaCha8Rng,
    /// Stream of appeals and of the short procedures' plantings ([`STREAM_COURT`]).
    court: ChaCha8Rng,
    province: &'a Province,
    charges: &'a [Charge],
    charge_weights: &'a [u32],
    people: PeopleGen,
    persons: Vec<Person>,
    /// Persons who so far appear in exactly one case: candidates for a second one.
    pool: Vec<usize>,
}

impl Gen<'_> {
    /// One case on `day`; `forced` fixes (county, principal charge) for a surge case (the
    /// draws they replace are still made, so the stream stays aligned).
    fn case(&mut self, day: NaiveDate, forced: Option<(usize, usize)>) -> Case {
        let rng = &mut self.rng;
        // A charge must be in force on the day of the act (袭警罪 only from 2021-03-01).
        let mut principal = pick_cumulative(rng, self.charge_weights);
        for _ in 0..32 {
            if self.charges[principal].entry.valid_on(day) {
                break;
            }
            principal = pick_cumulative(rng, self.charge_weights);
        }
        if let Some((_, c)) = forced {
            principal = c;
        }
        let charge = &self.charges[principal];
        let profile = charge.profile;
        let mut case_charges = vec![principal];
        if let Some(c) = charge.companion {
            if chance(rng, 5) && self.charges[c].entry.valid_on(day) {
                case_charges.push(c);
            }
        }
        let mut county = pick_cumulative(rng, &self.province.county_cumulative);
        if let Some((c, _)) = forced {
            county = c;
        }
        let n_suspects = if profile.group {
            let r = rng.gen_range(0..1_000_000);
            if r < self.group_two {
                2
            } else if r < self.group_two + self.group_three {
                3
            } else {
                1
            }
        } else {
            1
        };
        let hour = if profile.night {
            [20, 21, 22, 23, 0, 1, 2][rng.gen_range(0..7)]
        } else {
            rng.gen_range(7..24)
        };
        let occurred = day
            .and_hms_opt(hour, rng.gen_range(0..60), rng.gen_range(0..60))
            .unwrap_or_default();
        let filed = add_days(
            day,
            match rng.gen_range(0..100) {
                0..70 => rng.gen_range(0..=1),
                70..95 => rng.gen_range(2..=5),
                _ => rng.gen_range(6..=10),
            },
        );
        let (amount_fen, amount_q) = match profile.amount {
            Some((lo, hi)) => {
                let (yuan, q) = amount(rng, lo, hi);
                let fen = if profile.cents && chance(rng, 60) {
                    rng.gen_range(1..100)
                } else {
                    0
                };
                (Some(yuan * 100 + fen), Some(q))
            }
            None => (None, None),
        };

        // Suspects: now and then someone from an earlier case, free again by now.
        let mut ids: Vec<usize> = Vec::with_capacity(n_suspects);
        for _ in 0..n_suspects {
            let mut chosen = None;
            if !self.pool.is_empty() && self.rng.gen_range(0..1000) < REPEAT_PER_MILLE {
                for _ in 0..4 {
                    let k = self.rng.gen_range(0..self.pool.len());
                    let pid = self.pool[k];
                    if self.persons[pid].free_from <= day && !ids.contains(&pid) {
                        self.pool.swap_remove(k);
                        chosen = Some(pid);
                        break;
                    }
                }
            }
            let pid = chosen.unwrap_or_else(|| {
                let residence = if chance(&mut self.rng, 75) {
                    county
                } else {
                    pick_cumulative(&mut self.rng, &self.province.county_cumulative)
                };
                let p = self.people.person(
                    &mut self.rng,
                    self.province,
                    residence,
                    profile.male_pct,
                    profile.age,
                    day,
                );
                self.persons.push(p);
                self.persons.len() - 1
            });
            self.persons[pid].cases += 1;
            ids.push(pid);
        }
        let rng = &mut self.rng;

        // Police. Every gap goes through the planner (`violations`): inside the statutory
        // limit, planted late, or on the last lawful day.
        let mut plan = Planner::default();
        let detained = chance(rng, u32::from(profile.detain_pct))
            .then(|| add_days(filed, rng.gen_range(0..=3)));
        let arrest_requested = match detained {
            Some(d) if chance(rng, u32::from(profile.arrest_pct)) => {
                Some(plan.gap(rng, rule::ARREST_REQUEST, d, Limit::Days(7), true, 1..=7))
            }
            Some(_) => None,
            // Now and then the police ask for the arrest of a suspect who was never detained.
            None if chance(rng, 25) => Some(add_days(filed, rng.gen_range(5..=30))),
            None => None,
        };
        let (mut arrest_approved, mut arrest_denied) = (None, None);
        if let Some(r) = arrest_requested {
            let decided = if detained.is_some() {
                plan.gap(
                    rng,
                    rule::ARREST_REVIEW_DETAINED,
                    r,
                    Limit::Days(7),
                    true,
                    1..=7,
                )
            } else {
                plan.gap(
                    rng,
                    rule::ARREST_REVIEW_NOT_DETAINED,
                    r,
                    Limit::Days(20),
                    false,
                    1..=15,
                )
            };
            if chance(rng, 88) {
                arrest_approved = Some(decided);
            } else {
                arrest_denied = Some(decided);
            }
        }
        // Whether the supervision engine will see the suspect in custody from here on: the
        // latest coercive measure recorded is a detention or an approved arrest.
        let custody = arrest_approved.is_some() || (detained.is_some() && arrest_denied.is_none());
        let last_police = arrest_approved
            .or(arrest_denied)
            .or(arrest_requested)
            .or(detained)
            .unwrap_or(filed);
        // A suspect held by the police is always either released or handed on; the data has no
        // release row, so a detained suspect's case is always transferred.
        let transfer = detained.is_some() || arrest_requested.is_some() || chance(rng, 75);
        let transferred = match arrest_approved {
            // After arrest, the investigation custody limit of 2 months runs (第156条).
            Some(a) if transfer => Some(plan.gap(
                rng,
                rule::INVESTIGATION_CUSTODY,
                a,
                Limit::MonthsDays(2, 0),
                true,
                15..=58,
            )),
            _ if transfer => Some(add_days(last_police, rng.gen_range(15..=60))),
            _ => None,
        };

        // Procuratorate.
        let mut returns = Vec::new();
        let (mut prosecuted, mut not_prosecuted, mut court) = (None, None, None);
        if let Some(t) = transferred {
            let mut last = t;
            let n_returns = match rng.gen_range(0..100) {
                0..10 => 1,
                10..12 => 2,
                _ => 0,
            };
            let n_returns = if n_returns == 2
                && plan.plant_per_mille(rng, rule::SUPPLEMENTARY_INVESTIGATION, 200)
            {
                3
            } else {
                n_returns
            };
            for _ in 0..n_returns {
                let r = add_days(last, rng.gen_range(15..=30));
                returns.push(r);
                last = add_days(r, rng.gen_range(10..=30));
            }
            // The decision: after returns, within days of the case coming back; otherwise
            // within the review limit of 1 month + 15 days.
            let decided = if returns.is_empty() {
                plan.gap(
                    rng,
                    rule::PROSECUTION_REVIEW,
                    t,
                    Limit::MonthsDays(1, 15),
                    custody,
                    5..=40,
                )
            } else {
                add_days(last, rng.gen_range(5..=30))
            };
            if chance(rng, 90) {
                let p = decided;
                prosecuted = Some(p);
                if chance(rng, 95) {
                    let accepted = add_days(p, rng.gen_range(1..=5));
                    let ordinary = profile.sentencing.fixed_months.0 >= 36;
                    let pick = rng.gen_range(0..100);
                    let procedure = match pick {
                        0..40 if !ordinary => Procedure::FastTrack,
                        40..70 if !ordinary => Procedure::Summary,
                        _ => Procedure::Ordinary,
                    };
                    let (hearing, verdict) = match pick {
                        0..40 if !ordinary => {
                            let h = add_days(accepted, rng.gen_range(3..=9));
                            (h, h)
                        }
                        40..70 if !ordinary => {
                            let h = add_days(accepted, rng.gen_range(7..=15));
                            (h, add_days(h, rng.gen_range(0..=5)))
                        }
                        _ => {
                            let v = plan.gap(
                                rng,
                                rule::FIRST_INSTANCE,
                                accepted,
                                Limit::MonthsDays(3, 0),
                                custody,
                                20..=88,
                            );
                            let h = add_days(accepted, rng.gen_range(15..=60)).min(v);
                            (h, v)
                        }
                    };
                    // The short procedures' limits (刑事诉讼法 第220条, 第225条): planted late past
                    // the longer limit, or on the last day of the shorter one.
                    let short = match procedure {
                        Procedure::FastTrack => {
                            Some((rule::FAST_TRACK_PROCEDURE, Limit::Days(10), Limit::Days(15)))
                        }
                        Procedure::Summary => Some((
                            rule::SUMMARY_PROCEDURE,
                            Limit::Days(20),
                            Limit::MonthsDays(1, 15),
                        )),
                        Procedure::Ordinary => None,
                    };
                    let (hearing, verdict) = match short.and_then(|(id, base, longer)| {
                        plan.short_limit(&mut self.court, id, accepted, base, longer, custody)
                    }) {
                        Some(v) => (hearing.min(v), v),
                        None => (hearing, verdict),
                    };
                    let appeal = (self.court.gen_range(0..1000) < APPEAL_PER_MILLE).then(|| {
                        let court = &mut self.court;
                        let filed = add_days(verdict, court.gen_range(1..=10));
                        let accepted = add_days(filed, court.gen_range(5..=20));
                        let county = &self.province.counties[county];
                        let higher = self.province.organs[county.court]
                            .parent
                            .unwrap_or(county.court);
                        Appeal {
                            filed,
                            court: higher,
                            accepted,
                            verdict: plan.gap(
                                court,
                                rule::SECOND_INSTANCE,
                                accepted,
                                Limit::MonthsDays(2, 0),
                                custody,
                                20..=55,
                            ),
                        }
                    });
                    let effective = appeal.as_ref().map_or(add_days(verdict, 10), |a| a.verdict);
                    let delivered = plan.gap(
                        rng,
                        rule::DELIVERY_FOR_EXECUTION,
                        effective,
                        Limit::Days(10),
                        custody,
                        1..=10,
                    );
                    court = Some(CourtStage {
                        accepted,
                        hearing,
                        verdict,
                        effective,
                        delivered,
                        procedure,
                        appeal,
                    });
                }
            } else {
                not_prosecuted = Some(decided);
            }
        }
        // A missing record is planted only where no late act measured from it is planted too.
        let late = |plan: &Planner, rules: &[&str]| {
            plan.marks
                .iter()
                .any(|(r, m)| *m == Mark::Violation && rules.contains(r))
        };
        let hide_arrest_request = arrest_approved.is_some()
            && !late(
                &plan,
                &[
                    rule::ARREST_REQUEST,
                    rule::ARREST_REVIEW_DETAINED,
                    rule::ARREST_REVIEW_NOT_DETAINED,
                ],
            )
            && plan.plant(rng, rule::ARREST_WITHOUT_REQUEST);
        let last_date = court
            .as_ref()
            .map(|c| c.effective)
            .or(not_prosecuted)
            .or(prosecuted)
            .or(returns.last().copied())
            .or(transferred)
            .unwrap_or(last_police);

        // Sentences and execution, per defendant.
        let mut defendants = Vec::with_capacity(ids.len());
        for (k, &pid) in ids.iter().enumerate() {
            let Some(c) = &court else {
                let p = &mut self.persons[pid];
                p.free_from = p.free_from.max(add_days(last_date, 1));
                if p.cases == 1 {
                    self.pool.push(pid);
                }
                defendants.push(Defendant {
                    person: pid,
                    sentence: None,
                    execution: None,
                });
                continue;
            };
            let record = match self.persons[pid].prior {
                Some(prior) if prior.effective < day => match prior.released {
                    Some(r) if r <= day && day <= add_days(r, 5 * 365) => RECIDIVIST,
                    _ => PRIOR,
                },
                _ => 0,
            };
            let mut s = sentence::sentence(
                &mut self.rng,
                charge,
                &Facts {
                    amount_q,
                    amount_yuan: amount_fen.map(|f| f / 100),
                    joined: case_charges.len() > 1,
                    secondary: k > 0,
                    record,
                },
            );
            let rng = &mut self.rng;
            // Planted: probation for a 累犯 (刑法 第74条), with an otherwise lawful term and
            // probation period, so that only that rule is broken.
            let eligible = s.circumstances & RECIDIVIST != 0
                && s.probation_months == 0
                && match s.penalty {
                    Penalty::FixedTerm => s.term_months <= 36,
                    Penalty::Detention => true,
                    _ => false,
                };
            if eligible && plan.plant_per_mille(rng, rule::PROBATION_RECIDIVIST, 500) {
                s.probation_months = match s.penalty {
                    Penalty::FixedTerm => s.term_months.clamp(12, 60),
                    _ => s.term_months.clamp(2, 12),
                };
            }
            let first_offender = s.circumstances & RECIDIVIST == 0;
            // Planted: probation on a term above 3 years (刑法 第72条), with a lawful period.
            if first_offender
                && s.penalty == Penalty::FixedTerm
                && s.probation_months == 0
                && (37..=60).contains(&s.term_months)
                && plan.plant_per_mille(rng, rule::PROBATION_ELIGIBILITY, 100)
            {
                s.probation_months = s.term_months;
            }
            // Planted: a probation period shorter than the term (刑法 第73条).
            if first_offender
                && s.penalty == Penalty::FixedTerm
                && s.probation_months > 0
                && (13..=36).contains(&s.term_months)
                && plan.plant(rng, rule::PROBATION_PERIOD)
            {
                s.probation_months = s.term_months - 1;
            }
            // Planted: a 拘役 or 管制 term one month past its statutory range for one charge
            // (刑法 第42条, 第38条), and near-misses on the range's upper bound. (A fixed term
            // above 25 years is refused at ingest, and one above 15 years for one charge would
            // also break the charge's band, so 第45条 is not planted this way.)
            if s.probation_months == 0 && case_charges.len() == 1 {
                let range = match s.penalty {
                    Penalty::Detention => Some((rule::DETENTION_RANGE, 6, 25)),
                    Penalty::Surveillance => Some((rule::SURVEILLANCE_RANGE, 24, 200)),
                    _ => None,
                };
                let mut planted = false;
                if let Some((id, max, per_mille)) = range {
                    let mark = plan.bound(&mut self.terms, id, per_mille);
                    match mark {
                        Some(Mark::Violation) => s.term_months = max + 1,
                        Some(Mark::NearMiss) => s.term_months = max,
                        None => {}
                    }
                    planted = mark.is_some();
                }
                // Planted: a fixed term for 危险驾驶罪, whose article provides 拘役 only (刑法
                // 第一百三十三条之一, 第62条), seven months so that 第42条 and 第45条 hold; the
                // near-miss is 拘役 at the article's top, six months.
                // Planted: 有期徒刑 of fifteen years and one month for one charge whose article
                // reaches life (刑法 第45条; 盗窃罪, 第264条: 无期徒刑), so 第62条 holds; the
                // near-miss is fifteen years exactly.
                // Planted: a term below the guideline's reach for the band (法发〔2021〕21号,
                // 刑法 第63条): three months under a 3-year band's minimum for a case with no
                // statutory mitigation; the near-miss is the minimum itself.
                let minimum = sentence::band_minimum(charge.name, amount_fen.map(|f| f / 100));
                if !planted
                    && minimum == Some(36)
                    && s.penalty == Penalty::FixedTerm
                    && s.circumstances & sentence::MITIGATING == 0
                {
                    match plan.bound(&mut self.terms, rule::GUIDELINE_FLOOR, 100) {
                        Some(Mark::Violation) => {
                            s.term_months = 33;
                            planted = true;
                        }
                        Some(Mark::NearMiss) => {
                            s.term_months = 36;
                            planted = true;
                        }
                        None => {}
                    }
                }
                // These are planted on thefts under 10,000 yuan, whose similar cases
                // (`cl-005-similar-case-deviation`: same charge, band and order of magnitude)
                // stay under 50 months, so fifteen years is also far past three times their
                // 95th percentile. Planted too, on such cases: 150 months. Whether the rule
                // can judge them (a cohort of 30) is known once every case is drawn:
                // `procedure::similar_case_marks` marks them then.
                let up_to_life =
                    charge.name == "盗窃罪" && amount_fen.is_some_and(|f| f < 1_000_000);
                if !planted && up_to_life && s.penalty == Penalty::FixedTerm {
                    if let Some(mark) = plan.bound(&mut self.terms, rule::FIXED_TERM_RANGE, 15) {
                        s.term_months = if mark == Mark::Violation { 181 } else { 180 };
                        planted = true;
                    }
                }
                if !planted
                    && up_to_life
                    && s.penalty == Penalty::FixedTerm
                    && self.terms.gen_range(0..1000) < 15
                {
                    s.term_months = 150;
                }
                if !planted && charge.name == "危险驾驶罪" && s.penalty == Penalty::Detention {
                    match plan.bound(&mut self.terms, rule::STATUTORY_BAND, 100) {
                        Some(Mark::Violation) => {
                            s.penalty = Penalty::FixedTerm;
                            s.term_months = 7;
                        }
                        Some(Mark::NearMiss) => s.term_months = 6,
                        None => {}
                    }
                }
            }
            let custody_from = if arrest_approved.is_some() {
                detained
            } else {
                None
            };
            // 入监 follows the delivery of the documents; 社区矫正报到 is due within 10 days of
            // the judgment taking effect (社区矫正法 第21条).
            let community = s.penalty == Penalty::Surveillance || s.probation_months > 0;
            let report = if community {
                plan.gap(
                    rng,
                    rule::COMMUNITY_CORRECTION_REPORT,
                    c.effective,
                    Limit::Days(10),
                    false,
                    1..=10,
                )
            } else {
                add_days(c.delivered, rng.gen_range(1..=20))
            };
            let person = &self.persons[pid];
            let mut released = None;
            let mut free_from = c.effective;
            let execution = match (s.penalty, s.probation_months > 0) {
                (Penalty::Exempt, _) => None,
                (Penalty::Surveillance, _) | (_, true) => {
                    let months = if s.probation_months > 0 {
                        s.probation_months
                    } else {
                        s.term_months
                    };
                    Some(Execution {
                        prison: false,
                        organ: self.province.counties[person.residence].corrections,
                        start: c.effective,
                        end: term_end(c.effective, u32::from(months)),
                        report,
                        reduction_months: 0,
                    })
                }
                (Penalty::Detention, false) => {
                    let start = custody_from.unwrap_or(c.effective);
                    free_from = add_days(term_end(start, u32::from(s.term_months)), 1);
                    None
                }
                (_, false) if s.term_months <= 12 => {
                    // Served in the detention centre: no justice row.
                    let start = custody_from.unwrap_or(c.effective);
                    let end = term_end(start, u32::from(s.term_months));
                    released = Some(end);
                    free_from = add_days(end, 1);
                    None
                }
                _ => {
                    let start = custody_from.unwrap_or(c.effective);
                    let served_a_year = (export_date() - report).num_days() >= 365;
                    let mut reduction = if s.term_months >= 24 && served_a_year && chance(rng, 35) {
                        rng.gen_range(2..=9)
                    } else {
                        0
                    };
                    // Planted: commutations adding up to more than half of the original term
                    // (刑法 第78条第2款第1项); the near-miss is exactly half of an even term.
                    if s.term_months >= 24 && served_a_year {
                        match plan.bound(rng, rule::COMMUTATION_HALF_TERM, 20) {
                            Some(Mark::Violation) => reduction = s.term_months / 2 + 1,
                            Some(Mark::NearMiss) => reduction = s.term_months / 2,
                            None => {}
                        }
                    }
                    let end = term_end(start, u32::from(s.term_months - reduction));
                    released = Some(end);
                    free_from = add_days(end, 1);
                    let organ = if person.male || self.province.prisons.is_empty() {
                        if self.province.prisons.is_empty() {
                            self.province.women_prison
                        } else {
                            self.province.prisons[rng.gen_range(0..self.province.prisons.len())]
                        }
                    } else {
                        self.province.women_prison
                    };
                    Some(Execution {
                        prison: true,
                        organ,
                        start,
                        end,
                        report,
                        reduction_months: reduction,
                    })
                }
            };
            let p = &mut self.persons[pid];
            p.free_from = p.free_from.max(free_from).max(add_days(last_date, 1));
            p.prior = Some(Prior {
                effective: c.effective,
                released,
            });
            if p.cases == 1 {
                self.pool.push(pid);
            }
            defendants.push(Defendant {
                person: pid,
                sentence: Some(s),
                execution,
            });
        }
        // A judgment that exempts every defendant has nothing to deliver or execute: no
        // delivery is exported, so no mark measured from one stands.
        let executed = defendants.iter().any(|d: &Defendant| {
            d.sentence
                .as_ref()
                .is_some_and(|s| s.penalty != Penalty::Exempt)
        });
        if !executed {
            plan.marks
                .retain(|(r, _)| *r != rule::DELIVERY_FOR_EXECUTION);
        }
        let hide_transfer = prosecuted.is_some()
            && arrest_approved.is_none()
            && !late(&plan, &[rule::PROSECUTION_REVIEW])
            && plan.plant(&mut self.rng, rule::PROSECUTION_WITHOUT_TRANSFER);
        let hide_prosecuted = court.is_some()
            && !hide_transfer
            && !late(&plan, &[rule::PROSECUTION_REVIEW])
            && plan.plant(&mut self.rng, rule::TRIAL_WITHOUT_PROSECUTION);
        let hide_effective = executed
            && !late(
                &plan,
                &[
                    rule::DELIVERY_FOR_EXECUTION,
                    rule::COMMUNITY_CORRECTION_REPORT,
                ],
            )
            && plan.plant(&mut self.rng, rule::EXECUTION_WITHOUT_JUDGMENT);
        let facts = self.facts(charge, county, occurred, &ids, amount_fen);
        Case {
            county,
            charges: case_charges,
            occurred,
            filed,
            amount_fen,
            facts,
            detained,
            arrest_requested,
            arrest_approved,
            arrest_denied,
            transferred,
            returns,
            prosecuted,
            not_prosecuted,
            court,
            defendants,
            police_no: String::new(),
            procuratorate_no: String::new(),
            indictment_no: String::new(),
            court_no: String::new(),
            marks: plan.marks,
            hide_arrest_request,
            hide_effective,
            hide_transfer,
            hide_prosecuted,
            surge: None,
        }
    }

    /// 简要案情: one sentence from the charge's templates.
    fn facts(
        &mut self,
        charge: &Charge,
        county: usize,
        occurred: NaiveDateTime,
        ids: &[usize],
        amount_fen: Option<u64>,
    ) -> String {
        use chrono::Timelike;
        use std::fmt::Write as _;
        let rng = &mut self.rng;
        let templates = charge.profile.facts;
        let template = templates[rng.gen_range(0..templates.len())];
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            let key = &rest[open + 1..open + close];
            match key {
                "时" => {
                    let _ = write!(
                        out,
                        "{}年{}月{}日{}时许",
                        occurred.year(),
                        occurred.month(),
                        occurred.day(),
                        occurred.hour()
                    );
                }
                "日" => {
                    let _ = write!(
                        out,
                        "{}年{}月{}日",
                        occurred.year(),
                        occurred.month(),
                        occurred.day()
                    );
                }
                "人" => {
                    out.push_str(&self.persons[ids[0]].masked());
                    if ids.len() > 1 {
                        let _ = write!(out, "等{}人", ids.len());
                    }
                }
                "地" => out.push_str(&people::place(rng, self.province, county)),
                "额" => {
                    let fen = amount_fen.unwrap_or(0);
                    let _ = match fen % 100 {
                        0 => write!(out, "{}", fen / 100),
                        cents => write!(out, "{}.{cents:02}", fen / 100),
                    };
                }
                "罪" => out.push_str(charge.short),
                "量" => {
                    let _ = write!(out, "{}", rng.gen_range(1..=60));
                }
                "酒" => {
                    let _ = write!(out, "{}", rng.gen_range(80..=260));
                }
                other => out.push_str(other),
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// A log-uniform amount in `lo..=hi` yuan using integers only, and its position in the range
/// (0..1).
fn amount(rng: &mut ChaCha8Rng, lo: u64, hi: u64) -> (u64, f64) {
    let lo = lo.max(1);
    let mut octaves = 0u32;
    while lo << (octaves + 1) <= hi {
        octaves += 1;
    }
    if octaves == 0 {
        let a = rng.gen_range(lo..=hi.max(lo));
        return (a, (a - lo) as f64 / (hi - lo).max(1) as f64);
    }
    let d = rng.gen_range(0..octaves);
    let base = lo << d;
    let a = base + rng.gen_range(0..base);
    let frac = (a - base) as f64 / base as f64;
    let a = if a >= 10_000 { a - a % 100 } else { a - a % 10 };
    (a.clamp(lo, hi), (f64::from(d) + frac) / f64::from(octaves))
}

/// Assigns each department's own numbers, in order of that department's receipt.
fn number(province: &Province, cases: &mut [Case]) {
    use std::fmt::Write as _;
    let mut order: Vec<usize> = (0..cases.len()).collect();

    // Police AJBH: A + the unit's division + 000000 + YYYYMM of filing + sequence.
    order.sort_by_key(|&i| (cases[i].filed, i));
    let mut seq: HashMap<(usize, i32, u32), u32> = HashMap::new();
    for &i in &order {
        let c = &mut cases[i];
        let county = &province.counties[c.county];
        let n = seq
            .entry((county.police, c.filed.year(), c.filed.month()))
            .or_default();
        *n += 1;
        let _ = write!(
            c.police_no,
            "A{}000000{:04}{:02}{:04}",
            province.organs[county.police].division,
            c.filed.year(),
            c.filed.month(),
            *n
        );
    }

    yearly(
        province,
        cases,
        |c| c.transferred,
        |p, county| p.counties[county].procuratorate,
        &|c, p, year, n| {
            let _ = write!(
                c.procuratorate_no,
                "{}检刑受[{year}]{n}号",
                p.counties[c.county].short
            );
        },
    );
    yearly(
        province,
        cases,
        |c| c.prosecuted,
        |p, county| p.counties[county].procuratorate,
        &|c, p, year, n| {
            let _ = write!(
                c.indictment_no,
                "{}检刑诉〔{year}〕{n}号",
                p.counties[c.county].short
            );
        },
    );
    yearly(
        province,
        cases,
        |c| c.court.as_ref().map(|s| s.accepted),
        |p, county| p.counties[county].court,
        &|c, p, year, n| {
            let court = &p.organs[p.counties[c.county].court];
            let _ = write!(c.court_no, "（{year}）{}刑初{n}号", court.court_code);
        },
    );
}

/// Numbers the cases that have a `key` date, per organ and year, in order of that date.
fn yearly(
    province: &Province,
    cases: &mut [Case],
    key: fn(&Case) -> Option<NaiveDate>,
    organ: fn(&Province, usize) -> usize,
    write: &dyn Fn(&mut Case, &Province, i32, u32),
) {
    let mut order: Vec<(NaiveDate, usize)> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, c)| key(c).map(|d| (d, i)))
        .collect();
    order.sort_unstable();
    let mut seq: HashMap<(usize, i32), u32> = HashMap::new();
    for (d, i) in order {
        let n = seq
            .entry((organ(province, cases[i].county), d.year()))
            .or_default();
        *n += 1;
        write(&mut cases[i], province, d.year(), *n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(cases: usize, seed: u64) -> World {
        let config = SynthConfig {
            seed,
            cases,
            ..SynthConfig::default()
        };
        build(&config, &mut |_| {}).unwrap()
    }

    #[test]
    fn dates_are_in_procedural_order() {
        let w = world(2000, 5);
        for c in &w.cases {
            let o = c.occurred.date();
            assert!(o >= first_day() && o <= last_day());
            assert!(c.charges.iter().all(|&k| w.charges[k].entry.valid_on(o)));
            assert!(c.filed >= o);
            let mut chain = vec![c.filed];
            chain.extend(c.detained);
            chain.extend(c.arrest_requested);
            chain.extend(c.arrest_approved);
            chain.extend(c.transferred);
            chain.extend(c.returns.iter().copied());
            chain.extend(c.prosecuted.or(c.not_prosecuted));
            if let Some(s) = &c.court {
                chain.extend([s.accepted, s.hearing, s.verdict, s.effective, s.delivered]);
            }
            assert!(chain.windows(2).all(|w| w[0] <= w[1]), "{chain:?}");
            assert!(chain.iter().all(|d| *d <= export_date()));
            let late_report = c
                .marks
                .contains(&(rule::COMMUNITY_CORRECTION_REPORT, Mark::Violation));
            for d in &c.defendants {
                if let Some(e) = &d.execution {
                    let stage = c.court.as_ref().unwrap();
                    if e.prison {
                        assert!(e.report > stage.delivered);
                    } else if !late_report {
                        assert!(e.report > stage.effective);
                        let last = crate::violations::last_lawful_day(
                            add_days(stage.effective, 10),
                            false,
                        );
                        assert!(e.report <= last);
                    }
                    assert!(e.start <= e.end && e.report <= export_date());
                }
                let p = &w.persons[d.person];
                assert!(p.birth.with_year(p.birth.year() + 18).unwrap_or(p.birth) <= o);
            }
        }
    }

    #[test]
    fn flow_rates_are_plausible() {
        let w = world(5000, 6);
        let n = w.cases.len() as f64;
        let transferred = w.cases.iter().filter(|c| c.transferred.is_some()).count() as f64;
        let prosecuted = w.cases.iter().filter(|c| c.prosecuted.is_some()).count() as f64;
        let judged = w.cases.iter().filter(|c| c.court.is_some()).count() as f64;
        assert!(
            (0.87..0.96).contains(&(transferred / n)),
            "{}",
            transferred / n
        );
        assert!((0.87..0.93).contains(&(prosecuted / transferred)));
        assert!((0.92..0.98).contains(&(judged / prosecuted)));
        let single = w.cases.iter().filter(|c| c.defendants.len() == 1).count() as f64;
        assert!((0.76..0.84).contains(&(single / n)), "{}", single / n);
        let repeat = w.persons.iter().filter(|p| p.cases == 2).count() as f64;
        let share = repeat / w.persons.len() as f64;
        assert!((0.01..0.03).contains(&share), "{share}");
        assert!(w.persons.iter().all(|p| p.cases <= 2));
        let dui = w
            .cases
            .iter()
            .filter(|c| w.charges[c.charges[0]].name == "危险驾驶罪")
            .count() as f64;
        assert!((0.15..0.21).contains(&(dui / n)));
    }

    #[test]
    fn numbers_are_unique_and_well_formed() {
        let w = world(3000, 7);
        let mut police: Vec<&str> = w.cases.iter().map(|c| c.police_no.as_str()).collect();
        police.sort_unstable();
        police.dedup();
        assert_eq!(police.len(), w.cases.len());
        assert!(w.cases.iter().all(|c| c.police_no.len() == 23));
        let mut court: Vec<&str> = w
            .cases
            .iter()
            .filter(|c| !c.court_no.is_empty())
            .map(|c| c.court_no.as_str())
            .collect();
        let n = court.len();
        court.sort_unstable();
        court.dedup();
        assert_eq!(court.len(), n);
    }

    #[test]
    fn amounts_stay_in_range() {
        let mut rng = stream(1, 1);
        for _ in 0..1000 {
            let (a, q) = amount(&mut rng, 1000, 200_000);
            assert!((1000..=200_000).contains(&a) && (0.0..1.0).contains(&q));
        }
    }
}
