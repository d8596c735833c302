//! Requests signed by a department system's registered key (Ed25519 in the international
//! suite, SM2 in 国密), an alternative to bearer API keys that never sends a secret.
//!
//! The client sends `Xiezhi-Key-Id`, `Xiezhi-Timestamp` (Unix seconds), `Xiezhi-Nonce` and
//! `Xiezhi-Request-Signature` (base64 of the 64-byte signature) over [`canonical`]: the key id,
//! timestamp, nonce, method, path with query, and the suite hash of the body. The server
//! accepts a timestamp within [`WINDOW_SECS`] of its clock and each signature once; the
//! request then runs as the key's principal through the access layer, like an API-key call.
//! Public keys live in `system-keys.json` in the data directory (`xiezhi system register-key`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use anyhow::{Context, Result};
use axum::body::Body;
use axum::extract::{Request, State};
pub use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
pub use xiezhi_crypto::Suite;
use xiezhi_crypto::{Signature, SigningKey, VerifyingKey};

use crate::error::Problem;
use crate::state::AppState;

/// Registered public keys of department systems, in the data directory.
pub const SYSTEM_KEYS_FILE: &str = "system-keys.json";
pub const KEY_ID_HEADER: &str = "xiezhi-key-id";
pub const TIMESTAMP_HEADER: &str = "xiezhi-timestamp";
pub const NONCE_HEADER: &str = "xiezhi-nonce";
pub const SIGNATURE_HEADER: &str = "xiezhi-request-signature";
/// How far a request's timestamp may be from the server's clock, either way.
pub const WINDOW_SECS: i64 = 300;
/// First line of every signed string, so a signature made for another purpose never fits.
pub const CONTEXT: &str = "xiezhi-request-v1";

/// A department system's registered public key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SystemKey {
    pub key_id: String,
    /// Id of the department system in `principals.json`.
    pub principal: String,
    pub suite: Suite,
    /// Ed25519: 32 bytes; SM2: the uncompressed SEC1 point.
    pub public_key_hex: String,
    pub registered: String,
}

impl SystemKey {
    fn verifying_key(&self) -> Option<VerifyingKey> {
        let bytes = unhex(&self.public_key_hex)?;
        self.suite.verifying_key(&bytes).ok()
    }
}

/// A system's private key as `register-key` writes it: for the system, never for the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateKeyFile {
    pub key_id: String,
    pub principal: String,
    pub suite: Suite,
    pub secret_hex: String,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// The key id: the suite and the first 8 bytes of the suite hash of the public key.
pub fn key_id(suite: Suite, public: &[u8]) -> String {
    format!("{suite}-{}", xiezhi_store::hex(&suite.hash(public)[..8]))
}

/// A registry file of the data directory, re-read when a lookup misses and the file changed
/// since (modification time or length), so an entry registered while the server runs works
/// without a restart.
#[derive(Debug)]
pub struct Registry<T> {
    path: PathBuf,
    loaded: RwLock<(Vec<T>, Option<Stamp>)>,
}

/// Department systems' request-signing keys.
pub type SystemKeys = Registry<SystemKey>;
/// Department systems' client certificates (mutual TLS).
pub type ClientCerts = Registry<ClientCert>;

type Stamp = (Option<SystemTime>, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok(), m.len()))
}

fn read_entries<T: serde::de::DeserializeOwned>(path: &Path) -> Result<(Vec<T>, Option<Stamp>)> {
    if !path.exists() {
        return Ok((Vec::new(), None));
    }
    let mtime = stamp(path);
    let text = std::fs::read_to_string(path)?;
    let entries = serde_json::from_str(&text)
        .with_context(|| format!("部门系统登记文件 `{}` 无效", path.display()))?;
    Ok((entries, mtime))
}

fn append_entry<T: Serialize + serde::de::DeserializeOwned>(path: &Path, entry: T) -> Result<()> {
    let (mut entries, _) = read_entries::<T>(path)?;
    entries.push(entry);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&entries)?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

impl<T: Clone + serde::de::DeserializeOwned> Registry<T> {
    pub fn load(data: &Path, file: &str) -> Result<Registry<T>> {
        let path = data.join(file);
        let loaded = read_entries(&path)?;
        Ok(Registry {
            path,
            loaded: RwLock::new(loaded),
        })
    }

    /// Every entry, as last loaded.
    pub fn all(&self) -> Vec<T> {
        self.loaded.read().map(|l| l.0.clone()).unwrap_or_default()
    }

