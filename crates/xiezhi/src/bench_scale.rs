//! `xiezhi bench scale`: the cost curve. One province per size (fixed seed), and per backend one
//! child process of this binary (`bench scale-cell`) that ingests it into a fresh store and
//! measures, so each (size, backend) cell has its own peak RSS. The store is deleted (SQLite
//! file) or dropped (PostgreSQL schema) after each cell.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use xiezhi_access::reader::{prepare_case_read, Decider, ViewCache};
use xiezhi_access::RequestContext;
use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_store::{open, Entity, Location, Store};
use xiezhi_synth::SynthConfig;

use crate::access_cmd;
use crate::commands::export_as_of;

/// The seed of every benchmark province.
const SEED: u64 = 42;

/// What one (size, backend) cell measured.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub cases: usize,
    pub backend: String,
    pub source_records: i64,
    pub standard_records: i64,
    pub ingest_secs: f64,
    pub db_bytes: u64,
    pub reads: usize,
    pub read_p50_ms: f64,
    pub read_p99_ms: f64,
    pub supervise_secs: f64,
    pub stats_secs: f64,
    pub stats_groups: usize,
    pub peak_rss_kib: u64,
    /// The case graph built on the same store, and its link queries as a police case handler
    /// (`xiezhi_casegraph::bench`): k-hop k = 1, 2, 3 and a path that exists, p50 and p99 each.
    pub graph_build_secs: f64,
    pub graph_query_ms: [f64; 8],
}

impl Cell {
    fn std_per_sec(&self) -> f64 {
        self.standard_records as f64 / self.ingest_secs.max(1e-9)
    }
    fn src_per_sec(&self) -> f64 {
        self.source_records as f64 / self.ingest_secs.max(1e-9)
    }
    fn bytes_per_case(&self) -> f64 {
        self.db_bytes as f64 / self.cases.max(1) as f64
    }

    /// One TSV line; [`Cell::from_tsv`] reads it back (the child's answer to the parent).
    fn to_tsv(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{:.3}\t{}\t{}\t{:.3}\t{:.3}\t{:.3}\t{:.3}\t{}\t{}\t{:.3}\t{}",
            self.cases,
            self.backend,
            self.source_records,
            self.standard_records,
            self.ingest_secs,
            self.db_bytes,
            self.reads,
            self.read_p50_ms,
            self.read_p99_ms,
            self.supervise_secs,
            self.stats_secs,
            self.stats_groups,
            self.peak_rss_kib,
            self.graph_build_secs,
            self.graph_query_ms
                .iter()
                .map(|m| format!("{m:.3}"))
                .collect::<Vec<_>>()
                .join("\t")
        )
    }

    fn from_tsv(line: &str) -> Result<Cell> {
        let f: Vec<&str> = line.trim().split('\t').collect();
        if f.len() != 22 {
            bail!("bench cell answered `{line}` (expected 22 tab-separated fields)");
        }
        let mut graph_query_ms = [0.0; 8];
        for (i, v) in graph_query_ms.iter_mut().enumerate() {
            *v = f[14 + i].parse()?;
        }
        Ok(Cell {
            cases: f[0].parse()?,
            backend: f[1].to_string(),
            source_records: f[2].parse()?,
            standard_records: f[3].parse()?,
            ingest_secs: f[4].parse()?,
            db_bytes: f[5].parse()?,
            reads: f[6].parse()?,
            read_p50_ms: f[7].parse()?,
            read_p99_ms: f[8].parse()?,
            supervise_secs: f[9].parse()?,
            stats_secs: f[10].parse()?,
            stats_groups: f[11].parse()?,
            peak_rss_kib: f[12].parse()?,
            graph_build_secs: f[13].parse()?,
            graph_query_ms,
        })
    }
}

const TSV_HEADER: &str = "cases\tbackend\tsource_records\tstandard_records\tingest_s\tdb_bytes\treads\tread_p50_ms\tread_p99_ms\tsupervise_s\tstats_s\tstats_groups\tpeak_rss_kib\tgraph_build_s\tk1_p50_ms\tk1_p99_ms\tk2_p50_ms\tk2_p99_ms\tk3_p50_ms\tk3_p99_ms\tpath_p50_ms\tpath_p99_ms";

