//! Differential test: the compiled path (partial evaluation + residual interpreter) decides
//! exactly as plain Cedar `is_authorized`, permit and determining policies alike, on random
//! principals, cases, grants, days and entities.

use chrono::NaiveDate;
use proptest::prelude::*;
use xiezhi_access::{
    Action, Authorizer, CaseResource, DepartmentSystem, Grant, OrgKind, Principal, RequestContext,
    Resource, Role, User,
};
use xiezhi_standard::{Entity, Level};

/// (org code, kind, division)
const ORGS: &[(&str, OrgKind, &str)] = &[
    ("GA520102", OrgKind::Police, "520102"),
    ("GA522301", OrgKind::Police, "522301"),
    ("JC520102", OrgKind::Procuratorate, "520102"),
    ("JC520000", OrgKind::Procuratorate, "520000"),
    ("FY520103", OrgKind::Court, "520103"),
    ("SFJ520100", OrgKind::JusticeBureau, "520100"),
    ("JY520100", OrgKind::Prison, "520100"),
    ("KSS520102", OrgKind::DetentionCenter, "520102"),
    ("SQJZ522301", OrgKind::CommunityCorrections, "522301"),
    ("ZFW520100", OrgKind::Zfw, "520100"),
    ("ZFW520000", OrgKind::Zfw, "520000"),
];
const DIVISIONS: &[&str] = &["520102", "520103", "522301", "520100", "530102"];
const USERS: usize = 4;
const LEVELS: [Level; 4] = [Level::L1, Level::L2, Level::L3, Level::L4];

fn day0() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 1).unwrap()
}

fn arb_principal() -> impl Strategy<Value = Principal> {
    let user = (0..USERS, 0..ORGS.len(), 0..Role::ALL.len(), 0..4usize).prop_map(|(u, o, r, c)| {
        let (org, kind, div) = ORGS[o];
        Principal::User(User {
            id: format!("u{u}"),
            name: "测试".into(),
            org_code: org.into(),
            org_kind: kind,
            division: div.into(),
            role: Role::ALL[r],
            clearance: LEVELS[c],
        })
    });
    let system = (0..ORGS.len()).prop_map(|o| {
        let (org, kind, _) = ORGS[o];
        Principal::System(DepartmentSystem {
            id: format!("sys-{org}"),
            org_code: org.into(),
            org_kind: kind,
            public_key_hex: "00".into(),
        })
    });
    prop_oneof![4 => user, 1 => system]
}

/// Scopes a transfer or grant may name for `entity`: everything, the entity, some of its
/// fields, and a scope of another entity (which must never match).
fn scope_universe(entity: Entity) -> Vec<String> {
    let mut out = vec![
        "*".to_string(),
        entity.name().to_string(),
        "case.summary".to_string(),
    ];
    for def in entity.fields().iter().take(4) {
        out.push(format!("{}.{}", entity.name(), def.name));
    }
    if let Some(last) = entity.fields().last() {
        out.push(format!("{}.{}", entity.name(), last.name));
    }
    out
}

const CASES: usize = 10;

fn arb_case(uid: usize, scopes: Vec<String>) -> impl Strategy<Value = CaseResource> {
    let orgs = proptest::sample::subsequence((0..ORGS.len()).collect::<Vec<_>>(), 0..4);
    let transfers = proptest::collection::vec(
        (0..ORGS.len(), proptest::sample::subsequence(scopes, 1..3)),
        0..4,
    );
    let divisions = proptest::sample::subsequence(DIVISIONS.to_vec(), 0..3);
    let raised = proptest::option::of(prop_oneof![
        Just(("person".to_string(), Level::L4)),
        Just(("event.note".to_string(), Level::L4)),
        Just(("case.name".to_string(), Level::L3)),
        Just(("evidence".to_string(), Level::L4)),
    ]);
    (orgs, transfers, divisions, any::<bool>(), raised).prop_map(
        move |(orgs, transfers, divisions, ongoing, raised)| CaseResource {
            case_uid: format!("C{uid}"),
            participating_orgs: orgs.into_iter().map(|i| ORGS[i].0.to_string()).collect(),
            transferred_to: transfers
                .into_iter()
                .map(|(o, s)| (ORGS[o].0.to_string(), s))
                .collect(),
            jurisdiction_divisions: divisions.into_iter().map(str::to_string).collect(),
            ongoing_investigation: ongoing,
            raised_levels: raised.into_iter().collect(),
        },
    )
}

/// (user, case index, scopes, expiry offset in days from day 0)
type GrantSpec = (usize, usize, Vec<String>, i64);

fn arb_grants(scopes: Vec<String>) -> impl Strategy<Value = Vec<GrantSpec>> {
    proptest::collection::vec(
        (
            0..USERS,
            0..CASES,
            proptest::sample::subsequence(scopes, 1..3),
            -5i64..5,
        ),
        0..8,
    )
}

/// An entity, then cases and grants whose scopes are about that entity.
fn arb_world() -> impl Strategy<Value = (Entity, Vec<CaseResource>, Vec<GrantSpec>)> {
    (0..Entity::ALL.len()).prop_flat_map(|e| {
        let entity = Entity::ALL[e];
        let scopes = scope_universe(entity);
        let cases: Vec<_> = (0..CASES).map(|i| arb_case(i, scopes.clone())).collect();
        (Just(entity), cases, arb_grants(scopes))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn compiled_path_agrees_with_cedar(
        principal in arb_principal(),
        (entity, cases, grants) in arb_world(),
        offset in -3i64..3,
    ) {
        let mut authz = Authorizer::builtin().unwrap();
        for (n, (u, c, scopes, exp)) in grants.into_iter().enumerate() {
            let grant = Grant {
                request_id: format!("R{n}"),
                policy_id: format!("grant:R{n}"),
                grantee: format!("u{u}"),
                case_uid: format!("C{c}"),
                scopes,
                purpose: "测试".into(),
                expires: day0() + chrono::Duration::days(exp),
                granted_by: "steward".into(),
            };
            // One grant per user and case: later duplicates are refused, which is fine here.
            let _ = authz.link_grant(grant);
        }
        let ctx = RequestContext::on(day0() + chrono::Duration::days(offset));
        let view = authz.compile(&principal, Action::Read, entity, &ctx).unwrap();
        prop_assert_eq!(view.stats().fallbacks, 0);
        for case in &cases {
            let mut any = false;
            for def in entity.fields() {
                let field = case.field(entity, def.name).unwrap();
                let cedar = authz
                    .decide(&principal, Action::Read, &Resource::new(case, field), &ctx)
                    .unwrap();
                let fast = view.decide(case, def.name).unwrap();
                let ids: Vec<String> = cedar.policies.iter().map(|p| p.id.clone()).collect();
                prop_assert_eq!(fast.permit, cedar.permit, "{} {:?} {:?}", field.key(), principal, case);
                prop_assert_eq!(&fast.policies, &ids, "{} {:?} {:?}", field.key(), principal, case);
                any |= cedar.permit;
            }
            prop_assert_eq!(view.row_visible(case).unwrap(), any);
        }
    }
}
