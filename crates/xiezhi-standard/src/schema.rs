//! The entities of the unified data standard v1 and their fields.
//!
//! Each field has a type, a classification level and a Chinese data-element name. The schema is
//! data, not structs: ingest maps department columns onto these names, the store derives its
//! columns from them, and access will derive masking plans from the levels.

use serde::{Deserialize, Serialize};

use crate::codes::CodeTable;

/// Classification level of a field (数据分级). Maps onto GB/T 43697: L1–L2 一般, L3 重要
/// (personal information, criminal records), L4 核心-adjacent 重要 (ongoing investigation
/// measures, protected witnesses). A record may raise, never lower, a field's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    /// 公开: may be published.
    L1,
    /// 内部: inside the political-legal organs.
    L2,
    /// 敏感: personal information, criminal records.
    L3,
    /// 重要: ongoing investigation measures, protected witnesses.
    L4,
}

impl Level {
    pub fn name_zh(self) -> &'static str {
        match self {
            Level::L1 => "公开",
            Level::L2 => "内部",
            Level::L3 => "敏感",
            Level::L4 => "重要",
        }
    }
}

/// The type of a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldType {
    /// Free text, trimmed, never empty.
    Text,
    /// A calendar date.
    Date,
    /// A date and time (local time of the organ; the standard carries no zone).
    DateTime,
    /// A code from a code table.
    Code(CodeTable),
    /// Several codes from one code table, in source order without repeats.
    Codes(CodeTable),
    /// An amount of money in fen (分), so that sums are exact.
    Money,
    /// A whole number (months of a term, counts).
    Int,
    /// A 居民身份证 number, normalised to 18 characters (GB 11643).
    IdNumber,
    /// A telephone number (digits, optional leading +).
    Phone,
    /// A 统一社会信用代码 (GB 32100).
    CreditCode,
    /// A court case number (案号).
    CourtCaseNo,
    /// A procuratorate document number (检察文书文号).
    ProcuratorateDocNo,
    /// A SHA-256 content hash, 64 lowercase hex digits.
    Sha256,
    /// A WGS-84 longitude, read in decimal degrees and kept as whole micro-degrees (10⁻⁶°,
    /// about 0.1 m), so that values compare and hash exactly.
    Longitude,
    /// A WGS-84 latitude, kept as [`FieldType::Longitude`].
    Latitude,
    /// A closed polygon of at least three WGS-84 vertices, `lon,lat;lon,lat;…` in decimal
    /// degrees (see [`crate::validate::geo::Polygon`]).
    Polygon,
}

impl FieldType {
    /// Whether values of this type are whole numbers (an integer column in the store).
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            FieldType::Money | FieldType::Int | FieldType::Longitude | FieldType::Latitude
        )
    }
}

/// One field of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldDef {
    /// Machine name, unique within the entity (`id_number`).
    pub name: &'static str,
    /// The standard's data-element name (`证件号码`).
    pub name_zh: &'static str,
    pub ty: FieldType,
    pub level: Level,
    /// A date still to come when the record is exported (the end of a term being served), so
    /// it is not held to the export date.
    pub prospective: bool,
}

const fn f(name: &'static str, name_zh: &'static str, ty: FieldType, level: Level) -> FieldDef {
    FieldDef {
        name,
        name_zh,
        ty,
        level,
        prospective: false,
    }
}

/// A field naming a date still to come (see [`FieldDef::prospective`]).
const fn prospective(def: FieldDef) -> FieldDef {
    FieldDef {
        prospective: true,
        ..def
    }
}

/// The entities of the standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Organization,
    Person,
    Case,
    CasePerson,
    Event,
    Evidence,
    Document,
    Sentence,
    Execution,
    Petition,
    CorrectionSubject,
    CorrectionEvent,
    LocationFix,
    Fence,
    Mediation,
    LegalAid,
    SentencingProposal,
}

use CodeTable as T;
use FieldType::*;
use Level::*;

const ORGANIZATION: &[FieldDef] = &[
    f("org_code", "机构代码", Text, L1),
    f("name", "机构名称", Text, L1),
    f("kind", "机构类别", Code(T::OrganKind), L1),
    f("division", "所在行政区划", Code(T::Division), L1),
    f("parent_code", "上级机构代码", Text, L1),
    f("credit_code", "统一社会信用代码", CreditCode, L1),
    f("court_code", "法院代字", Text, L1),
];

