//! `xiezhi serve` and the end of `xiezhi demo`: demo logins for each organ, then the server.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{bail, Context, Result};
use xiezhi_access::{DepartmentSystem, OrgKind, Principal, Role, User};
use xiezhi_server::auth::{new_api_key, random_token, write_credentials};
use xiezhi_server::signed::{register_client_cert, register_key, PrivateKeyFile, SignedRequests};
use xiezhi_server::Transport;
use xiezhi_standard::Level;

use crate::access_cmd::load_principals;
use crate::cli::{SystemAction, TlsArgs};

/// One demo login: user name, principal, password and TOTP secret.
pub struct Login {
    pub username: String,
    pub principal: String,
    pub who: String,
    pub password: String,
    pub totp_secret: String,
}

/// Marks a data directory as made by `xiezhi demo`: only there does `xiezhi user totp-code`
/// print a user's current code.
pub const DEMO_MARKER: &str = "DEMO-DATA-DIRECTORY";

/// Adds a data steward and a department system to the registry when missing, gives every
/// user principal a login with a fresh random password (argon2id) and the system an API key,
/// and writes the logins to `demo-logins.txt` in the data directory.
pub fn provision_demo_logins(data: &Path) -> Result<(Vec<Login>, String)> {
    let mut principals = load_principals(data)?;
    let zfw = principals.iter().find_map(|p| match p {
        Principal::User(u) if u.role == Role::Supervisor => Some(u.clone()),
        _ => None,
    });
    if let Some(z) = zfw.filter(|_| !principals.iter().any(|p| p.id() == "steward")) {
        principals.push(Principal::User(User {
            id: "steward".into(),
            name: format!("{} 数据管理员", z.name.trim_end_matches(" 执法监督员")),
            role: Role::DataSteward,
            clearance: Level::L3,
            ..z
        }));
    }
    let police_org = principals.iter().find_map(|p| match p {
        Principal::User(u) if u.org_kind == OrgKind::Police => Some(u.org_code.clone()),
        _ => None,
    });
    if let Some(org) = police_org.filter(|_| !principals.iter().any(|p| p.id() == "police-system"))
    {
        principals.push(Principal::System(DepartmentSystem {
            id: "police-system".into(),
            org_code: org,
            org_kind: OrgKind::Police,
            public_key_hex: String::new(),
        }));
    }
    std::fs::write(
        data.join("principals.json"),
        serde_json::to_string_pretty(&principals)?,
    )?;
    let mut logins = Vec::new();
    for p in &principals {
        if let Principal::User(u) = p {
            logins.push(Login {
                username: u.id.clone(),
                principal: u.id.clone(),
                who: format!("{}（{}）", u.name, u.role.name_zh()),
                password: random_token(9),
                totp_secret: String::new(),
            });
        }
    }
    let (key, record) = new_api_key("police-system");
    let triples: Vec<(String, String, String)> = logins
        .iter()
        .map(|l| (l.username.clone(), l.principal.clone(), l.password.clone()))
        .collect();
    let secrets = write_credentials(data, &triples, &[record], argon2::Params::default())?;
    for l in &mut logins {
        if let Some((_, s)) = secrets.iter().find(|(u, _)| *u == l.username) {
            l.totp_secret = s.clone();
        }
    }
    std::fs::write(
        data.join(DEMO_MARKER),
        "由 xiezhi demo 生成的演示数据目录：演示账号可用 `xiezhi user totp-code <用户名>` 取得动态口令。\n",
    )?;
    let mut text = String::from(
        "# 演示登录（每次 demo 重新生成）：用户名\t口令\t动态口令密钥 (TOTP, base32)\t身份\n",
    );
    for l in &logins {
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            l.username, l.password, l.totp_secret, l.who
        ));
    }
    text.push_str(&format!("police-system\tAPI 密钥 {key}\n"));
    std::fs::write(data.join("demo-logins.txt"), text)?;
    Ok((logins, key))
}

/// Prints the logins and the URL.
pub fn print_logins(logins: &[Login], key: &str, addr: &SocketAddr) {
    println!("\n网页控制台：http://{addr}/");
    println!("演示账号（用户名 / 口令 / 动态口令密钥）：登录需口令加身份验证器上的 6 位动态口令；");
    println!("  把密钥加入身份验证器，或运行 `xiezhi --data-dir <目录> user totp-code <用户名>` 取得当前动态口令。");
    println!("  演示账号的口令由系统生成，无须首次修改；管理员用 `xiezhi user add` 建立的账号须首次登录后修改口令。");
    for l in logins {
        println!(
            "  {:<20} {:<14} {:<34} {}",
            l.username, l.password, l.totp_secret, l.who
        );
    }
    println!("  部门系统 police-system 的 API 密钥：{key}（请求头 Authorization: Bearer …）");
    println!("API 文档：http://{addr}/api/v1/openapi.json");
}