/// Peak resident set size of this process (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// A fresh, empty PostgreSQL schema for one cell, dropped with this value.
struct PgSchema {
    url: String,
    name: String,
}

impl PgSchema {
    fn new(url: &str) -> Result<PgSchema> {
        let name = format!("bench_{}", std::process::id());
        let mut c = postgres::Client::connect(url, postgres::NoTls)
            .with_context(|| format!("无法连接 PostgreSQL `{}`", redact(url)))?;
        c.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        ))?;
        Ok(PgSchema {
            url: url.to_string(),
            name,
        })
    }

    fn location(&self) -> Location {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        Location::Postgres(format!(
            "{}{sep}options=-csearch_path%3D{}",
            self.url, self.name
        ))
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

fn redact(url: &str) -> String {
    Location::Postgres(url.to_string()).display()
}

/// A small deterministic generator for picking cases (splitmix64).
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Every case uid, by paging through the store.
fn all_cases(store: &dyn Store) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    loop {
        let after = out.last().cloned().unwrap_or_default();
        let page = store.uids(Entity::Case, &after, 5_000)?;
        if page.is_empty() {
            return Ok(out);
        }
        out.extend(page);
    }
}

/// One cell, in this process: ingest the export into a fresh store and measure.
pub fn cell(
    export: &Path,
    backend: &str,
    pg_url: Option<&str>,
    reads: usize,
    work: &Path,
    field_encryption: bool,
    drop_export: bool,
) -> Result<i32> {
    let schema;
    let at = match backend {
        "sqlite" => Location::Sqlite(work.join("bench.db")),
        "postgres" => {
            let url = pg_url.context("postgres 基准需要 --pg-url 或 DATABASE_URL")?;
            schema = PgSchema::new(url)?;
            schema.location()
        }
        other => bail!("未知的后端 `{other}`（可用：sqlite, postgres）"),
    };
    open::reset(&at)?;
    let result = measure(
        export,
        &at,
        backend,
        reads,
        work,
        field_encryption,
        drop_export,
    );
    if let Location::Sqlite(_) = at {
        open::reset(&at)?;
    }
    let c = result?;
    println!("{}", c.to_tsv());
    Ok(0)
}

/// Start persons of the case-graph queries per cell.
const GRAPH_QUERIES: usize = 200;

/// Who reads the cases in a cell, and with what: as the server reads.
struct Reader<'a> {
    views: &'a ViewCache,
    authz: &'a std::sync::Arc<xiezhi_access::Authorizer>,
    salt: &'a xiezhi_access::Salt,
    who: &'a xiezhi_access::Principal,
    ctx: &'a RequestContext,
}

/// Times of a run of case reads (sorted, ms): whole, gathering and deciding, the ledger's
/// commit; and the records seen.
struct ReadTimes {
    total: Vec<f64>,
    gather: Vec<f64>,
    log: Vec<f64>,
    rows: usize,
}

impl ReadTimes {
    fn print(&self, what: &str) {
        eprintln!(
            "    {what}：p50 {:.2} ms，p99 {:.2} ms（其中读取与裁决 p50 {:.2} / p99 {:.2} ms，记入账本 p50 {:.2} / p99 {:.2} ms）",
            percentile(&self.total, 0.50),
            percentile(&self.total, 0.99),
            percentile(&self.gather, 0.50),
            percentile(&self.gather, 0.99),
            percentile(&self.log, 0.50),
            percentile(&self.log, 0.99),
        );
    }
}

