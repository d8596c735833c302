//! The commands: each gathers its inputs, calls the libraries and prints for people.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use xiezhi_ingest::evaluate::{evaluate, read_truth, Evaluation};
use xiezhi_ingest::export::{ingest_export, plans_from_dir, shipped_plans, SHIPPED_MAPPINGS};
use xiezhi_ingest::{FileReport, IngestOptions, Ingestor, Plan};
use xiezhi_store::{AnyStore, Location, Store};
use xiezhi_synth::SynthConfig;

use xiezhi_ledger::dossier::{self, Dossier, FileMeta};
use xiezhi_ledger::log::{
    latest_entry_of, prove_checkpoints, prove_entry, verify, AuditLog, VerifyReport, DEFAULT_ORIGIN,
};
use xiezhi_ledger::{verify_consistency_with, verify_inclusion_with, Checkpoint, Verifier};

use crate::access_cmd;
use crate::bench_scale;
use crate::cli::{
    AccessAction, BenchWhat, Cli, Command, LedgerAction, QuarantineAction, RequestAction,
    RiskAction, SuperviseAction,
};
use crate::report;
use crate::request_cmd::{self, Step};
use crate::serve_cmd;
use crate::supervise_cmd;
use crate::transfer_cmd;

/// Runs a command and returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    let data = cli.data_dir;
    DB.set(cli.db).ok();
    match cli.command {
        Command::Demo {
            cases,
            seed,
            keep,
            no_serve,
            addr,
        } => {
            let code = demo(&data, cases, seed, keep)?;
            let (logins, key) = serve_cmd::provision_demo_logins(&data)?;
            let parsed: std::net::SocketAddr = addr
                .parse()
                .with_context(|| format!("--addr `{addr}` 应为 IP:端口"))?;
            serve_cmd::print_logins(&logins, &key, &parsed);
            println!(
                "（演示账号也写在 {}）",
                data.join("demo-logins.txt").display()
            );
            if no_serve || code != 0 {
                return Ok(code);
            }
            serve_cmd::serve(&data, &store_at(&data), &addr, &Default::default())
        }
        Command::Serve { addr, tls } => serve_cmd::serve(&data, &store_at(&data), &addr, &tls),
        Command::System { action } => serve_cmd::system(&data, action),
        Command::Ledger { action } => ledger(&data, action),
        Command::Witness { action } => crate::witness_cmd::witness(action),
        Command::User { action } => crate::user_cmd::run(&data, action),
        Command::Keys { action } => crate::keys_cmd::run(&data, action),
        Command::Train(args) => crate::insight_cmd::train(&data, args),
        Command::Predict(args) => crate::insight_cmd::predict(&data, args),
        Command::Extract(args) => crate::insight_cmd::extract(&data, args),
        Command::Search(args) => crate::insight_cmd::search(&data, args),
        Command::Stats(args) => crate::stats_cmd::stats(&data, args),
        Command::Insight { action } => crate::insight_cmd::insight(&data, action),
        Command::Graph { action } => match action {
            crate::casegraph_cmd::GraphCommand::Cases { action } => {
                crate::casegraph_cmd::cases(action, &data)
            }
            crate::casegraph_cmd::GraphCommand::Statute(action) => {
                crate::graph_cmd::graph(action, &data)
            }
        },
        Command::Justice { action } => crate::justice_cmd::run(&data, action),
        Command::Review { action } => crate::justice_cmd::review_run(&data, action),
        Command::Access { action } => access(&data, action),
        Command::Request { action } => request(&data, action),
        Command::Supervise { action } => match action {
            SuperviseAction::Catalog => {
                supervise_cmd::print_catalog();
                Ok(0)
            }
            SuperviseAction::Run { as_of, show, full } => {
                let as_of = parse_as_of(as_of.as_deref())?
                    .unwrap_or_else(|| chrono::Local::now().date_naive());
                let mut store = open_store(&data)?;
                let report = supervise_cmd::run(&mut store, as_of, full)?;
                supervise_cmd::print_run(&report, &store, show)?;
                Ok(0)
            }
            SuperviseAction::Eval { export, as_of } => {
                let export = export.unwrap_or_else(|| data.join("export"));
                let as_of = parse_as_of(as_of.as_deref())?
                    .or_else(|| export_as_of(&export))
                    .unwrap_or_else(|| chrono::Local::now().date_naive());
                let store = open_store(&data)?;
                let card = supervise_cmd::measure(&store, &export, as_of)?;
                Ok(if supervise_cmd::print_scorecard(&card) {
                    0
                } else {
                    1
                })
            }
        },
        Command::Risk { action } => {
            let mut store = open_store(&data)?;
            use xiezhi_supervise::lifecycle::Action;
            match action {
                RiskAction::List {
                    status,
                    colour,
                    rule,
                    limit,
                } => {
                    supervise_cmd::list(
                        &store,
                        status.as_deref(),
                        colour.as_deref(),
                        rule.as_deref(),
                        limit,
                    )?;
                    Ok(0)
                }
                RiskAction::Show { id } => {
                    match xiezhi_supervise::lifecycle::record(&store, &id)? {
                        Some(r) => {
                            supervise_cmd::print_record(&r);
                            Ok(0)
                        }
                        None => {
                            eprintln!("风险事项 `{id}` 不存在");
                            Ok(2)
                        }
                    }
                }
                RiskAction::Assign { id, org, by } => {
                    supervise_cmd::act(&mut store, &id, Action::Assign { org }, &by)
                }
                RiskAction::Verify {
                    id,
                    confirm,
                    dismiss: _,
                    reason,
                    by,
                } => supervise_cmd::act(
                    &mut store,
                    &id,
                    Action::Verify {
                        confirmed: confirm,
                        reason,
                    },
                    &by,
                ),
                RiskAction::Rectify { id, note, by } => {
                    supervise_cmd::act(&mut store, &id, Action::Rectify { note }, &by)
                }
                RiskAction::Close { id, note, by } => {
                    supervise_cmd::act(&mut store, &id, Action::Close { note }, &by)
                }
            }
        }
        Command::Dossier { file, case, kind } => {
            let mut store = open_store(&data)?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let meta = FileMeta {
                name,
                kind,
                case_uid: case,
            };
            let sha = dossier_of(&data).put_file(&mut store, &file, &meta)?;
            println!("已存档 {}：sha256 {sha}", file.display());
            seal(&data, &mut store)?;
            Ok(0)
        }
        Command::Synth {
            out,
            cases,
            seed,
            dirty_rate,
        } => {
            let cfg = SynthConfig {
                seed,
                cases,
                dirty_rate,
                ..SynthConfig::default()
            };
            synth(&cfg, &out)?;
            Ok(0)
        }
        Command::Ingest {
            path,
            source,
            mappings,
            as_of,
            truth,
            cluster,
        } => ingest(
            &data,
            &path,
            source.as_deref(),
            mappings.as_deref(),
            as_of.as_deref(),
            truth.as_deref(),
            cluster,
        ),
        Command::Mappings { dir } => check_mappings(&mappings_dir(&data, dir.as_deref())?),
        Command::Quality => {
            let store = open_store(&data)?;
            report::print_quality(&store)?;
            Ok(0)
        }
        Command::Quarantine { action } => quarantine(&data, action),
        Command::Bench {
            what: BenchWhat::Ingest { cases, seed },
        } => bench_ingest(cases, seed),
        Command::Bench {
            what: BenchWhat::Supervise { cases, seed },
        } => supervise_cmd::bench(cases, seed),
        Command::Bench {
            what:
                BenchWhat::Fences {
                    fixes,
                    fences,
                    seed,
                },
        } => {
            let r = xiezhi_supervise::fence_index::bench(fixes, fences, seed);
            println!(
                "电子围栏检查：{} 个定位点 × {} 个围栏（网格 {} 格，建索引 {:.1} ms）",
                r.fixes, r.fences, r.cells, r.build_ms
            );
            println!(
                "  网格索引 {:.0} 点/秒；逐一检查 {:.0} 点/秒；越界 {} 次",
                r.checks_per_sec, r.brute_force_checks_per_sec, r.breaches_found
            );
            Ok(0)
        }
        Command::Bench {
            what: BenchWhat::Exchange { transfers, batch },
        } => bench_exchange(transfers, batch),
        Command::Bench {
            what: BenchWhat::Crypto { seconds },
        } => bench_crypto(seconds),
        Command::Bench {
            what: BenchWhat::Login { logins },
        } => bench_login(logins),
        Command::Bench {
            what:
                BenchWhat::Scale {
                    sizes,
                    backends,
                    pg_url,
                    out,
                    reads,
                    no_field_encryption,
                    include,
                },
        } => {
            let backends: Vec<String> = backends
                .split(',')
                .map(|b| b.trim().to_string())
                .filter(|b| !b.is_empty())
                .collect();
            bench_scale::scale(
                &bench_scale::parse_sizes(&sizes)?,
                &backends,
                pg_url.as_deref(),
                &out,
                reads,
                !no_field_encryption,
                &include,
            )
        }
        Command::Bench {
            what:
                BenchWhat::ScaleCell {
                    backend,
                    export,
                    work,
                    pg_url,
                    reads,
                    no_field_encryption,
                    drop_export,
                },
        } => bench_scale::cell(
            &export,
            &backend,
            pg_url.as_deref(),
            reads,
            &work,
            !no_field_encryption,
            drop_export,
        ),
        Command::Transfer { action } => {
            let mut store = open_store(&data)?;
            let code = transfer_cmd::run(&data, &mut store, action)?;
            seal(&data, &mut store)?;
            Ok(code)
        }
    }
}

