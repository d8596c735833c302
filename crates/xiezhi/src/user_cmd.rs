//! `xiezhi user …`: accounts of people. An account an administrator adds gets a generated
//! initial password that must be changed at first login and its own TOTP secret.

use std::path::Path;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use xiezhi_server::auth::{hash_password, Account, Users, USERS_FILE};
use xiezhi_server::totp;

use crate::access_cmd::load_principals;
use crate::serve_cmd::DEMO_MARKER;
use xiezhi_store::Store;

#[derive(Subcommand, Debug)]
pub enum UserAction {
    /// 新建账号：生成初始口令（首次登录须修改）与动态口令密钥 (add an account)
    Add {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Principal id in `principals.json` the account acts as.
        #[arg(long)]
        principal: String,
    },
    /// 列出账号 (list accounts)
    List,
    /// 打印演示账号当前的动态口令（仅限 demo 生成的数据目录）(current TOTP code, demo only)
    TotpCode { username: String },
    /// 登记本人的客户端证书：经双向 TLS 出示即为第二因素，代替动态口令 (register a client certificate)
    Cert {
        #[arg(long)]
        username: String,
        /// The person's certificate (PEM; the first certificate of the file).
        #[arg(long)]
        cert: std::path::PathBuf,
    },
}

pub fn run(data: &Path, action: UserAction) -> Result<i32> {
    let path = data.join(USERS_FILE);
    match action {
        UserAction::Add {
            username,
            principal,
        } => {
            if !load_principals(data)?.iter().any(|p| p.id() == principal) {
                bail!("主体 `{principal}` 不在 principals.json 中 (unknown principal)");
            }
            let mut users = Users::load(&path)?;
            let principal_id = principal.clone();
            let password = xiezhi_server::password::initial_password();
            let secret = totp::new_secret();
            users.add(Account {
                username: username.clone(),
                principal,
                password_hash: hash_password(&password, argon2::Params::default())?,
                totp_secret: Some(secret.clone()),
                must_change_password: true,
                client_cert_sha256: None,
            })?;
            users.save(&path)?;
            log_credential_change(data, &username, &principal_id, "account_created", "totp")?;
            println!("已建立账号 {username}");
            println!("  初始口令：{password}（首次登录后须修改）");
            println!("  动态口令密钥：{secret}");
            println!("  {}", totp::otpauth_uri(&username, &secret));
            Ok(0)
        }
        UserAction::List => {
            for a in Users::load(&path)?.accounts() {
                println!(
                    "{}\t{}\t{}{}{}",
                    a.username,
                    a.principal,
                    if a.totp_secret.is_some() {
                        "双因素"
                    } else {
                        "未配置动态口令"
                    },
                    if a.client_cert_sha256.is_some() {
                        "\t已登记客户端证书"
                    } else {
                        ""
                    },
                    if a.must_change_password {
                        "\t须修改初始口令"
                    } else {
                        ""
                    }
                );
            }
            Ok(0)
        }
        UserAction::Cert { username, cert } => {
            let pem = std::fs::read(&cert)
                .with_context(|| format!("无法读取证书 `{}`", cert.display()))?;
            let first = xiezhi_server::tls::pem_certificates(&pem, &cert)?
                .into_iter()
                .next()
                .context("证书文件中没有证书")?;
            let fingerprint = xiezhi_server::tls::cert_fingerprint(&first);
            let mut users = Users::load(&path)?;
            let account = users
                .get_mut(&username)
                .with_context(|| format!("没有用户 `{username}`"))?;
            account.client_cert_sha256 = Some(fingerprint.clone());
            let principal = account.principal.clone();
            users.save(&path)?;
            log_credential_change(
                data,
                &username,
                &principal,
                "client_cert_registered",
                &format!("sha256={fingerprint}"),
            )?;
            println!("已为 {username} 登记客户端证书（SHA-256 {fingerprint}）");
            println!("  经双向 TLS 出示该证书登录时，它代替动态口令作为第二因素");
            Ok(0)
        }
        UserAction::TotpCode { username } => {
            if !data.join(DEMO_MARKER).exists() {
                bail!(
                    "`{}` 不是演示数据目录：动态口令只在用户本人的身份验证器上 (not a demo data directory)",
                    data.display()
                );
            }
            let users = Users::load(&path)?;
            let secret = users
                .get(&username)
                .and_then(|a| a.totp_secret.clone())
                .with_context(|| format!("没有用户 `{username}` 或其未配置动态口令"))?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs();
            println!("{}", totp::code(&secret, now)?);
            Ok(0)
        }
    }
}

/// A change of credentials or privileges (an account made, a certificate or key registered) is
/// an audit event like a login: an `authentication` ledger entry with time, subject, principal,
/// source `cli` and what changed.
pub(crate) fn log_credential_change(
    data: &Path,
    subject: &str,
    principal: &str,
    event: &str,
    detail: &str,
) -> Result<()> {
    let mut store = crate::commands::open_store(data)?;
    store.append_events(&[xiezhi_server::auth::auth_entry(
        subject,
        Some(principal),
        "cli",
        event,
        "success",
        Some(detail),
    )])?;
    Ok(())
}