    /// The first entry matching `pred`.
    pub fn find(&self, pred: impl Fn(&T) -> bool) -> Option<T> {
        let find = |entries: &[T]| entries.iter().find(|e| pred(e)).cloned();
        if let Some(e) = self.loaded.read().ok().and_then(|l| find(&l.0)) {
            return Some(e);
        }
        let mtime = stamp(&self.path);
        let mut loaded = self.loaded.write().ok()?;
        if mtime != loaded.1 {
            // A broken file keeps the entries in force rather than locking every system out.
            if let Ok(fresh) = read_entries(&self.path) {
                *loaded = fresh;
            }
        }
        find(&loaded.0)
    }
}

impl SystemKeys {
    /// The key with this id.
    pub fn get(&self, key_id: &str) -> Option<SystemKey> {
        self.find(|k| k.key_id == key_id)
    }
}

/// Client certificates of department systems, in the data directory.
pub const CLIENT_CERTS_FILE: &str = "client-certs.json";

/// A department system's client certificate, known by its fingerprint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClientCert {
    /// Hex SHA-256 of the certificate (DER).
    pub cert_sha256: String,
    pub principal: String,
    pub registered: String,
}

/// Registers the leaf (first) certificate of a PEM file as the department system's client
/// certificate; the server must trust its issuer (`--client-ca`).
pub fn register_client_cert(data: &Path, principal: &str, cert_pem: &Path) -> Result<ClientCert> {
    let pem = std::fs::read(cert_pem)
        .with_context(|| format!("无法读取证书 `{}`", cert_pem.display()))?;
    let certs = crate::tls::pem_certificates(&pem, cert_pem)?;
    let record = ClientCert {
        cert_sha256: crate::tls::cert_fingerprint(&certs[0]),
        principal: principal.to_string(),
        registered: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    append_entry(&data.join(CLIENT_CERTS_FILE), record.clone())?;
    Ok(record)
}

/// Generates a key pair for a department system, appends its public key to the registry and
/// returns the record with the private key.
pub fn register_key(data: &Path, principal: &str, suite: Suite) -> Result<(SystemKey, SigningKey)> {
    let secret = suite.generate_signing_key();
    let public = secret.verifying_key().to_bytes();
    let record = SystemKey {
        key_id: key_id(suite, &public),
        principal: principal.to_string(),
        suite,
        public_key_hex: xiezhi_store::hex(&public),
        registered: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    append_entry(&data.join(SYSTEM_KEYS_FILE), record.clone())?;
    Ok((record, secret))
}

/// The string a request's signature covers.
pub fn canonical(
    key_id: &str,
    timestamp: i64,
    nonce: &str,
    method: &str,
    path_and_query: &str,
    body_hash_hex: &str,
) -> String {
    format!(
        "{CONTEXT}\n{key_id}\n{timestamp}\n{nonce}\n{}\n{path_and_query}\n{body_hash_hex}",
        method.to_ascii_uppercase()
    )
}

/// The client side: signs requests with a registered key.
pub struct RequestSigner {
    pub key_id: String,
    key: SigningKey,
}

impl RequestSigner {
    pub fn new(key_id: impl Into<String>, key: SigningKey) -> RequestSigner {
        RequestSigner {
            key_id: key_id.into(),
            key,
        }
    }

    /// From a private key file written by `xiezhi system register-key`.
    pub fn from_file(path: &Path) -> Result<RequestSigner> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("无法读取私钥文件 `{}`", path.display()))?;
        let f: PrivateKeyFile = serde_json::from_str(&text)
            .with_context(|| format!("私钥文件 `{}` 无效", path.display()))?;
        let secret = unhex(&f.secret_hex)
            .with_context(|| format!("私钥文件 `{}`：secret_hex 不是十六进制", path.display()))?;
        Ok(RequestSigner::new(
            f.key_id,
            f.suite.signing_key(&secret).map_err(anyhow::Error::msg)?,
        ))
    }

    /// The four headers for a request at `timestamp` with a fresh random nonce.
    pub fn headers(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        timestamp: i64,
    ) -> Vec<(&'static str, String)> {
        let nonce = crate::auth::random_token(12);
        let body_hash = xiezhi_store::hex(&self.key.suite().hash(body));
        let msg = canonical(
            &self.key_id,
            timestamp,
            &nonce,
            method,
            path_and_query,
            &body_hash,
        );
        let sig: Signature = self.key.sign(msg.as_bytes());
        vec![
            (KEY_ID_HEADER, self.key_id.clone()),
            (TIMESTAMP_HEADER, timestamp.to_string()),
            (NONCE_HEADER, nonce),
            (
                SIGNATURE_HEADER,
                base64::engine::general_purpose::STANDARD.encode(sig),
            ),
        ]
    }
}

