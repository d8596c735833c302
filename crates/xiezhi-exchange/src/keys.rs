//! Organ keys: one signing key per organ, of the deployment's crypto suite (Ed25519 or SM2).
//! Private keys live in files under the data directory (`<data-dir>/organ-keys/<org_code>.key`,
//! naming their suite); public keys form a registry in the store, each
//! registration a ledger entry, so a receiver checks a signature against the key the platform
//! recorded, never one the sender brings along.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use xiezhi_crypto::{SigningKey, Suite, VerifyingKey};
use xiezhi_store::{LedgerEvent, Store};
use zeroize::Zeroizing;

use crate::kind::OrganKind;
use crate::ExchangeError;

pub(crate) const REGISTRY: &str = "exchange.organ_key";
const KEY_PREFIX: &str = "XIEZHI-ORGAN-KEY ";

/// The private keys of the organs this installation signs for.
pub struct Keyring {
    /// Suite of keys this keyring creates.
    suite: Suite,
    keys: BTreeMap<String, SigningKey>,
}

impl Default for Keyring {
    fn default() -> Keyring {
        Keyring::for_suite(Suite::International)
    }
}

impl Keyring {
    /// A keyring that creates international-suite (Ed25519) keys.
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// A keyring that creates keys of `suite`.
    pub fn for_suite(suite: Suite) -> Keyring {
        Keyring {
            suite,
            keys: BTreeMap::new(),
        }
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    pub fn insert(&mut self, organ: &str, key: impl Into<SigningKey>) {
        self.keys.insert(organ.to_string(), key.into());
    }

    pub fn get(&self, organ: &str) -> Option<&SigningKey> {
        self.keys.get(organ)
    }

    pub fn organs(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Loads `<dir>/<organ>.key`, creating it with a fresh key when absent.
    pub fn load_or_create(
        &mut self,
        dir: &Path,
        organ: &str,
    ) -> Result<&SigningKey, ExchangeError> {
        let path = key_path(dir, organ)?;
        let key = if path.exists() {
            read_key(&path, organ)?
        } else {
            let key = self.suite.generate_signing_key();
            write_key(&path, organ, &key)?;
            key
        };
        Ok(self.keys.entry(organ.to_string()).or_insert(key))
    }

    /// Loads `<dir>/<organ>.key`; an absent file is an error.
    pub fn load(&mut self, dir: &Path, organ: &str) -> Result<&SigningKey, ExchangeError> {
        let key = read_key(&key_path(dir, organ)?, organ)?;
        Ok(self.keys.entry(organ.to_string()).or_insert(key))
    }
}

fn key_path(dir: &Path, organ: &str) -> Result<PathBuf, ExchangeError> {
    if organ.is_empty() || !organ.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(ExchangeError::Key {
            organ: organ.to_string(),
            reason: "organization code must be ASCII letters, digits or `-`".into(),
        });
    }
    Ok(dir.join(format!("{organ}.key")))
}

fn read_key(path: &Path, organ: &str) -> Result<SigningKey, ExchangeError> {
    let bad = |reason: String| ExchangeError::Key {
        organ: organ.to_string(),
        reason,
    };
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| bad(format!("`{}`: {e}", path.display())))?,
    );
    let rest = text
        .trim_end()
        .strip_prefix(KEY_PREFIX)
        .ok_or_else(|| bad(format!("`{}` is not an organ key file", path.display())))?;
    // `<organ> <suite> <base64 secret>`; files without a suite are international.
    let parts: Vec<&str> = rest.split(' ').collect();
    let (name, suite, encoded) = match parts.as_slice() {
        [name, encoded] => (*name, Suite::International, *encoded),
        [name, suite, encoded] => (
            *name,
            suite.parse::<Suite>().map_err(|e| bad(e.to_string()))?,
            *encoded,
        ),
        _ => return Err(bad("expected `<organ> <suite> <base64 secret>`".into())),
    };
    if name != organ {
        return Err(bad(format!("key file names organ `{name}`")));
    }
    let raw = Zeroizing::new(
        STANDARD
            .decode(encoded)
            .map_err(|_| bad("secret is not base64".into()))?,
    );
    suite
        .signing_key(&raw)
        .map_err(|e| bad(format!("`{}`: {e}", path.display())))
}

fn write_key(path: &Path, organ: &str, key: &SigningKey) -> Result<(), ExchangeError> {
    let bad = |e: std::io::Error| ExchangeError::Key {
        organ: organ.to_string(),
        reason: format!("`{}`: {e}", path.display()),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(bad)?;
    }
    let text = Zeroizing::new(format!(
        "{KEY_PREFIX}{organ} {} {}\n",
        key.suite().id(),
        STANDARD.encode(key.to_bytes().as_ref())
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(bad)?;
    std::io::Write::write_all(&mut f, text.as_bytes()).map_err(bad)?;
    f.sync_all().map_err(bad)
}

/// A registered organ: its kind and public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganEntry {
    pub organ: String,
    pub name: String,
    pub kind: OrganKind,
    /// Suite of the key (`intl`: Ed25519, `gm`: SM2).
    #[serde(default = "intl")]
    pub suite: Suite,
    /// Base64 of the public key (32-byte Ed25519 key or 65-byte SM2 point).
    pub public_key: String,
    pub registered_at: String,
}

/// The public-key registry, loaded from the store.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    organs: BTreeMap<String, (OrganEntry, VerifyingKey)>,
}

