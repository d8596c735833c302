//! The shared test province: 30 synthetic cases ingested into a SQLite store, principals
//! around a case that reached a court (the judge with internal clearance L2, so police and
//! judge see the same case masked differently), logins with small argon2 parameters.

#![allow(dead_code, reason = "each test binary uses part of the shared fixture")]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use xiezhi_access::reader::case_resource;
use xiezhi_access::{DepartmentSystem, OrgKind, Principal, Role, User};
use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_server::auth::{new_api_key, write_credentials};
use xiezhi_server::{AppState, Limits};
use xiezhi_standard::Level;
use xiezhi_store::{SqliteStore, Store};

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub data: PathBuf,
    pub export: PathBuf,
    pub state: Arc<AppState>,
    pub case: String,
    /// A case with a community-corrections subject still under correction, and the
    /// `corrections` officer's organ that executes it.
    pub corrections_case: String,
    pub api_key: String,
    /// TOTP secret per user name.
    pub secrets: std::collections::HashMap<String, String>,
}

/// Held across a whole login by tests that run in parallel: the server accepts a user's codes
/// only in increasing step order, so two logins of one user must not overtake each other.
pub fn login_lock() -> &'static tokio::sync::Mutex<()> {
    static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}

/// A TOTP code for `username` of a step not used before by this test binary: logins within
/// one 30-second step reuse no code (the server refuses replays), so a third login of a user
/// within one step waits for the next step.
pub fn next_totp(username: &str) -> String {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static LAST: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    let secret = fixture()
        .secrets
        .get(username)
        .unwrap_or_else(|| panic!("no TOTP secret for {username}"))
        .clone();
    let mut last = LAST.get_or_init(Default::default).lock().unwrap();
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let current = now / xiezhi_server::totp::STEP;
        // Start at the current step, not the one before: a request delayed past a step
        // boundary (a loaded machine) still lands inside the server's window of ±1 step.
        let next = last
            .get(username)
            .map_or(current, |&l| (l + 1).max(current));
        if next <= current + 1 {
            last.insert(username.to_string(), next);
            return xiezhi_server::totp::code(&secret, next * xiezhi_server::totp::STEP).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

pub const PASSWORD: &str = "correct horse 马";

fn user(
    id: &str,
    org: &str,
    kind: OrgKind,
    division: &str,
    role: Role,
    clearance: Level,
) -> Principal {
    Principal::User(User {
        id: id.into(),
        name: format!("{id} 测试"),
        org_code: org.into(),
        org_kind: kind,
        division: division.into(),
        role,
        clearance,
    })
}

/// One province for every test of this binary: 30 cases, principals around a case that
/// reached a court, logins with small argon2 parameters.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let export = dir.path().join("export");
        xiezhi_synth::generate(
            &xiezhi_synth::SynthConfig {
                seed: 5,
                cases: 30,
                ..Default::default()
            },
            &export,
        )
        .unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let mut store = SqliteStore::open(&data.join("xiezhi.db")).unwrap();
        ingest_export(
            &mut store,
            &shipped_plans().unwrap(),
            &export,
            &IngestOptions::default(),
            &mut |_, _, _| {},
        )
        .unwrap();
        let (case, res) = (1..=30)
            .find_map(|n| {
                let uid = format!("C{n:08}");
                let r = case_resource(&store, &uid).unwrap()?;
                let has = |p: &str| r.participating_orgs.iter().any(|o| o.starts_with(p));
                (has("GA") && has("JC") && has("FY")).then_some((uid, r))
            })
            .expect("a case that reached a court");
        let org = |p: &str| {
            res.participating_orgs
                .iter()
                .find(|o| o.starts_with(p))
                .unwrap()
                .clone()
        };
        let div = res.jurisdiction_divisions[0].clone();
        // A correction subject, and his executing organ. His register gets one more act, as
        // the corrections system would export it: a leave approved for five days with no
        // return on record, so the engine has a leave overrun to warn of.
        let subject_uid = store
            .uids(xiezhi_standard::Entity::CorrectionSubject, "", 1)
            .unwrap()
            .pop()
            .expect("a correction subject");
        let subject = store
            .get(xiezhi_standard::Entity::CorrectionSubject, &subject_uid)
            .unwrap()
            .unwrap();
        let corrections_case = subject.case_uid.clone().unwrap();
        let corrections_org = subject.record.text("executing_org").unwrap().to_string();
        let corrections_div = subject
            .record
            .text("residence_division")
            .unwrap()
            .to_string();
        {
            let person = store
                .get(
                    xiezhi_standard::Entity::Person,
                    subject.person_uid.as_deref().unwrap(),
                )
                .unwrap()
                .unwrap();
            let case_row = store
                .get(xiezhi_standard::Entity::Case, &corrections_case)
                .unwrap()
                .unwrap();
            let reported = subject.record.date("reported_on").unwrap();
            let leave = reported + chrono::Days::new(3);
            let until = leave + chrono::Days::new(5);
            let csv = format!(
                "姓名,公民身份号码,判决案号,矫正事项,发生时间,办理机构,批准截止日期,文书号\n{},{},{},批准离开所居住的市、县,{leave} 09:00:00,{corrections_org},{until},矫假〔测试〕1号\n",
                person.record.text("name").unwrap(),
                person.record.text("id_number").unwrap(),
                case_row.record.text("court_case_no").unwrap(),
            );
            let path = data.join("leave.csv");
            std::fs::write(&path, csv).unwrap();
            let plan = shipped_plans()
                .unwrap()
                .into_iter()
                .find(|p| p.source == "justice_correction_events")
                .unwrap();
            let report = xiezhi_ingest::Ingestor::new(&mut store)
                .unwrap()
                .ingest_file(&plan, &path, "leave.csv", &IngestOptions::default(), &mut |_, _| {})
                .unwrap();
            assert_eq!(report.counts.accepted, 1, "{:?}", report.outcomes);
        }
        let province = &div[..2];
        let principals = vec![
            user(
                "police",
                &org("GA"),
                OrgKind::Police,
                &div,
                Role::CaseHandler,
                Level::L3,
            ),
            user(
                "prosecutor",
                &org("JC"),
                OrgKind::Procuratorate,
                &div,
                Role::CaseHandler,
                Level::L2,
            ),
            user(
                "judge",
                &org("FY"),
                OrgKind::Court,
                &div,
                Role::CaseHandler,
                Level::L2,
            ),
            user(
                "other-judge",
                &format!("FY{province}000001"),
                OrgKind::Court,
                &format!("{province}0000"),
                Role::CaseHandler,
                Level::L3,
            ),
            user(
                "corrections",
                &corrections_org,
                OrgKind::CommunityCorrections,
                &corrections_div,
                Role::CaseHandler,
                Level::L3,
            ),
            user(
                "steward",
                &format!("ZF{province}000001"),
                OrgKind::Zfw,
                &format!("{province}0000"),
                Role::DataSteward,
                Level::L3,
            ),
            user(
                "supervisor",
                &format!("ZF{province}000001"),
                OrgKind::Zfw,
                &format!("{province}0000"),
                Role::Supervisor,
                Level::L2,
            ),
            {
                // The data steward of the organ that owns the case's data: reviews and grants.
                let owner = res.owner_org().unwrap().to_string();
                let kind = match &owner[..2] {
                    "GA" => OrgKind::Police,
                    "JC" => OrgKind::Procuratorate,
                    _ => OrgKind::Court,
                };
                user(
                    "owner-steward",
                    &owner,
                    kind,
                    &div,
                    Role::DataSteward,
                    Level::L3,
                )
            },
            user(
                "sysadmin",
                &format!("ZF{province}000001"),
                OrgKind::Zfw,
                &format!("{province}0000"),
                Role::Sysadmin,
                Level::L2,
            ),
            user(
                "secadmin",
                &format!("ZF{province}000001"),
                OrgKind::Zfw,
                &format!("{province}0000"),
                Role::Secadmin,
                Level::L2,
            ),
            user(
                "auditor",
                &format!("ZF{province}000001"),
                OrgKind::Zfw,
                &format!("{province}0000"),
                Role::Auditor,
                Level::L2,
            ),
            Principal::System(DepartmentSystem {
                id: "police-system".into(),
                org_code: org("GA"),
                org_kind: OrgKind::Police,
                public_key_hex: String::new(),
            }),
        ];
        std::fs::write(
            data.join("principals.json"),
            serde_json::to_string(&principals).unwrap(),
        )
        .unwrap();
        let logins: Vec<(String, String, String)> = principals
            .iter()
            .filter(|p| matches!(p, Principal::User(_)))
            .map(|p| (p.id().to_string(), p.id().to_string(), PASSWORD.to_string()))
            .chain(std::iter::once((
                "locked-out".to_string(),
                "police".to_string(),
                PASSWORD.to_string(),
            )))
            .collect();
        let (api_key, record) = new_api_key("police-system");
        let small = argon2::Params::new(64, 1, 1, None).unwrap();
        let secrets = write_credentials(&data, &logins, &[record], small)
            .unwrap()
            .into_iter()
            .collect();
        drop(store);
        let limits = Limits {
            upload_bytes: 64 * 1024,
            ..Limits::default()
        };
        let state = AppState::open(&data, limits).unwrap();
        Fixture {
            data: data.clone(),
            _dir: dir,
            export,
            state,
            case,
            corrections_case,
            api_key,
            secrets,
        }
    })
}
