//! Masking: operators and the per-field plan.
//!
//! Operators (DESIGN "Access"): partial mask (ID `5201**********123X`, name `张*`, phone
//! `138****5678`), generalize (address to the district or county, date to the year, division to
//! the prefecture, amount to a band), hash (salted SHA-256, 16 hex digits) and redact
//! (`[已屏蔽]`).
//!
//! The plan for a principal, a case and an entity decides per field: a field the policies deny
//! is redacted; a permitted field is shown when the principal's clearance reaches its level,
//! masked with the field's operator when the clearance is one level below, and redacted when it
//! is two or more below (level 4 always needs clearance 4).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use xiezhi_standard::codes::CodeTable;
use xiezhi_standard::{Entity, FieldDef, FieldType, Level, Record, Value};

use crate::decision::{level_number, Action, Authorizer, PolicyRef, RequestContext};
use crate::principal::{CaseResource, Principal, Resource};
use crate::{AccessError, AccessEvent};

/// What a redacted field shows.
pub const REDACTED: &str = "[已屏蔽]";

/// The per-deployment salt of the hash operator. Keep it secret: with it, hashes of short
/// values (phone numbers) can be reversed by trying all values.
#[derive(Clone, PartialEq, Eq)]
pub struct Salt(Vec<u8>);

impl Salt {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Salt {
        Salt(bytes.into())
    }
}

impl std::fmt::Debug for Salt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Salt(..)")
    }
}

/// A masking operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskOp {
    /// Keep the first and last 4 characters of an ID number.
    PartialId,
    /// Keep the first character of a name, one `*` per other character.
    PartialName,
    /// Keep the first 3 and last 4 digits of a phone number.
    PartialPhone,
    /// Cut an address after its district or county.
    GeneralizeAddress,
    /// A date or time to its year.
    GeneralizeYear,
    /// A division code to its prefecture (`520102` → `520100`).
    GeneralizeDivision,
    /// An amount of money to its order of magnitude.
    GeneralizeAmount,
    /// Salted SHA-256, first 16 hex digits: still joinable, no longer readable.
    Hash,
}

impl MaskOp {
    pub fn name_zh(self) -> &'static str {
        match self {
            MaskOp::PartialId => "证件号码部分遮蔽（保留前4位和后4位）",
            MaskOp::PartialName => "姓名部分遮蔽（保留姓）",
            MaskOp::PartialPhone => "电话号码部分遮蔽（保留前3位和后4位）",
            MaskOp::GeneralizeAddress => "地址泛化至区县",
            MaskOp::GeneralizeYear => "日期泛化至年份",
            MaskOp::GeneralizeDivision => "行政区划泛化至地市",
            MaskOp::GeneralizeAmount => "金额泛化为区间",
            MaskOp::Hash => "加盐哈希",
        }
    }

    /// Applies the operator to a value.
    pub fn apply(self, value: &Value, salt: &Salt) -> String {
        match self {
            MaskOp::PartialId => mask_id(&value.canonical()),
            MaskOp::PartialName => mask_name(&value.canonical()),
            MaskOp::PartialPhone => mask_phone(&value.canonical()),
            MaskOp::GeneralizeAddress => {
                generalize_address(&value.canonical()).unwrap_or_else(|| REDACTED.to_string())
            }
            MaskOp::GeneralizeYear => match value.as_date() {
                Some(d) => generalize_year(d),
                None => {
                    let s = value.canonical();
                    match s.get(..4) {
                        Some(y) if y.bytes().all(|b| b.is_ascii_digit()) => y.to_string(),
                        _ => REDACTED.to_string(),
                    }
                }
            },
            MaskOp::GeneralizeDivision => generalize_division(&value.canonical()),
            MaskOp::GeneralizeAmount => match value.as_int() {
                Some(fen) => generalize_amount(fen),
                None => REDACTED.to_string(),
            },
            MaskOp::Hash => hash(salt, &value.canonical()),
        }
    }
}

/// Replaces the characters of `s` outside the first `head` and last `tail` with `*`.
fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < head || i + tail >= n { c } else { '*' })
        .collect()
}

