/// What went wrong, naming the algorithm so an operator can tell a wrong key from a forgery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("unknown crypto suite `{0}` (expected `intl` or `gm`)")]
    UnknownSuite(String),
    #[error("{alg}: key must be {expected} bytes, got {got}")]
    KeyLength {
        alg: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{alg}: invalid key: {reason}")]
    InvalidKey { alg: &'static str, reason: String },
    #[error("{alg}: malformed signature ({got} bytes, expected {expected})")]
    MalformedSignature {
        alg: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{alg}: signature does not verify")]
    BadSignature { alg: &'static str },
    #[error("{alg}: MAC does not verify")]
    BadMac { alg: &'static str },
    /// The ciphertext, its nonce, its associated data or the key is not the one it was
    /// sealed with: tampered, truncated, moved to another row or column, or the wrong key.
    #[error(
        "{alg}: integrity check failed (wrong key, tampered ciphertext or wrong associated data)"
    )]
    Integrity { alg: &'static str },
    #[error("{alg}: ciphertext too short ({got} bytes, at least {min})")]
    Truncated {
        alg: &'static str,
        min: usize,
        got: usize,
    },
    #[error("artifact sealed with suite `{found}` but this deployment uses `{expected}`")]
    SuiteMismatch {
        expected: &'static str,
        found: &'static str,
    },
}
