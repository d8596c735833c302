CREATE TABLE std_organization (
    uid TEXT PRIMARY KEY,
    org_code TEXT,
    name TEXT,
    kind TEXT,
    division TEXT,
    parent_code TEXT,
    credit_code TEXT,
    court_code TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL
);
CREATE TABLE std_person (
    uid TEXT PRIMARY KEY,
    id_type TEXT,
    id_number TEXT,
    name TEXT,
    sex TEXT,
    birth_date TEXT,
    ethnicity TEXT,
    household_division TEXT,
    address TEXT,
    phone TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL
);
CREATE TABLE std_case (
    uid TEXT PRIMARY KEY,
    police_case_no TEXT,
    procuratorate_case_no TEXT,
    indictment_no TEXT,
    court_case_no TEXT,
    category TEXT,
    name TEXT,
    charges TEXT,
    occurred_at TEXT,
    occurred_division TEXT,
    summary TEXT,
    amount INTEGER,
    stage TEXT,
    handling_org TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL
);
CREATE TABLE std_case_person (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    role TEXT,
    org_code TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL
);
CREATE INDEX std_case_person_case ON std_case_person(case_uid);
CREATE TABLE std_event (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    kind TEXT,
    occurred_at TEXT,
    org_code TEXT,
    document_no TEXT,
    note TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL
);
CREATE INDEX std_event_case ON std_event(case_uid);
CREATE TABLE std_evidence (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    kind TEXT,
    name TEXT,
    collected_by TEXT,
    collected_at TEXT,
    content_hash TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL
);
CREATE INDEX std_evidence_case ON std_evidence(case_uid);
CREATE TABLE std_document (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    kind TEXT,
    document_no TEXT,
    issuer TEXT,
    issued_on TEXT,
    content_hash TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL
);
CREATE INDEX std_document_case ON std_document(case_uid);
CREATE TABLE std_sentence (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    charges TEXT,
    principal_penalty TEXT,
    term_months INTEGER,
    probation_months INTEGER,
    fine INTEGER,
    circumstances TEXT,
    judgment_date TEXT,
    court_code TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL
);
CREATE INDEX std_sentence_case ON std_sentence(case_uid);
CREATE TABLE std_execution (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    kind TEXT,
    org_code TEXT,
    start_date TEXT,
    end_date TEXT,
    reduced_months INTEGER,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL
);
CREATE INDEX std_execution_case ON std_execution(case_uid);
CREATE TABLE std_petition (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    petition_no TEXT,
    received_on TEXT,
    content TEXT,
    status TEXT,
    org_code TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL
);
CREATE INDEX std_petition_case ON std_petition(case_uid);

-- One run = one source file ingested (or one quarantine retry).
CREATE TABLE ingest_run (
    run_id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    file TEXT NOT NULL,
    mapping TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    records_read INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0,
    repaired INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    quality TEXT
);

-- Every record read from a source, accepted or not: the anchor of lineage.
CREATE TABLE source_record (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL,
    source TEXT NOT NULL,
    file TEXT NOT NULL,
    record_no INTEGER NOT NULL,
    line INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'quarantined'))
);
CREATE INDEX source_record_file ON source_record(file, record_no);

-- Findings on accepted records: repairs and warnings, kept as lineage of each change.
CREATE TABLE record_issue (
    source_record_id INTEGER NOT NULL,
    field TEXT NOT NULL,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    value TEXT
);

-- Rejected records with their raw fields and every reason; fixed and retried, never deleted.
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    source_record_id INTEGER NOT NULL,
    run_id INTEGER NOT NULL,
    source TEXT NOT NULL,
    file TEXT NOT NULL,
    record_no INTEGER NOT NULL,
    line INTEGER NOT NULL,
    raw TEXT NOT NULL,
    reasons TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    resolved_run_id INTEGER
);
CREATE INDEX quarantine_status ON quarantine(status);

-- Entity resolution keys: which platform entity a key (ID number, name+birth+division,
-- a department's case number) resolves to.
CREATE TABLE person_key (
    key TEXT NOT NULL,
    person_uid TEXT NOT NULL,
    PRIMARY KEY (key, person_uid)
) WITHOUT ROWID;
CREATE TABLE case_key (
    key TEXT PRIMARY KEY,
    case_uid TEXT NOT NULL
) WITHOUT ROWID;

-- Why a source record landed on a platform entity: the merge explanation.
CREATE TABLE entity_link (
    entity TEXT NOT NULL,
    uid TEXT NOT NULL,
    source_record_id INTEGER NOT NULL,
    rule TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX entity_link_uid ON entity_link(entity, uid);
