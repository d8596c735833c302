//! Access decisions with their explanation.
//!
//! [`Authorizer::decide`] builds the Cedar request for one field of one case (principal entity,
//! case entity, the field in the context), asks Cedar, and answers with the determining policies
//! (their `@id` and Chinese `@reason`) and, for a deny that no `forbid` decided, the data request
//! that would grant the read ([`RequestHint`]). The authorizer also keeps the registry of
//! data-request grants, each a link of the `grant` template plus the user's tag for the case.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use cedar_policy::{
    Context, Decision as CedarDecision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicyId, Request, RestrictedExpression, SlotId,
};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::policy::{PolicyStore, GRANT_TEMPLATE};
use crate::principal::{check_scope, CaseResource, FieldRef, Principal, Resource, Role};
use crate::request::Grant;
use crate::{AccessError, AccessEvent};

/// What the principal wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read one field of a case's records.
    Read,
    /// Count cases or events per value of one field: a statistic, never a record.
    Aggregate,
}

impl Action {
    /// The Cedar action id (`Action::"read"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Aggregate => "aggregate",
        }
    }
}

/// The circumstances of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestContext {
    /// When the request is made (the organ's local time); grants are judged by its date.
    pub now: NaiveDateTime,
}

impl RequestContext {
    pub fn new(now: NaiveDateTime) -> RequestContext {
        RequestContext { now }
    }

    /// A request at noon of `day`.
    pub fn on(day: NaiveDate) -> RequestContext {
        RequestContext {
            now: day.and_time(chrono::NaiveTime::MIN) + chrono::Duration::hours(12),
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.now.date()
    }
}

/// A date as the Long `yyyymmdd` that policies compare (`context.today <= 20250630`).
pub fn day_number(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// A policy that decided, with the reason quoted to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRef {
    pub id: String,
    pub reason_zh: String,
}

/// For a deny: the data request that would grant the read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestHint {
    pub case_uid: String,
    /// The organ that owns the case's data and reviews the request.
    pub owner_org: Option<String>,
    /// Scope to ask for (`person.name`).
    pub scope: Vec<String>,
    pub entity: String,
    pub fields: Vec<String>,
    /// A purpose suited to the requester's role.
    pub suggested_purpose_zh: String,
    /// The hint as one Chinese sentence.
    pub message_zh: String,
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub permit: bool,
    /// The determining policies: the satisfied permits for a permit, the satisfied forbids for
    /// a deny by `forbid`, none for a default deny.
    pub policies: Vec<PolicyRef>,
    /// For a default deny: what data request would grant the read.
    pub deny_hint: Option<RequestHint>,
    /// Policies that failed to evaluate (they are ignored, as Cedar does). Empty for a
    /// validated policy set unless data break the schema.
    pub errors: Vec<String>,
    /// The ledger entry for this decision.
    pub event: AccessEvent,
}

impl Decision {
    /// The explanation as one Chinese sentence.
    pub fn summary_zh(&self) -> String {
        let reasons: Vec<&str> = self.policies.iter().map(|p| p.reason_zh.as_str()).collect();
        match (self.permit, reasons.is_empty()) {
            (true, _) => format!("允许：{}", reasons.join("；")),
            (false, false) => format!("拒绝：{}", reasons.join("；")),
            (false, true) => match &self.deny_hint {
                Some(h) => format!("拒绝：没有适用的许可策略（默认拒绝）。{}", h.message_zh),
                None => "拒绝：没有适用的许可策略（默认拒绝）".to_string(),
            },
        }
    }

    /// Ids of the determining policies.
    pub fn policy_ids(&self) -> Vec<&str> {
        self.policies.iter().map(|p| p.id.as_str()).collect()
    }
}

/// Cedar type names and ids parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    pub(crate) user: EntityTypeName,
    pub(crate) system: EntityTypeName,
    pub(crate) case: EntityTypeName,
    pub(crate) read: EntityUid,
    pub(crate) aggregate: EntityUid,
}

impl Names {
    fn new() -> Result<Names, AccessError> {
        let ty = |s: &str| EntityTypeName::from_str(s).map_err(AccessError::cedar);
        Ok(Names {
            user: ty("User")?,
            system: ty("DepartmentSystem")?,
            case: ty("Case")?,
            read: EntityUid::from_type_name_and_id(ty("Action")?, EntityId::new("read")),
            aggregate: EntityUid::from_type_name_and_id(ty("Action")?, EntityId::new("aggregate")),
        })
    }
}

