//! 文书齐备: a procedural act leaves its document in the file — a 拘留证 for a 拘留 (刑事诉讼法
//! 第85条), a 批准逮捕决定书 for an approval (第90条), an 起诉书 for a prosecution (第186条), a
//! 判决书 for a verdict (第202条). The requirements are data, `data/required-documents.tsv`
//! (charge or `*`, trigger event, required document kind, legal basis quoted verbatim); each
//! finding carries its row's basis.
//!
//! Data-presence gate: a requirement is judged only when the trigger event names its document
//! number (`document_no` on the event row). An organ whose export records the number of the act's
//! document exports that document, so a missing row is a gap in the file; an export that
//! records no document numbers for an act (the synthetic province's 批准逮捕, say) is silent,
//! rather than firing on every case. The requirement is met by a document of the kind with the
//! cited number, or with no number; one of the kind under another number is reported as a
//! mismatch. One finding per requirement and case, on its first unmet trigger.
//! [`required_evidence`](super::required_evidence) reads the evidence rows of the same file.

use std::sync::OnceLock;

use chrono::NaiveDate;
use xiezhi_standard::codes::{table, CodeTable};

use super::{code_zh, fact, item, kind_zh, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-required-document",
    title_zh: "诉讼行为缺少法律文书",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 162,
        paragraph: Some(1),
        quote: "公安机关侦查终结的案件，应当做到犯罪事实清楚，证据确实、充分，并且写出起诉意见书，连同案卷材料、证据一并移送同级人民检察院审查决定",
    },
    severity: Severity::Yellow,
};

/// The shipped requirements.
pub const SHIPPED_REQUIREMENTS: &str = include_str!("../../data/required-documents.tsv");

/// What a requirement asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// A document of a kind (`document-kinds.tsv`).
    Document(&'static str),
    /// An evidence item of one of the kinds whose name contains one of the words (any name
    /// when there are no words).
    Evidence {
        kinds: Vec<&'static str>,
        words: Vec<&'static str>,
    },
}

/// One row of the requirements file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// A charge code, or `*`.
    pub charge: &'static str,
    /// The event kind that needs it.
    pub trigger: &'static str,
    pub need: Need,
    pub basis: Basis,
}

impl Requirement {
    /// Whether the row applies to a case of these charges.
    pub fn applies(&self, facts: &CaseFacts) -> bool {
        self.charge == "*"
            || facts.charges.iter().any(|c| c == self.charge)
            || facts
                .sentences
                .iter()
                .any(|s| s.charges.iter().any(|c| c == self.charge))
    }
}

/// An error in a requirements file: the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("required-documents line {line}: {message}")]
pub struct RequirementError {
    pub line: usize,
    pub message: String,
}

/// Parses the requirement rows. Codes are checked against the standard's tables, and every row
/// must carry an article and a quote.
pub fn parse_requirements(text: &'static str) -> Result<Vec<Requirement>, RequirementError> {
    let mut rows = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let row = raw.trim_end_matches('\r');
        if row.trim().is_empty() || row.starts_with('#') || row.starts_with("charge\t") {
            continue;
        }
        let err = |message: String| RequirementError { line, message };
        let cols: Vec<&'static str> = row.split('\t').map(str::trim).collect();
        let [charge, trigger, requires, law, version, article, paragraph, quote] = cols[..] else {
            return Err(err(format!("expected 8 columns, got {}", cols.len())));
        };
        let known = |t: CodeTable, code: &str| table(t).get(code).is_some();
        if charge != "*" && !known(CodeTable::Charge, charge) {
            return Err(err(format!("unknown charge `{charge}`")));
        }
        if !known(CodeTable::EventKind, trigger) {
            return Err(err(format!("unknown event kind `{trigger}`")));
        }
        let need = match requires.split_once(':') {
            Some(("document", kind)) if known(CodeTable::DocumentKind, kind) => {
                Need::Document(kind)
            }
            Some(("evidence", rest)) => {
                let (kinds, words) = rest.split_once(':').unwrap_or((rest, ""));
                let kinds: Vec<&'static str> = kinds.split('|').collect();
                if let Some(bad) = kinds.iter().find(|k| !known(CodeTable::EvidenceKind, k)) {
                    return Err(err(format!("unknown evidence kind `{bad}`")));
                }
                let words = words.split('|').filter(|w| !w.is_empty()).collect();
                Need::Evidence { kinds, words }
            }
            _ => return Err(err(format!("bad requirement `{requires}`"))),
        };
        let article: u32 = article
            .parse()
            .ok()
            .filter(|a| *a > 0)
            .ok_or_else(|| err(format!("bad article `{article}`")))?;
        let paragraph = match paragraph {
            "" => None,
            p => Some(p.parse().map_err(|_| err(format!("bad paragraph `{p}`")))?),
        };
        if law.is_empty() || version.is_empty() || quote.is_empty() {
            return Err(err("law, version and quote are required".to_string()));
        }
        rows.push(Requirement {
            charge,
            trigger,
            need,
            basis: Basis {
                law,
                version,
                article,
                paragraph,
                quote,
            },
        });
    }
    Ok(rows)
}

pub(crate) fn shipped() -> &'static [Requirement] {
    static ROWS: OnceLock<Vec<Requirement>> = OnceLock::new();
    ROWS.get_or_init(|| {
        parse_requirements(SHIPPED_REQUIREMENTS)
            .expect("data/required-documents.tsv parses (unit-tested)")
    })
}

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    check_with(shipped(), facts)
}

