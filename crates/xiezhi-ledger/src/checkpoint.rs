//! Checkpoints (signed tree heads) in the c2sp.org/tlog-checkpoint format, carried as
//! c2sp.org/signed-note notes with Ed25519 signatures.
//!
//! A signed checkpoint looks like this (the dash is U+2014 EM DASH):
//!
//! ```text
//! example.com/log
//! 20852163
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//!
//! — example.com/log Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
//! ```
//!
//! The body (note text) is the origin, the tree size in decimal, the base64 root hash and
//! optional extension lines, each ending in a newline. Each signature line carries
//! `base64(key hash || signature)`, where the 4-byte key hash is
//! `SHA-256(name || "\n" || 0x01 || public key)[:4]` for Ed25519.
//!
//! Opening a note follows the signed-note rules: signatures from unknown keys (including
//! witness cosignatures of other types) are ignored, a signature from a known key that
//! fails to verify rejects the whole note, and at least one known key must have signed.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore as _};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::hash::Hash;

/// Signature type byte of Ed25519 note signatures (c2sp.org/signed-note).
pub const ALG_ED25519: u8 = 0x01;

/// Signature type byte of SM2 note signatures (GB/T 32918 with SM3, id `1234567812345678`),
/// for logs of the 国密 suite. C2SP registers no SM2 type; this byte is the platform's own and
/// every verifier of its notes is this code.
pub const ALG_SM2: u8 = 0xF1;

/// The signature type byte of a suite's note keys.
pub fn note_alg(suite: xiezhi_crypto::Suite) -> u8 {
    match suite {
        xiezhi_crypto::Suite::International => ALG_ED25519,
        xiezhi_crypto::Suite::Guomi => ALG_SM2,
    }
}

/// The suite of a note signature type byte, if it is one of a log key.
fn alg_suite(alg: u8) -> Option<xiezhi_crypto::Suite> {
    match alg {
        ALG_ED25519 => Some(xiezhi_crypto::Suite::International),
        ALG_SM2 => Some(xiezhi_crypto::Suite::Guomi),
        _ => None,
    }
}

/// Largest note [`open_note`] accepts, in bytes.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

/// Most signature lines [`open_note`] accepts (the spec requires at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// Prefix of every signature line: U+2014 EM DASH, then a space.
pub(crate) const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Prefix of the signer key text (the golang.org/x/mod/sumdb/note private key format).
const SIGNER_KEY_PREFIX: &str = "PRIVATE+KEY+";

const ED25519_PUBLIC_KEY_LEN: usize = 32;
const ED25519_SIGNATURE_LEN: usize = 64;

/// Errors of checkpoint and note handling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// Key names must be non-empty and contain neither Unicode spaces nor `+`.
    #[error("invalid key name {0:?}: must be non-empty, without spaces or '+'")]
    InvalidKeyName(String),
    /// A verifier key (vkey) string is malformed.
    #[error("malformed verifier key: {0}")]
    MalformedVerifierKey(&'static str),
    /// A signer key file is malformed.
    #[error("malformed signer key: {0}")]
    MalformedSignerKey(&'static str),
    /// The key hash written in a key does not match its name and public key.
    #[error("key hash {got:08x} does not match {want:08x} computed from name and key")]
    KeyHashMismatch {
        /// Key hash written in the key.
        got: u32,
        /// Key hash computed from the name and public key.
        want: u32,
    },
    /// Only Ed25519 (0x01) keys are supported.
    #[error("unsupported signature algorithm 0x{0:02x}")]
    UnsupportedAlgorithm(u8),
    /// The note breaks the signed-note syntax.
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),
    /// The note text is not a valid checkpoint body.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// A signature from a known key failed to verify: the whole note is rejected.
    #[error("invalid signature from known key {name}+{key_hash:08x}")]
    BadSignature {
        /// Key name of the signature line.
        name: String,
        /// Key hash of the signature line.
        key_hash: u32,
    },
    /// Two different verifiers share the same key name and key hash.
    #[error("ambiguous verifiers for key {name}+{key_hash:08x}")]
    AmbiguousKey {
        /// Shared key name.
        name: String,
        /// Shared key hash.
        key_hash: u32,
    },
    /// No signature line came from a known key.
    #[error("no signature from a known key")]
    NoKnownSignature,
    /// The operating system's random number generator failed.
    #[error("operating system randomness unavailable: {0}")]
    Randomness(String),
}

