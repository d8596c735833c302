//! `xiezhi access`: principals of the demo province and a case read through the policy.

use std::path::Path;

use anyhow::{bail, Context, Result};
use sha2::Digest;
use xiezhi_access::reader::{case_resource, CaseView, SharedReader};
use xiezhi_access::{
    Action, FieldAction, FieldRef, OrgKind, Principal, RequestContext, Resource, Role, Salt, User,
};
use xiezhi_standard::{Entity, Level};
use xiezhi_store::{AnyStore, Store};

fn principals_path(data: &Path) -> std::path::PathBuf {
    data.join("principals.json")
}

/// The principals registry of a data directory.
pub fn load_principals(data: &Path) -> Result<Vec<Principal>> {
    let path = principals_path(data);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "没有人员名册 `{}`；先运行 demo (no principals registry: run demo first)",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("人员名册 `{}` 无效", path.display()))
}

/// The deployment's salt for hashed fields, created once in the data directory.
pub fn salt(data: &Path) -> Result<Salt> {
    let path = data.join("masking.salt");
    if !path.exists() {
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        std::fs::write(&path, sha2::Sha256::digest(seed.as_bytes()))?;
    }
    Ok(Salt::new(std::fs::read(&path)?))
}

/// An organ's kind, division and name. Organizations are master data (level L1), not shared
/// case data, so they are read directly.
fn org_of(store: &AnyStore, code: &str) -> Result<Option<(OrgKind, String, String)>> {
    Ok(store.get(Entity::Organization, code)?.and_then(|o| {
        let kind = OrgKind::parse(o.record.text("kind")?)?;
        let division = o.record.text("division")?.to_string();
        Some((kind, division, o.record.text("name")?.to_string()))
    }))
}

fn user(
    id: &str,
    name: &str,
    org: &str,
    kind: OrgKind,
    division: &str,
    role: Role,
    clearance: Level,
) -> Principal {
    Principal::User(User {
        id: id.into(),
        name: name.into(),
        org_code: org.into(),
        org_kind: kind,
        division: division.into(),
        role,
        clearance,
    })
}

/// The first case that reached a court, to show reads by every organ; else the first case.
pub fn sample_case(store: &AnyStore) -> Result<String> {
    for n in 1..=200 {
        let uid = format!("C{n:08}");
        if let Some(r) = case_resource(store, &uid)? {
            let kinds: Vec<OrgKind> = r
                .participating_orgs
                .iter()
                .filter_map(|o| org_of(store, o).ok().flatten().map(|(k, _, _)| k))
                .collect();
            if kinds.contains(&OrgKind::Court) && kinds.contains(&OrgKind::Procuratorate) {
                return Ok(uid);
            }
        }
    }
    Ok("C00000001".into())
}

/// Writes a registry of principals around one case: its own handlers, an organ that did not
/// take part, a supervisor, the public and an administrator.
pub fn write_demo_principals(
    data: &Path,
    store: &AnyStore,
    case_uid: &str,
) -> Result<Vec<Principal>> {
    let resource =
        case_resource(store, case_uid)?.with_context(|| format!("案件 {case_uid} 不存在"))?;
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for org in &resource.participating_orgs {
        let Some((kind, division, name)) = org_of(store, org)? else {
            continue;
        };
        if seen.contains(&kind) {
            continue;
        }
        seen.push(kind);
        let (id, who, clearance) = match kind {
            OrgKind::Police => ("police-handler", format!("{name} 办案民警"), Level::L3),
            OrgKind::Procuratorate => (
                "prosecutor",
                format!("{name} 检察官（内部权限）"),
                Level::L2,
            ),
            OrgKind::Court => ("judge", format!("{name} 法官"), Level::L3),
            _ => ("corrections-officer", format!("{name} 工作人员"), Level::L3),
        };
        out.push(user(
            id,
            &who,
            org,
            kind,
            &division,
            Role::CaseHandler,
            clearance,
        ));
        if out.len() == 1 {
            // The leader of the organ that owns the case's data reviews and grants requests.
            let who = format!("{name} 分管领导");
            out.push(user(
                "owner-leader",
                &who,
                org,
                kind,
                &division,
                Role::Leader,
                Level::L3,
            ));
        }
    }
    let province = resource
        .jurisdiction_divisions
        .first()
        .and_then(|d| d.get(..2))
        .unwrap_or("52")
        .to_string();
    // The province's high court did not take part in a first-instance case.
    let other_court = format!("FY{province}000001");
    if let Some((kind, division, name)) = org_of(store, &other_court)? {
        let who = format!("{name} 法官（未参与本案）");
        out.push(user(
            "other-judge",
            &who,
            &other_court,
            kind,
            &division,
            Role::CaseHandler,
            Level::L3,
        ));
    }
    let zfw = format!("ZF{province}000001");
    if let Some((kind, division, name)) = org_of(store, &zfw)? {
        out.push(user(
            "supervisor",
            &format!("{name} 执法监督员"),
            &zfw,
            kind,
            &division,
            Role::Supervisor,
            Level::L2,
        ));
        // 三员分立: three administrators, each with duties the others may not perform.
        for (id, name, role) in [
            ("sysadmin", "系统管理员", Role::Sysadmin),
            ("secadmin", "安全管理员", Role::Secadmin),
            ("auditor", "审计管理员", Role::Auditor),
        ] {
            out.push(user(id, name, &zfw, kind, &division, role, Level::L4));
        }
    }
    out.push(user(
        "public",
        "社会公众",
        "",
        OrgKind::Zfw,
        &format!("{province}0000"),
        Role::Public,
        Level::L1,
    ));
    std::fs::write(principals_path(data), serde_json::to_string_pretty(&out)?)?;
    Ok(out)
}

