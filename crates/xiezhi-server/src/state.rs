//! What every request shares: the data directory, the store, the authorizer, users and sessions.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use anyhow::{Context, Result};
use sha2::Digest;
use xiezhi_access::case_cache::CaseCache;
use xiezhi_access::policy::PolicyStore;
use xiezhi_access::reader::ViewCache;
use xiezhi_access::{Authorizer, DataRequest, Principal, RequestState, Salt};
use xiezhi_ledger::log::{AuditLog, DEFAULT_ORIGIN};
use xiezhi_store::{AnyStore, Location, Store};

use crate::auth::{ApiKeys, LoginLimiter, Sessions, Users};
use crate::error::Problem;
use crate::ledger_queue::LedgerQueue;

/// The workflow-item kind of data requests (as `xiezhi request` stores them).
pub const REQUEST_KIND: &str = "data_request";

/// Limits of the server.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest JSON body.
    pub json_bytes: usize,
    /// Largest uploaded department export.
    pub upload_bytes: usize,
    /// Cases considered at most for one page of the case list.
    pub list_scan: usize,
    /// A session ends after this long without use.
    pub session_idle: std::time::Duration,
    /// A session ends after this long in any case.
    pub session_max: std::time::Duration,
    /// How long a user name stays locked after repeated failed logins.
    pub login_cooldown: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            json_bytes: 64 * 1024,
            upload_bytes: 16 * 1024 * 1024,
            list_scan: 5_000,
            session_idle: crate::auth::SESSION_IDLE,
            session_max: crate::auth::SESSION_MAX,
            login_cooldown: crate::auth::LOGIN_COOLDOWN,
        }
    }
}

/// Shared state of the server.
pub struct AppState {
    pub data: PathBuf,
    /// Where the store lives, for opening read connections.
    at: Location,
    /// The writer connection: every write, and the ledger committer.
    store: Arc<Mutex<AnyStore>>,
    /// Read connections for case reads (in SQLite, WAL lets them read beside the writer).
    readers: Mutex<Vec<AnyStore>>,
    /// Group commit of read entries to the ledger.
    pub ledger: LedgerQueue,
    /// Checkpoints the SQLite write-ahead log beside the writer (none for PostgreSQL).
    _checkpointer: Option<Checkpointer>,
    authz: RwLock<Arc<Authorizer>>,
    /// Compiled views per principal and entity for the current policies and day.
    pub views: ViewCache,
    /// Gathered rows of hot cases (not decisions), dropped by the store's change feed.
    pub cases: CaseCache,
    /// Case reads running on the blocking pool at once (one per core).
    pub read_slots: tokio::sync::Semaphore,
    pub salt: Salt,
    pub principals: Vec<Principal>,
    users: RwLock<Users>,
    /// Last TOTP step used per user (replay guard), on disk.
    pub totp_steps: crate::totp::UsedSteps,
    pub api_keys: ApiKeys,
    /// Department systems' public keys and the replay guard of signed requests.
    pub signed: crate::signed::SignedRequests,
    pub sessions: Sessions,
    pub limiter: LoginLimiter,
    pub log: AuditLog,
    pub limits: Limits,
}

impl AppState {
    /// Opens the data directory written by `xiezhi demo` (or `ingest` plus `access`): the store,
    /// the principals registry, the users and API keys, the policies and grants in force.
    pub fn open(data: &Path, limits: Limits) -> Result<Arc<AppState>> {
        Self::open_at(data, &Location::parse(None, data), limits)
    }