/// Whether `name` is a valid note key name: non-empty, no Unicode spaces, no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

pub(crate) fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    if is_valid_key_name(name) {
        Ok(())
    } else {
        Err(CheckpointError::InvalidKeyName(name.to_owned()))
    }
}

/// Key hash (key ID) of a note key: `SHA-256(name || 0x0A || alg || public key)[:4]`,
/// read big-endian.
pub fn key_hash(name: &str, alg: u8, public_key: &[u8]) -> u32 {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n")
        .chain_update([alg])
        .chain_update(public_key)
        .finalize();
    let (id, _) = digest.split_first_chunk::<4>().unwrap_or((&[0; 4], &[]));
    u32::from_be_bytes(*id)
}

fn note_key_hash(name: &str, key: &xiezhi_crypto::VerifyingKey) -> u32 {
    key_hash(name, note_alg(key.suite()), &key.to_bytes())
}

/// Parses 8 hex digits into a key hash.
pub(crate) fn parse_key_hash(hex: &str) -> Option<u32> {
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

/// The signer key file text, `PRIVATE+KEY+<name>+<hex key hash>+<base64(alg || seed)>` (the
/// golang.org/x/mod/sumdb/note format), wiped on drop. Shared by log and witness keys.
pub(crate) fn encode_signer_key(
    name: &str,
    key_hash: u32,
    alg: u8,
    seed: &[u8; 32],
) -> Zeroizing<Vec<u8>> {
    let mut raw = Zeroizing::new([0u8; 1 + 32]);
    if let Some((a, rest)) = raw.split_first_mut() {
        *a = alg;
        rest.copy_from_slice(seed);
    }
    let encoded = Zeroizing::new(STANDARD.encode(raw.as_slice()));
    let head = format!("{SIGNER_KEY_PREFIX}{name}+{key_hash:08x}+");
    let mut out = Zeroizing::new(Vec::with_capacity(head.len() + encoded.len()));
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(encoded.as_bytes());
    out
}

/// Parses [`encode_signer_key`]'s text for algorithm `alg` (one trailing newline allowed):
/// the name, the key hash as written, and the seed. The caller checks the hash.
pub(crate) fn decode_signer_key(
    bytes: &[u8],
    alg: u8,
) -> Result<(String, u32, Zeroizing<[u8; 32]>), CheckpointError> {
    let malformed = CheckpointError::MalformedSignerKey;
    let text = std::str::from_utf8(bytes).map_err(|_| malformed("not UTF-8"))?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let rest = text
        .strip_prefix(SIGNER_KEY_PREFIX)
        .ok_or(malformed("missing PRIVATE+KEY+ prefix"))?;
    // Names and key hashes contain no '+', but base64 may.
    let mut parts = rest.splitn(3, '+');
    let (Some(name), Some(hex), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed("expected <name>+<key hash>+<key>"));
    };
    check_key_name(name)?;
    let written = parse_key_hash(hex).ok_or(malformed("key hash is not 8 hex digits"))?;
    let raw = Zeroizing::new(
        STANDARD
            .decode(encoded)
            .map_err(|_| malformed("key is not base64"))?,
    );
    let (&found, seed) = raw.split_first().ok_or(malformed("empty key"))?;
    if found != alg {
        return Err(CheckpointError::UnsupportedAlgorithm(found));
    }
    let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
        seed.try_into()
            .map_err(|_| malformed("Ed25519 seed is not 32 bytes"))?,
    );
    Ok((name.to_string(), written, seed))
}

