//! `xiezhi user`: an administrator adds an account with a generated initial password that
//! must be changed and its own TOTP secret; the current code is printed only for demo data.

mod common;

use common::xiezhi;

#[test]
fn accounts_get_two_factors_and_demo_codes_stay_in_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (code, out, err) = xiezhi(data, &["demo", "--cases", "30", "--no-serve"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let logins = std::fs::read_to_string(data.join("demo-logins.txt")).unwrap();
    let first = logins.lines().find(|l| !l.starts_with('#')).unwrap();
    let cols: Vec<&str> = first.split('\t').collect();
    let (user, secret) = (cols[0], cols[2]);
    assert_eq!(secret.len(), 32, "a 160-bit base32 secret: {first}");

    let (code, out, _) = xiezhi(data, &["user", "totp-code", user]);
    assert_eq!(code, 0);
    let printed = out.trim();
    assert!(
        printed.len() == 6 && printed.bytes().all(|b| b.is_ascii_digit()),
        "{printed}"
    );

    let (code, out, err) = xiezhi(
        data,
        &[
            "user",
            "add",
            "--username",
            "new-clerk",
            "--principal",
            user,
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("初始口令") && out.contains("otpauth://totp/Xiezhi:new-clerk?secret="),
        "{out}"
    );
    let (_, list, _) = xiezhi(data, &["user", "list"]);
    let line = list.lines().find(|l| l.starts_with("new-clerk\t")).unwrap();
    assert!(
        line.contains("双因素") && line.contains("须修改初始口令"),
        "{line}"
    );
    let (code, _, err) = xiezhi(
        data,
        &[
            "user",
            "add",
            "--username",
            "new-clerk",
            "--principal",
            user,
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("已存在"), "{err}");
    let (code, _, err) = xiezhi(
        data,
        &["user", "add", "--username", "x", "--principal", "nobody"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("nobody"), "{err}");

    // A person's client certificate: registered by fingerprint, shown in the list, logged.
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let pem = data.join("clerk-card.pem");
    std::fs::write(&pem, cert.pem()).unwrap();
    let (code, out, err) = xiezhi(
        data,
        &[
            "user",
            "cert",
            "--username",
            "new-clerk",
            "--cert",
            pem.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let fingerprint = xiezhi_server::tls::cert_fingerprint(cert.der());
    assert!(out.contains(&fingerprint), "{out}");
    let (_, list, _) = xiezhi(data, &["user", "list"]);
    let line = list.lines().find(|l| l.starts_with("new-clerk\t")).unwrap();
    assert!(line.contains("已登记客户端证书"), "{line}");
    let conn = rusqlite::Connection::open(data.join("xiezhi.db")).unwrap();
    let logged: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM ledger_entry WHERE body LIKE '%client_cert_registered%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logged, 1);
    let created: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM ledger_entry WHERE body LIKE '%account_created%' AND body LIKE '%new-clerk%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(created, 1, "making an account is an audit event");
    std::fs::write(&pem, "not a certificate").unwrap();
    let (code, _, err) = xiezhi(
        data,
        &[
            "user",
            "cert",
            "--username",
            "new-clerk",
            "--cert",
            pem.to_str().unwrap(),
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("clerk-card.pem"), "{err}");

    // Outside demo data nobody prints a person's code.
    std::fs::remove_file(data.join("DEMO-DATA-DIRECTORY")).unwrap();
    let (code, _, err) = xiezhi(data, &["user", "totp-code", user]);
    assert_ne!(code, 0);
    assert!(err.contains("不是演示数据目录"), "{err}");
}
