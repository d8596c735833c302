-- Standard v1.1: the justice-administration entities (community corrections, location
-- fixes, fences, people's mediation, legal aid) and the petition's procedural dates.
-- Columns follow the standard's field order (crates/xiezhi-standard/src/schema.rs).
-- The petition's new fields go before lineage, run and version, as in every entity table
-- (content hashes read columns in table order), so the table is rebuilt rather than altered.
ALTER TABLE std_petition RENAME TO std_petition_v1_0;
DROP INDEX std_petition_case;
CREATE TABLE std_petition (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    petition_no TEXT,
    received_on TEXT,
    content TEXT,
    status TEXT,
    org_code TEXT,
    channel TEXT,
    kind TEXT,
    division TEXT,
    accepted_on TEXT,
    extended_days INTEGER,
    answered_on TEXT,
    review_requested_on TEXT,
    review_answered_on TEXT,
    recheck_requested_on TEXT,
    recheck_answered_on TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO std_petition (uid, case_uid, person_uid, petition_no, received_on, content, status, org_code, lineage, run_id, version)
    SELECT uid, case_uid, person_uid, petition_no, received_on, content, status, org_code, lineage, run_id, version FROM std_petition_v1_0;
DROP TABLE std_petition_v1_0;
CREATE INDEX std_petition_case ON std_petition(case_uid);
CREATE TABLE std_correction_subject (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    kind TEXT,
    decision_org TEXT,
    executing_org TEXT,
    residence_division TEXT,
    effective_date TEXT,
    reported_on TEXT,
    start_date TEXT,
    end_date TEXT,
    prohibition TEXT,
    employment TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX std_correction_subject_case ON std_correction_subject(case_uid);
CREATE INDEX std_correction_subject_person ON std_correction_subject(person_uid);
CREATE TABLE std_correction_event (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    kind TEXT,
    occurred_at TEXT,
    org_code TEXT,
    until TEXT,
    document_no TEXT,
    note TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX std_correction_event_case ON std_correction_event(case_uid);
CREATE INDEX std_correction_event_person ON std_correction_event(person_uid);
CREATE TABLE std_location_fix (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    fixed_at TEXT,
    received_at TEXT,
    longitude INTEGER,
    latitude INTEGER,
    device_no TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX std_location_fix_case ON std_location_fix(case_uid);
CREATE INDEX std_location_fix_person ON std_location_fix(person_uid);
CREATE TABLE std_fence (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    rule TEXT,
    name TEXT,
    polygon TEXT,
    valid_from TEXT,
    valid_until TEXT,
    document_no TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX std_fence_case ON std_fence(case_uid);
CREATE INDEX std_fence_person ON std_fence(person_uid);
CREATE TABLE std_mediation (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    mediation_no TEXT,
    committee TEXT,
    division TEXT,
    dispute_kind TEXT,
    parties INTEGER,
    received_on TEXT,
    closed_on TEXT,
    outcome TEXT,
    confirmed_on TEXT,
    summary TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX std_mediation_case ON std_mediation(case_uid);
CREATE TABLE std_legal_aid (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    aid_no TEXT,
    kind TEXT,
    org_code TEXT,
    applied_on TEXT,
    decided_on TEXT,
    decision TEXT,
    lawyer TEXT,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX std_legal_aid_case ON std_legal_aid(case_uid);
CREATE INDEX std_legal_aid_person ON std_legal_aid(person_uid);
