//! Who is calling: users log in with a password (argon2id hash) and get a session cookie
//! (HttpOnly, SameSite=Strict) with a CSRF token for every state-changing request; department
//! systems present an API key (`Authorization: Bearer xzk_…`), stored only as its SHA-256.
//! Failed logins are rate limited per user name. Signed requests and client certificates of
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
/// How long a session lives without use.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// Failed logins allowed per user name within [`LOGIN_WINDOW`] before further tries are refused.
pub const LOGIN_FAILURES: usize = 5;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(300);

/// A login account: a user name, the principal it acts as, and its argon2id hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub username: String,
    /// Id of the principal in `principals.json`.
    pub principal: String,
    /// PHC string (`$argon2id$v=19$…`).
    pub password_hash: String,
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

    pub fn accounts(&self) -> &[Account] {
        &self.0
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
) -> Result<()> {
    let accounts = logins
        .iter()
        .map(|(username, principal, password)| {
            Ok(Account {
                username: username.clone(),
                principal: principal.clone(),
                password_hash: hash_password(password, params.clone())?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    std::fs::write(
        data.join(USERS_FILE),
        serde_json::to_string_pretty(&accounts)?,
    )?;
    std::fs::write(
        data.join(API_KEYS_FILE),
        serde_json::to_string_pretty(keys)?,
    )?;
    Ok(())
}

/// A logged-in session.
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    pub principal: String,
    pub csrf: String,
    last_used: Instant,
}

/// Sessions in memory: a restart logs everyone out.
#[derive(Debug, Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    /// Opens a session; returns its token.
    pub fn open(&self, username: &str, principal: &str) -> Result<(String, Session), Problem> {
        let token = random_token(32);
        let session = Session {
            username: username.to_string(),
            principal: principal.to_string(),
            csrf: random_token(24),
            last_used: Instant::now(),
        };
        self.0
            .lock()
            .map_err(|_| Problem::internal("session lock poisoned"))?
            .insert(token.clone(), session.clone());
        Ok((token, session))
    }

    /// The live session of a token, refreshed.
    pub fn get(&self, token: &str) -> Option<Session> {
        let mut map = self.0.lock().ok()?;
        let now = Instant::now();
        map.retain(|_, s| now.duration_since(s.last_used) < SESSION_TTL);
        let s = map.get_mut(token)?;
        s.last_used = now;
        Some(s.clone())
    }

    pub fn close(&self, token: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(token);
        }
    }
}

/// Failed logins per user name.
#[derive(Debug, Default)]
pub struct LoginLimiter(Mutex<HashMap<String, Vec<Instant>>>);

impl LoginLimiter {
    /// Seconds to wait if the name is locked out, else `None`.
    pub fn locked(&self, username: &str) -> Option<u64> {
        let mut map = self.0.lock().ok()?;
        let now = Instant::now();
        let fails = map.entry(username.to_string()).or_default();
        fails.retain(|t| now.duration_since(*t) < LOGIN_WINDOW);
        (fails.len() >= LOGIN_FAILURES).then(|| {
            let oldest = fails.first().copied().unwrap_or(now);
            (LOGIN_WINDOW.saturating_sub(now.duration_since(oldest))).as_secs() + 1
        })
    }

    pub fn failed(&self, username: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.entry(username.to_string())
                .or_default()
                .push(Instant::now());
        }
    }

    pub fn succeeded(&self, username: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(username);
        }
    }
}

/// Checks a login; on success returns the session token and the session.
pub fn login(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<(String, Session), Problem> {
    if let Some(wait) = state.limiter.locked(username) {
        return Err(Problem::new(429, "登录尝试过多 (too many login attempts)")
            .detail(format!(
                "用户 `{username}` 在 {} 分钟内连续 {LOGIN_FAILURES} 次登录失败，请 {wait} 秒后再试",
                LOGIN_WINDOW.as_secs() / 60
            ))
            .retry_after(wait));
    }
    let account = state.users.get(username);
    // Verify against a hash even for an unknown name, so timing does not reveal which names exist.
    let ok = match account {
        Some(a) => verify_password(password, &a.password_hash),
        None => {
            let _ = state
                .users
                .accounts()
                .first()
                .map(|a| verify_password(password, &a.password_hash));
            false
        }
    };
    match account.filter(|_| ok) {
        Some(a) if state.principal(&a.principal).is_some() => {
            state.limiter.succeeded(username);
            state.sessions.open(username, &a.principal)
        }
        _ => {
            state.limiter.failed(username);
            Err(
                Problem::new(401, "用户名或密码错误 (wrong user name or password)")
                    .field("password", "login_failed"),
            )
        }
    }
}

/// The `Set-Cookie` value of a session.
pub fn session_cookie(token: &str) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_TTL.as_secs()
    )
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
