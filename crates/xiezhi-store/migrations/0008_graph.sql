-- Named graphs derived from the stored rows (the case graph, 案件关系图谱), kept as node and
-- edge tables in the store itself rather than in a separate graph database. A node's key is an
-- entity uid, an organ code or, for an identifier (phone, address), the store's blinded key:
-- never a plaintext personal value. Every edge names the standard field behind it and the
-- record that gave it, so a reader can be checked field by field.
CREATE TABLE graph_node (
    graph TEXT NOT NULL,
    node TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    case_uid TEXT,
    source_record_id INTEGER,
    PRIMARY KEY (graph, node)
) WITHOUT ROWID;
CREATE TABLE graph_edge (
    graph TEXT NOT NULL,
    seq INTEGER NOT NULL,
    from_node TEXT NOT NULL,
    to_node TEXT NOT NULL,
    kind TEXT NOT NULL,
    date TEXT,
    case_uid TEXT,
    field TEXT,
    detail TEXT,
    source_entity TEXT,
    source_uid TEXT,
    source_record_id INTEGER,
    PRIMARY KEY (graph, seq)
) WITHOUT ROWID;
CREATE INDEX graph_edge_from ON graph_edge(graph, from_node);
CREATE INDEX graph_edge_to ON graph_edge(graph, to_node);
