//! Signatures: Ed25519 or SM2 (with SM3 and the signer's distinguishing identifier).

use ed25519_dalek::Signer as _;
use sm2::dsa::signature::Verifier as _;
use zeroize::Zeroizing;

use crate::{CryptoError, Suite};

/// Both signatures are 64 bytes (Ed25519 `R || S`, SM2 `r || s`).
pub const SIGNATURE_LEN: usize = 64;

/// A signature in its fixed 64-byte form.
pub type Signature = [u8; SIGNATURE_LEN];

/// The distinguishing identifier SM2 binds into every signature when the parties agree on no
/// other (GM/T 0009-2012 §10: `1234567812345678`).
pub const SM2_DEFAULT_ID: &str = "1234567812345678";

/// A private signing key of one suite.
#[derive(Clone)]
pub enum SigningKey {
    Ed25519(Box<ed25519_dalek::SigningKey>),
    Sm2(Box<sm2::dsa::SigningKey>),
}

/// A public verifying key of one suite.
#[derive(Clone, Debug)]
pub enum VerifyingKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    Sm2(Box<sm2::dsa::VerifyingKey>),
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.suite() == other.suite() && self.to_bytes() == other.to_bytes()
    }
}

impl Eq for VerifyingKey {}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({}, <secret>)", self.suite().signature_name())
    }
}

impl SigningKey {
    pub fn generate(suite: Suite) -> SigningKey {
        loop {
            let mut secret = Zeroizing::new([0u8; 32]);
            crate::random_bytes(secret.as_mut());
            // An SM2 scalar must be in [1, n-2]; a random 32 bytes almost always is.
            if let Ok(key) = SigningKey::from_bytes(suite, secret.as_ref()) {
                return key;
            }
        }
    }

    /// From the 32-byte secret (Ed25519 seed, SM2 private scalar, big-endian).
    pub fn from_bytes(suite: Suite, secret: &[u8]) -> Result<SigningKey, CryptoError> {
        let alg = suite.signature_name();
        let bytes: [u8; 32] = secret.try_into().map_err(|_| CryptoError::KeyLength {
            alg,
            expected: 32,
            got: secret.len(),
        })?;
        match suite {
            Suite::International => Ok(SigningKey::Ed25519(Box::new(
                ed25519_dalek::SigningKey::from_bytes(&bytes),
            ))),
            Suite::Guomi => sm2::dsa::SigningKey::from_slice(SM2_DEFAULT_ID, &bytes)
                .map(|k| SigningKey::Sm2(Box::new(k)))
                .map_err(|_| CryptoError::InvalidKey {
                    alg,
                    reason: "private scalar out of range".into(),
                }),
        }
    }

    pub fn suite(&self) -> Suite {
        match self {
            SigningKey::Ed25519(_) => Suite::International,
            SigningKey::Sm2(_) => Suite::Guomi,
        }
    }

    /// The 32-byte secret, zeroed when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        match self {
            SigningKey::Ed25519(k) => Zeroizing::new(k.to_bytes()),
            SigningKey::Sm2(k) => Zeroizing::new(k.to_bytes().into()),
        }
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        match self {
            SigningKey::Ed25519(k) => VerifyingKey::Ed25519(k.verifying_key()),
            SigningKey::Sm2(k) => VerifyingKey::Sm2(Box::new(k.verifying_key().clone())),
        }
    }

    /// Signs `message` (Ed25519 is deterministic; SM2 uses RFC 6979-style deterministic nonces).
    pub fn sign(&self, message: &[u8]) -> Signature {
        match self {
            SigningKey::Ed25519(k) => k.sign(message).to_bytes(),
            SigningKey::Sm2(k) => {
                let sig: sm2::dsa::Signature = k.sign(message);
                sig.to_bytes()
            }
        }
    }
}

