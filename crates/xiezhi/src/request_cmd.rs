//! `xiezhi request`: the data-request workflow (申请 → 审核 → 授权 → 使用 → 反馈, 撤销), with each
//! step stored together with its ledger entry.

use std::path::Path;

use anyhow::{bail, Context, Result};
use xiezhi_access::policy;
use xiezhi_access::reader::{case_resource, ledger_event};
use xiezhi_access::{
    AccessEvent, Authorizer, DataRequest, PolicyStore, Principal, RequestState, RequestStep, User,
};
use xiezhi_store::{AnyStore, Store};

use crate::access_cmd::load_principals;

const KIND: &str = "data_request";

/// One step of the workflow, as typed on the command line.
pub enum Step {
    Submit {
        case: String,
        scope: Vec<String>,
        purpose: String,
    },
    Review {
        id: String,
        approve: bool,
        reason: String,
    },
    Grant {
        id: String,
        expires: chrono::NaiveDate,
        scope: Vec<String>,
        purpose: Option<String>,
    },
    Use {
        id: String,
        detail: String,
    },
    Feedback {
        id: String,
        text: String,
    },
    Revoke {
        id: String,
        reason: String,
    },
}

fn now() -> chrono::NaiveDateTime {
    chrono::Local::now().naive_local()
}

fn requests(store: &AnyStore) -> Result<Vec<DataRequest>> {
    store
        .workflow_items(KIND)?
        .into_iter()
        .map(|(id, body)| {
            serde_json::from_str(&body).with_context(|| format!("数据申请 {id} 的存储内容无效"))
        })
        .collect()
}

fn save(store: &mut AnyStore, r: &DataRequest, events: &[AccessEvent]) -> Result<()> {
    let entries: Vec<_> = events
        .iter()
        .map(|e| ledger_event(e, &r.case_uid))
        .collect();
    store.put_workflow_item(KIND, &r.id, &serde_json::to_string(r)?, &entries)?;
    Ok(())
}

/// The built-in policies plus every grant in force, with grants past their expiry expired
/// (and the expiry logged) first.
pub fn authorizer(data: &Path, store: &mut AnyStore) -> Result<Authorizer> {
    let mut authz = Authorizer::new(policies(data)?)?;
    for mut r in requests(store)? {
        if r.state != RequestState::Granted {
            continue;
        }
        if let Some(grant) = r.grant.clone() {
            authz.link_grant(grant)?;
        }
        if let Some(event) = r.expire_if_due(now(), &mut authz)? {
            save(store, &r, &[event])?;
        }
    }
    Ok(authz)
}

/// The policy files of the data directory (`policies/`), written from the built-in set on first
/// use so a data steward can edit them; every load validates them against the schema.
pub fn policies(data: &Path) -> Result<PolicyStore> {
    let dir = data.join("policies");
    if !dir.exists() {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(policy::SCHEMA_FILE), policy::SCHEMA)?;
        for (name, text) in policy::BUILTIN_POLICIES {
            std::fs::write(dir.join(name), text)?;
        }
    }
    PolicyStore::from_dir(&dir)
        .with_context(|| format!("策略目录 `{}` 无效 (invalid policies)", dir.display()))
}

fn user_of(data: &Path, id: &str) -> Result<User> {
    match load_principals(data)?.into_iter().find(|p| p.id() == id) {
        Some(Principal::User(u)) => Ok(u),
        Some(Principal::System(_)) => bail!("部门系统不能办理数据申请"),
        None => bail!("人员名册中没有 `{id}`"),
    }
}

fn load(store: &AnyStore, id: &str) -> Result<DataRequest> {
    let body = store
        .workflow_item(KIND, id)?
        .with_context(|| format!("数据申请 {id} 不存在"))?;
    Ok(serde_json::from_str(&body)?)
}

/// Takes one step as `actor` and prints the outcome.
pub fn step(data: &Path, store: &mut AnyStore, actor: &str, step: Step) -> Result<String> {
    let user = user_of(data, actor)?;
    let mut authz = authorizer(data, store)?;
    let at = now();
    let (request, event) = match step {
        Step::Submit {
            case,
            scope,
            purpose,
        } => {
            let resource =
                case_resource(store, &case)?.with_context(|| format!("案件 {case} 不存在"))?;
            let id = format!("R{:04}", requests(store)?.len() + 1);
            DataRequest::submit(id, &user, &resource, scope, purpose, at)?
        }
        other => {
            let (id, step) = match other {
                Step::Submit { .. } => unreachable!("handled above"),
                Step::Review {
                    id,
                    approve,
                    reason,
                } => (id, RequestStep::Review { approve, reason }),
                Step::Grant {
                    id,
                    expires,
                    scope,
                    purpose,
                } => (
                    id,
                    RequestStep::Grant {
                        expires,
                        scope,
                        purpose,
                    },
                ),
                Step::Use { id, detail } => (id, RequestStep::Use { detail }),
                Step::Feedback { id, text } => (id, RequestStep::Feedback { text }),
                Step::Revoke { id, reason } => (id, RequestStep::Revoke { reason }),
            };
            // The same step function the server's API and console use.
            let mut r = load(store, &id)?;
            let e = r.take(&user, step, at, &mut authz)?;
            (r, e)
        }
    };
    save(store, &request, &[event])?;
    println!(
        "数据申请 {}：{}（案件 {}，申请人 {}，数据所有机构 {}，范围 {}）",
        request.id,
        request.state.name_zh(),
        request.case_uid,
        request.requester,
        request.owner_org,
        request.scope.join(", ")
    );
    Ok(request.id)
}

/// Lists every request.
pub fn list(store: &AnyStore) -> Result<()> {
    println!(
        "{:<7} {:<10} {:<12} {:<14} {:<12} 范围",
        "编号", "状态", "案件", "申请人", "所有机构"
    );
    for r in requests(store)? {
        println!(
            "{:<7} {:<10} {:<12} {:<14} {:<12} {}",
            r.id,
            r.state.name_zh(),
            r.case_uid,
            r.requester,
            r.owner_org,
            r.scope.join(", ")
        );
    }
    Ok(())
}
