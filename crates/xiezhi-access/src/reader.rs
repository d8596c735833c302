//! The read path for shared data: every field passes the authorizer, is masked to the reader's
//! clearance, and every decision, permit or deny, is appended to the ledger before anything is
//! returned.
//!
//! Architecture invariant: other crates read case data through [`SharedReader`] only; the
//! workspace's tidy test refuses direct store reads of case data elsewhere.

use std::collections::BTreeSet;

use xiezhi_standard::{Entity, Value};
use xiezhi_store::{LedgerEvent, Store, StoreError, StoredEntity};

use crate::decision::{Action, Authorizer, RequestContext};
use crate::error::AccessError;
use crate::event::AccessEvent;
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
    /// Case, persons, case-person links, events, documents, sentences, executions.
    pub sections: Vec<Section>,
    /// Ledger entries appended for this view (one per decision).
    pub decisions_logged: usize,
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
/// links, events, documents and executions), the divisions of the case and those organs, and
/// whether the investigation is still under way.
pub fn case_resource<S: Store>(
    store: &S,
    case_uid: &str,
) -> Result<Option<CaseResource>, StoreError> {
    let Some(case) = store.get(Entity::Case, case_uid)? else {
        return Ok(None);
    };
    let mut orgs: Vec<String> = Vec::new();
    let mut push = |o: Option<String>| {
        if let Some(o) = o.filter(|o| !o.is_empty()) {
            if !orgs.contains(&o) {
                orgs.push(o);
            }
        }
    };
    push(text(&case, "handling_org"));
    let mut ongoing = true;
    for (entity, field) in [
        (Entity::Event, "org_code"),
        (Entity::CasePerson, "org_code"),
        (Entity::Document, "issuer"),
        (Entity::Sentence, "court_code"),
        (Entity::Execution, "org_code"),
    ] {
        for row in store.rows_of_case(entity, case_uid)? {
            if entity == Entity::Event
                && text(&row, "kind").is_some_and(|k| PAST_INVESTIGATION.contains(&k.as_str()))
            {
                ongoing = false;
            }
            push(text(&row, field));
        }
    }
    let mut divisions: BTreeSet<String> = text(&case, "occurred_division").into_iter().collect();
    for org in &orgs {
        if let Some(o) = store.get(Entity::Organization, org)? {
            divisions.extend(text(&o, "division"));
        }
    }
    Ok(Some(CaseResource {
        case_uid: case_uid.to_string(),
        participating_orgs: orgs,
        jurisdiction_divisions: divisions.into_iter().collect(),
        ongoing_investigation: ongoing,
        ..CaseResource::default()
    }))
}

impl<'a, S: Store> SharedReader<'a, S> {
    /// A reader over a store with an authorizer and the deployment's hashing salt.
    pub fn new(store: &'a mut S, authz: &'a Authorizer, salt: &'a Salt) -> Self {
        SharedReader { store, authz, salt }
    }

    /// Reads one case across departments for a principal.
    pub fn read_case(
        &mut self,
        principal: &Principal,
        case_uid: &str,
        ctx: &RequestContext,
    ) -> Result<CaseView, ReadError> {
        let resource = case_resource(self.store, case_uid)?
            .ok_or_else(|| ReadError::NoCase(case_uid.to_string()))?;
        let mut rows: Vec<(Entity, Vec<StoredEntity>)> = Vec::new();
        let case_row = self
            .store
            .get(Entity::Case, case_uid)?
            .into_iter()
            .collect();
        rows.push((Entity::Case, case_row));
        let links = self.store.rows_of_case(Entity::CasePerson, case_uid)?;
        let mut persons = Vec::new();
        for l in &links {
            if let Some(p) = &l.person_uid {
                if !persons.iter().any(|x: &StoredEntity| &x.uid == p) {
                    persons.extend(self.store.get(Entity::Person, p)?);
                }
            }
        }
        rows.push((Entity::Person, persons));
        rows.push((Entity::CasePerson, links));
        for e in [
            Entity::Event,
            Entity::Document,
            Entity::Evidence,
            Entity::Sentence,
            Entity::Execution,
        ] {
            rows.push((e, self.store.rows_of_case(e, case_uid)?));
        }
        let mut sections = Vec::new();
        let mut events: Vec<AccessEvent> = Vec::new();
        for (entity, stored) in rows {
            if stored.is_empty() {
                continue;
            }
            let plan =
                MaskingPlan::build(self.authz, principal, Action::Read, &resource, entity, ctx)?;
            events.extend(plan.events.iter().cloned());
            let (records, withheld) = if plan.any_permitted() {
                let masked = stored
                    .iter()
                    .map(|s| plan.apply(&s.record, self.salt))
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
        let logged = events.len();
        let entries: Vec<LedgerEvent> = events.iter().map(|e| ledger_event(e, case_uid)).collect();
        // Logged before anything is returned: a read the ledger does not know of never happens.
        self.store.append_events(&entries)?;
        Ok(CaseView {
            resource,
            sections,
            decisions_logged: logged,
        })
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
