//! The compiled path: decide a listing of many rows without calling Cedar per row.
//!
//! Cedar answers one request in tens of microseconds; a listing of 10⁵ rows needs more. So for a
//! principal, an action and an entity, [`Authorizer::compile`] runs Cedar's type-aware partial
//! evaluation (TPE, feature `tpe`, experimental in cedar-policy 4.x) once per field and level
//! with the principal and the context known and the case unknown. What is left are residual
//! conditions over the case (`resource.participating_orgs.contains("GA520102")`); they are
//! compiled here into small predicate trees, deduplicated across fields, and evaluated per row
//! with plain comparisons. The result names the same Cedar policies plain `is_authorized`
//! would: a differential test (`tests/differential.rs`) checks the two on random principals,
//! cases and grants.
//!
//! Limits, by design: the interpreter covers the Cedar core that residuals over a `Case` can
//! contain (boolean logic, comparisons and arithmetic on Longs, strings, sets, records, `like`,
//! `is`, `in` without hierarchy, `has`, tags). A residual using anything else (the decimal, ip
//! or datetime extensions) is not interpreted: its field falls back to plain Cedar per row, and
//! [`CompileStats::fallbacks`] counts those fields. A view borrows the [`Authorizer`], so grants
//! and policies cannot change under it; build a new view after a change.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cedar_policy::pst;
use cedar_policy::{Effect, Entities, PartialEntities, PartialEntityUid, PartialRequest};
use serde::Serialize;
use xiezhi_standard::{Entity, FieldDef, Level, Record};

use crate::decision::{
    day_number, decision_event, level_number, Action, Authorizer, PolicyRef, RequestContext,
};
use crate::mask::{
    apply_action, clearance_action, field_decision, operator_for, FieldAction, MaskingPlan, Salt,
    REDACTED,
};
use crate::principal::{CaseResource, FieldRef, Principal, Resource};
use crate::{AccessError, AccessEvent};

/// What compiling cost and produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CompileStats {
    /// Partial evaluations run (one per field and level).
    pub partial_evaluations: usize,
    /// Distinct residual groups after deduplication.
    pub groups: usize,
    /// (field, level) pairs decided by plain Cedar per row because a residual used something
    /// the interpreter does not cover.
    pub fallbacks: usize,
}

/// A decision on the compiled path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FastDecision {
    pub permit: bool,
    /// Determining policy ids, sorted (as [`crate::Decision::policies`]).
    pub policies: Vec<String>,
}

/// The authorizer a view falls back to: borrowed for a one-off view, shared for a view kept in
/// a cache across requests.
enum AuthzRef<'a> {
    Borrowed(&'a Authorizer),
    Shared(Arc<Authorizer>),
}

impl std::ops::Deref for AuthzRef<'_> {
    type Target = Authorizer;
    fn deref(&self) -> &Authorizer {
        match self {
            AuthzRef::Borrowed(a) => a,
            AuthzRef::Shared(a) => a,
        }
    }
}

/// The policy set compiled for one principal, action and entity.
pub struct CompiledView<'a> {
    authz: AuthzRef<'a>,
    principal: Cow<'a, Principal>,
    action: Action,
    entity: Entity,
    ctx: RequestContext,
    env: PrincipalEnv,
    fields: Vec<CompiledField>,
    groups: Vec<Group>,
    /// Interned policy ids and their explanations.
    policy_ids: Vec<String>,
    refs: Vec<PolicyRef>,
    stats: CompileStats,
}

struct CompiledField {
    def: &'static FieldDef,
    /// Group per level (index L1..L4); `None` below the field's standard level.
    by_level: [Option<usize>; 4],
    /// Action for a permitted value, per level.
    actions: [FieldAction; 4],
}

enum Group {
    Residual {
        true_permits: Vec<usize>,
        true_forbids: Vec<usize>,
        permits: Vec<(usize, Node)>,
        forbids: Vec<(usize, Node)>,
        /// The residuals in Cedar syntax, for [`CompiledView::describe`].
        text: String,
    },
    /// Decided by plain Cedar per row.
    Fallback { level: Level, field: &'static str },
}

/// The known principal, for residuals that still name it (`User::"u1".hasTag(resource.uid)`).
struct PrincipalEnv {
    ty: String,
    id: String,
    attrs: Vec<(String, Val<'static>)>,
    /// Grant tags: case uid → tag.
    tags: BTreeMap<String, GrantTag>,
}

#[derive(Debug)]
struct GrantTag {
    request_id: String,
    scopes: Vec<String>,
    expires: i64,
}

impl Authorizer {
    /// Compiles the policy set for `principal` reading `entity` records at `ctx`.
    pub fn compile<'a>(
        &'a self,
        principal: &'a Principal,
        action: Action,
        entity: Entity,
        ctx: &RequestContext,
    ) -> Result<CompiledView<'a>, AccessError> {
        self.compile_inner(principal, action, entity, ctx, true)
    }

