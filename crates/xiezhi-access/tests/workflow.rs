//! The data request workflow: legal and illegal transitions, who may take each step, and the
//! effect of granting, expiring, revoking and closing on real access decisions.

use chrono::{NaiveDate, NaiveDateTime};
use xiezhi_access::{
    AccessError, AccessEvent, Action, Authorizer, CaseResource, DataRequest, FieldRef, OrgKind,
    Principal, RequestContext, RequestError, RequestState, Resource, Role, User,
};
use xiezhi_standard::{Entity, Level};

fn user(id: &str, org: &str, kind: OrgKind, role: Role) -> User {
    User {
        id: id.into(),
        name: "测试".into(),
        org_code: org.into(),
        org_kind: kind,
        division: "520102".into(),
        role,
        clearance: Level::L3,
    }
}

fn requester() -> User {
    user("xy-1", "GA522301", OrgKind::Police, Role::CaseHandler)
}

fn steward() -> User {
    user("ga-steward", "GA520102", OrgKind::Police, Role::DataSteward)
}

fn case() -> CaseResource {
    CaseResource {
        case_uid: "C1".into(),
        participating_orgs: vec!["GA520102".into(), "JC520102".into()],
        jurisdiction_divisions: vec!["520102".into()],
        ..Default::default()
    }
}

fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
}

fn reads_name(authz: &Authorizer, who: &User, when: NaiveDateTime) -> bool {
    let c = case();
    let field = FieldRef::standard(Entity::Person, "name").unwrap();
    authz
        .decide(
            &Principal::User(who.clone()),
            Action::Read,
            &Resource::new(&c, field),
            &RequestContext::new(when),
        )
        .unwrap()
        .permit
}

/// Submitted and approved, ready for the grant.
fn approved() -> DataRequest {
    let (mut req, ev) = DataRequest::submit(
        "REQ-9",
        &requester(),
        &case(),
        vec!["person".into(), "case".into()],
        "办案需要：核查关联案件信息",
        at(2025, 2, 1),
    )
    .unwrap();
    assert!(matches!(ev, AccessEvent::RequestSubmitted { .. }));
    assert_eq!(req.owner_org, "GA520102");
    req.review(&steward(), true, "用途正当，范围适当", at(2025, 2, 2))
        .unwrap();
    req
}

fn granted(authz: &mut Authorizer, expires: NaiveDate) -> DataRequest {
    let mut req = approved();
    let ev = req
        .grant(
            &steward(),
            vec!["person.name".into()],
            "办案需要：核查关联案件信息",
            expires,
            at(2025, 2, 3),
            authz,
        )
        .unwrap();
    match ev {
        AccessEvent::GrantIssued {
            policy_id, scope, ..
        } => {
            assert_eq!(policy_id, "grant:REQ-9");
            assert_eq!(scope, vec!["person.name".to_string()]);
        }
        other => panic!("unexpected {other:?}"),
    }
    req
}