/// Reads a case for a principal through the policy and prints it with the reasons.
pub fn check(
    data: &Path,
    store: &mut AnyStore,
    principal_id: &str,
    case_uid: &str,
    on: chrono::NaiveDate,
    verbose: bool,
) -> Result<CaseView> {
    let principals = load_principals(data)?;
    let Some(principal) = principals.iter().find(|p| p.id() == principal_id) else {
        let known: Vec<&str> = principals.iter().map(|p| p.id()).collect();
        bail!(
            "人员名册中没有 `{principal_id}`；可用：{}",
            known.join(", ")
        );
    };
    let authz = crate::request_cmd::authorizer(data, store)?;
    let salt = salt(data)?;
    let ctx = RequestContext::on(on);
    let view = SharedReader::new(store, &authz, &salt).read_case(principal, case_uid, &ctx)?;
    let name = match principal {
        Principal::User(u) => format!("{}（{}，权限 {:?}）", u.name, u.role.name_zh(), u.clearance),
        Principal::System(s) => s.id.clone(),
    };
    let stage = if view.resource.ongoing_investigation {
        "侦查中"
    } else {
        "已移送审查起诉"
    };
    println!(
        "【{name}】查阅案件 {case_uid}（参与机构 {}，{stage}）",
        view.resource.participating_orgs.join("、")
    );
    for section in &view.sections {
        let permitted = section.plan.fields.iter().filter(|f| f.permit).count();
        println!(
            "  ▸ {}：{} 条记录，{permitted}/{} 个字段许可",
            section.entity.name_zh(),
            section.records.len() + section.withheld,
            section.plan.fields.len()
        );
        if section.records.is_empty() {
            let first = section.entity.fields()[0].name;
            let field = FieldRef::standard(section.entity, first).context("schema field")?;
            let d = authz.decide(
                principal,
                Action::Read,
                &Resource::new(&view.resource, field),
                &ctx,
            )?;
            let why = d
                .deny_hint
                .as_ref()
                .map(|h| h.message_zh.clone())
                .unwrap_or_else(|| d.summary_zh());
            println!("      拒绝：{why}");
            continue;
        }
        let limit = if verbose { usize::MAX } else { 1 };
        let mut reasons: Vec<&str> = Vec::new();
        for r in section.records.iter().take(limit) {
            for d in &r.decisions {
                let label = section
                    .entity
                    .field(&d.field)
                    .map_or(d.field.as_str(), |f| f.name_zh);
                let value = r.fields.get(d.field.as_str()).cloned().unwrap_or_default();
                let how = match d.action {
                    FieldAction::Show => "明文".to_string(),
                    FieldAction::Mask(op) => op.name_zh().to_string(),
                    FieldAction::Redact => "屏蔽".to_string(),
                };
                let value: String = value.chars().take(40).collect();
                println!("      {label:<8} [{how}] {value}");
                if !reasons.contains(&d.reason_zh.as_str()) {
                    reasons.push(&d.reason_zh);
                }
            }
        }
        for r in reasons {
            println!("      理由：{r}");
        }
    }
    println!("  已记入审计账本：{} 条访问决定", view.decisions_logged);
    Ok(view)
}
