//! The wire format: envelopes and receipts, their canonical bytes and signatures.
//!
//! A signature covers the canonical JSON of the body (struct fields in declaration order, maps
//! sorted) behind a domain prefix, so an envelope can never be passed off as a receipt or the
//! other way round. Signatures come from the deployment's crypto suite (Ed25519 or SM2); each
//! envelope and receipt names its suite, and a receiver accepts it only when that matches the
//! suite of the key the registry holds for the signer. Envelope and receipt digests use the
//! suite's hash. Document contents travel beside the signed body as attachments; the body
//! carries their SHA-256 (the standard's `content_hash` type), which the receiver recomputes.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use xiezhi_crypto::{SigningKey, Suite, VerifyingKey};
use xiezhi_standard::Value;

use crate::kind::TransferKind;

const ENVELOPE_DOMAIN: &[u8] = b"xiezhi-transfer-v1\n";
const RECEIPT_DOMAIN: &[u8] = b"xiezhi-receipt-v1\n";

/// A standard field value on the wire, tagged with its type so the receiver rebuilds exactly
/// the value that was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum WireValue {
    Text(String),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    Code(String),
    Codes(Vec<String>),
    Money(i64),
    Int(i64),
}

impl From<&Value> for WireValue {
    fn from(v: &Value) -> Self {
        match v {
            Value::Text(s) => WireValue::Text(s.clone()),
            Value::Date(d) => WireValue::Date(*d),
            Value::DateTime(d) => WireValue::DateTime(*d),
            Value::Code(s) => WireValue::Code(s.clone()),
            Value::Codes(c) => WireValue::Codes(c.clone()),
            Value::Money(m) => WireValue::Money(*m),
            Value::Int(i) => WireValue::Int(*i),
        }
    }
}

impl From<&WireValue> for Value {
    fn from(v: &WireValue) -> Self {
        match v {
            WireValue::Text(s) => Value::Text(s.clone()),
            WireValue::Date(d) => Value::Date(*d),
            WireValue::DateTime(d) => Value::DateTime(*d),
            WireValue::Code(s) => Value::Code(s.clone()),
            WireValue::Codes(c) => Value::Codes(c.clone()),
            WireValue::Money(m) => Value::Money(*m),
            WireValue::Int(i) => Value::Int(*i),
        }
    }
}

/// A document that travels with a transfer: its kind, number and content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    /// Document kind (`document-kinds.tsv`).
    pub kind: String,
    /// 文书文号.
    pub number: String,
    pub issued_on: Option<NaiveDate>,
    /// SHA-256 of the attachment's bytes, lower-case hex.
    pub sha256: String,
}

/// What a transfer carries: only the fields its kind allows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Payload {
    /// The decision carried (for kinds with decisions, e.g. `approve`).
    pub decision: Option<String>,
    /// The transfer this one answers.
    pub answer_to: Option<String>,
    /// Case fields (standard field name → value).
    pub case: BTreeMap<String, WireValue>,
    pub documents: Vec<DocumentRef>,
    pub note: Option<String>,
}

/// The signed part of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeBody {
    pub id: String,
    pub kind: TransferKind,
    /// Organization code of the sender.
    pub from: String,
    /// Organization code of the receiver.
    pub to: String,
    pub case_uid: String,
    /// 1, 2, 3 … per (sender, case): the receiver applies a case's transfers in this order.
    pub case_seq: u64,
    pub sent_at: NaiveDateTime,
    pub payload: Payload,
}

/// The bytes of one document, beside the signed body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Base64 of the document's bytes.
    pub content: String,
}

impl Attachment {
    pub fn new(bytes: &[u8]) -> Attachment {
        Attachment {
            content: STANDARD.encode(bytes),
        }
    }

    pub fn bytes(&self) -> Option<Vec<u8>> {
        STANDARD.decode(&self.content).ok()
    }
}

/// A signed transfer as it travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub body: EnvelopeBody,
    /// The suite of the signature and digest (`intl`: Ed25519/SHA-256, `gm`: SM2/SM3).
    #[serde(default = "intl")]
    pub suite: Suite,
    /// Base64 signature of the sender's organ key over the body.
    pub signature: String,
    /// One per document, in the order of `body.payload.documents`.
    pub attachments: Vec<Attachment>,
}

/// Errors reading a wire message.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("malformed {what}: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
}