#[test]
fn full_cycle_request_review_grant_use_feedback() {
    let mut authz = Authorizer::builtin().unwrap();
    let before = authz.policies().len();
    assert!(!reads_name(&authz, &requester(), at(2025, 3, 1)));

    let mut req = granted(&mut authz, NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
    assert_eq!(req.state, RequestState::Granted);
    assert_eq!(authz.policies().len(), before + 1);
    assert!(reads_name(&authz, &requester(), at(2025, 3, 1)));
    // Narrowed scope: the phone was asked for (as `person`) but not granted.
    let c = case();
    let phone = FieldRef::standard(Entity::Person, "phone").unwrap();
    let d = authz
        .decide(
            &Principal::User(requester()),
            Action::Read,
            &Resource::new(&c, phone),
            &RequestContext::new(at(2025, 3, 1)),
        )
        .unwrap();
    assert!(!d.permit);
    // Someone else from the requester's organ gets nothing from the grant.
    let colleague = user("xy-2", "GA522301", OrgKind::Police, Role::CaseHandler);
    assert!(!reads_name(&authz, &colleague, at(2025, 3, 1)));

    let ev = req
        .record_use(&requester(), "核查张三身份", at(2025, 3, 1))
        .unwrap();
    assert!(matches!(ev, AccessEvent::GrantUsed { .. }));
    assert_eq!(req.uses.len(), 1);
    let colleague_use = req.record_use(&colleague, "x", at(2025, 3, 1));
    assert!(matches!(
        colleague_use,
        Err(RequestError::NotAllowed { .. })
    ));

    let ev = req
        .feedback(
            &requester(),
            "已完成核查，确认为同一人",
            at(2025, 3, 5),
            &mut authz,
        )
        .unwrap();
    match ev {
        AccessEvent::FeedbackGiven { policy_id, .. } => {
            assert_eq!(policy_id.as_deref(), Some("grant:REQ-9"))
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(req.state, RequestState::Closed);
    assert_eq!(authz.policies().len(), before);
    assert!(!reads_name(&authz, &requester(), at(2025, 3, 6)));
}

#[test]
fn a_granted_request_that_expired_denies() {
    let mut authz = Authorizer::builtin().unwrap();
    let expires = NaiveDate::from_ymd_opt(2025, 3, 31).unwrap();
    let mut req = granted(&mut authz, expires);
    assert!(
        reads_name(&authz, &requester(), at(2025, 3, 31)),
        "last day is valid"
    );
    // Cedar denies from the next day on, before any sweep.
    assert!(!reads_name(&authz, &requester(), at(2025, 4, 1)));
    let d = {
        let c = case();
        let f = FieldRef::standard(Entity::Person, "name").unwrap();
        authz
            .decide(
                &Principal::User(requester()),
                Action::Read,
                &Resource::new(&c, f),
                &RequestContext::new(at(2025, 4, 1)),
            )
            .unwrap()
    };
    assert!(d.deny_hint.unwrap().message_zh.contains("到期"));
    // Use after expiry is refused.
    assert!(matches!(
        req.record_use(&requester(), "x", at(2025, 4, 1)),
        Err(RequestError::GrantExpired { .. })
    ));
    // Not yet due: nothing happens.
    assert!(req
        .expire_if_due(at(2025, 3, 31), &mut authz)
        .unwrap()
        .is_none());
    let ev = req
        .expire_if_due(at(2025, 4, 2), &mut authz)
        .unwrap()
        .unwrap();
    assert!(matches!(ev, AccessEvent::GrantExpired { .. }));
    assert_eq!(req.state, RequestState::Expired);
    assert_eq!(authz.grants().count(), 0);
    assert!(
        !reads_name(&authz, &requester(), at(2025, 3, 15)),
        "link removed"
    );
    // Feedback is still possible after expiry and closes the request.
    req.feedback(&requester(), "逾期未用", at(2025, 4, 3), &mut authz)
        .unwrap();
    assert_eq!(req.state, RequestState::Closed);
}

#[test]
fn a_revoked_grant_denies() {
    let mut authz = Authorizer::builtin().unwrap();
    let mut req = granted(&mut authz, NaiveDate::from_ymd_opt(2025, 12, 31).unwrap());
    assert!(reads_name(&authz, &requester(), at(2025, 3, 1)));
    // A case handler of the owner organ may not revoke; its data steward may.
    let handler = user("ga-h", "GA520102", OrgKind::Police, Role::CaseHandler);
    assert!(matches!(
        req.revoke(&handler, "x", at(2025, 3, 2), &mut authz),
        Err(RequestError::NotAllowed { .. })
    ));
    let ev = req
        .revoke(
            &steward(),
            "案件已撤销，收回授权",
            at(2025, 3, 2),
            &mut authz,
        )
        .unwrap();
    match ev {
        AccessEvent::RequestRevoked { policy_id, .. } => {
            assert_eq!(policy_id.as_deref(), Some("grant:REQ-9"))
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(req.state, RequestState::Revoked);
    assert!(!reads_name(&authz, &requester(), at(2025, 3, 3)));
    assert!(matches!(
        req.revoke(&steward(), "again", at(2025, 3, 4), &mut authz),
        Err(RequestError::IllegalTransition { .. })
    ));
    assert!(matches!(
        req.record_use(&requester(), "x", at(2025, 3, 4)),
        Err(RequestError::IllegalTransition { .. })
    ));
}

#[test]
fn illegal_transitions_are_errors_and_change_nothing() {
    let mut authz = Authorizer::builtin().unwrap();
    let expires = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    let (mut req, _) = DataRequest::submit(
        "REQ-1",
        &requester(),
        &case(),
        vec!["person".into()],
        "核查",
        at(2025, 2, 1),
    )
    .unwrap();
    let snapshot = req.clone();
    let grant_early = req.grant(
        &steward(),
        vec!["person".into()],
        "核查",
        expires,
        at(2025, 2, 1),
        &mut authz,
    );
    assert!(matches!(
        grant_early,
        Err(RequestError::IllegalTransition {
            state: RequestState::Requested,
            ..
        })
    ));
    assert!(req.record_use(&requester(), "x", at(2025, 2, 1)).is_err());
    assert!(req
        .feedback(&requester(), "x", at(2025, 2, 1), &mut authz)
        .is_err());
    assert_eq!(req, snapshot);
    assert_eq!(authz.grants().count(), 0);

    // Review by another organ, or by a case handler, is refused.
    let other = user(
        "jc-steward",
        "JC520102",
        OrgKind::Procuratorate,
        Role::DataSteward,
    );
    assert!(matches!(
        req.review(&other, true, "同意", at(2025, 2, 2)),
        Err(RequestError::NotAllowed { .. })
    ));
    let handler = user("ga-h", "GA520102", OrgKind::Police, Role::CaseHandler);
    assert!(req.review(&handler, true, "同意", at(2025, 2, 2)).is_err());
    assert!(matches!(
        req.review(&steward(), false, " ", at(2025, 2, 2)),
        Err(RequestError::Empty(_))
    ));
    assert_eq!(req, snapshot);

    // Rejected is final.
    let ev = req
        .review(&steward(), false, "用途不明确", at(2025, 2, 2))
        .unwrap();
    assert!(matches!(
        ev,
        AccessEvent::RequestReviewed {
            approved: false,
            ..
        }
    ));
    assert_eq!(req.state, RequestState::Rejected);
    assert!(req
        .review(&steward(), true, "改为同意", at(2025, 2, 3))
        .is_err());
    assert!(req
        .grant(
            &steward(),
            vec!["person".into()],
            "核查",
            expires,
            at(2025, 2, 3),
            &mut authz
        )
        .is_err());
    assert!(req
        .revoke(&requester(), "撤回", at(2025, 2, 3), &mut authz)
        .is_err());
}

#[test]
fn grants_stay_within_the_request_and_the_calendar() {
    let mut authz = Authorizer::builtin().unwrap();
    let mut req = approved();
    let wider = req.grant(
        &steward(),
        vec!["sentence".into()],
        "核查",
        NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        at(2025, 2, 3),
        &mut authz,
    );
    assert!(matches!(wider, Err(RequestError::ScopeWidened { .. })));
    let past = req.grant(
        &steward(),
        vec!["person.name".into()],
        "核查",
        NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
        at(2025, 2, 3),
        &mut authz,
    );
    assert!(matches!(past, Err(RequestError::ExpiryInPast { .. })));
    let unknown = req.grant(
        &steward(),
        vec!["person.nmae".into()],
        "核查",
        NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        at(2025, 2, 3),
        &mut authz,
    );
    assert!(matches!(
        unknown,
        Err(RequestError::Access(AccessError::UnknownField { .. }))
    ));
    assert_eq!(req.state, RequestState::Approved);
    assert_eq!(authz.grants().count(), 0);
}

#[test]
fn one_grant_per_user_and_case() {
    let mut authz = Authorizer::builtin().unwrap();
    let _first = granted(&mut authz, NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
    let (mut second, _) = DataRequest::submit(
        "REQ-10",
        &requester(),
        &case(),
        vec!["person.phone".into()],
        "补充核查",
        at(2025, 2, 10),
    )
    .unwrap();
    second
        .review(&steward(), true, "同意", at(2025, 2, 10))
        .unwrap();
    let r = second.grant(
        &steward(),
        vec!["person.phone".into()],
        "补充核查",
        NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        at(2025, 2, 10),
        &mut authz,
    );
    assert!(matches!(
        r,
        Err(RequestError::Access(AccessError::GrantConflict { .. }))
    ));
    assert_eq!(second.state, RequestState::Approved);
}

#[test]
fn the_public_and_admins_cannot_file_requests() {
    for role in [Role::Public, Role::Sysadmin, Role::Secadmin, Role::Auditor] {
        let u = user("x", "GA520102", OrgKind::Police, role);
        let r = DataRequest::submit(
            "R",
            &u,
            &case(),
            vec!["case".into()],
            "看看",
            at(2025, 2, 1),
        );
        assert!(
            matches!(r, Err(RequestError::NotAllowed { .. })),
            "{role:?}"
        );
    }
    let r = DataRequest::submit(
        "R",
        &requester(),
        &case(),
        vec!["people".into()],
        "核查",
        at(2025, 2, 1),
    );
    assert!(r.is_err());
}

#[test]
fn events_are_serializable_for_the_ledger() {
    let mut authz = Authorizer::builtin().unwrap();
    let mut events = Vec::new();
    let (mut req, ev) = DataRequest::submit(
        "REQ-1",
        &requester(),
        &case(),
        vec!["person".into()],
        "核查",
        at(2025, 2, 1),
    )
    .unwrap();
    events.push(ev);
    events.push(
        req.review(&steward(), true, "同意", at(2025, 2, 2))
            .unwrap(),
    );
    events.push(
        req.grant(
            &steward(),
            vec!["person".into()],
            "核查",
            NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
            at(2025, 2, 3),
            &mut authz,
        )
        .unwrap(),
    );
    events.push(
        req.record_use(&requester(), "查阅", at(2025, 2, 4))
            .unwrap(),
    );
    let c = case();
    let d = authz
        .decide(
            &Principal::User(requester()),
            Action::Read,
            &Resource::new(&c, FieldRef::standard(Entity::Person, "name").unwrap()),
            &RequestContext::new(at(2025, 2, 4)),
        )
        .unwrap();
    events.push(d.event.clone());
    events.push(
        req.revoke(&requester(), "不再需要", at(2025, 2, 5), &mut authz)
            .unwrap(),
    );
    for ev in &events {
        let json = ev.to_json().unwrap();
        assert!(json.contains("\"kind\""), "{json}");
        let back: AccessEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, ev);
    }
    let kinds: Vec<String> = events
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "request_submitted",
            "request_reviewed",
            "grant_issued",
            "grant_used",
            "decision",
            "request_revoked"
        ]
    );
    match &d.event {
        AccessEvent::Decision {
            permit,
            policies,
            resource,
            ..
        } => {
            assert!(permit);
            assert_eq!(policies, &vec!["grant:REQ-1".to_string()]);
            assert_eq!(resource, "C1/person.name");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn replacing_policies_keeps_grants() {
    let mut authz = Authorizer::builtin().unwrap();
    let _req = granted(&mut authz, NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
    authz
        .replace_policies(xiezhi_access::PolicyStore::builtin().unwrap())
        .unwrap();
    assert!(reads_name(&authz, &requester(), at(2025, 3, 1)));
}

/// The console offers exactly the steps that would succeed: for every state, every kind of
/// user and every step, `steps_open_to` names the step iff `take` on a copy accepts it.
#[test]
fn offered_steps_are_exactly_the_steps_that_succeed() {
    use xiezhi_access::RequestStep;
    let when = at(2025, 2, 10);
    let users = [
        requester(),
        steward(),
        user("ga-lead", "GA520102", OrgKind::Police, Role::Leader),
        user("ga-handler", "GA520102", OrgKind::Police, Role::CaseHandler),
        user(
            "jc-steward",
            "JC520102",
            OrgKind::Procuratorate,
            Role::DataSteward,
        ),
    ];
    let steps = [
        RequestStep::Review {
            approve: true,
            reason: "同意".into(),
        },
        RequestStep::Grant {
            expires: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            scope: vec![],
            purpose: None,
        },
        RequestStep::Use {
            detail: "查阅".into(),
        },
        RequestStep::Feedback {
            text: "已用毕".into(),
        },
        RequestStep::Revoke {
            reason: "不再需要".into(),
        },
    ];
    let mut authz = Authorizer::new(xiezhi_access::PolicyStore::builtin().unwrap()).unwrap();
    let (submitted, _) = DataRequest::submit(
        "REQ-7",
        &requester(),
        &case(),
        vec!["person".into()],
        "办案需要",
        at(2025, 2, 1),
    )
    .unwrap();
    let mut rejected = submitted.clone();
    rejected
        .review(&steward(), false, "用途不明", at(2025, 2, 2))
        .unwrap();
    let approved = approved();
    let mut granted = approved.clone();
    granted
        .take(&steward(), steps[1].clone(), at(2025, 2, 3), &mut authz)
        .unwrap();
    let mut expired = granted.clone();
    expired
        .expire_if_due(at(2025, 3, 2), &mut authz.clone())
        .unwrap()
        .expect("expires");
    let mut revoked = submitted.clone();
    revoked
        .revoke(&requester(), "撤回", at(2025, 2, 2), &mut authz.clone())
        .unwrap();
    let requests = [submitted, rejected, approved, granted, expired, revoked];
    let mut offered_total = 0;
    for r in &requests {
        for u in &users {
            let offered = r.steps_open_to(u);
            for step in &steps {
                let mut fresh =
                    Authorizer::new(xiezhi_access::PolicyStore::builtin().unwrap()).unwrap();
                let ok = r.clone().take(u, step.clone(), when, &mut fresh).is_ok();
                assert_eq!(
                    offered.contains(&step.name()),
                    ok,
                    "state {:?}, user {}, step {}",
                    r.state,
                    u.id,
                    step.name()
                );
                offered_total += usize::from(ok);
            }
        }
    }
    // Every step is open to someone in some state.
    assert!(offered_total >= steps.len());
}