/// The server's login work without HTTP: argon2id verification of the password with the
/// default parameters the demo and `xiezhi user add` use, then the TOTP check.
fn bench_login(logins: usize) -> Result<i32> {
    use xiezhi_server::{auth, totp};
    anyhow::ensure!(logins > 0, "--logins 应为正数");
    let params = argon2::Params::default();
    println!(
        "argon2id m={} KiB t={} p={}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost()
    );
    let hash = auth::hash_password("Bench-Pass-2024!", params)?;
    let secret = totp::new_secret();
    let mut times = Vec::with_capacity(logins);
    for i in 0..logins {
        let now = 1_800_000_000 + 30 * i as u64;
        let code = totp::code(&secret, now)?;
        let t = std::time::Instant::now();
        anyhow::ensure!(auth::verify_password("Bench-Pass-2024!", &hash));
        anyhow::ensure!(totp::matching_step(&secret, &code, now)?.is_some());
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!(
        "{logins} logins: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (one core)",
        pct(0.5),
        pct(0.99),
        times[times.len() - 1]
    );
    Ok(0)
}

/// Prints the crypto figures as a Markdown table for BENCHMARKS.md.
fn bench_crypto(seconds: f64) -> Result<i32> {
    anyhow::ensure!(
        seconds.is_finite() && seconds > 0.0,
        "--seconds 应为正数 (must be positive)"
    );
    let figures = xiezhi_crypto::bench::run(std::time::Duration::from_secs_f64(seconds));
    println!("| suite | operation | ops/s | MB/s |");
    println!("|---|---|---:|---:|");
    for f in figures {
        println!(
            "| {} | {} | {:.0} | {} |",
            f.suite,
            f.what,
            f.ops_per_sec,
            f.mb_per_sec.map(|m| format!("{m:.1}")).unwrap_or_default()
        );
    }
    Ok(0)
}

fn request(data: &Path, action: RequestAction) -> Result<i32> {
    let mut store = open_store(data)?;
    let date = |s: &str| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .with_context(|| format!("`{s}` 应为 YYYY-MM-DD"))
    };
    let (actor, step) = match action {
        RequestAction::List => {
            request_cmd::list(&store)?;
            return Ok(0);
        }
        RequestAction::Submit {
            principal,
            case,
            scope,
            purpose,
        } => (
            principal,
            Step::Submit {
                case,
                scope,
                purpose,
            },
        ),
        RequestAction::Review {
            principal,
            id,
            approve,
            reject,
            reason,
        } => {
            if approve == reject {
                bail!("请给出 --approve 或 --reject 之一");
            }
            (
                principal,
                Step::Review {
                    id,
                    approve,
                    reason,
                },
            )
        }
        RequestAction::Grant {
            principal,
            id,
            expires,
            scope,
            purpose,
        } => (
            principal,
            Step::Grant {
                id,
                expires: date(&expires)?,
                scope,
                purpose,
            },
        ),
        RequestAction::Use {
            principal,
            id,
            detail,
        } => (principal, Step::Use { id, detail }),
        RequestAction::Feedback {
            principal,
            id,
            text,
        } => (principal, Step::Feedback { id, text }),
        RequestAction::Revoke {
            principal,
            id,
            reason,
        } => (principal, Step::Revoke { id, reason }),
    };
    request_cmd::step(data, &mut store, &actor, step)?;
    seal(data, &mut store)?;
    Ok(0)
}