const PERSON: &[FieldDef] = &[
    f("id_type", "证件类型", Code(T::IdType), L2),
    f("id_number", "证件号码", IdNumber, L3),
    f("name", "姓名", Text, L3),
    f("sex", "性别", Code(T::Sex), L3),
    f("birth_date", "出生日期", Date, L3),
    f("ethnicity", "民族", Code(T::Ethnicity), L3),
    f("household_division", "户籍地", Code(T::Division), L3),
    f("address", "住址", Text, L3),
    f("phone", "联系电话", Phone, L3),
];

const CASE: &[FieldDef] = &[
    f("police_case_no", "公安案件编号", Text, L2),
    f("procuratorate_case_no", "检察受案号", Text, L2),
    f("indictment_no", "起诉书文号", ProcuratorateDocNo, L2),
    f("court_case_no", "法院案号", CourtCaseNo, L2),
    f("category", "案件类别", Code(T::CaseCategory), L2),
    f("name", "案件名称", Text, L2),
    f("charges", "罪名", Codes(T::Charge), L2),
    f("occurred_at", "案发时间", DateTime, L2),
    f("occurred_division", "案发地", Code(T::Division), L2),
    f("summary", "简要案情", Text, L3),
    f("amount", "涉案金额", Money, L2),
    f("stage", "案件阶段", Code(T::CaseStage), L2),
    f("handling_org", "承办机构", Text, L2),
];

const CASE_PERSON: &[FieldDef] = &[
    f("role", "涉案人员角色", Code(T::PersonRole), L3),
    f("org_code", "登记机构", Text, L2),
];

const EVENT: &[FieldDef] = &[
    f("kind", "流程节点", Code(T::EventKind), L2),
    f("occurred_at", "发生时间", DateTime, L2),
    f("org_code", "办理机构", Text, L2),
    f("document_no", "文书文号", Text, L2),
    f("note", "备注", Text, L3),
];

const EVIDENCE: &[FieldDef] = &[
    f("kind", "证据种类", Code(T::EvidenceKind), L3),
    f("name", "证据名称", Text, L3),
    f("collected_by", "收集机构", Text, L3),
    f("collected_at", "收集时间", DateTime, L3),
    f("content_hash", "文件哈希", Sha256, L3),
];

const DOCUMENT: &[FieldDef] = &[
    f("kind", "文书种类", Code(T::DocumentKind), L2),
    f("document_no", "文书文号", Text, L2),
    f("issuer", "制作机构", Text, L2),
    f("issued_on", "制作日期", Date, L2),
    f("content_hash", "文件哈希", Sha256, L3),
];

const SENTENCE: &[FieldDef] = &[
    f("charges", "判决罪名", Codes(T::Charge), L3),
    f("principal_penalty", "主刑", Code(T::PenaltyKind), L3),
    f("term_months", "刑期（月）", Int, L3),
    f("probation_months", "缓刑考验期（月）", Int, L3),
    f("fine", "罚金", Money, L3),
    f("circumstances", "量刑情节", Codes(T::Circumstance), L3),
    f("judgment_date", "判决日期", Date, L3),
    f("court_code", "判决法院", Text, L2),
];

const EXECUTION: &[FieldDef] = &[
    f("kind", "执行方式", Code(T::ExecutionKind), L3),
    f("org_code", "执行机构", Text, L2),
    f("start_date", "执行起始日期", Date, L3),
    prospective(f("end_date", "执行届满日期", Date, L3)),
    f("reduced_months", "累计减刑（月）", Int, L3),
];

const PETITION: &[FieldDef] = &[
    f("petition_no", "信访件编号", Text, L2),
    f("received_on", "登记日期", Date, L2),
    f("content", "信访内容", Text, L3),
    f("status", "信访状态", Code(T::PetitionStatus), L2),
    f("org_code", "受理机构", Text, L2),
    // Fields below were added in standard v1.1 (justice administration and petitions).
    f("channel", "信访形式", Code(T::PetitionChannel), L2),
    f("kind", "信访事项类别", Code(T::PetitionKind), L2),
    f("division", "信访人所在地", Code(T::Division), L2),
    f("accepted_on", "受理日期", Date, L2),
    f("extended_days", "延长办理期限（日）", Int, L2),
    f("answered_on", "答复日期", Date, L2),
    f("review_requested_on", "请求复查日期", Date, L2),
    f("review_answered_on", "复查意见日期", Date, L2),
    f("recheck_requested_on", "请求复核日期", Date, L2),
    f("recheck_answered_on", "复核意见日期", Date, L2),
];

/// How many of [`PETITION`]'s fields the standard v1.0 had: the store's first migrations
/// created these, and a later one adds the rest.
pub const PETITION_V1_0_FIELDS: usize = 5;

