//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "xiezhi",
    version,
    about = "獬豸 Xiezhi：政法跨部门数据共享、协同与监督平台"
)]
pub struct Cli {
    /// Data directory: the SQLite store, exports and editable mappings live here.
    #[arg(long, global = true, default_value = "xiezhi-data")]
    pub data_dir: PathBuf,
    /// Store location: a `postgres://` URL selects PostgreSQL; absent, the SQLite file
    /// `xiezhi.db` in the data directory. Keys, policies and files stay in the data directory.
    #[arg(long, global = true, env = "XIEZHI_DB")]
    pub db: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// 演示：生成合成省份、接入全部导出、打印汇总 (synthetic province → ingest → summary)
    Demo {
        #[arg(long, default_value_t = 10_000)]
        cases: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Keep an existing store instead of starting afresh.
        #[arg(long)]
        keep: bool,
        /// End without serving the web console.
        #[arg(long)]
        no_serve: bool,
        /// Address of the web console.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
    },
    /// 网页控制台与 REST API (serve the web console and /api/v1)
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        #[command(flatten)]
        tls: TlsArgs,
    },
    /// 部门系统：登记签名密钥 (department systems: register request-signing keys)
    System {
        #[command(subcommand)]
        action: SystemAction,
    },
    /// 生成合成省份的各部门导出 (write department exports of a synthetic province)
    Synth {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 10_000)]
        cases: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 0.03)]
        dirty_rate: f64,
    },
    /// 接入一个导出目录或单个文件 (ingest an export directory, or one file with --source)
    Ingest {
        /// Export directory (each mapping's default file under it), or a file with --source.
        path: PathBuf,
        /// Source name of the mapping to use for a single file.
        #[arg(long)]
        source: Option<String>,
        /// Directory of mapping files (default: the data directory's `mappings/`).
        #[arg(long)]
        mappings: Option<PathBuf>,
        /// Export date (YYYY-MM-DD): later dates are invalid; timeliness is measured to it.
        #[arg(long)]
        as_of: Option<String>,
        /// Ground truth to evaluate against (a synthetic export's ground-truth.jsonl).
        #[arg(long)]
        truth: Option<PathBuf>,
        /// 接入后按案件重排案件数据（首次批量接入之后用；PostgreSQL 上逐表加锁重写）
        /// (after the ingest, rewrite the case-owned tables so a case's rows lie together)
        #[arg(long)]
        cluster: bool,
    },
    /// 检查映射文件 (check mapping files and print every problem)
    Mappings {
        /// Directory of mapping files (default: the data directory's `mappings/`).
        dir: Option<PathBuf>,
    },
    /// 各来源数据质量报告 (data-quality report per source)
    Quality,
    /// 隔离区：查看、修正、重新接入 (quarantine: list, show, retry)
    Quarantine {
        #[command(subcommand)]
        action: QuarantineAction,
    },
    /// 审计账本：校验、检查点、包含证明 (audit ledger: verify, checkpoint, proofs)
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
    /// 账号：新建（初始口令与动态口令密钥）、列出、演示动态口令 (accounts of people)
    User {
        #[command(subcommand)]
        action: crate::user_cmd::UserAction,
    },
    /// 字段加密密钥：状态、轮换 (field-encryption keys: status, rotate)
    Keys {
        #[command(subcommand)]
        action: crate::keys_cmd::KeysAction,
    },
    /// 见证方：联署检查点（由其他机关运行）(witness: cosign checkpoints, run by another organ)
    Witness {
        #[command(subcommand)]
        action: crate::witness_cmd::WitnessAction,
    },
    /// 数据共享：按策略查阅案件（脱敏并说明理由）(access: read a case through the policy)
    Access {
        #[command(subcommand)]
        action: AccessAction,
    },
    /// 数据共享申请：申请、审核、授权、使用、反馈、撤销 (data requests)
    Request {
        #[command(subcommand)]
        action: RequestAction,
    },
    /// 执法监督：规则目录与程序风险预警 (supervision: rule catalog and risk worklist)
    Supervise {
        #[command(subcommand)]
        action: SuperviseAction,
    },
    /// 风险处置：预警、核查、整改、销号 (risk worklist lifecycle)
    Risk {
        #[command(subcommand)]
        action: RiskAction,
    },
    /// 电子卷宗：按内容哈希存档文件并登记入账本 (e-dossier: store a file by content, logged)
    Dossier {
        file: PathBuf,
        /// The case the file belongs to.
        #[arg(long)]
        case: Option<String>,
        /// evidence | document | received_export
        #[arg(long, default_value = "evidence")]
        kind: String,
    },
    /// 训练罪名/法条/刑期预测或实体抽取模型 (train a predictor or an entity tagger)
    Train(crate::insight_cmd::TrainArgs),
    /// 批量预测罪名、法条、刑期：stdin JSON 行 -> stdout (batch prediction, CAIL2018 shape)
    Predict(crate::insight_cmd::BatchArgs),
    /// 批量抽取实体与关系：stdin JSON 行 -> stdout (batch extraction, CAIL2021/2022 shape)
    Extract(crate::insight_cmd::BatchArgs),
    /// 案件统计：按地区、罪名、阶段、机构、期间，经汇总读取路径 (case statistics from the store)
    Stats(crate::stats_cmd::StatsArgs),
    /// 类案检索 (similar-case search over the indexed judgments and facts)
    Search(crate::insight_cmd::SearchArgs),
    /// 智能分析：建索引、评估、检索基准 (insight: index, evaluation, search benchmark)
    Insight {
        #[command(subcommand)]
        action: crate::insight_cmd::InsightAction,
    },
    /// 案件评查：抽样、评查表、评分、结果 (case-quality review)
    Review {
        #[command(subcommand)]
        action: crate::justice_cmd::ReviewAction,
    },
    /// 司法行政分析：社区矫正风险评估、调解与信访热点 (justice administration: risk, hot spots)
    Justice {
        #[command(subcommand)]
        action: crate::justice_cmd::JusticeAction,
    },
    /// 定罪量刑知识图谱与案件关系图谱 (the statute graph; `graph cases`: the case graph)
    Graph {
        #[command(subcommand)]
        action: crate::casegraph_cmd::GraphCommand,
    },
    /// 性能基准 (benchmarks)
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
    /// 跨部门移送：发送、收件箱、接收、退回、状态 (transfers between organs)
    Transfer {
        #[command(subcommand)]
        action: TransferAction,
    },
}