fn access(data: &Path, action: AccessAction) -> Result<i32> {
    match action {
        AccessAction::Principals => {
            for p in access_cmd::load_principals(data)? {
                match p {
                    xiezhi_access::Principal::User(u) => println!(
                        "{:<16} {:<40} {:<6} {:<10} 权限 {:?}",
                        u.id,
                        u.name,
                        u.role.name_zh(),
                        u.org_code,
                        u.clearance
                    ),
                    xiezhi_access::Principal::System(s) => {
                        println!("{:<16} 部门系统 {}", s.id, s.org_code)
                    }
                }
            }
            Ok(0)
        }
        AccessAction::Check {
            principal,
            case,
            on,
            all,
        } => {
            let on = match on {
                Some(s) => chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .with_context(|| format!("--on `{s}` 应为 YYYY-MM-DD"))?,
                None => chrono::Local::now().date_naive(),
            };
            let mut store = open_store(data)?;
            access_cmd::check(data, &mut store, &principal, &case, on, all)?;
            seal(data, &mut store)?;
            Ok(0)
        }
    }
}

fn dossier_of(data: &Path) -> Dossier {
    Dossier::new(data.join("dossier"))
}

/// Verifies the ledger, the stored rows and the e-dossier files together.
fn verify_all(data: &Path, store: &AnyStore, verifier: Verifier) -> Result<VerifyReport> {
    let mut report = verify(store, &[verifier])?;
    report
        .problems
        .extend(dossier::check(store, &dossier_of(data))?);
    report
        .problems
        .sort_by_key(|p| (p.seq.unwrap_or(i64::MAX), p.kind));
    Ok(report)
}

fn open_log(data: &Path) -> Result<AuditLog> {
    Ok(AuditLog::open_or_create(
        &data.join("ledger.key"),
        DEFAULT_ORIGIN,
    )?)
}

/// Seals what the command appended into a signed checkpoint and says so.
fn seal(data: &Path, store: &mut AnyStore) -> Result<()> {
    let log = open_log(data)?;
    if let Some(note) = log.checkpoint(store, &now())? {
        let (cp, _) = Checkpoint::open(&note, &[log.verifier()])?;
        println!("账本检查点：{} 条，根哈希 {}", cp.size, hex(&cp.root));
    }
    Ok(())
}

fn now() -> String {
    chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string()
}

use xiezhi_store::hex;