const CORRECTION_SUBJECT: &[FieldDef] = &[
    f("kind", "矫正类别", Code(T::CorrectionKind), L3),
    f("decision_org", "社区矫正决定机关", Text, L2),
    f("executing_org", "执行地社区矫正机构", Text, L2),
    f("residence_division", "执行地", Code(T::Division), L3),
    f("effective_date", "判决裁定决定生效日期", Date, L3),
    f("reported_on", "报到日期", Date, L3),
    f("start_date", "矫正起始日期", Date, L3),
    prospective(f("end_date", "矫正期满日期", Date, L3)),
    f("prohibition", "禁止令内容", Text, L3),
    f("employment", "就业就学状况", Code(T::Employment), L3),
];

const CORRECTION_EVENT: &[FieldDef] = &[
    f("kind", "矫正事项", Code(T::CorrectionEventKind), L3),
    f("occurred_at", "发生时间", DateTime, L3),
    f("org_code", "办理机构", Text, L2),
    // The day an approved leave must end, or an electronic-monitoring period ends.
    prospective(f("until", "批准期限截止日期", Date, L3)),
    f("document_no", "文书文号", Text, L2),
    f("note", "备注", Text, L3),
];

// A subject's whereabouts are sensitive personal information (行踪轨迹, 个人信息保护法 第28条).
const LOCATION_FIX: &[FieldDef] = &[
    f("fixed_at", "定位时间", DateTime, L3),
    f("received_at", "接收时间", DateTime, L3),
    f("longitude", "经度", Longitude, L3),
    f("latitude", "纬度", Latitude, L3),
    f("device_no", "定位设备编号", Text, L3),
];

const FENCE: &[FieldDef] = &[
    f("rule", "围栏规则", Code(T::FenceRule), L3),
    f("name", "区域名称", Text, L3),
    f("polygon", "区域边界", Polygon, L3),
    f("valid_from", "生效日期", Date, L3),
    prospective(f("valid_until", "失效日期", Date, L3)),
    f("document_no", "禁止令文书号", Text, L2),
];

const MEDIATION: &[FieldDef] = &[
    f("mediation_no", "调解案件编号", Text, L2),
    f("committee", "人民调解委员会", Text, L2),
    f("division", "纠纷发生地", Code(T::Division), L2),
    f("dispute_kind", "纠纷类型", Code(T::DisputeKind), L2),
    f("parties", "当事人数", Int, L2),
    f("received_on", "受理日期", Date, L2),
    f("closed_on", "结案日期", Date, L2),
    f("outcome", "调解结果", Code(T::MediationOutcome), L2),
    f("confirmed_on", "司法确认日期", Date, L2),
    f("summary", "纠纷简况", Text, L3),
];

const LEGAL_AID: &[FieldDef] = &[
    f("aid_no", "法律援助案件编号", Text, L2),
    f("kind", "援助形式", Code(T::LegalAidKind), L2),
    f("org_code", "法律援助机构", Text, L2),
    f("applied_on", "申请或通知日期", Date, L2),
    f("decided_on", "决定日期", Date, L2),
    f("decision", "审查决定", Code(T::LegalAidDecision), L2),
    f("lawyer", "指派律师", Text, L3),
];

// 量刑建议 (刑事诉讼法 第176条第2款): the procuratorate's sentencing proposal for a defendant who
// pleaded guilty and accepted punishment (认罪认罚), which the court generally adopts (第201条).
// `probation` is 1 when the proposal asks for a suspended sentence, 0 when it asks for none.
const SENTENCING_PROPOSAL: &[FieldDef] = &[
    f("proposed_on", "提出日期", Date, L2),
    f("org_code", "建议机关", Text, L2),
    f("document_no", "量刑建议书文号", Text, L2),
    f("plea_signed_on", "认罪认罚具结日期", Date, L3),
    f("principal_penalty", "建议主刑", Code(T::PenaltyKind), L3),
    f("term_min_months", "建议刑期下限（月）", Int, L3),
    f("term_max_months", "建议刑期上限（月）", Int, L3),
    f("probation", "建议适用缓刑", Int, L3),
    f("fine", "建议罚金", Money, L3),
];

impl Entity {
    pub const ALL: [Entity; 17] = [
        Entity::Organization,
        Entity::Person,
        Entity::Case,
        Entity::CasePerson,
        Entity::Event,
        Entity::Evidence,
        Entity::Document,
        Entity::Sentence,
        Entity::Execution,
        Entity::Petition,
        Entity::CorrectionSubject,
        Entity::CorrectionEvent,
        Entity::LocationFix,
        Entity::Fence,
        Entity::Mediation,
        Entity::LegalAid,
        Entity::SentencingProposal,
    ];

