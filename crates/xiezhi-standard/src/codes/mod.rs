//! Code tables of the standard, compiled in from `data/*.tsv`.
//!
//! Every table file names its source in its `#` header. Codes, once published, never change
//! meaning: a renamed or split code is a new row, the old row gets `valid_until` and
//! `replaced_by` (a crosswalk), and stays valid for acts dated before it was retired.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The code tables the standard knows. A field of type `Code(table)` takes its values from one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeTable {
    /// GB/T 2260 administrative divisions (行政区划), current and retired.
    Division,
    /// Criminal charges (罪名) with their Criminal Law articles.
    Charge,
    /// Kinds of political-legal organs (机构类别).
    OrganKind,
    /// Procedural acts (流程节点).
    EventKind,
    /// Statutory evidence kinds (证据种类, CPL Art. 50).
    EvidenceKind,
    /// Legal document kinds (文书种类).
    DocumentKind,
    /// Principal and supplementary penalties (刑罚种类).
    PenaltyKind,
    /// Sentencing circumstances (量刑情节).
    Circumstance,
    /// Sex (GB/T 2261.1).
    Sex,
    /// Ethnic groups (GB/T 3304).
    Ethnicity,
    /// Identity document kinds (证件类型).
    IdType,
    /// Roles of a person in a case (涉案人员角色).
    PersonRole,
    /// Case categories (案件类别).
    CaseCategory,
    /// Case stages (案件阶段).
    CaseStage,
    /// Kinds of penalty execution (执行方式).
    ExecutionKind,
    /// Petition status (信访状态).
    PetitionStatus,
    /// Kinds of community-corrections subject (社区矫正对象类别).
    CorrectionKind,
    /// Acts of community corrections (社区矫正事项).
    CorrectionEventKind,
    /// Rules of an electronic fence (电子围栏规则).
    FenceRule,
    /// Work or study of a correction subject (就业就学状况).
    Employment,
    /// Channels of a petition (信访形式).
    PetitionChannel,
    /// Kinds of petition matter (信访事项类别).
    PetitionKind,
    /// Kinds of civil dispute in people's mediation (纠纷类型).
    DisputeKind,
    /// Outcome of a people's mediation (调解结果).
    MediationOutcome,
    /// Forms of legal aid (法律援助形式).
    LegalAidKind,
    /// Decision on legal aid (审查决定).
    LegalAidDecision,
}

impl CodeTable {
    pub const ALL: [CodeTable; 26] = [
        CodeTable::Division,
        CodeTable::Charge,
        CodeTable::OrganKind,
        CodeTable::EventKind,
        CodeTable::EvidenceKind,
        CodeTable::DocumentKind,
        CodeTable::PenaltyKind,
        CodeTable::Circumstance,
        CodeTable::Sex,
        CodeTable::Ethnicity,
        CodeTable::IdType,
        CodeTable::PersonRole,
        CodeTable::CaseCategory,
        CodeTable::CaseStage,
        CodeTable::ExecutionKind,
        CodeTable::PetitionStatus,
        CodeTable::CorrectionKind,
        CodeTable::CorrectionEventKind,
        CodeTable::FenceRule,
        CodeTable::Employment,
        CodeTable::PetitionChannel,
        CodeTable::PetitionKind,
        CodeTable::DisputeKind,
        CodeTable::MediationOutcome,
        CodeTable::LegalAidKind,
        CodeTable::LegalAidDecision,
    ];

