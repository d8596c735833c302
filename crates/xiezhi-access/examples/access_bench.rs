//! Access decisions + masking per second on one core: plain Cedar per cell vs the compiled path.
//!
//! A realistic policy set: the built-in static policies and the grant template plus 52 grant
//! links (≈60 policies), a synthetic province of cases and person records, and a mix of
//! principals (case handlers of participating organs, transfer receivers, supervisors, grant
//! holders, outsiders, an administrator). Run in release:
//!
//! ```text
//! cargo run --release -p xiezhi-access --example access_bench [rows]
//! ```

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use xiezhi_access::mask::{apply_action, clearance_action, operator_for, Salt};
use xiezhi_access::{
    Action, Authorizer, CaseResource, Grant, OrgKind, Principal, RequestContext, Resource, Role,
    User,
};
use xiezhi_standard::{Entity, Level, Record, Value};

/// Deterministic xorshift, so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const COUNTIES: &[&str] = &["520102", "520103", "520111", "520112", "522301", "522601"];
const KINDS: &[(&str, OrgKind)] = &[
    ("GA", OrgKind::Police),
    ("JC", OrgKind::Procuratorate),
    ("FY", OrgKind::Court),
    ("KSS", OrgKind::DetentionCenter),
    ("SQJZ", OrgKind::CommunityCorrections),
];
const SURNAMES: &[&str] = &["张", "王", "李", "赵", "刘", "陈", "杨", "黄"];

fn org(kind: usize, county: usize) -> String {
    format!("{}{}", KINDS[kind].0, COUNTIES[county])
}

fn make_case(i: usize, rng: &mut Rng) -> CaseResource {
    let county = rng.below(COUNTIES.len());
    // Police, then the procuratorate and the court of the county as the case moves on.
    let stages = 1 + rng.below(KINDS.len());
    let participating_orgs = (0..stages).map(|k| org(k, county)).collect();
    let mut transferred_to = Vec::new();
    if rng.below(4) == 0 {
        let other = rng.below(COUNTIES.len());
        transferred_to.push((
            org(2, other),
            vec!["case".to_string(), "person.name".to_string()],
        ));
    }
    CaseResource {
        case_uid: format!("C{i:06}"),
        participating_orgs,
        transferred_to,
        jurisdiction_divisions: vec![COUNTIES[county].to_string()],
        ongoing_investigation: stages == 1,
        raised_levels: Default::default(),
    }
}

fn person(i: usize, rng: &mut Rng) -> Result<Record, String> {
    let mut r = Record::new(Entity::Person);
    let county = COUNTIES[rng.below(COUNTIES.len())];
    let set = |r: &mut Record, f: &str, v: Value| r.set(f, v);
    set(&mut r, "id_type", Value::Code("111".into()))?;
    set(
        &mut r,
        "id_number",
        Value::Text(format!(
            "{county}1990{:02}{:02}{:04}",
            1 + i % 12,
            1 + i % 28,
            i % 10_000
        )),
    )?;
    set(
        &mut r,
        "name",
        Value::Text(format!("{}{}", SURNAMES[rng.below(SURNAMES.len())], "某某")),
    )?;
    set(&mut r, "sex", Value::Code(((i % 2) + 1).to_string()))?;
    set(
        &mut r,
        "birth_date",
        Value::Date(
            NaiveDate::from_ymd_opt(
                1970 + (i % 40) as i32,
                1 + (i % 12) as u32,
                1 + (i % 28) as u32,
            )
            .ok_or_else(|| "bad date".to_string())?,
        ),
    )?;
    set(&mut r, "ethnicity", Value::Code("01".into()))?;
    set(&mut r, "household_division", Value::Code(county.into()))?;
    set(
        &mut r,
        "address",
        Value::Text(format!("贵州省贵阳市南明区花果园街道{}号", i % 500)),
    )?;
    set(
        &mut r,
        "phone",
        Value::Text(format!("138{:08}", i % 100_000_000)),
    )?;
    Ok(r)
}

