//! 拘留、逮捕后二十四小时内通知家属: after a 拘留 the family is notified within twenty-four hours,
//! unless it cannot be notified or, for a suspected crime against state security or of
//! terrorism, notice may hinder the investigation (刑事诉讼法 第85条第2款); after an arrest
//! likewise, unless it cannot be notified (第93条第2款).
//!
//! Each `detention` and `arrest_executed` (one act however many suspects' rows record it) is
//! answered by the first `family_notified` or
//! `family_notice_withheld` (不予通知, with its reason in the note) at or after it and before the
//! next such act. A notice more than 24 hours after the act is late. Times are the acts' times of
//! day: a source that records the date alone stores midnight, and then 23 hours cannot be told
//! from 47, so such a pair is judged by dates and fires only when the notice is dated two or more
//! days after the act (certainly past 24 hours). A withheld notice is not judged: its reason is
//! for the supervisor to read.
//!
//! Data-presence gate: a case is judged only when its record holds some notice at all, so a
//! source that does not export notices is not read as never notifying. Then a missing notice is
//! reported once two days have passed since the act.

use chrono::{Days, NaiveDate, NaiveDateTime, TimeDelta};

use super::{item, kind_zh, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseEvent, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-085-family-notice",
    title_zh: "拘留、逮捕后未在二十四小时内通知家属",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 85,
        paragraph: Some(2),
        quote: "除无法通知或者涉嫌危害国家安全犯罪、恐怖活动犯罪通知可能有碍侦查的情形以外，应当在拘留后二十四小时以内，通知被拘留人的家属。",
    },
    severity: Severity::Orange,
};

const ACTS: [&str; 2] = ["detention", "arrest_executed"];
const NOTICES: [&str; 2] = ["family_notified", "family_notice_withheld"];

/// The act's time, when the source recorded one (midnight reads as a date alone).
fn time_of(e: &CaseEvent) -> Option<NaiveDateTime> {
    e.at.filter(|t| t.time() != chrono::NaiveTime::MIN)
}

/// Whether `later` comes at or after `earlier`, by time when both have one, else by date.
fn not_before(later: &CaseEvent, earlier: &CaseEvent) -> bool {
    match (time_of(later), time_of(earlier)) {
        (Some(a), Some(b)) => a >= b,
        _ => later.on >= earlier.on,
    }
}

/// `detention 2024-03-04 08:30:00 GA1` (the time when known).
fn fact_at(e: &CaseEvent) -> String {
    match time_of(e) {
        Some(t) => format!("{} {} {}", e.kind, t, e.org_code),
        None => super::fact(e),
    }
}

fn when_zh(e: &CaseEvent) -> String {
    time_of(e).map_or_else(
        || e.on.to_string(),
        |t| t.format("%Y-%m-%d %H:%M").to_string(),
    )
}

