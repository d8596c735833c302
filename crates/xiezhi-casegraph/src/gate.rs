//! The access rule of every graph answer.
//!
//! Per case the asker meets, the case is decided once through the access layer (its
//! `CaseResource` and the compiled views of case, person, case-person link and event for this
//! principal), giving a masking plan per entity. Then:
//!
//! - a case node is visible if some field of the case is permitted;
//! - a person node is visible if the person is linked to a visible case in which some person
//!   field is permitted;
//! - an organ node is visible (organs are master data, level L1), but only reached through a
//!   visible edge;
//! - an edge is visible if its case (or, for a person's phone, address or department record,
//!   one of the person's visible cases) permits the field behind it and its person and case
//!   ends are visible; an identifier or department record is visible if one of its edges is.
//!
//! Queries expand only visible edges, so a path or a neighbourhood never passes through a
//! hidden node. Labels are masked by the same field decisions (`apply_action`), and the
//! decisions of every case met go into the one ledger entry of the query.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use xiezhi_access::mask::apply_action;
use xiezhi_access::principal::Principal;
use xiezhi_access::reader::{case_resource, ViewCache};
use xiezhi_access::{
    Action, Authorizer, CompiledView, FieldAction, FieldOutcome, MaskingPlan, RequestContext, Salt,
};
use xiezhi_standard::{Entity, Value};
use xiezhi_store::fieldcrypt::KeyBlinder;
use xiezhi_store::{GraphEdge, GraphNode, LedgerEvent, Store, StoredEntity};

use crate::build::{identifier_id, normalize_address, normalize_phone, phones_in_text};
use crate::{EdgeKind, EdgeView, GraphError, NodeKind, NodeView, Result};

/// Who asks, under which policies, when.
#[derive(Clone, Copy)]
pub struct QueryContext<'a> {
    pub authz: &'a Authorizer,
    pub salt: &'a Salt,
    pub principal: &'a Principal,
    pub ctx: RequestContext,
    /// Compiled views kept across queries (a server's), with the shared authorizer they are
    /// compiled from (the same policies as `authz`); `None` compiles the views per query.
    pub cache: Option<(&'a ViewCache, &'a Arc<Authorizer>)>,
}

/// A compiled view made for this query or taken from a cache.
enum ViewRef<'a> {
    Own(Box<CompiledView<'a>>),
    Shared(Arc<CompiledView<'static>>),
}

impl<'a> std::ops::Deref for ViewRef<'a> {
    type Target = CompiledView<'a>;
    fn deref(&self) -> &CompiledView<'a> {
        match self {
            ViewRef::Own(v) => v,
            ViewRef::Shared(v) => v,
        }
    }
}

/// What the principal may see of one case.
struct CaseAccess {
    visible: bool,
    person_visible: bool,
    /// `entity.field` → (permit, how shown).
    fields: HashMap<String, (bool, FieldAction)>,
}

impl CaseAccess {
    fn permit(&self, field: &str) -> bool {
        self.fields.get(field).is_some_and(|(p, _)| *p)
    }

    fn action(&self, field: &str) -> FieldAction {
        match self.fields.get(field) {
            Some((true, a)) => *a,
            _ => FieldAction::Redact,
        }
    }
}

/// Decides and caches, for one query, what the principal may see of the graph.
pub struct Gate<'a, S: Store + ?Sized> {
    store: &'a S,
    graph: String,
    q: &'a QueryContext<'a>,
    views: Vec<ViewRef<'a>>,
    cases: HashMap<String, Option<CaseAccess>>,
    plans: Vec<MaskingPlan>,
    adj: HashMap<String, Vec<GraphEdge>>,
    nodes: HashMap<String, Option<GraphNode>>,
    blinder: KeyBlinder,
    /// Nodes known to exist without a read (a preloaded graph).
    preloaded: bool,
    /// What an unknown case shows: nothing.
    hidden: CaseAccess,
    /// At most this many cases decided (a neighbourhood or path query); `None` for a whole-graph
    /// analysis, which decides every case anyway.
    case_budget: Option<usize>,
    /// Cases met after the budget ran out: shown as nothing, like a case the asker may not see.
    undecided: BTreeSet<String>,
}

