//! 三员分立: administrative operations decided by Cedar.
//!
//! Every administrative operation is a Cedar action on the single `Platform` resource. The
//! policies in `policies/admin.cedar` permit each action to exactly one of the three
//! administrator roles (系统管理员, 安全管理员, 审计管理员); every other principal is denied by
//! default, and `admin-separation` keeps the three away from case data. The decision names the
//! determining policies so a refusal can be explained and audited.

use std::str::FromStr;

use cedar_policy::{
    Context, Decision as CedarDecision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    Request,
};
use serde::{Deserialize, Serialize};

use crate::decision::{Authorizer, PolicyRef};
use crate::principal::{Principal, Role};
use crate::{AccessError, AccessEvent};

/// One administrative operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AdminAction {
    #[serde(rename = "user.list")]
    UserList,
    #[serde(rename = "user.create")]
    UserCreate,
    #[serde(rename = "user.disable")]
    UserDisable,
    #[serde(rename = "user.reset_password")]
    UserResetPassword,
    #[serde(rename = "system.status")]
    SystemStatus,
    #[serde(rename = "ingest.configure")]
    IngestConfigure,
    #[serde(rename = "policy.view")]
    PolicyView,
    #[serde(rename = "policy.replace")]
    PolicyReplace,
    #[serde(rename = "grant.manage")]
    GrantManage,
    #[serde(rename = "role.assign")]
    RoleAssign,
    #[serde(rename = "key.operate")]
    KeyOperate,
    #[serde(rename = "user.unlock")]
    UserUnlock,
    #[serde(rename = "audit.read")]
    AuditRead,
    #[serde(rename = "ledger.verify")]
    LedgerVerify,
    #[serde(rename = "audit.archive")]
    AuditArchive,
}

impl AdminAction {
    pub const ALL: [AdminAction; 15] = [
        AdminAction::UserList,
        AdminAction::UserCreate,
        AdminAction::UserDisable,
        AdminAction::UserResetPassword,
        AdminAction::SystemStatus,
        AdminAction::IngestConfigure,
        AdminAction::PolicyView,
        AdminAction::PolicyReplace,
        AdminAction::GrantManage,
        AdminAction::RoleAssign,
        AdminAction::KeyOperate,
        AdminAction::UserUnlock,
        AdminAction::AuditRead,
        AdminAction::LedgerVerify,
        AdminAction::AuditArchive,
    ];

    /// The Cedar action id (`Action::"user.create"`).
    pub fn as_str(self) -> &'static str {
        match self {
            AdminAction::UserList => "user.list",
            AdminAction::UserCreate => "user.create",
            AdminAction::UserDisable => "user.disable",
            AdminAction::UserResetPassword => "user.reset_password",
            AdminAction::SystemStatus => "system.status",
            AdminAction::IngestConfigure => "ingest.configure",
            AdminAction::PolicyView => "policy.view",
            AdminAction::PolicyReplace => "policy.replace",
            AdminAction::GrantManage => "grant.manage",
            AdminAction::RoleAssign => "role.assign",
            AdminAction::KeyOperate => "key.operate",
            AdminAction::UserUnlock => "user.unlock",
            AdminAction::AuditRead => "audit.read",
            AdminAction::LedgerVerify => "ledger.verify",
            AdminAction::AuditArchive => "audit.archive",
        }
    }

    pub fn parse(s: &str) -> Option<AdminAction> {
        AdminAction::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            AdminAction::UserList => "查看账户",
            AdminAction::UserCreate => "创建账户",
            AdminAction::UserDisable => "停用账户",
            AdminAction::UserResetPassword => "重置密码",
            AdminAction::SystemStatus => "查看系统状态",
            AdminAction::IngestConfigure => "配置数据接入",
            AdminAction::PolicyView => "查看访问策略",
            AdminAction::PolicyReplace => "替换访问策略",
            AdminAction::GrantManage => "管理授权",
            AdminAction::RoleAssign => "分配角色",
            AdminAction::KeyOperate => "密钥操作",
            AdminAction::UserUnlock => "解锁账户",
            AdminAction::AuditRead => "查阅审计记录",
            AdminAction::LedgerVerify => "校验账本",
            AdminAction::AuditArchive => "归档审计记录",
        }
    }

    /// The one role whose duty this operation is (as written in `admin.cedar`; the matrix test
    /// holds the policies to it).
    pub fn duty_of(self) -> Role {
        use AdminAction::*;
        match self {
            UserList | UserCreate | UserDisable | UserResetPassword | SystemStatus
            | IngestConfigure => Role::Sysadmin,
            PolicyView | PolicyReplace | GrantManage | RoleAssign | KeyOperate | UserUnlock => {
                Role::Secadmin
            }
            AuditRead | LedgerVerify | AuditArchive => Role::Auditor,
        }
    }

    /// Whether the operation changes anything (the auditor's are all read-only but archiving,
    /// which moves bodies out and keeps every hash).
    pub fn changes_state(self) -> bool {
        !matches!(
            self,
            AdminAction::UserList
                | AdminAction::SystemStatus
                | AdminAction::PolicyView
                | AdminAction::AuditRead
                | AdminAction::LedgerVerify
        )
    }
}

