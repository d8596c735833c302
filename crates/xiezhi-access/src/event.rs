//! Events for the ledger. Every access decision and every step of a data request returns one;
//! the caller appends it (invariant 2 of the design: every decision, permit or deny, is logged).

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// Something the ledger must record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AccessEvent {
    /// One access decision (one field of one case).
    Decision {
        at: NaiveDateTime,
        /// Principal id and its Cedar type (`User`, `DepartmentSystem`).
        principal: String,
        principal_type: String,
        org_code: String,
        /// `case_uid/entity.field`.
        resource: String,
        action: String,
        permit: bool,
        /// Ids of the determining policies (permits for a permit, forbids for a deny; empty
        /// for a default deny).
        policies: Vec<String>,
        /// Decided by the compiled path rather than by Cedar directly.
        compiled: bool,
    },
    /// A case read across departments: every field decision of the read in one entry, grouped
    /// by outcome, masking and determining policies (one entry per read, not per field).
    CaseRead {
        at: NaiveDateTime,
        principal: String,
        principal_type: String,
        org_code: String,
        case_uid: String,
        action: String,
        decisions: Vec<FieldOutcome>,
        /// Decided by the compiled path rather than by Cedar directly.
        compiled: bool,
    },
    /// A listing decided row by row on the compiled path: one event per listing, not per row.
    Listing {
        at: NaiveDateTime,
        principal: String,
        org_code: String,
        entity: String,
        action: String,
        rows_considered: u64,
        rows_returned: u64,
        /// Every policy that determined at least one returned or withheld cell.
        policies: Vec<String>,
    },
    /// An aggregate read: the columns of every case streamed into a statistic, no record
    /// returned. The per-field decisions precede it in the ledger.
    Aggregate {
        at: NaiveDateTime,
        principal: String,
        org_code: String,
        /// `entity.field` of every column read.
        fields: Vec<String>,
        cases_read: u64,
        /// Smallest cell the principal may be shown (the public), if any.
        min_cell: Option<u64>,
    },
    /// 申请: a data request was filed.
    RequestSubmitted {
        at: NaiveDateTime,
        request_id: String,
        requester: String,
        requester_org: String,
        case_uid: String,
        owner_org: String,
        scope: Vec<String>,
        purpose: String,
    },
    /// 审核: approved or rejected, with the reason.
    RequestReviewed {
        at: NaiveDateTime,
        request_id: String,
        reviewer: String,
        approved: bool,
        reason: String,
    },
    /// 授权: a grant was issued as a Cedar template link.
    GrantIssued {
        at: NaiveDateTime,
        request_id: String,
        policy_id: String,
        grantee: String,
        case_uid: String,
        scope: Vec<String>,
        purpose: String,
        expires: NaiveDate,
        granted_by: String,
    },
    /// 使用: one use of a grant.
    GrantUsed {
        at: NaiveDateTime,
        request_id: String,
        by: String,
        detail: String,
    },
    /// 反馈: the requester reported back; the request is closed and its grant removed.
    FeedbackGiven {
        at: NaiveDateTime,
        request_id: String,
        by: String,
        feedback: String,
        /// The grant link removed by closing, if the grant was still linked.
        policy_id: Option<String>,
    },
    /// 撤销: withdrawn before a grant, or a grant revoked.
    RequestRevoked {
        at: NaiveDateTime,
        request_id: String,
        by: String,
        reason: String,
        /// The grant link removed, if there was one.
        policy_id: Option<String>,
    },
    /// 三员分立: an administrative operation, permitted or denied (a denied attempt is logged
    /// too), with where it came from.
    Admin {
        at: NaiveDateTime,
        principal: String,
        /// Role of the principal (`sysadmin`, `secadmin`, `auditor`, ...), `system` for a
        /// department system.
        role: String,
        /// Caller's address, or `cli` for a command.
        source: String,
        /// Cedar action id (`user.create`).
        action: String,
        /// What was acted on (an account id, a policy file, a ledger range).
        target: String,
        /// `permitted` or `denied`.
        outcome: String,
        /// Determining policies.
        policies: Vec<String>,
    },
    /// A grant passed its expiry date and its link was removed.
    GrantExpired {
        at: NaiveDateTime,
        request_id: String,
        policy_id: String,
        expired_on: NaiveDate,
    },
}

/// Fields of a read that share one outcome: permitted or not, how the value is shown, and the
/// policies that determined it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldOutcome {
    pub permit: bool,
    /// How a permitted value is shown (`show`, a masking operator, `redact`).
    pub shown: String,
    pub policies: Vec<String>,
    /// `entity.field@level` of every field with this outcome.
    pub fields: Vec<String>,
}

impl FieldOutcome {
    /// Groups the field decisions of masking plans, in first-seen order.
    pub fn group<'p>(
        plans: impl Iterator<Item = &'p crate::mask::MaskingPlan>,
    ) -> Vec<FieldOutcome> {
        let mut out: Vec<FieldOutcome> = Vec::new();
        for plan in plans {
            for f in &plan.fields {
                let shown = match f.action {
                    crate::mask::FieldAction::Show => "show".to_string(),
                    crate::mask::FieldAction::Redact => "redact".to_string(),
                    crate::mask::FieldAction::Mask(op) => serde_json::to_value(op)
                        .ok()
                        .and_then(|v| v.as_str().map(|o| format!("mask:{o}")))
                        .unwrap_or_else(|| format!("mask:{op:?}")),
                };
                let field = format!("{}.{}@{:?}", plan.entity.name(), f.field, f.level);
                match out
                    .iter_mut()
                    .find(|o| o.permit == f.permit && o.shown == shown && o.policies == f.policies)
                {
                    Some(o) => o.fields.push(field),
                    None => out.push(FieldOutcome {
                        permit: f.permit,
                        shown,
                        policies: f.policies.clone(),
                        fields: vec![field],
                    }),
                }
            }
        }
        out
    }
}

impl AccessEvent {
    /// The event as one line of JSON, for the ledger.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}