pub(crate) fn check_with(rows: &[Requirement], facts: &CaseFacts) -> Vec<RiskItem> {
    let mut items = Vec::new();
    for r in rows.iter().filter(|r| r.applies(facts)) {
        let Need::Document(kind) = r.need else {
            continue;
        };
        let of_kind: Vec<_> = facts.documents.iter().filter(|d| d.kind == kind).collect();
        let unmet = facts
            .cited_documents
            .iter()
            .filter(|c| c.event_kind == r.trigger)
            .find(|c| {
                !of_kind.iter().any(|d| {
                    d.document_no.is_none() || d.document_no.as_deref() == Some(&c.document_no)
                })
            });
        let Some(cited) = unmet else {
            continue;
        };
        let event = facts
            .events
            .iter()
            .find(|e| e.kind == r.trigger && e.on == cited.on);
        let org = event.map(|e| e.org_code.as_str()).unwrap_or_default();
        let doc_zh = code_zh(CodeTable::DocumentKind, kind);
        let found = if of_kind.is_empty() {
            format!("案件中无{doc_zh}。")
        } else {
            let nos: Vec<&str> = of_kind
                .iter()
                .filter_map(|d| d.document_no.as_deref())
                .collect();
            format!("案件中的{doc_zh}文号为{}，与之不符。", nos.join("、"))
        };
        let mut facts_used = match event {
            Some(e) => vec![fact(e)],
            None => vec![format!("{} {}", r.trigger, cited.on)],
        };
        facts_used[0] += &format!(" {}", cited.document_no);
        items.push(item(
            &RULE,
            facts,
            cited.on,
            format!(
                "{}于{}（{}），文号{}；依{}（“{}”），应有{}，{}",
                kind_zh(r.trigger),
                cited.on,
                org,
                cited.document_no,
                r.basis.cite(),
                r.basis.quote,
                doc_zh,
                found
            ),
            facts_used,
        ));
        // The row's own basis is the one the finding rests on.
        if let Some(last) = items.last_mut() {
            last.basis = r.basis;
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::{CaseDocument, CitedDocument, WeekendsOnly};

    fn prosecuted(cited: Option<&str>, stored: Option<Option<&str>>) -> CaseFacts {
        let mut f = CaseFacts::new("C1").with("prosecuted", d(2024, 5, 9), "JC1");
        if let Some(no) = cited {
            f.cited_documents.push(CitedDocument {
                event_kind: "prosecuted".into(),
                on: d(2024, 5, 9),
                document_no: no.into(),
            });
        }
        if let Some(no) = stored {
            f.documents.push(CaseDocument {
                kind: "indictment".into(),
                document_no: no.map(str::to_string),
                issued_on: Some(d(2024, 5, 9)),
            });
        }
        f
    }

    #[test]
    fn shipped_rows_parse() {
        let rows = parse_requirements(SHIPPED_REQUIREMENTS).unwrap();
        assert!(
            rows.iter()
                .any(|r| r.trigger == "arrest_approved"
                    && r.need == Need::Document("arrest_approval"))
        );
        assert!(rows.iter().any(|r| r.trigger == "prosecuted"));
    }

    #[test]
    fn a_cited_indictment_must_be_in_the_file() {
        let as_of = d(2024, 6, 1);
        let no = "某检刑诉〔2024〕1号";
        let items = check(&prosecuted(Some(no), None), as_of, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].basis.article, 186);
        assert!(items[0].explanation_zh.contains("案件中无起诉书"));
        assert!(items[0].explanation_zh.contains(no));
        assert!(check(&prosecuted(Some(no), Some(Some(no))), as_of, &WeekendsOnly).is_empty());
        assert!(check(&prosecuted(Some(no), Some(None)), as_of, &WeekendsOnly).is_empty());
        let other = check(
            &prosecuted(Some(no), Some(Some("别号"))),
            as_of,
            &WeekendsOnly,
        );
        assert!(other[0].explanation_zh.contains("与之不符"));
    }

    #[test]
    fn an_act_that_names_no_document_is_not_judged() {
        assert!(check(&prosecuted(None, None), d(2024, 6, 1), &WeekendsOnly).is_empty());
    }

    #[test]
    fn bad_rows_are_refused_with_their_line() {
        let bad = |t: &'static str| parse_requirements(t).unwrap_err();
        assert_eq!(
            bad("*\tprosecuted\tdocument:nope\t刑事诉讼法\t2018\t186\t\tq\n").line,
            1
        );
        assert!(
            bad("*\tnope\tdocument:indictment\t刑事诉讼法\t2018\t186\t\tq\n")
                .message
                .contains("event kind")
        );
        assert!(
            bad("*\tprosecuted\tdocument:indictment\t刑事诉讼法\t2018\t0\t\tq\n")
                .message
                .contains("article")
        );
        assert!(
            bad("*\tprosecuted\tdocument:indictment\t刑事诉讼法\t2018\t186\t\t\n")
                .message
                .contains("quote")
        );
        assert!(bad("C264.1\tprosecuted\tevidence:nope\tx\t1\t1\t\tq\n")
            .message
            .contains("evidence kind"));
    }
}