/// `520102199001011234` → `5201**********1234`. Nine characters or more keep the first and last
/// 4; shorter values keep one at each end (three or more) or nothing.
pub fn mask_id(s: &str) -> String {
    match s.chars().count() {
        n if n >= 9 => keep_ends(s, 4, 4),
        n if n >= 3 => keep_ends(s, 1, 1),
        n => "*".repeat(n),
    }
}

/// `张三` → `张*`, `欧阳娜娜` → `欧***`; a one-character name becomes `*`.
pub fn mask_name(s: &str) -> String {
    match s.chars().count() {
        0 => String::new(),
        1 => "*".to_string(),
        _ => keep_ends(s, 1, 0),
    }
}

/// `13812345678` → `138****5678`. Eight characters or more keep the first 3 and last 4; shorter
/// numbers keep one at each end.
pub fn mask_phone(s: &str) -> String {
    match s.chars().count() {
        n if n >= 8 => keep_ends(s, 3, 4),
        n if n >= 3 => keep_ends(s, 1, 1),
        n => "*".repeat(n),
    }
}

/// Cuts an address after its district or county: after the first `区`, `县` or `市` that
/// follows the first `市`, else after that `市`, else after the first `区`/`县`. `None` when
/// the address has none of them.
///
/// `贵州省贵阳市南明区花果园街道1号` → `贵州省贵阳市南明区`; `贵州省修文县龙场镇` →
/// `贵州省修文县`; `贵州省仁怀市茅台镇` → `贵州省仁怀市`.
pub fn generalize_address(s: &str) -> Option<String> {
    let is_marker = |c: char| matches!(c, '区' | '县' | '市');
    let cut_after = |i: usize, c: char| s[..i + c.len_utf8()].to_string();
    if let Some((i, c)) = s.char_indices().find(|&(_, c)| c == '市') {
        let rest = i + c.len_utf8();
        if let Some((j, d)) = s[rest..].char_indices().find(|&(_, d)| is_marker(d)) {
            return Some(cut_after(rest + j, d));
        }
        return Some(cut_after(i, c));
    }
    s.char_indices()
        .find(|&(_, c)| is_marker(c))
        .map(|(i, c)| cut_after(i, c))
}

/// `1990-05-17` → `1990`.
pub fn generalize_year(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{:04}", d.year())
}

/// `520102` → `520100`; anything that is not six digits is redacted.
pub fn generalize_division(s: &str) -> String {
    if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}00", &s[..4])
    } else {
        REDACTED.to_string()
    }
}

/// An amount in fen as a band in yuan: `1万–10万元`.
pub fn generalize_amount(fen: i64) -> String {
    let yuan = fen / 100;
    let band = match yuan {
        i64::MIN..=0 => "0元及以下",
        1..=999 => "1千元以下",
        1_000..=9_999 => "1千–1万元",
        10_000..=99_999 => "1万–10万元",
        100_000..=999_999 => "10万–100万元",
        1_000_000..=9_999_999 => "100万–1000万元",
        _ => "1000万元以上",
    };
    band.to_string()
}