fn canonical<T: Serialize>(domain: &[u8], body: &T) -> Vec<u8> {
    let mut out = domain.to_vec();
    // Serialising plain data into a Vec cannot fail: no maps with non-string keys, no I/O.
    serde_json::to_writer(&mut out, body).unwrap_or_default();
    out
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    xiezhi_store::hex(&Sha256::digest(bytes))
}

/// Lower-case hex of the suite's hash.
pub fn digest_hex(suite: Suite, bytes: &[u8]) -> String {
    xiezhi_store::hex(&suite.hash(bytes))
}

fn intl() -> Suite {
    Suite::International
}

impl EnvelopeBody {
    /// The exact bytes the sender signs.
    pub fn signing_bytes(&self) -> Vec<u8> {
        canonical(ENVELOPE_DOMAIN, self)
    }

    pub fn sign(self, key: &SigningKey, attachments: Vec<Attachment>) -> Envelope {
        self.sign_with_digest(key, attachments).0
    }

    /// Signs and returns the envelope with its digest ([`Envelope::digest`]), serialising the
    /// body once for both.
    pub fn sign_with_digest(
        self,
        key: &SigningKey,
        attachments: Vec<Attachment>,
    ) -> (Envelope, String) {
        let bytes = self.signing_bytes();
        let signature = key.sign(&bytes);
        let digest = digest_hex(key.suite(), &bytes);
        let envelope = Envelope {
            body: self,
            suite: key.suite(),
            signature: STANDARD.encode(signature),
            attachments,
        };
        (envelope, digest)
    }
}

impl Envelope {
    /// The suite's hash of the signed bytes: names this exact content.
    pub fn digest(&self) -> String {
        digest_hex(self.suite, &self.body.signing_bytes())
    }

    /// Whether `key` signed this body under the suite the envelope names.
    pub fn signature_valid(&self, key: &VerifyingKey) -> bool {
        key.suite() == self.suite && verify(key, &self.body.signing_bytes(), &self.signature)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Envelope, WireError> {
        serde_json::from_str(text).map_err(|source| WireError::Json {
            what: "envelope",
            source,
        })
    }
}

/// A message, its base64 signature and the key that should have made it.
pub(crate) type Triple<'a> = (&'a [u8], &'a str, &'a VerifyingKey);

/// Checks many signatures: each thread's share in one batch ([`xiezhi_crypto::verify_batch`]:
/// Ed25519 batch verification, one by one when a batch fails), so the answer per signature is
/// the same as [`VerifyingKey::verify`] gives for honest input.
pub(crate) fn verify_all(items: &[Triple<'_>]) -> Vec<bool> {
    let decoded: Vec<Option<Vec<u8>>> = items
        .iter()
        .map(|(_, sig, _)| STANDARD.decode(sig).ok())
        .collect();
    let indices: Vec<usize> = (0..items.len()).filter(|&i| decoded[i].is_some()).collect();
    let chunk = indices.len().div_ceil(2).max(1);
    let groups: Vec<&[usize]> = indices.chunks(chunk).collect();
    let verdicts = crate::parallel::map(&groups, |group| {
        let batch: Vec<(&[u8], &[u8], &VerifyingKey)> = group
            .iter()
            .map(|&i| {
                let sig = decoded[i].as_deref().unwrap_or_default();
                (items[i].0, sig, items[i].2)
            })
            .collect();
        xiezhi_crypto::verify_batch(&batch)
    });
    let mut out = vec![false; items.len()];
    for (group, verdict) in groups.iter().zip(verdicts) {
        for (&i, ok) in group.iter().zip(verdict) {
            out[i] = ok;
        }
    }
    out
}

/// The bytes a receipt's signature covers.
pub(crate) fn receipt_bytes(body: &ReceiptBody) -> Vec<u8> {
    canonical(RECEIPT_DOMAIN, body)
}

fn verify(key: &VerifyingKey, bytes: &[u8], signature_b64: &str) -> bool {
    let Ok(raw) = STANDARD.decode(signature_b64) else {
        return false;
    };
    key.verify(bytes, &raw).is_ok()
}

/// What a receipt says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// The receiver holds the envelope, verified.
    Delivered,
    /// The receiver applied it to its case.
    Accepted,
    /// The receiver refused it, with a reason.
    Rejected,
}

impl ReceiptStatus {
    pub fn code(self) -> &'static str {
        match self {
            ReceiptStatus::Delivered => "delivered",
            ReceiptStatus::Accepted => "accepted",
            ReceiptStatus::Rejected => "rejected",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            ReceiptStatus::Delivered => "已送达",
            ReceiptStatus::Accepted => "已接收",
            ReceiptStatus::Rejected => "已退回",
        }
    }
}