impl Reader<'_> {
    /// `reads` random cases, each read as the server reads it: compiled views from the
    /// cache, the read logged before it is used.
    fn read(
        &self,
        store: &mut dyn Store,
        cases: &[String],
        reads: usize,
        rng: &mut u64,
    ) -> Result<ReadTimes> {
        let mut times = ReadTimes {
            total: Vec::with_capacity(reads),
            gather: Vec::with_capacity(reads),
            log: Vec::with_capacity(reads),
            rows: 0,
        };
        for _ in 0..reads {
            let case = &cases[(next(rng) % cases.len() as u64) as usize];
            let t = Instant::now();
            let pending = prepare_case_read(
                &*store,
                &Decider::Cached(self.views, self.authz),
                self.salt,
                self.who,
                case,
                self.ctx,
            )?;
            let gathered = t.elapsed();
            store.append_events(std::slice::from_ref(pending.entry()))?;
            let view = pending.logged();
            let total = t.elapsed();
            times.total.push(total.as_secs_f64() * 1e3);
            times.gather.push(gathered.as_secs_f64() * 1e3);
            times.log.push((total - gathered).as_secs_f64() * 1e3);
            times.rows += view.sections.iter().map(|s| s.records.len()).sum::<usize>();
        }
        for t in [&mut times.total, &mut times.gather, &mut times.log] {
            t.sort_by(f64::total_cmp);
        }
        Ok(times)
    }
}

/// Bytes of the files under `dir`, recursively.
fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// Drops an SQLite store's file and write-ahead log from the kernel's page cache (written
/// pages are flushed first: only clean pages can be dropped).
fn evict_from_page_cache(db: &Path) -> Result<()> {
    use std::os::fd::AsRawFd;
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    for path in [db.to_path_buf(), PathBuf::from(wal)] {
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        file.sync_all()?;
        // SAFETY: a plain advisory call on a descriptor this function owns while it runs.
        let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        if rc != 0 {
            bail!("posix_fadvise({}) failed: {rc}", path.display());
        }
    }
    Ok(())
}

