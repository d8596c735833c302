//! Who is calling: people log in with two factors, a password (argon2id hash) and a TOTP code
//! (RFC 6238; a code is good once), and get a session cookie (HttpOnly, SameSite=Strict) with a
//! CSRF token for every state-changing request. Sessions end after an idle period and after a
//! maximum lifetime; an account created by an administrator must change its initial password
//! before it can do anything else. Department systems present an API key (`Authorization:
//! Bearer xzk_…`, stored only as its SHA-256) or sign their requests. After repeated failures a
//! user name is locked for a cool-down. Every login, failure, lockout, logout and password
//! change is a ledger entry with the source address. Signed requests and client certificates of
//! department systems are checked in `crate::signed` and arrive here as `Via::Signed`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use xiezhi_access::Principal;

use crate::error::Problem;
use crate::state::AppState;

/// Users with password hashes, in the data directory.
pub const USERS_FILE: &str = "users.json";
/// API keys of department systems (SHA-256 of each key), in the data directory.
pub const API_KEYS_FILE: &str = "api-keys.json";
/// The session cookie.
pub const SESSION_COOKIE: &str = "xz_session";
/// The header carrying the CSRF token of a session.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Default idle timeout of a session.
pub const SESSION_IDLE: Duration = Duration::from_secs(15 * 60);
/// Default maximum lifetime of a session, however busy.
pub const SESSION_MAX: Duration = Duration::from_secs(8 * 3600);
/// Failed logins (password or second factor) allowed per user name before a cool-down.
pub const LOGIN_FAILURES: usize = 5;
/// Default cool-down after [`LOGIN_FAILURES`] failures.
pub const LOGIN_COOLDOWN: Duration = Duration::from_secs(15 * 60);

/// A login account: a user name, the principal it acts as, and its argon2id hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub username: String,
    /// Id of the principal in `principals.json`.
    pub principal: String,
    /// PHC string (`$argon2id$v=19$…`).
    pub password_hash: String,
    /// TOTP secret (base32). An account without one cannot log in.
    #[serde(default)]
    pub totp_secret: Option<String>,
    /// Set when an administrator chose the password: it must be changed at the next login.
    #[serde(default)]
    pub must_change_password: bool,
    /// SHA-256 fingerprint (hex) of the person's client certificate, when one is registered:
    /// presented on a mutual-TLS connection, it is the cryptographic second factor in place of
    /// the TOTP code (`xiezhi user cert`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_sha256: Option<String>,
}

/// The accounts of a data directory.
#[derive(Debug, Default)]
pub struct Users(Vec<Account>);

impl Users {
    /// Loads `users.json`; a missing file means no one can log in (API keys still work).
    pub fn load(path: &Path) -> Result<Users> {
        if !path.exists() {
            return Ok(Users::default());
        }
        let text = std::fs::read_to_string(path)?;
        let accounts = serde_json::from_str(&text)
            .with_context(|| format!("用户文件 `{}` 无效", path.display()))?;
        Ok(Users(accounts))
    }

    pub fn get(&self, username: &str) -> Option<&Account> {
        self.0.iter().find(|a| a.username == username)
    }

    pub fn get_mut(&mut self, username: &str) -> Option<&mut Account> {
        self.0.iter_mut().find(|a| a.username == username)
    }

    pub fn accounts(&self) -> &[Account] {
        &self.0
    }

    /// Adds an account (refused if the name exists).
    pub fn add(&mut self, account: Account) -> Result<()> {
        anyhow::ensure!(
            self.get(&account.username).is_none(),
            "用户 `{}` 已存在 (user exists)",
            account.username
        );
        self.0.push(account);
        Ok(())
    }

    /// Writes `users.json` through a temporary file and a rename.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(&self.0)?)
            .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
            .and_then(|_| std::fs::rename(&tmp, path))
            .with_context(|| format!("无法写入 `{}`", path.display()))
    }
}

/// Hashes a password with argon2id and the given parameters (the defaults of the `argon2` crate
/// for people; tests pass small ones).
pub fn hash_password(password: &str, params: argon2::Params) -> Result<String> {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    let argon = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

/// Checks a password against a PHC string; the parameters come from the string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random token, URL-safe base64 of `n` bytes from the OS.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256_hex(s: &str) -> String {
    xiezhi_store::hex(&sha2::Sha256::digest(s.as_bytes()))
}