/// The signed part of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptBody {
    pub envelope_id: String,
    /// Digest of the envelope the receipt answers ([`Envelope::digest`]).
    pub envelope_sha256: String,
    pub status: ReceiptStatus,
    /// Organization code of the receiver, who signs.
    pub by: String,
    pub at: NaiveDateTime,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The receiver's own case number, given on acceptance.
    pub receiver_case_no: Option<String>,
}

/// A receipt signed by the receiving organ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub body: ReceiptBody,
    /// The suite of the signature and digest.
    #[serde(default = "intl")]
    pub suite: Suite,
    pub signature: String,
}

impl ReceiptBody {
    pub fn sign(self, key: &SigningKey) -> Receipt {
        let signature = key.sign(&canonical(RECEIPT_DOMAIN, &self));
        Receipt {
            body: self,
            suite: key.suite(),
            signature: STANDARD.encode(signature),
        }
    }
}

impl Receipt {
    pub fn signature_valid(&self, key: &VerifyingKey) -> bool {
        key.suite() == self.suite
            && verify(key, &canonical(RECEIPT_DOMAIN, &self.body), &self.signature)
    }

    pub fn digest(&self) -> String {
        digest_hex(self.suite, &canonical(RECEIPT_DOMAIN, &self.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(n: u8) -> SigningKey {
        Suite::International.signing_key(&[n; 32]).expect("key")
    }

    fn gm_key(n: u8) -> SigningKey {
        Suite::Guomi.signing_key(&[n; 32]).expect("key")
    }

    fn wire_value() -> impl Strategy<Value = WireValue> {
        prop_oneof![
            ".{0,12}".prop_map(WireValue::Text),
            (2000i32..2030, 1u32..13, 1u32..29).prop_map(|(y, m, d)| WireValue::Date(
                NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
            )),
            "[a-z_]{1,8}".prop_map(WireValue::Code),
            proptest::collection::vec("[0-9]{3}", 0..3).prop_map(WireValue::Codes),
            any::<i64>().prop_map(WireValue::Money),
            any::<i64>().prop_map(WireValue::Int),
        ]
    }

    fn body() -> impl Strategy<Value = EnvelopeBody> {
        (
            "[A-Z0-9-]{1,16}",
            proptest::sample::select(TransferKind::ALL.to_vec()),
            "[0-9]{6,12}",
            ".{0,10}",
            any::<u64>(),
            proptest::collection::btree_map("[a-z_]{1,12}", wire_value(), 0..5),
            proptest::option::of(".{0,20}"),
            proptest::collection::vec(("[a-z_]{1,10}", ".{0,10}", "[0-9a-f]{64}"), 0..3),
        )
            .prop_map(|(id, kind, from, case_uid, case_seq, case, note, docs)| {
                EnvelopeBody {
                    id,
                    kind,
                    to: format!("{from}9"),
                    from,
                    case_uid,
                    case_seq,
                    sent_at: NaiveDate::from_ymd_opt(2024, 3, 1)
                        .and_then(|d| d.and_hms_opt(8, 30, 0))
                        .expect("valid time"),
                    payload: Payload {
                        decision: None,
                        answer_to: None,
                        case,
                        documents: docs
                            .into_iter()
                            .map(|(kind, number, sha256)| DocumentRef {
                                kind,
                                number,
                                issued_on: None,
                                sha256,
                            })
                            .collect(),
                        note,
                    },
                }
            })
    }

    proptest! {
        // Each case signs and verifies several times; 64 cases keep the debug run short.
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The wire form round-trips and the signature survives it: the receiver's re-encoding
        /// of a parsed body is byte-identical to the sender's.
        #[test]
        fn envelope_round_trips_and_verifies(b in body(), content in proptest::collection::vec(any::<u8>(), 0..40)) {
            let env = b.sign(&key(1), vec![Attachment::new(&content)]);
            let back = Envelope::from_json(&env.to_json()).expect("parse");
            prop_assert_eq!(&back, &env);
            prop_assert!(back.signature_valid(&key(1).verifying_key()));
            prop_assert!(!back.signature_valid(&key(2).verifying_key()));
            prop_assert_eq!(back.attachments[0].bytes().expect("base64"), content);
        }

        /// Any change to the signed body breaks the signature.
        #[test]
        fn any_edit_breaks_the_signature(b in body(), seq in any::<u64>()) {
            let env = b.sign(&key(1), Vec::new());
            let mut edited = env.clone();
            prop_assume!(seq != edited.body.case_seq);
            edited.body.case_seq = seq;
            prop_assert!(!edited.signature_valid(&key(1).verifying_key()));
            let mut edited = env;
            edited.body.payload.note = Some(format!("{:?}x", edited.body.payload.note));
            prop_assert!(!edited.signature_valid(&key(1).verifying_key()));
        }
    }

    #[test]
    fn a_receipt_signature_is_not_an_envelope_signature() {
        let at = NaiveDate::from_ymd_opt(2024, 3, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("time");
        let r = ReceiptBody {
            envelope_id: "T1".into(),
            envelope_sha256: "00".into(),
            status: ReceiptStatus::Accepted,
            by: "B".into(),
            at,
            reason: None,
            receiver_case_no: None,
        }
        .sign(&key(3));
        assert!(r.signature_valid(&key(3).verifying_key()));
        let mut forged = r.clone();
        forged.body.status = ReceiptStatus::Rejected;
        assert!(!forged.signature_valid(&key(3).verifying_key()));
        assert_ne!(
            canonical(RECEIPT_DOMAIN, &r.body),
            canonical(ENVELOPE_DOMAIN, &r.body)
        );
    }

    #[test]
    fn batch_verification_names_each_bad_signature() {
        // Mixed suites: the Ed25519 batch path and the SM2 one-by-one path in one call.
        let keys: Vec<SigningKey> = (1..=5)
            .map(|n| if n % 2 == 0 { gm_key(n) } else { key(n) })
            .collect();
        let msgs: Vec<Vec<u8>> = (0..70u8).map(|i| vec![i; 40]).collect();
        let mut sigs: Vec<String> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| STANDARD.encode(keys[i % 5].sign(m)))
            .collect();
        sigs[3] = sigs[4].clone();
        sigs[50] = "not base64".into();
        let public: Vec<VerifyingKey> = keys.iter().map(|k| k.verifying_key()).collect();
        let items: Vec<(&[u8], &str, &VerifyingKey)> = msgs
            .iter()
            .zip(&sigs)
            .enumerate()
            .map(|(i, (m, s))| (m.as_slice(), s.as_str(), &public[i % 5]))
            .collect();
        let got = verify_all(&items);
        let want: Vec<bool> = (0..70).map(|i| i != 3 && i != 50).collect();
        assert_eq!(got, want);
    }

    /// Under 国密 the envelope names its suite, signs with SM2 and digests with SM3; a key
    /// of the other suite never verifies it, and relabelling the suite breaks it.
    #[test]
    fn guomi_envelopes_name_their_suite() {
        let body = EnvelopeBody {
            id: "T1".into(),
            kind: TransferKind::ALL[0],
            from: "A".into(),
            to: "B".into(),
            case_uid: "C".into(),
            case_seq: 1,
            sent_at: NaiveDate::from_ymd_opt(2024, 3, 1)
                .and_then(|d| d.and_hms_opt(8, 30, 0))
                .expect("time"),
            payload: Payload::default(),
        };
        let env = body.clone().sign(&gm_key(1), Vec::new());
        assert_eq!(env.suite, Suite::Guomi);
        let back = Envelope::from_json(&env.to_json()).expect("parse");
        assert!(back.to_json().contains("\"suite\":\"gm\""));
        assert!(back.signature_valid(&gm_key(1).verifying_key()));
        assert!(!back.signature_valid(&gm_key(2).verifying_key()));
        assert_eq!(
            back.digest(),
            xiezhi_store::hex(&Suite::Guomi.hash(&body.signing_bytes()))
        );
        let intl = body.sign(&key(1), Vec::new());
        assert_ne!(intl.digest(), back.digest());
        let mut relabelled = back.clone();
        relabelled.suite = Suite::International;
        assert!(!relabelled.signature_valid(&gm_key(1).verifying_key()));
        assert!(!relabelled.signature_valid(&key(1).verifying_key()));
        let mixed: Vec<(&[u8], &str, &VerifyingKey)> = Vec::new();
        assert!(verify_all(&mixed).is_empty());
    }

    #[test]
    fn malformed_json_is_a_clear_error() {
        let err = Envelope::from_json("{\"body\":1}").expect_err("must fail");
        assert!(err.to_string().starts_with("malformed envelope"), "{err}");
    }
}
