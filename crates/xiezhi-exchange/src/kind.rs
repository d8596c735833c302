//! The transfer kinds of the criminal procedure: who may send them to whom, the documents they
//! must carry, the answers the receiver may give, the fields that travel, and the statutory
//! period within which the receiver must answer.
//!
//! Every period and limit quotes its article from `shared/reference/laws/`; a test checks each
//! quote against the statute text.

use serde::{Deserialize, Serialize};

/// Organ kinds that exchange transfers (codes of `organ-kinds.tsv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganKind {
    Police,
    Procuratorate,
    Court,
    JusticeBureau,
    Prison,
    DetentionCenter,
    CommunityCorrections,
}

impl OrganKind {
    pub const ALL: [OrganKind; 7] = [
        OrganKind::Police,
        OrganKind::Procuratorate,
        OrganKind::Court,
        OrganKind::JusticeBureau,
        OrganKind::Prison,
        OrganKind::DetentionCenter,
        OrganKind::CommunityCorrections,
    ];

    /// The code in the standard's organ-kind table.
    pub fn code(self) -> &'static str {
        match self {
            OrganKind::Police => "police",
            OrganKind::Procuratorate => "procuratorate",
            OrganKind::Court => "court",
            OrganKind::JusticeBureau => "justice_bureau",
            OrganKind::Prison => "prison",
            OrganKind::DetentionCenter => "detention_center",
            OrganKind::CommunityCorrections => "community_corrections",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            OrganKind::Police => "公安机关",
            OrganKind::Procuratorate => "人民检察院",
            OrganKind::Court => "人民法院",
            OrganKind::JusticeBureau => "司法行政机关",
            OrganKind::Prison => "监狱",
            OrganKind::DetentionCenter => "看守所",
            OrganKind::CommunityCorrections => "社区矫正机构",
        }
    }

    pub fn from_code(code: &str) -> Option<OrganKind> {
        OrganKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// A legal basis: the law, the article and the sentence relied on, verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Basis {
    /// File name under `shared/reference/laws/`, without `.md`.
    pub law: &'static str,
    pub article: &'static str,
    pub quote: &'static str,
}

/// A statutory answer period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Period {
    Days(u32),
    Months(u32),
}

impl Period {
    pub fn zh(self) -> String {
        match self {
            Period::Days(n) => format!("{n}日"),
            Period::Months(n) => format!("{n}个月"),
        }
    }
}

/// One answer a transfer may carry (a decision) with the document it needs and the
/// procedural event it records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub code: &'static str,
    pub name_zh: &'static str,
    /// Document kind (`document-kinds.tsv`) that must travel with this decision.
    pub document: &'static str,
    /// Event kind (`event-kinds.tsv`) recorded when the transfer is accepted.
    pub event: &'static str,
}

/// The kinds of transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    /// 提请批准逮捕
    ArrestRequest,
    /// 批准/不批准逮捕
    ArrestDecision,
    /// 移送审查起诉
    ProsecutionTransfer,
    /// 退回补充侦查
    SupplementaryInvestigation,
    /// 提起公诉
    PublicProsecution,
    /// 判决/执行通知
    ExecutionNotice,
    /// 社区矫正衔接
    CorrectionHandover,
    /// 减刑假释建议
    CommutationParole,
    /// 换押
    CustodyTransfer,
}

/// Everything the procedure says about one kind of transfer.
#[derive(Debug, Clone, Copy)]
pub struct KindSpec {
    pub kind: TransferKind,
    pub name_zh: &'static str,
    /// Allowed (sender kind, receiver kind) pairs.
    pub routes: &'static [(OrganKind, OrganKind)],
    /// Document kinds that must all travel.
    pub required_documents: &'static [&'static str],
    /// The decisions the transfer may carry; when not empty, exactly one is required.
    pub decisions: &'static [Decision],
    /// Case fields that may travel (data minimisation): anything else stays behind policy.
    pub case_fields: &'static [&'static str],
    /// The receiver's answer period, where the law sets one.
    pub period: Option<(Period, Basis)>,
    /// Transfers that answer this one (sent back with `answer_to`); when empty, accepting or
    /// rejecting it is the answer.
    pub answered_by: &'static [TransferKind],
    /// Event recorded for the sender's act when the transfer is accepted.
    pub sender_event: Option<&'static str>,
    /// Event recorded for the receiver's act when it accepts.
    pub receiver_event: Option<&'static str>,
    /// Case field that receives the receiver's own case number on acceptance.
    pub receiver_number: Option<&'static str>,
    /// At most this many transfers of the kind per case.
    pub max_per_case: Option<(u32, Basis)>,
}