/// Decides access with the policy store and the grants in force.
#[derive(Debug, Clone)]
pub struct Authorizer {
    pub(crate) store: PolicyStore,
    engine: cedar_policy::Authorizer,
    /// Grant policy id → grant.
    grants: BTreeMap<String, Grant>,
    /// User id → case uid → grant policy id (one grant per user and case).
    by_user: HashMap<String, BTreeMap<String, String>>,
    generation: u64,
    pub(crate) names: Names,
}

impl Authorizer {
    pub fn new(store: PolicyStore) -> Result<Authorizer, AccessError> {
        Ok(Authorizer {
            store,
            engine: cedar_policy::Authorizer::new(),
            grants: BTreeMap::new(),
            by_user: HashMap::new(),
            generation: 0,
            names: Names::new()?,
        })
    }

    /// An authorizer over the compiled-in policies.
    pub fn builtin() -> Result<Authorizer, AccessError> {
        Authorizer::new(PolicyStore::builtin()?)
    }

    pub fn policies(&self) -> &PolicyStore {
        &self.store
    }

    /// Replaces the policy files (after a steward's edit), keeping every grant in force.
    pub fn replace_policies(&mut self, store: PolicyStore) -> Result<(), AccessError> {
        let mut next = Authorizer::new(store)?;
        for grant in self.grants.values() {
            next.link_grant(grant.clone())?;
        }
        next.generation = self.generation + 1;
        *self = next;
        Ok(())
    }

    /// Changes whenever policies or grants change; compiled views remember it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Decides one request with Cedar and explains the decision.
    pub fn decide(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource<'_>,
        ctx: &RequestContext,
    ) -> Result<Decision, AccessError> {
        let (permit, ids, errors) = self.cedar_decide(principal, action, resource, ctx)?;
        let policies: Vec<PolicyRef> = ids.iter().map(|id| self.policy_ref(id)).collect();
        let deny_hint = if !permit && policies.is_empty() {
            self.hint(principal, resource, ctx)
        } else {
            None
        };
        let event = decision_event(principal, action, resource, ctx, permit, ids, false);
        Ok(Decision {
            permit,
            policies,
            deny_hint,
            errors,
            event,
        })
    }

    /// Plain Cedar: permit, sorted determining policy ids, evaluation errors.
    pub(crate) fn cedar_decide(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource<'_>,
        ctx: &RequestContext,
    ) -> Result<(bool, Vec<String>, Vec<String>), AccessError> {
        let (puid, pent) = self.principal_entity(principal)?;
        let (ruid, rent) = self.case_entity(resource.case)?;
        let entities = Entities::from_entities([pent, rent], None).map_err(AccessError::cedar)?;
        let context = self.context(resource.field, ctx.today())?;
        let request = Request::new(puid, self.action_uid(action), ruid, context, None)
            .map_err(AccessError::cedar)?;
        let response = self
            .engine
            .is_authorized(&request, &self.store.set, &entities);
        let permit = response.decision() == CedarDecision::Allow;
        let mut ids: Vec<String> = response
            .diagnostics()
            .reason()
            .map(|id| id.to_string())
            .collect();
        ids.sort();
        let errors = response
            .diagnostics()
            .errors()
            .map(|e| e.to_string())
            .collect();
        Ok((permit, ids, errors))
    }

    /// The explanation of a policy: its `@reason`, or for a grant link the grant's terms.
    pub fn policy_ref(&self, id: &str) -> PolicyRef {
        let reason_zh = if let Some(g) = self.grants.get(id) {
            format!(
                "经审批的数据共享申请 {} 授权（范围：{}；用途：{}；有效期至 {}）",
                g.request_id,
                g.scopes.join("、"),
                g.purpose,
                g.expires
            )
        } else if let Some(r) = self.store.reason(id) {
            r.to_string()
        } else {
            // A link of a template other than `grant`: quote the template.
            self.store
                .set
                .policy(&PolicyId::new(id))
                .and_then(|p| p.template_id())
                .and_then(|t| self.store.reason(AsRef::<str>::as_ref(t)))
                .unwrap_or("（策略未提供说明）")
                .to_string()
        };
        PolicyRef {
            id: id.to_string(),
            reason_zh,
        }
    }

