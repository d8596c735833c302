//! The data request workflow (数据共享申请).
//!
//! 申请 (requested) → 审核 (approved or rejected, with a reason) → 授权 (granted: scope, purpose,
//! expiry, granted by) → 使用 (every use recorded) → 反馈 (feedback closes the request), and
//! 撤销 (withdrawn before the grant, or the grant revoked). An illegal step is an error and
//! changes nothing. Granting links the `grant` Cedar template for the requester and the case;
//! revoking, closing and expiring unlink it. Every step returns the [`AccessEvent`] the caller
//! appends to the ledger.
//!
//! Review and grant belong to the organ that owns the case's data (its leader or data steward);
//! the grant may narrow the requested scope, never widen it.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::decision::Authorizer;
use crate::principal::{check_scope, CaseResource, Role, User};
use crate::{AccessError, AccessEvent};

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// 申请: filed, awaiting review.
    Requested,
    /// 审核通过: awaiting the grant.
    Approved,
    /// 审核不通过 (final).
    Rejected,
    /// 已授权: the grant is linked; uses are recorded.
    Granted,
    /// 已过期: the grant's expiry passed; feedback may still be given.
    Expired,
    /// 已反馈: closed by the requester's feedback (final).
    Closed,
    /// 已撤销 (final).
    Revoked,
}

impl RequestState {
    pub fn name_zh(self) -> &'static str {
        match self {
            RequestState::Requested => "已申请",
            RequestState::Approved => "审核通过",
            RequestState::Rejected => "审核不通过",
            RequestState::Granted => "已授权",
            RequestState::Expired => "已过期",
            RequestState::Closed => "已反馈",
            RequestState::Revoked => "已撤销",
        }
    }
}

/// A step of the workflow that cannot be taken.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("申请 {request_id} 当前状态为“{}”，不能{step}", state.name_zh())]
    IllegalTransition {
        request_id: String,
        state: RequestState,
        step: &'static str,
    },
    #[error("{user} 无权{step}：{why}")]
    NotAllowed {
        user: String,
        step: &'static str,
        why: String,
    },
    #[error("{0}不能为空")]
    Empty(&'static str),
    #[error("授权范围 `{scope}` 超出了申请范围")]
    ScopeWidened { scope: String },
    #[error("有效期 {expires} 早于授权日期 {today}")]
    ExpiryInPast {
        expires: NaiveDate,
        today: NaiveDate,
    },
    #[error("申请 {request_id} 的授权已于 {expires} 到期")]
    GrantExpired {
        request_id: String,
        expires: NaiveDate,
    },
    #[error("案件 {0} 没有可受理申请的承办机构")]
    NoOwner(String),
    #[error(transparent)]
    Access(#[from] AccessError),
}

/// A grant in force: a link of the `grant` template plus the grantee's tag for the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub request_id: String,
    /// The Cedar policy id of the link (`grant:<request id>`).
    pub policy_id: String,
    /// User id of the requester.
    pub grantee: String,
    pub case_uid: String,
    pub scopes: Vec<String>,
    pub purpose: String,
    /// Last day of validity.
    pub expires: NaiveDate,
    pub granted_by: String,
}

/// 审核 outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub reviewer: String,
    pub approved: bool,
    pub reason: String,
    pub at: NaiveDateTime,
}

/// One recorded use of a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Use {
    pub by: String,
    pub detail: String,
    pub at: NaiveDateTime,
}

/// A data request and its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRequest {
    pub id: String,
    pub requester: String,
    pub requester_org: String,
    pub case_uid: String,
    /// The organ that owns the data and decides.
    pub owner_org: String,
    pub scope: Vec<String>,
    pub purpose: String,
    pub submitted_at: NaiveDateTime,
    pub state: RequestState,
    pub review: Option<Review>,
    pub grant: Option<Grant>,
    pub uses: Vec<Use>,
    pub feedback: Option<String>,
    /// Who withdrew or revoked, and why.
    pub revocation: Option<(String, String)>,
}

/// Policy id of the grant link of a request.
pub fn grant_policy_id(request_id: &str) -> String {
    format!("grant:{request_id}")
}