/// With `field_encryption`, the key files live in `work` as in a data directory. With
/// `drop_export`, the export is deleted once ingested, before the store is vacuumed and
/// clustered.
fn measure(
    export: &Path,
    at: &Location,
    backend: &str,
    reads: usize,
    work: &Path,
    field_encryption: bool,
    drop_export: bool,
) -> Result<Cell> {
    let mut store = open::open(at, field_encryption.then_some(work))?;
    let plans = shipped_plans()?;
    let as_of = export_as_of(export);
    let opts = IngestOptions {
        as_of,
        ..IngestOptions::default()
    };
    let t = Instant::now();
    let reports = ingest_export(&mut store, &plans, export, &opts, &mut |_, _, _| {})?;
    // A first load is done once the appended tables are vacuumed and a case's rows lie
    // together: both count in the ingest.
    let loaded_secs = t.elapsed().as_secs_f64();
    if drop_export {
        let freed = dir_bytes(export)?;
        std::fs::remove_dir_all(export)
            .with_context(|| format!("无法删除导出目录 `{}`", export.display()))?;
        eprintln!("    已删除接入完的导出目录（{freed} 字节），为库腾出磁盘");
    }
    let vacuumed = store.vacuum_after_load()?;
    let vacuum_secs = t.elapsed().as_secs_f64() - loaded_secs;
    let clustered = store.cluster_by_case()?;
    let ingest_secs = t.elapsed().as_secs_f64();
    if !clustered.is_empty() || !vacuumed.is_empty() {
        eprintln!(
            "    接入 {loaded_secs:.1} s，清理 {vacuum_secs:.1} s（{} 张表），按案件重排 {:.1} s（{} 张表）",
            vacuumed.len(),
            ingest_secs - loaded_secs - vacuum_secs,
            clustered.len()
        );
    }
    let db_bytes = open::size_bytes(at)?;
    // Each figure is printed as soon as it is measured, so a cell that fails late (a full
    // disk in the graph build, say) still leaves what it measured before.
    eprintln!(
        "    接入 {ingest_secs:.1} s：{} 条来源记录，{} 条标准记录；库 {db_bytes} 字节",
        reports.iter().map(|r| r.counts.records_read).sum::<i64>(),
        reports.iter().map(|r| r.standard_records).sum::<i64>(),
    );
    let cases = all_cases(&*store)?;
    if cases.is_empty() {
        bail!("接入后没有案件 (no case after ingest)");
    }

    // Case-360 reads as the province's supervisor, through the access layer like the server.
    access_cmd::write_demo_principals(work, &store, &cases[0])?;
    let principals = access_cmd::load_principals(work)?;
    let who = principals
        .iter()
        .find(|p| p.id() == "supervisor")
        .or_else(|| principals.first())
        .context("no principal to read as")?
        .clone();
    let authz = std::sync::Arc::new(crate::request_cmd::authorizer(work, &mut store)?);
    let views = ViewCache::default();
    let salt = access_cmd::salt(work)?;
    let today = chrono::Local::now().date_naive();
    let ctx = RequestContext::on(today);
    let who_reads = Reader {
        views: &views,
        authz: &authz,
        salt: &salt,
        who: &who,
        ctx: &ctx,
    };
    let mut rng = SEED;
    let warm = who_reads.read(&mut *store, &cases, reads, &mut rng)?;
    warm.print(&format!("案件全景读取 {reads} 次"));
    let (times, seen_rows) = (warm.total, warm.rows);
    if reads > 0 && seen_rows == 0 {
        bail!(
            "读取 {reads} 件案件，未见任何记录：读取主体 `{}` 无权查阅",
            who.id()
        );
    }
    // The worst case: the same reads of other cases with nothing of the file in memory (the
    // kernel's page cache emptied of it, the store opened anew). Told on stderr only.
    if let Location::Sqlite(path) = at {
        drop(store);
        evict_from_page_cache(path)?;
        store = open::open(at, field_encryption.then_some(work))?;
        let cold = who_reads.read(&mut *store, &cases, reads, &mut rng)?;
        cold.print(&format!("冷缓存案件全景读取 {reads} 次"));
    }

    let t = Instant::now();
    crate::supervise_cmd::run(&mut store, as_of.unwrap_or(today), true)?;
    let supervise_secs = t.elapsed().as_secs_f64();
    eprintln!("    全量监督 {supervise_secs:.1} s");

    // The statistics `xiezhi stats` and `GET /api/v1/stats/cases` compute: region × charge ×
    // stage through the aggregate read path, as the supervisor.
    let t = Instant::now();
    let by = xiezhi_server::insight_api::parse_dims("region,charge,stage")
        .map_err(anyhow::Error::msg)?;
    let st = xiezhi_server::insight_api::case_statistics(&mut store, &authz, &who, &by, &ctx)?;
    let stats_secs = t.elapsed().as_secs_f64();
    eprintln!("    统计 {stats_secs:.2} s");
    let counted = st.access.cases_read;
    if counted != cases.len() as u64 {
        bail!("统计 {counted} 件，与案件数 {} 不符", cases.len());
    }
    let stats_groups = st.report.cells.len();

    // The case graph on the same store: its build, then its link queries through the access
    // gate, as `xiezhi graph cases` and the link chart run them.
    let t = Instant::now();
    xiezhi_casegraph::build(&mut *store, xiezhi_casegraph::CASE_GRAPH, &mut |_| {})?;
    let graph_build_secs = t.elapsed().as_secs_f64();
    eprintln!("    案件关系图构建 {graph_build_secs:.1} s");
    let g = xiezhi_casegraph::bench::time_queries(
        &mut *store,
        xiezhi_casegraph::CASE_GRAPH,
        GRAPH_QUERIES,
    )?;
    let [k1, k2, k3] = &g.khop;
    let graph_query_ms = [
        k1.p50_ms,
        k1.p99_ms,
        k2.p50_ms,
        k2.p99_ms,
        k3.p50_ms,
        k3.p99_ms,
        g.path_near.p50_ms,
        g.path_near.p99_ms,
    ];
    let [a, b, c, d, e, f, p, q] = graph_query_ms;
    eprintln!(
        "    图查询 p50–p99 ms：k=1 {a:.1}–{b:.1}，k=2 {c:.1}–{d:.1}，k=3 {e:.1}–{f:.1}（{} 次中 {} 次用尽案件判定上限），路径 {p:.1}–{q:.1}",
        k3.queries, k3.budget_spent
    );
    drop(store);
    Ok(Cell {
        cases: cases.len(),
        backend: backend.to_string(),
        source_records: reports.iter().map(|r| r.counts.records_read).sum(),
        standard_records: reports.iter().map(|r| r.standard_records).sum(),
        ingest_secs,
        db_bytes,
        reads,
        read_p50_ms: percentile(&times, 0.50),
        read_p99_ms: percentile(&times, 0.99),
        supervise_secs,
        stats_secs,
        stats_groups,
        peak_rss_kib: peak_rss_kib(),
        graph_build_secs,
        graph_query_ms,
    })
}

