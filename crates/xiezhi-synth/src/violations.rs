//! Procedural violations planted in the synthetic cases, and near-misses that must not be
//! reported, so the supervision engine's recall and precision can be measured per rule.
//!
//! Every procedural gap the generator draws goes through [`Planner::gap`]: most draws are
//! comfortably inside the statutory limit, a known share is planted late (far enough past the
//! limit that no holiday extension can make it timely) and a known share lands exactly on the
//! last lawful day (the boundary the engine must not report). Each planted mark is written to
//! `supervision-truth.jsonl` with the id of the catalog rule that must (or must not) fire.
//!
//! The limits themselves are the statute's (刑事诉讼法 第91条, 第156条, 第172条, 第175条, 第208条,
//! 第264条; 社区矫正法 第21条); the rule ids are those of the `xiezhi-supervise` catalog.

use std::sync::OnceLock;

use chrono::{Months, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use xiezhi_standard::calendar::{first_working_day, DataCalendar};

use crate::util::add_days;

/// Per mille of applicable gaps planted late, and planted on the last lawful day.
pub(crate) const VIOLATION_PER_MILLE: u32 = 25;
pub(crate) const NEAR_MISS_PER_MILLE: u32 = 25;

/// The catalog rules the synthetic province plants marks for.
pub mod rule {
    /// 拘留后提请批准逮捕 (3 + 4 days, in custody).
    pub const ARREST_REQUEST: &str = "cpl-091-arrest-request";
    /// 审查批准逮捕, suspect detained (7 days).
    pub const ARREST_REVIEW_DETAINED: &str = "cpl-091-arrest-review";
    /// 审查批准逮捕, suspect not detained (15 + 5 days).
    pub const ARREST_REVIEW_NOT_DETAINED: &str = "spp-282-arrest-review-not-detained";
    /// 侦查羁押 after arrest (2 months).
    pub const INVESTIGATION_CUSTODY: &str = "cpl-156-investigation-custody";
    /// 批准逮捕 with no 提请批准逮捕 before it.
    pub const ARREST_WITHOUT_REQUEST: &str = "cpl-087-arrest-without-request";
    /// 交付执行 / 入监 / 社区矫正报到 with no 判决生效 before it.
    pub const EXECUTION_WITHOUT_JUDGMENT: &str = "cpl-259-execution-without-effective-judgment";
    /// 缓刑 for a 累犯 (刑法 第74条).
    pub const PROBATION_RECIDIVIST: &str = "cl-074-probation-recidivist";
    /// 提起公诉 with no 移送审查起诉 before it.
    pub const PROSECUTION_WITHOUT_TRANSFER: &str = "cpl-162-prosecution-without-transfer";
    /// A trial with no 提起公诉 before it.
    pub const TRIAL_WITHOUT_PROSECUTION: &str = "cpl-186-trial-without-prosecution";
    /// 缓刑 on a term above 3 years (刑法 第72条).
    pub const PROBATION_ELIGIBILITY: &str = "cl-072-probation-eligibility";
    /// A 缓刑 period shorter than the term (刑法 第73条).
    pub const PROBATION_PERIOD: &str = "cl-073-probation-period";
    /// 审查起诉 (1 month + 15 days).
    pub const PROSECUTION_REVIEW: &str = "cpl-172-prosecution-review";
    /// 退回补充侦查 at most twice.
    pub const SUPPLEMENTARY_INVESTIGATION: &str = "cpl-175-supplementary-investigation-limit";
    /// 一审 (at the latest 3 months).
    pub const FIRST_INSTANCE: &str = "cpl-208-first-instance";
    /// 交付执行 (10 days).
    pub const DELIVERY_FOR_EXECUTION: &str = "cpl-264-delivery-for-execution";
    /// 社区矫正报到 (10 days).
    pub const COMMUNITY_CORRECTION_REPORT: &str = "sqjz-021-community-correction-report";

    /// 拘役 outside one to six months (刑法 第42条).
    pub const DETENTION_RANGE: &str = "cl-042-detention-range";
    /// 管制 outside three months to two years (刑法 第38条).
    pub const SURVEILLANCE_RANGE: &str = "cl-038-surveillance-range";

    /// A principal penalty heavier than the charge's article allows (刑法 第62条): a fixed term
    /// for 危险驾驶罪, whose article (第一百三十三条之一) provides 拘役 only.
    pub const STATUTORY_BAND: &str = "cl-062-statutory-band";

    /// 有期徒刑 over fifteen years for one charge (刑法 第45条), on a charge whose article goes
    /// up to life, so that no other limit is broken.
    pub const FIXED_TERM_RANGE: &str = "cl-045-fixed-term-range";

    /// Commutations adding up to more than half of the original term (刑法 第78条第2款).
    pub const COMMUTATION_HALF_TERM: &str = "cl-078-commutation-half-term";

    /// 社区矫正决定机关 notifies the executing organ late (社区矫正法 第20条, 5 days).
    pub const DECISION_NOTICE: &str = "sqjz-020-decision-notice";
    /// 漏管: a convict put under community corrections never reaches the executing organ
    /// (社区矫正法 第21条).
    pub const MISSED_INTAKE: &str = "sqjz-021-missed-intake";
    /// 脱管: no contact for longer than the platform's tolerated gap.
    pub const LOST_CONTACT: &str = "sqjz-026-lost-contact";
    /// Back from an approved leave after its last day (社区矫正法 第27条).
    pub const LEAVE_OVERRUN: &str = "sqjz-027-leave-overrun";
    /// Electronic monitoring past three months without renewal (社区矫正法 第29条第2款).
    pub const MONITORING_LIMIT: &str = "sqjz-029-monitoring-limit";
    /// Location fixes inside a no-entry zone or outside the county (社区矫正法 第29条第1款).
    pub const FENCE_BREACH: &str = "sqjz-029-fence-breach";
    /// Release without notice to the decision organ, procuratorate and police (第44条).
    pub const RELEASE_NOTICE: &str = "sqjz-044-release-notice";
    /// Revocation ruled more than 30 days after the proposal (社区矫正法 第48条).
    pub const REVOCATION_RULING: &str = "sqjz-048-revocation-ruling";
    /// A petition's acceptance not told within 15 days (信访工作条例 第23条第2款).
    pub const PETITION_ACCEPTANCE: &str = "xfgz-023-acceptance-notice";
    /// A petition not concluded within 60 days of acceptance (+ extension ≤ 30, 第34条).
    pub const PETITION_HANDLING: &str = "xfgz-034-handling-period";
    /// A review (复查) opinion later than 30 days (第35条).
    pub const PETITION_REVIEW: &str = "xfgz-035-review-period";
    /// A re-examination (复核) opinion later than 30 days (第36条).
    pub const PETITION_RECHECK: &str = "xfgz-036-recheck-period";

    /// 认罪认罚 with neither a legal-aid defender nor a duty lawyer on record (刑事诉讼法 第174条).
    pub const PLEA_WITHOUT_COUNSEL: &str = "cpl-174-plea-without-counsel";

    /// Rules of petitions: their marks name the petition number, not a case.
    pub const PETITION_RULES: [&str; 4] = [
        PETITION_ACCEPTANCE,
        PETITION_HANDLING,
        PETITION_REVIEW,
        PETITION_RECHECK,
    ];

    /// Every rule with planted marks.
    /// 二审审限 (刑事诉讼法 第243条).
    pub const SECOND_INSTANCE: &str = "cpl-243-second-instance";
    /// 简易程序审限 (第220条).
    pub const SUMMARY_PROCEDURE: &str = "cpl-220-summary-procedure";
    /// 速裁程序审限 (第225条).
    pub const FAST_TRACK_PROCEDURE: &str = "cpl-225-fast-track-procedure";
    /// 拘留后二十四小时内通知家属 (第85条第2款).
    pub const FAMILY_NOTICE: &str = "cpl-085-family-notice";
    /// 取保候审最长十二个月 (第79条).
    pub const BAIL_LIMIT: &str = "cpl-079-bail-limit";
    /// 监视居住最长六个月 (第79条).
    pub const SURVEILLANCE_LIMIT: &str = "cpl-079-surveillance-limit";
    /// 逮捕须经批准 (第80条).
    pub const ARREST_WITHOUT_APPROVAL: &str = "cpl-080-arrest-without-approval";
    /// 补充侦查一个月 (第175条第3款).
    pub const SUPPLEMENTARY_INVESTIGATION_PERIOD: &str =
        "cpl-175-supplementary-investigation-period";
    /// A procedural act without its document (`required-documents.tsv`).
    pub const REQUIRED_DOCUMENT: &str = "cpl-required-document";
    /// A procedural act without its evidence (`required-documents.tsv`).
    pub const REQUIRED_EVIDENCE: &str = "cpl-required-evidence";
    /// 首次减刑的起始时间 (最高法减刑假释规定 2016 第6条).
    pub const FIRST_COMMUTATION: &str = "jx16-006-first-commutation";
    /// 两次减刑的间隔 (同上 第6条第3款).
    pub const COMMUTATION_INTERVAL: &str = "jx16-006-commutation-interval";
    /// 不得假释 (刑法 第81条第2款).
    pub const PAROLE_EXCLUSION: &str = "cl-081-parole-exclusion";
    /// 假释须执行原判刑期二分之一 (刑法 第81条第1款).
    pub const PAROLE_HALF_TERM: &str = "cl-081-parole-half-term";

    /// 宣告刑低于量刑指导意见区间 (法发〔2021〕21号; 刑法 第63条).
    pub const GUIDELINE_FLOOR: &str = "gl21-guideline-floor";

    /// 减刑、假释未见财产性判项履行审查 (法释〔2024〕5号 第4条).
    pub const PROPERTY_JUDGMENT: &str = "fsp24-004-property-judgment";

    /// 认罪认罚案件未采纳量刑建议 (刑事诉讼法 第201条).
    pub const SENTENCING_PROPOSAL: &str = "cpl-201-sentencing-proposal";

    /// 宣告刑明显偏离类案 (刑法 第5条).
    pub const SIMILAR_CASE: &str = "cl-005-similar-case-deviation";

    pub const ALL: [&str; 52] = [
        SIMILAR_CASE,
        SENTENCING_PROPOSAL,
        PROPERTY_JUDGMENT,
        GUIDELINE_FLOOR,
        SECOND_INSTANCE,
        SUMMARY_PROCEDURE,
        FAST_TRACK_PROCEDURE,
        FAMILY_NOTICE,
        BAIL_LIMIT,
        SURVEILLANCE_LIMIT,
        ARREST_WITHOUT_APPROVAL,
        SUPPLEMENTARY_INVESTIGATION_PERIOD,
        REQUIRED_DOCUMENT,
        REQUIRED_EVIDENCE,
        FIRST_COMMUTATION,
        COMMUTATION_INTERVAL,
        PAROLE_EXCLUSION,
        PAROLE_HALF_TERM,
        PLEA_WITHOUT_COUNSEL,
        DECISION_NOTICE,
        MISSED_INTAKE,
        LOST_CONTACT,
        LEAVE_OVERRUN,
        MONITORING_LIMIT,
        FENCE_BREACH,
        RELEASE_NOTICE,
        REVOCATION_RULING,
        PETITION_ACCEPTANCE,
        PETITION_HANDLING,
        PETITION_REVIEW,
        PETITION_RECHECK,
        PROBATION_ELIGIBILITY,
        PROBATION_PERIOD,
        PROSECUTION_WITHOUT_TRANSFER,
        TRIAL_WITHOUT_PROSECUTION,
        PROBATION_RECIDIVIST,
        ARREST_WITHOUT_REQUEST,
        EXECUTION_WITHOUT_JUDGMENT,
        ARREST_REQUEST,
        ARREST_REVIEW_DETAINED,
        ARREST_REVIEW_NOT_DETAINED,
        INVESTIGATION_CUSTODY,
        PROSECUTION_REVIEW,
        SUPPLEMENTARY_INVESTIGATION,
        FIRST_INSTANCE,
        DELIVERY_FOR_EXECUTION,
        COMMUNITY_CORRECTION_REPORT,
        DETENTION_RANGE,
        SURVEILLANCE_RANGE,
        STATUTORY_BAND,
        FIXED_TERM_RANGE,
        COMMUTATION_HALF_TERM,
    ];
}

/// What was planted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// The rule must fire on this case.
    Violation,
    /// The act falls on the last lawful day: the rule must not fire.
    NearMiss,
}