    /// [`Authorizer::compile`] for a view that outlives the borrow: it keeps an `Arc` of the
    /// authorizer and its own copy of the principal, so a server can cache it per principal
    /// and policy generation ([`Authorizer::generation`]) and day.
    pub fn compile_shared(
        authz: &Arc<Authorizer>,
        principal: &Principal,
        action: Action,
        entity: Entity,
        ctx: &RequestContext,
    ) -> Result<CompiledView<'static>, AccessError> {
        let view = authz.compile_inner(principal, action, entity, ctx, true)?;
        Ok(CompiledView {
            authz: AuthzRef::Shared(Arc::clone(authz)),
            principal: Cow::Owned(principal.clone()),
            action: view.action,
            entity: view.entity,
            ctx: view.ctx,
            env: view.env,
            fields: view.fields,
            groups: view.groups,
            policy_ids: view.policy_ids,
            refs: view.refs,
            stats: view.stats,
        })
    }

    /// `interpret == false` sends every field to the per-row Cedar fallback (tests).
    pub(crate) fn compile_inner<'a>(
        &'a self,
        principal: &'a Principal,
        action: Action,
        entity: Entity,
        ctx: &RequestContext,
        interpret: bool,
    ) -> Result<CompiledView<'a>, AccessError> {
        let schema = &self.store.schema;
        let (puid, pent) = self.principal_entity(principal)?;
        let entities = Entities::from_entities([pent], None).map_err(AccessError::cedar)?;
        let partial =
            PartialEntities::from_concrete(entities, schema).map_err(AccessError::cedar)?;
        let env = principal_env(self, principal);

        let mut view = CompiledView {
            authz: AuthzRef::Borrowed(self),
            principal: Cow::Borrowed(principal),
            action,
            entity,
            ctx: *ctx,
            env,
            fields: Vec::new(),
            groups: Vec::new(),
            policy_ids: Vec::new(),
            refs: Vec::new(),
            stats: CompileStats::default(),
        };
        let mut interned: HashMap<String, usize> = HashMap::new();
        let mut by_signature: HashMap<String, usize> = HashMap::new();
        for def in entity.fields() {
            let mut by_level = [None; 4];
            let mut actions = [FieldAction::Redact; 4];
            for level in [Level::L1, Level::L2, Level::L3, Level::L4] {
                if level < def.level {
                    continue;
                }
                let slot = level_index(level);
                actions[slot] =
                    clearance_action(principal.clearance(), level, operator_for(entity, def));
                let field = FieldRef {
                    entity,
                    field: def.name,
                    level,
                };
                let context = self.context(field, ctx.today())?;
                let request = PartialRequest::new(
                    PartialEntityUid::from_concrete(puid.clone()),
                    self.action_uid(action),
                    PartialEntityUid::new(self.names.case.clone(), None),
                    Some(context),
                    schema,
                )
                .map_err(AccessError::cedar)?;
                let response = self
                    .store
                    .set
                    .tpe(&request, &partial, schema)
                    .map_err(AccessError::cedar)?;
                view.stats.partial_evaluations += 1;

                let mut intern = |id: &str, view: &mut CompiledView<'a>| -> usize {
                    if let Some(&i) = interned.get(id) {
                        return i;
                    }
                    let i = view.policy_ids.len();
                    view.policy_ids.push(id.to_string());
                    view.refs.push(self.policy_ref(id));
                    interned.insert(id.to_string(), i);
                    i
                };
                let mut true_permits: Vec<String> =
                    response.true_permits().map(|p| p.to_string()).collect();
                let mut true_forbids: Vec<String> =
                    response.true_forbids().map(|p| p.to_string()).collect();
                true_permits.sort();
                true_forbids.sort();
                let mut residuals: Vec<(String, Effect, String, Option<Node>)> = Vec::new();
                for policy in response.residual_policies() {
                    let id = policy.id().to_string();
                    let text = policy.to_string();
                    let node = policy.to_pst().ok().and_then(|p| compile_policy(&p).ok());
                    residuals.push((id, policy.effect(), text, node));
                }
                residuals.sort_by(|a, b| a.0.cmp(&b.0));
                let signature = format!(
                    "{true_permits:?}|{true_forbids:?}|{:?}",
                    residuals.iter().map(|r| &r.2).collect::<Vec<_>>()
                );
                let group = if let Some(&g) = by_signature.get(&signature) {
                    g
                } else {
                    let g = if !interpret || residuals.iter().any(|r| r.3.is_none()) {
                        view.stats.fallbacks += 1;
                        Group::Fallback {
                            level,
                            field: def.name,
                        }
                    } else {
                        let mut text = String::new();
                        let mut permits = Vec::new();
                        let mut forbids = Vec::new();
                        for (id, effect, t, node) in residuals {
                            text.push_str(&t);
                            text.push('\n');
                            let i = intern(&id, &mut view);
                            if let Some(node) = node {
                                match effect {
                                    Effect::Permit => permits.push((i, node)),
                                    Effect::Forbid => forbids.push((i, node)),
                                }
                            }
                        }
                        Group::Residual {
                            true_permits: true_permits
                                .iter()
                                .map(|id| intern(id, &mut view))
                                .collect(),
                            true_forbids: true_forbids
                                .iter()
                                .map(|id| intern(id, &mut view))
                                .collect(),
                            permits,
                            forbids,
                            text,
                        }
                    };
                    view.groups.push(g);
                    let g = view.groups.len() - 1;
                    by_signature.insert(signature, g);
                    g
                };
                by_level[slot] = Some(group);
            }
            view.fields.push(CompiledField {
                def,
                by_level,
                actions,
            });
        }
        if view.stats.fallbacks > 0 {
            // Fallback groups learn their determining policies from Cedar at run time: intern
            // every policy of the set so that any of them can be named.
            let mut ids: Vec<String> = self
                .store
                .set
                .policies()
                .map(|p| p.id().to_string())
                .collect();
            ids.sort();
            for id in ids {
                if !interned.contains_key(&id) {
                    interned.insert(id.clone(), view.policy_ids.len());
                    view.refs.push(self.policy_ref(&id));
                    view.policy_ids.push(id);
                }
            }
        }
        view.stats.groups = view.groups.len();
        Ok(view)
    }
}

fn level_index(level: Level) -> usize {
    match level {
        Level::L1 => 0,
        Level::L2 => 1,
        Level::L3 => 2,
        Level::L4 => 3,
    }
}