fn ledger(data: &Path, action: LedgerAction) -> Result<i32> {
    if let Location::Sqlite(db) = store_at(data) {
        if !db.exists() {
            bail!(
                "数据目录 `{}` 中没有库 (no store in the data directory)",
                data.display()
            );
        }
    }
    let mut store = open_store(data)?;
    match action {
        LedgerAction::Archive { before, out } => {
            let before = chrono::NaiveDate::parse_from_str(&before, "%Y-%m-%d")
                .with_context(|| format!("--before `{before}` 应为 YYYY-MM-DD"))?;
            let today = chrono::Local::now().date_naive();
            // Seal what is pending first, so every entry archived is under a checkpoint.
            open_log(data)?.checkpoint(&mut store, &now())?;
            let hasher = open_log(data)?.hasher();
            let report = xiezhi_ledger::archive::archive(&mut store, hasher, before, today, &out)?;
            if report.entries == 0 {
                println!("没有可归档的审计记录（{before} 之前封存且非数据沿革的条目）");
                return Ok(0);
            }
            println!(
                "已归档 {} 条审计记录（第 {} 至 {} 条）到 {}，包含证明对应大小为 {} 的检查点；文件 SHA-256 {}",
                report.entries,
                report.first_seq.unwrap_or_default(),
                report.last_seq.unwrap_or_default(),
                out.display(),
                report.checkpoint_size,
                report.file_sha256
            );
            Ok(0)
        }
        LedgerAction::VerifyArchive { file } => {
            let check = xiezhi_ledger::archive::verify_archive(
                &file,
                &[open_log(data)?.verifier()],
                Some(&store),
            )?;
            println!(
                "归档 {} 条，检查点大小 {}，问题 {} 处",
                check.entries,
                check.checkpoint_size,
                check.bad.len()
            );
            for (seq, why) in check.bad.iter().take(10) {
                println!("  第 {seq} 条：{why}");
            }
            Ok(if check.bad.is_empty() { 0 } else { 1 })
        }
        LedgerAction::Verify { vkey } => {
            let verifier = match vkey {
                Some(v) => v
                    .parse::<Verifier>()
                    .with_context(|| format!("无效的公钥 `{v}`"))?,
                None => open_log(data)?.verifier(),
            };
            let report = match verify_all(data, &store, verifier) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("无法校验 (could not verify): {e}");
                    return Ok(2);
                }
            };
            println!(
                "账本 {} 条，检查点 {} 个（未封存 {} 条），核对库中记录 {} 条",
                report.entries, report.checkpoints, report.unsealed, report.rows_checked
            );
            match report.first_bad() {
                None => {
                    println!("✓ 账本完好：全部条目连续未改动，检查点签名与根哈希一致，库中记录与账本一致");
                    Ok(0)
                }
                Some(first) => {
                    println!("✗ 发现 {} 处问题；第一处：", report.problems.len());
                    println!(
                        "  [{}] {}{}",
                        first.kind,
                        first.seq.map_or(String::new(), |s| format!("第 {s} 条：")),
                        first.detail
                    );
                    for p in report
                        .problems
                        .iter()
                        .filter(|p| !std::ptr::eq(*p, first))
                        .take(9)
                    {
                        println!("  [{}] {}", p.kind, p.detail);
                    }
                    Ok(1)
                }
            }
        }
        LedgerAction::Checkpoint => {
            let log = open_log(data)?;
            match log.checkpoint(&mut store, &now())? {
                Some(note) => print!("{note}"),
                None => match store.checkpoints()?.pop() {
                    Some((_, note)) => print!("{note}"),
                    None => println!("账本为空"),
                },
            }
            Ok(0)
        }
        LedgerAction::Proof { seq, entity, uid } => {
            let seq = match (seq, entity, uid) {
                (Some(s), None, None) => s,
                (None, Some(e), Some(u)) => {
                    let entity = xiezhi_store::Entity::from_name(&e)
                        .with_context(|| format!("未知实体 `{e}`"))?;
                    latest_entry_of(&store, entity, &u)?
                        .with_context(|| format!("{e} {u} 没有账本记录"))?
                }
                _ => bail!("请给出 --seq N，或 --entity E --uid U"),
            };
            let log = open_log(data)?;
            let p = prove_entry(&store, seq, log.hasher())?;
            let (cp, _) = Checkpoint::open(&p.checkpoint, &[log.verifier()])?;
            verify_inclusion_with(
                log.hasher(),
                &p.leaf_hash,
                seq as u64,
                cp.size,
                &p.proof,
                &cp.root,
            )?;
            println!("条目 {seq}：{}", p.body);
            println!("叶哈希 {}", hex(&p.leaf_hash));
            println!("审计路径（{} 个哈希）：", p.proof.len());
            for h in &p.proof {
                println!("  {}", hex(h));
            }
            println!("检查点（已验证签名，证明已核对）：\n{}", p.checkpoint);
            Ok(0)
        }
        LedgerAction::Consistency { old, new } => {
            let sizes: Vec<i64> = store.checkpoints()?.into_iter().map(|(s, _)| s).collect();
            let new = new
                .or_else(|| sizes.last().copied())
                .context("账本还没有检查点")?;
            let old = old
                .or_else(|| sizes.iter().rev().find(|s| **s < new).copied())
                .context("需要两个检查点")?;
            let log = open_log(data)?;
            let c = prove_checkpoints(&store, old, new, log.hasher())?;
            let (o, _) = Checkpoint::open(&c.old, &[log.verifier()])?;
            let (n, _) = Checkpoint::open(&c.new, &[log.verifier()])?;
            println!("检查点 {old} → {new}：一致性证明 {} 个哈希", c.proof.len());
            for h in &c.proof {
                println!("  {}", hex(h));
            }
            match verify_consistency_with(log.hasher(), o.size, n.size, &c.proof, &o.root, &n.root)
            {
                Ok(()) => {
                    println!("✓ 后一检查点的账本包含前一检查点的全部条目，历史未被改写");
                    Ok(0)
                }
                Err(e) => {
                    println!("✗ 两个已签名检查点之间不一致（历史被改写）：{e}");
                    Ok(1)
                }
            }
        }
        LedgerAction::Key => {
            println!("{}", open_log(data)?.verifier().to_vkey());
            Ok(0)
        }
        LedgerAction::Witness { witness_dirs, out } => crate::witness_cmd::collect(
            &store,
            &open_log(data)?.verifier(),
            &witness_dirs,
            out.as_deref(),
        ),
        LedgerAction::VerifyNote {
            note,
            witnesses,
            quorum,
        } => {
            crate::witness_cmd::verify_note(&note, &open_log(data)?.verifier(), &witnesses, quorum)
        }
    }
}