/// A statutory limit as the generator needs it: the last lawful day from a start date.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Limit {
    /// N days, start day not counted; in custody, no rest-day extension.
    Days(i64),
    /// N months (same date of the later month, or its last day), then D days.
    MonthsDays(u32, i64),
}

impl Limit {
    /// The calendar expiry date (before any rest-day extension).
    pub(crate) fn expiry(self, from: NaiveDate) -> NaiveDate {
        match self {
            Limit::Days(d) => add_days(from, d),
            Limit::MonthsDays(m, d) => add_days(
                from.checked_add_months(Months::new(m))
                    .unwrap_or(NaiveDate::MAX),
                d,
            ),
        }
    }
}

/// The official rest-day calendar the supervision engine also counts with.
fn calendar() -> &'static DataCalendar {
    static CALENDAR: OnceLock<DataCalendar> = OnceLock::new();
    CALENDAR.get_or_init(|| DataCalendar::shipped().unwrap_or_default())
}

/// The last lawful day of a period: its calendar expiry, moved past rest days unless the
/// person is in custody (刑事诉讼法 第105条第3款).
pub(crate) fn last_lawful_day(expiry: NaiveDate, custody: bool) -> NaiveDate {
    if custody {
        expiry
    } else {
        first_working_day(expiry, calendar())
    }
}