fn principal_env(authz: &Authorizer, principal: &Principal) -> PrincipalEnv {
    let s = |v: &str| Val::Str(Cow::Owned(v.to_string()));
    let clearance = Val::Long(level_number(principal.clearance()));
    let (attrs, tags) = match principal {
        Principal::User(u) => (
            vec![
                ("clearance".to_string(), clearance),
                ("division".to_string(), s(&u.division)),
                ("jurisdiction".to_string(), s(u.jurisdiction())),
                ("org_code".to_string(), s(&u.org_code)),
                ("org_kind".to_string(), s(u.org_kind.as_str())),
                ("role".to_string(), s(u.role.as_str())),
            ],
            authz
                .grants_of(&u.id)
                .map(|g| {
                    (
                        g.case_uid.clone(),
                        GrantTag {
                            request_id: g.request_id.clone(),
                            scopes: g.scopes.clone(),
                            expires: day_number(g.expires),
                        },
                    )
                })
                .collect(),
        ),
        Principal::System(sys) => (
            vec![
                ("clearance".to_string(), clearance),
                ("org_code".to_string(), s(&sys.org_code)),
                ("org_kind".to_string(), s(sys.org_kind.as_str())),
            ],
            BTreeMap::new(),
        ),
    };
    PrincipalEnv {
        ty: principal.cedar_type().to_string(),
        id: principal.id().to_string(),
        attrs,
        tags,
    }
}

impl<'a> CompiledView<'a> {
    pub fn stats(&self) -> CompileStats {
        self.stats
    }

    pub fn entity(&self) -> Entity {
        self.entity
    }

