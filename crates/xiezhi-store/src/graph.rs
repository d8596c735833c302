//! Rows of the named graphs the store keeps (`graph_node`, `graph_edge`, migration 8): graphs
//! derived from stored rows, such as the case graph (案件关系图谱), kept beside the rows they
//! come from instead of in a separate graph database.

use serde::{Deserialize, Serialize};

/// A node of a named graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphNode {
    /// Unique in its graph: `person:P000001`, `case:C000001`, `phone:<blinded key>`.
    pub node: String,
    /// `person`, `case`, `organ`, `phone`, `address` …
    pub kind: String,
    /// What the node stands for: an entity uid, an organ code, or an identifier's blinded key
    /// (never a plaintext personal value).
    pub key: String,
    /// The case the node belongs to, where it belongs to one (a case node itself).
    pub case_uid: Option<String>,
    /// The source record that first gave the node.
    pub source_record_id: Option<i64>,
}

/// A typed, dated edge of a named graph with the record it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphEdge {
    /// Position of the edge in its graph, unique there; assigned by the writer.
    pub seq: i64,
    pub from: String,
    pub to: String,
    /// `involved_in`, `handled_by`, `uses_phone`, `lives_at`, `mentions_phone`, …
    pub kind: String,
    /// `YYYY-MM-DD` of the fact the edge records, where known.
    pub date: Option<String>,
    /// The case the edge belongs to (the distribution key on PostgreSQL).
    pub case_uid: Option<String>,
    /// The standard field behind the edge (`case_person.role`, `person.phone`), so a reader
    /// sees the edge only if that field is permitted to him.
    pub field: Option<String>,
    /// A code qualifying the edge (a role code, a resolution rule); never a personal value.
    pub detail: Option<String>,
    /// Entity and uid of the row that gave the edge.
    pub source_entity: Option<String>,
    pub source_uid: Option<String>,
    /// The source record (department record) behind that row's field.
    pub source_record_id: Option<i64>,
}