fn user(
    id: &str,
    org_code: &str,
    kind: OrgKind,
    division: &str,
    role: Role,
    c: Level,
) -> Principal {
    Principal::User(User {
        id: id.into(),
        name: "测试".into(),
        org_code: org_code.into(),
        org_kind: kind,
        division: division.into(),
        role,
        clearance: c,
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let cases: Vec<CaseResource> = (0..rows).map(|i| make_case(i, &mut rng)).collect();
    let people: Vec<Record> = (0..rows)
        .map(|i| person(i, &mut rng))
        .collect::<Result<_, _>>()?;
    let day = NaiveDate::from_ymd_opt(2025, 3, 1).ok_or("bad date")?;
    let ctx = RequestContext::on(day);
    let salt = Salt::new(*b"bench-salt");

    let principals = vec![
        user(
            "ga-l3",
            "GA520102",
            OrgKind::Police,
            "520102",
            Role::CaseHandler,
            Level::L3,
        ),
        user(
            "ga-l2",
            "GA520103",
            OrgKind::Police,
            "520103",
            Role::CaseHandler,
            Level::L2,
        ),
        user(
            "jc-l3",
            "JC522301",
            OrgKind::Procuratorate,
            "522301",
            Role::CaseHandler,
            Level::L3,
        ),
        user(
            "fy-l3",
            "FY520111",
            OrgKind::Court,
            "520111",
            Role::CaseHandler,
            Level::L3,
        ),
        user(
            "zfw",
            "ZFW520100",
            OrgKind::Zfw,
            "520100",
            Role::Leader,
            Level::L3,
        ),
        user(
            "sup",
            "JC520000",
            OrgKind::Procuratorate,
            "520000",
            Role::Supervisor,
            Level::L3,
        ),
        user(
            "grantee-0",
            "GA522601",
            OrgKind::Police,
            "522601",
            Role::CaseHandler,
            Level::L3,
        ),
        user(
            "sfj",
            "SFJ520102",
            OrgKind::JusticeBureau,
            "520102",
            Role::CaseHandler,
            Level::L3,
        ),
        user(
            "adm",
            "GA520102",
            OrgKind::Police,
            "520102",
            Role::Sysadmin,
            Level::L4,
        ),
    ];

    let mut authz = Authorizer::builtin()?;
    // 52 grants: grantee-0..grantee-12, four cases each.
    for n in 0..52usize {
        let grant = Grant {
            request_id: format!("REQ-{n:04}"),
            policy_id: format!("grant:REQ-{n:04}"),
            grantee: format!("grantee-{}", n % 13),
            case_uid: cases[(n * 37) % cases.len()].case_uid.clone(),
            scopes: vec!["person".into(), "case".into()],
            purpose: "办案需要：核查关联案件信息".into(),
            expires: day + chrono::Duration::days(30 - (n % 60) as i64),
            granted_by: "steward".into(),
        };
        // A case may repeat for one grantee; skip the duplicate.
        let _ = authz.link_grant(grant);
    }
    let policy_count = authz.policies().len() + 1; // + the grant template
    println!(
        "policy set: {} policies in force ({} grant links) + 1 template; {} rows; {} principals",
        policy_count - 1,
        authz.grants().count(),
        rows,
        principals.len()
    );

    // ---- plain Cedar: one decide (with explanation) + mask per cell ----
    let sample = rows.min(4_000);
    let fields: Vec<_> = Entity::Person.fields().to_vec();
    let mut lat = Vec::with_capacity(sample * fields.len());
    let mut permits = 0usize;
    let t0 = Instant::now();
    for (i, case) in cases.iter().take(sample).enumerate() {
        let p = &principals[i % principals.len()];
        for def in &fields {
            let t = Instant::now();
            let field = case
                .field(Entity::Person, def.name)
                .ok_or("unknown field")?;
            let d = authz.decide(p, Action::Read, &Resource::new(case, field), &ctx)?;
            let text = match people[i].get(def.name) {
                Some(v) if d.permit => apply_action(
                    clearance_action(
                        p.clearance(),
                        field.level,
                        operator_for(Entity::Person, def),
                    ),
                    v,
                    &salt,
                ),
                _ => String::new(),
            };
            std::hint::black_box(text);
            permits += usize::from(d.permit);
            lat.push(t.elapsed());
        }
    }
    let plain_total = t0.elapsed();
    lat.sort();
    let plain_cells = lat.len();
    let plain_rate = plain_cells as f64 / plain_total.as_secs_f64();
    println!(
        "plain Cedar   : {plain_cells} cells in {:.2?} → {:.0} decisions+masking/s; p50 {:.1?}, p99 {:.1?} per cell; {permits} permitted",
        plain_total,
        plain_rate,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );

    // ---- compiled path: compile per principal, then every row ----
    let mut compile_times = Vec::new();
    let mut row_lat = Vec::with_capacity(rows * principals.len());
    let mut cells = 0usize;
    let mut returned = 0usize;
    let mut groups = 0usize;
    let mut fallbacks = 0usize;
    let mut evaluations = 0usize;
    let t1 = Instant::now();
    let mut compiled_total = Duration::ZERO;
    for p in &principals {
        let tc = Instant::now();
        let view = authz.compile(p, Action::Read, Entity::Person, &ctx)?;
        compile_times.push(tc.elapsed());
        groups += view.stats().groups;
        fallbacks += view.stats().fallbacks;
        evaluations = view.stats().partial_evaluations;
        let tr = Instant::now();
        for (case, rec) in cases.iter().zip(&people) {
            let t = Instant::now();
            let out = view.mask_row(case, rec, &salt)?;
            if let Some(cells_out) = &out {
                returned += 1;
                cells += cells_out.len();
            } else {
                cells += rec.fields.len();
            }
            std::hint::black_box(out);
            row_lat.push(t.elapsed());
        }
        compiled_total += tr.elapsed();
    }
    let wall = t1.elapsed();
    row_lat.sort();
    let compiled_rate = cells as f64 / compiled_total.as_secs_f64();
    let rows_rate = row_lat.len() as f64 / compiled_total.as_secs_f64();
    compile_times.sort();
    println!(
        "compiled path : {} rows × {} principals = {cells} cells in {:.2?} → {:.0} decisions+masking/s ({:.0} rows/s); p50 {:.1?}, p99 {:.1?} per row of {} fields; {returned} rows returned",
        rows,
        principals.len(),
        compiled_total,
        compiled_rate,
        rows_rate,
        percentile(&row_lat, 0.5),
        percentile(&row_lat, 0.99),
        fields.len()
    );
    println!(
        "compile       : p50 {:.2?}, max {:.2?} per principal ({} partial evaluations each, {:.1} residual groups avg, {} fallbacks); wall incl. compile {:.2?}",
        percentile(&compile_times, 0.5),
        compile_times.last().copied().unwrap_or_default(),
        evaluations,
        groups as f64 / principals.len() as f64,
        fallbacks,
        wall
    );
    println!(
        "speed-up      : {:.0}× per cell",
        compiled_rate / plain_rate
    );

    // ---- agreement on the plain sample ----
    let mut disagree = 0usize;
    for p in &principals {
        let view = authz.compile(p, Action::Read, Entity::Person, &ctx)?;
        for case in cases.iter().take(500) {
            for def in &fields {
                let field = case
                    .field(Entity::Person, def.name)
                    .ok_or("unknown field")?;
                let d = authz.decide(p, Action::Read, &Resource::new(case, field), &ctx)?;
                let f = view.decide(case, def.name)?;
                if f.permit != d.permit || f.policies != d.policy_ids() {
                    disagree += 1;
                }
            }
        }
    }
    println!(
        "agreement     : {disagree} disagreements on {} checked cells",
        500 * fields.len() * principals.len()
    );
    Ok(())
}
