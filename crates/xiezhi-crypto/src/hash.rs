//! Hash and MAC: SHA-256 / SM3 and HMAC over either.

use hmac::{Hmac, Mac as _};
use sha2::Digest as _;
use sha2::Sha256;
use sm3::Sm3;

use crate::{CryptoError, Suite};

/// Both hashes produce 32 bytes.
pub const DIGEST_LEN: usize = 32;

/// A hash or MAC output.
pub type Digest = [u8; DIGEST_LEN];

/// An incremental hasher of one suite.
#[derive(Clone)]
pub enum Hasher {
    Sha256(Sha256),
    Sm3(Sm3),
}

impl Hasher {
    pub fn new(suite: Suite) -> Hasher {
        match suite {
            Suite::International => Hasher::Sha256(Sha256::new()),
            Suite::Guomi => Hasher::Sm3(Sm3::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sm3(h) => h.update(data),
        }
    }

    pub fn finalize(self) -> Digest {
        match self {
            Hasher::Sha256(h) => h.finalize().into(),
            Hasher::Sm3(h) => h.finalize().into(),
        }
    }
}

pub(crate) fn mac(suite: Suite, key: &[u8], data: &[u8]) -> Digest {
    match suite {
        Suite::International => {
            let mut m = <Hmac<Sha256>>::new_from_slice(key).expect("HMAC takes any key length");
            m.update(data);
            m.finalize().into_bytes().into()
        }
        Suite::Guomi => {
            let mut m = <Hmac<Sm3>>::new_from_slice(key).expect("HMAC takes any key length");
            m.update(data);
            m.finalize().into_bytes().into()
        }
    }
}

pub(crate) fn mac_verify(
    suite: Suite,
    key: &[u8],
    data: &[u8],
    tag: &[u8],
) -> Result<(), CryptoError> {
    let ok = match suite {
        Suite::International => {
            let mut m = <Hmac<Sha256>>::new_from_slice(key).expect("HMAC takes any key length");
            m.update(data);
            m.verify_slice(tag).is_ok()
        }
        Suite::Guomi => {
            let mut m = <Hmac<Sm3>>::new_from_slice(key).expect("HMAC takes any key length");
            m.update(data);
            m.verify_slice(tag).is_ok()
        }
    };
    if ok {
        Ok(())
    } else {
        Err(CryptoError::BadMac {
            alg: suite.mac_name(),
        })
    }
}
