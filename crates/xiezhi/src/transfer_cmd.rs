//! `xiezhi transfer …`: case transfers between organs (send, inbox, accept, reject, status),
//! and the demo's case run from 立案 to 入监 through transfers.

use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::NaiveDateTime;
use xiezhi_exchange::deadline;
use xiezhi_exchange::envelope::WireValue;
use xiezhi_exchange::inbox::{self, Mode};
use xiezhi_exchange::keys::{register, Keyring, Registry};
use xiezhi_exchange::outbox::{self, Draft, OutboxState, Outcome, RetryPolicy};
use xiezhi_exchange::{OrganKind, TransferKind};
use xiezhi_standard::{Entity, FieldType};
use xiezhi_store::{AnyStore, Store};

use crate::cli::TransferAction;

/// The keys and registry of every organ in the organization master data.
pub struct Organs {
    pub keys: Keyring,
    pub registry: Registry,
}

/// Loads (creating on first use) a key for every organ of the master data under
/// `<data-dir>/organ-keys/` and records the public keys in the registry.
pub fn organs(data: &Path, store: &mut AnyStore, now: NaiveDateTime) -> Result<Organs> {
    let dir = data.join("organ-keys");
    let suite = xiezhi_store::fieldcrypt::read_suite(data)?;
    let mut keys = Keyring::for_suite(suite);
    let at = now.format("%Y-%m-%dT%H:%M:%S").to_string();
    // Organizations are master data, readable outside the access path.
    for (uid, _) in store.row_hashes(Entity::Organization)? {
        let Some(org) = store.get(Entity::Organization, &uid)? else {
            continue;
        };
        let Some(kind) = org.record.text("kind").and_then(OrganKind::from_code) else {
            continue; // 政法委 supervises; it sends no transfers
        };
        let name = org.record.text("name").unwrap_or(&uid).to_string();
        let key = keys.load_or_create(&dir, &uid)?;
        if key.suite() != suite {
            anyhow::bail!(
                "机关 `{uid}` 的签名密钥属于密码套件 `{}`，而本部署使用 `{suite}`（crypto.toml）(organ key of another suite)",
                key.suite()
            );
        }
        let public = key.verifying_key();
        register(store, &uid, &name, kind, &public, &at)?;
    }
    let registry = Registry::load(store)?;
    Ok(Organs { keys, registry })
}

/// Local time to the second: the precision of the standard's date-times.
fn now() -> NaiveDateTime {
    let t = chrono::Local::now().naive_local();
    t - chrono::Duration::nanoseconds(i64::from(t.and_utc().timestamp_subsec_nanos()))
}