use OrganKind::*;

const CPL: &str = "刑事诉讼法";

const CPL_91: Basis = Basis {
    law: CPL,
    article: "第九十一条第三款",
    quote:
        "人民检察院应当自接到公安机关提请批准逮捕书后的七日以内，作出批准逮捕或者不批准逮捕的决定。",
};
const CPL_172: Basis = Basis {
    law: CPL,
    article: "第一百七十二条第一款",
    quote: "人民检察院对于监察机关、公安机关移送起诉的案件，应当在一个月以内作出决定",
};
const CPL_175: Basis = Basis {
    law: CPL,
    article: "第一百七十五条第三款",
    quote: "对于补充侦查的案件，应当在一个月以内补充侦查完毕。补充侦查以二次为限。",
};
const JXCX_1: Basis = Basis {
    law: "减刑假释审理程序规定-2014",
    article: "第一条第（三）项",
    quote: "由罪犯服刑地的中级人民法院在收到执行机关提出的减刑、假释建议书后一个月内作出裁定",
};

static KINDS: &[KindSpec] = &[
    KindSpec {
        kind: TransferKind::ArrestRequest,
        name_zh: "提请批准逮捕",
        routes: &[(Police, Procuratorate)],
        required_documents: &["arrest_request"],
        decisions: &[],
        case_fields: &[
            "police_case_no",
            "name",
            "category",
            "charges",
            "occurred_at",
            "occurred_division",
            "summary",
            "amount",
        ],
        period: Some((Period::Days(7), CPL_91)),
        answered_by: &[TransferKind::ArrestDecision],
        sender_event: Some("arrest_requested"),
        receiver_event: None,
        receiver_number: Some("procuratorate_case_no"),
        max_per_case: None,
    },
    KindSpec {
        kind: TransferKind::ArrestDecision,
        name_zh: "批准/不批准逮捕",
        routes: &[(Procuratorate, Police)],
        required_documents: &[],
        decisions: &[
            Decision {
                code: "approve",
                name_zh: "批准逮捕",
                document: "arrest_approval",
                event: "arrest_approved",
            },
            Decision {
                code: "deny",
                name_zh: "不批准逮捕",
                document: "arrest_denial",
                event: "arrest_denied",
            },
        ],
        case_fields: &["procuratorate_case_no"],
        period: None,
        answered_by: &[],
        sender_event: None,
        receiver_event: None,
        receiver_number: None,
        max_per_case: None,
    },
    KindSpec {
        kind: TransferKind::ProsecutionTransfer,
        name_zh: "移送审查起诉",
        routes: &[(Police, Procuratorate)],
        required_documents: &["prosecution_opinion"],
        decisions: &[],
        case_fields: &[
            "police_case_no",
            "name",
            "category",
            "charges",
            "occurred_at",
            "occurred_division",
            "summary",
            "amount",
        ],
        period: Some((Period::Months(1), CPL_172)),
        answered_by: &[
            TransferKind::SupplementaryInvestigation,
            TransferKind::PublicProsecution,
        ],
        sender_event: Some("transferred_for_prosecution"),
        receiver_event: None,
        receiver_number: Some("procuratorate_case_no"),
        max_per_case: None,
    },
    KindSpec {
        kind: TransferKind::SupplementaryInvestigation,
        name_zh: "退回补充侦查",
        routes: &[(Procuratorate, Police)],
        required_documents: &["supplementary_investigation"],
        decisions: &[],
        case_fields: &["procuratorate_case_no"],
        period: Some((Period::Months(1), CPL_175)),
        answered_by: &[TransferKind::ProsecutionTransfer],
        sender_event: Some("returned_for_investigation"),
        receiver_event: None,
        receiver_number: None,
        max_per_case: Some((2, CPL_175)),
    },
    KindSpec {
        kind: TransferKind::PublicProsecution,
        name_zh: "提起公诉",
        routes: &[(Procuratorate, Court)],
        required_documents: &["indictment"],
        decisions: &[],
        case_fields: &[
            "procuratorate_case_no",
            "indictment_no",
            "name",
            "category",
            "charges",
            "occurred_at",
            "occurred_division",
            "summary",
            "amount",
        ],
        period: None,
        answered_by: &[],
        sender_event: Some("prosecuted"),
        receiver_event: Some("court_accepted"),
        receiver_number: Some("court_case_no"),
        max_per_case: None,
    },
    KindSpec {
        kind: TransferKind::ExecutionNotice,
        name_zh: "判决/执行通知",
        routes: &[
            (Court, Prison),
            (Court, DetentionCenter),
            (Court, CommunityCorrections),
            (Court, Police),
        ],
        // 监狱法第16条: the prison admits only with the indictment copy, the judgment and the
        // execution notice.
        required_documents: &["indictment", "judgment", "execution_notice"],
        decisions: &[],
        case_fields: &["court_case_no", "name", "charges"],
        period: None,
        answered_by: &[],
        sender_event: Some("delivered_for_execution"),
        receiver_event: Some("prison_admission"),
        receiver_number: None,
        max_per_case: None,
    },
    KindSpec {
        kind: TransferKind::CorrectionHandover,
        name_zh: "社区矫正衔接",
        routes: &[
            (Court, CommunityCorrections),
            (Prison, CommunityCorrections),
            (DetentionCenter, CommunityCorrections),
            (Police, CommunityCorrections),
        ],
        required_documents: &["judgment", "execution_notice"],
        decisions: &[],
        case_fields: &["court_case_no", "name", "charges"],
        period: None,
        answered_by: &[],
        sender_event: Some("delivered_for_execution"),
        receiver_event: None,
        receiver_number: None,
        max_per_case: None,
    },
    KindSpec {
        kind: TransferKind::CommutationParole,
        name_zh: "减刑假释建议",
        routes: &[
            (Prison, Court),
            (Prison, Procuratorate),
            (CommunityCorrections, Court),
            (CommunityCorrections, Procuratorate),
        ],
        required_documents: &[],
        decisions: &[
            Decision {
                code: "commutation",
                name_zh: "减刑建议",
                document: "commutation_proposal",
                event: "commutation_proposed",
            },
            Decision {
                code: "parole",
                name_zh: "假释建议",
                document: "parole_proposal",
                event: "parole_proposed",
            },
        ],
        case_fields: &["court_case_no", "name", "charges"],
        period: Some((Period::Months(1), JXCX_1)),
        answered_by: &[],
        sender_event: None,
        receiver_event: None,
        receiver_number: None,
        max_per_case: None,
    },
    KindSpec {
        kind: TransferKind::CustodyTransfer,
        name_zh: "换押",
        routes: &[
            (Police, DetentionCenter),
            (Procuratorate, DetentionCenter),
            (Court, DetentionCenter),
        ],
        // The 换押证 is not yet a document kind of the standard; the case numbers travel.
        required_documents: &[],
        decisions: &[],
        case_fields: &[
            "police_case_no",
            "procuratorate_case_no",
            "court_case_no",
            "stage",
        ],
        period: None,
        answered_by: &[],
        sender_event: None,
        receiver_event: None,
        receiver_number: None,
        max_per_case: None,
    },
];