/// The global `--db` (or `XIEZHI_DB`), set once by [`run`]: every command opens the same store.
static DB: OnceLock<Option<String>> = OnceLock::new();

/// Whether `--db` (or `XIEZHI_DB`) named a store for this invocation.
pub(crate) fn db_given() -> bool {
    DB.get().is_some_and(|d| d.is_some())
}

/// Where this invocation's store lives.
pub fn store_at(data: &Path) -> Location {
    Location::parse(DB.get().and_then(|d| d.as_deref()), data)
}

pub(crate) fn open_store(data: &Path) -> Result<AnyStore> {
    std::fs::create_dir_all(data)
        .with_context(|| format!("无法创建数据目录 `{}`", data.display()))?;
    let at = store_at(data);
    xiezhi_store::open::open(&at, Some(data))
        .with_context(|| format!("无法打开数据库 `{}`", at.display()))
}

/// The mapping directory to use: the given one, or the data directory's, created from the
/// shipped mappings on first use so that a data steward can edit them.
fn mappings_dir(data: &Path, given: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = given {
        return Ok(d.to_path_buf());
    }
    let dir = data.join("mappings");
    if !dir.exists() {
        std::fs::create_dir_all(&dir)?;
        for (name, text) in SHIPPED_MAPPINGS {
            std::fs::write(dir.join(name), text)?;
        }
    }
    Ok(dir)
}

fn load_plans(data: &Path, given: Option<&Path>) -> Result<Vec<Plan>> {
    let dir = mappings_dir(data, given)?;
    match plans_from_dir(&dir) {
        Ok(p) => Ok(p),
        Err(errors) => {
            for e in &errors {
                eprint!("{e}");
            }
            bail!(
                "映射目录 `{}` 中有 {} 个映射文件无效 (invalid mappings)",
                dir.display(),
                errors.len()
            )
        }
    }
}

fn check_mappings(dir: &Path) -> Result<i32> {
    match plans_from_dir(dir) {
        Ok(plans) => {
            for p in plans {
                println!(
                    "✓ {:<20} 来源 {:<14} {} 条输出规则，读取 {} 列",
                    p.mapping_name,
                    p.source,
                    p.emits.len(),
                    p.columns().len()
                );
            }
            Ok(0)
        }
        Err(errors) => {
            for e in &errors {
                print!("{e}");
            }
            Ok(1)
        }
    }
}

fn bar(len: u64, msg: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>14} [{bar:40}] {pos}/{len} {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(msg.to_string());
    pb
}

fn synth(cfg: &SynthConfig, out: &Path) -> Result<xiezhi_synth::SynthSummary> {
    let pb = bar(cfg.cases as u64, "生成案件");
    let summary =
        xiezhi_synth::generate_with_progress(cfg, out, &mut |done| pb.set_position(done as u64))?;
    pb.finish_and_clear();
    println!(
        "已生成合成省份：{} 件案件，{} 名人员，注入脏数据 {} 条，输出目录 {}",
        summary.cases,
        summary.persons,
        summary.dirty_records,
        out.display()
    );
    for f in &summary.files {
        println!(
            "  {:<28} {:>8} 条  sha256 {}…",
            f.path,
            f.records,
            &f.sha256[..16.min(f.sha256.len())]
        );
    }
    Ok(summary)
}

/// Archives each department file as received in the e-dossier before it is ingested, so what
/// was received stays provable whatever happens to the export directory.
fn archive_received(data: &Path, store: &mut AnyStore, plans: &[Plan], dir: &Path) -> Result<()> {
    let dossier = dossier_of(data);
    for plan in plans {
        let path = dir.join(&plan.default_file);
        if path.exists() {
            let meta = FileMeta {
                name: plan.default_file.clone(),
                kind: "received_export".into(),
                case_uid: None,
            };
            dossier.put_file(store, &path, &meta)?;
        }
    }
    Ok(())
}

