-- PostgreSQL version of ../0003_workflow.sql.
-- Workflow items (data requests now; risk items later): the current state as JSON. Each change
-- is written together with its ledger entries in one transaction.
CREATE TABLE workflow_item (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_seq BIGINT,
    PRIMARY KEY (kind, id)
);