/// The verifier key text, `<name>+<hex key hash>+<base64(alg || public key)>`.
pub(crate) fn encode_vkey(name: &str, key_hash: u32, alg: u8, public: &[u8]) -> String {
    let mut raw = Vec::with_capacity(1 + public.len());
    raw.push(alg);
    raw.extend_from_slice(public);
    format!("{name}+{key_hash:08x}+{}", STANDARD.encode(raw))
}

/// The parts of [`encode_vkey`]'s text: name, key hash as written, algorithm byte, public key.
type VkeyParts = (String, u32, u8, Vec<u8>);

/// Splits [`encode_vkey`]'s text into its parts, checking the name and the hash's form.
fn split_vkey(vkey: &str) -> Result<VkeyParts, CheckpointError> {
    let malformed = CheckpointError::MalformedVerifierKey;
    // Names and key hashes contain no '+', but base64 may.
    let mut parts = vkey.trim().splitn(3, '+');
    let (Some(name), Some(hex), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed("expected <name>+<key hash>+<key>"));
    };
    check_key_name(name)?;
    let written = parse_key_hash(hex).ok_or(malformed("key hash is not 8 hex digits"))?;
    let mut raw = STANDARD
        .decode(encoded)
        .map_err(|_| malformed("key is not base64"))?;
    if raw.is_empty() {
        return Err(malformed("empty key"));
    }
    let alg = raw.remove(0);
    Ok((name.to_string(), written, alg, raw))
}

/// Parses [`encode_vkey`]'s text for algorithm `alg`: the name, the key hash as written, and
/// the Ed25519 key. The caller checks the hash.
pub(crate) fn decode_vkey(
    vkey: &str,
    alg: u8,
) -> Result<(String, u32, VerifyingKey), CheckpointError> {
    let malformed = CheckpointError::MalformedVerifierKey;
    let (name, written, found, public) = split_vkey(vkey)?;
    if found != alg {
        return Err(CheckpointError::UnsupportedAlgorithm(found));
    }
    let public: &[u8; ED25519_PUBLIC_KEY_LEN] = public
        .as_slice()
        .try_into()
        .map_err(|_| malformed("Ed25519 public key is not 32 bytes"))?;
    let key = VerifyingKey::from_bytes(public)
        .map_err(|_| malformed("not a valid Ed25519 public key"))?;
    Ok((name, written, key))
}

/// A parsed signer key text: name, key hash as written, algorithm byte, 32-byte secret.
type SignerKeyParts = (String, u32, u8, Zeroizing<[u8; 32]>);

/// Parses a signer key text of any log key algorithm.
fn decode_signer_key_any(bytes: &[u8]) -> Result<SignerKeyParts, CheckpointError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| CheckpointError::MalformedSignerKey("not UTF-8"))?;
    // Names and key hashes contain no '+', but base64 may.
    let alg = text
        .trim_end()
        .strip_prefix(SIGNER_KEY_PREFIX)
        .and_then(|rest| rest.splitn(3, '+').nth(2))
        .and_then(|k| STANDARD.decode(k).ok())
        .and_then(|raw| raw.first().copied())
        .ok_or(CheckpointError::MalformedSignerKey("key is not base64"))?;
    if alg_suite(alg).is_none() {
        return Err(CheckpointError::UnsupportedAlgorithm(alg));
    }
    let (name, written, seed) = decode_signer_key(bytes, alg)?;
    Ok((name, written, alg, seed))
}

/// Parses a verifier key text of any log key algorithm: name, key hash as written, and key.
fn decode_vkey_any(
    vkey: &str,
) -> Result<(String, u32, xiezhi_crypto::VerifyingKey), CheckpointError> {
    let (name, written, alg, public) = split_vkey(vkey)?;
    let suite = alg_suite(alg).ok_or(CheckpointError::UnsupportedAlgorithm(alg))?;
    let key = xiezhi_crypto::VerifyingKey::from_bytes(suite, &public).map_err(|_| {
        CheckpointError::MalformedVerifierKey("not a valid public key of its algorithm")
    })?;
    Ok((name, written, key))
}

