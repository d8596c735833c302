//! Building the case graph from the stored rows into the store's graph tables.
//!
//! Cases are read in blocks of neighbouring uids (as the supervision engine reads them), with
//! their person links, events and persons; every node and edge of a block is written in one
//! transaction to the staging graph `<name>.next`, which then replaces the graph in one step
//! with a `graph_built` ledger entry. The builder reads rows directly, like the supervision
//! engine: the tables it writes hold uids, organ codes, codes and blinded keys only, and every
//! read of them goes through [`crate::gate`].

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use sha2::{Digest, Sha256};
use xiezhi_standard::{Entity, Value};
use xiezhi_store::fieldcrypt::KeyBlinder;
use xiezhi_store::{GraphEdge, GraphNode, LedgerEvent, Store, StoredEntity};

use crate::{EdgeKind, NodeKind, Result};

/// Cases per block (one read per entity, one write transaction).
const BLOCK: usize = 512;

/// What a build wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BuildStats {
    pub cases: u64,
    pub persons: u64,
    pub organs: u64,
    pub phones: u64,
    pub addresses: u64,
    /// Phone numbers found in case summaries.
    pub phones_in_text: u64,
    /// Department records of persons seen by more than one department.
    pub records: u64,
    pub nodes: u64,
    pub edges: u64,
}

/// The node id of a person, case or organ.
pub fn node_id(kind: NodeKind, key: &str) -> String {
    format!("{}:{key}", kind.as_str())
}

/// The node id (and key) of an identifier: the store's blinded key of `kind:value`, so the
/// graph never holds the plaintext; a store without field encryption has no index key, and the
/// SHA-256 of the same text stands in for it.
pub fn identifier_id(blinder: &KeyBlinder, kind: NodeKind, value: &str) -> String {
    let plain = format!("{}:{value}", kind.as_str());
    let blinded = blinder.blind(&plain);
    if blinded != plain {
        return blinded;
    }
    let digest = Sha256::digest(plain.as_bytes());
    format!("{}:{}", kind.as_str(), xiezhi_store::hex(&digest))
}

/// A phone number as the graph compares them: digits only, without a leading `+86`/`86`.
pub fn normalize_phone(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let digits = match digits.len() {
        13 if digits.starts_with("86") => digits[2..].to_string(),
        _ => digits,
    };
    (digits.len() >= 7).then_some(digits)
}

/// An address as the graph compares them: without white space.
pub fn normalize_address(s: &str) -> Option<String> {
    let a: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (!a.is_empty()).then_some(a)
}

/// Mobile numbers written in a text: runs of exactly 11 ASCII digits starting `13`–`19`.
pub fn phones_in_text(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        let b = run.as_bytes();
        if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) && !out.contains(&run) {
            out.push(run.clone());
        }
        run.clear();
    }
    out
}

fn text<'a>(e: &'a StoredEntity, field: &str) -> Option<&'a str> {
    e.record
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn day(e: &StoredEntity, field: &str) -> Option<String> {
    let v = e.record.get(field)?.canonical();
    (v.len() >= 10).then(|| v[..10].to_string())
}

fn lineage(e: &StoredEntity, field: &str) -> Option<i64> {
    e.lineage.iter().find(|(f, _)| f == field).map(|(_, r)| *r)
}

/// The department a source belongs to (`police_acts` → `police`).
pub fn department(source: &str) -> &str {
    source.split('_').next().unwrap_or(source)
}

struct Block {
    nodes: Vec<GraphNode>,
    edges: Vec<GraphEdge>,
    seq: i64,
}

impl Block {
    #[allow(clippy::too_many_arguments)]
    fn edge(
        &mut self,
        from: &str,
        to: &str,
        kind: EdgeKind,
        date: Option<String>,
        case_uid: Option<&str>,
        field: &str,
        detail: Option<&str>,
        source: (&str, &str, Option<i64>),
    ) {
        self.seq += 1;
        self.edges.push(GraphEdge {
            seq: self.seq,
            from: from.to_string(),
            to: to.to_string(),
            kind: kind.as_str().to_string(),
            date,
            case_uid: case_uid.map(str::to_string),
            field: Some(field.to_string()),
            detail: detail.map(str::to_string),
            source_entity: Some(source.0.to_string()),
            source_uid: Some(source.1.to_string()),
            source_record_id: source.2,
        });
    }
}