impl VerifyingKey {
    /// From its encoding: 32 bytes for Ed25519; a SEC1 point (65 bytes uncompressed or 33
    /// compressed) for SM2.
    pub fn from_bytes(suite: Suite, public: &[u8]) -> Result<VerifyingKey, CryptoError> {
        let alg = suite.signature_name();
        match suite {
            Suite::International => {
                let bytes: [u8; 32] = public.try_into().map_err(|_| CryptoError::KeyLength {
                    alg,
                    expected: 32,
                    got: public.len(),
                })?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map(VerifyingKey::Ed25519)
                    .map_err(|_| CryptoError::InvalidKey {
                        alg,
                        reason: "not a point on the curve".into(),
                    })
            }
            Suite::Guomi => sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DEFAULT_ID, public)
                .map(|k| VerifyingKey::Sm2(Box::new(k)))
                .map_err(|_| CryptoError::InvalidKey {
                    alg,
                    reason: format!("not a SEC1 point on the SM2 curve ({} bytes)", public.len()),
                }),
        }
    }

    pub fn suite(&self) -> Suite {
        match self {
            VerifyingKey::Ed25519(_) => Suite::International,
            VerifyingKey::Sm2(_) => Suite::Guomi,
        }
    }

    /// The encoding [`VerifyingKey::from_bytes`] reads (SM2 uncompressed, 65 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            VerifyingKey::Ed25519(k) => k.to_bytes().to_vec(),
            VerifyingKey::Sm2(k) => k.to_sec1_bytes().into_vec(),
        }
    }

    /// Checks `signature` over `message`. Ed25519 verification is strict (no malleable or
    /// small-order forms).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let alg = self.suite().signature_name();
        let bytes: &[u8; SIGNATURE_LEN] =
            signature
                .try_into()
                .map_err(|_| CryptoError::MalformedSignature {
                    alg,
                    expected: SIGNATURE_LEN,
                    got: signature.len(),
                })?;
        let ok = match self {
            VerifyingKey::Ed25519(k) => {
                let sig = ed25519_dalek::Signature::from_bytes(bytes);
                k.verify_strict(message, &sig).is_ok()
            }
            VerifyingKey::Sm2(k) => match sm2::dsa::Signature::from_bytes(bytes) {
                Ok(sig) => k.verify(message, &sig).is_ok(),
                Err(_) => false,
            },
        };
        if ok {
            Ok(())
        } else {
            Err(CryptoError::BadSignature { alg })
        }
    }
}

impl From<ed25519_dalek::SigningKey> for SigningKey {
    fn from(key: ed25519_dalek::SigningKey) -> SigningKey {
        SigningKey::Ed25519(Box::new(key))
    }
}

impl From<ed25519_dalek::VerifyingKey> for VerifyingKey {
    fn from(key: ed25519_dalek::VerifyingKey) -> VerifyingKey {
        VerifyingKey::Ed25519(key)
    }
}

/// Checks many signatures at once: Ed25519 ones in one batch verification (about twice as
/// fast per signature), falling back to one by one when the batch fails so each answer is the
/// one [`VerifyingKey::verify`] gives; SM2 ones one by one.
pub fn verify_batch(items: &[(&[u8], &[u8], &VerifyingKey)]) -> Vec<bool> {
    let all_ed25519: Option<Vec<(ed25519_dalek::Signature, ed25519_dalek::VerifyingKey)>> = items
        .iter()
        .map(|(_, sig, key)| match key {
            VerifyingKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
                .ok()
                .map(|s| (s, *k)),
            VerifyingKey::Sm2(_) => None,
        })
        .collect();
    if let Some(pairs) = all_ed25519 {
        let msgs: Vec<&[u8]> = items.iter().map(|(m, _, _)| *m).collect();
        let sigs: Vec<ed25519_dalek::Signature> = pairs.iter().map(|(s, _)| *s).collect();
        let keys: Vec<ed25519_dalek::VerifyingKey> = pairs.iter().map(|(_, k)| *k).collect();
        if ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok() {
            return vec![true; items.len()];
        }
    }
    items
        .iter()
        .map(|(m, sig, key)| key.verify(m, sig).is_ok())
        .collect()
}