fn owner_authority(user: &User, owner_org: &str, step: &'static str) -> Result<(), RequestError> {
    if user.org_code != owner_org {
        return Err(RequestError::NotAllowed {
            user: user.id.clone(),
            step,
            why: format!("只有数据所属机构 {owner_org} 可以{step}"),
        });
    }
    if !matches!(user.role, Role::Leader | Role::DataSteward) {
        return Err(RequestError::NotAllowed {
            user: user.id.clone(),
            step,
            why: format!(
                "须由领导或数据管理员{step}，当前角色为{}",
                user.role.name_zh()
            ),
        });
    }
    Ok(())
}

impl DataRequest {
    /// 申请: `requester` asks for `scope` of a case for `purpose`.
    pub fn submit(
        id: impl Into<String>,
        requester: &User,
        case: &CaseResource,
        scope: Vec<String>,
        purpose: impl Into<String>,
        at: NaiveDateTime,
    ) -> Result<(DataRequest, AccessEvent), RequestError> {
        let id = id.into();
        let purpose = purpose.into();
        if requester.role == Role::Public || requester.role.is_admin() {
            return Err(RequestError::NotAllowed {
                user: requester.id.clone(),
                step: "提出数据共享申请",
                why: format!("{}不能申请案件数据", requester.role.name_zh()),
            });
        }
        if id.trim().is_empty() {
            return Err(RequestError::Empty("申请编号"));
        }
        if purpose.trim().is_empty() {
            return Err(RequestError::Empty("用途"));
        }
        if scope.is_empty() {
            return Err(RequestError::Empty("申请范围"));
        }
        for s in &scope {
            check_scope(s)?;
        }
        let owner_org = case
            .owner_org()
            .ok_or_else(|| RequestError::NoOwner(case.case_uid.clone()))?
            .to_string();
        let req = DataRequest {
            id,
            requester: requester.id.clone(),
            requester_org: requester.org_code.clone(),
            case_uid: case.case_uid.clone(),
            owner_org,
            scope,
            purpose,
            submitted_at: at,
            state: RequestState::Requested,
            review: None,
            grant: None,
            uses: Vec::new(),
            feedback: None,
            revocation: None,
        };
        let event = AccessEvent::RequestSubmitted {
            at,
            request_id: req.id.clone(),
            requester: req.requester.clone(),
            requester_org: req.requester_org.clone(),
            case_uid: req.case_uid.clone(),
            owner_org: req.owner_org.clone(),
            scope: req.scope.clone(),
            purpose: req.purpose.clone(),
        };
        Ok((req, event))
    }

    fn require_state(
        &self,
        states: &[RequestState],
        step: &'static str,
    ) -> Result<(), RequestError> {
        if states.contains(&self.state) {
            Ok(())
        } else {
            Err(RequestError::IllegalTransition {
                request_id: self.id.clone(),
                state: self.state,
                step,
            })
        }
    }

    /// 审核: the owner organ approves or rejects, with a reason.
    pub fn review(
        &mut self,
        reviewer: &User,
        approved: bool,
        reason: impl Into<String>,
        at: NaiveDateTime,
    ) -> Result<AccessEvent, RequestError> {
        const STEP: &str = "审核";
        self.require_state(&[RequestState::Requested], STEP)?;
        owner_authority(reviewer, &self.owner_org, STEP)?;
        let reason = reason.into();
        if reason.trim().is_empty() {
            return Err(RequestError::Empty("审核意见"));
        }
        self.state = if approved {
            RequestState::Approved
        } else {
            RequestState::Rejected
        };
        self.review = Some(Review {
            reviewer: reviewer.id.clone(),
            approved,
            reason: reason.clone(),
            at,
        });
        Ok(AccessEvent::RequestReviewed {
            at,
            request_id: self.id.clone(),
            reviewer: reviewer.id.clone(),
            approved,
            reason,
        })
    }