    /// Stable machine name, used in mappings and reason codes.
    pub fn name(self) -> &'static str {
        match self {
            CodeTable::Division => "division",
            CodeTable::Charge => "charge",
            CodeTable::OrganKind => "organ_kind",
            CodeTable::EventKind => "event_kind",
            CodeTable::EvidenceKind => "evidence_kind",
            CodeTable::DocumentKind => "document_kind",
            CodeTable::PenaltyKind => "penalty_kind",
            CodeTable::Circumstance => "circumstance",
            CodeTable::Sex => "sex",
            CodeTable::Ethnicity => "ethnicity",
            CodeTable::IdType => "id_type",
            CodeTable::PersonRole => "person_role",
            CodeTable::CaseCategory => "case_category",
            CodeTable::CaseStage => "case_stage",
            CodeTable::ExecutionKind => "execution_kind",
            CodeTable::PetitionStatus => "petition_status",
            CodeTable::CorrectionKind => "correction_kind",
            CodeTable::CorrectionEventKind => "correction_event_kind",
            CodeTable::FenceRule => "fence_rule",
            CodeTable::Employment => "employment",
            CodeTable::PetitionChannel => "petition_channel",
            CodeTable::PetitionKind => "petition_kind",
            CodeTable::DisputeKind => "dispute_kind",
            CodeTable::MediationOutcome => "mediation_outcome",
            CodeTable::LegalAidKind => "legal_aid_kind",
            CodeTable::LegalAidDecision => "legal_aid_decision",
        }
    }

    /// Chinese name of the table, for people.
    pub fn name_zh(self) -> &'static str {
        match self {
            CodeTable::Division => "行政区划",
            CodeTable::Charge => "罪名",
            CodeTable::OrganKind => "机构类别",
            CodeTable::EventKind => "流程节点",
            CodeTable::EvidenceKind => "证据种类",
            CodeTable::DocumentKind => "文书种类",
            CodeTable::PenaltyKind => "刑罚种类",
            CodeTable::Circumstance => "量刑情节",
            CodeTable::Sex => "性别",
            CodeTable::Ethnicity => "民族",
            CodeTable::IdType => "证件类型",
            CodeTable::PersonRole => "涉案人员角色",
            CodeTable::CaseCategory => "案件类别",
            CodeTable::CaseStage => "案件阶段",
            CodeTable::ExecutionKind => "执行方式",
            CodeTable::PetitionStatus => "信访状态",
            CodeTable::CorrectionKind => "社区矫正对象类别",
            CodeTable::CorrectionEventKind => "社区矫正事项",
            CodeTable::FenceRule => "电子围栏规则",
            CodeTable::Employment => "就业就学状况",
            CodeTable::PetitionChannel => "信访形式",
            CodeTable::PetitionKind => "信访事项类别",
            CodeTable::DisputeKind => "纠纷类型",
            CodeTable::MediationOutcome => "调解结果",
            CodeTable::LegalAidKind => "法律援助形式",
            CodeTable::LegalAidDecision => "法律援助审查决定",
        }
    }

    pub fn from_name(name: &str) -> Option<CodeTable> {
        CodeTable::ALL.into_iter().find(|t| t.name() == name)
    }

    fn sources(self) -> &'static [&'static str] {
        match self {
            CodeTable::Division => &[
                include_str!("../../data/divisions.tsv"),
                include_str!("../../data/divisions-retired.tsv"),
            ],
            CodeTable::Charge => &[include_str!("../../data/charges.tsv")],
            CodeTable::OrganKind => &[include_str!("../../data/organ-kinds.tsv")],
            CodeTable::EventKind => &[include_str!("../../data/event-kinds.tsv")],
            CodeTable::EvidenceKind => &[include_str!("../../data/evidence-kinds.tsv")],
            CodeTable::DocumentKind => &[include_str!("../../data/document-kinds.tsv")],
            CodeTable::PenaltyKind => &[include_str!("../../data/penalty-kinds.tsv")],
            CodeTable::Circumstance => &[include_str!("../../data/circumstances.tsv")],
            CodeTable::Sex => &[include_str!("../../data/sex.tsv")],
            CodeTable::Ethnicity => &[include_str!("../../data/ethnicities.tsv")],
            CodeTable::IdType => &[include_str!("../../data/id-types.tsv")],
            CodeTable::PersonRole => &[include_str!("../../data/person-roles.tsv")],
            CodeTable::CaseCategory => &[include_str!("../../data/case-categories.tsv")],
            CodeTable::CaseStage => &[include_str!("../../data/case-stages.tsv")],
            CodeTable::ExecutionKind => &[include_str!("../../data/execution-kinds.tsv")],
            CodeTable::PetitionStatus => &[include_str!("../../data/petition-statuses.tsv")],
            CodeTable::CorrectionKind => &[include_str!("../../data/correction-kinds.tsv")],
            CodeTable::CorrectionEventKind => {
                &[include_str!("../../data/correction-event-kinds.tsv")]
            }
            CodeTable::FenceRule => &[include_str!("../../data/fence-rules.tsv")],
            CodeTable::Employment => &[include_str!("../../data/employment.tsv")],
            CodeTable::PetitionChannel => &[include_str!("../../data/petition-channels.tsv")],
            CodeTable::PetitionKind => &[include_str!("../../data/petition-kinds.tsv")],
            CodeTable::DisputeKind => &[include_str!("../../data/dispute-kinds.tsv")],
            CodeTable::MediationOutcome => &[include_str!("../../data/mediation-outcomes.tsv")],
            CodeTable::LegalAidKind => &[include_str!("../../data/legal-aid-kinds.tsv")],
            CodeTable::LegalAidDecision => &[include_str!("../../data/legal-aid-decisions.tsv")],
        }
    }
}

