//! Table-driven decisions: `access_table.json` lists principal × case × field with the expected
//! permit or deny, the determining policies and the text the principal sees. Every row is run
//! through plain Cedar (`Authorizer::decide` + `MaskingPlan`) and through the compiled path,
//! and the table itself is checked to cover every organ kind, every clearance, supervisors in
//! and out of jurisdiction, a transfer receiver, the three administrators, the public, an
//! expired grant and a revoked grant.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Deserialize;
use xiezhi_access::{
    AccessEvent, Action, Authorizer, CaseResource, DataRequest, MaskingPlan, OrgKind, Principal,
    RequestContext, Resource, Role, Salt,
};
use xiezhi_standard::{Entity, Level, Record, Value};

#[derive(Deserialize)]
struct Table {
    principals: BTreeMap<String, Principal>,
    cases: BTreeMap<String, CaseResource>,
    records: BTreeMap<String, BTreeMap<String, String>>,
    grants: Vec<GrantSetup>,
    rows: Vec<Row>,
}

#[derive(Deserialize)]
struct GrantSetup {
    request_id: String,
    grantee: String,
    case: String,
    scope: Vec<String>,
    purpose: String,
    expires: NaiveDate,
    granted_by: String,
    revoke: bool,
}

#[derive(Deserialize)]
struct Row {
    who: String,
    case: String,
    field: String,
    on: Option<NaiveDate>,
    permit: bool,
    policies: Vec<String>,
    shows: Option<String>,
    #[serde(default)]
    shows_hash: bool,
    hint_owner: Option<String>,
    hint_contains: Option<String>,
}

fn load() -> Table {
    serde_json::from_str(include_str!("access_table.json")).expect("table parses")
}

fn user(t: &Table, key: &str) -> xiezhi_access::User {
    match &t.principals[key] {
        Principal::User(u) => u.clone(),
        Principal::System(_) => panic!("{key} is not a user"),
    }
}

