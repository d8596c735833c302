//! 侦查羁押期限: custody in investigation after arrest may not exceed two months (刑事诉讼法
//! 第156条); the procuratorate one level up may extend it by one month (第156条), the provincial
//! procuratorate by two months for the cases of 第158条, and by two months more where the
//! sentence may be ten years or more (第159条). Each approved extension (`custody_extended`) runs
//! from the end of the period before it, so the chain is 2, 3, 5, 7 months.
//!
//! The period opens at `arrest_executed` (at `arrest_approved` when the execution is not
//! recorded, which the explanation says) and closes when the investigation ends with
//! `transferred_for_prosecution` or custody ends (`bail`, `residential_surveillance`,
//! `released`). An extension recorded after the period it extends had expired does not cure the
//! lapse: the rule fires on the expired period and names the late approval. The suspect is in
//! custody, so no holiday extension (第105条). Not modelled: recounting after a newly found
//! major crime or an established identity (第160条), and a delay approved by the NPC Standing
//! Committee (第157条); a fourth extension is not counted.

use chrono::NaiveDate;

use super::{fact, kind_zh, Rule};
use crate::deadline::{calendar_expiry, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-156-investigation-custody",
    title_zh: "逮捕后侦查羁押超期",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 156,
        paragraph: None,
        quote: "对犯罪嫌疑人逮捕后的侦查羁押期限不得超过二个月。案情复杂、期限届满不能终结的案件，可以经上一级人民检察院批准延长一个月。",
    },
    severity: Severity::Red,
};

/// Months added by the first, second and third approved extension (第156、158、159条).
const EXTENSIONS: [(u32, u32); 3] = [(1, 156), (2, 158), (2, 159)];

const ENDS: [&str; 4] = [
    "transferred_for_prosecution",
    "bail",
    "residential_surveillance",
    "released",
];

/// Kinds that belong to the investigation stage and do not show that the case moved on.
const SAME_STAGE: [&str; 5] = [
    "arrest_requested",
    "arrest_approved",
    "arrest_executed",
    "custody_extended",
    "detention",
];