/// Draws gaps and keeps the marks planted in one case.
#[derive(Debug, Default)]
pub(crate) struct Planner {
    pub marks: Vec<(&'static str, Mark)>,
}

impl Planner {
    /// The date of a closing act after `from`: usually `from + ordinary` days (a range that
    /// must lie inside the limit), sometimes late by `late` days past the calendar expiry,
    /// sometimes on the last lawful day. `custody` says whether a weekend expiry moves.
    pub(crate) fn gap(
        &mut self,
        rng: &mut ChaCha8Rng,
        rule: &'static str,
        from: NaiveDate,
        limit: Limit,
        custody: bool,
        ordinary: std::ops::RangeInclusive<i64>,
    ) -> NaiveDate {
        let r = rng.gen_range(0..1000);
        let expiry = limit.expiry(from);
        let last = last_lawful_day(expiry, custody);
        if r < VIOLATION_PER_MILLE {
            self.marks.push((rule, Mark::Violation));
            add_days(last, rng.gen_range(1..=30))
        } else if r < VIOLATION_PER_MILLE + NEAR_MISS_PER_MILLE {
            self.marks.push((rule, Mark::NearMiss));
            last
        } else {
            let day = add_days(from, rng.gen_range(ordinary));
            debug_assert!(day <= expiry, "{rule}: ordinary draw past the limit");
            day.min(expiry)
        }
    }