/// Serves the data directory until Ctrl-C: TLS when a certificate is given, else plain HTTP,
/// which is refused on a non-loopback address without `--insecure-http`.
pub fn serve(data: &Path, at: &xiezhi_store::Location, addr: &str, tls: &TlsArgs) -> Result<i32> {
    let addr: SocketAddr = addr
        .parse()
        .with_context(|| format!("--addr `{addr}` 应为 IP:端口，例如 127.0.0.1:8080"))?;
    let transport = match (&tls.tls_cert, &tls.tls_key) {
        (Some(cert), Some(key)) => Transport::Tls(xiezhi_server::tls::load_tls(
            cert,
            key,
            tls.client_ca.as_deref(),
        )?),
        _ => Transport::Plain {
            insecure_http: tls.insecure_http,
        },
    };
    // Refuse before opening the store, so the operator sees the rule at once.
    transport.check_bind(addr)?;
    let state = xiezhi_server::AppState::open_at(data, at, xiezhi_server::Limits::default())?;
    println!(
        "獬豸服务已启动：{}://{addr}/（Ctrl-C 停止）",
        transport.scheme()
    );
    xiezhi_server::run_blocking(state, addr, transport)
        .with_context(|| format!("无法在 {addr} 上提供服务"))?;
    Ok(0)
}

/// `xiezhi system`: department systems' request-signing keys.
pub fn system(data: &Path, action: SystemAction) -> Result<i32> {
    match action {
        SystemAction::RegisterKey {
            principal,
            suite,
            out,
        } => {
            let suite: xiezhi_server::signed::Suite = suite.parse().map_err(anyhow::Error::msg)?;
            require_system(data, &principal)?;
            let (record, secret) = register_key(data, &principal, suite)?;
            let out = out.unwrap_or_else(|| {
                data.join("system-keys")
                    .join(format!("{}.key", record.key_id))
            });
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let file = PrivateKeyFile {
                key_id: record.key_id.clone(),
                principal: principal.clone(),
                suite,
                secret_hex: xiezhi_store::hex(secret.to_bytes().as_ref()),
            };
            write_private(&out, &serde_json::to_string_pretty(&file)?)
                .with_context(|| format!("无法写入私钥文件 `{}`", out.display()))?;
            crate::user_cmd::log_credential_change(
                data,
                &principal,
                &principal,
                "system_key_registered",
                &format!("key_id={}", record.key_id),
            )?;
            println!("已为部门系统 {principal} 登记签名密钥");
            println!("  密钥标识：{}", record.key_id);
            println!("  算法：{}", suite.signature_name());
            println!("  公钥：{}", record.public_key_hex);
            println!(
                "  私钥已写入：{}（仅限该部门系统保管，服务器只存公钥）",
                out.display()
            );
            Ok(0)
        }
        SystemAction::RegisterCert { principal, cert } => {
            require_system(data, &principal)?;
            let record = register_client_cert(data, &principal, &cert)?;
            crate::user_cmd::log_credential_change(
                data,
                &principal,
                &principal,
                "system_cert_registered",
                &format!("sha256={}", record.cert_sha256),
            )?;
            println!("已为部门系统 {principal} 登记客户端证书");
            println!("  SHA-256 指纹：{}", record.cert_sha256);
            println!("  服务器须以 --client-ca 信任其签发机构");
            Ok(0)
        }
        SystemAction::Keys => {
            let signed = SignedRequests::load(data)?;
            let list = signed.keys.all();
            let certs = signed.certs.all();
            if list.is_empty() && certs.is_empty() {
                println!("尚未登记签名密钥或客户端证书");
            }
            for c in certs {
                println!(
                    "cert-{}\t{}\t客户端证书\t{}",
                    &c.cert_sha256[..16],
                    c.principal,
                    c.registered
                );
            }
            for k in list {
                println!(
                    "{}\t{}\t{}\t{}",
                    k.key_id,
                    k.principal,
                    k.suite.signature_name(),
                    k.registered
                );
            }
            Ok(0)
        }
    }
}

/// Keys and certificates are registered for department systems only.
fn require_system(data: &Path, principal: &str) -> Result<()> {
    match load_principals(data)?.iter().find(|p| p.id() == principal) {
        Some(Principal::System(_)) => Ok(()),
        Some(_) => bail!("主体 `{principal}` 不是部门系统，只能为部门系统登记密钥或证书"),
        None => bail!(
            "主体 `{principal}` 不在 {} 中",
            data.join("principals.json").display()
        ),
    }
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(text.as_bytes())
}