/// Transport of `serve`: TLS from PEM files, or plain HTTP (loopback unless `--insecure-http`).
#[derive(clap::Args, Debug, Default)]
pub struct TlsArgs {
    /// PEM certificate chain (leaf first); with --tls-key the server speaks only TLS.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the certificate (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificate(s) whose client certificates the server accepts (mutual TLS); a
    /// registered one (`system register-cert`) authenticates its department system.
    #[arg(long, requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address (only behind a TLS or TLCP gateway).
    #[arg(long, conflicts_with = "tls_cert")]
    pub insecure_http: bool,
}

#[derive(Subcommand, Debug)]
pub enum SystemAction {
    /// 生成密钥对、登记公钥，打印私钥位置 (generate a key pair, register its public key)
    RegisterKey {
        /// The department system's principal id (principals.json).
        #[arg(long)]
        principal: String,
        /// Signature suite: intl (Ed25519) or gm (国密 SM2).
        #[arg(long, default_value = "intl")]
        suite: String,
        /// Where to write the private key (default: <data-dir>/system-keys/<key id>.key).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 登记部门系统的客户端证书（双向 TLS）(register a client certificate for mutual TLS)
    RegisterCert {
        /// The department system's principal id (principals.json).
        #[arg(long)]
        principal: String,
        /// PEM file whose first certificate is the system's client certificate.
        #[arg(long)]
        cert: PathBuf,
    },
    /// 列出已登记的签名密钥与客户端证书 (list registered keys and client certificates)
    Keys,
}

#[derive(Subcommand, Debug)]
pub enum TransferAction {
    /// 签名并发送一件移送 (sign, store in the outbox and deliver)
    Send {
        /// Kind: code or Chinese name (提请批准逮捕, 移送审查起诉, 提起公诉, 判决/执行通知 …).
        #[arg(long)]
        kind: String,
        /// Organization code of the sending organ.
        #[arg(long)]
        from: String,
        /// Organization code of the receiving organ.
        #[arg(long)]
        to: String,
        /// Platform case uid.
        #[arg(long)]
        case: String,
        /// A document: `kind:number:path` (e.g. `arrest_request:某公提捕字〔2024〕1号:提捕书.pdf`).
        #[arg(long)]
        doc: Vec<String>,
        /// A case field that travels: `name=value` (only those the kind carries).
        #[arg(long)]
        field: Vec<String>,
        /// The decision carried (`approve`/`deny`, `commutation`/`parole`).
        #[arg(long)]
        decision: Option<String>,
        /// The transfer this one answers.
        #[arg(long)]
        answer_to: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// 收件箱：按游标拉取 (pull an organ's received transfers after a cursor)
    Inbox {
        #[arg(long)]
        organ: String,
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// 接收一件移送并写入本机关案件 (accept: apply to the case, signed receipt)
    Accept {
        id: String,
        /// The receiving organ's own case number; allocated when absent.
        #[arg(long)]
        number: Option<String>,
    },
    /// 退回一件移送并说明理由 (reject with a reason, signed receipt)
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// 重新投递发件箱中到期的移送 (deliver what is due in the outbox)
    Deliver,
    /// 移送状态、回执、拒收与待答复期限 (status, receipts, refusals, answer deadlines)
    Status { id: Option<String> },
}

#[derive(Subcommand, Debug)]
pub enum QuarantineAction {
    /// 列出隔离记录 (list entries)
    List {
        /// Include resolved entries.
        #[arg(long)]
        all: bool,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// 显示一条隔离记录及全部原因 (show one entry with every reason)
    Show { id: i64 },
    /// 修正后重新接入 (retry an entry, optionally with column edits)
    Retry {
        /// Entry id; omit with --all.
        id: Option<i64>,
        /// Column edits, `COLUMN=VALUE`, repeatable.
        #[arg(long = "set", value_parser = parse_edit)]
        edits: Vec<(String, String)>,
        /// Retry every open entry without edits (after a mapping fix).
        #[arg(long)]
        all: bool,
        #[arg(long)]
        mappings: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AccessAction {
    /// 以某人员身份查阅案件，显示脱敏结果与每个字段的理由
    Check {
        /// Principal id from the registry (`xiezhi access principals`).
        #[arg(long = "as")]
        principal: String,
        /// Platform case uid (C00000001 …).
        case: String,
        /// Date of the read (YYYY-MM-DD), for grant expiry; default today.
        #[arg(long)]
        on: Option<String>,
        /// Show every record, not only the first of each kind.
        #[arg(long)]
        all: bool,
    },
    /// 列出人员名册 (list the principals registry)
    Principals,
}

#[derive(Subcommand, Debug)]
pub enum RequestAction {
    /// 申请 (file a request)
    Submit {
        #[arg(long = "as")]
        principal: String,
        #[arg(long)]
        case: String,
        /// Scopes, comma-separated: `person.name`, `person`, `*`.
        #[arg(long, value_delimiter = ',', required = true)]
        scope: Vec<String>,
        #[arg(long)]
        purpose: String,
    },
    /// 审核 (approve or reject, with a reason)
    Review {
        #[arg(long = "as")]
        principal: String,
        id: String,
        #[arg(long, conflicts_with = "reject")]
        approve: bool,
        #[arg(long)]
        reject: bool,
        #[arg(long)]
        reason: String,
    },
    /// 授权 (grant, until the last valid day)
    Grant {
        #[arg(long = "as")]
        principal: String,
        id: String,
        /// Last valid day, YYYY-MM-DD.
        #[arg(long)]
        expires: String,
        /// Narrower scope than requested (default: as requested).
        #[arg(long, value_delimiter = ',')]
        scope: Vec<String>,
        #[arg(long)]
        purpose: Option<String>,
    },
    /// 使用 (record a use of the grant)
    Use {
        #[arg(long = "as")]
        principal: String,
        id: String,
        #[arg(long)]
        detail: String,
    },
    /// 反馈 (report back and close)
    Feedback {
        #[arg(long = "as")]
        principal: String,
        id: String,
        #[arg(long)]
        text: String,
    },
    /// 撤销 (withdraw or revoke)
    Revoke {
        #[arg(long = "as")]
        principal: String,
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// 列出全部申请
    List,
}

#[derive(Subcommand, Debug)]
pub enum SuperviseAction {
    /// 规则目录 (the rules, their legal basis and severity)
    Catalog,
    /// 运行规则并更新风险清单：同一日期下只评估数据有变化的案件 (evaluate, update the worklist)
    Run {
        /// Evaluate as of this date (YYYY-MM-DD); default today.
        #[arg(long)]
        as_of: Option<String>,
        /// How many items to show with their explanation.
        #[arg(long, default_value_t = 5)]
        show: usize,
        /// Evaluate every case even when only some changed since the last run.
        #[arg(long)]
        full: bool,
    },
    /// 以合成省份植入的违规为真值，逐规则计算召回率与精确率 (recall and precision per rule)
    Eval {
        /// The synthetic export directory (default: the data directory's `export`).
        #[arg(long)]
        export: Option<PathBuf>,
        /// Evaluate as of this date; default the export's date.
        #[arg(long)]
        as_of: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum RiskAction {
    /// 列出风险事项
    List {
        /// warned | confirmed | dismissed | rectified | closed (or 预警 …)
        #[arg(long)]
        status: Option<String>,
        /// 红 | 橙 | 黄 | 蓝 (or red …)
        #[arg(long)]
        colour: Option<String>,
        #[arg(long)]
        rule: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// 查看一项风险：解释、依据、所用事实、处置经过
    Show { id: String },
    /// 转办给其他机构
    Assign {
        id: String,
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "supervisor")]
        by: String,
    },
    /// 核查：属实（--confirm）或不属实（--dismiss），须写明理由
    Verify {
        id: String,
        #[arg(long, conflicts_with = "dismiss", required_unless_present = "dismiss")]
        confirm: bool,
        #[arg(long)]
        dismiss: bool,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value = "supervisor")]
        by: String,
    },
    /// 报告整改完成
    Rectify {
        id: String,
        #[arg(long)]
        note: String,
        #[arg(long, default_value = "handler")]
        by: String,
    },
    /// 销号
    Close {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long, default_value = "supervisor")]
        by: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum LedgerAction {
    /// 从库中重算全部账本并核对（退出码 0 完好，1 被篡改，2 无法校验）
    Verify {
        /// Trust this verifier key (signed-note vkey) instead of the data directory's key.
        #[arg(long)]
        vkey: Option<String>,
    },
    /// 为新增条目签发检查点并打印 (seal new entries into a signed checkpoint)
    Checkpoint,
    /// 打印一条账本记录的包含证明 (inclusion proof of an entry, or of a record's latest entry)
    Proof {
        /// Entry number.
        #[arg(long)]
        seq: Option<i64>,
        /// Entity of a stored record (person, case, event …), with --uid.
        #[arg(long)]
        entity: Option<String>,
        #[arg(long)]
        uid: Option<String>,
    },
    /// 证明两个已签名检查点前后一致（后者包含前者）(consistency proof between two checkpoints)
    Consistency {
        /// Size of the earlier checkpoint (default: the second latest).
        #[arg(long)]
        old: Option<i64>,
        /// Size of the later checkpoint (default: the latest).
        #[arg(long)]
        new: Option<i64>,
    },
    /// 归档 180 天以前的审计记录（连同包含证明）到文件 (archive audit entries older than 180 days)
    Archive {
        /// Archive entries sealed by a checkpoint created before this date (YYYY-MM-DD); at
        /// most today minus 180 days.
        #[arg(long)]
        before: String,
        /// The archive file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// 校验归档文件：检查点签名、逐条包含证明、与库中留存摘要一致 (verify an archive file)
    VerifyArchive {
        /// The archive file.
        file: PathBuf,
    },
    /// 打印账本公钥 (print the log's public verifier key)
    Key,
    /// 请见证方联署最新检查点 (take the latest checkpoint to witnesses for cosignatures)
    Witness {
        /// A witness's state directory (repeat for each witness).
        #[arg(long = "witness-dir", required = true)]
        witness_dirs: Vec<PathBuf>,
        /// Write the cosigned note here instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 校验已联署的检查点：日志签名与见证方法定数 (verify a cosigned checkpoint, k of n)
    VerifyNote {
        /// The cosigned checkpoint note.
        #[arg(long)]
        note: PathBuf,
        /// A witness vkey (repeat for each of the n witnesses).
        #[arg(long = "witness", required = true)]
        witnesses: Vec<String>,
        /// Cosignatures required (k).
        #[arg(long, default_value_t = 1)]
        quorum: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchWhat {
    /// synth → ingest → SQLite; prints records/s
    Ingest {
        #[arg(long, default_value_t = 100_000)]
        cases: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// synth → ingest → full supervision run, then 1 % of cases re-sent and evaluated
    /// incrementally; prints seconds and cases/s
    Supervise {
        #[arg(long, default_value_t = 100_000)]
        cases: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// 电子围栏检查：定位点 × 围栏，空间网格索引对比逐一检查 (fence checks per second)
    Fences {
        #[arg(long, default_value_t = 1_000_000)]
        fixes: usize,
        #[arg(long, default_value_t = 10_000)]
        fences: usize,
        #[arg(long, default_value_t = 2024)]
        seed: u64,
    },
    /// The cost curve: per size a province, per backend ingest, size, case-360 reads,
    /// supervision, statistics, peak RSS, and the case graph's build with its k-hop and path
    /// queries; writes scale.md, scale.tsv and scale.svg
    Scale {
        /// Province sizes (cases), comma-separated.
        #[arg(long, default_value = "10000,100000,1000000")]
        sizes: String,
        /// Backends, comma-separated: sqlite, postgres.
        #[arg(long, default_value = "sqlite,postgres")]
        backends: String,
        /// PostgreSQL server for the postgres cells (a schema is made and dropped per cell).
        #[arg(long, env = "DATABASE_URL")]
        pg_url: Option<String>,
        /// Output directory (also holds each size's export and SQLite file while it runs).
        #[arg(long, default_value = "bench-scale")]
        out: PathBuf,
        /// Random cases read per cell for the case-360 percentiles.
        #[arg(long, default_value_t = 1_000)]
        reads: usize,
        /// Measure without field encryption (to compare; every deployment has it on).
        #[arg(long)]
        no_field_encryption: bool,
        /// `scale.tsv` of an earlier run whose cells join this table and plot (repeatable);
        /// with `--sizes ""` nothing is measured and the curve is only assembled.
        #[arg(long)]
        include: Vec<PathBuf>,
    },
    /// One cell of `bench scale`, in its own process so its peak RSS is its own.
    #[command(hide = true)]
    ScaleCell {
        #[arg(long)]
        backend: String,
        #[arg(long)]
        export: PathBuf,
        #[arg(long)]
        work: PathBuf,
        #[arg(long)]
        pg_url: Option<String>,
        #[arg(long, default_value_t = 1_000)]
        reads: usize,
        #[arg(long)]
        no_field_encryption: bool,
        /// Delete the export once ingested: the last cell of a size frees its disk for the
        /// store (a 10⁶ export is about 5 GB, and nothing reads it after the ingest).
        #[arg(long)]
        drop_export: bool,
    },
    /// Login cost: argon2id verification (default parameters) plus the TOTP check, per login;
    /// prints p50/p99
    Login {
        #[arg(long, default_value_t = 50)]
        logins: usize,
    },
    /// Each primitive of both crypto suites (international and 国密): sign/verify per second,
    /// AEAD and hash MB/s
    Crypto {
        /// Seconds spent on each figure.
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
    },
    /// sign → outbox → deliver → verify → apply → receipts, on SQLite; prints transfers/s
    Exchange {
        #[arg(long, default_value_t = 20_000)]
        transfers: usize,
        /// Transfers per transaction of each step.
        #[arg(long, default_value_t = 256)]
        batch: usize,
    },
}

fn parse_edit(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` 应为 列名=值 (expected COLUMN=VALUE)"))
}