/// After a bulk load: the appended tables vacuumed (`Store::vacuum_after_load`) and a case's
/// rows put together on disk (`Store::cluster_by_case`).
fn cluster_after_load(store: &mut AnyStore) -> Result<()> {
    let started = Instant::now();
    let vacuumed = store.vacuum_after_load()?;
    if !vacuumed.is_empty() {
        println!(
            "已清理并统计 {} 张表（{:.1} 秒）",
            vacuumed.len(),
            started.elapsed().as_secs_f64()
        );
    }
    let started = Instant::now();
    let tables = store.cluster_by_case()?;
    if tables.is_empty() {
        println!("案件数据已按案件键存储，无需重排");
    } else {
        println!(
            "已按案件重排 {} 张表（{:.1} 秒）",
            tables.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn ingest_dir(
    store: &mut AnyStore,
    plans: &[Plan],
    dir: &Path,
    opts: &IngestOptions,
) -> Result<Vec<FileReport>> {
    let mut current: Option<(String, ProgressBar)> = None;
    let reports = ingest_export(store, plans, dir, opts, &mut |source, done, total| {
        if current.as_ref().is_none_or(|(s, _)| s != source) {
            if let Some((_, pb)) = current.take() {
                pb.finish_and_clear();
            }
            current = Some((source.to_string(), bar(total as u64, source)));
        }
        if let Some((_, pb)) = &current {
            pb.set_position(done as u64);
        }
    })?;
    if let Some((_, pb)) = current {
        pb.finish_and_clear();
    }
    Ok(reports)
}

fn parse_as_of(s: Option<&str>) -> Result<Option<chrono::NaiveDate>> {
    s.map(|s| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .with_context(|| format!("--as-of `{s}` 应为 YYYY-MM-DD"))
    })
    .transpose()
}

pub(crate) fn export_as_of(dir: &Path) -> Option<chrono::NaiveDate> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    chrono::NaiveDate::parse_from_str(v.get("export_date")?.as_str()?, "%Y-%m-%d").ok()
}

fn demo(data: &Path, cases: usize, seed: u64, keep: bool) -> Result<i32> {
    println!(
        "獬豸 Xiezhi 演示：合成省份 {cases} 件案件（种子 {seed}），数据目录 {}",
        data.display()
    );
    let at = store_at(data);
    println!("数据库（{}）：{}", at.backend(), at.display());
    if !keep {
        xiezhi_store::open::reset(&at)
            .with_context(|| format!("无法清空旧库 `{}`", at.display()))?;
        // The organ keys belong to the store just emptied (its registry); new ones follow the
        // suite chosen now.
        // So do the field-encryption key files: the data keys they wrapped went with it.
        for dir in ["organ-keys", "keys"] {
            let dir = data.join(dir);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("无法清除 `{}`", dir.display()))?;
            }
        }
        std::fs::create_dir_all(data)?;
        xiezhi_store::fieldcrypt::write_suite(data, xiezhi_crypto::Suite::International)?;
    }
    let suite = xiezhi_store::fieldcrypt::read_suite(data)?;
    println!(
        "密码套件：{suite}（{}、{}、{}、{}）",
        suite.hash_name(),
        suite.mac_name(),
        suite.signature_name(),
        suite.aead_name()
    );
    let export = data.join("export");
    println!("\n[1/3] 生成各部门导出（公安 GBK CSV、检察 JSON Lines、法院 XML、司法行政 CSV）");
    let cfg = SynthConfig {
        seed,
        cases,
        ..SynthConfig::default()
    };
    synth(&cfg, &export)?;
    println!("\n[2/3] 按映射接入、校验、隔离、归并");
    let mut store = open_store(data)?;
    let plans = load_plans(data, None)?;
    let opts = IngestOptions {
        as_of: export_as_of(&export),
        ..IngestOptions::default()
    };
    let started = Instant::now();
    archive_received(data, &mut store, &plans, &export)?;
    let reports = ingest_dir(&mut store, &plans, &export, &opts)?;
    // A first bulk load: the demo's case reads and supervision read a case's rows together.
    cluster_after_load(&mut store)?;
    let secs = started.elapsed().as_secs_f64();
    seal(data, &mut store)?;
    println!("\n[3/3] 汇总");
    report::print_reports(&reports, &store)?;
    let std_records: i64 = reports.iter().map(|r| r.standard_records).sum();
    println!(
        "\n接入耗时 {secs:.1} 秒，产出标准记录 {std_records} 条（{:.0} 条/秒）",
        std_records as f64 / secs.max(1e-9)
    );
    let truth = read_truth(&export.join("ground-truth.jsonl")).context("无法读取真值文件")?;
    let ev = evaluate(&truth, &reports);
    report::print_evaluation(&ev);
    println!("\n数据共享与访问控制（Cedar 策略逐字段决定、按权限脱敏，每个决定记入账本）：");
    let sample = access_cmd::sample_case(&store)?;
    let sample = sample.as_str();
    access_cmd::write_demo_principals(data, &store, sample)?;
    let today = chrono::Local::now().date_naive();
    for who in ["police-handler", "prosecutor", "other-judge"] {
        if access_cmd::load_principals(data)?
            .iter()
            .any(|p| p.id() == who)
        {
            println!();
            access_cmd::check(data, &mut store, who, sample, today, false)?;
        }
    }
    println!("\n执法监督（截至导出日期，风险逐项记入账本）：");
    let as_of = opts.as_of.unwrap_or(today);
    let started = Instant::now();
    let run = supervise_cmd::run(&mut store, as_of, true)?;
    let secs = started.elapsed().as_secs_f64();
    supervise_cmd::print_run(&run, &store, 2)?;
    println!("（全量评估与入账耗时 {secs:.1} 秒）");
    println!("\n规则质量（以合成省份植入的违规与临界未违规为真值）：");
    let card = supervise_cmd::measure(&store, &export, as_of)?;
    supervise_cmd::print_scorecard(&card);
    supervise_cmd::demo_lifecycle(&mut store, today)?;
    println!("\n案件关系图谱（人员、案件、机构、电话与住址；标识以盲化键存储，查询按权限过滤并记入账本）：");
    crate::casegraph_cmd::demo(&mut store, &export, &truth, &reports)?;
    let ids: Vec<String> = access_cmd::load_principals(data)?
        .iter()
        .map(|p| p.id().to_string())
        .collect();
    if ids.iter().any(|i| i == "other-judge") && ids.iter().any(|i| i == "owner-leader") {
        println!(
            "\n数据共享申请：未参与本案的法官申请，数据所有机构领导审核并授权，授权后再次查阅："
        );
        let id = request_cmd::step(
            data,
            &mut store,
            "other-judge",
            Step::Submit {
                case: sample.to_string(),
                scope: vec!["case".into(), "event".into()],
                purpose: "办案需要：审查关联案件的诉讼进程".into(),
            },
        )?;
        request_cmd::step(
            data,
            &mut store,
            "owner-leader",
            Step::Review {
                id: id.clone(),
                approve: true,
                reason: "用途明确，范围限于案件与流程".into(),
            },
        )?;
        let expires = today + chrono::Duration::days(30);
        request_cmd::step(
            data,
            &mut store,
            "owner-leader",
            Step::Grant {
                id,
                expires,
                scope: Vec::new(),
                purpose: None,
            },
        )?;
        println!();
        access_cmd::check(data, &mut store, "other-judge", sample, today, false)?;
    }
    println!("\n跨部门移送（签名信封、回执、发件箱/收件箱）：本案从提请批准逮捕到入监：");
    let transfers_ok = transfer_cmd::demo(data, &mut store, sample)?;
    seal(data, &mut store)?;
    let log = open_log(data)?;
    let check = verify_all(data, &store, log.verifier())?;
    println!(
        "\n审计账本：{} 条，{} 个已签名检查点，核对库中记录 {} 条：{}",
        check.entries,
        check.checkpoints,
        check.rows_checked,
        if check.intact() {
            "完好"
        } else {
            "发现问题！"
        }
    );
    println!("  账本公钥 {}", log.verifier().to_vkey());
    println!("\n案件统计（社会公众身份：经汇总读取路径，小于 5 的格子不予公布）：");
    crate::stats_cmd::stats(
        data,
        crate::stats_cmd::StatsArgs {
            by: "city".into(),
            principal: "public".into(),
            json: false,
        },
    )?;
    println!("\n类案检索索引（CJRC 裁判文书与 CAIL2018 案情）：");
    crate::insight_cmd::demo_index(data)?;
    println!(
        "\n下一步：xiezhi --data-dir {} quarantine list   查看隔离记录",
        data.display()
    );
    println!(
        "        xiezhi --data-dir {} ledger verify     校验审计账本与电子卷宗",
        data.display()
    );
    println!(
        "        xiezhi --data-dir {} quality           查看数据质量",
        data.display()
    );
    Ok(
        if reconciles(&reports) && ev.mismatches.is_empty() && check.intact() && transfers_ok {
            0
        } else {
            1
        },
    )
}