/// A department system's key record: the principal it acts as and the key's SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    pub principal: String,
    pub key_sha256: String,
}

/// The API keys of a data directory.
#[derive(Debug, Default)]
pub struct ApiKeys(Vec<ApiKey>);

impl ApiKeys {
    pub fn load(path: &Path) -> Result<ApiKeys> {
        if !path.exists() {
            return Ok(ApiKeys::default());
        }
        let text = std::fs::read_to_string(path)?;
        let keys = serde_json::from_str(&text)
            .with_context(|| format!("API 密钥文件 `{}` 无效", path.display()))?;
        Ok(ApiKeys(keys))
    }

    fn principal_of(&self, key: &str) -> Option<&str> {
        let digest = sha256_hex(key);
        self.0
            .iter()
            .find(|k| k.key_sha256 == digest)
            .map(|k| k.principal.as_str())
    }
}

/// A new API key for a principal: the key (shown once) and its record.
pub fn new_api_key(principal: &str) -> (String, ApiKey) {
    let key = format!("xzk_{}", random_token(24));
    let record = ApiKey {
        principal: principal.to_string(),
        key_sha256: sha256_hex(&key),
    };
    (key, record)
}

/// Writes accounts for principals with the given passwords (argon2id, `params`), and API keys.
pub fn write_credentials(
    data: &Path,
    logins: &[(String, String, String)],
    keys: &[ApiKey],
    params: argon2::Params,
) -> Result<Vec<(String, String)>> {
    let accounts = logins
        .iter()
        .map(|(username, principal, password)| {
            Ok(Account {
                username: username.clone(),
                principal: principal.clone(),
                password_hash: hash_password(password, params.clone())?,
                totp_secret: Some(crate::totp::new_secret()),
                must_change_password: false,
                client_cert_sha256: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let secrets = accounts
        .iter()
        .map(|a| {
            (
                a.username.clone(),
                a.totp_secret.clone().unwrap_or_default(),
            )
        })
        .collect();
    std::fs::write(
        data.join(USERS_FILE),
        serde_json::to_string_pretty(&accounts)?,
    )?;
    std::fs::write(
        data.join(API_KEYS_FILE),
        serde_json::to_string_pretty(keys)?,
    )?;
    Ok(secrets)
}

/// A logged-in session.
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    pub principal: String,
    pub csrf: String,
    /// The initial password must be changed before anything else.
    pub must_change_password: bool,
    created: Instant,
    last_used: Instant,
}

/// Sessions in memory: a restart logs everyone out. A session ends after `idle` without use
/// and after `max` in any case.
#[derive(Debug)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    idle: Duration,
    max: Duration,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::new(SESSION_IDLE, SESSION_MAX)
    }
}

impl Sessions {
    pub fn new(idle: Duration, max: Duration) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            idle,
            max,
        }
    }

    /// Seconds a session lives without use (the cookie's Max-Age).
    pub fn idle_secs(&self) -> u64 {
        self.idle.as_secs()
    }

    /// Opens a session; returns its token.
    pub fn open(
        &self,
        username: &str,
        principal: &str,
        must_change_password: bool,
    ) -> Result<(String, Session), Problem> {
        let token = random_token(32);
        let now = Instant::now();
        let session = Session {
            username: username.to_string(),
            principal: principal.to_string(),
            csrf: random_token(24),
            must_change_password,
            created: now,
            last_used: now,
        };
        self.map
            .lock()
            .map_err(|_| Problem::internal("session lock poisoned"))?
            .insert(token.clone(), session.clone());
        Ok((token, session))
    }

    /// The live session of a token, refreshed; expired sessions are dropped.
    pub fn get(&self, token: &str) -> Option<Session> {
        let mut map = self.map.lock().ok()?;
        let now = Instant::now();
        let (idle, max) = (self.idle, self.max);
        map.retain(|_, s| {
            now.duration_since(s.last_used) < idle && now.duration_since(s.created) < max
        });
        let s = map.get_mut(token)?;
        s.last_used = now;
        Some(s.clone())
    }

    /// Marks the sessions of `username` as past the forced password change.
    pub fn password_changed(&self, username: &str) {
        if let Ok(mut map) = self.map.lock() {
            for s in map.values_mut().filter(|s| s.username == username) {
                s.must_change_password = false;
            }
        }
    }

    pub fn close(&self, token: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(token);
        }
    }
}