    fn hint(
        &self,
        principal: &Principal,
        resource: &Resource<'_>,
        ctx: &RequestContext,
    ) -> Option<RequestHint> {
        let case = resource.case;
        let field = resource.field;
        let scope = field.key();
        let owner = case.owner_org().map(str::to_string);
        let purpose = suggested_purpose(principal.role()).to_string();
        let whom = owner.as_deref().unwrap_or("案件承办机构");
        let mut message = format!(
            "可向 {whom} 提出数据共享申请：案件 {}，范围 {scope}（{}·{}），用途如“{purpose}”。",
            case.case_uid,
            field.entity.name_zh(),
            field.def().map(|d| d.name_zh).unwrap_or(field.field),
        );
        if let Some(g) = self.grant_of(principal.id(), &case.case_uid) {
            if g.expires < ctx.today() {
                message.push_str(&format!(
                    "原授权（申请 {}）已于 {} 到期，可申请续期。",
                    g.request_id, g.expires
                ));
            } else {
                message.push_str(&format!(
                    "现有授权（申请 {}）的范围不含该字段，须先撤销原授权再申请扩大范围。",
                    g.request_id
                ));
            }
        }
        Some(RequestHint {
            case_uid: case.case_uid.clone(),
            owner_org: owner,
            scope: vec![scope],
            entity: field.entity.name().to_string(),
            fields: vec![field.field.to_string()],
            suggested_purpose_zh: purpose,
            message_zh: message,
        })
    }

    pub(crate) fn action_uid(&self, action: Action) -> EntityUid {
        match action {
            Action::Read => self.names.read.clone(),
            Action::Aggregate => self.names.aggregate.clone(),
        }
    }