pub fn check(facts: &CaseFacts, as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    let ev = &facts.events;
    let start = ev
        .iter()
        .position(|e| e.kind == "arrest_executed")
        .or_else(|| ev.iter().position(|e| e.kind == "arrest_approved"));
    let Some(start) = start else {
        return Vec::new();
    };
    let opened = &ev[start];
    let end = ev[start + 1..]
        .iter()
        .chain(ev[..start].iter().filter(|e| e.on == opened.on))
        .find(|e| ENDS.contains(&e.kind.as_str()));
    // The chain of periods: each timely extension adds its months to the expiry before it.
    let mut due = calendar_expiry(opened.on, Period::Months(2));
    let mut chain = vec![format!("逮捕后2个月，期满日{due}")];
    let mut facts_used = vec![fact(opened)];
    let mut late_extension = None;
    let extensions = ev
        .iter()
        .filter(|e| e.kind == "custody_extended" && e.on >= opened.on)
        .take_while(|e| end.is_none_or(|end| e.on <= end.on));
    for (e, (months, article)) in extensions.zip(EXTENSIONS) {
        facts_used.push(fact(e));
        if e.on > due {
            late_extension = Some(e);
            break;
        }
        due = calendar_expiry(due, Period::Months(months));
        chain.push(format!(
            "{}批准延长{}个月（第{}条），期满日{}",
            e.on, months, article, due
        ));
    }
    // A psychiatric assessment stops the clock (第149条); a running one leaves nothing late.
    let Some((excluded, notes, used)) =
        super::excluded_days(facts, opened.on, due, super::CASE_HANDLING)
    else {
        return Vec::new();
    };
    if excluded > 0 {
        due = due
            .checked_add_days(chrono::Days::new(excluded as u64))
            .unwrap_or(NaiveDate::MAX);
        chain.push(format!("{}，期满日顺延至{}", notes.join("；"), due));
        facts_used.extend(used);
    }
    let from_zh = if opened.kind == "arrest_executed" {
        String::new()
    } else {
        "（未见执行逮捕记录，自批准逮捕之日起计算）".to_string()
    };
    let tail = match end {
        Some(end) if end.on <= due => return Vec::new(),
        Some(end) => {
            facts_used.push(fact(end));
            format!(
                "实际{}于{}（{}），超期{}日。",
                kind_zh(&end.kind),
                end.on,
                end.org_code,
                (end.on - due).num_days()
            )
        }
        None => {
            let moved_on = ev[start + 1..]
                .iter()
                .any(|e| !SAME_STAGE.contains(&e.kind.as_str()));
            if as_of <= due || moved_on {
                return Vec::new();
            }
            facts_used.push(format!("as_of {as_of}"));
            format!(
                "截至{}未见侦查终结移送审查起诉或变更、解除羁押的记录，已超期{}日。",
                as_of,
                (as_of - due).num_days()
            )
        }
    };
    let late = late_extension
        .map(|e| {
            format!(
                "延长羁押期限的批准于{}，晚于原期满日{}，不能补正超期。",
                e.on, due
            )
        })
        .unwrap_or_default();
    vec![RiskItem {
        rule_id: RULE.id,
        title_zh: RULE.title_zh,
        basis: RULE.basis,
        severity: RULE.severity,
        case_uid: facts.case_uid.clone(),
        due,
        explanation_zh: format!(
            "{}于{}（{}）{}；依{}及第158条、第159条，侦查羁押期限为：{}；在押期间期满日不因节假日顺延。{}{}",
            kind_zh(&opened.kind),
            opened.on,
            opened.org_code,
            from_zh,
            RULE.basis.cite(),
            chain.join("；"),
            late,
            tail
        ),
        facts_used,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    const AS_OF: NaiveDate = match NaiveDate::from_ymd_opt(2025, 1, 1) {
        Some(d) => d,
        None => NaiveDate::MIN,
    };

    fn arrested() -> CaseFacts {
        // Executed 2024-03-04; 2 months → Saturday 2024-05-04 (custody: no weekend extension).
        CaseFacts::new("C1").with("arrest_executed", d(2024, 3, 4), "GA1")
    }

    #[test]
    fn last_day_is_in_time_even_on_a_weekend_and_the_next_is_late() {
        let ok = arrested().with("transferred_for_prosecution", d(2024, 5, 4), "GA1");
        assert!(check(&ok, AS_OF, &WeekendsOnly).is_empty());
        let late = arrested().with("transferred_for_prosecution", d(2024, 5, 6), "GA1");
        let items = check(&late, AS_OF, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 5, 4));
        assert!(items[0].explanation_zh.contains("超期2日"));
    }

    #[test]
    fn a_psychiatric_assessment_does_not_count() {
        // Fifteen days of assessment move the last day from 2024-05-04 to 2024-05-19.
        let assessed = |transfer| {
            arrested()
                .with("psychiatric_assessment_started", d(2024, 3, 10), "GA1")
                .with("psychiatric_assessment_ended", d(2024, 3, 25), "GA1")
                .with("transferred_for_prosecution", transfer, "GA1")
        };
        assert!(check(&assessed(d(2024, 5, 19)), AS_OF, &WeekendsOnly).is_empty());
        let items = check(&assessed(d(2024, 5, 20)), AS_OF, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 5, 19));
        assert!(items[0].explanation_zh.contains("第149条"));
    }

    #[test]
    fn each_timely_extension_adds_its_months() {
        // 2024-05-04 +1 month = 2024-06-04, +2 = 2024-08-04, +2 = 2024-10-04.
        let f = arrested()
            .with("custody_extended", d(2024, 4, 26), "JC1")
            .with("custody_extended", d(2024, 6, 4), "JC2")
            .with("custody_extended", d(2024, 7, 30), "JC2");
        let ok = f
            .clone()
            .with("transferred_for_prosecution", d(2024, 10, 4), "GA1");
        assert!(check(&ok, AS_OF, &WeekendsOnly).is_empty());
        let late = f.with("transferred_for_prosecution", d(2024, 10, 5), "GA1");
        let items = check(&late, AS_OF, &WeekendsOnly);
        assert_eq!(items[0].due, d(2024, 10, 4));
        assert!(items[0].explanation_zh.contains("第159条"));
        // One extension only: 2024-06-04.
        let one = arrested()
            .with("custody_extended", d(2024, 4, 26), "JC1")
            .with("transferred_for_prosecution", d(2024, 6, 5), "GA1");
        assert_eq!(check(&one, AS_OF, &WeekendsOnly)[0].due, d(2024, 6, 4));
    }

    #[test]
    fn an_extension_approved_after_expiry_does_not_cure() {
        let f = arrested()
            .with("custody_extended", d(2024, 5, 5), "JC1")
            .with("transferred_for_prosecution", d(2024, 5, 30), "GA1");
        let items = check(&f, AS_OF, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 5, 4));
        assert!(items[0].explanation_zh.contains("晚于原期满日2024-05-04"));
    }

    #[test]
    fn approval_opens_the_period_when_execution_is_missing_and_release_closes_it() {
        let f = CaseFacts::new("C1")
            .with("arrest_approved", d(2024, 3, 4), "JC1")
            .with("transferred_for_prosecution", d(2024, 5, 5), "GA1");
        let items = check(&f, AS_OF, &WeekendsOnly);
        assert!(items[0].explanation_zh.contains("未见执行逮捕记录"));
        let bailed = CaseFacts::new("C1")
            .with("arrest_executed", d(2024, 3, 4), "GA1")
            .with("bail", d(2024, 4, 1), "GA1")
            .with("transferred_for_prosecution", d(2024, 8, 1), "GA1");
        assert!(check(&bailed, AS_OF, &WeekendsOnly).is_empty());
    }

    #[test]
    fn missing_end_fires_only_past_the_limit_with_no_later_stage() {
        assert!(check(&arrested(), d(2024, 5, 4), &WeekendsOnly).is_empty());
        let items = check(&arrested(), d(2024, 5, 5), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("截至2024-05-05"));
        let prosecuted = arrested().with("prosecuted", d(2024, 9, 1), "JC1");
        assert!(check(&prosecuted, AS_OF, &WeekendsOnly).is_empty());
    }
}