/// Failed logins per user name: after [`LOGIN_FAILURES`] failures the name is locked for the
/// cool-down, counted from the last failure.
#[derive(Debug)]
pub struct LoginLimiter {
    fails: Mutex<HashMap<String, Vec<Instant>>>,
    cooldown: Duration,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(LOGIN_COOLDOWN)
    }
}

impl LoginLimiter {
    pub fn new(cooldown: Duration) -> LoginLimiter {
        LoginLimiter {
            fails: Mutex::new(HashMap::new()),
            cooldown,
        }
    }

    /// Seconds to wait if the name is locked out, else `None`.
    pub fn locked(&self, username: &str) -> Option<u64> {
        let mut map = self.fails.lock().ok()?;
        let now = Instant::now();
        let fails = map.entry(username.to_string()).or_default();
        fails.retain(|t| now.duration_since(*t) < self.cooldown);
        (fails.len() >= LOGIN_FAILURES).then(|| {
            let last = fails.last().copied().unwrap_or(now);
            (self.cooldown.saturating_sub(now.duration_since(last))).as_secs() + 1
        })
    }

    /// Records a failure; true when it locks the name.
    pub fn failed(&self, username: &str) -> bool {
        let Ok(mut map) = self.fails.lock() else {
            return false;
        };
        let fails = map.entry(username.to_string()).or_default();
        fails.push(Instant::now());
        fails.len() == LOGIN_FAILURES
    }

    pub fn succeeded(&self, username: &str) {
        if let Ok(mut map) = self.fails.lock() {
            map.remove(username);
        }
    }
}

