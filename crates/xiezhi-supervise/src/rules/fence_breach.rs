//! 越界: location fixes inside a zone a subject may not enter (a 禁止令 zone), or outside the
//! area he may not leave without approval (his city or county, 社区矫正法 第27条), while the
//! fence is in force and, for the area he may not leave, outside any approved leave. Both are
//! grounds for electronic monitoring (社区矫正法 第29条第1款第1、2项).
//!
//! Tolerance: GPS drift puts single fixes on the wrong side of a boundary, so a breach is
//! [`MIN_FIXES`] or more consecutive fixes on the wrong side spanning at least [`MIN_MINUTES`]
//! minutes (a platform setting, not a statutory figure). Point-in-polygon is exact integer
//! arithmetic over micro-degrees (`xiezhi_standard::validate::geo`).

use chrono::NaiveDate;
use xiezhi_standard::validate::geo::{format_degrees, Polygon};

use super::Rule;
use crate::corrections::{item, subjects, FenceFacts, FixFacts, Subject};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

/// Consecutive fixes on the wrong side that make a breach.
pub const MIN_FIXES: usize = 2;
/// Minutes those fixes must span.
pub const MIN_MINUTES: i64 = 10;

pub const RULE: Rule = Rule {
    id: "sqjz-029-fence-breach",
    title_zh: "社区矫正对象违反禁止令进入禁止区域或擅自离开居住市县",
    basis: Basis {
        law: "社区矫正法",
        version: "2019",
        article: 29,
        paragraph: Some(1),
        quote: "（一）违反人民法院禁止令的；（二）无正当理由，未经批准离开所居住的市、县的；",
    },
    severity: Severity::Red,
};

/// Whether a fix breaks a fence (ignoring validity and leave).
pub fn breaks(rule: &str, polygon: &Polygon, fix: &FixFacts) -> bool {
    let inside = polygon.contains(fix.point());
    match rule {
        "no_entry" => inside,
        "no_exit" => !inside,
        _ => false,
    }
}

fn on_leave(s: &Subject<'_>, fix: &FixFacts) -> bool {
    s.acts.iter().any(|a| {
        a.kind == "leave_approved" && a.at <= fix.at && a.until.is_some_and(|u| fix.at.date() <= u)
    })
}

fn in_force(f: &FenceFacts, day: NaiveDate) -> bool {
    f.from.is_none_or(|d| day >= d) && f.until.is_none_or(|d| day <= d)
}

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    for s in subjects(facts) {
        for fence in &s.fences {
            let Some(polygon) = fence.parsed() else {
                continue;
            };
            let mut run: Vec<&FixFacts> = Vec::new();
            for fix in s.fixes.iter().copied().chain(std::iter::once(&SENTINEL)) {
                let breaking = !std::ptr::eq(fix, &SENTINEL)
                    && in_force(fence, fix.at.date())
                    && !(fence.rule == "no_exit" && on_leave(&s, fix))
                    && breaks(&fence.rule, &polygon, fix);
                if breaking {
                    run.push(fix);
                    continue;
                }
                if run.len() >= MIN_FIXES {
                    let (first, last) = (run[0], run[run.len() - 1]);
                    let minutes = (last.at - first.at).num_minutes();
                    if minutes >= MIN_MINUTES {
                        let what = if fence.rule == "no_entry" {
                            format!("进入禁止区域“{}”", fence.name)
                        } else {
                            format!("离开“{}”且不在批准外出期间", fence.name)
                        };
                        return vec![item(
                            &RULE,
                            &facts.case_uid,
                            first.at.date(),
                            format!(
                                "{}至{}连续{}个定位点{what}（首个定位点 {}, {}），持续{minutes}分钟；依{}，属违反禁止令或未经批准离开所居住的市、县的情形。容差（平台设置，非法定）：至少{MIN_FIXES}个连续定位点且持续不少于{MIN_MINUTES}分钟，单个漂移点不计。",
                                first.at,
                                last.at,
                                run.len(),
                                format_degrees(first.lon),
                                format_degrees(first.lat),
                                RULE.basis.cite()
                            ),
                            vec![
                                format!("location_fix {} {}", first.at.date(), s.record.executing_org),
                                format!("location_fix {} {}", last.at.date(), s.record.executing_org),
                            ],
                        )];
                    }
                }
                run.clear();
            }
        }
    }
    Vec::new()
}

/// Ends the last run of fixes.
static SENTINEL: FixFacts = FixFacts {
    person_uid: None,
    at: chrono::NaiveDateTime::MIN,
    lon: 0,
    lat: 0,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corrections::{ActFacts, SubjectFacts};
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    /// A subject living around (106.5, 26.5), barred from a small square at (106.6, 26.6) and
    /// from leaving the square 106–107 × 26–27.
    fn subject(fixes: &[(u32, u32, f64, f64)]) -> CaseFacts {
        let mut f = CaseFacts::new("C1");
        f.corrections.push(SubjectFacts {
            person_uid: Some("P1".into()),
            executing_org: "SJ1".into(),
            ..SubjectFacts::default()
        });
        for (rule, polygon) in [
            (
                "no_entry",
                "106.59,26.59;106.61,26.59;106.61,26.61;106.59,26.61",
            ),
            ("no_exit", "106,26;107,26;107,27;106,27"),
        ] {
            f.fences.push(FenceFacts {
                person_uid: Some("P1".into()),
                rule: rule.into(),
                name: rule.into(),
                polygon: polygon.into(),
                from: Some(d(2024, 1, 1)),
                until: Some(d(2024, 12, 31)),
            });
        }
        for &(h, m, lon, lat) in fixes {
            f.fixes.push(FixFacts {
                person_uid: Some("P1".into()),
                at: d(2024, 6, 1).and_hms_opt(h, m, 0).unwrap(),
                lon: (lon * 1e6).round() as i64,
                lat: (lat * 1e6).round() as i64,
            });
        }
        f
    }

    #[test]
    fn two_fixes_over_ten_minutes_inside_a_barred_zone_breach_and_one_does_not() {
        let home = (8, 0, 106.5, 26.5);
        let breach = subject(&[
            home,
            (13, 0, 106.6, 26.6),
            (13, 15, 106.6, 26.6),
            (21, 0, 106.5, 26.5),
        ]);
        let items = check(&breach, d(2024, 7, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(
            items[0].explanation_zh.contains("进入禁止区域"),
            "{}",
            items[0].explanation_zh
        );
        let drift = subject(&[home, (13, 0, 106.6, 26.6), (21, 0, 106.5, 26.5)]);
        assert!(check(&drift, d(2024, 7, 1), &WeekendsOnly).is_empty());
        let brief = subject(&[home, (13, 0, 106.6, 26.6), (13, 5, 106.6, 26.6)]);
        assert!(check(&brief, d(2024, 7, 1), &WeekendsOnly).is_empty());
    }

    #[test]
    fn leaving_the_county_breaches_unless_on_an_approved_leave() {
        let away = [(8, 0, 107.5, 26.5), (20, 0, 107.5, 26.5)];
        assert_eq!(
            check(&subject(&away), d(2024, 7, 1), &WeekendsOnly).len(),
            1
        );
        let mut leave = subject(&away);
        leave.correction_acts.push(ActFacts {
            person_uid: Some("P1".into()),
            kind: "leave_approved".into(),
            at: d(2024, 5, 30).and_hms_opt(9, 0, 0).unwrap(),
            org_code: "SJ1".into(),
            until: Some(d(2024, 6, 2)),
        });
        assert!(check(&leave, d(2024, 7, 1), &WeekendsOnly).is_empty());
    }
}