/// The whole curve: per size a province, per backend a child process; table, TSV and SVG.
/// `include` names `scale.tsv` files of earlier runs whose cells join this run's table and
/// plot: a 10⁶ cell needs the machine to itself, so a curve is assembled from several runs.
/// A cell measured now replaces an included one of the same size and backend.
pub fn scale(
    sizes: &[usize],
    backends: &[String],
    pg_url: Option<&str>,
    out: &Path,
    reads: usize,
    field_encryption: bool,
    include: &[PathBuf],
) -> Result<i32> {
    if !sizes.is_empty() && backends.iter().any(|b| b == "postgres") && pg_url.is_none() {
        bail!("后端 postgres 需要 --pg-url（或环境变量 DATABASE_URL）");
    }
    std::fs::create_dir_all(out).with_context(|| format!("无法创建 `{}`", out.display()))?;
    let exe = std::env::current_exe()?;
    let mut included: Vec<Cell> = Vec::new();
    for path in include {
        included.extend(read_cells(path)?);
    }
    let mut cells: Vec<Cell> = Vec::new();
    for &size in sizes {
        let work = out.join(format!("work-{size}"));
        let export = work.join("export");
        if work.exists() {
            std::fs::remove_dir_all(&work)?;
        }
        eprintln!("生成合成省份 {size} 件案件（种子 {SEED}）…");
        let cfg = SynthConfig {
            seed: SEED,
            cases: size,
            ..SynthConfig::default()
        };
        xiezhi_synth::generate(&cfg, &export)?;
        for (i, backend) in backends.iter().enumerate() {
            eprintln!("  {backend}：接入、读取、监督、统计…");
            let mut cmd = Command::new(&exe);
            cmd.args(["bench", "scale-cell", "--backend", backend, "--reads"])
                .arg(reads.to_string())
                .arg("--export")
                .arg(&export)
                .arg("--work")
                .arg(&work);
            if let Some(u) = pg_url {
                cmd.arg("--pg-url").arg(u);
            }
            if !field_encryption {
                cmd.arg("--no-field-encryption");
            }
            if i + 1 == backends.len() {
                cmd.arg("--drop-export");
            }
            // The child's progress and partial figures go straight to this stderr.
            let o = cmd
                .stderr(std::process::Stdio::inherit())
                .output()
                .context("无法启动基准子进程")?;
            if !o.status.success() {
                bail!("{size} 件 / {backend} 失败（原因见上）");
            }
            let text = String::from_utf8(o.stdout)?;
            let line = text.lines().last().context("bench cell printed nothing")?;
            let c = Cell::from_tsv(line)?;
            eprintln!("    {}", c.to_tsv());
            cells.push(c);
        }
        std::fs::remove_dir_all(&work)?;
    }
    included.retain(|i| {
        !cells
            .iter()
            .any(|c| c.cases == i.cases && c.backend == i.backend)
    });
    cells.extend(included);
    // Backends in the order asked, then any only an included file has; sizes ascending.
    let mut backends = backends.to_vec();
    for c in &cells {
        if !backends.contains(&c.backend) {
            backends.push(c.backend.clone());
        }
    }
    let rank = |c: &Cell| backends.iter().position(|b| *b == c.backend);
    cells.sort_by_key(|c| (rank(c), c.cases));
    let backends = &backends;
    let table = markdown(&cells);
    let notes = linearity(&cells, backends);
    println!("{table}\n{notes}");
    std::fs::write(out.join("scale.md"), format!("{table}\n{notes}"))?;
    let mut tsv = String::from(TSV_HEADER);
    tsv.push('\n');
    for c in &cells {
        tsv.push_str(&c.to_tsv());
        tsv.push('\n');
    }
    std::fs::write(out.join("scale.tsv"), tsv)?;
    std::fs::write(out.join("scale.svg"), svg(&cells, backends))?;
    println!(
        "已写入 {}、scale.tsv、scale.svg",
        out.join("scale.md").display()
    );
    Ok(0)
}

