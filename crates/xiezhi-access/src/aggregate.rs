//! The aggregate path: statistics computed from the store without a record leaving it.
//!
//! A statistic needs a few columns of every case (division, charges, stage …) and of their
//! events (kind, date). [`AggregateReader`] decides once per (principal, entity, field) with the
//! Cedar action `aggregate` whether the principal may see counts over that field, appends every
//! decision to the ledger, and only then streams the permitted columns to a visitor, case by
//! case, in blocks of neighbouring cases. The visitor gets values, never uids of persons or
//! free text it did not ask for; after the stream one `aggregate` entry records how many cases
//! were read and which suppression applies. The public may aggregate but never read a record,
//! so what it is shown must be suppressed below [`PUBLIC_MIN_CELL`].

use xiezhi_standard::{Entity, Value};
use xiezhi_store::{LedgerEvent, Store, StoredEntity};

use crate::decision::{Action, Authorizer, PolicyRef, RequestContext};
use crate::event::AccessEvent;
use crate::principal::{CaseResource, FieldRef, Principal, Resource, Role};
use crate::reader::{ledger_event, ReadError};

/// Smallest count published to the public: a cell below it could single out a person.
pub const PUBLIC_MIN_CELL: u64 = 5;

/// Cases read per store round trip.
const BLOCK: usize = 512;

/// The decision on one aggregated field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldAccess {
    pub entity: Entity,
    pub field: String,
    pub permit: bool,
    pub policies: Vec<PolicyRef>,
    /// The decision as one Chinese sentence.
    pub summary_zh: String,
}

/// What an aggregate read was allowed and what it read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AggregateGrant {
    pub fields: Vec<FieldAccess>,
    /// Cells below this count must not be shown (the public); `None` for internal principals.
    pub min_cell: Option<u64>,
    /// Cases streamed to the visitor.
    pub cases_read: u64,
    /// Ledger entries appended (decisions and the aggregate entry).
    pub entries_logged: usize,
}

/// One case as the visitor sees it: the asked-for case columns and, per event, the asked-for
/// event columns, in the order they were asked for.
#[derive(Debug, Clone, Default)]
pub struct CaseColumns {
    pub case: Vec<Option<Value>>,
    pub events: Vec<Vec<Option<Value>>>,
}

/// The aggregate read path.
pub struct AggregateReader<'a> {
    store: &'a mut dyn Store,
    authz: &'a Authorizer,
}

/// The resource of an aggregate: all cases, no organ, no jurisdiction.
fn all_cases() -> CaseResource {
    CaseResource {
        case_uid: "*".into(),
        ..CaseResource::default()
    }
}

fn pick(row: &StoredEntity, fields: &[&str]) -> Vec<Option<Value>> {
    fields.iter().map(|f| row.record.get(f).cloned()).collect()
}

impl<'a> AggregateReader<'a> {
    pub fn new(store: &'a mut dyn Store, authz: &'a Authorizer) -> Self {
        AggregateReader { store, authz }
    }

    /// Decides every asked-for field, logs the decisions, and — when all are permitted —
    /// streams the columns of every stored case to `visit`. A denied field stops the read
    /// after logging (the error names the field and the policies).
    pub fn read_columns(
        &mut self,
        principal: &Principal,
        case_fields: &[&str],
        event_fields: &[&str],
        ctx: &RequestContext,
        visit: &mut dyn FnMut(&CaseColumns),
    ) -> Result<AggregateGrant, ReadError> {
        let resource = all_cases();
        let mut fields = Vec::new();
        let mut entries: Vec<LedgerEvent> = Vec::new();
        let mut denied = None;
        let wants = case_fields
            .iter()
            .map(|f| (Entity::Case, *f))
            .chain(event_fields.iter().map(|f| (Entity::Event, *f)));
        for (entity, field) in wants {
            let fref = FieldRef::standard(entity, field)
                .ok_or_else(|| ReadError::NoField(format!("{}.{field}", entity.name())))?;
            let d = self.authz.decide(
                principal,
                Action::Aggregate,
                &Resource::new(&resource, fref),
                ctx,
            )?;
            let mut entry = ledger_event(&d.event, "");
            entry.uid = None;
            entries.push(entry);
            let summary_zh = if d.permit || !d.policies.is_empty() {
                d.summary_zh()
            } else {
                "拒绝：没有允许汇总该字段的策略（默认拒绝）".to_string()
            };
            if !d.permit && denied.is_none() {
                denied = Some(ReadError::AggregateDenied {
                    field: fref.key(),
                    reason: summary_zh.clone(),
                });
            }
            fields.push(FieldAccess {
                entity,
                field: field.to_string(),
                permit: d.permit,
                policies: d.policies,
                summary_zh,
            });
        }
        // Logged before anything is read: an aggregate the ledger does not know of never happens.
        self.store.append_events(&entries)?;
        if let Some(e) = denied {
            return Err(e);
        }
        let min_cell = match principal {
            Principal::User(u) if u.role == Role::Public => Some(PUBLIC_MIN_CELL),
            _ => None,
        };
        let mut cases_read = 0u64;
        let mut after = String::new();
        loop {
            let uids = self.store.uids(Entity::Case, &after, BLOCK)?;
            let Some(last) = uids.last() else { break };
            after.clone_from(last);
            let cases = self.store.rows_of_cases(Entity::Case, &uids)?;
            let events = if event_fields.is_empty() {
                Vec::new()
            } else {
                self.store.rows_of_cases(Entity::Event, &uids)?
            };
            // Both come ordered by case: walk them together.
            let mut ev = events.iter().peekable();
            for case in &cases {
                let mut cols = CaseColumns {
                    case: pick(case, case_fields),
                    events: Vec::new(),
                };
                while let Some(e) = ev.peek() {
                    match e.case_uid.as_deref() {
                        Some(c) if c < case.uid.as_str() => {
                            ev.next();
                        }
                        Some(c) if c == case.uid.as_str() => {
                            cols.events.push(pick(e, event_fields));
                            ev.next();
                        }
                        _ => break,
                    }
                }
                cases_read += 1;
                visit(&cols);
            }
        }
        let event = AccessEvent::Aggregate {
            at: ctx.now,
            principal: principal.id().to_string(),
            org_code: principal.org_code().to_string(),
            fields: fields
                .iter()
                .map(|f| format!("{}.{}", f.entity.name(), f.field))
                .collect(),
            cases_read,
            min_cell,
        };
        let mut entry = ledger_event(&event, "");
        entry.uid = None;
        self.store.append_events(&[entry])?;
        Ok(AggregateGrant {
            fields,
            min_cell,
            cases_read,
            entries_logged: entries.len() + 1,
        })
    }
}