/// Delivers everything due inside this installation (receivers answer for their organs here)
/// and prints what happened to each transfer.
pub fn deliver(store: &mut AnyStore, o: &Organs, mode: Mode, at: NaiveDateTime) -> Result<()> {
    let policy = RetryPolicy::default();
    loop {
        let due = outbox::due(store, at, 256)?;
        if due.is_empty() {
            return Ok(());
        }
        let (seqs, envs): (Vec<i64>, Vec<_>) = due.into_iter().map(|i| (i.seq, i.envelope)).unzip();
        let ids: Vec<String> = envs.iter().map(|e| e.body.id.clone()).collect();
        let outcomes = inbox::receive(store, &o.keys, &o.registry, envs, mode, at)?;
        for (id, outcome) in ids.iter().zip(&outcomes) {
            match outcome {
                Outcome::Delivered(receipts) => println!(
                    "  {id} 已送达，回执：{}",
                    receipts
                        .iter()
                        .map(|r| match &r.body.receiver_case_no {
                            Some(no) => format!("{}（{no}）", r.body.status.zh()),
                            None => r.body.status.zh().to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join("、")
                ),
                Outcome::Retry(why) => println!("  {id} 暂未送达，稍后重试：{why}"),
                Outcome::Refused(r) => println!("  {id} 被拒收：{}（{}）", r.zh(), r.code()),
            }
        }
        outbox::record(
            store,
            &o.registry,
            seqs.into_iter().zip(outcomes).collect(),
            &policy,
            at,
        )?;
    }
}

/// A `--field name=value` of the case, typed by the standard's schema.
fn field(text: &str) -> Result<(String, WireValue)> {
    let (name, value) = text
        .split_once('=')
        .with_context(|| format!("--field `{text}` 应为 字段名=值"))?;
    let def = Entity::Case
        .field(name)
        .with_context(|| format!("案件没有字段 `{name}`"))?;
    let v = match def.ty {
        FieldType::Date => WireValue::Date(
            chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .with_context(|| format!("`{name}` 应为 YYYY-MM-DD"))?,
        ),
        FieldType::DateTime => WireValue::DateTime(
            NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S")
                .with_context(|| format!("`{name}` 应为 YYYY-MM-DDTHH:MM:SS"))?,
        ),
        FieldType::Code(_) => WireValue::Code(value.to_string()),
        FieldType::Codes(_) => WireValue::Codes(value.split(';').map(str::to_string).collect()),
        FieldType::Money => WireValue::Money(
            value
                .parse()
                .with_context(|| format!("`{name}` 应为以分计的整数"))?,
        ),
        FieldType::Int => WireValue::Int(
            value
                .parse()
                .with_context(|| format!("`{name}` 应为整数"))?,
        ),
        _ => WireValue::Text(value.to_string()),
    };
    Ok((name.to_string(), v))
}

pub fn run(data: &Path, store: &mut AnyStore, action: TransferAction) -> Result<i32> {
    let at = now();
    let o = organs(data, store, at)?;
    match action {
        TransferAction::Send {
            kind,
            from,
            to,
            case,
            doc,
            field: fields,
            decision,
            answer_to,
            note,
        } => {
            let kind = TransferKind::parse(&kind).with_context(|| {
                format!(
                    "未知的移送种类 `{kind}`，可选：{}",
                    TransferKind::ALL
                        .iter()
                        .map(|k| format!("{}({})", k.name_zh(), k.code()))
                        .collect::<Vec<_>>()
                        .join("、")
                )
            })?;
            let mut draft = Draft::new(kind, &from, &to, &case);
            draft.decision = decision;
            draft.answer_to = answer_to;
            draft.note = note;
            for d in doc {
                let mut parts = d.splitn(3, ':');
                let (Some(k), Some(number), Some(path)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    bail!("--doc `{d}` 应为 文书种类:文号:文件路径");
                };
                let content =
                    std::fs::read(path).with_context(|| format!("无法读取文书文件 `{path}`"))?;
                draft = draft.document(k, number, &content);
            }
            for f in fields {
                let (name, value) = field(&f)?;
                draft.case.insert(name, value);
            }
            match outbox::send(store, &o.keys, &o.registry, vec![draft], at) {
                Ok(sent) => {
                    for e in &sent {
                        println!(
                            "已签名并写入发件箱：{} {} {} → {}，案件 {}",
                            e.body.id,
                            e.body.kind.name_zh(),
                            e.body.from,
                            e.body.to,
                            e.body.case_uid
                        );
                    }
                }
                Err(xiezhi_exchange::ExchangeError::Refused { id, reason }) => {
                    println!(
                        "未发送 {id}：{}（{}：{reason}）",
                        reason.zh(),
                        reason.code()
                    );
                    return Ok(1);
                }
                Err(e) => return Err(e.into()),
            }
            deliver(store, &o, Mode::Manual, at)?;
            Ok(0)
        }
        TransferAction::Deliver => {
            deliver(store, &o, Mode::Manual, at)?;
            Ok(0)
        }
        TransferAction::Inbox {
            organ,
            after,
            limit,
        } => {
            let items = inbox::pull(store, &organ, after, limit)?;
            if items.is_empty() {
                println!("{organ} 收件箱在游标 {after} 之后没有移送");
            }
            for (cursor, item) in items {
                let b = &item.envelope.body;
                println!(
                    "[{cursor}] {} {} 自 {} 案件 {} 文书 {} 份 {}",
                    b.id,
                    b.kind.name_zh(),
                    b.from,
                    b.case_uid,
                    b.payload.documents.len(),
                    item.state.zh()
                );
            }
            Ok(0)
        }
        TransferAction::Accept { id, number } => {
            let r = inbox::accept(store, &o.keys, &o.registry, &id, number, at)?;
            println!(
                "已接收 {id}{}，回执已签名",
                r.body
                    .receiver_case_no
                    .map(|n| format!("，本机关案号 {n}"))
                    .unwrap_or_default()
            );
            Ok(0)
        }
        TransferAction::Reject { id, reason } => {
            inbox::reject(store, &o.keys, &id, &reason, at)?;
            println!("已退回 {id}：{reason}，回执已签名");
            Ok(0)
        }
        TransferAction::Status { id } => status(store, &o, id.as_deref(), at),
    }
}

fn status(store: &AnyStore, o: &Organs, id: Option<&str>, at: NaiveDateTime) -> Result<i32> {
    if let Some(id) = id {
        let item = outbox::find(store, id)?.with_context(|| format!("没有移送 `{id}`"))?;
        let b = &item.envelope.body;
        println!(
            "{} {}：{} → {}，案件 {}（案内第 {} 件），发送于 {}",
            b.id,
            b.kind.name_zh(),
            b.from,
            b.to,
            b.case_uid,
            b.case_seq,
            b.sent_at
        );
        for d in &b.payload.documents {
            println!(
                "  文书 {} {} sha256 {}",
                xiezhi_exchange::kind::document_name(&d.kind),
                d.number,
                d.sha256
            );
        }
        let state = match item.state {
            OutboxState::Pending => "待送",
            OutboxState::Delivered => "已送达",
            OutboxState::Dead => "死信",
        };
        println!("  发件箱状态：{state}，投递失败 {} 次", item.attempts);
        for f in &item.failures {
            println!("  {} 失败：{}", f.at, f.error);
        }
        for r in inbox::receipts(store, id)? {
            let valid = o
                .registry
                .key(&r.body.by)
                .is_some_and(|k| r.signature_valid(k));
            println!(
                "  回执 {} 由 {} 于 {}{}，签名{}",
                r.body.status.zh(),
                r.body.by,
                r.body.at,
                r.body
                    .reason
                    .as_ref()
                    .map(|x| format!("，理由：{x}"))
                    .unwrap_or_default(),
                if valid { "有效" } else { "无效！" }
            );
        }
        return Ok(0);
    }
    let items = outbox::list(store)?;
    let count = |s: OutboxState| items.iter().filter(|i| i.state == s).count();
    println!(
        "发件箱：{} 件，已送达 {}，待送 {}，死信 {}",
        items.len(),
        count(OutboxState::Delivered),
        count(OutboxState::Pending),
        count(OutboxState::Dead)
    );
    let refusals = inbox::refusals(store)?;
    println!("拒收记录：{} 件", refusals.len());
    for r in refusals.iter().rev().take(5) {
        println!(
            "  {} 自 {}：{}（{}）",
            r.envelope_id,
            r.from,
            r.reason.zh(),
            r.reason.code()
        );
    }
    let open = deadline::unanswered(store, at)?;
    println!("待答复：{} 件", open.len());
    for u in &open {
        println!(
            "  {} {} {} → {}，期限 {}（{}），{}{}",
            u.envelope_id,
            u.kind.name_zh(),
            u.from,
            u.to,
            u.deadline,
            u.period.zh(),
            if u.days_overdue > 0 {
                format!("已超期 {} 日，", u.days_overdue)
            } else {
                String::new()
            },
            format_args!("依据《{}》{}", u.basis.law, u.basis.article)
        );
    }
    Ok(0)
}

/// One demo step: kind, sender, receiver, decision, documents.
type Step<'a> = (
    TransferKind,
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a [&'a str],
);

/// The demo's case run through the procedure by transfers, from the police's 提请批准逮捕 to
/// the prison's 入监: each step sent, delivered, verified and accepted. Returns whether every
/// transfer was accepted with valid receipts.
pub fn demo(data: &Path, store: &mut AnyStore, case: &str) -> Result<bool> {
    let at = now();
    let o = organs(data, store, at)?;
    // Police, procuratorate and court of one county where the master data has all three
    // (organ codes carry their division in characters 3–8), else of the province.
    let division = |code: &str| code.get(2..8).unwrap_or_default().to_string();
    let of = |kind: OrganKind, div: &str| {
        o.registry
            .entries()
            .find(|e| e.kind == kind && division(&e.organ) == div)
            .map(|e| e.organ.clone())
    };
    let chosen = o
        .registry
        .entries()
        .filter(|e| e.kind == OrganKind::Police)
        .map(|e| division(&e.organ))
        .filter(|d| of(OrganKind::Procuratorate, d).is_some() && of(OrganKind::Court, d).is_some())
        .max_by_key(|d| !d.ends_with("00"))
        .context("机构主数据中没有同一地区的公安、检察、法院")?;
    let police = of(OrganKind::Police, &chosen).context("公安机关")?;
    let procuratorate = of(OrganKind::Procuratorate, &chosen).context("人民检察院")?;
    let court = of(OrganKind::Court, &chosen).context("人民法院")?;
    let prison = o
        .registry
        .entries()
        .find(|e| e.kind == OrganKind::Prison)
        .map(|e| e.organ.clone())
        .context("机构主数据中没有监狱")?;
    let events_before = store.count(Entity::Event)?;
    let steps: [Step; 5] = [
        (
            TransferKind::ArrestRequest,
            &police,
            &procuratorate,
            None,
            &["arrest_request"],
        ),
        (
            TransferKind::ArrestDecision,
            &procuratorate,
            &police,
            Some("approve"),
            &["arrest_approval"],
        ),
        (
            TransferKind::ProsecutionTransfer,
            &police,
            &procuratorate,
            None,
            &["prosecution_opinion"],
        ),
        (
            TransferKind::PublicProsecution,
            &procuratorate,
            &court,
            None,
            &["indictment"],
        ),
        (
            TransferKind::ExecutionNotice,
            &court,
            &prison,
            None,
            &["indictment", "judgment", "execution_notice"],
        ),
    ];
    let mut previous: Option<String> = None;
    let mut all_good = true;
    for (n, (kind, from, to, decision, docs)) in steps.into_iter().enumerate() {
        let mut draft = Draft::new(kind, from, to, case);
        draft.decision = decision.map(str::to_string);
        for d in docs {
            let name = xiezhi_exchange::kind::document_name(d);
            let text = format!("{name}\n案件 {case}\n制作机关 {from}\n");
            draft = draft.document(
                d,
                &format!("{from}〔{}〕{}号", at.format("%Y"), n + 1),
                text.as_bytes(),
            );
        }
        // Answers name what they answer: the decision answers the request, the indictment the
        // transfer for prosecution.
        if matches!(
            kind,
            TransferKind::ArrestDecision | TransferKind::PublicProsecution
        ) {
            draft.answer_to = previous.clone();
        }
        let env = outbox::send(store, &o.keys, &o.registry, vec![draft], at)?.remove(0);
        print!("  {}. {} {} → {}：", n + 1, kind.name_zh(), from, to);
        let due = outbox::due(store, at, 256)?;
        let (seqs, envs): (Vec<i64>, Vec<_>) = due.into_iter().map(|i| (i.seq, i.envelope)).unzip();
        let outcomes = inbox::receive(store, &o.keys, &o.registry, envs, Mode::Manual, at)?;
        outbox::record(
            store,
            &o.registry,
            seqs.into_iter().zip(outcomes).collect(),
            &RetryPolicy::default(),
            at,
        )?;
        let receipt = inbox::accept(store, &o.keys, &o.registry, &env.body.id, None, at)?;
        let receipts = inbox::receipts(store, &env.body.id)?;
        let valid = receipts.len() == 2
            && receipts.iter().all(|r| {
                o.registry
                    .key(&r.body.by)
                    .is_some_and(|k| r.signature_valid(k))
            });
        all_good &= valid;
        println!(
            "送达并接收{}，回执 {} 份{}",
            receipt
                .body
                .receiver_case_no
                .map(|no| format!("（{no}）"))
                .unwrap_or_default(),
            receipts.len(),
            if valid {
                "，签名有效"
            } else {
                "，签名无效！"
            }
        );
        if matches!(
            kind,
            TransferKind::ArrestRequest | TransferKind::ProsecutionTransfer
        ) {
            previous = Some(env.body.id.clone());
        }
    }
    let added = store.count(Entity::Event)? - events_before;
    println!(
        "  案件 {case} 经 5 次移送由公安机关到监狱收监，新增流程节点 {added} 个（含入监），待答复 {} 件，拒收 {} 件",
        deadline::unanswered(store, at)?
            .iter()
            .filter(|u| u.case_uid == case)
            .count(),
        inbox::refusals(store)?.len()
    );
    Ok(all_good)
}