/// `p50–p99` of a query, in milliseconds.
fn range(p50: f64, p99: f64) -> String {
    format!("{p50:.2}–{p99:.2}")
}

fn markdown(cells: &[Cell]) -> String {
    let mut s = String::from(
        "| cases | backend | ingest std rec/s | ingest src rec/s | DB bytes/case | case-360 p50 ms | case-360 p99 ms | supervision full s | statistics s | peak RSS MiB | graph build s | k-hop k=1 p50–p99 ms | k=2 | k=3 | path p50–p99 ms |\n\
         |---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for c in cells {
        let _ = writeln!(
            s,
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.3} | {:.0} | {:.1} | {} | {} | {} | {} |",
            c.cases,
            c.backend,
            c.std_per_sec(),
            c.src_per_sec(),
            c.bytes_per_case(),
            c.read_p50_ms,
            c.read_p99_ms,
            c.supervise_secs,
            c.stats_secs,
            c.peak_rss_kib as f64 / 1024.0,
            c.graph_build_secs,
            range(c.graph_query_ms[0], c.graph_query_ms[1]),
            range(c.graph_query_ms[2], c.graph_query_ms[3]),
            range(c.graph_query_ms[4], c.graph_query_ms[5]),
            range(c.graph_query_ms[6], c.graph_query_ms[7]),
        );
    }
    s
}