/// A named signing key of a log: Ed25519 (international suite) or SM2 (国密).
#[derive(Clone)]
pub struct Signer {
    name: String,
    key: xiezhi_crypto::SigningKey,
    key_hash: u32,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("suite", &self.key.suite().id())
            .field("key_hash", &format_args!("{:08x}", self.key_hash))
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer named `name` holding `key` (an Ed25519 key, or any suite's key).
    pub fn new(
        name: impl Into<String>,
        key: impl Into<xiezhi_crypto::SigningKey>,
    ) -> Result<Self, CheckpointError> {
        let name = name.into();
        check_key_name(&name)?;
        let key = key.into();
        let key_hash = note_key_hash(&name, &key.verifying_key());
        Ok(Self {
            name,
            key,
            key_hash,
        })
    }

    /// A fresh Ed25519 key named `name`, drawn from the operating system's randomness.
    pub fn generate(name: impl Into<String>) -> Result<Self, CheckpointError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        OsRng
            .try_fill_bytes(seed.as_mut())
            .map_err(|e| CheckpointError::Randomness(e.to_string()))?;
        Self::new(name, SigningKey::from_bytes(&seed))
    }

    /// A fresh key of `suite` (Ed25519 or SM2) named `name`.
    pub fn generate_in(
        name: impl Into<String>,
        suite: xiezhi_crypto::Suite,
    ) -> Result<Self, CheckpointError> {
        Self::new(name, xiezhi_crypto::SigningKey::generate(suite))
    }

    /// The suite of the key; it also names the hash of the log's tree.
    pub fn suite(&self) -> xiezhi_crypto::Suite {
        self.key.suite()
    }

    /// Key name, written in every signature line.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// 4-byte key hash, written at the start of every signature.
    pub fn key_hash(&self) -> u32 {
        self.key_hash
    }

    /// The matching public verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
            key_hash: self.key_hash,
        }
    }

    /// The key file form, `PRIVATE+KEY+<name>+<hex key hash>+<base64(alg || secret)>` (the
    /// golang.org/x/mod/sumdb/note signer key format; alg 0x01 Ed25519, 0xF1 SM2). It is
    /// secret: store it with restrictive permissions. The buffer is wiped on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        encode_signer_key(
            &self.name,
            self.key_hash,
            note_alg(self.key.suite()),
            &self.key.to_bytes(),
        )
    }

    /// Parses the key file form written by [`Signer::to_bytes`]; one trailing newline is
    /// allowed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        let (name, written, alg, seed) = decode_signer_key_any(bytes)?;
        let suite = alg_suite(alg).ok_or(CheckpointError::UnsupportedAlgorithm(alg))?;
        let key = xiezhi_crypto::SigningKey::from_bytes(suite, seed.as_slice())
            .map_err(|_| CheckpointError::MalformedSignerKey("not a valid secret key"))?;
        let signer = Self::new(name, key)?;
        if signer.key_hash != written {
            return Err(CheckpointError::KeyHashMismatch {
                got: written,
                want: signer.key_hash,
            });
        }
        Ok(signer)
    }

    /// The signature line for `text`: `— <name> <base64(key hash || signature)>\n`.
    fn signature_line(&self, text: &str) -> String {
        let signature = self.key.sign(text.as_bytes());
        let mut raw = Vec::with_capacity(4 + ED25519_SIGNATURE_LEN);
        raw.extend_from_slice(&self.key_hash.to_be_bytes());
        raw.extend_from_slice(&signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, STANDARD.encode(raw))
    }
}

/// A named public key (Ed25519 or SM2) that checks note signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key: xiezhi_crypto::VerifyingKey,
    key_hash: u32,
}

impl Verifier {
    /// A verifier named `name` for `key` (an Ed25519 key, or any suite's key).
    pub fn new(
        name: impl Into<String>,
        key: impl Into<xiezhi_crypto::VerifyingKey>,
    ) -> Result<Self, CheckpointError> {
        let name = name.into();
        check_key_name(&name)?;
        let key = key.into();
        let key_hash = note_key_hash(&name, &key);
        Ok(Self {
            name,
            key,
            key_hash,
        })
    }