    /// The residual conditions per group, in Cedar syntax: the row filter this view applies.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (i, g) in self.groups.iter().enumerate() {
            let fields: Vec<String> = self
                .fields
                .iter()
                .flat_map(|f| {
                    f.by_level
                        .iter()
                        .enumerate()
                        .filter(move |(_, gi)| **gi == Some(i))
                        .map(move |(l, _)| format!("{}@L{}", f.def.name, l + 1))
                })
                .collect();
            out.push_str(&format!("# group {i}: {}\n", fields.join(", ")));
            match g {
                Group::Residual {
                    true_permits,
                    true_forbids,
                    text,
                    ..
                } => {
                    for &p in true_permits {
                        out.push_str(&format!("# always permitted by {}\n", self.policy_ids[p]));
                    }
                    for &p in true_forbids {
                        out.push_str(&format!("# always forbidden by {}\n", self.policy_ids[p]));
                    }
                    out.push_str(text);
                }
                Group::Fallback { .. } => out.push_str("# decided by Cedar per row\n"),
            }
        }
        out
    }

    fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.def.name == name)
    }

    fn group_of(&self, case: &CaseResource, idx: usize) -> (usize, Level) {
        let f = &self.fields[idx];
        let level = case.level_of(self.entity, f.def);
        // `level >= def.level`, so the slot is always compiled.
        let g = f.by_level[level_index(level)].unwrap_or(0);
        (g, level)
    }

    /// Evaluates a group for a row. With `ids`, collects the determining policies.
    fn eval_group(
        &self,
        g: usize,
        case: &CaseResource,
        ids: Option<&mut Vec<usize>>,
    ) -> Result<bool, AccessError> {
        let env = Env {
            row: case,
            principal: &self.env,
        };
        match &self.groups[g] {
            Group::Residual {
                true_permits,
                true_forbids,
                permits,
                forbids,
                ..
            } => {
                let holds = |node: &Node| matches!(node.eval(&env), Ok(Val::Bool(true)));
                match ids {
                    None => {
                        if !true_forbids.is_empty() || forbids.iter().any(|(_, n)| holds(n)) {
                            return Ok(false);
                        }
                        Ok(!true_permits.is_empty() || permits.iter().any(|(_, n)| holds(n)))
                    }
                    Some(out) => {
                        out.clear();
                        out.extend(true_forbids.iter().copied());
                        out.extend(forbids.iter().filter(|(_, n)| holds(n)).map(|(i, _)| *i));
                        if !out.is_empty() {
                            return Ok(false);
                        }
                        out.extend(true_permits.iter().copied());
                        out.extend(permits.iter().filter(|(_, n)| holds(n)).map(|(i, _)| *i));
                        Ok(!out.is_empty())
                    }
                }
            }
            Group::Fallback { level, field } => {
                let field = FieldRef {
                    entity: self.entity,
                    field,
                    level: *level,
                };
                let (permit, names, _) = self.authz.cedar_decide(
                    &self.principal,
                    self.action,
                    &Resource::new(case, field),
                    &self.ctx,
                )?;
                if let Some(out) = ids {
                    out.clear();
                    for n in names {
                        match self.policy_ids.iter().position(|p| *p == n) {
                            Some(i) => out.push(i),
                            None => {
                                // Not interned at compile time (cannot happen for policies of
                                // the set, but keep the id rather than lose it).
                                return Err(AccessError::Cedar {
                                    message: format!("unexpected policy {n} on fallback"),
                                });
                            }
                        }
                    }
                }
                Ok(permit)
            }
        }
    }

    /// Decides one field of a row.
    pub fn decide(&self, case: &CaseResource, field: &str) -> Result<FastDecision, AccessError> {
        let idx = self
            .field_index(field)
            .ok_or_else(|| AccessError::UnknownField {
                entity: self.entity.name().to_string(),
                field: field.to_string(),
            })?;
        let (g, _) = self.group_of(case, idx);
        let mut ids = Vec::new();
        let permit = self.eval_group(g, case, Some(&mut ids))?;
        let mut policies: Vec<String> = ids.iter().map(|&i| self.policy_ids[i].clone()).collect();
        policies.sort();
        policies.dedup();
        Ok(FastDecision { permit, policies })
    }

    /// [`CompiledView::decide`] with its ledger event.
    pub fn decide_with_event(
        &self,
        case: &CaseResource,
        field: &str,
    ) -> Result<(FastDecision, AccessEvent), AccessError> {
        let d = self.decide(case, field)?;
        let level = self
            .field_index(field)
            .map(|i| self.group_of(case, i).1)
            .unwrap_or(Level::L1);
        let def_name = self
            .field_index(field)
            .map(|i| self.fields[i].def.name)
            .unwrap_or("");
        let resource = Resource::new(
            case,
            FieldRef {
                entity: self.entity,
                field: def_name,
                level,
            },
        );
        let event = decision_event(
            &self.principal,
            self.action,
            &resource,
            &self.ctx,
            d.permit,
            d.policies.clone(),
            true,
        );
        Ok((d, event))
    }

    /// The row filter: whether any field of the row is readable.
    pub fn row_visible(&self, case: &CaseResource) -> Result<bool, AccessError> {
        let mut seen: Vec<usize> = Vec::with_capacity(4);
        for idx in 0..self.fields.len() {
            let (g, _) = self.group_of(case, idx);
            if seen.contains(&g) {
                continue;
            }
            seen.push(g);
            if self.eval_group(g, case, None)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The masking plan of a row, explained (as [`MaskingPlan::build`] on plain Cedar).
    pub fn plan(&self, case: &CaseResource) -> Result<MaskingPlan, AccessError> {
        self.plan_at(case, self.ctx.now)
    }

    /// The day the view was compiled for: grants are judged by it, so a cached view serves
    /// requests of that day only.
    pub fn day(&self) -> chrono::NaiveDate {
        self.ctx.today()
    }

    /// [`CompiledView::plan`] for a request made at `now` (on the view's [`CompiledView::day`]),
    /// so a cached view stamps each read with its own time.
    pub fn plan_at(
        &self,
        case: &CaseResource,
        now: chrono::NaiveDateTime,
    ) -> Result<MaskingPlan, AccessError> {
        self.plan_with(case, now, true)
    }

    /// As [`CompiledView::plan_at`] without the per-field decision events
    /// ([`MaskingPlan::events`] is empty): for a case read, which logs its decisions, grouped,
    /// in its one `case_read` entry built from [`MaskingPlan::fields`].
    pub fn read_plan_at(
        &self,
        case: &CaseResource,
        now: chrono::NaiveDateTime,
    ) -> Result<MaskingPlan, AccessError> {
        self.plan_with(case, now, false)
    }

    fn plan_with(
        &self,
        case: &CaseResource,
        now: chrono::NaiveDateTime,
        with_events: bool,
    ) -> Result<MaskingPlan, AccessError> {
        debug_assert_eq!(now.date(), self.ctx.today(), "a view serves its own day");
        let ctx = RequestContext::new(now);
        let mut fields = Vec::new();
        let mut events = Vec::new();
        let mut ids = Vec::new();
        for (idx, f) in self.fields.iter().enumerate() {
            let (g, level) = self.group_of(case, idx);
            let permit = self.eval_group(g, case, Some(&mut ids))?;
            ids.sort_by(|a, b| self.policy_ids[*a].cmp(&self.policy_ids[*b]));
            ids.dedup();
            let refs: Vec<PolicyRef> = ids.iter().map(|&i| self.refs[i].clone()).collect();
            fields.push(field_decision(
                self.entity,
                f.def,
                level,
                self.principal.clearance(),
                permit,
                &refs,
            ));
            if !with_events {
                continue;
            }
            let resource = Resource::new(
                case,
                FieldRef {
                    entity: self.entity,
                    field: f.def.name,
                    level,
                },
            );
            events.push(decision_event(
                &self.principal,
                self.action,
                &resource,
                &ctx,
                permit,
                refs.into_iter().map(|r| r.id).collect(),
                true,
            ));
        }
        Ok(MaskingPlan {
            entity: self.entity,
            case_uid: case.case_uid.clone(),
            principal: self.principal.id().to_string(),
            clearance: self.principal.clearance(),
            fields,
            events,
        })
    }

    /// Masks one row: `None` if no field of it is readable (the row is filtered out), else the
    /// text of every field of the record. No explanation is built; use [`CompiledView::plan`]
    /// for one.
    pub fn mask_row(
        &self,
        case: &CaseResource,
        record: &Record,
        salt: &Salt,
    ) -> Result<Option<Vec<(&'static str, String)>>, AccessError> {
        if record.entity != self.entity {
            return Err(AccessError::EntityMismatch {
                expected: self.entity.name().to_string(),
                found: record.entity.name().to_string(),
            });
        }
        // Memo per group for this row: 0 unknown, 1 deny, 2 permit.
        let mut memo = vec![0u8; self.groups.len()];
        let mut any = false;
        let mut out = Vec::with_capacity(record.fields.len());
        for (name, value) in &record.fields {
            let Some(idx) = self.field_index(name) else {
                out.push((*name, REDACTED.to_string()));
                continue;
            };
            let (g, level) = self.group_of(case, idx);
            if memo[g] == 0 {
                memo[g] = if self.eval_group(g, case, None)? {
                    2
                } else {
                    1
                };
            }
            let action = if memo[g] == 2 {
                any = true;
                self.fields[idx].actions[level_index(level)]
            } else {
                FieldAction::Redact
            };
            out.push((*name, apply_action(action, value, salt)));
        }
        Ok(any.then_some(out))
    }

    /// The ledger entry for a listing decided on this view.
    pub fn listing_event(&self, rows_considered: u64, rows_returned: u64) -> AccessEvent {
        AccessEvent::Listing {
            at: self.ctx.now,
            principal: self.principal.id().to_string(),
            org_code: self.principal.org_code().to_string(),
            entity: self.entity.name().to_string(),
            action: self.action.as_str().to_string(),
            rows_considered,
            rows_returned,
            policies: self.policy_ids.clone(),
        }
    }
}

// ----- residual interpreter -----

/// Attributes of the unknown resource (`Case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RAttr {
    Uid,
    ParticipatingOrgs,
    JurisdictionPrefixes,
    OngoingInvestigation,
}