/// SHA-256 of salt ‖ value, first 16 hex digits.
pub fn hash(salt: &Salt, s: &str) -> String {
    let mut h = Sha256::new();
    h.update(&salt.0);
    h.update(s.as_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(16);
    for b in digest.iter().take(8) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The operator applied to a field when the clearance is one level below it, if the field has
/// one that keeps something useful; otherwise the field is redacted.
pub fn operator_for(entity: Entity, def: &FieldDef) -> Option<MaskOp> {
    match def.ty {
        FieldType::IdNumber => Some(MaskOp::PartialId),
        FieldType::Phone => Some(MaskOp::PartialPhone),
        FieldType::Date | FieldType::DateTime => Some(MaskOp::GeneralizeYear),
        FieldType::Code(CodeTable::Division) => Some(MaskOp::GeneralizeDivision),
        FieldType::Money => Some(MaskOp::GeneralizeAmount),
        FieldType::Sha256
        | FieldType::CreditCode
        | FieldType::CourtCaseNo
        | FieldType::ProcuratorateDocNo => Some(MaskOp::Hash),
        FieldType::Text if entity == Entity::Person && def.name == "name" => {
            Some(MaskOp::PartialName)
        }
        FieldType::Text if def.name.contains("address") => Some(MaskOp::GeneralizeAddress),
        FieldType::Text if def.name.ends_with("_no") || def.name.ends_with("_code") => {
            Some(MaskOp::Hash)
        }
        _ => None,
    }
}

/// What to do with a permitted field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", content = "op", rename_all = "snake_case")]
pub enum FieldAction {
    Show,
    Mask(MaskOp),
    Redact,
}

/// The action for a permitted field of `level` read at `clearance`, given the field's operator.
pub fn clearance_action(clearance: Level, level: Level, op: Option<MaskOp>) -> FieldAction {
    if level == Level::L4 && clearance < Level::L4 {
        return FieldAction::Redact;
    }
    match level_number(level) - level_number(clearance) {
        gap if gap <= 0 => FieldAction::Show,
        1 => op.map_or(FieldAction::Redact, FieldAction::Mask),
        _ => FieldAction::Redact,
    }
}

/// The decision for one field, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDecision {
    pub field: String,
    pub level: Level,
    pub permit: bool,
    pub action: FieldAction,
    /// The determining policies.
    pub policies: Vec<String>,
    pub reason_zh: String,
}

/// Builds a field's decision from the policy outcome and the principal's clearance.
pub(crate) fn field_decision(
    entity: Entity,
    def: &FieldDef,
    level: Level,
    clearance: Level,
    permit: bool,
    policies: &[PolicyRef],
) -> FieldDecision {
    let basis: Vec<&str> = policies.iter().map(|p| p.reason_zh.as_str()).collect();
    let basis = basis.join("；");
    let (action, reason_zh) = if !permit {
        let why = if policies.is_empty() {
            "无适用的许可策略（默认拒绝），可提出数据共享申请".to_string()
        } else {
            format!("拒绝：{basis}")
        };
        (FieldAction::Redact, why)
    } else {
        let action = clearance_action(clearance, level, operator_for(entity, def));
        let how = match action {
            FieldAction::Show => format!("权限 {clearance:?} 不低于字段级别 {level:?}，明文显示"),
            FieldAction::Mask(op) => format!(
                "权限 {clearance:?} 低于字段级别 {level:?} 一级，{}",
                op.name_zh()
            ),
            FieldAction::Redact if level == Level::L4 => {
                "重要（L4）字段须具 L4 权限，屏蔽".to_string()
            }
            FieldAction::Redact => format!(
                "权限 {clearance:?} 低于字段级别 {level:?}（两级及以上或无可用遮蔽方式），屏蔽"
            ),
        };
        (action, format!("{basis}；{how}"))
    };
    FieldDecision {
        field: def.name.to_string(),
        level,
        permit,
        action,
        policies: policies.iter().map(|p| p.id.clone()).collect(),
        reason_zh,
    }
}

/// Applies an action to a value.
pub fn apply_action(action: FieldAction, value: &Value, salt: &Salt) -> String {
    match action {
        FieldAction::Show => value.canonical(),
        FieldAction::Mask(op) => op.apply(value, salt),
        FieldAction::Redact => REDACTED.to_string(),
    }
}

/// Per field of one entity of one case: what the principal sees, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaskingPlan {
    pub entity: Entity,
    pub case_uid: String,
    pub principal: String,
    pub clearance: Level,
    /// One decision per field of the entity, in the standard's order.
    pub fields: Vec<FieldDecision>,
    /// The ledger entries of the decisions behind the plan (none from
    /// [`crate::CompiledView::read_plan_at`]).
    pub events: Vec<AccessEvent>,
}

/// A record as the principal may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaskedRecord {
    pub entity: Entity,
    /// Field → text shown.
    pub fields: BTreeMap<&'static str, String>,
    /// The decisions of the fields present in the record (none when masked by
    /// [`MaskingPlan::apply_shown`]: the plan holds them).
    pub decisions: Vec<FieldDecision>,
}

impl MaskingPlan {
    /// Decides every field of `entity` in `case` with Cedar.
    pub fn build(
        authz: &Authorizer,
        principal: &Principal,
        action: Action,
        case: &CaseResource,
        entity: Entity,
        ctx: &RequestContext,
    ) -> Result<MaskingPlan, AccessError> {
        let mut fields = Vec::new();
        let mut events = Vec::new();
        for def in entity.fields() {
            let level = case.level_of(entity, def);
            let field = crate::FieldRef {
                entity,
                field: def.name,
                level,
            };
            let d = authz.decide(principal, action, &Resource::new(case, field), ctx)?;
            fields.push(field_decision(
                entity,
                def,
                level,
                principal.clearance(),
                d.permit,
                &d.policies,
            ));
            events.push(d.event);
        }
        Ok(MaskingPlan {
            entity,
            case_uid: case.case_uid.clone(),
            principal: principal.id().to_string(),
            clearance: principal.clearance(),
            fields,
            events,
        })
    }

