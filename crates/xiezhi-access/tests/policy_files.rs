//! Policy files: loading from a directory a steward edits, and refusal of files that fail the
//! schema, with the validator's messages.

use std::path::Path;

use xiezhi_access::policy::{BUILTIN_POLICIES, SCHEMA};
use xiezhi_access::{
    AccessError, Action, Authorizer, CaseResource, FieldRef, OrgKind, PolicyStore, Principal,
    RequestContext, Resource, Role, User,
};
use xiezhi_standard::{Entity, Level};

fn with_extra(name: &'static str, text: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut files = BUILTIN_POLICIES.to_vec();
    files.push((name, text));
    files
}

#[test]
fn a_policy_with_an_unknown_attribute_is_refused_with_the_validator_message() {
    let bad = r#"
@id("rank-rule")
@reason("按职级读取")
permit (principal is User, action == Action::"read", resource)
when { principal.rank >= 3 };
"#;
    let err = PolicyStore::from_sources(SCHEMA, &with_extra("rank.cedar", bad)).unwrap_err();
    let AccessError::PolicyValidation { messages } = &err else {
        panic!("expected a validation error, got {err}");
    };
    assert_eq!(messages.len(), 1, "{messages:?}");
    let msg = &messages[0];
    assert!(msg.starts_with("rank.cedar: "), "{msg}");
    assert!(msg.contains("rank-rule"), "{msg}");
    assert!(msg.contains("rank"), "{msg}");
    let shown = err.to_string();
    assert!(shown.contains("策略未通过 schema 校验"), "{shown}");
}

#[test]
fn a_policy_with_a_type_error_is_refused() {
    let bad = r#"
@id("level-text")
@reason("文本级别")
forbid (principal, action, resource)
when { context.level == "high" };
"#;
    // `==` between a Long and a String is a type error in strict mode.
    let err = PolicyStore::from_sources(SCHEMA, &with_extra("level.cedar", bad)).unwrap_err();
    assert!(
        matches!(&err, AccessError::PolicyValidation { messages } if messages.iter().any(|m| m.contains("level-text"))),
        "{err}"
    );
}

#[test]
fn a_policy_on_an_unknown_entity_type_is_refused() {
    let bad = r#"
@id("doc-rule")
@reason("文书")
permit (principal, action == Action::"read", resource is Dossier);
"#;
    let err = PolicyStore::from_sources(SCHEMA, &with_extra("doc.cedar", bad)).unwrap_err();
    assert!(
        matches!(&err, AccessError::PolicyValidation { messages } if messages.iter().any(|m| m.contains("Dossier"))),
        "{err}"
    );
}

#[test]
fn syntax_errors_name_the_file() {
    let err = PolicyStore::from_sources(SCHEMA, &with_extra("broken.cedar", "permit (principal"))
        .unwrap_err();
    assert!(matches!(&err, AccessError::PolicyParse { file, .. } if file == "broken.cedar"));
}

#[test]
fn the_crate_policy_directory_loads_like_the_builtin_set() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let from_dir = PolicyStore::from_dir(&dir).unwrap();
    let builtin = PolicyStore::builtin().unwrap();
    let a: Vec<_> = from_dir.policy_files().collect();
    let b: Vec<_> = builtin.policy_files().collect();
    assert_eq!(a, b);
}

#[test]
fn a_steward_edited_directory_changes_decisions_and_a_bad_edit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in BUILTIN_POLICIES {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    // The steward adds a rule: justice bureaus read sentences of their county's cases.
    std::fs::write(
        dir.path().join("justice.cedar"),
        r#"
@id("justice-sentences")
@reason("司法行政机关可读取本辖区案件的判决结果，用于刑罚执行衔接")
permit (principal is User, action == Action::"read", resource)
when {
  principal.org_kind == "justice_bureau" &&
  context.entity == "sentence" &&
  resource.jurisdiction_prefixes.contains(principal.jurisdiction)
};
"#,
    )
    .unwrap();
    let store = PolicyStore::from_dir(dir.path()).unwrap();
    let authz = Authorizer::new(store).unwrap();
    let user = Principal::User(User {
        id: "sfj".into(),
        name: "李司".into(),
        org_code: "SFJ520102".into(),
        org_kind: OrgKind::JusticeBureau,
        division: "520102".into(),
        role: Role::CaseHandler,
        clearance: Level::L3,
    });
    let case = CaseResource {
        case_uid: "C1".into(),
        participating_orgs: vec!["GA520102".into()],
        jurisdiction_divisions: vec!["520102".into()],
        ..Default::default()
    };
    let ctx = RequestContext::on(chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap());
    let field = FieldRef::standard(Entity::Sentence, "term_months").unwrap();
    let d = authz
        .decide(&user, Action::Read, &Resource::new(&case, field), &ctx)
        .unwrap();
    assert!(d.permit);
    assert_eq!(d.policy_ids(), ["justice-sentences"]);
    assert!(d.policies[0].reason_zh.contains("刑罚执行衔接"));

    // A later edit with a typo is refused as a whole: nothing half-loaded.
    std::fs::write(
        dir.path().join("typo.cedar"),
        r#"@id("typo") @reason("笔误") permit (principal, action, resource) when { resource.participating_org.contains("x") };"#,
    )
    .unwrap();
    let err = PolicyStore::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&err, AccessError::PolicyValidation { messages } if messages.iter().any(|m| m.starts_with("typo.cedar: "))),
        "{err}"
    );

    // An empty directory is an error, not an empty (deny-all) policy set.
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        PolicyStore::from_dir(empty.path()),
        Err(AccessError::NoPolicies { .. })
    ));
}

#[test]
fn a_broken_schema_is_refused() {
    let err = PolicyStore::from_sources("entity User { org_code: Strin };", BUILTIN_POLICIES)
        .unwrap_err();
    assert!(matches!(err, AccessError::Schema { .. }), "{err}");
}