    /// As [`AppState::open`], with the store at a given location (the embedded SQLite file or
    /// a PostgreSQL database); the other files stay in the data directory.
    pub fn open_at(data: &Path, at: &Location, limits: Limits) -> Result<Arc<AppState>> {
        if let Location::Sqlite(db) = at {
            if !db.exists() {
                anyhow::bail!(
                    "数据目录 `{}` 中没有库；先运行 `xiezhi demo` (no store in the data directory)",
                    data.display()
                );
            }
        }
        let mut store = xiezhi_store::open::open(at, Some(data))
            .with_context(|| format!("无法打开数据库 `{}`", at.display()))?;
        let checkpointer = Checkpointer::start(at)?;
        if checkpointer.is_some() {
            store.set_auto_checkpoint(false)?;
        }
        let principals = load_principals(data)?;
        let authz = authorizer(data, &mut store)?;
        let salt = salt(data)?;
        let log = AuditLog::open_or_create(&data.join("ledger.key"), DEFAULT_ORIGIN)?;
        let store = Arc::new(Mutex::new(store));
        Ok(Arc::new(AppState {
            data: data.to_path_buf(),
            at: at.clone(),
            ledger: LedgerQueue::start(Arc::clone(&store)),
            _checkpointer: checkpointer,
            store,
            readers: Mutex::new(Vec::new()),
            authz: RwLock::new(Arc::new(authz)),
            views: ViewCache::default(),
            cases: CaseCache::default(),
            read_slots: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
            salt,
            users: RwLock::new(Users::load(&data.join(crate::auth::USERS_FILE))?),
            totp_steps: crate::totp::UsedSteps::load(data)?,
            api_keys: ApiKeys::load(&data.join(crate::auth::API_KEYS_FILE))?,
            signed: crate::signed::SignedRequests::load(data)?,
            principals,
            sessions: Sessions::new(limits.session_idle, limits.session_max),
            limiter: LoginLimiter::new(limits.login_cooldown),
            log,
            limits,
        }))
    }

    /// The login accounts.
    pub fn users(&self) -> Result<std::sync::RwLockReadGuard<'_, Users>, Problem> {
        self.users
            .read()
            .map_err(|_| Problem::internal("users lock poisoned"))
    }

    /// The login accounts, for a change (saved by the caller).
    pub fn users_mut(&self) -> Result<std::sync::RwLockWriteGuard<'_, Users>, Problem> {
        self.users
            .write()
            .map_err(|_| Problem::internal("users lock poisoned"))
    }

    /// The store, locked. One store connection serves every request; handlers run on the
    /// blocking pool while they hold it.
    pub fn store(&self) -> Result<MutexGuard<'_, AnyStore>, Problem> {
        self.store
            .lock()
            .map_err(|_| Problem::internal("store lock poisoned"))
    }

    /// A read connection from the pool (opened on first need), returned on drop.
    pub fn reader(&self) -> Result<PooledReader<'_>, Problem> {
        let pooled = self
            .readers
            .lock()
            .map_err(|_| Problem::internal("reader pool lock poisoned"))?
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => xiezhi_store::open::open_reader(&self.at, Some(&self.data))?,
        };
        Ok(PooledReader {
            pool: &self.readers,
            conn: Some(conn),
        })
    }

    /// Where the store lives (backend and location, for status and readers).
    pub fn location(&self) -> &Location {
        &self.at
    }

    /// The authorizer with the grants in force (a snapshot: a reload swaps in a new one).
    pub fn authz(&self) -> Result<Arc<Authorizer>, Problem> {
        self.authz
            .read()
            .map(|a| Arc::clone(&a))
            .map_err(|_| Problem::internal("authorizer lock poisoned"))
    }

    /// Rebuilds the authorizer after a data-request step changed the grants.
    pub fn reload_authz(&self, store: &mut AnyStore) -> Result<(), Problem> {
        let fresh = authorizer(&self.data, store).map_err(|e| Problem::internal(&e))?;
        *self
            .authz
            .write()
            .map_err(|_| Problem::internal("authorizer lock poisoned"))? = Arc::new(fresh);
        Ok(())
    }

    /// A principal of the registry by id.
    pub fn principal(&self, id: &str) -> Option<&Principal> {
        self.principals.iter().find(|p| p.id() == id)
    }
}

/// How often the checkpointer copies the write-ahead log into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Frames of write-ahead log (~64 MiB) beyond which the checkpointer makes the log restart
/// (every few seconds at 10,000 reads a second).
const RESTART_FRAMES: i64 = 16_384;

