//! The case graph (案件关系图谱): persons, cases, organs and the identifiers that link them
//! (phone numbers, addresses, phone numbers written in case texts), with typed, dated edges that
//! each name the standard field and the record they come from.
//!
//! - [`build`] derives the graph from the stored rows and keeps it in the store's own node and
//!   edge tables (`Store::graph_write` / `graph_publish`), replacing the previous graph in one
//!   step. Identifier nodes are keyed by the store's blinded key, never by the plaintext.
//! - [`query`] answers k-hop neighbourhoods and shortest paths for a principal, reading the
//!   tables node by node; [`analysis`] finds co-offender communities and central persons on the
//!   person projection.
//! - [`gate`] is the access rule of every answer: a node or edge is returned only if the asker
//!   may see it, labels are masked by the same decisions as a case read, paths and expansions
//!   are computed on the visible subgraph only, and every query appends one ledger entry.
//!
//! Results are plain serialisable structs with Chinese labels, ready for an API.

pub mod analysis;
pub mod bench;
pub mod build;
pub mod gate;
pub mod query;

use serde::{Deserialize, Serialize};

pub use analysis::{analyse, Analysis, CentralPerson, Community, CommunityScore};
pub use build::{build, BuildStats};
pub use gate::{Gate, QueryContext};
pub use query::{
    neighbours, neighbours_within, path, path_within, NeighbourQuery, PathQuery, CASES_PER_QUERY,
};

/// The name of the case graph in the store's graph tables.
pub const CASE_GRAPH: &str = "cases";

/// Errors of building or querying the graph.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("存储错误 (store error): {0}")]
    Store(#[from] xiezhi_store::StoreError),
    #[error(transparent)]
    Access(#[from] xiezhi_access::AccessError),
    /// A node the graph does not have, or one the asker may not see (the two are not told
    /// apart, so a hidden node's existence is not revealed).
    #[error("节点 `{0}` 不存在或无权查看 (no such node, or not visible)")]
    NoNode(String),
    #[error("查询参数无效：{0}")]
    BadQuery(String),
}

pub type Result<T> = std::result::Result<T, GraphError>;

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Person,
    Case,
    Organ,
    Phone,
    Address,
    /// A department's record of a person, tied to the platform person by entity resolution.
    Record,
}

impl NodeKind {
    pub const ALL: [NodeKind; 6] = [
        NodeKind::Person,
        NodeKind::Case,
        NodeKind::Organ,
        NodeKind::Phone,
        NodeKind::Address,
        NodeKind::Record,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Person => "person",
            NodeKind::Case => "case",
            NodeKind::Organ => "organ",
            NodeKind::Phone => "phone",
            NodeKind::Address => "address",
            NodeKind::Record => "record",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            NodeKind::Person => "人员",
            NodeKind::Case => "案件",
            NodeKind::Organ => "机构",
            NodeKind::Phone => "电话号码",
            NodeKind::Address => "地址",
            NodeKind::Record => "部门记录",
        }
    }

    pub fn parse(s: &str) -> Option<NodeKind> {
        NodeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind of a node id (`person:…`).
    pub fn of_id(id: &str) -> Option<NodeKind> {
        NodeKind::parse(id.split_once(':')?.0)
    }
}

/// What an edge records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// person → case, with the person's role (涉案人员角色).
    InvolvedIn,
    /// case → organ: the organ handling the case (承办机构).
    HandledBy,
    /// case → organ: an organ that took a procedural act in the case (流程节点的办理机构).
    ActedOn,
    /// person → phone (联系电话).
    UsesPhone,
    /// person → address (住址).
    LivesAt,
    /// case → phone: a phone number written in the case summary (简要案情).
    MentionsPhone,
    /// record → person: a department's record resolved to the platform person (同一人).
    SamePerson,
}

impl EdgeKind {
    pub const ALL: [EdgeKind; 7] = [
        EdgeKind::InvolvedIn,
        EdgeKind::HandledBy,
        EdgeKind::ActedOn,
        EdgeKind::UsesPhone,
        EdgeKind::LivesAt,
        EdgeKind::MentionsPhone,
        EdgeKind::SamePerson,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::InvolvedIn => "involved_in",
            EdgeKind::HandledBy => "handled_by",
            EdgeKind::ActedOn => "acted_on",
            EdgeKind::UsesPhone => "uses_phone",
            EdgeKind::LivesAt => "lives_at",
            EdgeKind::MentionsPhone => "mentions_phone",
            EdgeKind::SamePerson => "same_person",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            EdgeKind::InvolvedIn => "涉案",
            EdgeKind::HandledBy => "承办",
            EdgeKind::ActedOn => "办理流程",
            EdgeKind::UsesPhone => "使用电话",
            EdgeKind::LivesAt => "住址",
            EdgeKind::MentionsPhone => "案情提及电话",
            EdgeKind::SamePerson => "同一人（跨部门）",
        }
    }

    pub fn parse(s: &str) -> Option<EdgeKind> {
        EdgeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A node as the asker may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    pub id: String,
    pub kind: NodeKind,
    pub kind_zh: String,
    /// Masked as the asker's decisions say (`张某某`, `138****5678`, `贵州省贵阳市南明区`).
    pub label: String,
    pub case_uid: Option<String>,
    /// Not expanded: an organ, or a node with more edges than a query expands.
    pub hub: bool,
}

/// An edge as the asker may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeView {
    pub seq: i64,
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    pub kind_zh: String,
    pub date: Option<String>,
    /// The role (犯罪嫌疑人) or resolution rule, in Chinese, where the edge has one.
    pub detail_zh: Option<String>,
    pub case_uid: Option<String>,
    /// `entity.field` behind the edge.
    pub field: Option<String>,
    /// The row and the department record that gave the edge.
    pub source_entity: Option<String>,
    pub source_uid: Option<String>,
    pub source_record_id: Option<i64>,
}

/// A part of the graph returned to the asker, with how it was computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subgraph {
    pub nodes: Vec<NodeView>,
    pub edges: Vec<EdgeView>,
    /// How the answer was computed (query, limits, the visible-subgraph rule), in Chinese.
    pub explanation_zh: String,
    /// Cases met but not decided, the query's budget spent: treated as not visible, so the
    /// answer may lack nodes (never holds one the asker may not see).
    #[serde(default)]
    pub undecided_cases: usize,
}