    /// Parses a verifier key, `<name>+<hex key hash>+<base64(alg || public key)>`.
    pub fn from_vkey(vkey: &str) -> Result<Self, CheckpointError> {
        let (name, written, key) = decode_vkey_any(vkey)?;
        let verifier = Self::new(name, key)?;
        if verifier.key_hash != written {
            return Err(CheckpointError::KeyHashMismatch {
                got: written,
                want: verifier.key_hash,
            });
        }
        Ok(verifier)
    }

    /// The verifier key text, `<name>+<hex key hash>+<base64(alg || public key)>`.
    pub fn to_vkey(&self) -> String {
        encode_vkey(
            &self.name,
            self.key_hash,
            note_alg(self.key.suite()),
            &self.key.to_bytes(),
        )
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// 4-byte key hash.
    pub fn key_hash(&self) -> u32 {
        self.key_hash
    }

    /// The public key.
    pub fn verifying_key(&self) -> &xiezhi_crypto::VerifyingKey {
        &self.key
    }

    /// The suite of the key, which also names the hash of the log's tree.
    pub fn suite(&self) -> xiezhi_crypto::Suite {
        self.key.suite()
    }

    /// The hash of the tree this log key signs checkpoints of.
    pub fn tree_hash(&self) -> crate::hash::TreeHash {
        crate::hash::TreeHash::of_suite(self.key.suite())
    }

    /// Verification (strict for Ed25519: no non-canonical or small-order encodings).
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify(message, signature).is_ok()
    }
}

impl std::fmt::Display for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

impl std::str::FromStr for Verifier {
    type Err = CheckpointError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_vkey(s)
    }
}

/// One parsed signature line.
pub(crate) struct SignatureLine<'a> {
    /// The whole line without its newline, kept verbatim for re-emission.
    pub(crate) line: &'a str,
    pub(crate) name: &'a str,
    pub(crate) key_hash: u32,
    pub(crate) signature: Vec<u8>,
}

/// A note split into its text (with final newline) and signature lines.
pub(crate) struct ParsedNote<'a> {
    pub(crate) text: &'a str,
    pub(crate) signatures: Vec<SignatureLine<'a>>,
}

/// Checks the signed-note rules on a note text: at most [`MAX_NOTE_BYTES`], ends with a
/// newline, no ASCII control characters other than newline.
fn check_note_text(text: &str) -> Result<(), CheckpointError> {
    if text.len() > MAX_NOTE_BYTES {
        return Err(CheckpointError::MalformedNote("note too large"));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(CheckpointError::MalformedNote("control character"));
    }
    if !text.ends_with('\n') {
        return Err(CheckpointError::MalformedNote(
            "text must end with a newline",
        ));
    }
    Ok(())
}

fn parse_signature_line(line: &str) -> Result<SignatureLine<'_>, CheckpointError> {
    let malformed = CheckpointError::MalformedNote;
    let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or(malformed(
        "signature line must start with an em dash and a space",
    ))?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or(malformed("signature line lacks a signature"))?;
    if !is_valid_key_name(name) {
        return Err(malformed("invalid key name in signature line"));
    }
    let raw = STANDARD
        .decode(encoded)
        .map_err(|_| malformed("signature is not base64"))?;
    let Some((id, signature)) = raw.split_first_chunk::<4>() else {
        return Err(malformed("signature too short"));
    };
    if signature.is_empty() {
        return Err(malformed("signature too short"));
    }
    Ok(SignatureLine {
        line,
        name,
        key_hash: u32::from_be_bytes(*id),
        signature: signature.to_vec(),
    })
}