/// Signatures seen within the window, so a captured request cannot be sent again.
#[derive(Debug, Default)]
pub struct ReplayGuard(Mutex<HashMap<Vec<u8>, i64>>);

impl ReplayGuard {
    /// Records `sig` (accepted at `timestamp`); false when it was seen before.
    fn first_use(&self, sig: &[u8], timestamp: i64, now: i64) -> bool {
        let Ok(mut seen) = self.0.lock() else {
            return false;
        };
        // A signature can be accepted until its timestamp leaves the window; keep it that long.
        seen.retain(|_, until| *until >= now);
        seen.insert(sig.to_vec(), timestamp + WINDOW_SECS).is_none()
    }
}

/// The registries and the replay guard of a server.
#[derive(Debug)]
pub struct SignedRequests {
    pub keys: SystemKeys,
    pub certs: ClientCerts,
    replay: ReplayGuard,
}

impl SignedRequests {
    pub fn load(data: &Path) -> Result<SignedRequests> {
        Ok(SignedRequests {
            keys: Registry::load(data, SYSTEM_KEYS_FILE)?,
            certs: Registry::load(data, CLIENT_CERTS_FILE)?,
            replay: ReplayGuard::default(),
        })
    }
}

/// Put on a request whose signature verified, or that came over a mutual-TLS connection with a
/// registered client certificate (`key_id` then `cert-` and the fingerprint's first 16 digits).
#[derive(Debug, Clone)]
pub struct SignedBy {
    pub key_id: String,
    pub principal: String,
}

fn refused(header: &str, rule: &str, detail: String) -> Problem {
    Problem::new(401, "请求签名无效 (request signature refused)")
        .field(header, rule)
        .detail(detail)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, Problem> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            refused(
                name,
                "signature_header_missing",
                format!("签名请求须带 `{name}` 请求头"),
            )
        })
}