    /// The closing act of a procedure with a base limit and a longer one (简易, 速裁): at the
    /// violation rate late past the longer limit's last lawful day, at the same rate on the
    /// base limit's last lawful day, else `None` (the ordinary draw stands).
    pub(crate) fn short_limit(
        &mut self,
        rng: &mut ChaCha8Rng,
        rule: &'static str,
        from: NaiveDate,
        base: Limit,
        longer: Limit,
        custody: bool,
    ) -> Option<NaiveDate> {
        let r = rng.gen_range(0..1000);
        if r < VIOLATION_PER_MILLE {
            self.marks.push((rule, Mark::Violation));
            let last = last_lawful_day(longer.expiry(from), custody);
            Some(add_days(last, rng.gen_range(1..=5)))
        } else if r < VIOLATION_PER_MILLE + NEAR_MISS_PER_MILLE {
            self.marks.push((rule, Mark::NearMiss));
            Some(last_lawful_day(base.expiry(from), custody))
        } else {
            None
        }
    }

    /// A bound that is not a date: at `per_mille` a violation (just past the bound), at the
    /// same rate a near-miss (on the bound itself), else nothing.
    pub(crate) fn bound(
        &mut self,
        rng: &mut ChaCha8Rng,
        rule: &'static str,
        per_mille: u32,
    ) -> Option<Mark> {
        let r = rng.gen_range(0..1000);
        let mark = if r < per_mille {
            Mark::Violation
        } else if r < 2 * per_mille {
            Mark::NearMiss
        } else {
            return None;
        };
        self.marks.push((rule, mark));
        Some(mark)
    }

    /// Plants a mark that is not a date (a missing record, say) at the violation rate.
    pub(crate) fn plant(&mut self, rng: &mut ChaCha8Rng, rule: &'static str) -> bool {
        self.plant_per_mille(rng, rule, VIOLATION_PER_MILLE)
    }

