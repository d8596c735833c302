//! Integration tests of the code tables: the charge (罪名) table built by `tools/gen_charges.py`
//! from the 1997 SPP list and the supplements 补充规定 (2002) to (八) (2024).

use chrono::NaiveDate;
use xiezhi_standard::codes::{table, CodeEntry, CodeList, CodeTable};

/// Current charges after 补充规定（八）, as counted by `tools/gen_charges.py`.
const CURRENT_CHARGES: usize = 483;
/// Retired rows (renamed, merged or abolished names), as counted by `tools/gen_charges.py`.
const RETIRED_CHARGES: usize = 59;
/// 骗购外汇罪 rests on the 1998 NPCSC decision, not on a 刑法 article.
const DECISION_CHARGE: &str = "CD1.1";

fn charges() -> &'static CodeList {
    table(CodeTable::Charge)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn charge(code: &str) -> &'static CodeEntry {
    charges()
        .get(code)
        .unwrap_or_else(|| panic!("charge {code} missing"))
}

fn current(name: &str) -> &'static CodeEntry {
    charges()
        .current_by_name(name)
        .unwrap_or_else(|| panic!("no single current charge named {name}"))
}

/// The only row with this name that is retired.
fn retired(name: &str) -> &'static CodeEntry {
    let mut rows = charges().by_name(name).filter(|e| !e.is_current());
    let row = rows
        .next()
        .unwrap_or_else(|| panic!("no retired charge named {name}"));
    assert!(rows.next().is_none(), "several retired rows named {name}");
    row
}

/// `刑法第133条之一…` -> `(133, 1)`: the first article a basis names.
fn first_article(basis: &str) -> Option<(u32, u32)> {
    let rest = basis.strip_prefix("刑法第")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let article = digits.parse().ok()?;
    let rest = rest[digits.len()..].strip_prefix('条')?;
    let sub = match rest.strip_prefix('之').and_then(|r| r.chars().next()) {
        Some(c) => "一二三四五六七八九".chars().position(|d| d == c)? as u32 + 1,
        None => 0,
    };
    Some((article, sub))
}

/// `C133-1.2` -> `(133, 1)`.
fn code_article(code: &str) -> Option<(u32, u32)> {
    let (article, ordinal) = code.strip_prefix('C')?.split_once('.')?;
    ordinal.parse::<u32>().ok()?;
    match article.split_once('-') {
        Some((main, sub)) => Some((main.parse().ok()?, sub.parse().ok()?)),
        None => Some((article.parse().ok()?, 0)),
    }
}

#[test]
fn charge_table_counts_match_the_generator() {
    let entries = charges().entries();
    let current = entries.iter().filter(|e| e.is_current()).count();
    assert_eq!(current, CURRENT_CHARGES);
    assert_eq!(entries.len() - current, RETIRED_CHARGES);
}

#[test]
fn current_charge_names_are_unique_and_official() {
    let mut names: Vec<&str> = charges()
        .entries()
        .iter()
        .filter(|e| e.is_current())
        .map(|e| e.name.as_str())
        .collect();
    assert!(names.iter().all(|n| n.ends_with('罪')));
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "a name is current twice");
}

#[test]
fn provisional_codes_keep_their_meaning() {
    for (code, name) in [
        ("C264.1", "盗窃罪"),
        ("C133-1.1", "危险驾驶罪"),
        ("C287-2.1", "帮助信息网络犯罪活动罪"),
        ("C266.1", "诈骗罪"),
        ("C277.1", "妨害公务罪"),
        ("C277.2", "袭警罪"),
    ] {
        let entry = charge(code);
        assert_eq!(entry.name, name);
        assert!(entry.is_current(), "{code} retired");
    }
}

