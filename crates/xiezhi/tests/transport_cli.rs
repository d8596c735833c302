//! The transport commands through the binary: `serve` refuses plain HTTP off loopback and bad
//! TLS files before opening anything; `system register-key` registers a key per suite, writes
//! the private key for the system only, and refuses principals that are not systems.

mod common;

use common::xiezhi;
use std::path::Path;

use xiezhi_access::{DepartmentSystem, OrgKind, Principal, Role, User};
use xiezhi_server::signed::{RequestSigner, SignedRequests};
use xiezhi_standard::Level;

#[test]
fn serve_refuses_plain_http_off_loopback_and_unreadable_tls_files() {
    let dir = tempfile::tempdir().unwrap();
    // No store in the directory: the transport is judged first.
    let (code, _, err) = xiezhi(dir.path(), &["serve", "--addr", "0.0.0.0:18080"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("plain_http_non_loopback"), "{err}");
    assert!(err.contains("--insecure-http"), "{err}");

    let missing = dir.path().join("missing.pem");
    let m = missing.to_str().unwrap();
    let (code, _, err) = xiezhi(
        dir.path(),
        &[
            "serve",
            "--addr",
            "0.0.0.0:18443",
            "--tls-cert",
            m,
            "--tls-key",
            m,
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("missing.pem"), "{err}");

    std::fs::write(&missing, "not a certificate").unwrap();
    let (code, _, err) = xiezhi(
        dir.path(),
        &[
            "serve",
            "--addr",
            "0.0.0.0:18443",
            "--tls-cert",
            m,
            "--tls-key",
            m,
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("tls_cert_missing"), "{err}");
}

#[test]
fn register_key_for_department_systems_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let principals = vec![
        Principal::System(DepartmentSystem {
            id: "court-system".into(),
            org_code: "FY520100".into(),
            org_kind: OrgKind::Court,
            public_key_hex: String::new(),
        }),
        Principal::User(User {
            id: "judge".into(),
            name: "法官".into(),
            org_code: "FY520100".into(),
            org_kind: OrgKind::Court,
            division: "5201".into(),
            role: Role::CaseHandler,
            clearance: Level::L3,
        }),
    ];
    std::fs::write(
        data.join("principals.json"),
        serde_json::to_string(&principals).unwrap(),
    )
    .unwrap();

    for suite in ["intl", "gm"] {
        let (code, out, err) = xiezhi(
            data,
            &[
                "system",
                "register-key",
                "--principal",
                "court-system",
                "--suite",
                suite,
            ],
        );
        assert_eq!(code, 0, "{err}");
        let key_file = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("私钥已写入："))
            .and_then(|l| l.split('（').next())
            .unwrap_or_else(|| panic!("{out}"));
        let key_path = Path::new(key_file);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "private key readable by others: {mode:o}");
        }
        // The private key file signs requests the registry verifies.
        let signer = RequestSigner::from_file(key_path).unwrap();
        assert!(signer.key_id.starts_with(&format!("{suite}-")));
        let registry = SignedRequests::load(data).unwrap();
        let key = registry.keys.get(&signer.key_id).unwrap();
        assert_eq!(key.principal, "court-system");
        let now = 1_800_000_000;
        let headers: xiezhi_server::signed::HeaderMap = signer
            .headers("GET", "/api/v1/cases", b"", now)
            .into_iter()
            .map(|(n, v)| (n.parse().unwrap(), v.parse().unwrap()))
            .collect();
        let by =
            xiezhi_server::signed::check(&registry, "GET", "/api/v1/cases", &headers, b"", now)
                .unwrap();
        assert_eq!(by.principal, "court-system");
    }

    let (code, _, err) = xiezhi(data, &["system", "register-key", "--principal", "judge"]);
    assert_eq!(code, 2);
    assert!(err.contains("不是部门系统"), "{err}");
    let (code, _, err) = xiezhi(data, &["system", "register-key", "--principal", "nobody"]);
    assert_eq!(code, 2);
    assert!(err.contains("nobody"), "{err}");
    let (code, _, err) = xiezhi(
        data,
        &[
            "system",
            "register-key",
            "--principal",
            "court-system",
            "--suite",
            "rsa",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("rsa"), "{err}");

    let (code, out, _) = xiezhi(data, &["system", "keys"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().filter(|l| l.contains("court-system")).count(),
        2,
        "{out}"
    );
}
