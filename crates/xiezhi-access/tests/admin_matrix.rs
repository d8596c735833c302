//! 三员分立, request by request: every administrative action × every role, decided by Cedar.

use xiezhi_access::{
    Action, AdminAction, Authorizer, CaseResource, DepartmentSystem, FieldRef, OrgKind, Principal,
    RequestContext, Resource, Role, User,
};
use xiezhi_standard::{Entity, Level};

fn user(role: Role) -> Principal {
    Principal::User(User {
        id: format!("u-{}", role.as_str()),
        name: "测试".into(),
        org_code: "GA520102".into(),
        org_kind: OrgKind::Police,
        division: "520102".into(),
        role,
        clearance: Level::L4,
    })
}

#[test]
fn each_admin_action_is_permitted_to_its_own_role_only() {
    let authz = Authorizer::builtin().unwrap();
    let mut permitted = 0;
    for role in Role::ALL {
        for action in AdminAction::ALL {
            let d = authz.decide_admin(&user(role), action).unwrap();
            let own = action.duty_of() == role;
            assert_eq!(
                d.permit,
                own,
                "{} {}: {}",
                role.as_str(),
                action.as_str(),
                d.summary_zh
            );
            if own {
                permitted += 1;
                let expected = format!("{}-duties", role.as_str());
                assert_eq!(
                    d.policy_ids(),
                    vec![expected.as_str()],
                    "{}",
                    action.as_str()
                );
                assert!(d.summary_zh.starts_with("允许"), "{}", d.summary_zh);
            } else {
                assert!(d.policies.is_empty(), "default deny has no policy");
                assert!(
                    d.summary_zh.contains(action.duty_of().name_zh()),
                    "{}",
                    d.summary_zh
                );
            }
        }
    }
    assert_eq!(
        permitted,
        AdminAction::ALL.len(),
        "every action has exactly one role"
    );
}

#[test]
fn a_denied_attempt_becomes_a_ledger_event() {
    let authz = Authorizer::builtin().unwrap();
    let who = user(Role::Sysadmin);
    let d = authz.decide_admin(&who, AdminAction::AuditRead).unwrap();
    let at = chrono::NaiveDate::from_ymd_opt(2025, 3, 1)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let json = d.event(&who, at, "10.0.0.7", "ledger").to_json().unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["kind"], "admin");
    assert_eq!(v["principal"], "u-sysadmin");
    assert_eq!(v["role"], "sysadmin");
    assert_eq!(v["source"], "10.0.0.7");
    assert_eq!(v["action"], "audit.read");
    assert_eq!(v["outcome"], "denied");
    assert_eq!(v["at"], "2025-03-01T09:00:00");
}

#[test]
fn the_auditor_changes_nothing_but_archives() {
    let changing: Vec<AdminAction> = AdminAction::ALL
        .into_iter()
        .filter(|a| a.duty_of() == Role::Auditor && a.changes_state())
        .collect();
    assert_eq!(changing, vec![AdminAction::AuditArchive]);
}

#[test]
fn a_department_system_holds_no_admin_duty() {
    let authz = Authorizer::builtin().unwrap();
    let sys = Principal::System(DepartmentSystem {
        id: "sys-ga".into(),
        org_code: "GA520102".into(),
        org_kind: OrgKind::Police,
        public_key_hex: String::new(),
    });
    for action in AdminAction::ALL {
        assert!(
            !authz.decide_admin(&sys, action).unwrap().permit,
            "{}",
            action.as_str()
        );
    }
}

#[test]
fn no_admin_role_reads_case_data() {
    let authz = Authorizer::builtin().unwrap();
    let case = CaseResource {
        case_uid: "C1".into(),
        participating_orgs: vec!["GA520102".into()],
        jurisdiction_divisions: vec!["520102".into()],
        ..Default::default()
    };
    let field = FieldRef::standard(Entity::Case, "police_case_no").unwrap();
    let ctx = RequestContext::on(chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap());
    for role in Role::ALL {
        for action in [Action::Read, Action::Aggregate] {
            let d = authz
                .decide(&user(role), action, &Resource::new(&case, field), &ctx)
                .unwrap();
            let admin = matches!(role, Role::Sysadmin | Role::Secadmin | Role::Auditor);
            if admin {
                assert!(!d.permit, "{} {:?}", role.as_str(), action);
                assert!(
                    d.policy_ids().contains(&"admin-separation"),
                    "{:?}",
                    d.policy_ids()
                );
            }
        }
    }
    // The case handler of the participating organ reads it (the forbid is the admins' alone).
    let d = authz
        .decide(
            &user(Role::CaseHandler),
            Action::Read,
            &Resource::new(&case, field),
            &ctx,
        )
        .unwrap();
    assert!(d.permit, "{}", d.summary_zh());
}