    /// Plants a mark at a rate of its own, for a rule whose opportunity is rare.
    pub(crate) fn plant_per_mille(
        &mut self,
        rng: &mut ChaCha8Rng,
        rule: &'static str,
        per_mille: u32,
    ) -> bool {
        let planted = rng.gen_range(0..1000) < per_mille;
        if planted {
            self.marks.push((rule, Mark::Violation));
        }
        planted
    }
}

/// One line of `supervision-truth.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionTruth {
    /// True case id, `T000123`.
    pub case: String,
    /// The police case number (公安案件编号), which every department's record of the case
    /// carries or links to: how a stored case is matched to its true case.
    pub police_case_no: String,
    /// The petition number (信访件编号) of a petition rule's mark; then `case` and
    /// `police_case_no` are empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub petition_no: Option<String>,
    /// The catalog rule id.
    pub rule: String,
    pub mark: Mark,
}

/// File name of the supervision ground truth in the output directory.
pub const FILE: &str = "supervision-truth.jsonl";

/// File name of the true case id → police case number table.
pub const CASE_NUMBERS: &str = "case-numbers.tsv";

/// Reads `case-numbers.tsv`: (true case id, police case number) in case order.
pub fn read_case_numbers(
    out_dir: &std::path::Path,
) -> Result<Vec<(String, String)>, crate::SynthError> {
    let path = out_dir.join(CASE_NUMBERS);
    let text = std::fs::read_to_string(&path).map_err(|source| crate::SynthError::Read {
        path: path.clone(),
        source,
    })?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect())
}

/// Reads `supervision-truth.jsonl` from an output directory.
pub fn read(out_dir: &std::path::Path) -> Result<Vec<SupervisionTruth>, crate::SynthError> {
    crate::util::read_jsonl(&out_dir.join(FILE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::stream;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn expiry_counts_months_then_days() {
        assert_eq!(Limit::Days(3).expiry(d(2024, 3, 1)), d(2024, 3, 4));
        assert_eq!(
            Limit::MonthsDays(1, 15).expiry(d(2024, 1, 31)),
            d(2024, 3, 15)
        );
        assert_eq!(
            Limit::MonthsDays(3, 0).expiry(d(2023, 11, 30)),
            d(2024, 2, 29)
        );
    }

    #[test]
    fn rest_day_expiry_moves_unless_in_custody() {
        assert_eq!(last_lawful_day(d(2024, 3, 9), false), d(2024, 3, 11));
        assert_eq!(last_lawful_day(d(2024, 3, 9), true), d(2024, 3, 9));
        assert_eq!(last_lawful_day(d(2024, 3, 11), false), d(2024, 3, 11));
        // 2024 国庆节 10-01..10-07 (国办发明电〔2023〕7号).
        assert_eq!(last_lawful_day(d(2024, 10, 1), false), d(2024, 10, 8));
    }

    #[test]
    fn bounds_plant_violations_and_near_misses_at_the_rate_given() {
        let mut rng = stream(7, 98);
        let mut planner = Planner::default();
        let mut drawn = [0usize; 3];
        for _ in 0..10_000 {
            let before = planner.marks.len();
            let mark = planner.bound(&mut rng, rule::DETENTION_RANGE, 50);
            match mark {
                Some(Mark::Violation) => drawn[0] += 1,
                Some(Mark::NearMiss) => drawn[1] += 1,
                None => drawn[2] += 1,
            }
            let pushed = planner.marks[before..].to_vec();
            assert_eq!(
                pushed,
                mark.map(|m| (rule::DETENTION_RANGE, m))
                    .into_iter()
                    .collect::<Vec<_>>()
            );
        }
        assert!((400..=600).contains(&drawn[0]), "{drawn:?}");
        assert!((400..=600).contains(&drawn[1]), "{drawn:?}");
    }

    #[test]
    fn gaps_are_inside_the_limit_unless_planted_late() {
        let mut rng = stream(7, 99);
        let mut planner = Planner::default();
        let from = d(2024, 5, 3);
        for _ in 0..5_000 {
            let before = planner.marks.len();
            let day = planner.gap(
                &mut rng,
                rule::ARREST_REQUEST,
                from,
                Limit::Days(7),
                true,
                1..=7,
            );
            let expiry = Limit::Days(7).expiry(from);
            match planner.marks[before..].first() {
                Some((_, Mark::Violation)) => assert!(day > expiry),
                Some((_, Mark::NearMiss)) => assert_eq!(day, expiry),
                None => assert!(day <= expiry && day > from),
            }
        }
        let late = planner
            .marks
            .iter()
            .filter(|m| m.1 == Mark::Violation)
            .count();
        assert!((75..=180).contains(&late), "{late} late of 5000");
    }
}
