//! Authenticated encryption: AES-256-GCM or SM4-GCM (RFC 8998), both with 96-bit nonces and
//! 128-bit tags.

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, AesGcm};
use sm4::cipher::consts::U12;
use sm4::Sm4;

use crate::{CryptoError, Suite};

/// GCM nonce length in bytes.
pub const NONCE_LEN: usize = 12;
/// GCM tag length in bytes.
pub const TAG_LEN: usize = 16;

type Sm4Gcm = AesGcm<Sm4, U12>;

#[derive(Clone)]
enum Cipher {
    Aes(Box<Aes256Gcm>),
    Sm4(Box<Sm4Gcm>),
}

/// A key of the suite's AEAD.
#[derive(Clone)]
pub struct AeadKey {
    suite: Suite,
    cipher: Cipher,
}

impl std::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AeadKey({}, <secret>)", self.suite.aead_name())
    }
}

impl AeadKey {
    pub fn new(suite: Suite, key: &[u8]) -> Result<AeadKey, CryptoError> {
        let expected = suite.aead_key_len();
        if key.len() != expected {
            return Err(CryptoError::KeyLength {
                alg: suite.aead_name(),
                expected,
                got: key.len(),
            });
        }
        let cipher = match suite {
            Suite::International => Cipher::Aes(Box::new(
                Aes256Gcm::new_from_slice(key).expect("length checked"),
            )),
            Suite::Guomi => Cipher::Sm4(Box::new(
                Sm4Gcm::new_from_slice(key).expect("length checked"),
            )),
        };
        Ok(AeadKey { suite, cipher })
    }

    pub fn generate(suite: Suite) -> AeadKey {
        let mut key = zeroize::Zeroizing::new(vec![0u8; suite.aead_key_len()]);
        crate::random_bytes(&mut key);
        AeadKey::new(suite, &key).expect("generated at the right length")
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Encrypts with an explicit nonce; returns `ciphertext || tag`. The caller must never
    /// reuse a nonce under one key; prefer [`AeadKey::seal`].
    pub fn seal_with_nonce(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Vec<u8> {
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        let nonce = aes_gcm::Nonce::from_slice(nonce);
        match &self.cipher {
            Cipher::Aes(c) => c.encrypt(nonce, payload),
            Cipher::Sm4(c) => c.encrypt(nonce, payload),
        }
        .expect("GCM encryption of an in-memory buffer cannot fail below 64 GiB")
    }

    /// Decrypts `ciphertext || tag` sealed with `nonce` and `aad`.
    pub fn open_with_nonce(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let alg = self.suite.aead_name();
        if ciphertext.len() < TAG_LEN {
            return Err(CryptoError::Truncated {
                alg,
                min: TAG_LEN,
                got: ciphertext.len(),
            });
        }
        let payload = Payload {
            msg: ciphertext,
            aad,
        };
        let nonce = aes_gcm::Nonce::from_slice(nonce);
        match &self.cipher {
            Cipher::Aes(c) => c.decrypt(nonce, payload),
            Cipher::Sm4(c) => c.decrypt(nonce, payload),
        }
        .map_err(|_| CryptoError::Integrity { alg })
    }

    /// Encrypts under a fresh random nonce; returns `nonce || ciphertext || tag`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        crate::random_bytes(&mut nonce);
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&self.seal_with_nonce(&nonce, aad, plaintext));
        out
    }

    /// Opens what [`AeadKey::seal`] produced.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Truncated {
                alg: self.suite.aead_name(),
                min: NONCE_LEN + TAG_LEN,
                got: sealed.len(),
            });
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        self.open_with_nonce(nonce.try_into().expect("split at NONCE_LEN"), aad, rest)
    }
}