impl Registry {
    pub fn load<S: Store>(store: &S) -> Result<Registry, ExchangeError> {
        let mut organs = BTreeMap::new();
        for (id, body) in store.workflow_items(REGISTRY)? {
            let entry: OrganEntry = serde_json::from_str(&body)
                .map_err(|e| ExchangeError::Corrupt(format!("registry entry `{id}`: {e}")))?;
            let key = decode_public(entry.suite, &entry.public_key).ok_or_else(|| {
                ExchangeError::Corrupt(format!("registry entry `{id}`: bad public key"))
            })?;
            organs.insert(id, (entry, key));
        }
        Ok(Registry { organs })
    }

    pub fn get(&self, organ: &str) -> Option<&OrganEntry> {
        self.organs.get(organ).map(|(e, _)| e)
    }

    pub fn key(&self, organ: &str) -> Option<&VerifyingKey> {
        self.organs.get(organ).map(|(_, k)| k)
    }

    pub fn kind(&self, organ: &str) -> Option<OrganKind> {
        self.get(organ).map(|e| e.kind)
    }

    pub fn entries(&self) -> impl Iterator<Item = &OrganEntry> {
        self.organs.values().map(|(e, _)| e)
    }

    pub fn len(&self) -> usize {
        self.organs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.organs.is_empty()
    }
}

fn intl() -> Suite {
    Suite::International
}

fn decode_public(suite: Suite, b64: &str) -> Option<VerifyingKey> {
    let raw = STANDARD.decode(b64).ok()?;
    suite.verifying_key(&raw).ok()
}

/// Records an organ's public key. Registering the same key again is a no-op; a different key
/// for a registered organ is refused (rotation is not supported yet).
pub fn register<S: Store>(
    store: &mut S,
    organ: &str,
    name: &str,
    kind: OrganKind,
    key: &VerifyingKey,
    at: &str,
) -> Result<bool, ExchangeError> {
    let public_key = STANDARD.encode(key.to_bytes());
    if let Some(body) = store.workflow_item(REGISTRY, organ)? {
        let old: OrganEntry = serde_json::from_str(&body)
            .map_err(|e| ExchangeError::Corrupt(format!("registry entry `{organ}`: {e}")))?;
        if old.public_key == public_key && old.kind == kind && old.suite == key.suite() {
            return Ok(false);
        }
        return Err(ExchangeError::Key {
            organ: organ.to_string(),
            reason: "a different key or kind is already registered for this organ".into(),
        });
    }
    let entry = OrganEntry {
        organ: organ.to_string(),
        name: name.to_string(),
        kind,
        suite: key.suite(),
        public_key,
        registered_at: at.to_string(),
    };
    let mut body = serde_json::Map::new();
    body.insert("organ".into(), organ.into());
    body.insert("organ_kind".into(), kind.code().into());
    body.insert("suite".into(), key.suite().id().into());
    body.insert("public_key".into(), entry.public_key.clone().into());
    store.put_workflow_item(
        REGISTRY,
        organ,
        &serde_json::to_string(&entry)?,
        &[LedgerEvent {
            kind: "organ_key_registered".into(),
            entity: Some("organization".into()),
            uid: Some(organ.to_string()),
            body,
        }],
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xiezhi_store::SqliteStore;

    #[test]
    fn key_files_round_trip_and_name_their_organ() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ring = Keyring::new();
        let public = ring
            .load_or_create(dir.path(), "520100GA")
            .expect("create")
            .verifying_key();
        let mut again = Keyring::new();
        assert_eq!(
            again
                .load(dir.path(), "520100GA")
                .expect("load")
                .verifying_key(),
            public
        );
        std::fs::copy(dir.path().join("520100GA.key"), dir.path().join("X.key")).expect("copy");
        let mut ring = Keyring::new();
        let Err(err) = ring.load(dir.path(), "X") else {
            panic!("a key file naming another organ must be refused");
        };
        assert!(err.to_string().contains("names organ `520100GA`"), "{err}");
        assert!(Keyring::new().load(dir.path(), "../etc").is_err());
    }

    #[test]
    fn registry_refuses_a_second_key_for_an_organ() {
        let mut store = SqliteStore::in_memory().expect("store");
        let a = Suite::International
            .signing_key(&[1; 32])
            .unwrap()
            .verifying_key();
        let b = Suite::Guomi.signing_key(&[2; 32]).unwrap().verifying_key();
        assert!(register(&mut store, "GA1", "公安局", OrganKind::Police, &a, "t").expect("first"));
        assert!(!register(&mut store, "GA1", "公安局", OrganKind::Police, &a, "t").expect("same"));
        assert!(register(&mut store, "GA1", "公安局", OrganKind::Police, &b, "t").is_err());
        let reg = Registry::load(&store).expect("load");
        assert_eq!(reg.key("GA1"), Some(&a));
        assert_eq!(reg.kind("GA1"), Some(OrganKind::Police));
        assert_eq!(store.ledger_len().expect("len"), 1);
    }
}