/// An authentication event for the ledger: who, from where, what, and how it ended.
pub fn auth_entry(
    username: &str,
    principal: Option<&str>,
    source: &str,
    event: &str,
    outcome: &str,
    reason: Option<&str>,
) -> xiezhi_store::LedgerEvent {
    let mut body = serde_json::Map::new();
    body.insert(
        "at".into(),
        chrono::Local::now()
            .naive_local()
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
            .into(),
    );
    body.insert("username".into(), username.into());
    body.insert(
        "principal".into(),
        principal.map_or(serde_json::Value::Null, Into::into),
    );
    body.insert("source".into(), source.into());
    body.insert("event".into(), event.into());
    body.insert("outcome".into(), outcome.into());
    body.insert(
        "reason".into(),
        reason.map_or(serde_json::Value::Null, Into::into),
    );
    xiezhi_store::LedgerEvent {
        kind: "authentication".into(),
        entity: Some("user".into()),
        uid: Some(username.to_string()),
        body,
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Checks a login (password, then the TOTP code); on success returns the session token and
/// the session. Every outcome is logged to the ledger with `source` before the answer.
pub fn login(
    state: &AppState,
    username: &str,
    password: &str,
    totp: &str,
    source: &str,
    client_cert: Option<&str>,
) -> Result<(String, Session), Problem> {
    let log = |event: &str, outcome: &str, principal: Option<&str>, reason: Option<&str>| {
        state.ledger.log(auth_entry(
            username, principal, source, event, outcome, reason,
        ))
    };
    if let Some(wait) = state.limiter.locked(username) {
        log("login", "refused", None, Some("locked"))?;
        return Err(
            Problem::new(429, "登录尝试过多，账号暂时锁定 (too many login attempts)")
                .detail(format!(
                    "用户 `{username}` 连续 {LOGIN_FAILURES} 次登录失败，已锁定，请 {} 分钟后再试",
                    wait.div_ceil(60)
                ))
                .retry_after(wait),
        );
    }
    let users = state.users()?;
    let account = users.get(username).cloned();
    drop(users);
    // Verify against a hash even for an unknown name, so timing does not reveal which names exist.
    let password_ok = match &account {
        Some(a) => verify_password(password, &a.password_hash),
        None => {
            let any = state.users()?.accounts().first().cloned();
            let _ = any.map(|a| verify_password(password, &a.password_hash));
            false
        }
    };
    let fail = |reason: &str, title: &str, field: &str| -> Problem {
        let locked = state.limiter.failed(username);
        let _ = log("login", "failed", None, Some(reason));
        if locked {
            let _ = log("lockout", "locked", None, Some(reason));
        }
        Problem::new(401, title).field(field, reason)
    };
    let account = match account {
        Some(a) if password_ok && state.principal(&a.principal).is_some() => a,
        _ => {
            return Err(fail(
                "login_failed",
                "用户名或口令错误 (wrong user name or password)",
                "password",
            ))
        }
    };
    // The registered client certificate, presented on this TLS connection, is the second
    // factor; otherwise the TOTP code is.
    let by_certificate = matches!(
        (account.client_cert_sha256.as_deref(), client_cert),
        (Some(registered), Some(presented))
            if crate::totp::constant_time_eq(registered.as_bytes(), presented.as_bytes())
    );
    if by_certificate {
        state.limiter.succeeded(username);
        log(
            "login",
            "success",
            Some(&account.principal),
            Some("factor=client_certificate"),
        )?;
        return state
            .sessions
            .open(username, &account.principal, account.must_change_password);
    }
    let Some(secret) = account.totp_secret.as_deref() else {
        return Err(fail(
            "totp_not_enrolled",
            "账号未配置动态口令，请联系系统管理员 (no second factor enrolled)",
            "totp",
        ));
    };
    let step = crate::totp::matching_step(secret, totp, now_unix())
        .map_err(|e| Problem::internal(e.to_string()))?;
    let Some(step) = step else {
        return Err(fail(
            "totp_wrong",
            "动态口令错误或已过期 (wrong or expired TOTP code)",
            "totp",
        ));
    };
    if !state
        .totp_steps
        .take(username, step)
        .map_err(|e| Problem::internal(e.to_string()))?
    {
        return Err(fail(
            "totp_replayed",
            "动态口令已使用过，请等待下一个口令 (TOTP code already used)",
            "totp",
        ));
    }
    state.limiter.succeeded(username);
    log("login", "success", Some(&account.principal), None)?;
    state
        .sessions
        .open(username, &account.principal, account.must_change_password)
}

/// Ends the caller's session (if it has one) and logs the logout with its source address;
/// the API and the console both end sessions here.
pub fn logout(state: &AppState, caller: &Caller, source: &str) {
    if let Via::Session { token, session } = &caller.via {
        state.sessions.close(token);
        let _ = state.ledger.log(auth_entry(
            &session.username,
            Some(&session.principal),
            source,
            "logout",
            "success",
            None,
        ));
    }
}

/// Changes a logged-in user's password: the current one must be right and the new one must
/// keep every rule of [`crate::password`]; clears the forced change.
pub fn change_password(
    state: &AppState,
    username: &str,
    current: &str,
    new: &str,
    source: &str,
) -> Result<(), Problem> {
    let mut users = state.users_mut()?;
    let account = users
        .get_mut(username)
        .ok_or_else(Problem::unauthenticated)?;
    if !verify_password(current, &account.password_hash) {
        drop(users);
        state.ledger.log(auth_entry(
            username,
            None,
            source,
            "password_change",
            "failed",
            Some("current_password_wrong"),
        ))?;
        return Err(Problem::new(403, "当前口令错误 (current password wrong)")
            .field("current_password", "current_password_wrong"));
    }
    let broken = crate::password::check(username, new, Some(current));
    if let Some(first) = broken.first() {
        let detail: Vec<String> = broken.iter().map(|r| r.message()).collect();
        return Err(Problem::new(422, "新口令不符合口令规则 (password rules)")
            .detail(detail.join("；"))
            .field("new_password", first.code()));
    }
    account.password_hash = hash_password(new, argon2::Params::default())
        .map_err(|e| Problem::internal(e.to_string()))?;
    account.must_change_password = false;
    let principal = account.principal.clone();
    users
        .save(&state.data.join(USERS_FILE))
        .map_err(|e| Problem::internal(e.to_string()))?;
    drop(users);
    state.sessions.password_changed(username);
    state.ledger.log(auth_entry(
        username,
        Some(&principal),
        source,
        "password_change",
        "success",
        None,
    ))?;
    Ok(())
}

/// The `Set-Cookie` value of a session.
pub fn session_cookie(token: &str) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict")
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// How the caller proved who it is.
#[derive(Debug, Clone)]
pub enum Via {
    Session {
        token: String,
        session: Session,
    },
    ApiKey,
    /// A request signed with this registered key (`crate::signed`).
    Signed {
        key_id: String,
    },
}

/// The principal of a request. Extracting it fails with 401 when no valid credential is
/// present, and with 403 when a session's state-changing request lacks its CSRF token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub via: Via,
}

impl Caller {
    /// The CSRF token for forms (sessions only).
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { session, .. } => &session.csrf,
            Via::ApiKey | Via::Signed { .. } => "",
        }
    }

    pub fn username(&self) -> &str {
        match &self.via {
            Via::Session { session, .. } => &session.username,
            Via::ApiKey | Via::Signed { .. } => self.principal.id(),
        }
    }
}

