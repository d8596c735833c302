//! 信访办理期限: a petition matter is concluded within 60 days of acceptance; a complex one may
//! be extended with approval by at most 30 days (信访工作条例 第34条). From `accepted_on` to
//! `answered_on`, over 60 days plus the recorded extension, counted at most 30. An extension
//! recorded beyond 30 days is said so in the explanation. 第34条 speaks of the matters of
//! 第31条第6项; the data does not say which item of 第31条 a matter fell under, so the period
//! is applied to every petition the organ answered.

use chrono::NaiveDate;

use super::Rule;
use crate::deadline::RestDays;
use crate::petitions::{PetitionFacts, PetitionLimit};
use crate::{Basis, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "xfgz-034-handling-period",
    title_zh: "信访事项逾期未办结答复",
    basis: Basis {
        law: "信访工作条例",
        version: "2022",
        article: 34,
        paragraph: None,
        quote: "对本条例第三十一条第六项规定的信访事项应当自受理之日起60日内办结；情况复杂的，经本机关、单位负责人批准，可以适当延长办理期限，但延长期限不得超过30日，并告知信访人延期理由。",
    },
    severity: Severity::Orange,
};

/// Longest extension 第34条 allows.
const MAX_EXTENSION: i64 = 30;

/// The days a matter has from acceptance: 60, plus the recorded extension counted at most 30.
pub fn days(p: &PetitionFacts) -> u32 {
    60 + p.extended_days.unwrap_or(0).clamp(0, MAX_EXTENSION) as u32
}

pub fn check(p: &PetitionFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Option<RiskItem> {
    let note = match p.extended_days {
        Some(e) if e > MAX_EXTENSION => {
            format!("记录的延长期限为{e}日，超过法定上限30日，按30日计算。")
        }
        Some(e) if e > 0 => format!("已批准延长{e}日，期限为60日加延长期限。"),
        _ => String::new(),
    };
    PetitionLimit {
        rule: &RULE,
        petition: p,
        from: ("petition_accepted", "受理", p.accepted?),
        days: days(p),
        end: ("petition_answered", "办结并书面答复", p.answered),
        note,
    }
    .run(as_of, calendar)
}