impl RAttr {
    fn parse(name: &str) -> Option<RAttr> {
        Some(match name {
            "uid" => RAttr::Uid,
            "participating_orgs" => RAttr::ParticipatingOrgs,
            "jurisdiction_prefixes" => RAttr::JurisdictionPrefixes,
            "ongoing_investigation" => RAttr::OngoingInvestigation,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bin {
    Eq,
    NotEq,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    And,
    Or,
    Add,
    Sub,
    Mul,
    In,
    Contains,
    ContainsAll,
    ContainsAny,
    GetTag,
    HasTag,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pat {
    Char(char),
    Wildcard,
}

/// A residual condition, compiled.
#[derive(Debug, Clone)]
enum Node {
    Bool(bool),
    Long(i64),
    Str(String),
    Entity(String, String),
    Resource,
    RAttr(RAttr),
    Not(Box<Node>),
    Neg(Box<Node>),
    IsEmpty(Box<Node>),
    Bin(Bin, Box<Node>, Box<Node>),
    GetAttr(Box<Node>, String),
    HasAttr(Box<Node>, Vec<String>),
    Like(Box<Node>, Vec<Pat>),
    Is(Box<Node>, String, Option<Box<Node>>),
    If(Box<Node>, Box<Node>, Box<Node>),
    Set(Vec<Node>),
    Record(Vec<(String, Node)>),
    /// A subexpression TPE found always errors.
    Error,
}

#[derive(Debug)]
struct Unsupported;

/// Compiles a residual policy (unconstrained scope, `when`/`unless` clauses) into one condition.
fn compile_policy(policy: &pst::Policy) -> Result<Node, Unsupported> {
    let body = policy.body();
    if !matches!(body.principal, pst::PrincipalConstraint::Any)
        || !matches!(body.action, pst::ActionConstraint::Any)
        || !matches!(body.resource, pst::ResourceConstraint::Any)
    {
        return Err(Unsupported);
    }
    let mut cond: Option<Node> = None;
    for clause in body.clauses() {
        let c = match clause {
            pst::Clause::When(e) => compile(e)?,
            pst::Clause::Unless(e) => Node::Not(Box::new(compile(e)?)),
        };
        cond = Some(match cond {
            None => c,
            Some(prev) => Node::Bin(Bin::And, Box::new(prev), Box::new(c)),
        });
    }
    Ok(cond.unwrap_or(Node::Bool(true)))
}

fn compile(e: &Arc<pst::Expr>) -> Result<Node, Unsupported> {
    let b = |e: &Arc<pst::Expr>| compile(e).map(Box::new);
    Ok(match e.as_ref() {
        pst::Expr::Literal(l) => match l {
            pst::Literal::Bool(v) => Node::Bool(*v),
            pst::Literal::Long(v) => Node::Long(*v),
            pst::Literal::String(s) => Node::Str(s.to_string()),
            pst::Literal::EntityUID(u) => Node::Entity(u.ty.to_string(), u.eid.to_string()),
            _ => return Err(Unsupported),
        },
        pst::Expr::Var(pst::Var::Resource) => Node::Resource,
        pst::Expr::Var(_) | pst::Expr::Slot(_) | pst::Expr::Unknown { .. } => {
            return Err(Unsupported)
        }
        pst::Expr::UnaryOp { op, expr } => match op {
            pst::UnaryOp::Not => Node::Not(b(expr)?),
            pst::UnaryOp::Neg => Node::Neg(b(expr)?),
            pst::UnaryOp::IsEmpty => Node::IsEmpty(b(expr)?),
            _ => return Err(Unsupported),
        },
        pst::Expr::BinaryOp { op, left, right } => {
            let op = match op {
                pst::BinaryOp::Eq => Bin::Eq,
                pst::BinaryOp::NotEq => Bin::NotEq,
                pst::BinaryOp::Less => Bin::Less,
                pst::BinaryOp::LessEq => Bin::LessEq,
                pst::BinaryOp::Greater => Bin::Greater,
                pst::BinaryOp::GreaterEq => Bin::GreaterEq,
                pst::BinaryOp::And => Bin::And,
                pst::BinaryOp::Or => Bin::Or,
                pst::BinaryOp::Add => Bin::Add,
                pst::BinaryOp::Sub => Bin::Sub,
                pst::BinaryOp::Mul => Bin::Mul,
                pst::BinaryOp::In => Bin::In,
                pst::BinaryOp::Contains => Bin::Contains,
                pst::BinaryOp::ContainsAll => Bin::ContainsAll,
                pst::BinaryOp::ContainsAny => Bin::ContainsAny,
                pst::BinaryOp::GetTag => Bin::GetTag,
                pst::BinaryOp::HasTag => Bin::HasTag,
                _ => return Err(Unsupported),
            };
            Node::Bin(op, b(left)?, b(right)?)
        }
        pst::Expr::GetAttr { expr, attr } => {
            if matches!(expr.as_ref(), pst::Expr::Var(pst::Var::Resource)) {
                if let Some(a) = RAttr::parse(attr) {
                    return Ok(Node::RAttr(a));
                }
            }
            Node::GetAttr(b(expr)?, attr.to_string())
        }
        pst::Expr::HasAttr { expr, attrs } => {
            Node::HasAttr(b(expr)?, attrs.iter().map(|a| a.to_string()).collect())
        }
        pst::Expr::Like { expr, pattern } => Node::Like(
            b(expr)?,
            pattern
                .iter()
                .map(|p| match p {
                    pst::PatternElem::Char(c) => Pat::Char(*c),
                    pst::PatternElem::Wildcard => Pat::Wildcard,
                })
                .collect(),
        ),
        pst::Expr::Is {
            expr,
            entity_type,
            in_expr,
        } => Node::Is(
            b(expr)?,
            entity_type.to_string(),
            in_expr.as_ref().map(b).transpose()?,
        ),
        pst::Expr::IfThenElse {
            cond,
            then_expr,
            else_expr,
        } => Node::If(b(cond)?, b(then_expr)?, b(else_expr)?),
        pst::Expr::Set(items) => Node::Set(items.iter().map(compile).collect::<Result<_, _>>()?),
        pst::Expr::Record(fields) => Node::Record(
            fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), compile(v)?)))
                .collect::<Result<_, _>>()?,
        ),
        pst::Expr::ResidualError => Node::Error,
        _ => return Err(Unsupported),
    })
}

/// A runtime value. Row sets stay borrowed and are materialised only when a generic operation
/// needs them.
#[derive(Debug, Clone)]
enum Val<'r> {
    Bool(bool),
    Long(i64),
    Str(Cow<'r, str>),
    Entity(Cow<'r, str>, Cow<'r, str>),
    Set(Vec<Val<'r>>),
    Record(Vec<(Cow<'r, str>, Val<'r>)>),
    /// `resource.participating_orgs`.
    Orgs(&'r [String]),
    /// `resource.jurisdiction_prefixes`, from the case's divisions.
    Prefixes(&'r CaseResource),
    /// `resource.getTag(org)`: transferred scopes.
    Scopes(Vec<&'r str>),
    /// `principal.getTag(case)`: a grant.
    Grant(&'r GrantTag),
}

/// An evaluation error: the policy is skipped, as Cedar skips a policy that errors.
#[derive(Debug)]
struct EvalError;

type R<T> = Result<T, EvalError>;

struct Env<'r> {
    row: &'r CaseResource,
    principal: &'r PrincipalEnv,
}

impl<'r> Val<'r> {
    fn as_bool(&self) -> R<bool> {
        match self {
            Val::Bool(b) => Ok(*b),
            _ => Err(EvalError),
        }
    }

    fn as_long(&self) -> R<i64> {
        match self {
            Val::Long(n) => Ok(*n),
            _ => Err(EvalError),
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    fn is_set(&self) -> bool {
        matches!(
            self,
            Val::Set(_) | Val::Orgs(_) | Val::Prefixes(_) | Val::Scopes(_)
        )
    }

    /// The elements of a set value.
    fn elements(&self) -> R<Vec<Val<'r>>> {
        let s = |v: &'r str| Val::Str(Cow::Borrowed(v));
        Ok(match self {
            Val::Set(v) => v.clone(),
            Val::Orgs(orgs) => orgs.iter().map(|o| s(o)).collect(),
            Val::Prefixes(case) => case.jurisdiction_prefixes().into_iter().map(s).collect(),
            Val::Scopes(v) => v.iter().map(|x| s(x)).collect(),
            _ => return Err(EvalError),
        })
    }

    /// Set membership without materialising row sets.
    fn set_contains(&self, needle: &Val<'_>) -> R<bool> {
        match (self, needle) {
            (Val::Orgs(orgs), Val::Str(n)) => Ok(orgs.iter().any(|o| o == n.as_ref())),
            (Val::Prefixes(case), Val::Str(n)) => Ok(case.has_jurisdiction_prefix(n)),
            (Val::Scopes(v), Val::Str(n)) => Ok(v.iter().any(|x| *x == n.as_ref())),
            (Val::Orgs(_) | Val::Prefixes(_) | Val::Scopes(_), _) => Ok(false),
            (Val::Set(v), n) => Ok(v.iter().any(|x| val_eq(x, n))),
            _ => Err(EvalError),
        }
    }
}

fn val_eq(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Long(x), Val::Long(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Entity(t1, i1), Val::Entity(t2, i2)) => t1 == t2 && i1 == i2,
        (Val::Record(x), Val::Record(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .find(|(k2, _)| k2 == k)
                        .is_some_and(|(_, v2)| val_eq(v, v2))
                })
        }
        (Val::Grant(_), _) | (_, Val::Grant(_)) => match (grant_record(a), grant_record(b)) {
            (Some(x), Some(y)) => val_eq(&x, &y),
            _ => false,
        },
        _ if a.is_set() && b.is_set() => match (a.elements(), b.elements()) {
            (Ok(x), Ok(y)) => {
                x.iter().all(|v| y.iter().any(|w| val_eq(v, w)))
                    && y.iter().all(|w| x.iter().any(|v| val_eq(v, w)))
            }
            _ => false,
        },
        _ => false,
    }
}

fn grant_record<'r>(v: &Val<'r>) -> Option<Val<'r>> {
    match v {
        Val::Grant(g) => Some(Val::Record(vec![
            (Cow::Borrowed("expires"), Val::Long(g.expires)),
            (
                Cow::Borrowed("request_id"),
                Val::Str(Cow::Borrowed(&g.request_id)),
            ),
            (
                Cow::Borrowed("scopes"),
                Val::Set(
                    g.scopes
                        .iter()
                        .map(|s| Val::Str(Cow::Borrowed(s.as_str())))
                        .collect(),
                ),
            ),
        ])),
        Val::Record(_) => Some(v.clone()),
        _ => None,
    }
}

/// Which entity a value names: the row's case, the principal, or something absent.
enum Who {
    Row,
    Principal,
    Absent,
}

impl Env<'_> {
    fn who(&self, ty: &str, id: &str) -> Who {
        if ty == "Case" && id == self.row.case_uid {
            Who::Row
        } else if ty == self.principal.ty && id == self.principal.id {
            Who::Principal
        } else {
            Who::Absent
        }
    }
}

fn like(s: &str, pat: &[Pat]) -> bool {
    let chars: Vec<char> = s.chars().collect();
    // Classic wildcard matching with backtracking over the last `*`.
    let (mut i, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < chars.len() {
        match pat.get(p) {
            Some(Pat::Char(c)) if *c == chars[i] => {
                i += 1;
                p += 1;
            }
            Some(Pat::Wildcard) => {
                star = Some((p, i));
                p += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[p.min(pat.len())..].iter().all(|x| *x == Pat::Wildcard)
}

impl Node {
    fn eval<'r>(&'r self, env: &Env<'r>) -> R<Val<'r>> {
        let row = env.row;
        Ok(match self {
            Node::Bool(b) => Val::Bool(*b),
            Node::Long(n) => Val::Long(*n),
            Node::Str(s) => Val::Str(Cow::Borrowed(s)),
            Node::Entity(t, i) => Val::Entity(Cow::Borrowed(t), Cow::Borrowed(i)),
            Node::Resource => Val::Entity(Cow::Borrowed("Case"), Cow::Borrowed(&row.case_uid)),
            Node::RAttr(a) => match a {
                RAttr::Uid => Val::Str(Cow::Borrowed(&row.case_uid)),
                RAttr::ParticipatingOrgs => Val::Orgs(&row.participating_orgs),
                RAttr::JurisdictionPrefixes => Val::Prefixes(row),
                RAttr::OngoingInvestigation => Val::Bool(row.ongoing_investigation),
            },
            Node::Not(e) => Val::Bool(!e.eval(env)?.as_bool()?),
            Node::Neg(e) => Val::Long(e.eval(env)?.as_long()?.checked_neg().ok_or(EvalError)?),
            Node::IsEmpty(e) => {
                let v = e.eval(env)?;
                match &v {
                    Val::Set(s) => Val::Bool(s.is_empty()),
                    Val::Orgs(o) => Val::Bool(o.is_empty()),
                    Val::Scopes(s) => Val::Bool(s.is_empty()),
                    Val::Prefixes(_) => Val::Bool(v.elements()?.is_empty()),
                    _ => return Err(EvalError),
                }
            }
            Node::Bin(op, l, r) => return eval_bin(*op, l, r, env),
            Node::GetAttr(e, attr) => {
                let v = e.eval(env)?;
                get_attr(v, attr, env)?
            }
            Node::HasAttr(e, attrs) => {
                let mut v = e.eval(env)?;
                for (k, attr) in attrs.iter().enumerate() {
                    let has = match &v {
                        Val::Entity(t, i) => match env.who(t, i) {
                            Who::Row => RAttr::parse(attr).is_some(),
                            Who::Principal => env.principal.attrs.iter().any(|(n, _)| n == attr),
                            Who::Absent => false,
                        },
                        Val::Record(fields) => fields.iter().any(|(n, _)| n == attr),
                        Val::Grant(_) => {
                            matches!(attr.as_str(), "expires" | "request_id" | "scopes")
                        }
                        _ => return Err(EvalError),
                    };
                    if !has {
                        return Ok(Val::Bool(false));
                    }
                    if k + 1 < attrs.len() {
                        v = get_attr(v, attr, env)?;
                    }
                }
                Val::Bool(true)
            }
            Node::Like(e, pat) => {
                let v = e.eval(env)?;
                Val::Bool(like(v.as_str().ok_or(EvalError)?, pat))
            }
            Node::Is(e, ty, in_expr) => {
                let v = e.eval(env)?;
                let Val::Entity(t, _) = &v else {
                    return Err(EvalError);
                };
                if t != ty {
                    return Ok(Val::Bool(false));
                }
                match in_expr {
                    None => Val::Bool(true),
                    Some(target) => Val::Bool(entity_in(&v, &target.eval(env)?)?),
                }
            }
            Node::If(c, t, e) => {
                if c.eval(env)?.as_bool()? {
                    t.eval(env)?
                } else {
                    e.eval(env)?
                }
            }
            Node::Set(items) => Val::Set(items.iter().map(|n| n.eval(env)).collect::<R<_>>()?),
            Node::Record(fields) => Val::Record(
                fields
                    .iter()
                    .map(|(k, n)| Ok((Cow::Borrowed(k.as_str()), n.eval(env)?)))
                    .collect::<R<_>>()?,
            ),
            Node::Error => return Err(EvalError),
        })
    }
}

/// `a in b` where entities have no ancestors in this model: equality with `b` or a member of it.
fn entity_in(a: &Val<'_>, b: &Val<'_>) -> R<bool> {
    if !matches!(a, Val::Entity(..)) {
        return Err(EvalError);
    }
    match b {
        Val::Entity(..) => Ok(val_eq(a, b)),
        Val::Set(items) => {
            for item in items {
                if !matches!(item, Val::Entity(..)) {
                    return Err(EvalError);
                }
            }
            Ok(items.iter().any(|x| val_eq(a, x)))
        }
        _ => Err(EvalError),
    }
}

fn get_attr<'r>(v: Val<'r>, attr: &str, env: &Env<'r>) -> R<Val<'r>> {
    match &v {
        Val::Entity(t, i) => match env.who(t, i) {
            Who::Row => Ok(match RAttr::parse(attr).ok_or(EvalError)? {
                RAttr::Uid => Val::Str(Cow::Borrowed(&env.row.case_uid)),
                RAttr::ParticipatingOrgs => Val::Orgs(&env.row.participating_orgs),
                RAttr::JurisdictionPrefixes => Val::Prefixes(env.row),
                RAttr::OngoingInvestigation => Val::Bool(env.row.ongoing_investigation),
            }),
            Who::Principal => env
                .principal
                .attrs
                .iter()
                .find(|(n, _)| n == attr)
                .map(|(_, v)| borrow_static(v))
                .ok_or(EvalError),
            Who::Absent => Err(EvalError),
        },
        Val::Grant(g) => Ok(match attr {
            "expires" => Val::Long(g.expires),
            "request_id" => Val::Str(Cow::Borrowed(&g.request_id)),
            "scopes" => Val::Set(
                g.scopes
                    .iter()
                    .map(|s| Val::Str(Cow::Borrowed(s.as_str())))
                    .collect(),
            ),
            _ => return Err(EvalError),
        }),
        Val::Record(fields) => fields
            .iter()
            .find(|(n, _)| n == attr)
            .map(|(_, x)| x.clone())
            .ok_or(EvalError),
        _ => Err(EvalError),
    }
}

fn borrow_static<'r>(v: &'r Val<'static>) -> Val<'r> {
    match v {
        Val::Str(s) => Val::Str(Cow::Borrowed(s.as_ref())),
        other => other.clone(),
    }
}

fn eval_bin<'r>(op: Bin, l: &'r Node, r: &'r Node, env: &Env<'r>) -> R<Val<'r>> {
    // Short-circuit operators first.
    match op {
        Bin::And => {
            if !l.eval(env)?.as_bool()? {
                return Ok(Val::Bool(false));
            }
            return Ok(Val::Bool(r.eval(env)?.as_bool()?));
        }
        Bin::Or => {
            if l.eval(env)?.as_bool()? {
                return Ok(Val::Bool(true));
            }
            return Ok(Val::Bool(r.eval(env)?.as_bool()?));
        }
        _ => {}
    }
    let a = l.eval(env)?;
    // `set.containsAny([literal strings])` is the commonest residual: test the literals against
    // the row set without building it.
    if op == Bin::ContainsAny {
        if let Node::Set(items) = r {
            if items.iter().all(|n| matches!(n, Node::Str(_))) && a.is_set() {
                for n in items {
                    if let Node::Str(s) = n {
                        if a.set_contains(&Val::Str(Cow::Borrowed(s)))? {
                            return Ok(Val::Bool(true));
                        }
                    }
                }
                return Ok(Val::Bool(false));
            }
        }
    }
    let b = r.eval(env)?;
    Ok(match op {
        Bin::Eq => Val::Bool(val_eq(&a, &b)),
        Bin::NotEq => Val::Bool(!val_eq(&a, &b)),
        Bin::Less => Val::Bool(a.as_long()? < b.as_long()?),
        Bin::LessEq => Val::Bool(a.as_long()? <= b.as_long()?),
        Bin::Greater => Val::Bool(a.as_long()? > b.as_long()?),
        Bin::GreaterEq => Val::Bool(a.as_long()? >= b.as_long()?),
        Bin::Add => Val::Long(a.as_long()?.checked_add(b.as_long()?).ok_or(EvalError)?),
        Bin::Sub => Val::Long(a.as_long()?.checked_sub(b.as_long()?).ok_or(EvalError)?),
        Bin::Mul => Val::Long(a.as_long()?.checked_mul(b.as_long()?).ok_or(EvalError)?),
        Bin::In => Val::Bool(entity_in(&a, &b)?),
        Bin::Contains => Val::Bool(a.set_contains(&b)?),
        Bin::ContainsAll | Bin::ContainsAny => {
            if !a.is_set() {
                return Err(EvalError);
            }
            let needles = b.elements()?;
            let mut hits = needles.iter().map(|n| a.set_contains(n));
            let result = if op == Bin::ContainsAll {
                hits.try_fold(true, |acc, h| h.map(|h| acc && h))?
            } else {
                hits.try_fold(false, |acc, h| h.map(|h| acc || h))?
            };
            Val::Bool(result)
        }
        Bin::HasTag => {
            let key = b.as_str().ok_or(EvalError)?;
            let Val::Entity(t, i) = &a else {
                return Err(EvalError);
            };
            Val::Bool(match env.who(t, i) {
                Who::Row => env.row.transferred_to.iter().any(|(o, _)| o == key),
                Who::Principal => env.principal.tags.contains_key(key),
                Who::Absent => false,
            })
        }
        Bin::GetTag => {
            let key = b.as_str().ok_or(EvalError)?;
            let Val::Entity(t, i) = &a else {
                return Err(EvalError);
            };
            match env.who(t, i) {
                Who::Row => Val::Scopes(env.row.transfer_scopes_of(key).ok_or(EvalError)?),
                Who::Principal => Val::Grant(env.principal.tags.get(key).ok_or(EvalError)?),
                Who::Absent => return Err(EvalError),
            }
        }
        Bin::And | Bin::Or => return Err(EvalError),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OrgKind, Role, User};

    #[test]
    fn the_cedar_fallback_decides_like_cedar() {
        let authz = Authorizer::builtin().unwrap();
        let principal = Principal::User(User {
            id: "u1".into(),
            name: "x".into(),
            org_code: "FY520103".into(),
            org_kind: OrgKind::Court,
            division: "520103".into(),
            role: Role::CaseHandler,
            clearance: Level::L2,
        });
        let ctx = RequestContext::on(chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap());
        let cases = [
            CaseResource {
                case_uid: "C1".into(),
                participating_orgs: vec!["FY520103".into()],
                ..Default::default()
            },
            CaseResource {
                case_uid: "C2".into(),
                transferred_to: vec![("FY520103".into(), vec!["person.name".into()])],
                ..Default::default()
            },
            CaseResource {
                case_uid: "C3".into(),
                ..Default::default()
            },
        ];
        let view = authz
            .compile_inner(&principal, Action::Read, Entity::Person, &ctx, false)
            .unwrap();
        assert_eq!(view.stats().fallbacks, view.stats().groups);
        for case in &cases {
            for def in Entity::Person.fields() {
                let field = case.field(Entity::Person, def.name).unwrap();
                let d = authz
                    .decide(&principal, Action::Read, &Resource::new(case, field), &ctx)
                    .unwrap();
                let f = view.decide(case, def.name).unwrap();
                assert_eq!(
                    (f.permit, f.policies),
                    (
                        d.permit,
                        d.policy_ids()
                            .iter()
                            .map(|s| s.to_string())
                            .collect::<Vec<_>>()
                    )
                );
            }
        }
        assert!(view.describe().contains("decided by Cedar per row"));
    }

    #[test]
    fn like_matches_wildcards() {
        let p = |s: &str| -> Vec<Pat> {
            s.chars()
                .map(|c| {
                    if c == '*' {
                        Pat::Wildcard
                    } else {
                        Pat::Char(c)
                    }
                })
                .collect()
        };
        assert!(like("5201", &p("52*")));
        assert!(like("abc", &p("*")));
        assert!(like("", &p("*")));
        assert!(!like("", &p("a")));
        assert!(like("a.jpg", &p("*.jpg")));
        assert!(!like("a.jpeg", &p("*.jpg")));
        assert!(like("abcbc", &p("a*bc")));
        assert!(like("贵阳市南明区", &p("*市*区")));
    }
}
