//! The ledger entries a store write makes, built and rendered by one piece of code for both
//! backends: an entry's text is what its hash covers, so SQLite and PostgreSQL must write it
//! byte for byte alike, and a `records_written` entry is made once per source record, so
//! building it is on every ingest's path.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use xiezhi_standard::Entity;

use crate::{LedgerEvent, LedgerRow, QuarantineEntry};

/// Lower-case hex SHA-256 of an entry's text.
fn sha256_hex(text: &str) -> String {
    crate::hex(&Sha256::digest(text.as_bytes()))
}

/// An entry with `fields` as its body, in that order. The fields are moved in, not copied: a
/// `records_written` body holds every row its source record wrote.
fn event(kind: &str, fields: Vec<(&str, Value)>) -> LedgerEvent {
    LedgerEvent {
        kind: kind.to_string(),
        entity: None,
        uid: None,
        body: fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

/// The entry for a quarantined record: where it was and which error rules refused it.
pub(crate) fn record_quarantined(q: &QuarantineEntry, run_id: i64) -> LedgerEvent {
    let rules: Vec<Value> = q
        .reasons
        .iter()
        .filter(|r| r.severity == "error")
        .map(|r| r.rule.clone().into())
        .collect();
    event(
        "record_quarantined",
        vec![
            ("source_record", q.source_record_id.into()),
            ("file", q.file.clone().into()),
            ("record_no", q.record_no.into()),
            ("rules", rules.into()),
            ("run", run_id.into()),
        ],
    )
}

/// The entry for a quarantine entry a later run resolved.
pub(crate) fn quarantine_resolved(id: i64, run_id: i64) -> LedgerEvent {
    event(
        "quarantine_resolved",
        vec![("quarantine", id.into()), ("run", run_id.into())],
    )
}

/// Gathers a batch's written rows, in batch order, into one `records_written` entry per
/// source record, naming each row's entity, uid, version and content hash.
pub(crate) struct WrittenRows {
    run_id: i64,
    open: Option<(i64, Vec<Value>)>,
}

impl WrittenRows {
    pub(crate) fn new(run_id: i64) -> WrittenRows {
        WrittenRows { run_id, open: None }
    }

    /// Adds a row; a row of another source record closes the open entry into `events`.
    pub(crate) fn push(
        &mut self,
        events: &mut Vec<LedgerEvent>,
        source_record: i64,
        entity: Entity,
        uid: &str,
        version: i64,
        content_sha256: String,
    ) {
        if self
            .open
            .as_ref()
            .is_some_and(|(id, _)| *id != source_record)
        {
            self.close(events);
        }
        let mut row = Map::with_capacity(4);
        row.insert("entity".into(), entity.name().into());
        row.insert("uid".into(), uid.into());
        row.insert("version".into(), version.into());
        row.insert("content_sha256".into(), content_sha256.into());
        self.open
            .get_or_insert_with(|| (source_record, Vec::new()))
            .1
            .push(Value::Object(row));
    }

    /// Closes the last entry into `events`.
    pub(crate) fn finish(mut self, events: &mut Vec<LedgerEvent>) {
        self.close(events);
    }

    fn close(&mut self, events: &mut Vec<LedgerEvent>) {
        if let Some((id, rows)) = self.open.take() {
            events.push(event(
                "records_written",
                vec![
                    ("source_record", id.into()),
                    ("run", self.run_id.into()),
                    ("rows", rows.into()),
                ],
            ));
        }
    }
}

/// The stored text of entry `seq`: its body's fields, then `seq`, `kind` and, when set,
/// `entity` and `uid`, as one compact JSON object, fields in the order they were added (this
/// crate turns on serde_json's `preserve_order`; without it a build that happened not to
/// link a crate turning it on wrote the same entry with its keys sorted).
pub(crate) fn render(seq: i64, e: LedgerEvent) -> LedgerRow {
    let LedgerEvent {
        kind,
        entity,
        uid,
        mut body,
    } = e;
    body.insert("seq".into(), seq.into());
    body.insert("kind".into(), kind.clone().into());
    if let Some(entity) = &entity {
        body.insert("entity".into(), entity.clone().into());
    }
    if let Some(uid) = &uid {
        body.insert("uid".into(), uid.clone().into());
    }
    // `to_string` on the value goes through `Display` and a formatter adapter per write;
    // serializing into a buffer makes the same text with less work.
    let text = serde_json::to_string(&Value::Object(body))
        .unwrap_or_else(|e| unreachable!("a JSON value always serializes: {e}"));
    let body_sha256 = sha256_hex(&text);
    LedgerRow {
        seq,
        kind,
        entity,
        uid,
        body: text,
        body_sha256,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rendering the stored ledger was written with: the body map with the store's fields
    /// inserted, shown with `Display`. Entries written before must keep verifying.
    fn rendered_before(seq: i64, e: &LedgerEvent) -> String {
        let mut body = e.body.clone();
        body.insert("seq".into(), seq.into());
        body.insert("kind".into(), e.kind.clone().into());
        if let Some(entity) = &e.entity {
            body.insert("entity".into(), entity.clone().into());
        }
        if let Some(uid) = &e.uid {
            body.insert("uid".into(), uid.clone().into());
        }
        Value::Object(body).to_string()
    }

    #[test]
    fn records_written_entries_group_rows_by_source_record_in_order() {
        let mut events = Vec::new();
        let mut rows = WrittenRows::new(7);
        rows.push(&mut events, 1, Entity::Case, "C1", 1, "aa".into());
        rows.push(&mut events, 1, Entity::Event, "E\"1\n", 2, "bb".into());
        rows.push(&mut events, 2, Entity::Person, "P1", 1, "cc".into());
        rows.finish(&mut events);
        assert_eq!(events.len(), 2);
        let first = render(41, events[0].clone());
        assert_eq!(
            first.body,
            r#"{"source_record":1,"run":7,"rows":[{"entity":"case","uid":"C1","version":1,"content_sha256":"aa"},{"entity":"event","uid":"E\"1\n","version":2,"content_sha256":"bb"}],"seq":41,"kind":"records_written"}"#
        );
        assert_eq!(first.body_sha256, sha256_hex(&first.body));
        assert_eq!(render(42, events[1].clone()).seq, 42);
    }

    #[test]
    fn rendering_matches_the_text_stored_ledgers_hold() {
        let q = QuarantineEntry {
            id: 0,
            source_record_id: 9,
            run_id: 3,
            source: "police".into(),
            file: "警情.csv".into(),
            record_no: 12,
            line: 13,
            raw: Default::default(),
            reasons: ["error", "warning", "error"]
                .iter()
                .enumerate()
                .map(|(i, severity)| crate::Reason {
                    field: "id_number".into(),
                    rule: format!("rule.{i}"),
                    severity: severity.to_string(),
                    value: None,
                    message_zh: String::new(),
                    message_en: String::new(),
                })
                .collect(),
            status: "open".into(),
            resolved_run_id: None,
        };
        let mut named = event("access_decision", vec![]);
        named.entity = Some("case".into());
        named.uid = Some("C\u{1}9".into());
        named.body.insert("kind".into(), "shadowed".into());
        for e in [record_quarantined(&q, 3), quarantine_resolved(5, 4), named] {
            assert_eq!(render(3, e.clone()).body, rendered_before(3, &e));
        }
    }
}