pub(crate) fn parse_note(note: &str) -> Result<ParsedNote<'_>, CheckpointError> {
    let malformed = CheckpointError::MalformedNote;
    check_note_text(note)?;
    // The text ends at the last blank line; signature lines are never empty.
    let split = note
        .rfind("\n\n")
        .ok_or(malformed("no blank line before the signatures"))?;
    let (text, block) = (note.get(..=split), note.get(split + 2..));
    let (Some(text), Some(block)) = (text, block) else {
        return Err(malformed("no blank line before the signatures"));
    };
    let block = block
        .strip_suffix('\n')
        .filter(|block| !block.is_empty())
        .ok_or(malformed("no signature lines"))?;
    let signatures = block
        .split('\n')
        .map(parse_signature_line)
        .collect::<Result<Vec<_>, _>>()?;
    if signatures.len() > MAX_SIGNATURES {
        return Err(malformed("too many signatures"));
    }
    Ok(ParsedNote { text, signatures })
}

/// Signs a note text (which must end with a newline) and returns the signed note:
/// the text, a blank line and the signature line.
pub fn sign_note(text: &str, signer: &Signer) -> Result<String, CheckpointError> {
    check_note_text(text)?;
    Ok(format!("{text}\n{}", signer.signature_line(text)))
}

/// Adds `signer`'s signature to an already signed note (for example a witness cosigning a
/// checkpoint it has verified), replacing any earlier signature by the same key. The
/// existing signatures are not verified here; open the note first.
pub fn add_signature(note: &str, signer: &Signer) -> Result<String, CheckpointError> {
    let parsed = parse_note(note)?;
    let mut out = String::with_capacity(note.len() + 128);
    out.push_str(parsed.text);
    out.push('\n');
    for sig in &parsed.signatures {
        if sig.name == signer.name && sig.key_hash == signer.key_hash {
            continue;
        }
        out.push_str(sig.line);
        out.push('\n');
    }
    out.push_str(&signer.signature_line(parsed.text));
    Ok(out)
}

/// Opens a signed note: parses it strictly and checks its signatures against `verifiers`.
///
/// Returns the note text (with its final newline) and the names of the known keys whose
/// signatures verified, in note order, without duplicates. Signatures from unknown keys
/// (name and key hash not both matching a verifier) are ignored; a signature from a known
/// key that does not verify is an error; so is a note with no known signature.
pub fn open_note<'a>(
    note: &'a str,
    verifiers: &[Verifier],
) -> Result<(&'a str, Vec<String>), CheckpointError> {
    let parsed = parse_note(note)?;
    let mut verified: Vec<String> = Vec::new();
    for sig in &parsed.signatures {
        let mut known = verifiers
            .iter()
            .filter(|v| v.name == sig.name && v.key_hash == sig.key_hash);
        let Some(verifier) = known.next() else {
            continue;
        };
        if known.any(|other| other.key != verifier.key) {
            return Err(CheckpointError::AmbiguousKey {
                name: sig.name.to_owned(),
                key_hash: sig.key_hash,
            });
        }
        if !verifier.verify(parsed.text.as_bytes(), &sig.signature) {
            return Err(CheckpointError::BadSignature {
                name: sig.name.to_owned(),
                key_hash: sig.key_hash,
            });
        }
        if !verified.iter().any(|name| name == sig.name) {
            verified.push(sig.name.to_owned());
        }
    }
    if verified.is_empty() {
        return Err(CheckpointError::NoKnownSignature);
    }
    Ok((parsed.text, verified))
}

/// A tree head: the log's origin, its size and its root hash at that size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Unique identifier of the log, e.g. `xiezhi.example/audit`. Conventionally also the
    /// log's key name.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root hash at `size`.
    pub root: Hash,
    /// Opaque extension lines (NOT RECOMMENDED by the spec; usually empty).
    pub extensions: Vec<String>,
}

fn is_valid_line(line: &str) -> bool {
    !line.is_empty() && !line.chars().any(|c| c < ' ')
}

/// Parses a tree size: ASCII decimal, no sign, no leading zeros except `0` itself.
fn parse_size(line: &str) -> Option<u64> {
    let digits_only = !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = line.len() > 1 && line.starts_with('0');
    if !digits_only || leading_zero {
        return None;
    }
    line.parse().ok()
}