    /// 授权: links the grant (scope within the requested scope, purpose, last valid day).
    pub fn grant(
        &mut self,
        granter: &User,
        scope: Vec<String>,
        purpose: impl Into<String>,
        expires: NaiveDate,
        at: NaiveDateTime,
        authz: &mut Authorizer,
    ) -> Result<AccessEvent, RequestError> {
        const STEP: &str = "授权";
        self.require_state(&[RequestState::Approved], STEP)?;
        owner_authority(granter, &self.owner_org, STEP)?;
        let purpose = purpose.into();
        if purpose.trim().is_empty() {
            return Err(RequestError::Empty("用途"));
        }
        if scope.is_empty() {
            return Err(RequestError::Empty("授权范围"));
        }
        for s in &scope {
            check_scope(s)?;
            if !self.scope.iter().any(|asked| scope_within(s, asked)) {
                return Err(RequestError::ScopeWidened { scope: s.clone() });
            }
        }
        if expires < at.date() {
            return Err(RequestError::ExpiryInPast {
                expires,
                today: at.date(),
            });
        }
        let grant = Grant {
            request_id: self.id.clone(),
            policy_id: grant_policy_id(&self.id),
            grantee: self.requester.clone(),
            case_uid: self.case_uid.clone(),
            scopes: scope,
            purpose,
            expires,
            granted_by: granter.id.clone(),
        };
        authz.link_grant(grant.clone())?;
        self.state = RequestState::Granted;
        self.grant = Some(grant.clone());
        Ok(AccessEvent::GrantIssued {
            at,
            request_id: grant.request_id,
            policy_id: grant.policy_id,
            grantee: grant.grantee,
            case_uid: grant.case_uid,
            scope: grant.scopes,
            purpose: grant.purpose,
            expires: grant.expires,
            granted_by: grant.granted_by,
        })
    }

    /// 使用: records one use by the requester while the grant is valid.
    pub fn record_use(
        &mut self,
        by: &User,
        detail: impl Into<String>,
        at: NaiveDateTime,
    ) -> Result<AccessEvent, RequestError> {
        const STEP: &str = "使用授权";
        self.require_state(&[RequestState::Granted], STEP)?;
        if by.id != self.requester {
            return Err(RequestError::NotAllowed {
                user: by.id.clone(),
                step: STEP,
                why: "授权仅限申请人本人使用".to_string(),
            });
        }
        if let Some(g) = &self.grant {
            if at.date() > g.expires {
                return Err(RequestError::GrantExpired {
                    request_id: self.id.clone(),
                    expires: g.expires,
                });
            }
        }
        let detail = detail.into();
        self.uses.push(Use {
            by: by.id.clone(),
            detail: detail.clone(),
            at,
        });
        Ok(AccessEvent::GrantUsed {
            at,
            request_id: self.id.clone(),
            by: by.id.clone(),
            detail,
        })
    }

    /// 反馈: the requester reports back; the request closes and its grant is removed.
    pub fn feedback(
        &mut self,
        by: &User,
        text: impl Into<String>,
        at: NaiveDateTime,
        authz: &mut Authorizer,
    ) -> Result<AccessEvent, RequestError> {
        const STEP: &str = "反馈";
        self.require_state(&[RequestState::Granted, RequestState::Expired], STEP)?;
        if by.id != self.requester {
            return Err(RequestError::NotAllowed {
                user: by.id.clone(),
                step: STEP,
                why: "反馈须由申请人提交".to_string(),
            });
        }
        let text = text.into();
        if text.trim().is_empty() {
            return Err(RequestError::Empty("反馈内容"));
        }
        let policy_id = self.unlink_if_linked(authz)?;
        self.state = RequestState::Closed;
        self.feedback = Some(text.clone());
        Ok(AccessEvent::FeedbackGiven {
            at,
            request_id: self.id.clone(),
            by: by.id.clone(),
            feedback: text,
            policy_id,
        })
    }

    /// 撤销: the requester withdraws (before or after the grant), or the owner organ's leader
    /// or data steward revokes.
    pub fn revoke(
        &mut self,
        by: &User,
        reason: impl Into<String>,
        at: NaiveDateTime,
        authz: &mut Authorizer,
    ) -> Result<AccessEvent, RequestError> {
        const STEP: &str = "撤销";
        self.require_state(
            &[
                RequestState::Requested,
                RequestState::Approved,
                RequestState::Granted,
            ],
            STEP,
        )?;
        if by.id != self.requester {
            owner_authority(by, &self.owner_org, STEP)?;
        }
        let reason = reason.into();
        if reason.trim().is_empty() {
            return Err(RequestError::Empty("撤销理由"));
        }
        let policy_id = self.unlink_if_linked(authz)?;
        self.state = RequestState::Revoked;
        self.revocation = Some((by.id.clone(), reason.clone()));
        Ok(AccessEvent::RequestRevoked {
            at,
            request_id: self.id.clone(),
            by: by.id.clone(),
            reason,
            policy_id,
        })
    }