/// Checkpoints the write-ahead log of a SQLite store from its own connection and thread, so
/// the writer's commits (every case read's ledger entry among them) never wait for a
/// checkpoint's copy and `fsync`: with the writer checkpointing itself, a commit every few
/// seconds took 100–150 ms and held up every read waiting for it. Every 250 ms a passive
/// checkpoint copies what readers no longer need; once the log passes ~64 MiB a restarting
/// one copies the rest (little, by then) and waits for the readers of the log, so the next
/// write starts the file over: under reads that never pause, passive checkpoints alone let
/// it grow without bound. The restarting checkpoint holds the writer off until it has
/// synced both files, so the files are synced just before it, without any lock: it then
/// syncs only its own last copy. Stops when dropped.
struct Checkpointer {
    _stop: std::sync::mpsc::Sender<()>,
}

impl Checkpointer {
    /// Starts for a SQLite store; `None` for other backends.
    fn start(at: &Location) -> Result<Option<Checkpointer>> {
        let Location::Sqlite(db) = at else {
            return Ok(None);
        };
        let files = [db.clone(), PathBuf::from(format!("{}-wal", db.display()))];
        // No keys: this connection copies pages, it reads no value.
        let conn = xiezhi_store::open::open(at, None)?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_EVERY)
                {
                    let done = conn.checkpoint(false).and_then(|(logged, _)| {
                        if logged > RESTART_FRAMES {
                            for f in &files {
                                // Best effort: the checkpoint syncs what this misses.
                                let _ = std::fs::File::open(f).and_then(|f| f.sync_data());
                            }
                            conn.checkpoint(true)?;
                        }
                        Ok(())
                    });
                    if let Err(e) = done {
                        eprintln!("检查点失败 (WAL checkpoint failed): {e}");
                    }
                }
            })?;
        Ok(Some(Checkpointer { _stop: stop }))
    }
}

/// Read connections kept at most; more are closed on return.
const MAX_IDLE_READERS: usize = 16;

/// A read connection borrowed from the pool.
pub struct PooledReader<'a> {
    pool: &'a Mutex<Vec<AnyStore>>,
    conn: Option<AnyStore>,
}

impl std::ops::Deref for PooledReader<'_> {
    type Target = AnyStore;
    fn deref(&self) -> &AnyStore {
        self.conn.as_ref().expect("held until drop")
    }
}

impl Drop for PooledReader<'_> {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut pool)) = (self.conn.take(), self.pool.lock()) {
            if pool.len() < MAX_IDLE_READERS {
                pool.push(conn);
            }
        }
    }
}

/// The principals registry of a data directory (`principals.json`).
pub fn load_principals(data: &Path) -> Result<Vec<Principal>> {
    let path = data.join("principals.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "没有人员名册 `{}`；先运行 demo (no principals registry)",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("人员名册 `{}` 无效", path.display()))
}

/// The deployment's salt for hashed fields (`masking.salt`), created once.
fn salt(data: &Path) -> Result<Salt> {
    let path = data.join("masking.salt");
    if !path.exists() {
        let mut seed = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
        std::fs::write(&path, sha2::Sha256::digest(seed))?;
    }
    Ok(Salt::new(std::fs::read(&path)?))
}

/// Data requests stored as workflow items.
pub fn requests(store: &AnyStore) -> Result<Vec<DataRequest>> {
    store
        .workflow_items(REQUEST_KIND)?
        .into_iter()
        .map(|(id, body)| {
            serde_json::from_str(&body).with_context(|| format!("数据申请 {id} 的存储内容无效"))
        })
        .collect()
}

/// The policies of the data directory (or the built-in set) plus every grant in force.
/// Expiry of grants is left to `xiezhi request`, which logs it; a lapsed grant is not linked.
fn authorizer(data: &Path, store: &mut AnyStore) -> Result<Authorizer> {
    let dir = data.join("policies");
    let policies = if dir.exists() {
        PolicyStore::from_dir(&dir)
            .with_context(|| format!("策略目录 `{}` 无效 (invalid policies)", dir.display()))?
    } else {
        PolicyStore::builtin()?
    };
    let mut authz = Authorizer::new(policies)?;
    let today = chrono::Local::now().date_naive();
    for r in requests(store)? {
        if r.state != RequestState::Granted {
            continue;
        }
        if let Some(grant) = r.grant.clone().filter(|g| g.expires >= today) {
            authz.link_grant(grant)?;
        }
    }
    Ok(authz)
}