/// The answer to one administrative request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminDecision {
    pub permit: bool,
    pub action: AdminAction,
    /// The determining policies (the permitting `*-duties` policy, or none for a default deny).
    pub policies: Vec<PolicyRef>,
    /// Chinese explanation.
    pub summary_zh: String,
}

impl AdminDecision {
    /// The ledger entry for this decision, permitted or denied.
    pub fn event(
        &self,
        principal: &Principal,
        at: chrono::NaiveDateTime,
        source: &str,
        target: &str,
    ) -> AccessEvent {
        AccessEvent::Admin {
            at,
            principal: principal.id().to_string(),
            role: principal
                .role()
                .map(|r| r.as_str())
                .unwrap_or("system")
                .to_string(),
            source: source.to_string(),
            action: self.action.as_str().to_string(),
            target: target.to_string(),
            outcome: if self.permit { "permitted" } else { "denied" }.to_string(),
            policies: self.policy_ids().iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn policy_ids(&self) -> Vec<&str> {
        self.policies.iter().map(|p| p.id.as_str()).collect()
    }
}

impl Authorizer {
    /// Decides an administrative operation with Cedar.
    pub fn decide_admin(
        &self,
        principal: &Principal,
        action: AdminAction,
    ) -> Result<AdminDecision, AccessError> {
        let (puid, pent) = self.principal_entity(principal)?;
        let ty = |s: &str| EntityTypeName::from_str(s).map_err(AccessError::cedar);
        let ruid = EntityUid::from_type_name_and_id(ty("Platform")?, EntityId::new("xiezhi"));
        let rent = Entity::new_no_attrs(ruid.clone(), Default::default());
        let auid = EntityUid::from_type_name_and_id(ty("Action")?, EntityId::new(action.as_str()));
        let entities = Entities::from_entities([pent, rent], None).map_err(AccessError::cedar)?;
        let request =
            Request::new(puid, auid, ruid, Context::empty(), None).map_err(AccessError::cedar)?;
        let response = cedar_policy::Authorizer::new().is_authorized(
            &request,
            self.store.policy_set(),
            &entities,
        );
        let permit = response.decision() == CedarDecision::Allow;
        let mut ids: Vec<String> = response
            .diagnostics()
            .reason()
            .map(|id| id.to_string())
            .collect();
        ids.sort();
        let policies: Vec<PolicyRef> = ids.iter().map(|id| self.policy_ref(id)).collect();
        let who = principal.role().map(|r| r.name_zh()).unwrap_or("部门系统");
        let summary_zh = if permit {
            let reasons: Vec<&str> = policies.iter().map(|p| p.reason_zh.as_str()).collect();
            format!("允许：{}", reasons.join("；"))
        } else if policies.is_empty() {
            format!(
                "拒绝：{who}无权{}（三员分立，该操作仅限{}）",
                action.name_zh(),
                action.duty_of().name_zh()
            )
        } else {
            let reasons: Vec<&str> = policies.iter().map(|p| p.reason_zh.as_str()).collect();
            format!("拒绝：{}", reasons.join("；"))
        };
        Ok(AdminDecision {
            permit,
            action,
            policies,
            summary_zh,
        })
    }
}