/// Checks a signed request at server time `now`; the rule of a refusal names what failed.
pub fn check(
    signed: &SignedRequests,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<SignedBy, Problem> {
    let kid = header(headers, KEY_ID_HEADER)?;
    let ts_text = header(headers, TIMESTAMP_HEADER)?;
    let nonce = header(headers, NONCE_HEADER)?;
    let sig_text = header(headers, SIGNATURE_HEADER)?;
    let timestamp: i64 = ts_text.parse().map_err(|_| {
        refused(
            TIMESTAMP_HEADER,
            "signature_timestamp_syntax",
            format!("时间戳 `{ts_text}` 应为 Unix 秒数"),
        )
    })?;
    let key = signed.keys.get(kid).ok_or_else(|| {
        refused(
            KEY_ID_HEADER,
            "signature_key_unknown",
            format!("密钥 `{kid}` 未登记 (xiezhi system register-key)"),
        )
    })?;
    let skew = timestamp - now;
    if skew.abs() > WINDOW_SECS {
        return Err(refused(
            TIMESTAMP_HEADER,
            "signature_timestamp_window",
            format!("时间戳 {timestamp} 与服务器时间 {now} 相差 {skew} 秒，超出 ±{WINDOW_SECS} 秒"),
        ));
    }
    let sig = base64::engine::general_purpose::STANDARD
        .decode(sig_text)
        .map_err(|_| {
            refused(
                SIGNATURE_HEADER,
                "signature_syntax",
                "签名应为 base64".into(),
            )
        })?;
    let verifying = key.verifying_key().ok_or_else(|| {
        refused(
            KEY_ID_HEADER,
            "signature_key_invalid",
            format!(
                "登记的密钥 `{kid}` 不是有效的 {} 公钥",
                key.suite.signature_name()
            ),
        )
    })?;
    let msg = canonical(
        kid,
        timestamp,
        nonce,
        method,
        path_and_query,
        &xiezhi_store::hex(&key.suite.hash(body)),
    );
    verifying.verify(msg.as_bytes(), &sig).map_err(|e| {
        refused(
            SIGNATURE_HEADER,
            "signature_invalid",
            format!(
                "签名与请求不符（方法、路径、时间戳、随机数或正文被改动，或不是密钥 `{kid}` 所签）：{e}"
            ),
        )
    })?;
    if !signed.replay.first_use(&sig, timestamp, now) {
        return Err(refused(
            SIGNATURE_HEADER,
            "signature_replay",
            "同一签名的请求已经处理过，重放被拒绝".into(),
        ));
    }
    Ok(SignedBy {
        key_id: kid.to_string(),
        principal: key.principal,
    })
}

/// The department system whose registered client certificate the connection presented.
fn client_cert_of(signed: &SignedRequests, req: &Request) -> Option<SignedBy> {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<crate::tls::TlsPeer>>()?;
    let fp = peer.0.client_cert_sha256.as_deref()?;
    let cert = signed.certs.find(|c| c.cert_sha256 == fp)?;
    Some(SignedBy {
        key_id: format!("cert-{}", &fp[..16]),
        principal: cert.principal,
    })
}

/// Middleware: a request carrying any signature header is verified (its body read whole,
/// within the upload limit) and marked [`SignedBy`]; others pass untouched.
pub async fn verify_signed(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let h = req.headers();
    if ![
        KEY_ID_HEADER,
        SIGNATURE_HEADER,
        TIMESTAMP_HEADER,
        NONCE_HEADER,
    ]
    .iter()
    .any(|n| h.contains_key(*n))
    {
        let mut req = req;
        if let Some(by) = client_cert_of(&state.signed, &req) {
            req.extensions_mut().insert(by);
        }
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let limit = state.limits.upload_bytes;
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return Problem::new(413, "请求正文过大 (body too large)")
            .field("body", "max_bytes")
            .detail(format!("签名请求的正文不得超过 {limit} 字节"))
            .into_response();
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let now = chrono::Utc::now().timestamp();
    match check(
        &state.signed,
        parts.method.as_str(),
        path_and_query,
        &parts.headers,
        &bytes,
        now,
    ) {
        Ok(by) => {
            parts.extensions.insert(by);
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(p) => p.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderName, HeaderValue};
    use proptest::prelude::*;

    fn setup(suite: Suite) -> (tempfile::TempDir, SignedRequests, RequestSigner) {
        let dir = tempfile::tempdir().unwrap();
        let (record, secret) = register_key(dir.path(), "police-system", suite).unwrap();
        let signed = SignedRequests::load(dir.path()).unwrap();
        (dir, signed, RequestSigner::new(record.key_id, secret))
    }

    fn map(headers: Vec<(&'static str, String)>) -> HeaderMap {
        headers
            .into_iter()
            .map(|(n, v)| {
                (
                    HeaderName::from_static(n),
                    HeaderValue::from_str(&v).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn the_window_is_five_minutes_either_way() {
        for suite in Suite::ALL {
            let (_dir, signed, signer) = setup(suite);
            let now = 1_800_000_000;
            for (skew, ok) in [(-300, true), (300, true), (-301, false), (301, false)] {
                let h = map(signer.headers("GET", "/x", b"", now + skew));
                let r = check(&signed, "GET", "/x", &h, b"", now);
                match (ok, r) {
                    (true, Ok(by)) => assert_eq!(by.principal, "police-system"),
                    (false, Err(p)) => {
                        assert!(format!("{p:?}").contains("signature_timestamp_window"))
                    }
                    (ok, r) => panic!("{suite} skew {skew}: expected ok={ok}, got {r:?}"),
                }
            }
        }
    }

    #[test]
    fn a_key_registered_while_running_is_found() {
        let (dir, signed, _) = setup(Suite::International);
        let (late, _) = register_key(dir.path(), "court-system", Suite::Guomi).unwrap();
        assert_eq!(signed.keys.get(&late.key_id), Some(late));
        assert_eq!(signed.keys.all().len(), 2);
        assert!(signed.keys.get("gm-ffffffffffffffff").is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// A signature verifies for exactly the request it was made for: any changed body
        /// byte or path is refused.
        #[test]
        fn signature_binds_body_and_path(
            body in proptest::collection::vec(any::<u8>(), 1..200),
            flip in any::<prop::sample::Index>(),
            path in "/[a-z]{1,12}(\\?[a-z]=[0-9]{1,3})?",
            gm in any::<bool>(),
        ) {
            let suite = if gm { Suite::Guomi } else { Suite::International };
            let (_dir, signed, signer) = setup(suite);
            let now = 1_800_000_000;
            let h = map(signer.headers("POST", &path, &body, now));
            let mut bad = body.clone();
            bad[flip.index(body.len())] ^= 0x01;
            let refused = check(&signed, "POST", &path, &h, &bad, now).unwrap_err();
            let text = format!("{:?}", refused);
            prop_assert!(text.contains("signature_invalid"), "{}", text);
            let moved = format!("{path}x");
            prop_assert!(check(&signed, "POST", &moved, &h, &body, now).is_err());
            prop_assert!(check(&signed, "POST", &path, &h, &body, now).is_ok());
        }
    }
}
