//! The second factor: RFC 6238 time-based one-time passwords (SHA-1, 30-second steps,
//! 6 digits: what authenticator apps use), one secret per person, and a persistent record of
//! the last step each person used, so a code is accepted once and never again (replay).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per TOTP step.
pub const STEP: u64 = 30;
/// Steps of clock skew accepted either side.
pub const SKEW: u64 = 1;
/// The file of last accepted steps, in the data directory.
pub const STEPS_FILE: &str = "totp-steps.json";
/// Issuer shown in authenticator apps.
pub const ISSUER: &str = "Xiezhi";

/// A fresh 160-bit secret, base32 (RFC 4648, no padding) as authenticator apps take it.
pub fn new_secret() -> String {
    let mut raw = [0u8; 20];
    xiezhi_crypto::random_bytes(&mut raw);
    match Secret::Raw(raw.to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => String::new(),
    }
}

fn totp(secret_base32: &str) -> Result<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .ok()
        .context("TOTP 密钥不是 base32 (secret is not base32)")?;
    TOTP::new(Algorithm::SHA1, 6, 0, STEP, bytes)
        .map_err(|e| anyhow::anyhow!("TOTP 密钥无效 (bad secret): {e}"))
}

/// The code of `secret` at Unix time `at`.
pub fn code(secret_base32: &str, at: u64) -> Result<String> {
    Ok(totp(secret_base32)?.generate(at))
}

/// The step (Unix time / 30) whose code `given` is, within ±[`SKEW`] of `now`.
pub fn matching_step(secret_base32: &str, given: &str, now: u64) -> Result<Option<u64>> {
    let t = totp(secret_base32)?;
    let current = now / STEP;
    let given = given.trim();
    Ok((current.saturating_sub(SKEW)..=current + SKEW)
        .find(|step| constant_time_eq(t.generate(step * STEP).as_bytes(), given.as_bytes())))
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(username: &str, secret_base32: &str) -> String {
    format!(
        "otpauth://totp/{ISSUER}:{username}?secret={secret_base32}&issuer={ISSUER}&algorithm=SHA1&digits=6&period={STEP}"
    )
}

/// The last step each user logged in with, kept on disk so a restart does not reopen a
/// replay window.
#[derive(Debug)]
pub struct UsedSteps {
    path: PathBuf,
    last: Mutex<BTreeMap<String, u64>>,
}

impl UsedSteps {
    pub fn load(data: &Path) -> Result<UsedSteps> {
        let path = data.join(STEPS_FILE);
        let last = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("`{}` 损坏 (corrupt)", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e).with_context(|| format!("无法读取 `{}`", path.display())),
        };
        Ok(UsedSteps {
            path,
            last: Mutex::new(last),
        })
    }

    /// Records `step` for `username` if it is later than every step used before; false for a
    /// replayed (or older) code. Written to disk before the login succeeds.
    pub fn take(&self, username: &str, step: u64) -> Result<bool> {
        let mut last = self
            .last
            .lock()
            .map_err(|_| anyhow::anyhow!("TOTP state lock poisoned"))?;
        if last.get(username).is_some_and(|&used| step <= used) {
            return Ok(false);
        }
        last.insert(username.to_string(), step);
        let text = serde_json::to_string(&*last)?;
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
            .and_then(|_| std::fs::rename(&tmp, &self.path))
            .with_context(|| format!("无法写入 `{}`", self.path.display()))?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1: secret "12345678901234567890", T = 59 → 94287082 (8
    /// digits); the 6-digit code is its last six digits.
    #[test]
    fn rfc6238_vector() {
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        assert_eq!(code(&secret, 59).unwrap(), "287082");
        assert_eq!(code(&secret, 1111111109).unwrap(), "081804");
        assert_eq!(matching_step(&secret, "287082", 59 + 30).unwrap(), Some(1));
        assert_eq!(matching_step(&secret, "287082", 59 + 90).unwrap(), None);
    }

    #[test]
    fn a_step_is_taken_once_and_survives_reload() {
        let dir = tempfile::tempdir().unwrap();
        let used = UsedSteps::load(dir.path()).unwrap();
        assert!(used.take("a", 100).unwrap());
        assert!(!used.take("a", 100).unwrap());
        assert!(!used.take("a", 99).unwrap());
        assert!(used.take("b", 100).unwrap());
        let again = UsedSteps::load(dir.path()).unwrap();
        assert!(!again.take("a", 100).unwrap());
        assert!(again.take("a", 101).unwrap());
        assert!(otpauth_uri("a", &new_secret()).starts_with("otpauth://totp/Xiezhi:a?secret="));
    }
}