impl TransferKind {
    pub const ALL: [TransferKind; 9] = [
        TransferKind::ArrestRequest,
        TransferKind::ArrestDecision,
        TransferKind::ProsecutionTransfer,
        TransferKind::SupplementaryInvestigation,
        TransferKind::PublicProsecution,
        TransferKind::ExecutionNotice,
        TransferKind::CorrectionHandover,
        TransferKind::CommutationParole,
        TransferKind::CustodyTransfer,
    ];

    pub fn spec(self) -> &'static KindSpec {
        // KINDS lists every variant in declaration order (checked by a test).
        &KINDS[self as usize]
    }

    pub fn code(self) -> &'static str {
        match self {
            TransferKind::ArrestRequest => "arrest_request",
            TransferKind::ArrestDecision => "arrest_decision",
            TransferKind::ProsecutionTransfer => "prosecution_transfer",
            TransferKind::SupplementaryInvestigation => "supplementary_investigation",
            TransferKind::PublicProsecution => "public_prosecution",
            TransferKind::ExecutionNotice => "execution_notice",
            TransferKind::CorrectionHandover => "correction_handover",
            TransferKind::CommutationParole => "commutation_parole",
            TransferKind::CustodyTransfer => "custody_transfer",
        }
    }

    pub fn name_zh(self) -> &'static str {
        self.spec().name_zh
    }

    /// By code (`arrest_request`) or Chinese name (`提请批准逮捕`).
    pub fn parse(text: &str) -> Option<TransferKind> {
        TransferKind::ALL
            .into_iter()
            .find(|k| k.code() == text || k.name_zh() == text)
    }

    pub fn allows(self, from: OrganKind, to: OrganKind) -> bool {
        self.spec().routes.contains(&(from, to))
    }
}

