//! A small platform for the exchange tests: five organs with keys in the registry, a store
//! file that sender and receiver open separately, and a clock.

#![allow(dead_code)] // each test binary uses part of it

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};
use xiezhi_crypto::Suite;
use xiezhi_exchange::envelope::WireValue;
use xiezhi_exchange::keys::{register, Keyring, Registry};
use xiezhi_exchange::outbox::Draft;
use xiezhi_exchange::{OrganKind, TransferKind};
use xiezhi_store::{SqliteStore, Store};

pub const POLICE: &str = "GA01";
pub const PROCURATORATE: &str = "JC01";
pub const COURT: &str = "FY01";
pub const PRISON: &str = "JY01";
pub const CORRECTIONS: &str = "SQ01";

pub struct Platform {
    pub _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub keys: Keyring,
    pub registry: Registry,
}

pub fn t0() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 3, 1)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .expect("time")
}

pub fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path).expect("open store")
}

/// The suite the tests run under: `XIEZHI_SUITE` (`intl` or `gm`), international by default,
/// so the whole exchange suite can be run once per suite.
pub fn suite() -> Suite {
    std::env::var("XIEZHI_SUITE")
        .ok()
        .map(|s| s.parse().expect("XIEZHI_SUITE must be `intl` or `gm`"))
        .unwrap_or(Suite::International)
}

pub fn platform() -> Platform {
    platform_with(suite())
}

pub fn platform_with(suite: Suite) -> Platform {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("xiezhi.db");
    let mut store = open(&path);
    let mut keys = Keyring::for_suite(suite);
    for (i, (organ, name, kind)) in [
        (POLICE, "某市公安局", OrganKind::Police),
        (PROCURATORATE, "某市人民检察院", OrganKind::Procuratorate),
        (COURT, "某市中级人民法院", OrganKind::Court),
        (PRISON, "某监狱", OrganKind::Prison),
        (
            CORRECTIONS,
            "某区社区矫正机构",
            OrganKind::CommunityCorrections,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let key = suite.signing_key(&[i as u8 + 1; 32]).expect("key");
        register(
            &mut store,
            organ,
            name,
            kind,
            &key.verifying_key(),
            "2024-03-01",
        )
        .expect("register");
        keys.insert(organ, key);
    }
    let registry = Registry::load(&store).expect("registry");
    Platform {
        _dir: dir,
        path,
        keys,
        registry,
    }
}

/// A complete draft of `kind` for `case`, with the documents its kind requires.
pub fn draft(kind: TransferKind, case: &str) -> Draft {
    let (from, to) = match kind {
        TransferKind::ArrestRequest | TransferKind::ProsecutionTransfer => (POLICE, PROCURATORATE),
        TransferKind::ArrestDecision | TransferKind::SupplementaryInvestigation => {
            (PROCURATORATE, POLICE)
        }
        TransferKind::PublicProsecution => (PROCURATORATE, COURT),
        TransferKind::ExecutionNotice => (COURT, PRISON),
        TransferKind::CorrectionHandover => (COURT, CORRECTIONS),
        TransferKind::CommutationParole => (PRISON, COURT),
        TransferKind::CustodyTransfer => (POLICE, PRISON),
    };
    let mut d = Draft::new(kind, from, to, case);
    for doc in kind.spec().required_documents {
        d = d.document(
            doc,
            &format!("{case}-{doc}"),
            format!("{doc} of {case}").as_bytes(),
        );
    }
    if let Some(first) = kind.spec().decisions.first() {
        d.decision = Some(first.code.to_string());
        d = d.document(
            first.document,
            &format!("{case}-{}", first.document),
            b"decision",
        );
    }
    if kind.spec().case_fields.contains(&"name") {
        d.case
            .insert("name".into(), WireValue::Text(format!("{case} 盗窃案")));
    }
    d
}

/// `transfer_*` ledger entries that name `envelope`.
pub fn entries_for<S: Store>(store: &S, kind: &str) -> Vec<String> {
    let n = store.ledger_len().expect("len");
    store
        .ledger_entries(0, n)
        .expect("entries")
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.body).expect("json");
            v["envelope"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}