/// Parses a root hash: canonical padded standard base64 of exactly 32 bytes.
fn parse_root(line: &str) -> Option<Hash> {
    let raw = STANDARD.decode(line).ok()?;
    let root: Hash = raw.as_slice().try_into().ok()?;
    (STANDARD.encode(root) == line).then_some(root)
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Checks that the origin and extension lines are non-empty single lines without
    /// control characters, so that the body parses back to `self`.
    pub fn validate(&self) -> Result<(), CheckpointError> {
        if !is_valid_line(&self.origin) {
            return Err(CheckpointError::MalformedCheckpoint(
                "origin must be a non-empty line without control characters",
            ));
        }
        if !self.extensions.iter().all(|line| is_valid_line(line)) {
            return Err(CheckpointError::MalformedCheckpoint(
                "extension lines must be non-empty lines without control characters",
            ));
        }
        Ok(())
    }

    /// The note text: `<origin>\n<size>\n<base64 root>\n` followed by the extension lines.
    /// Call [`Checkpoint::validate`] first if the fields come from outside.
    pub fn to_note_body(&self) -> String {
        let mut body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for line in &self.extensions {
            body.push_str(line);
            body.push('\n');
        }
        body
    }

    /// Parses a note text as a checkpoint body, strictly.
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let malformed = CheckpointError::MalformedCheckpoint;
        let body = text
            .strip_suffix('\n')
            .ok_or(malformed("body must end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|line| is_valid_line(line))
            .ok_or(malformed("origin must be a non-empty line"))?;
        let size = lines
            .next()
            .and_then(parse_size)
            .ok_or(malformed("tree size must be canonical decimal"))?;
        let root = lines
            .next()
            .and_then(parse_root)
            .ok_or(malformed("root hash must be base64 of 32 bytes"))?;
        let extensions = lines
            .map(|line| {
                if is_valid_line(line) {
                    Ok(line.to_owned())
                } else {
                    Err(malformed("extension lines must be non-empty"))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Signs the checkpoint: the full signed note (body, blank line, signature line).
    /// Fails only if the checkpoint does not [`validate`](Checkpoint::validate).
    pub fn sign(&self, signer: &Signer) -> Result<String, CheckpointError> {
        self.validate()?;
        sign_note(&self.to_note_body(), signer)
    }

    /// Opens a signed checkpoint: see [`open_note`] for the signature rules, then parses
    /// the body strictly.
    ///
    /// Returns the checkpoint and the names of the keys that verified. Callers decide which
    /// of those they require (normally the log's own key, whose name should equal the
    /// origin, plus any witness quorum).
    pub fn open(
        note: &str,
        verifiers: &[Verifier],
    ) -> Result<(Checkpoint, Vec<String>), CheckpointError> {
        let (text, names) = open_note(note, verifiers)?;
        Ok((Self::parse_body(text)?, names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_parsing_is_canonical() {
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("10"), Some(10));
        assert_eq!(parse_size("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "00",
            "01",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1e3",
            "18446744073709551616",
        ] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn root_parsing_is_canonical() {
        let root = [7u8; 32];
        let good = STANDARD.encode(root);
        assert_eq!(parse_root(&good), Some(root));
        assert_eq!(parse_root(&good[..43]), None);
        assert_eq!(parse_root(&STANDARD.encode([7u8; 31])), None);
        assert_eq!(parse_root(&STANDARD.encode([7u8; 33])), None);
        // Non-canonical trailing bits in the last character.
        let mut noncanonical = good.clone();
        noncanonical.replace_range(42..43, "d");
        assert_ne!(noncanonical, good);
        assert_eq!(parse_root(&noncanonical), None);
    }

    #[test]
    fn key_names() {
        assert!(is_valid_key_name("xiezhi.example/audit"));
        for bad in ["", "a b", "a+b", "a\u{3000}b", "a\nb"] {
            assert!(!is_valid_key_name(bad), "{bad:?}");
        }
    }
}