fn cookie_value<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// What a session that must change its initial password may still reach.
pub const PASSWORD_CHANGE_PATHS: &[&str] = &[
    "/api/v1/session",
    "/api/v1/session/password",
    "/password",
    "/logout",
];

/// Where a request came from: the peer address of the connection (plain or TLS).
pub fn source_of(parts: &Parts) -> String {
    use axum::extract::ConnectInfo;
    if let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>() {
        return addr.to_string();
    }
    if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<crate::tls::TlsPeer>>() {
        return peer.remote.to_string();
    }
    "unknown".into()
}

/// The SHA-256 fingerprint of the client certificate of the request's TLS connection, if the
/// client presented one the server's client CA vouches for.
pub fn client_cert_of(parts: &Parts) -> Option<String> {
    use axum::extract::ConnectInfo;
    parts
        .extensions
        .get::<ConnectInfo<crate::tls::TlsPeer>>()
        .and_then(|ConnectInfo(peer)| peer.client_cert_sha256.clone())
}

/// The client certificate of the request's connection, as an extractor.
pub struct PeerCert(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for PeerCert {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerCert(client_cert_of(parts)))
    }
}

/// The peer address of a request, as an extractor.
pub struct Source(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Source(source_of(parts)))
    }
}

/// Resolves the caller of a request without enforcing CSRF (the UI checks the form's token).
pub fn identify(state: &AppState, parts: &Parts) -> Result<Caller, Problem> {
    if let Some(by) = parts.extensions.get::<crate::signed::SignedBy>() {
        let principal = state.principal(&by.principal).ok_or_else(|| {
            Problem::new(
                401,
                "签名密钥的主体未登记 (signing key's principal unknown)",
            )
            .field(crate::signed::KEY_ID_HEADER, "signature_principal_unknown")
        })?;
        return Ok(Caller {
            principal: principal.clone(),
            via: Via::Signed {
                key_id: by.key_id.clone(),
            },
        });
    }
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(key) = bearer {
        let principal = state
            .api_keys
            .principal_of(key.trim())
            .and_then(|p| state.principal(p))
            .ok_or_else(|| {
                Problem::new(401, "API 密钥无效 (invalid API key)")
                    .field("Authorization", "api_key")
            })?;
        return Ok(Caller {
            principal: principal.clone(),
            via: Via::ApiKey,
        });
    }
    let token = cookie_value(parts, SESSION_COOKIE).ok_or_else(Problem::unauthenticated)?;
    let session = state
        .sessions
        .get(token)
        .ok_or_else(Problem::unauthenticated)?;
    if session.must_change_password && !PASSWORD_CHANGE_PATHS.contains(&parts.uri.path()) {
        return Err(Problem::new(
            403,
            "须先修改初始口令 (the initial password must be changed first)",
        )
        .detail("管理员设置的初始口令须在首次登录后修改：POST /api/v1/session/password 或页面 /password")
        .field("password", "password_change_required"));
    }
    let principal = state
        .principal(&session.principal)
        .ok_or_else(Problem::unauthenticated)?
        .clone();
    Ok(Caller {
        principal,
        via: Via::Session {
            token: token.to_string(),
            session,
        },
    })
}

/// API caller: a session's POST, PUT, PATCH or DELETE must carry the session's CSRF token in
/// the `X-CSRF-Token` header (API keys are not sent by browsers on their own, so need none).
impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let caller = identify(state, parts)?;
        if let Via::Session { session, .. } = &caller.via {
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            let given = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !safe && given != Some(session.csrf.as_str()) {
                return Err(Problem::new(
                    403,
                    "缺少或错误的 CSRF 令牌 (CSRF token missing or wrong)",
                )
                .field("X-CSRF-Token", "csrf"));
            }
        }
        Ok(caller)
    }
}