pub fn check(facts: &CaseFacts, as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    let ev = &facts.events;
    if !ev.iter().any(|e| NOTICES.contains(&e.kind.as_str())) {
        return Vec::new();
    }
    // One act recorded once per suspect of the case is one act.
    let mut acts: Vec<&CaseEvent> = ev
        .iter()
        .filter(|e| ACTS.contains(&e.kind.as_str()))
        .collect();
    acts.sort_by_key(|e| (e.on, e.at));
    acts.dedup_by(|a, b| a.kind == b.kind && a.on == b.on && a.at == b.at);
    let mut items = Vec::new();
    for (k, act) in acts.iter().enumerate() {
        let next = acts.get(k + 1);
        let answer = ev.iter().find(|n| {
            NOTICES.contains(&n.kind.as_str())
                && not_before(n, act)
                && next.is_none_or(|nx| !not_before(n, nx) || n.on < nx.on)
        });
        let article = if act.kind == "detention" {
            "第85条第2款"
        } else {
            "第93条第2款"
        };
        let due = act.on.checked_add_days(Days::new(1)).unwrap_or(act.on);
        let head = format!(
            "{}于{}（{}）；依{}（逮捕的依第93条第2款；本项适用刑事诉讼法{}），除法定情形外应当在{}后二十四小时以内、至迟{}通知家属",
            kind_zh(&act.kind),
            when_zh(act),
            act.org_code,
            RULE.basis.cite(),
            article,
            if act.kind == "detention" { "拘留" } else { "逮捕" },
            due
        );
        let tail = match answer {
            Some(n) if n.kind == "family_notice_withheld" => continue,
            Some(n) => match (time_of(n), time_of(act)) {
                (Some(nt), Some(at)) => {
                    let late = nt - at;
                    if late <= TimeDelta::hours(24) {
                        continue;
                    }
                    format!(
                        "，期限至{}；实际通知家属于{}，距{}{}小时{}分。",
                        (at + TimeDelta::hours(24)).format("%Y-%m-%d %H:%M"),
                        when_zh(n),
                        kind_zh(&act.kind),
                        late.num_hours(),
                        late.num_minutes() % 60
                    )
                }
                _ => {
                    let days = (n.on - act.on).num_days();
                    if days < 2 {
                        continue;
                    }
                    format!(
                        "；通知家属记录日期为{}，晚于{}{}日（未记录时刻，按日期判断，已确定超过二十四小时）。",
                        n.on,
                        kind_zh(&act.kind),
                        days
                    )
                }
            },
            None => {
                if (as_of - act.on).num_days() < 2 {
                    continue;
                }
                format!("；截至{as_of}未见通知家属或不予通知的记录。")
            }
        };
        let mut used = vec![fact_at(act)];
        if let Some(n) = answer {
            used.push(fact_at(n));
        } else {
            used.push(format!("as_of {as_of}"));
        }
        items.push(item(&RULE, facts, due, format!("{head}{tail}"), used));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    fn t(day: u32, h: u32, m: u32) -> NaiveDateTime {
        d(2024, 3, day).and_hms_opt(h, m, 0).unwrap()
    }

    fn detained_then_notified(notice: NaiveDateTime) -> CaseFacts {
        CaseFacts::new("C1")
            .with_time("detention", t(4, 22, 30), "GA1")
            .with_time("family_notified", notice, "GA1")
    }

    #[test]
    fn exactly_twenty_four_hours_is_in_time_and_a_minute_more_is_late() {
        let as_of = d(2024, 6, 1);
        assert!(check(&detained_then_notified(t(5, 22, 30)), as_of, &WeekendsOnly).is_empty());
        let items = check(&detained_then_notified(t(5, 22, 31)), as_of, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 3, 5));
        assert!(items[0].explanation_zh.contains("24小时1分"));
        assert!(items[0].facts_used[0].contains("22:30"));
    }

    #[test]
    fn dates_alone_fire_only_from_the_second_day() {
        let f = |notice: NaiveDate| {
            CaseFacts::new("C1")
                .with("detention", d(2024, 3, 4), "GA1")
                .with("family_notified", notice, "GA1")
        };
        assert!(check(&f(d(2024, 3, 5)), d(2024, 6, 1), &WeekendsOnly).is_empty());
        let items = check(&f(d(2024, 3, 6)), d(2024, 6, 1), &WeekendsOnly);
        assert!(items[0].explanation_zh.contains("按日期判断"));
    }

    #[test]
    fn each_act_has_its_own_notice_and_a_missing_one_is_reported() {
        let f = CaseFacts::new("C1")
            .with_time("detention", t(4, 9, 0), "GA1")
            .with_time("family_notified", t(4, 15, 0), "GA1")
            .with_time("arrest_executed", t(10, 9, 0), "GA1");
        assert!(check(&f, d(2024, 3, 11), &WeekendsOnly).is_empty());
        let items = check(&f, d(2024, 3, 12), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("第93条第2款"));
        assert!(items[0].explanation_zh.contains("未见通知家属"));
        let notified = f.with_time("family_notified", t(11, 8, 0), "GA1");
        assert!(check(&notified, d(2024, 6, 1), &WeekendsOnly).is_empty());
    }

    #[test]
    fn an_act_recorded_for_two_suspects_is_one_act() {
        let f = CaseFacts::new("C1")
            .with_time("detention", t(4, 9, 0), "GA1")
            .with_time("detention", t(4, 9, 0), "GA1")
            .with_time("family_notified", t(4, 15, 0), "GA1");
        assert!(check(&f, d(2024, 6, 1), &WeekendsOnly).is_empty());
    }

    #[test]
    fn a_withheld_notice_or_a_source_without_notices_is_not_judged() {
        let withheld = CaseFacts::new("C1")
            .with_time("detention", t(4, 9, 0), "GA1")
            .with_time("family_notice_withheld", t(4, 10, 0), "GA1");
        assert!(check(&withheld, d(2024, 6, 1), &WeekendsOnly).is_empty());
        let silent = CaseFacts::new("C1").with_time("detention", t(4, 9, 0), "GA1");
        assert!(check(&silent, d(2024, 6, 1), &WeekendsOnly).is_empty());
    }
}
