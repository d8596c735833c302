-- Standard v1.2: the procuratorate's sentencing proposal (量刑建议, 刑事诉讼法 第176条第2款).
-- Columns follow the standard's field order (crates/xiezhi-standard/src/schema.rs).
CREATE TABLE std_sentencing_proposal (
    uid TEXT PRIMARY KEY,
    case_uid TEXT,
    person_uid TEXT,
    proposed_on TEXT,
    org_code TEXT,
    document_no TEXT,
    plea_signed_on TEXT,
    principal_penalty TEXT,
    term_min_months INTEGER,
    term_max_months INTEGER,
    probation INTEGER,
    fine INTEGER,
    lineage TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX std_sentencing_proposal_case ON std_sentencing_proposal(case_uid);
CREATE INDEX std_sentencing_proposal_person ON std_sentencing_proposal(person_uid);