/// The metrics of the curve: name, value of a cell, and whether the value is per unit (its
/// linear growth is "stays flat") or a total (linear growth is "grows with the size").
type Metric = (&'static str, fn(&Cell) -> f64, bool);

const METRICS: [Metric; 10] = [
    ("ingest std rec/s", Cell::std_per_sec, true),
    ("DB bytes/case", Cell::bytes_per_case, true),
    ("case-360 p50 ms", |c| c.read_p50_ms, true),
    ("case-360 p99 ms", |c| c.read_p99_ms, true),
    ("supervision full s", |c| c.supervise_secs, false),
    ("statistics s", |c| c.stats_secs, false),
    ("peak RSS MiB", |c| c.peak_rss_kib as f64 / 1024.0, false),
    ("case graph build s", |c| c.graph_build_secs, false),
    ("k-hop k=3 p99 ms", |c| c.graph_query_ms[5], true),
    ("path p99 ms", |c| c.graph_query_ms[7], true),
];

/// Per backend and metric, between consecutive sizes: is the growth linear in the number of
/// cases (a total within ±50 % of proportional, a per-unit figure within ±50 % of flat)?
fn linearity(cells: &[Cell], backends: &[String]) -> String {
    let mut s = String::from("Growth between sizes (linear = total ∝ cases within ±50 %, per-unit figures flat within ±50 %):\n");
    for b in backends {
        let row: Vec<&Cell> = cells.iter().filter(|c| &c.backend == b).collect();
        for (name, f, per_unit) in METRICS {
            let mut parts = Vec::new();
            for w in row.windows(2) {
                let size_ratio = w[1].cases as f64 / w[0].cases.max(1) as f64;
                let ratio = f(w[1]) / f(w[0]).max(1e-12);
                let rel = if per_unit { ratio } else { ratio / size_ratio };
                let verdict = if (0.5..=1.5).contains(&rel) {
                    "linear"
                } else if rel > 1.5 {
                    "super-linear"
                } else {
                    "sub-linear"
                };
                parts.push(format!(
                    "{}→{}: ×{ratio:.2} for ×{size_ratio:.1} cases, {verdict}",
                    w[0].cases, w[1].cases
                ));
            }
            if !parts.is_empty() {
                let _ = writeln!(s, "- {b} · {name}: {}", parts.join("; "));
            }
        }
    }
    s
}

/// A small hand-written SVG: one panel per metric, size on a log x axis, a line per backend.
fn svg(cells: &[Cell], backends: &[String]) -> String {
    const W: f64 = 300.0;
    const H: f64 = 200.0;
    const PAD: f64 = 40.0;
    const COLS: usize = 4;
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
    let rows = METRICS.len().div_ceil(COLS);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        W * COLS as f64,
        H * rows as f64 + 20.0
    );
    for (bi, b) in backends.iter().enumerate() {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" fill=\"{}\">{b}</text>",
            10.0 + 90.0 * bi as f64,
            H * rows as f64 + 14.0,
            colors[bi % colors.len()]
        );
    }
    let (xmin, xmax) = cells.iter().fold((f64::MAX, f64::MIN), |(lo, hi), c| {
        let x = (c.cases.max(1) as f64).log10();
        (lo.min(x), hi.max(x))
    });
    let xspan = (xmax - xmin).max(1e-9);
    for (mi, (name, f, _)) in METRICS.iter().enumerate() {
        let ox = W * (mi % COLS) as f64;
        let oy = H * (mi / COLS) as f64;
        let ymax = cells.iter().map(f).fold(0.0_f64, f64::max).max(1e-12);
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\">{name} (max {ymax:.3})</text>\n<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>",
            ox + PAD,
            oy + 15.0,
            ox + PAD,
            oy + 22.0,
            W - PAD - 10.0,
            H - PAD - 22.0
        );
        let px = |c: &Cell| {
            ox + PAD + ((c.cases.max(1) as f64).log10() - xmin) / xspan * (W - PAD - 20.0) + 5.0
        };
        let py = |v: f64| oy + H - PAD - v / ymax * (H - PAD - 30.0);
        for c in cells.iter().filter(|c| c.backend == backends[0]) {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">10^{:.0}</text>",
                px(c),
                oy + H - PAD + 14.0,
                (c.cases.max(1) as f64).log10()
            );
        }
        for (bi, b) in backends.iter().enumerate() {
            let pts: Vec<String> = cells
                .iter()
                .filter(|c| &c.backend == b)
                .map(|c| format!("{:.1},{:.1}", px(c), py(f(c))))
                .collect();
            let color = colors[bi % colors.len()];
            let _ = writeln!(
                s,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>",
                pts.join(" ")
            );
            for p in &pts {
                let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
                let _ = writeln!(
                    s,
                    "<circle cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"{color}\"/>"
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

/// Parses `10000,100000`.
/// The cells of a `scale.tsv` written by an earlier run (its header line is skipped).
fn read_cells(path: &Path) -> Result<Vec<Cell>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("无法读取 `{}`", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && *l != TSV_HEADER)
        .map(|(i, l)| {
            Cell::from_tsv(l)
                .with_context(|| format!("`{}` 第{}行不是基准结果行", path.display(), i + 1))
        })
        .collect()
}

/// Comma-separated case counts; empty when a run only assembles `--include`d cells.
pub fn parse_sizes(s: &str) -> Result<Vec<usize>> {
    s.split(',')
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            t.trim()
                .replace('_', "")
                .parse::<usize>()
                .with_context(|| format!("--sizes 中的 `{t}` 不是案件数"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(cases: usize, backend: &str, supervise_secs: f64, p99: f64) -> Cell {
        Cell {
            cases,
            backend: backend.into(),
            source_records: cases as i64 * 5,
            standard_records: cases as i64 * 30,
            ingest_secs: cases as f64 / 1000.0,
            db_bytes: cases as u64 * 20_000,
            reads: 100,
            read_p50_ms: p99 / 2.0,
            read_p99_ms: p99,
            supervise_secs,
            stats_secs: cases as f64 / 1e5,
            stats_groups: 7,
            peak_rss_kib: 65_536,
            graph_build_secs: cases as f64 / 1e3,
            graph_query_ms: [1.0, 2.0, 1.5, 3.0, 4.0, 9.5, 2.0, 5.25],
        }
    }

    #[test]
    fn a_cell_survives_the_trip_through_the_child_process() {
        let c = cell(10_000, "postgres", 1.25, 3.5);
        let back = Cell::from_tsv(&c.to_tsv()).unwrap();
        assert_eq!(back.to_tsv(), c.to_tsv());
        assert_eq!(back.backend, "postgres");
        assert!(Cell::from_tsv("1\tsqlite").is_err());
        assert_eq!(
            TSV_HEADER.split('\t').count(),
            c.to_tsv().split('\t').count()
        );
    }

    #[test]
    fn linearity_names_what_does_not_scale() {
        // Supervision ×10 for ×10 cases is linear; ×100 is not. p99 flat is linear.
        let cells = vec![
            cell(1_000, "sqlite", 1.0, 2.0),
            cell(10_000, "sqlite", 10.0, 2.2),
            cell(1_000, "postgres", 1.0, 2.0),
            cell(10_000, "postgres", 100.0, 9.0),
        ];
        let text = linearity(&cells, &["sqlite".into(), "postgres".into()]);
        let line = |b: &str, m: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("- {b} · {m}:")))
                .unwrap_or_else(|| panic!("no line for {b} {m} in\n{text}"))
                .to_string()
        };
        assert!(line("sqlite", "supervision full s").ends_with(", linear"));
        assert!(line("postgres", "supervision full s").ends_with("super-linear"));
        assert!(line("sqlite", "case-360 p99 ms").ends_with(", linear"));
        assert!(line("postgres", "case-360 p99 ms").ends_with("super-linear"));
        assert!(line("sqlite", "peak RSS MiB").ends_with("sub-linear"));
    }

    #[test]
    fn table_and_plot_carry_every_cell() {
        let cells = vec![
            cell(1_000, "sqlite", 1.0, 2.0),
            cell(10_000, "sqlite", 10.0, 2.0),
        ];
        let md = markdown(&cells);
        assert_eq!(md.lines().count(), 2 + cells.len());
        assert!(
            md.contains("| 10000 | sqlite | 30000 | 5000 | 20000 |"),
            "{md}"
        );
        let plot = svg(&cells, &["sqlite".into()]);
        assert_eq!(plot.matches("<polyline").count(), METRICS.len());
        assert_eq!(plot.matches("<circle").count(), METRICS.len() * cells.len());
    }

    #[test]
    fn sizes_parse_or_say_which_is_wrong() {
        assert_eq!(
            parse_sizes("10000, 100_000").unwrap(),
            vec![10_000, 100_000]
        );
        let err = parse_sizes("10000,十万").unwrap_err().to_string();
        assert!(err.contains("十万"), "{err}");
    }

    #[test]
    fn earlier_runs_cells_are_read_back_and_a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scale.tsv");
        let cells = [
            cell(1_000, "sqlite", 1.0, 2.0),
            cell(10_000, "postgres", 9.0, 4.0),
        ];
        let text = format!(
            "{TSV_HEADER}\n{}\n{}\n",
            cells[0].to_tsv(),
            cells[1].to_tsv()
        );
        std::fs::write(&path, &text).unwrap();
        let back = read_cells(&path).unwrap();
        assert_eq!(
            back.iter().map(Cell::to_tsv).collect::<Vec<_>>(),
            cells.iter().map(Cell::to_tsv).collect::<Vec<_>>()
        );
        std::fs::write(&path, format!("{text}1\tsqlite\n")).unwrap();
        let err = format!("{:#}", read_cells(&path).unwrap_err());
        assert!(err.contains("第4行"), "{err}");
        assert!(parse_sizes("").unwrap().is_empty());
    }

    #[test]
    fn percentiles_pick_from_the_sorted_times() {
        let t: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&t, 0.5), 51.0);
        assert_eq!(percentile(&t, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
