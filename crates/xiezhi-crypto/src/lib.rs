//! The platform's cryptography behind one small interface.
//!
//! A deployment chooses one [`Suite`] in its configuration:
//!
//! | primitive | [`Suite::International`] | [`Suite::Guomi`] (国密) |
//! |-----------|--------------------------|--------------------------|
//! | hash      | SHA-256                  | SM3 (GB/T 32905)         |
//! | MAC       | HMAC-SHA-256             | HMAC-SM3                 |
//! | signature | Ed25519 (RFC 8032)       | SM2 with SM3 (GB/T 32918)|
//! | AEAD      | AES-256-GCM              | SM4-GCM (GB/T 32907, RFC 8998) |
//!
//! Every primitive comes from a vetted crate (RustCrypto, dalek); this crate only chooses
//! between them, so the ledger, checkpoints, exchange envelopes and field encryption can be
//! switched per deployment without knowing which algorithms they run. Artifacts name their
//! suite ([`Suite::id`], [`Suite::tag`]) so a verifier knows which one to use.

mod aead;
pub mod bench;
mod error;
mod hash;
mod sign;

pub use aead::{AeadKey, NONCE_LEN, TAG_LEN};
pub use error::CryptoError;
pub use hash::{Digest, Hasher, DIGEST_LEN};
pub use sign::{verify_batch, Signature, SigningKey, VerifyingKey, SIGNATURE_LEN, SM2_DEFAULT_ID};

use std::fmt;
use std::str::FromStr;

/// A set of algorithms used together throughout one deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// SHA-256, HMAC-SHA-256, Ed25519, AES-256-GCM.
    #[serde(rename = "intl")]
    International,
    /// 国密: SM3, HMAC-SM3, SM2, SM4-GCM.
    #[serde(rename = "gm")]
    Guomi,
}

impl Suite {
    /// Both suites, international first.
    pub const ALL: [Suite; 2] = [Suite::International, Suite::Guomi];

    /// Short name written into configuration and text artifacts (`intl`, `gm`).
    pub fn id(self) -> &'static str {
        match self {
            Suite::International => "intl",
            Suite::Guomi => "gm",
        }
    }

    /// One-byte code for binary artifacts (ciphertexts, wrapped keys).
    pub fn tag(self) -> u8 {
        match self {
            Suite::International => 1,
            Suite::Guomi => 2,
        }
    }

    /// The suite a binary artifact's first byte names.
    pub fn from_tag(tag: u8) -> Result<Suite, CryptoError> {
        match tag {
            1 => Ok(Suite::International),
            2 => Ok(Suite::Guomi),
            other => Err(CryptoError::UnknownSuite(format!("tag {other}"))),
        }
    }

    /// Names of the four algorithms, for explanations and documents.
    pub fn hash_name(self) -> &'static str {
        match self {
            Suite::International => "SHA-256",
            Suite::Guomi => "SM3",
        }
    }
    pub fn mac_name(self) -> &'static str {
        match self {
            Suite::International => "HMAC-SHA-256",
            Suite::Guomi => "HMAC-SM3",
        }
    }
    pub fn signature_name(self) -> &'static str {
        match self {
            Suite::International => "Ed25519",
            Suite::Guomi => "SM2-with-SM3",
        }
    }
    pub fn aead_name(self) -> &'static str {
        match self {
            Suite::International => "AES-256-GCM",
            Suite::Guomi => "SM4-GCM",
        }
    }

    /// Hash of `data` in one call.
    pub fn hash(self, data: &[u8]) -> Digest {
        let mut h = self.hasher();
        h.update(data);
        h.finalize()
    }

    /// An incremental hasher.
    pub fn hasher(self) -> Hasher {
        Hasher::new(self)
    }

    /// HMAC of `data` under `key` (any key length).
    pub fn mac(self, key: &[u8], data: &[u8]) -> Digest {
        hash::mac(self, key, data)
    }

    /// Checks a MAC in constant time.
    pub fn mac_verify(self, key: &[u8], data: &[u8], tag: &[u8]) -> Result<(), CryptoError> {
        hash::mac_verify(self, key, data, tag)
    }

    /// Key length of the suite's AEAD in bytes (32 for AES-256, 16 for SM4).
    pub fn aead_key_len(self) -> usize {
        match self {
            Suite::International => 32,
            Suite::Guomi => 16,
        }
    }

    /// An AEAD key from raw bytes of [`Suite::aead_key_len`].
    pub fn aead_key(self, key: &[u8]) -> Result<AeadKey, CryptoError> {
        AeadKey::new(self, key)
    }

    /// A fresh random AEAD key.
    pub fn generate_aead_key(self) -> AeadKey {
        AeadKey::generate(self)
    }

    /// A fresh random signing key.
    pub fn generate_signing_key(self) -> SigningKey {
        SigningKey::generate(self)
    }

    /// A signing key from its 32-byte secret (Ed25519 seed or SM2 private scalar).
    pub fn signing_key(self, secret: &[u8]) -> Result<SigningKey, CryptoError> {
        SigningKey::from_bytes(self, secret)
    }

    /// A verifying key from its encoding (32 bytes for Ed25519, 65-byte SEC1 point for SM2).
    pub fn verifying_key(self, public: &[u8]) -> Result<VerifyingKey, CryptoError> {
        VerifyingKey::from_bytes(self, public)
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Suite {
    type Err = CryptoError;

    /// Accepts `intl`/`international` and `gm`/`guomi`/`国密`.
    fn from_str(s: &str) -> Result<Suite, CryptoError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "intl" | "international" => Ok(Suite::International),
            "gm" | "guomi" | "国密" => Ok(Suite::Guomi),
            other => Err(CryptoError::UnknownSuite(other.to_string())),
        }
    }
}

/// Fills `buf` with secure random bytes: a per-thread ChaCha20 generator seeded from the
/// operating system (as `rand`'s `ThreadRng` does), so sealing a 60-byte field does not cost a
/// system call for its nonce.
pub fn random_bytes(buf: &mut [u8]) {
    use rand_core::{RngCore as _, SeedableRng as _};
    use std::cell::RefCell;
    thread_local! {
        static RNG: RefCell<rand_chacha::ChaCha20Rng> =
            RefCell::new(rand_chacha::ChaCha20Rng::from_rng(rand_core::OsRng)
                .expect("the operating system's random source is available"));
    }
    RNG.with(|rng| rng.borrow_mut().fill_bytes(buf));
}
