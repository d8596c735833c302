//! Order of procedural dates: 立案 ≤ 逮捕 ≤ 起诉 ≤ 判决 ≤ 执行, and nothing before birth.
//!
//! The order is partial: each pair below is "must not be later than". Pairs that the law allows
//! in either order (刑事拘留 may precede 立案 in an emergency) are deliberately absent.

use chrono::NaiveDateTime;

use crate::issue::Issue;

/// (earlier, later) pairs of event-kind codes. Source: the stage order of 刑事诉讼法 (2018):
/// 立案 (第112条) before investigation measures, 提请批准逮捕 (第87条) before 批准 (第90条),
/// 移送审查起诉 (第162条) before 提起公诉 (第176条), 法院受理 (第186条) before 宣判 (第202条),
/// 判决生效 (第259条) before 交付执行 (第264条).
pub const ORDER: &[(&str, &str)] = &[
    ("report_accepted", "case_filed"),
    ("case_filed", "arrest_requested"),
    ("case_filed", "arrest_approved"),
    ("case_filed", "transferred_for_prosecution"),
    ("arrest_requested", "arrest_approved"),
    ("arrest_requested", "arrest_denied"),
    ("arrest_approved", "arrest_executed"),
    ("arrest_approved", "prosecuted"),
    ("transferred_for_prosecution", "prosecuted"),
    ("transferred_for_prosecution", "not_prosecuted"),
    ("prosecuted", "court_accepted"),
    ("prosecuted", "verdict_announced"),
    ("court_accepted", "trial_opened"),
    ("court_accepted", "verdict_announced"),
    ("trial_opened", "verdict_announced"),
    ("verdict_announced", "judgment_effective"),
    ("judgment_effective", "delivered_for_execution"),
    ("judgment_effective", "prison_admission"),
    ("judgment_effective", "community_correction_report"),
    ("prison_admission", "released"),
    ("community_correction_report", "correction_ended"),
];

/// Checks every ordered pair present among `events` (kind code, time). One issue per violated
/// pair, naming both acts.
pub fn check_order(events: &[(&str, NaiveDateTime)]) -> Vec<Issue> {
    let mut issues = Vec::new();
    for &(earlier, later) in ORDER {
        for (k1, t1) in events.iter().filter(|(k, _)| *k == earlier) {
            for (_, t2) in events.iter().filter(|(k, _)| *k == later) {
                if t1 > t2 {
                    let value = format!("{k1}={t1} > {later}={t2}");
                    issues.push(Issue::error(
                        "event",
                        "dates.order",
                        Some(&value),
                        format!("程序日期倒置：{} 晚于 {}", name_zh(earlier), name_zh(later)),
                        format!("procedural dates out of order: {earlier} is after {later}"),
                    ));
                }
            }
        }
    }
    issues
}

fn name_zh(kind: &str) -> String {
    crate::codes::table(crate::codes::CodeTable::EventKind)
        .get(kind)
        .map_or_else(|| kind.to_string(), |e| e.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDate};
    use proptest::prelude::*;

    fn t(days: i64) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2023, 1, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
            + Duration::days(days)
    }

    #[test]
    fn every_order_pair_names_known_event_kinds() {
        let kinds = crate::codes::table(crate::codes::CodeTable::EventKind);
        for (a, b) in ORDER {
            assert!(kinds.contains(a) && kinds.contains(b), "{a} {b}");
        }
    }

    #[test]
    fn reversed_pair_is_reported_with_both_names() {
        let issues = check_order(&[
            ("case_filed", t(10)),
            ("prosecuted", t(40)),
            ("arrest_approved", t(5)),
        ]);
        assert_eq!(issues.len(), 1);
        assert!(
            issues[0].message_zh.contains("立案"),
            "{}",
            issues[0].message_zh
        );
        assert!(issues[0].message_zh.contains("批准逮捕"));
    }

    proptest! {
        #[test]
        fn increasing_chain_never_reports(gaps in prop::collection::vec(0i64..90, 8)) {
            let kinds = ["case_filed", "arrest_requested", "arrest_approved", "transferred_for_prosecution", "prosecuted", "court_accepted", "verdict_announced", "judgment_effective"];
            let mut day = 0;
            let events: Vec<_> = kinds.iter().zip(&gaps).map(|(k, g)| { day += g; (*k, t(day)) }).collect();
            prop_assert!(check_order(&events).is_empty());
        }

        #[test]
        fn filing_after_transfer_is_caught(a in 1i64..400, b in 1i64..400) {
            let events = [("case_filed", t(a + b)), ("transferred_for_prosecution", t(a))];
            prop_assert_eq!(check_order(&events).len(), 1);
        }
    }
}