/// One row of a code table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeEntry {
    pub code: String,
    /// The official Chinese name.
    pub name: String,
    /// Legal or standard basis, e.g. `刑法第264条` or `GB/T 2260`.
    pub basis: String,
    /// First day the code applies; `None` = since the table's origin.
    pub valid_from: Option<NaiveDate>,
    /// First day the code no longer applies; `None` = still in force.
    pub valid_until: Option<NaiveDate>,
    /// Code that took over when this one was retired (the crosswalk).
    pub replaced_by: Option<String>,
}

impl CodeEntry {
    /// Whether the code applies to an act dated `on`.
    pub fn valid_on(&self, on: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| on >= from)
            && self.valid_until.is_none_or(|until| on < until)
    }

    /// Whether the code is in force today (not retired).
    pub fn is_current(&self) -> bool {
        self.valid_until.is_none()
    }
}

/// A loaded code table: rows in file order, indexed by code and by name.
#[derive(Debug)]
pub struct CodeList {
    pub table: CodeTable,
    /// The `# source:` lines of the data files, verbatim.
    pub sources: Vec<String>,
    entries: Vec<CodeEntry>,
    by_code: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
}

impl CodeList {
    pub fn entries(&self) -> &[CodeEntry] {
        &self.entries
    }

    pub fn get(&self, code: &str) -> Option<&CodeEntry> {
        self.by_code.get(code).map(|&i| &self.entries[i])
    }

    pub fn contains(&self, code: &str) -> bool {
        self.by_code.contains_key(code)
    }

    /// Entries carrying this exact name (a name can recur: a retired and a current row, or
    /// two divisions both called 市辖区).
    pub fn by_name(&self, name: &str) -> impl Iterator<Item = &CodeEntry> {
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .map(|&i| &self.entries[i])
    }

    /// The current entry with this name, if exactly one is in force.
    pub fn current_by_name(&self, name: &str) -> Option<&CodeEntry> {
        let mut current = self.by_name(name).filter(|e| e.is_current());
        let first = current.next()?;
        current.next().is_none().then_some(first)
    }

    fn parse(table: CodeTable, texts: &[&str]) -> Result<CodeList, String> {
        let mut list = CodeList {
            table,
            sources: Vec::new(),
            entries: Vec::new(),
            by_code: HashMap::new(),
            by_name: HashMap::new(),
        };
        for text in texts {
            for (n, line) in text.lines().enumerate() {
                if let Some(comment) = line.strip_prefix('#') {
                    if let Some(src) = comment.trim().strip_prefix("source:") {
                        list.sources.push(src.trim().to_string());
                    }
                    continue;
                }
                if line.trim().is_empty() {
                    continue;
                }
                let entry = parse_entry(line)
                    .map_err(|e| format!("code table `{}` line {}: {e}", table.name(), n + 1))?;
                if list.by_code.contains_key(&entry.code) {
                    return Err(format!(
                        "code table `{}` line {}: duplicate code `{}`",
                        table.name(),
                        n + 1,
                        entry.code
                    ));
                }
                let i = list.entries.len();
                list.by_code.insert(entry.code.clone(), i);
                list.by_name.entry(entry.name.clone()).or_default().push(i);
                list.entries.push(entry);
            }
        }
        if list.sources.is_empty() {
            return Err(format!("code table `{}` names no source", table.name()));
        }
        Ok(list)
    }
}

