//! `xiezhi serve` and the end of `xiezhi demo`: demo logins for each organ, then the server.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use xiezhi_access::{DepartmentSystem, OrgKind, Principal, Role, User};
use xiezhi_server::auth::{new_api_key, random_token, write_credentials};
use xiezhi_standard::Level;

use crate::access_cmd::load_principals;

/// One demo login: user name, principal, password.
pub struct Login {
    pub username: String,
    pub principal: String,
    pub who: String,
    pub password: String,
}

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
            });
        }
    }
    let (key, record) = new_api_key("police-system");
    let triples: Vec<(String, String, String)> = logins
        .iter()
        .map(|l| (l.username.clone(), l.principal.clone(), l.password.clone()))
        .collect();
    write_credentials(data, &triples, &[record], argon2::Params::default())?;
    let mut text = String::from("# 演示登录（每次 demo 重新生成）\n");
    for l in &logins {
        text.push_str(&format!("{}\t{}\t{}\n", l.username, l.password, l.who));
    }
    text.push_str(&format!("police-system\tAPI 密钥 {key}\n"));
    std::fs::write(data.join("demo-logins.txt"), text)?;
    Ok((logins, key))
}

/// Prints the logins and the URL.
pub fn print_logins(logins: &[Login], key: &str, addr: &SocketAddr) {
    println!("\n网页控制台：http://{addr}/");
    println!("演示账号（用户名 / 口令）：");
    for l in logins {
        println!("  {:<20} {:<14} {}", l.username, l.password, l.who);
    }
    println!("  部门系统 police-system 的 API 密钥：{key}（请求头 Authorization: Bearer …）");
    println!("API 文档：http://{addr}/api/v1/openapi.json");
}

/// Serves the data directory until Ctrl-C.
pub fn serve(data: &Path, at: &xiezhi_store::Location, addr: &str) -> Result<i32> {
    let addr: SocketAddr = addr
        .parse()
        .with_context(|| format!("--addr `{addr}` 应为 IP:端口，例如 127.0.0.1:8080"))?;
    let state = xiezhi_server::AppState::open_at(data, at, xiezhi_server::Limits::default())?;
    println!("獬豸服务已启动：http://{addr}/（Ctrl-C 停止）");
    xiezhi_server::run_blocking(state, addr)
        .with_context(|| format!("无法在 {addr} 上提供服务"))?;
    Ok(0)
}