fn record(t: &Table, entity: Entity) -> Record {
    let mut r = Record::new(entity);
    for (name, text) in &t.records[entity.name()] {
        let def = entity.field(name).expect("field of the standard");
        let v = Value::from_canonical(def.ty, text).expect("canonical value");
        r.set(name, v).expect("value fits");
    }
    r
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Issues (and revokes) the table's grants through the workflow.
fn issue_grants(t: &Table, authz: &mut Authorizer) {
    let at = day("2025-02-01").and_hms_opt(9, 0, 0).unwrap();
    for g in &t.grants {
        let requester = user(t, &g.grantee);
        let steward = user(t, &g.granted_by);
        let case = &t.cases[&g.case];
        let (mut req, _) = DataRequest::submit(
            &g.request_id,
            &requester,
            case,
            g.scope.clone(),
            &g.purpose,
            at,
        )
        .unwrap();
        req.review(&steward, true, "同意", at).unwrap();
        req.grant(&steward, g.scope.clone(), &g.purpose, g.expires, at, authz)
            .unwrap();
        if g.revoke {
            req.revoke(&steward, "案件已移交，收回授权", at, authz)
                .unwrap();
        }
    }
}

#[test]
fn every_row_of_the_table_holds_on_cedar_and_on_the_compiled_path() {
    let t = load();
    let mut authz = Authorizer::builtin().unwrap();
    issue_grants(&t, &mut authz);
    let salt = Salt::new(*b"table-test-salt");
    let mut failures = Vec::new();
    for (n, row) in t.rows.iter().enumerate() {
        let principal = &t.principals[&row.who];
        let case = &t.cases[&row.case];
        let (entity, field) = row.field.split_once('.').unwrap();
        let entity = Entity::from_name(entity).unwrap();
        let ctx = RequestContext::on(row.on.unwrap_or_else(|| day("2025-03-01")));
        let fref = case.field(entity, field).unwrap();
        let label = format!("row {n}: {} {} {}", row.who, row.case, row.field);

        // Plain Cedar with explanation.
        let d = authz
            .decide(principal, Action::Read, &Resource::new(case, fref), &ctx)
            .unwrap();
        let ids: Vec<String> = d.policies.iter().map(|p| p.id.clone()).collect();
        if d.permit != row.permit || ids != row.policies {
            failures.push(format!(
                "{label}: expected {} {:?}, got {} {:?} ({})",
                row.permit,
                row.policies,
                d.permit,
                ids,
                d.summary_zh()
            ));
            continue;
        }
        assert!(
            d.policies.iter().all(|p| !p.reason_zh.is_empty()),
            "{label}"
        );
        assert!(d.errors.is_empty(), "{label}: {:?}", d.errors);
        match &d.event {
            AccessEvent::Decision {
                permit, policies, ..
            } => {
                assert_eq!(*permit, row.permit, "{label}");
                assert_eq!(policies, &row.policies, "{label}");
            }
            other => panic!("{label}: unexpected event {other:?}"),
        }
        if let Some(owner) = &row.hint_owner {
            let hint = d
                .deny_hint
                .as_ref()
                .unwrap_or_else(|| panic!("{label}: no hint"));
            assert_eq!(hint.owner_org.as_deref(), Some(owner.as_str()), "{label}");
            assert_eq!(hint.scope, vec![row.field.clone()], "{label}");
            assert!(!hint.suggested_purpose_zh.is_empty(), "{label}");
            if let Some(s) = &row.hint_contains {
                assert!(hint.message_zh.contains(s), "{label}: {}", hint.message_zh);
            }
        }
        if !row.policies.is_empty() {
            assert!(
                d.deny_hint.is_none(),
                "{label}: a forbid needs no request hint"
            );
        }

        // Masking on plain Cedar.
        let rec = record(&t, entity);
        let plan = MaskingPlan::build(&authz, principal, Action::Read, case, entity, &ctx).unwrap();
        let masked = plan.apply(&rec, &salt).unwrap();
        let shown = &masked.fields[fref.field];
        if let Some(expected) = &row.shows {
            assert_eq!(shown, expected, "{label}");
        }
        if row.shows_hash {
            assert_eq!(shown.len(), 16, "{label}: {shown}");
            assert!(shown.bytes().all(|b| b.is_ascii_hexdigit()), "{label}");
        }
        let fd = plan.field(fref.field).unwrap();
        assert_eq!(fd.permit, row.permit, "{label}");
        assert!(!fd.reason_zh.is_empty(), "{label}");
        assert_eq!(plan.events.len(), entity.fields().len());

        // The compiled path agrees, decision and text.
        let view = authz
            .compile(principal, Action::Read, entity, &ctx)
            .unwrap();
        let fast = view.decide(case, fref.field).unwrap();
        assert_eq!(fast.permit, row.permit, "{label} (compiled)");
        assert_eq!(fast.policies, row.policies, "{label} (compiled)");
        let fast_plan = view.plan(case).unwrap();
        assert_eq!(fast_plan.fields, plan.fields, "{label} (compiled plan)");
        let row_text = view.mask_row(case, &rec, &salt).unwrap();
        match row_text {
            Some(cells) => {
                let cell = cells.iter().find(|(f, _)| *f == fref.field).unwrap();
                assert_eq!(&cell.1, shown, "{label} (compiled mask)");
            }
            None => assert!(!plan.any_permitted(), "{label}: row filtered but readable"),
        }
        assert_eq!(
            view.row_visible(case).unwrap(),
            plan.any_permitted(),
            "{label}"
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn the_table_covers_what_it_must() {
    let t = load();
    let rows_of = |pred: &dyn Fn(&Principal) -> bool| {
        t.rows
            .iter()
            .filter(|r| pred(&t.principals[&r.who]))
            .count()
    };
    let kinds: BTreeSet<OrgKind> = t
        .rows
        .iter()
        .map(|r| t.principals[&r.who].org_kind())
        .collect();
    assert_eq!(kinds.len(), OrgKind::ALL.len(), "organ kinds: {kinds:?}");
    let clearances: BTreeSet<Level> = t
        .rows
        .iter()
        .map(|r| t.principals[&r.who].clearance())
        .collect();
    assert_eq!(clearances.len(), 4, "clearances: {clearances:?}");
    for role in [
        Role::Sysadmin,
        Role::Secadmin,
        Role::Auditor,
        Role::Public,
        Role::Supervisor,
    ] {
        assert!(rows_of(&|p| p.role() == Some(role)) > 0, "{role:?}");
    }
    assert!(rows_of(&|p| matches!(p, Principal::System(_))) > 0);
    // Supervisors both in and out of jurisdiction.
    let sup = |p: &Principal| p.role() == Some(Role::Supervisor) || p.org_kind() == OrgKind::Zfw;
    assert!(t
        .rows
        .iter()
        .any(|r| sup(&t.principals[&r.who]) && r.permit));
    assert!(t
        .rows
        .iter()
        .any(|r| sup(&t.principals[&r.who]) && !r.permit && r.field.starts_with("case.")));
    // A transfer receiver, an expired grant, a revoked grant.
    assert!(t.rows.iter().any(|r| r.policies == ["transfer-receiver"]));
    assert!(t
        .rows
        .iter()
        .any(|r| r.who == "grantee" && r.on.is_some() && !r.permit));
    assert!(t.grants.iter().any(|g| g.revoke));
    assert!(t.rows.iter().any(|r| r.who == "revoked_grantee"));
}
