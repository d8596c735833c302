//! The read path for shared data: every field passes the authorizer, is masked to the reader's
//! clearance, and every decision, permit or deny, is appended to the ledger before anything is
//! returned.
//!
//! Architecture invariant: other crates read case data through [`SharedReader`] only; the
//! workspace's tidy test refuses direct store reads of case data elsewhere.

use std::collections::BTreeSet;

use xiezhi_standard::{Entity, Value};
use xiezhi_store::{LedgerEvent, Store, StoreError, StoredEntity};

use crate::case_cache::CaseCache;
use crate::compiled::CompiledView;
use crate::decision::{Action, Authorizer, RequestContext};
use crate::error::AccessError;
use crate::event::AccessEvent;
use crate::event::FieldOutcome;
use crate::mask::{MaskedRecord, MaskingPlan, Salt};
use crate::principal::{CaseResource, Principal};

/// Errors of a read. A deny is not an error: it is a decision, shown as redacted fields.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The store failed.
    #[error("存储错误 (store error): {0}")]
    Store(#[from] StoreError),
    /// The policy engine failed.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// No such case.
    #[error("案件 `{0}` 不存在 (no such case)")]
    NoCase(String),
    /// A field the standard does not have.
    #[error("字段 `{0}` 不存在 (no such field)")]
    NoField(String),
    /// The principal may not see counts over this field.
    #[error("不得汇总字段 `{field}`：{reason}")]
    AggregateDenied { field: String, reason: String },
}

/// Procedural acts after which a case is no longer under investigation.
const PAST_INVESTIGATION: [&str; 5] = [
    "transferred_for_prosecution",
    "prosecuted",
    "not_prosecuted",
    "court_accepted",
    "verdict_announced",
];

/// One entity's records of a case as the reader may see them.
#[derive(Debug, Clone)]
pub struct Section {
    /// The entity.
    pub entity: Entity,
    /// The per-field decisions, explained.
    pub plan: MaskingPlan,
    /// The masked records (empty when no field is permitted).
    pub records: Vec<MaskedRecord>,
    /// Records that exist but were withheld because no field is permitted.
    pub withheld: usize,
}

/// A case across departments, as one principal may see it.
#[derive(Debug, Clone)]
pub struct CaseView {
    /// The case as access control saw it.
    pub resource: CaseResource,
    /// Case, persons, case-person links, events, documents, evidence, sentences, executions,
    /// correction subjects, acts, location fixes and fences, petitions, legal aid.
    pub sections: Vec<Section>,
    /// Field decisions behind this view; all of them are in the one ledger entry of the read.
    pub decisions_logged: usize,
}

/// A case read that is decided and masked but not yet in the ledger. The view is released only
/// by [`PendingRead::logged`], which the caller calls after appending [`PendingRead::entry`]
/// (directly, or through a group commit shared with other reads): a read the ledger does not
/// know of never happens.
#[derive(Debug)]
pub struct PendingRead {
    view: CaseView,
    entry: LedgerEvent,
}

impl PendingRead {
    /// The ledger entry of the read: every field decision, grouped by outcome and policies.
    pub fn entry(&self) -> &LedgerEvent {
        &self.entry
    }

    /// The view, once [`PendingRead::entry`] is in the ledger.
    pub fn logged(self) -> CaseView {
        self.view
    }
}

/// How a read is decided: plain Cedar per field, or compiled views cached per principal,
/// entity, policy generation and day (the server's hot path; both name the same policies, as
/// the differential test checks).
pub enum Decider<'a> {
    Plain(&'a Authorizer),
    Cached(&'a ViewCache, &'a std::sync::Arc<Authorizer>),
}

/// Compiled views kept across requests. A view is made once per (principal, entity) for a
/// policy generation and a day; a change of either empties the cache.
#[derive(Default)]
pub struct ViewCache {
    inner: std::sync::Mutex<ViewCacheInner>,
}

#[derive(Default)]
struct ViewCacheInner {
    stamp: Option<(u64, chrono::NaiveDate)>,
    views: std::collections::HashMap<(String, Entity), std::sync::Arc<CompiledView<'static>>>,
}