    /// Whether any field is readable (the record may be listed at all).
    pub fn any_permitted(&self) -> bool {
        self.fields.iter().any(|f| f.permit)
    }

    /// The decision for one field.
    pub fn field(&self, name: &str) -> Option<&FieldDecision> {
        self.fields.iter().find(|f| f.field == name)
    }

    /// Masks a record of the plan's entity.
    pub fn apply(&self, record: &Record, salt: &Salt) -> Result<MaskedRecord, AccessError> {
        self.apply_with(record, salt, true)
    }

    /// As [`MaskingPlan::apply`] without a copy of the field decisions in the record
    /// ([`MaskedRecord::decisions`] is empty; the plan holds them): for many records of one
    /// plan shown together.
    pub fn apply_shown(&self, record: &Record, salt: &Salt) -> Result<MaskedRecord, AccessError> {
        self.apply_with(record, salt, false)
    }

    fn apply_with(
        &self,
        record: &Record,
        salt: &Salt,
        with_decisions: bool,
    ) -> Result<MaskedRecord, AccessError> {
        if record.entity != self.entity {
            return Err(AccessError::EntityMismatch {
                expected: self.entity.name().to_string(),
                found: record.entity.name().to_string(),
            });
        }
        let mut fields = BTreeMap::new();
        let mut decisions = Vec::new();
        for (name, value) in &record.fields {
            match self.field(name) {
                Some(d) => {
                    fields.insert(*name, apply_action(d.action, value, salt));
                    if with_decisions {
                        decisions.push(d.clone());
                    }
                }
                None => {
                    fields.insert(*name, REDACTED.to_string());
                }
            }
        }
        Ok(MaskedRecord {
            entity: record.entity,
            fields,
            decisions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    #[test]
    fn examples_from_the_design() {
        assert_eq!(mask_id("52010219900101123X"), "5201**********123X");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("张"), "*");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(
            generalize_address("贵州省贵阳市南明区花果园街道1号").as_deref(),
            Some("贵州省贵阳市南明区")
        );
        assert_eq!(
            generalize_address("贵州省修文县龙场镇").as_deref(),
            Some("贵州省修文县")
        );
        assert_eq!(
            generalize_address("贵州省仁怀市茅台镇").as_deref(),
            Some("贵州省仁怀市")
        );
        assert_eq!(
            generalize_address("北京市朝阳区建国路1号").as_deref(),
            Some("北京市朝阳区")
        );
        assert_eq!(
            generalize_address("花果园小区"),
            Some("花果园小区".to_string())
        );
        assert_eq!(generalize_address("某某路1号"), None);
        assert_eq!(
            generalize_year(NaiveDate::from_ymd_opt(1990, 5, 17).unwrap()),
            "1990"
        );
        assert_eq!(generalize_division("520102"), "520100");
        assert_eq!(generalize_amount(1_234_500), "1万–10万元");
        let salt = Salt::new(*b"deployment-salt");
        assert_eq!(hash(&salt, "x").len(), 16);
        assert_ne!(hash(&salt, "x"), hash(&Salt::new(*b"other"), "x"));
    }

    #[test]
    fn clearance_gap_decides_the_action() {
        use Level::*;
        let op = Some(MaskOp::PartialName);
        assert_eq!(clearance_action(L3, L3, op), FieldAction::Show);
        assert_eq!(clearance_action(L4, L2, op), FieldAction::Show);
        assert_eq!(
            clearance_action(L2, L3, op),
            FieldAction::Mask(MaskOp::PartialName)
        );
        assert_eq!(clearance_action(L2, L3, None), FieldAction::Redact);
        assert_eq!(clearance_action(L1, L3, op), FieldAction::Redact);
        assert_eq!(clearance_action(L3, L4, op), FieldAction::Redact);
        assert_eq!(clearance_action(L4, L4, op), FieldAction::Show);
    }

    #[test]
    fn operators_by_field() {
        let op = |e: Entity, f: &str| operator_for(e, e.field(f).unwrap());
        assert_eq!(op(Entity::Person, "id_number"), Some(MaskOp::PartialId));
        assert_eq!(op(Entity::Person, "name"), Some(MaskOp::PartialName));
        assert_eq!(op(Entity::Person, "phone"), Some(MaskOp::PartialPhone));
        assert_eq!(
            op(Entity::Person, "address"),
            Some(MaskOp::GeneralizeAddress)
        );
        assert_eq!(
            op(Entity::Person, "birth_date"),
            Some(MaskOp::GeneralizeYear)
        );
        assert_eq!(
            op(Entity::Person, "household_division"),
            Some(MaskOp::GeneralizeDivision)
        );
        assert_eq!(op(Entity::Case, "court_case_no"), Some(MaskOp::Hash));
        assert_eq!(op(Entity::Case, "summary"), None);
    }

    proptest! {
        #[test]
        fn masked_id_keeps_length_and_ends(id in "[0-9]{6}(19|20)[0-9]{2}[01][0-9][0-3][0-9][0-9]{3}[0-9X]") {
            let m = mask_id(&id);
            prop_assert_eq!(m.chars().count(), id.chars().count());
            prop_assert_eq!(&m[..4], &id[..4]);
            prop_assert_eq!(&m[m.len() - 4..], &id[id.len() - 4..]);
            prop_assert_ne!(&m, &id);
            prop_assert!(m[4..m.len() - 4].chars().all(|c| c == '*'));
        }

        #[test]
        fn masked_id_never_equals_for_length_nine_or_more(id in "[0-9A-Z]{9,20}") {
            let m = mask_id(&id);
            prop_assert_eq!(m.len(), id.len());
            prop_assert_ne!(m, id);
        }

        #[test]
        fn masked_short_ids_reveal_at_most_two_characters(id in "[0-9]{0,8}") {
            let m = mask_id(&id);
            prop_assert_eq!(m.chars().count(), id.chars().count());
            prop_assert!(m.chars().filter(|c| *c != '*').count() <= 2);
        }

        #[test]
        fn masked_name_keeps_surname_and_length(name in "\\p{Han}{1,6}") {
            let m = mask_name(&name);
            prop_assert_eq!(m.chars().count(), name.chars().count());
            if name.chars().count() > 1 {
                prop_assert_eq!(m.chars().next(), name.chars().next());
            }
            prop_assert!(m.chars().skip(1).all(|c| c == '*'));
            prop_assert_ne!(m, name);
        }

        #[test]
        fn masked_phone_keeps_prefix_and_suffix(phone in "1[3-9][0-9]{9}") {
            let m = mask_phone(&phone);
            prop_assert_eq!(&m[..3], &phone[..3]);
            prop_assert_eq!(&m[7..], &phone[7..]);
            prop_assert_eq!(&m[3..7], "****");
        }

        #[test]
        fn generalized_address_is_a_prefix_ending_in_a_marker(
            head in "\\p{Han}{0,4}", tail in "\\p{Han}{0,8}",
            marker in "[区县市]",
        ) {
            let addr = format!("{head}{marker}{tail}");
            let g = generalize_address(&addr).unwrap();
            prop_assert!(addr.starts_with(&g));
            prop_assert!(g.ends_with(['区', '县', '市']));
            prop_assert!(g.chars().count() <= addr.chars().count());
        }

        #[test]
        fn hash_is_deterministic_hex_and_salted(v in ".{0,40}", s1 in "[a-z]{1,8}", s2 in "[A-Z]{1,8}") {
            let a = hash(&Salt::new(s1.as_bytes()), &v);
            prop_assert_eq!(a.len(), 16);
            prop_assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
            prop_assert_eq!(&a, &hash(&Salt::new(s1.as_bytes()), &v));
            prop_assert_ne!(a, hash(&Salt::new(s2.as_bytes()), &v));
        }

        #[test]
        fn year_generalization_keeps_only_the_year(y in 1900i32..2100, d in 1u32..365) {
            let date = NaiveDate::from_yo_opt(y, d).unwrap();
            let g = MaskOp::GeneralizeYear.apply(&Value::Date(date), &Salt::new(*b"s"));
            prop_assert_eq!(g, y.to_string());
        }
    }
}