fn reconciles(reports: &[FileReport]) -> bool {
    reports
        .iter()
        .all(|r| r.counts.records_read == r.counts.accepted + r.counts.quarantined)
}

fn ingest(
    data: &Path,
    path: &Path,
    source: Option<&str>,
    mappings: Option<&Path>,
    as_of: Option<&str>,
    truth: Option<&Path>,
    cluster: bool,
) -> Result<i32> {
    let as_of = as_of
        .map(|s| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .with_context(|| format!("--as-of `{s}` 应为 YYYY-MM-DD"))
        })
        .transpose()?;
    let plans = load_plans(data, mappings)?;
    let mut store = open_store(data)?;
    let reports = match source {
        None => {
            if !path.is_dir() {
                bail!("`{}` 不是目录；接入单个文件请用 --source 指明来源 (not a directory: name the source of a single file with --source)", path.display());
            }
            let opts = IngestOptions {
                as_of: as_of.or_else(|| export_as_of(path)),
                ..IngestOptions::default()
            };
            archive_received(data, &mut store, &plans, path)?;
            ingest_dir(&mut store, &plans, path, &opts)?
        }
        Some(name) => {
            let plan = plans.iter().find(|p| p.source == name).with_context(|| {
                format!(
                    "没有来源 `{name}` 的映射；可用：{}",
                    plans
                        .iter()
                        .map(|p| p.source.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            let opts = IngestOptions {
                as_of,
                ..IngestOptions::default()
            };
            let mut ingestor = Ingestor::new(&mut store)?;
            let pb = bar(0, name);
            let display = path.display().to_string();
            let r = ingestor.ingest_file(plan, path, &display, &opts, &mut |d, t| {
                pb.set_length(t as u64);
                pb.set_position(d as u64);
            })?;
            pb.finish_and_clear();
            vec![r]
        }
    };
    seal(data, &mut store)?;
    report::print_reports(&reports, &store)?;
    if cluster {
        cluster_after_load(&mut store)?;
    }
    if let Some(t) = truth {
        let ev: Evaluation = evaluate(&read_truth(t)?, &reports);
        report::print_evaluation(&ev);
    }
    Ok(if reconciles(&reports) { 0 } else { 1 })
}

fn quarantine(data: &Path, action: QuarantineAction) -> Result<i32> {
    let mut store = open_store(data)?;
    match action {
        QuarantineAction::List { all, limit } => {
            let entries = store.quarantine_list(if all { None } else { Some("open") }, limit)?;
            report::print_quarantine_list(&entries);
            println!("\n按原因（未处理）：");
            for (rule, n) in store.quarantine_by_rule()? {
                println!("  {rule:<34} {n:>7}");
            }
            Ok(0)
        }
        QuarantineAction::Show { id } => match store.quarantine_get(id)? {
            Some(e) => {
                report::print_quarantine_entry(&e);
                Ok(0)
            }
            None => bail!("隔离记录 {id} 不存在 (no quarantine entry {id})"),
        },
        QuarantineAction::Retry {
            id,
            edits,
            all,
            mappings,
        } => {
            let plans = load_plans(data, mappings.as_deref())?;
            let entries = match (id, all) {
                (Some(id), false) => vec![store
                    .quarantine_get(id)?
                    .with_context(|| format!("隔离记录 {id} 不存在"))?],
                (None, true) => store.quarantine_list(Some("open"), usize::MAX)?,
                _ => bail!("请给出一个记录编号，或使用 --all (give one entry id, or --all)"),
            };
            let mut ingestor = Ingestor::new(&mut store)?;
            let (mut ok, mut still) = (0, 0);
            for e in &entries {
                let plan = plans
                    .iter()
                    .find(|p| p.source == e.source)
                    .with_context(|| format!("没有来源 `{}` 的映射", e.source))?;
                match ingestor.retry(plan, e, &edits)? {
                    Ok(run) => {
                        ok += 1;
                        if id.is_some() {
                            println!("隔离记录 {} 已重新接入（运行 {run}）", e.id);
                        }
                    }
                    Err(issues) => {
                        still += 1;
                        if id.is_some() {
                            println!("隔离记录 {} 仍未通过校验：", e.id);
                            for i in issues.iter().filter(|i| i.is_error()) {
                                println!("  - {i}");
                            }
                        }
                    }
                }
            }
            if all {
                println!("重新接入 {ok} 条，仍隔离 {still} 条");
            }
            seal(data, &mut store)?;
            Ok(if still == 0 { 0 } else { 1 })
        }
    }
}

fn bench_exchange(transfers: usize, batch: usize) -> Result<i32> {
    let dir = tempfile::tempdir()?;
    let start = chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .context("start time")?;
    let r =
        xiezhi_exchange::bench::run(&dir.path().join("bench.db"), transfers, batch.max(1), start)?;
    println!(
        "bench exchange: transfers={} batch={batch} delivered={} ledger entries={}",
        r.transfers, r.delivered, r.ledger_entries
    );
    println!(
        "  sign+outbox {:.2} s, due {:.2} s, verify+apply+receipts {:.2} s, record receipts {:.2} s",
        r.send.as_secs_f64(),
        r.due.as_secs_f64(),
        r.receive.as_secs_f64(),
        r.record.as_secs_f64()
    );
    println!(
        "  total {:.2} s → {:.0} transfers/s end to end",
        r.total.as_secs_f64(),
        r.per_second()
    );
    Ok(if r.delivered == r.transfers { 0 } else { 1 })
}

fn bench_ingest(cases: usize, seed: u64) -> Result<i32> {
    let dir = tempfile::tempdir()?;
    let export = dir.path().join("export");
    let cfg = SynthConfig {
        seed,
        cases,
        ..SynthConfig::default()
    };
    let t0 = Instant::now();
    let summary = xiezhi_synth::generate(&cfg, &export)?;
    let synth_secs = t0.elapsed().as_secs_f64();
    let mut store: AnyStore = Box::new(xiezhi_store::SqliteStore::open(
        &dir.path().join("bench.db"),
    )?);
    let plans = shipped_plans()?;
    let opts = IngestOptions {
        as_of: export_as_of(&export),
        ..IngestOptions::default()
    };
    let t1 = Instant::now();
    let reports = ingest_export(&mut store, &plans, &export, &opts, &mut |_, _, _| {})?;
    let ingest_secs = t1.elapsed().as_secs_f64();
    let read: i64 = reports.iter().map(|r| r.counts.records_read).sum();
    let accepted: i64 = reports.iter().map(|r| r.counts.accepted).sum();
    let quarantined: i64 = reports.iter().map(|r| r.counts.quarantined).sum();
    let std_records: i64 = reports.iter().map(|r| r.standard_records).sum();
    let db_bytes = std::fs::metadata(dir.path().join("bench.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!("bench ingest: cases={cases} seed={seed}");
    println!(
        "  synth:   {synth_secs:.2} s ({} source records)",
        summary.files.iter().map(|f| f.records).sum::<usize>()
    );
    println!("  ingest:  {ingest_secs:.2} s, source records read={read} accepted={accepted} quarantined={quarantined}");
    println!(
        "  standard records: {std_records} → {:.0} standard records/s, {:.0} source records/s",
        std_records as f64 / ingest_secs,
        read as f64 / ingest_secs
    );
    println!("  sqlite file: {:.1} MiB", db_bytes as f64 / 1048576.0);
    Ok(0)
}