    pub(crate) fn principal_uid(&self, principal: &Principal) -> EntityUid {
        let ty = match principal {
            Principal::User(_) => &self.names.user,
            Principal::System(_) => &self.names.system,
        };
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(principal.id()))
    }

    /// The principal as a Cedar entity, with a tag per case it holds a grant on.
    pub(crate) fn principal_entity(
        &self,
        principal: &Principal,
    ) -> Result<(EntityUid, Entity), AccessError> {
        let uid = self.principal_uid(principal);
        let s = |v: &str| RestrictedExpression::new_string(v.to_string());
        let clearance = RestrictedExpression::new_long(level_number(principal.clearance()));
        let entity = match principal {
            Principal::User(u) => {
                let attrs = [
                    ("org_code".to_string(), s(&u.org_code)),
                    ("org_kind".to_string(), s(u.org_kind.as_str())),
                    ("division".to_string(), s(&u.division)),
                    ("role".to_string(), s(u.role.as_str())),
                    ("clearance".to_string(), clearance),
                    ("jurisdiction".to_string(), s(u.jurisdiction())),
                ];
                let mut tags = Vec::new();
                for g in self.grants_of(&u.id) {
                    let record = RestrictedExpression::new_record([
                        ("request_id".to_string(), s(&g.request_id)),
                        (
                            "scopes".to_string(),
                            RestrictedExpression::new_set(g.scopes.iter().map(|x| s(x))),
                        ),
                        (
                            "expires".to_string(),
                            RestrictedExpression::new_long(day_number(g.expires)),
                        ),
                    ])
                    .map_err(AccessError::cedar)?;
                    tags.push((g.case_uid.clone(), record));
                }
                Entity::new_with_tags(uid.clone(), attrs, [], tags)
            }
            Principal::System(sys) => Entity::new_with_tags(
                uid.clone(),
                [
                    ("org_code".to_string(), s(&sys.org_code)),
                    ("org_kind".to_string(), s(sys.org_kind.as_str())),
                    ("clearance".to_string(), clearance),
                ],
                [],
                [],
            ),
        }
        .map_err(AccessError::cedar)?;
        Ok((uid, entity))
    }

    pub(crate) fn case_uid(&self, case_uid: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(self.names.case.clone(), EntityId::new(case_uid))
    }

    /// The case as a Cedar entity, with a tag per organ it was transferred to.
    pub(crate) fn case_entity(
        &self,
        case: &CaseResource,
    ) -> Result<(EntityUid, Entity), AccessError> {
        let uid = self.case_uid(&case.case_uid);
        let set = |items: &mut dyn Iterator<Item = &str>| {
            RestrictedExpression::new_set(
                items
                    .map(|v| RestrictedExpression::new_string(v.to_string()))
                    .collect::<Vec<_>>(),
            )
        };
        let attrs = [
            (
                "uid".to_string(),
                RestrictedExpression::new_string(case.case_uid.clone()),
            ),
            (
                "participating_orgs".to_string(),
                set(&mut case.participating_orgs.iter().map(String::as_str)),
            ),
            (
                "jurisdiction_prefixes".to_string(),
                set(&mut case.jurisdiction_prefixes().into_iter()),
            ),
            (
                "ongoing_investigation".to_string(),
                RestrictedExpression::new_bool(case.ongoing_investigation),
            ),
        ];
        let tags: Vec<(String, RestrictedExpression)> = case
            .transfer_scopes()
            .into_iter()
            .map(|(org, scopes)| (org.to_string(), set(&mut scopes.into_iter())))
            .collect();
        let entity =
            Entity::new_with_tags(uid.clone(), attrs, [], tags).map_err(AccessError::cedar)?;
        Ok((uid, entity))
    }

    /// The request context for one field on `today`.
    pub(crate) fn context(
        &self,
        field: FieldRef,
        today: NaiveDate,
    ) -> Result<Context, AccessError> {
        let s = |v: String| RestrictedExpression::new_string(v);
        Context::from_pairs([
            ("entity".to_string(), s(field.entity.name().to_string())),
            ("field".to_string(), s(field.field.to_string())),
            ("field_key".to_string(), s(field.key())),
            (
                "level".to_string(),
                RestrictedExpression::new_long(level_number(field.level)),
            ),
            (
                "today".to_string(),
                RestrictedExpression::new_long(day_number(today)),
            ),
        ])
        .map_err(AccessError::cedar)
    }

    // ----- grant registry -----

    /// Links a grant: a link of the `grant` template with the grantee and the case, plus the
    /// grantee's tag for the case. One grant per user and case.
    ///
    /// [`crate::DataRequest::grant`] calls this; call it directly only to restore the grants in
    /// force (from the store) when the process starts.
    pub fn link_grant(&mut self, grant: Grant) -> Result<(), AccessError> {
        for scope in &grant.scopes {
            check_scope(scope)?;
        }
        if let Some(existing) = self.grant_of(&grant.grantee, &grant.case_uid) {
            return Err(AccessError::GrantConflict {
                user: grant.grantee.clone(),
                case_uid: grant.case_uid.clone(),
                existing: existing.request_id.clone(),
            });
        }
        let user = EntityUid::from_type_name_and_id(
            self.names.user.clone(),
            EntityId::new(&grant.grantee),
        );
        let links = HashMap::from([
            (SlotId::principal(), user),
            (SlotId::resource(), self.case_uid(&grant.case_uid)),
        ]);
        self.store
            .set
            .link(
                PolicyId::new(GRANT_TEMPLATE),
                PolicyId::new(&grant.policy_id),
                links,
            )
            .map_err(AccessError::cedar)?;
        self.by_user
            .entry(grant.grantee.clone())
            .or_default()
            .insert(grant.case_uid.clone(), grant.policy_id.clone());
        self.grants.insert(grant.policy_id.clone(), grant);
        self.generation += 1;
        Ok(())
    }

    /// Removes a grant's link and tag. The workflow calls this on revocation, feedback and
    /// expiry.
    pub fn unlink_grant(&mut self, policy_id: &str) -> Result<Grant, AccessError> {
        let grant = self
            .grants
            .remove(policy_id)
            .ok_or_else(|| AccessError::NoSuchGrant {
                request_id: policy_id.to_string(),
            })?;
        if let Some(cases) = self.by_user.get_mut(&grant.grantee) {
            cases.remove(&grant.case_uid);
            if cases.is_empty() {
                self.by_user.remove(&grant.grantee);
            }
        }
        self.store
            .set
            .unlink(PolicyId::new(policy_id))
            .map_err(AccessError::cedar)?;
        self.generation += 1;
        Ok(grant)
    }

    /// The grants in force (linked), expired or not.
    pub fn grants(&self) -> impl Iterator<Item = &Grant> {
        self.grants.values()
    }

    /// The grant `user` holds on a case, if any.
    pub fn grant_of(&self, user: &str, case_uid: &str) -> Option<&Grant> {
        let id = self.by_user.get(user)?.get(case_uid)?;
        self.grants.get(id)
    }

    pub(crate) fn grants_of<'a>(&'a self, user: &str) -> impl Iterator<Item = &'a Grant> + 'a {
        self.by_user
            .get(user)
            .into_iter()
            .flat_map(|cases| cases.values())
            .filter_map(|id| self.grants.get(id))
    }
}