impl ViewCache {
    /// The view of `entity` for `principal` at `ctx`, compiled on first use.
    pub fn view(
        &self,
        authz: &std::sync::Arc<Authorizer>,
        principal: &Principal,
        entity: Entity,
        ctx: &RequestContext,
    ) -> Result<std::sync::Arc<CompiledView<'static>>, AccessError> {
        // The principal's attributes are part of the key: a registry edit makes a new view.
        let key = (
            serde_json::to_string(principal).unwrap_or_else(|_| principal.id().to_string()),
            entity,
        );
        let stamp = Some((authz.generation(), ctx.today()));
        {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            if inner.stamp != stamp {
                inner.views.clear();
                inner.stamp = stamp;
            }
            if let Some(v) = inner.views.get(&key) {
                return Ok(v.clone());
            }
        }
        // Compiled outside the lock: other principals' reads go on meanwhile.
        let view = std::sync::Arc::new(Authorizer::compile_shared(
            authz,
            principal,
            Action::Read,
            entity,
            ctx,
        )?);
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.stamp == stamp {
            inner.views.insert(key, view.clone());
        }
        Ok(view)
    }

    /// Views held.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.views.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One case of a listing: the fields of the case record as the reader may see them.
#[derive(Debug, Clone)]
pub struct ListedCase {
    pub case_uid: String,
    /// Field → text shown (masked or redacted as decided).
    pub fields: Vec<(&'static str, String)>,
}

/// A filter on a listed row's fields as shown.
pub type RowFilter = dyn Fn(&[(&'static str, String)]) -> bool;

/// One page of a case listing.
#[derive(Debug, Clone)]
pub struct CasePage {
    pub rows: Vec<ListedCase>,
    /// The uid to continue after, or `None` at the end of the store.
    pub next_after: Option<String>,
    /// Cases considered for this page (visible or not).
    pub scanned: usize,
}

/// Reads shared data for principals.
pub struct SharedReader<'a, S: Store> {
    store: &'a mut S,
    authz: &'a Authorizer,
    salt: &'a Salt,
}

fn text(e: &StoredEntity, field: &str) -> Option<String> {
    e.record
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Builds the case as access control sees it: the organs that took part (from the case, its
/// links, events, documents, executions, correction subjects and acts, legal aid), the divisions of the case and those organs, and
/// whether the investigation is still under way.
pub fn case_resource<S: Store + ?Sized>(
    store: &S,
    case_uid: &str,
) -> Result<Option<CaseResource>, StoreError> {
    Ok(gather(store, case_uid)?.map(|g| g.resource))
}

/// The rows of a case as stored, read once, and the case as access control sees it.
pub(crate) struct Gathered {
    pub(crate) resource: CaseResource,
    pub(crate) rows: Vec<(Entity, Vec<StoredEntity>)>,
}

pub(crate) fn gather<S: Store + ?Sized>(
    store: &S,
    case_uid: &str,
) -> Result<Option<Gathered>, StoreError> {
    let Some(case) = store.get(Entity::Case, case_uid)? else {
        return Ok(None);
    };
    // Every section of the case in one read where the backend can (a round trip each
    // otherwise): the links first, then the rest.
    let mut sections = store
        .rows_of_case_each(
            case_uid,
            &[
                Entity::CasePerson,
                Entity::Event,
                Entity::Document,
                Entity::Evidence,
                Entity::Sentence,
                Entity::Execution,
                Entity::CorrectionSubject,
                Entity::CorrectionEvent,
                Entity::LocationFix,
                Entity::Fence,
                Entity::Petition,
                Entity::LegalAid,
                Entity::SentencingProposal,
            ],
        )?
        .into_iter();
    let links = sections.next().map(|(_, rows)| rows).unwrap_or_default();
    let mut person_uids: Vec<String> = Vec::new();
    for l in &links {
        if let Some(p) = &l.person_uid {
            if !person_uids.contains(p) {
                person_uids.push(p.clone());
            }
        }
    }
    // In the order the links name them, whatever order the store returns.
    let mut persons = store.get_many(Entity::Person, &person_uids)?;
    persons.sort_by_key(|p| person_uids.iter().position(|u| *u == p.uid));
    let mut rows = vec![
        (Entity::Case, vec![case]),
        (Entity::Person, persons),
        (Entity::CasePerson, links),
    ];
    rows.extend(sections);

    let mut orgs: Vec<String> = Vec::new();
    let mut push = |o: Option<String>| {
        if let Some(o) = o.filter(|o| !o.is_empty()) {
            if !orgs.contains(&o) {
                orgs.push(o);
            }
        }
    };
    let section = |e: Entity| -> &[StoredEntity] {
        rows.iter()
            .find(|(x, _)| *x == e)
            .map(|(_, r)| r.as_slice())
            .unwrap_or(&[])
    };
    let case = &section(Entity::Case)[0];
    push(text(case, "handling_org"));
    let mut ongoing = true;
    for (entity, field) in [
        (Entity::Event, "org_code"),
        (Entity::CasePerson, "org_code"),
        (Entity::Document, "issuer"),
        (Entity::Sentence, "court_code"),
        (Entity::Execution, "org_code"),
        (Entity::CorrectionSubject, "executing_org"),
        (Entity::CorrectionSubject, "decision_org"),
        (Entity::CorrectionEvent, "org_code"),
        (Entity::LegalAid, "org_code"),
        (Entity::SentencingProposal, "org_code"),
    ] {
        for row in section(entity) {
            if entity == Entity::Event
                && text(row, "kind").is_some_and(|k| PAST_INVESTIGATION.contains(&k.as_str()))
            {
                ongoing = false;
            }
            push(text(row, field));
        }
    }
    let mut divisions: BTreeSet<String> = text(case, "occurred_division").into_iter().collect();
    for o in store.get_many(Entity::Organization, &orgs)? {
        divisions.extend(text(&o, "division"));
    }
    let resource = CaseResource {
        case_uid: case_uid.to_string(),
        participating_orgs: orgs,
        jurisdiction_divisions: divisions.into_iter().collect(),
        ongoing_investigation: ongoing,
        ..CaseResource::default()
    };
    Ok(Some(Gathered { resource, rows }))
}

/// Reads one case across departments for a principal: decided, masked, and the ledger entry
/// prepared; nothing is released until the entry is logged (see [`PendingRead`]). Needs only a
/// shared borrow of the store, so reads can run on a pool of read connections.
pub fn prepare_case_read<S: Store + ?Sized>(
    store: &S,
    decider: &Decider<'_>,
    salt: &Salt,
    principal: &Principal,
    case_uid: &str,
    ctx: &RequestContext,
) -> Result<PendingRead, ReadError> {
    let gathered =
        gather(store, case_uid)?.ok_or_else(|| ReadError::NoCase(case_uid.to_string()))?;
    decide_gathered(&gathered, decider, salt, principal, case_uid, ctx, true)
}

/// As [`prepare_case_read`], with the case's rows taken from `cache` when it holds them (the
/// cache follows the store's change feed, so a write is seen by the next read). Only the
/// rows are cached: the decision, masking and ledger entry are made here on every read.
/// `store` should be in one read snapshot ([`Store::begin_snapshot`]) for the call. The
/// records carry no copy of their field decisions ([`MaskedRecord::decisions`] is empty; each
/// section's plan has them).
pub fn prepare_case_read_cached<S: Store + ?Sized>(
    store: &S,
    cache: &CaseCache,
    decider: &Decider<'_>,
    salt: &Salt,
    principal: &Principal,
    case_uid: &str,
    ctx: &RequestContext,
) -> Result<PendingRead, ReadError> {
    let gathered = cache
        .gathered(store, case_uid)?
        .ok_or_else(|| ReadError::NoCase(case_uid.to_string()))?;
    decide_gathered(&gathered, decider, salt, principal, case_uid, ctx, false)
}

/// As [`prepare_case_read_cached`] when the cache holds the case; `Ok(None)` when the case
/// would have to be gathered from the store (the caller then calls
/// [`prepare_case_read_cached`], on a thread that may block).
pub fn prepare_held_case_read<S: Store + ?Sized>(
    store: &S,
    cache: &CaseCache,
    decider: &Decider<'_>,
    salt: &Salt,
    principal: &Principal,
    case_uid: &str,
    ctx: &RequestContext,
) -> Result<Option<PendingRead>, ReadError> {
    match cache.held(store, case_uid)? {
        Some(gathered) => {
            decide_gathered(&gathered, decider, salt, principal, case_uid, ctx, false).map(Some)
        }
        None => Ok(None),
    }
}

/// Decides and masks gathered rows; `record_decisions`: copy each field's decision into the
/// masked records too.
fn decide_gathered(
    gathered: &Gathered,
    decider: &Decider<'_>,
    salt: &Salt,
    principal: &Principal,
    case_uid: &str,
    ctx: &RequestContext,
    record_decisions: bool,
) -> Result<PendingRead, ReadError> {
    let Gathered { resource, rows } = gathered;
    let mut sections = Vec::new();
    let mut compiled = false;
    for (entity, stored) in rows {
        let entity = *entity;
        if stored.is_empty() {
            continue;
        }
        let plan = match decider {
            Decider::Plain(authz) => {
                MaskingPlan::build(authz, principal, Action::Read, resource, entity, ctx)?
            }
            Decider::Cached(cache, authz) => {
                compiled = true;
                cache
                    .view(authz, principal, entity, ctx)?
                    .read_plan_at(resource, ctx.now)?
            }
        };
        let (records, withheld) = if plan.any_permitted() {
            let masked = stored
                .iter()
                .map(|s| {
                    if record_decisions {
                        plan.apply(&s.record, salt)
                    } else {
                        plan.apply_shown(&s.record, salt)
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            (masked, 0)
        } else {
            (Vec::new(), stored.len())
        };
        sections.push(Section {
            entity,
            plan,
            records,
            withheld,
        });
    }
    let decisions_logged = sections.iter().map(|s| s.plan.fields.len()).sum();
    let event = AccessEvent::CaseRead {
        at: ctx.now,
        principal: principal.id().to_string(),
        principal_type: principal.cedar_type().to_string(),
        org_code: principal.org_code().to_string(),
        case_uid: case_uid.to_string(),
        action: Action::Read.as_str().to_string(),
        decisions: FieldOutcome::group(sections.iter().map(|s| &s.plan)),
        compiled,
    };
    let entry = ledger_event(&event, case_uid);
    Ok(PendingRead {
        view: CaseView {
            resource: resource.clone(),
            sections,
            decisions_logged,
        },
        entry,
    })
}

impl<'a, S: Store> SharedReader<'a, S> {
    /// A reader over a store with an authorizer and the deployment's hashing salt.
    pub fn new(store: &'a mut S, authz: &'a Authorizer, salt: &'a Salt) -> Self {
        SharedReader { store, authz, salt }
    }

    /// Reads one case across departments for a principal, decided by plain Cedar, and logs
    /// the read before returning it.
    pub fn read_case(
        &mut self,
        principal: &Principal,
        case_uid: &str,
        ctx: &RequestContext,
    ) -> Result<CaseView, ReadError> {
        let pending = prepare_case_read(
            &*self.store,
            &Decider::Plain(self.authz),
            self.salt,
            principal,
            case_uid,
            ctx,
        )?;
        // Logged before anything is returned: a read the ledger does not know of never happens.
        self.store
            .append_events(std::slice::from_ref(pending.entry()))?;
        Ok(pending.logged())
    }

    /// Lists cases after `after` (by uid) that the principal may see, decided on the compiled
    /// path (one partial evaluation per field, then plain comparisons per row). Considers at
    /// most `max_scan` cases, so a page costs a bounded amount even for a principal who sees
    /// few cases; `keep` filters on the fields as shown, so a hidden value is never matched.
    /// The listing is one ledger entry (rows considered and returned).
    pub fn list_cases(
        &mut self,
        principal: &Principal,
        after: &str,
        limit: usize,
        max_scan: usize,
        ctx: &RequestContext,
        keep: &RowFilter,
    ) -> Result<CasePage, ReadError> {
        let view = self
            .authz
            .compile(principal, Action::Read, Entity::Case, ctx)?;
        let mut rows = Vec::new();
        let mut scanned = 0;
        let mut cursor = after.to_string();
        let next_after = 'scan: loop {
            let want = max_scan.saturating_sub(scanned).min(256);
            if want == 0 || rows.len() >= limit {
                break Some(cursor);
            }
            let uids = self.store.uids(Entity::Case, &cursor, want)?;
            if uids.is_empty() {
                break None;
            }
            for uid in uids {
                scanned += 1;
                cursor.clone_from(&uid);
                let Some(resource) = case_resource(self.store, &uid)? else {
                    continue;
                };
                if view.row_visible(&resource)? {
                    if let Some(case) = self.store.get(Entity::Case, &uid)? {
                        if let Some(fields) = view.mask_row(&resource, &case.record, self.salt)? {
                            if keep(&fields) {
                                rows.push(ListedCase {
                                    case_uid: uid,
                                    fields,
                                });
                            }
                        }
                    }
                }
                if rows.len() >= limit || scanned >= max_scan {
                    break 'scan Some(cursor);
                }
            }
        };
        let event = view.listing_event(scanned as u64, rows.len() as u64);
        let mut entry = ledger_event(&event, "");
        entry.uid = None;
        self.store.append_events(&[entry])?;
        Ok(CasePage {
            rows,
            next_after,
            scanned,
        })
    }

    /// Appends workflow events (data-request steps) to the ledger.
    pub fn log(&mut self, events: &[AccessEvent], case_uid: &str) -> Result<(), StoreError> {
        let entries: Vec<LedgerEvent> = events.iter().map(|e| ledger_event(e, case_uid)).collect();
        self.store.append_events(&entries)
    }
}

/// An access event as a ledger entry about a case.
pub fn ledger_event(event: &AccessEvent, case_uid: &str) -> LedgerEvent {
    let body = match serde_json::to_value(event) {
        Ok(serde_json::Value::Object(mut map)) => {
            let kind = map
                .remove("kind")
                .and_then(|k| k.as_str().map(str::to_string))
                .unwrap_or_default();
            map.insert("access_kind".into(), kind.into());
            map
        }
        _ => serde_json::Map::new(),
    };
    LedgerEvent {
        kind: "access".into(),
        entity: Some("case".into()),
        uid: Some(case_uid.to_string()),
        body,
    }
}

/// A server shares one cache between its worker threads.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<ViewCache>();
};