/// The entities whose fields are behind the graph's nodes and edges.
const ENTITIES: [Entity; 4] = [
    Entity::Case,
    Entity::Person,
    Entity::CasePerson,
    Entity::Event,
];

impl<'a, S: Store + ?Sized> Gate<'a, S> {
    pub fn new(store: &'a S, graph: &str, q: &'a QueryContext<'a>) -> Result<Gate<'a, S>> {
        let views = ENTITIES
            .iter()
            .map(|&e| match q.cache {
                Some((cache, shared)) => cache
                    .view(shared, q.principal, e, &q.ctx)
                    .map(ViewRef::Shared),
                None => q
                    .authz
                    .compile(q.principal, Action::Read, e, &q.ctx)
                    .map(|v| ViewRef::Own(Box::new(v))),
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Gate {
            store,
            graph: graph.to_string(),
            q,
            views,
            cases: HashMap::new(),
            plans: Vec::new(),
            adj: HashMap::new(),
            nodes: HashMap::new(),
            blinder: store.key_blinder(),
            preloaded: false,
            hidden: CaseAccess {
                visible: false,
                person_visible: false,
                fields: HashMap::new(),
            },
            case_budget: None,
            undecided: BTreeSet::new(),
        })
    }

    /// Decides at most `cases` cases: past that, a case met is treated as one the asker may not
    /// see, so a budget can only leave things out, never show more.
    pub(crate) fn limit_cases(&mut self, cases: usize) {
        self.case_budget = Some(cases);
    }

    /// Cases met but not decided because the budget ran out.
    pub(crate) fn undecided(&self) -> usize {
        self.undecided.len()
    }

    /// Decides a case once per query.
    fn case(&mut self, uid: &str) -> Result<&CaseAccess> {
        if !self.cases.contains_key(uid) {
            if self.case_budget.is_some_and(|b| self.cases.len() >= b) {
                self.undecided.insert(uid.to_string());
                return Ok(&self.hidden);
            }
            let access = match case_resource(self.store, uid)? {
                None => None,
                Some(resource) => {
                    let mut fields = HashMap::new();
                    let mut any = [false; ENTITIES.len()];
                    for (i, view) in self.views.iter().enumerate() {
                        let plan = view.plan(&resource)?;
                        for f in &plan.fields {
                            any[i] |= f.permit;
                            fields.insert(
                                format!("{}.{}", plan.entity.name(), f.field),
                                (f.permit, f.action),
                            );
                        }
                        self.plans.push(plan);
                    }
                    Some(CaseAccess {
                        visible: any[0],
                        person_visible: any[0] && any[1],
                        fields,
                    })
                }
            };
            self.cases.insert(uid.to_string(), access);
        }
        Ok(self.cases[uid].as_ref().unwrap_or(&self.hidden))
    }

    /// Loads the edges of the given nodes not loaded yet, in one read.
    pub(crate) fn prefetch(&mut self, ids: &[String]) -> Result<()> {
        if self.preloaded {
            for id in ids {
                self.adj.entry(id.clone()).or_default();
            }
            return Ok(());
        }
        let want: Vec<String> = ids
            .iter()
            .filter(|id| !self.adj.contains_key(*id))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if want.is_empty() {
            return Ok(());
        }
        for id in &want {
            self.adj.insert(id.clone(), Vec::new());
        }
        for e in self.store.graph_edges_of(&self.graph, &want)? {
            for end in [&e.from, &e.to] {
                if let Some(list) = self.adj.get_mut(end) {
                    if !list.iter().any(|x| x.seq == e.seq) {
                        list.push(e.clone());
                    }
                }
            }
        }
        Ok(())
    }

    /// Every stored edge of a node (visible or not; callers filter).
    pub(crate) fn edges(&mut self, id: &str) -> Result<Vec<GraphEdge>> {
        self.prefetch(&[id.to_string()])?;
        Ok(self.adj[id].clone())
    }

    /// Takes a whole graph's edges at once (community and centrality queries read the graph
    /// whole): every node's edges are then known without a read.
    pub(crate) fn preload(&mut self, edges: &[GraphEdge]) {
        self.preloaded = true;
        for e in edges {
            self.adj.entry(e.from.clone()).or_default().push(e.clone());
            if e.to != e.from {
                self.adj.entry(e.to.clone()).or_default().push(e.clone());
            }
        }
    }

    /// Whether a node is stored.
    pub(crate) fn exists(&mut self, id: &str) -> Result<bool> {
        if self.preloaded {
            return Ok(self.adj.contains_key(id));
        }
        if !self.nodes.contains_key(id) {
            let n = self
                .store
                .graph_nodes(&self.graph, &[id.to_string()])?
                .into_iter()
                .next();
            self.nodes.insert(id.to_string(), n);
        }
        Ok(self.nodes[id].is_some())
    }

    fn person_cases(&mut self, person: &str) -> Result<Vec<String>> {
        let mut out: Vec<String> = self
            .edges(person)?
            .into_iter()
            .filter(|e| e.kind == EdgeKind::InvolvedIn.as_str() && e.from == person)
            .filter_map(|e| e.case_uid)
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The visible case of a person in which `field` is permitted and shown best.
    fn best_case_of(&mut self, person: &str, field: &str) -> Result<Option<(String, FieldAction)>> {
        let mut best: Option<(String, FieldAction)> = None;
        for c in self.person_cases(person)? {
            let a = self.case(&c)?;
            if a.person_visible && a.permit(field) {
                let action = a.action(field);
                if best.as_ref().is_none_or(|(_, b)| rank(action) > rank(*b)) {
                    best = Some((c, action));
                }
            }
        }
        Ok(best)
    }

    /// Whether the principal may see an edge (see the module doc).
    pub fn edge_visible(&mut self, e: &GraphEdge) -> Result<bool> {
        let Some(kind) = EdgeKind::parse(&e.kind) else {
            return Ok(false);
        };
        let field = e.field.clone().unwrap_or_default();
        Ok(match kind {
            EdgeKind::InvolvedIn
            | EdgeKind::HandledBy
            | EdgeKind::ActedOn
            | EdgeKind::MentionsPhone => {
                let Some(case) = e.case_uid.as_deref() else {
                    return Ok(false);
                };
                let a = self.case(case)?;
                a.visible && a.permit(&field) && (kind != EdgeKind::InvolvedIn || a.person_visible)
            }
            EdgeKind::UsesPhone | EdgeKind::LivesAt | EdgeKind::SamePerson => {
                let person = if NodeKind::of_id(&e.from) == Some(NodeKind::Person) {
                    e.from.clone()
                } else {
                    e.to.clone()
                };
                self.best_case_of(&person, &field)?.is_some()
            }
        })
    }

    /// Whether the principal may see a node (see the module doc).
    pub fn node_visible(&mut self, id: &str) -> Result<bool> {
        if !self.exists(id)? {
            return Ok(false);
        }
        match NodeKind::of_id(id) {
            Some(NodeKind::Case) => {
                let uid = &id[5..];
                Ok(self.case(uid)?.visible)
            }
            Some(NodeKind::Person) => {
                for c in self.person_cases(id)? {
                    if self.case(&c)?.person_visible {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Some(NodeKind::Organ) => Ok(true),
            Some(_) => {
                for e in self.edges(id)? {
                    if self.edge_visible(&e)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            None => Ok(false),
        }
    }

    /// The visible edges of a visible node.
    pub fn visible_edges(&mut self, id: &str) -> Result<Vec<GraphEdge>> {
        let mut out = Vec::new();
        for e in self.edges(id)? {
            if self.edge_visible(&e)? {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Node views with masked labels, for nodes already found visible.
    pub fn node_views(&mut self, ids: &[String], hubs: &BTreeSet<String>) -> Result<Vec<NodeView>> {
        let mut by_kind: BTreeMap<NodeKind, Vec<String>> = BTreeMap::new();
        for id in ids {
            if let Some(k) = NodeKind::of_id(id) {
                by_kind.entry(k).or_default().push(id.clone());
            }
        }
        let mut labels: HashMap<String, String> = HashMap::new();
        let strip = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|id| id.split_once(':').map_or("", |x| x.1).to_string())
                .collect()
        };
        if let Some(cases) = by_kind.get(&NodeKind::Case) {
            for row in self.store.get_many(Entity::Case, &strip(cases))? {
                let action = self.case(&row.uid)?.action("case.name");
                labels.insert(
                    format!("case:{}", row.uid),
                    shown(&row, "name", action, self.q.salt),
                );
            }
        }
        if let Some(persons) = by_kind.get(&NodeKind::Person) {
            for row in self.store.get_many(Entity::Person, &strip(persons))? {
                let id = format!("person:{}", row.uid);
                let label = match self.best_case_of(&id, "person.name")? {
                    Some((_, action)) => shown(&row, "name", action, self.q.salt),
                    None => REDACTED.to_string(),
                };
                labels.insert(id, label);
            }
        }
        if let Some(organs) = by_kind.get(&NodeKind::Organ) {
            for row in self.store.get_many(Entity::Organization, &strip(organs))? {
                let name = row
                    .record
                    .get("name")
                    .map(Value::canonical)
                    .unwrap_or_else(|| row.uid.clone());
                labels.insert(format!("organ:{}", row.uid), name);
            }
        }
        for kind in [NodeKind::Phone, NodeKind::Address] {
            for id in by_kind.get(&kind).cloned().unwrap_or_default() {
                let label = self.identifier_label(&id, kind)?;
                labels.insert(id, label);
            }
        }
        for id in by_kind.get(&NodeKind::Record).cloned().unwrap_or_default() {
            let dept = id.split(':').nth(1).unwrap_or("");
            labels.insert(id.clone(), format!("{}记录", department_zh(dept)));
        }
        Ok(ids
            .iter()
            .filter_map(|id| {
                let kind = NodeKind::of_id(id)?;
                Some(NodeView {
                    id: id.clone(),
                    kind,
                    kind_zh: kind.name_zh().to_string(),
                    label: labels.remove(id).unwrap_or_else(|| REDACTED.to_string()),
                    case_uid: (kind == NodeKind::Case).then(|| id[5..].to_string()),
                    hub: hubs.contains(id),
                })
            })
            .collect())
    }

    /// An identifier's value as the asker may see it, from a visible edge to it: the person's
    /// field under that person's best decision, or the case summary it was found in.
    fn identifier_label(&mut self, id: &str, kind: NodeKind) -> Result<String> {
        let field = match kind {
            NodeKind::Phone => "phone",
            _ => "address",
        };
        for e in self.edges(id)? {
            if !self.edge_visible(&e)? {
                continue;
            }
            if e.kind == EdgeKind::MentionsPhone.as_str() {
                let Some(case) = e.case_uid.clone() else {
                    continue;
                };
                let action = self.case(&case)?.action("case.summary");
                for row in self
                    .store
                    .get_many(Entity::Case, std::slice::from_ref(&case))?
                {
                    let summary = row.record.get("summary").map(Value::canonical);
                    for p in phones_in_text(summary.as_deref().unwrap_or("")) {
                        if identifier_id(&self.blinder, NodeKind::Phone, &p) == id {
                            return Ok(match action {
                                FieldAction::Show => p,
                                FieldAction::Mask(_) => xiezhi_access::mask::mask_phone(&p),
                                FieldAction::Redact => REDACTED.to_string(),
                            });
                        }
                    }
                }
                continue;
            }
            let person = e.from.clone();
            let Some((_, action)) = self.best_case_of(&person, &format!("person.{field}"))? else {
                continue;
            };
            let uid = person.split_once(':').map_or("", |x| x.1).to_string();
            for row in self.store.get_many(Entity::Person, &[uid])? {
                let value = row
                    .record
                    .get(field)
                    .map(Value::canonical)
                    .unwrap_or_default();
                let norm = match kind {
                    NodeKind::Phone => normalize_phone(&value),
                    _ => normalize_address(&value),
                };
                if norm.is_some_and(|n| identifier_id(&self.blinder, kind, &n) == id) {
                    return Ok(shown(&row, field, action, self.q.salt));
                }
            }
        }
        Ok(REDACTED.to_string())
    }

    /// The edge as the asker sees it (for an edge found visible).
    pub fn edge_view(e: &GraphEdge) -> Option<EdgeView> {
        let kind = EdgeKind::parse(&e.kind)?;
        let detail_zh = e.detail.as_deref().map(|d| match kind {
            EdgeKind::InvolvedIn => {
                xiezhi_standard::codes::table(xiezhi_standard::codes::CodeTable::PersonRole)
                    .get(d)
                    .map_or_else(|| d.to_string(), |c| c.name.to_string())
            }
            EdgeKind::SamePerson => match d {
                "id_number" => "证件号码一致".to_string(),
                "name_birth_division" => "姓名、出生日期、户籍地一致".to_string(),
                "new" => "首次登记".to_string(),
                other => other.to_string(),
            },
            _ => d.to_string(),
        });
        Some(EdgeView {
            seq: e.seq,
            from: e.from.clone(),
            to: e.to.clone(),
            kind,
            kind_zh: kind.name_zh().to_string(),
            date: e.date.clone(),
            detail_zh,
            case_uid: e.case_uid.clone(),
            field: e.field.clone(),
            source_entity: e.source_entity.clone(),
            source_uid: e.source_uid.clone(),
            source_record_id: e.source_record_id,
        })
    }

    /// The ledger entry of the query: who asked what, what was returned, and every field
    /// decision made on the way (grouped by outcome).
    pub fn entry(
        &self,
        query: serde_json::Value,
        nodes: &[String],
        edges: usize,
    ) -> Result<LedgerEvent> {
        let mut decisions = FieldOutcome::group(self.plans.iter());
        for d in &mut decisions {
            d.fields.sort();
            d.fields.dedup();
        }
        let p = self.q.principal;
        let mut body = serde_json::Map::new();
        body.insert("access_kind".into(), "graph_query".into());
        body.insert("at".into(), serde_json::to_value(self.q.ctx.now)?);
        body.insert("principal".into(), p.id().into());
        body.insert("principal_type".into(), p.cedar_type().into());
        body.insert("org_code".into(), p.org_code().into());
        body.insert("graph".into(), self.graph.clone().into());
        body.insert("query".into(), query);
        body.insert("nodes_returned".into(), serde_json::to_value(nodes)?);
        body.insert("edges_returned".into(), edges.into());
        body.insert("cases_decided".into(), self.cases.len().into());
        body.insert("cases_undecided".into(), self.undecided.len().into());
        body.insert("decisions".into(), serde_json::to_value(decisions)?);
        Ok(LedgerEvent {
            kind: "access".into(),
            entity: None,
            uid: None,
            body,
        })
    }
}

impl From<serde_json::Error> for GraphError {
    fn from(e: serde_json::Error) -> GraphError {
        GraphError::Store(e.into())
    }
}

const REDACTED: &str = "[已屏蔽]";

fn rank(a: FieldAction) -> u8 {
    match a {
        FieldAction::Show => 2,
        FieldAction::Mask(_) => 1,
        FieldAction::Redact => 0,
    }
}

fn shown(row: &StoredEntity, field: &str, action: FieldAction, salt: &Salt) -> String {
    match row.record.get(field) {
        Some(v) => apply_action(action, v, salt),
        None => "—".to_string(),
    }
}

/// A department's name.
pub fn department_zh(dept: &str) -> &'static str {
    match dept {
        "police" => "公安",
        "procuratorate" => "检察",
        "court" => "法院",
        "justice" => "司法行政",
        "petitions" | "petition" => "信访",
        "legal" => "法律援助",
        "mediation" => "人民调解",
        _ => "其他部门",
    }
}