/// Level as the Long policies compare (1..4).
pub fn level_number(level: xiezhi_standard::Level) -> i64 {
    match level {
        xiezhi_standard::Level::L1 => 1,
        xiezhi_standard::Level::L2 => 2,
        xiezhi_standard::Level::L3 => 3,
        xiezhi_standard::Level::L4 => 4,
    }
}

fn suggested_purpose(role: Option<Role>) -> &'static str {
    match role {
        Some(Role::CaseHandler) => "办案需要：核查关联案件信息",
        Some(Role::Supervisor) => "执法监督：核查案件办理情况",
        Some(Role::DataSteward) => "数据治理：核查数据质量",
        Some(Role::Leader) => "研判分析：了解案件办理情况",
        Some(_) => "（该角色不能提出数据共享申请）",
        None => "业务协同：接收案件数据",
    }
}

pub(crate) fn decision_event(
    principal: &Principal,
    action: Action,
    resource: &Resource<'_>,
    ctx: &RequestContext,
    permit: bool,
    policies: Vec<String>,
    compiled: bool,
) -> AccessEvent {
    AccessEvent::Decision {
        at: ctx.now,
        principal: principal.id().to_string(),
        principal_type: principal.cedar_type().to_string(),
        org_code: principal.org_code().to_string(),
        resource: resource.key(),
        action: action.as_str().to_string(),
        permit,
        policies,
        compiled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DepartmentSystem, OrgKind, User};
    use xiezhi_standard::{Entity as StdEntity, Level};

    /// The hot path builds entities and requests without schema checks; this checks that what
    /// it builds conforms to the schema.
    #[test]
    fn built_entities_and_requests_conform_to_the_schema() {
        let mut authz = Authorizer::builtin().unwrap();
        authz
            .link_grant(Grant {
                request_id: "R1".into(),
                policy_id: "grant:R1".into(),
                grantee: "u1".into(),
                case_uid: "C1".into(),
                scopes: vec!["person.name".into()],
                purpose: "核查".into(),
                expires: NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
                granted_by: "s".into(),
            })
            .unwrap();
        let user = Principal::User(User {
            id: "u1".into(),
            name: "x".into(),
            org_code: "GA522301".into(),
            org_kind: OrgKind::Police,
            division: "522301".into(),
            role: Role::CaseHandler,
            clearance: Level::L3,
        });
        let system = Principal::System(DepartmentSystem {
            id: "sys".into(),
            org_code: "GA520102".into(),
            org_kind: OrgKind::Police,
            public_key_hex: "00".into(),
        });
        let case = CaseResource {
            case_uid: "C1".into(),
            participating_orgs: vec!["GA520102".into()],
            transferred_to: vec![
                ("JC520102".into(), vec!["*".into()]),
                ("JC520102".into(), vec!["person".into()]),
            ],
            jurisdiction_divisions: vec!["520102".into()],
            ongoing_investigation: true,
            raised_levels: Default::default(),
        };
        let schema = authz.store.schema().clone();
        let field = FieldRef::standard(StdEntity::Person, "name").unwrap();
        for p in [&user, &system] {
            let (puid, pent) = authz.principal_entity(p).unwrap();
            let (ruid, rent) = authz.case_entity(&case).unwrap();
            Entities::from_entities([pent, rent], Some(&schema)).unwrap();
            let ctx = authz
                .context(field, NaiveDate::from_ymd_opt(2025, 3, 1).unwrap())
                .unwrap();
            Request::new(
                puid,
                authz.action_uid(Action::Read),
                ruid,
                ctx,
                Some(&schema),
            )
            .unwrap();
        }
        assert_eq!(
            day_number(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()),
            20250630
        );
    }
}