/// Chinese name of a document kind, for messages.
pub fn document_name(code: &str) -> String {
    xiezhi_standard::codes::table(xiezhi_standard::codes::CodeTable::DocumentKind)
        .get(code)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use xiezhi_standard::codes::{table, CodeTable};

    fn lookup(t: CodeTable, code: &str) -> Option<&'static xiezhi_standard::codes::CodeEntry> {
        table(t).get(code)
    }
    use xiezhi_standard::Entity;

    #[test]
    fn table_lists_every_kind_in_order() {
        assert_eq!(KINDS.len(), TransferKind::ALL.len());
        for (i, k) in TransferKind::ALL.into_iter().enumerate() {
            assert_eq!(KINDS[i].kind, k);
            assert_eq!(TransferKind::parse(k.code()), Some(k));
            assert_eq!(TransferKind::parse(k.name_zh()), Some(k));
        }
    }

    #[test]
    fn every_code_named_exists_in_the_standard() {
        for spec in KINDS {
            for d in spec.required_documents {
                assert!(lookup(CodeTable::DocumentKind, d).is_some(), "{d}");
            }
            for d in spec.decisions {
                assert!(lookup(CodeTable::DocumentKind, d.document).is_some());
                assert!(lookup(CodeTable::EventKind, d.event).is_some());
            }
            for e in [spec.sender_event, spec.receiver_event]
                .into_iter()
                .flatten()
            {
                assert!(lookup(CodeTable::EventKind, e).is_some(), "{e}");
            }
            for f in spec.case_fields.iter().chain(spec.receiver_number.iter()) {
                assert!(Entity::Case.field(f).is_some(), "{f}");
            }
            for (from, to) in spec.routes {
                assert!(lookup(CodeTable::OrganKind, from.code()).is_some());
                assert!(lookup(CodeTable::OrganKind, to.code()).is_some());
            }
        }
    }

    #[test]
    fn every_quote_is_in_the_statute_text() {
        let laws =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/laws");
        if !laws.exists() {
            return; // the reference texts live beside the repository, not in it
        }
        for spec in KINDS {
            let bases = spec
                .period
                .iter()
                .map(|(_, b)| b)
                .chain(spec.max_per_case.iter().map(|(_, b)| b));
            for b in bases {
                let text = std::fs::read_to_string(laws.join(format!("{}.md", b.law)))
                    .expect("statute text");
                let flat: String = text.split_whitespace().collect();
                let quote: String = b.quote.split_whitespace().collect();
                assert!(flat.contains(&quote), "{}: {}", b.law, b.quote);
            }
        }
    }
}