    /// Expires the grant if `at` is past its last valid day: unlinks it and returns the event.
    /// (Cedar already denies from the day after expiry; this keeps the policy set small.)
    pub fn expire_if_due(
        &mut self,
        at: NaiveDateTime,
        authz: &mut Authorizer,
    ) -> Result<Option<AccessEvent>, RequestError> {
        let Some(grant) = &self.grant else {
            return Ok(None);
        };
        if self.state != RequestState::Granted || at.date() <= grant.expires {
            return Ok(None);
        }
        let expired_on = grant.expires;
        let policy_id = grant.policy_id.clone();
        self.unlink_if_linked(authz)?;
        self.state = RequestState::Expired;
        Ok(Some(AccessEvent::GrantExpired {
            at,
            request_id: self.id.clone(),
            policy_id,
            expired_on,
        }))
    }

    fn unlink_if_linked(&self, authz: &mut Authorizer) -> Result<Option<String>, RequestError> {
        match &self.grant {
            Some(g) if authz.grants().any(|x| x.policy_id == g.policy_id) => {
                authz.unlink_grant(&g.policy_id)?;
                Ok(Some(g.policy_id.clone()))
            }
            _ => Ok(None),
        }
    }
}

/// A step on a filed request as a caller asks for it (a command line or an API body), so the
/// command line and the server take steps through one function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum RequestStep {
    /// 审核.
    Review { approve: bool, reason: String },
    /// 授权: an empty scope grants what was asked; no purpose keeps the requested one.
    Grant {
        expires: NaiveDate,
        #[serde(default)]
        scope: Vec<String>,
        #[serde(default)]
        purpose: Option<String>,
    },
    /// 使用.
    Use { detail: String },
    /// 反馈.
    Feedback { text: String },
    /// 撤销.
    Revoke { reason: String },
}

impl RequestStep {
    /// The step's name as the forms and the API spell it.
    pub fn name(&self) -> &'static str {
        match self {
            RequestStep::Review { .. } => "review",
            RequestStep::Grant { .. } => "grant",
            RequestStep::Use { .. } => "use",
            RequestStep::Feedback { .. } => "feedback",
            RequestStep::Revoke { .. } => "revoke",
        }
    }
}

impl DataRequest {
    /// Takes `step` as `user`; on error nothing changed.
    pub fn take(
        &mut self,
        user: &User,
        step: RequestStep,
        at: NaiveDateTime,
        authz: &mut Authorizer,
    ) -> Result<AccessEvent, RequestError> {
        match step {
            RequestStep::Review { approve, reason } => self.review(user, approve, reason, at),
            RequestStep::Grant {
                expires,
                scope,
                purpose,
            } => {
                let scope = if scope.is_empty() {
                    self.scope.clone()
                } else {
                    scope
                };
                let purpose = purpose.unwrap_or_else(|| self.purpose.clone());
                self.grant(user, scope, purpose, expires, at, authz)
            }
            RequestStep::Use { detail } => self.record_use(user, detail, at),
            RequestStep::Feedback { text } => self.feedback(user, text, at, authz),
            RequestStep::Revoke { reason } => self.revoke(user, reason, at, authz),
        }
    }

    /// The steps `user` may take now (`review`, `grant`, `use`, `feedback`, `revoke`), by the
    /// same state and authority checks the steps themselves make; the console offers these.
    pub fn steps_open_to(&self, user: &User) -> Vec<&'static str> {
        let owner = |step| owner_authority(user, &self.owner_org, step).is_ok();
        let requester = user.id == self.requester;
        let mut open = Vec::new();
        match self.state {
            RequestState::Requested => {
                if owner("审核") {
                    open.push("review");
                }
            }
            RequestState::Approved => {
                if owner("授权") {
                    open.push("grant");
                }
            }
            RequestState::Granted => {
                if requester {
                    open.extend(["use", "feedback"]);
                }
            }
            RequestState::Expired => {
                if requester {
                    open.push("feedback");
                }
            }
            RequestState::Rejected | RequestState::Closed | RequestState::Revoked => {}
        }
        let revocable = matches!(
            self.state,
            RequestState::Requested | RequestState::Approved | RequestState::Granted
        );
        if revocable && (requester || owner("撤销")) {
            open.push("revoke");
        }
        open
    }
}

/// Whether granted scope `s` lies within requested scope `asked`.
fn scope_within(s: &str, asked: &str) -> bool {
    asked == "*" || s == asked || s.split_once('.').is_some_and(|(entity, _)| entity == asked)
}