#[test]
fn spot_checks_from_the_supplements() {
    let dangerous_driving = current("危险驾驶罪");
    assert_eq!(dangerous_driving.basis, "刑法第133条之一");
    assert_eq!(dangerous_driving.valid_from, Some(date(2011, 5, 1)));

    let assault_on_police = current("袭警罪");
    assert_eq!(assault_on_police.basis, "刑法第277条第5款");
    assert_eq!(assault_on_police.valid_from, Some(date(2021, 3, 1)));
    for name in ["妨害安全驾驶罪", "危险作业罪", "催收非法债务罪"] {
        assert_eq!(current(name).valid_from, Some(date(2021, 3, 1)), "{name}");
    }

    let child_prostitution = retired("嫖宿幼女罪");
    assert_eq!(child_prostitution.valid_until, Some(date(2015, 11, 1)));
    assert_eq!(child_prostitution.replaced_by, None);

    let poisoning = retired("投毒罪");
    let successor = current("投放危险物质罪");
    assert_eq!(
        poisoning.replaced_by.as_deref(),
        Some(successor.code.as_str())
    );
    assert_eq!(poisoning.valid_until, Some(date(2002, 3, 26)));

    let state_assets = retired("徇私舞弊低价折股、出售国有资产罪");
    let renamed = current("徇私舞弊低价折股、出售公司、企业资产罪");
    assert_eq!(state_assets.valid_until, Some(date(2024, 3, 1)));
    assert_eq!(
        state_assets.replaced_by.as_deref(),
        Some(renamed.code.as_str())
    );
    assert_eq!(renamed.valid_from, Some(date(2024, 3, 1)));
}

#[test]
fn merged_charges_point_to_the_merged_name() {
    let merged = current("侵犯公民个人信息罪");
    for name in ["出售、非法提供公民个人信息罪", "非法获取公民个人信息罪"]
    {
        let old = retired(name);
        assert_eq!(
            old.replaced_by.as_deref(),
            Some(merged.code.as_str()),
            "{name}"
        );
        assert_eq!(old.valid_until, merged.valid_from, "{name}");
    }
}

#[test]
fn every_replaced_by_points_to_an_existing_code() {
    for entry in charges().entries() {
        if let Some(next) = &entry.replaced_by {
            assert!(
                entry.valid_until.is_some(),
                "{} has a successor but is current",
                entry.code
            );
            let successor = charges()
                .get(next)
                .unwrap_or_else(|| panic!("{} -> {next}: no such code", entry.code));
            // The successor exists from the day the old name ends (or since 1997 when the
            // old name was folded into a kept one, e.g. 奸淫幼女罪 -> 强奸罪).
            assert!(
                successor.valid_from.is_none() || successor.valid_from == entry.valid_until,
                "{} -> {next}: dates do not join",
                entry.code
            );
        }
    }
}

#[test]
fn every_current_charge_names_a_criminal_law_article() {
    for entry in charges().entries().iter().filter(|e| e.is_current()) {
        if entry.code == DECISION_CHARGE {
            assert_eq!(entry.name, "骗购外汇罪");
            assert!(entry.basis.contains("骗购外汇") && entry.basis.ends_with("决定第1条"));
            continue;
        }
        let article = first_article(&entry.basis).unwrap_or_else(|| {
            panic!(
                "{}: basis `{}` names no 刑法 article",
                entry.code, entry.basis
            )
        });
        assert_eq!(
            code_article(&entry.code),
            Some(article),
            "{}: code does not carry the first article of `{}`",
            entry.code,
            entry.basis
        );
    }
}

#[test]
fn renamed_charge_old_code_is_valid_only_before_renaming() {
    let old = retired("投毒罪");
    let new = charge(old.replaced_by.as_deref().expect("投毒罪 has a successor"));
    let before = date(2001, 6, 1);
    let after = date(2002, 3, 26);
    assert!(old.valid_on(before));
    assert!(!old.valid_on(after));
    assert!(!new.valid_on(before));
    assert!(new.valid_on(after));

    // Renamed twice: 操纵证券交易价格罪 (1997) -> 操纵证券、期货交易价格罪 (2002) -> 操纵证券、期货市场罪 (2007).
    let first = retired("操纵证券交易价格罪");
    let second = charge(first.replaced_by.as_deref().expect("successor"));
    let third = charge(second.replaced_by.as_deref().expect("successor"));
    assert_eq!(third.name, "操纵证券、期货市场罪");
    assert!(third.is_current());
    let in_2005 = date(2005, 1, 1);
    assert!(!first.valid_on(in_2005) && second.valid_on(in_2005) && !third.valid_on(in_2005));
}
