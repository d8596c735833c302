-- Workflow bodies in a rowid table: in the WITHOUT ROWID table a body over about 1 KB spilled
-- into overflow pages (a stored transfer envelope is 3 KB), leaving a quarter of its pages
-- empty and every write several pages long. The key stays unique.
CREATE TABLE workflow_item_rowid (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_seq INTEGER,
    UNIQUE (kind, id)
);
INSERT INTO workflow_item_rowid (kind, id, body, updated_seq)
    SELECT kind, id, body, updated_seq FROM workflow_item;
DROP TABLE workflow_item;
ALTER TABLE workflow_item_rowid RENAME TO workflow_item;