fn parse_entry(line: &str) -> Result<CodeEntry, String> {
    let cols: Vec<&str> = line.split('\t').collect();
    if cols.len() != 6 {
        return Err(format!(
            "expected 6 tab-separated columns, found {}",
            cols.len()
        ));
    }
    let date = |s: &str| -> Result<Option<NaiveDate>, String> {
        if s.is_empty() {
            Ok(None)
        } else {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|e| format!("bad date `{s}`: {e}"))
        }
    };
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    if cols[0].is_empty() || cols[1].is_empty() {
        return Err("code and name must not be empty".into());
    }
    Ok(CodeEntry {
        code: cols[0].to_string(),
        name: cols[1].to_string(),
        basis: cols[2].to_string(),
        valid_from: date(cols[3])?,
        valid_until: date(cols[4])?,
        replaced_by: opt(cols[5]),
    })
}

/// The loaded table. Tables are parsed once, on first use; a malformed table is a build defect
/// caught by this crate's tests, so it panics with the file line.
pub fn table(table: CodeTable) -> &'static CodeList {
    static TABLES: OnceLock<Vec<CodeList>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        CodeTable::ALL
            .iter()
            .map(|&t| CodeList::parse(t, t.sources()).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    });
    &tables[CodeTable::ALL
        .iter()
        .position(|&t| t == table)
        .unwrap_or_default()]
}

/// GB/T 2260 helpers over the division table.
pub mod division {
    use super::{table, CodeEntry, CodeTable};

    /// The division entry for a 6-digit code, current or retired.
    pub fn get(code: &str) -> Option<&'static CodeEntry> {
        table(CodeTable::Division).get(code)
    }

    /// Province aggregate code (`XX0000`) of a 6-digit code.
    pub fn province_of(code: &str) -> Option<String> {
        (code.len() == 6 && code.is_ascii()).then(|| format!("{}0000", &code[..2]))
    }

    /// Prefecture aggregate code (`XXYY00`) of a 6-digit code.
    pub fn prefecture_of(code: &str) -> Option<String> {
        (code.len() == 6 && code.is_ascii()).then(|| format!("{}00", &code[..4]))
    }

    /// Whether the province part of the code names a known province.
    pub fn province_known(code: &str) -> bool {
        province_of(code).is_some_and(|p| get(&p).is_some())
    }

    /// County-level codes (not aggregates) under a prefecture or province aggregate code.
    pub fn counties_under(prefix_code: &str) -> Vec<&'static CodeEntry> {
        let prefix = prefix_code.trim_end_matches("00");
        table(CodeTable::Division)
            .entries()
            .iter()
            .filter(|e| e.code.starts_with(prefix) && !e.code.ends_with("00") && e.is_current())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_loads_and_names_its_source() {
        for t in CodeTable::ALL {
            let list = table(t);
            assert!(!list.entries().is_empty(), "table {} is empty", t.name());
            assert!(!list.sources.is_empty(), "table {} has no source", t.name());
        }
    }

    #[test]
    fn retired_division_is_valid_only_before_retirement() {
        let chongwen = division::get("110103").expect("崇文区 kept as a retired code");
        assert_eq!(chongwen.replaced_by.as_deref(), Some("110101"));
        assert!(chongwen.valid_on(NaiveDate::from_ymd_opt(1990, 5, 1).unwrap()));
        assert!(!chongwen.valid_on(NaiveDate::from_ymd_opt(2020, 5, 1).unwrap()));
        assert!(division::get("110101").unwrap().is_current());
    }

    #[test]
    fn counties_under_prefecture_excludes_aggregates() {
        let guiyang = division::counties_under("520100");
        assert!(guiyang.iter().any(|e| e.code == "520102"));
        assert!(guiyang
            .iter()
            .all(|e| e.code.starts_with("5201") && !e.code.ends_with("00")));
    }

    #[test]
    fn malformed_rows_are_rejected_with_line() {
        let err = CodeList::parse(CodeTable::Sex, &["# source: x\n1\t男\n"]).unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        let err = CodeList::parse(CodeTable::Sex, &["1\t男\t\t\t\t\n"]).unwrap_err();
        assert!(err.contains("no source"), "{err}");
        let err = CodeList::parse(
            CodeTable::Sex,
            &["# source: x\n1\ta\t\t\t\t\n1\tb\t\t\t\t\n"],
        )
        .unwrap_err();
        assert!(err.contains("duplicate"), "{err}");
    }
}