/// Builds the case graph `graph` from the store and replaces the stored one with it.
/// `progress` is told the number of cases done after every block.
pub fn build<S: Store + ?Sized>(
    store: &mut S,
    graph: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<BuildStats> {
    let staging = format!("{graph}.next");
    store.graph_clear(&staging)?;
    let blinder = store.key_blinder();
    let mut stats = BuildStats::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut seq = 0i64;
    let mut after = String::new();
    loop {
        let block = store.uids(Entity::Case, &after, BLOCK)?;
        let Some(last) = block.last() else { break };
        after.clone_from(last);
        let cases = store.rows_of_cases(Entity::Case, &block)?;
        let links = store.rows_of_cases(Entity::CasePerson, &block)?;
        let events = store.rows_of_cases(Entity::Event, &block)?;
        let mut b = Block {
            nodes: Vec::new(),
            edges: Vec::new(),
            seq,
        };
        let mut dates: BTreeMap<&str, Option<String>> = BTreeMap::new();
        for c in &cases {
            let id = node_id(NodeKind::Case, &c.uid);
            let date = day(c, "occurred_at");
            dates.insert(&c.uid, date.clone());
            b.nodes.push(GraphNode {
                node: id.clone(),
                kind: NodeKind::Case.as_str().into(),
                key: c.uid.clone(),
                case_uid: Some(c.uid.clone()),
                source_record_id: c.lineage.first().map(|(_, r)| *r),
            });
            stats.cases += 1;
            if let Some(org) = text(c, "handling_org") {
                let o = node_id(NodeKind::Organ, org);
                if seen.insert(o.clone()) {
                    b.nodes.push(organ_node(&o, org));
                    stats.organs += 1;
                }
                b.edge(
                    &id,
                    &o,
                    EdgeKind::HandledBy,
                    date.clone(),
                    Some(&c.uid),
                    "case.handling_org",
                    None,
                    ("case", &c.uid, lineage(c, "handling_org")),
                );
            }
            if let Some(summary) = text(c, "summary") {
                for phone in phones_in_text(summary) {
                    let p = identifier_id(&blinder, NodeKind::Phone, &phone);
                    if seen.insert(p.clone()) {
                        b.nodes.push(identifier_node(&p, NodeKind::Phone));
                        stats.phones += 1;
                    }
                    stats.phones_in_text += 1;
                    b.edge(
                        &id,
                        &p,
                        EdgeKind::MentionsPhone,
                        date.clone(),
                        Some(&c.uid),
                        "case.summary",
                        None,
                        ("case", &c.uid, lineage(c, "summary")),
                    );
                }
            }
        }
        // One edge per organ that acted in a case, dated by its first act.
        let mut acted: BTreeMap<(&str, &str), &StoredEntity> = BTreeMap::new();
        for e in &events {
            let (Some(case), Some(org)) = (e.case_uid.as_deref(), text(e, "org_code")) else {
                continue;
            };
            let slot = acted.entry((case, org)).or_insert(e);
            if day(e, "occurred_at") < day(slot, "occurred_at") {
                *slot = e;
            }
        }
        for ((case, org), e) in acted {
            let o = node_id(NodeKind::Organ, org);
            if seen.insert(o.clone()) {
                b.nodes.push(organ_node(&o, org));
                stats.organs += 1;
            }
            b.edge(
                &node_id(NodeKind::Case, case),
                &o,
                EdgeKind::ActedOn,
                day(e, "occurred_at"),
                Some(case),
                "event.org_code",
                None,
                ("event", &e.uid, lineage(e, "org_code")),
            );
        }
        let mut new_persons: Vec<String> = Vec::new();
        for l in &links {
            let (Some(case), Some(person)) = (l.case_uid.as_deref(), l.person_uid.as_deref())
            else {
                continue;
            };
            let p = node_id(NodeKind::Person, person);
            if seen.insert(p) {
                new_persons.push(person.to_string());
            }
            b.edge(
                &node_id(NodeKind::Person, person),
                &node_id(NodeKind::Case, case),
                EdgeKind::InvolvedIn,
                dates.get(case).cloned().flatten(),
                Some(case),
                "case_person.role",
                text(l, "role"),
                ("case_person", &l.uid, lineage(l, "role")),
            );
        }
        let mut links: HashMap<String, Vec<(xiezhi_store::LinkRow, String)>> = HashMap::new();
        for (link, source) in store.links_with_source(Entity::Person, &new_persons)? {
            links
                .entry(link.uid.clone())
                .or_default()
                .push((link, source));
        }
        for person in store.get_many(Entity::Person, &new_persons)? {
            let links = links.remove(&person.uid).unwrap_or_default();
            person_edges(links, &blinder, &person, &mut b, &mut seen, &mut stats)?;
        }
        seq = b.seq;
        stats.nodes += b.nodes.len() as u64;
        stats.edges += b.edges.len() as u64;
        store.graph_write(&staging, &b.nodes, &b.edges)?;
        progress(stats.cases);
    }
    let mut body = serde_json::Map::new();
    body.insert("graph".into(), graph.into());
    body.insert("stats".into(), serde_json::to_value(stats)?);
    let event = LedgerEvent {
        kind: "graph_built".into(),
        entity: None,
        uid: None,
        body,
    };
    store.graph_publish(&staging, graph, &[event])?;
    Ok(stats)
}

fn organ_node(id: &str, code: &str) -> GraphNode {
    GraphNode {
        node: id.to_string(),
        kind: NodeKind::Organ.as_str().into(),
        key: code.to_string(),
        case_uid: None,
        source_record_id: None,
    }
}

fn identifier_node(id: &str, kind: NodeKind) -> GraphNode {
    GraphNode {
        node: id.to_string(),
        kind: kind.as_str().into(),
        key: id.split_once(':').map_or(id, |(_, k)| k).to_string(),
        case_uid: None,
        source_record_id: None,
    }
}

/// A person's node, identifiers and department records.
/// `links`: the person's entity-resolution links, oldest first, with each record's source.
fn person_edges(
    links: Vec<(xiezhi_store::LinkRow, String)>,
    blinder: &KeyBlinder,
    person: &StoredEntity,
    b: &mut Block,
    seen: &mut HashSet<String>,
    stats: &mut BuildStats,
) -> Result<()> {
    let id = node_id(NodeKind::Person, &person.uid);
    b.nodes.push(GraphNode {
        node: id.clone(),
        kind: NodeKind::Person.as_str().into(),
        key: person.uid.clone(),
        case_uid: None,
        source_record_id: lineage(person, "name").or(person.lineage.first().map(|(_, r)| *r)),
    });
    stats.persons += 1;
    let identifiers = [
        (NodeKind::Phone, EdgeKind::UsesPhone, "phone"),
        (NodeKind::Address, EdgeKind::LivesAt, "address"),
    ];
    for (kind, edge, field) in identifiers {
        let Some(value) = text(person, field) else {
            continue;
        };
        let value = match kind {
            NodeKind::Phone => normalize_phone(value),
            _ => normalize_address(value),
        };
        let Some(value) = value else { continue };
        let n = identifier_id(blinder, kind, &value);
        if seen.insert(n.clone()) {
            b.nodes.push(identifier_node(&n, kind));
            match kind {
                NodeKind::Phone => stats.phones += 1,
                _ => stats.addresses += 1,
            }
        }
        b.edge(
            &id,
            &n,
            edge,
            None,
            None,
            &format!("person.{field}"),
            None,
            ("person", &person.uid, lineage(person, field)),
        );
    }
    // Same person across departments: the first record of each department that entity
    // resolution bound to this person, when more than one department has one.
    let mut first: BTreeMap<String, xiezhi_store::LinkRow> = BTreeMap::new();
    for (link, source) in links {
        first.entry(department(&source).to_string()).or_insert(link);
    }
    if first.len() > 1 {
        for (dept, link) in first {
            let r = format!("{}:{dept}:{}", NodeKind::Record.as_str(), person.uid);
            b.nodes.push(GraphNode {
                node: r.clone(),
                kind: NodeKind::Record.as_str().into(),
                key: dept.clone(),
                case_uid: None,
                source_record_id: Some(link.source_record_id),
            });
            stats.records += 1;
            let field = if link.rule == "id_number" {
                "person.id_number"
            } else {
                "person.name"
            };
            b.edge(
                &r,
                &id,
                EdgeKind::SamePerson,
                None,
                None,
                field,
                Some(&link.rule),
                ("entity_link", &person.uid, Some(link.source_record_id)),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_found_in_text_and_normalized() {
        assert_eq!(
            phones_in_text("经查，使用13912345678与186123456789及1391234567联系，13912345678"),
            ["13912345678"]
        );
        assert_eq!(phones_in_text("电话12912345678"), Vec::<String>::new());
        assert_eq!(normalize_phone("+86 139-1234-5678").unwrap(), "13912345678");
        assert_eq!(
            normalize_address(" 贵阳市 南明区 ").unwrap(),
            "贵阳市南明区"
        );
    }

    #[test]
    fn identifier_ids_never_hold_the_value() {
        let id = identifier_id(&KeyBlinder::none(), NodeKind::Phone, "13912345678");
        assert!(id.starts_with("phone:"));
        assert!(!id.contains("13912345678"));
        assert_eq!(
            id,
            identifier_id(&KeyBlinder::none(), NodeKind::Phone, "13912345678")
        );
    }
}