    /// The entities of standard v1.0, which the store's first migrations created: the first
    /// ten of [`Entity::ALL`] (v1.1 appended the justice-administration entities, and fields
    /// of [`Entity::Petition`]).
    pub const V1_0: &'static [Entity] = Entity::ALL.as_slice().split_at(10).0;

    /// The entities of standard v1.1, which the store's sixth migration completed: the first
    /// sixteen of [`Entity::ALL`] (v1.2 appended the sentencing proposal).
    pub const V1_1: &'static [Entity] = Entity::ALL.as_slice().split_at(16).0;

    /// The fields this entity had in standard v1.0 (none for an entity added later).
    pub fn fields_v1_0(self) -> &'static [FieldDef] {
        match self {
            Entity::Petition => &PETITION[..PETITION_V1_0_FIELDS],
            e if Entity::V1_0.contains(&e) => e.fields(),
            _ => &[],
        }
    }

    /// Machine name, also the store's table name.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Organization => "organization",
            Entity::Person => "person",
            Entity::Case => "case",
            Entity::CasePerson => "case_person",
            Entity::Event => "event",
            Entity::Evidence => "evidence",
            Entity::Document => "document",
            Entity::Sentence => "sentence",
            Entity::Execution => "execution",
            Entity::Petition => "petition",
            Entity::CorrectionSubject => "correction_subject",
            Entity::CorrectionEvent => "correction_event",
            Entity::LocationFix => "location_fix",
            Entity::Fence => "fence",
            Entity::Mediation => "mediation",
            Entity::LegalAid => "legal_aid",
            Entity::SentencingProposal => "sentencing_proposal",
        }
    }

    /// The standard's Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Entity::Organization => "机构",
            Entity::Person => "人员",
            Entity::Case => "案件",
            Entity::CasePerson => "涉案人员",
            Entity::Event => "流程节点",
            Entity::Evidence => "证据",
            Entity::Document => "文书",
            Entity::Sentence => "判决结果",
            Entity::Execution => "刑罚执行",
            Entity::Petition => "涉法涉诉信访",
            Entity::CorrectionSubject => "社区矫正对象",
            Entity::CorrectionEvent => "社区矫正事项",
            Entity::LocationFix => "定位信息",
            Entity::Fence => "电子围栏",
            Entity::Mediation => "人民调解案件",
            Entity::LegalAid => "法律援助事项",
            Entity::SentencingProposal => "量刑建议",
        }
    }

    pub fn from_name(name: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.name() == name)
    }

    pub fn fields(self) -> &'static [FieldDef] {
        match self {
            Entity::Organization => ORGANIZATION,
            Entity::Person => PERSON,
            Entity::Case => CASE,
            Entity::CasePerson => CASE_PERSON,
            Entity::Event => EVENT,
            Entity::Evidence => EVIDENCE,
            Entity::Document => DOCUMENT,
            Entity::Sentence => SENTENCE,
            Entity::Execution => EXECUTION,
            Entity::Petition => PETITION,
            Entity::CorrectionSubject => CORRECTION_SUBJECT,
            Entity::CorrectionEvent => CORRECTION_EVENT,
            Entity::LocationFix => LOCATION_FIX,
            Entity::Fence => FENCE,
            Entity::Mediation => MEDIATION,
            Entity::LegalAid => LEGAL_AID,
            Entity::SentencingProposal => SENTENCING_PROPOSAL,
        }
    }

    pub fn field(self, name: &str) -> Option<&'static FieldDef> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// Whether a record of this entity hangs off the row's case and person (a link record)
    /// rather than standing alone.
    pub fn is_dependent(self) -> bool {
        !matches!(self, Entity::Organization | Entity::Person | Entity::Case)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_unique_and_snake_case() {
        for e in Entity::ALL {
            let mut names: Vec<_> = e.fields().iter().map(|f| f.name).collect();
            names.sort();
            let n = names.len();
            names.dedup();
            assert_eq!(n, names.len(), "duplicate field in {}", e.name());
            for name in names {
                assert!(
                    name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn personal_information_is_at_least_sensitive() {
        for name in ["id_number", "name", "birth_date", "address", "phone"] {
            assert!(
                Entity::Person.field(name).unwrap().level >= Level::L3,
                "{name}"
            );
        }
        assert!(Entity::Case.field("summary").unwrap().level >= Level::L3);
    }
}
