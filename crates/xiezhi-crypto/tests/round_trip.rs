//! Round-trip and tamper properties of every primitive under both suites.

use proptest::prelude::*;
use xiezhi_crypto::{CryptoError, Suite, NONCE_LEN, TAG_LEN};

fn suite() -> impl Strategy<Value = Suite> {
    prop_oneof![Just(Suite::International), Just(Suite::Guomi)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Sealed data opens to itself; any flipped bit, other AAD or other key is refused.
    #[test]
    fn aead_round_trip_and_tamper(
        suite in suite(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..300),
        aad in proptest::collection::vec(any::<u8>(), 0..40),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let key = suite.generate_aead_key();
        let sealed = key.seal(&aad, &plaintext);
        prop_assert_eq!(sealed.len(), NONCE_LEN + plaintext.len() + TAG_LEN);
        prop_assert_eq!(key.open(&aad, &sealed).unwrap(), plaintext.clone());

        let mut tampered = sealed.clone();
        let i = flip.index(tampered.len());
        tampered[i] ^= 1 << bit;
        prop_assert_eq!(key.open(&aad, &tampered), Err(CryptoError::Integrity { alg: suite.aead_name() }));

        let mut other_aad = aad.clone();
        other_aad.push(0);
        prop_assert!(key.open(&other_aad, &sealed).is_err());

        let other = suite.generate_aead_key();
        prop_assert!(other.open(&aad, &sealed).is_err());
    }

    /// A signature verifies under its key and message only; keys survive their encodings.
    #[test]
    fn signature_round_trip(
        suite in suite(),
        message in proptest::collection::vec(any::<u8>(), 0..200),
        flip in any::<prop::sample::Index>(),
    ) {
        let sk = suite.generate_signing_key();
        let vk = sk.verifying_key();
        let sig = sk.sign(&message);
        vk.verify(&message, &sig).unwrap();

        let restored = suite.signing_key(sk.to_bytes().as_ref()).unwrap();
        prop_assert_eq!(restored.verifying_key(), vk.clone());
        let vk2 = suite.verifying_key(&vk.to_bytes()).unwrap();
        vk2.verify(&message, &sig).unwrap();

        let mut bad = sig;
        let i = flip.index(bad.len());
        bad[i] ^= 0x01;
        prop_assert!(vk.verify(&message, &bad).is_err());
        let mut other_msg = message.clone();
        other_msg.push(1);
        prop_assert!(vk.verify(&other_msg, &sig).is_err());
        prop_assert!(suite.generate_signing_key().verifying_key().verify(&message, &sig).is_err());
    }

    /// Incremental hashing equals one-shot hashing for any split; the two suites differ.
    #[test]
    fn hash_incremental_equals_one_shot(
        suite in suite(),
        data in proptest::collection::vec(any::<u8>(), 0..500),
        cut in any::<prop::sample::Index>(),
    ) {
        let at = if data.is_empty() { 0 } else { cut.index(data.len()) };
        let mut h = suite.hasher();
        h.update(&data[..at]);
        h.update(&data[at..]);
        prop_assert_eq!(h.finalize(), suite.hash(&data));
        prop_assert_ne!(Suite::International.hash(&data), Suite::Guomi.hash(&data));
    }

    /// A MAC verifies for its key and data only.
    #[test]
    fn mac_round_trip(
        suite in suite(),
        key in proptest::collection::vec(any::<u8>(), 1..100),
        data in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let tag = suite.mac(&key, &data);
        suite.mac_verify(&key, &data, &tag).unwrap();
        let mut other_key = key.clone();
        other_key[0] ^= 0x80;
        prop_assert!(suite.mac_verify(&other_key, &data, &tag).is_err());
        prop_assert!(suite.mac_verify(&key, &data, &tag[..31]).is_err());
    }
}

#[test]
fn bad_keys_are_named() {
    assert_eq!(
        Suite::Guomi.aead_key(&[0u8; 32]).unwrap_err(),
        CryptoError::KeyLength {
            alg: "SM4-GCM",
            expected: 16,
            got: 32
        }
    );
    assert!(matches!(
        Suite::Guomi.signing_key(&[0u8; 32]),
        Err(CryptoError::InvalidKey {
            alg: "SM2-with-SM3",
            ..
        })
    ));
    assert!(matches!(
        Suite::Guomi.verifying_key(&[4u8; 65]),
        Err(CryptoError::InvalidKey { .. })
    ));
    assert!(matches!(
        Suite::International.verifying_key(&[1u8; 31]),
        Err(CryptoError::KeyLength {
            expected: 32,
            got: 31,
            ..
        })
    ));
    let sk = Suite::International.generate_signing_key();
    assert!(matches!(
        sk.verifying_key().verify(b"m", &[0u8; 63]),
        Err(CryptoError::MalformedSignature { got: 63, .. })
    ));
    assert!(matches!(
        Suite::International
            .generate_aead_key()
            .open(b"", &[0u8; 10]),
        Err(CryptoError::Truncated { .. })
    ));
}

#[test]
fn suite_names_parse_back() {
    for s in Suite::ALL {
        assert_eq!(s.id().parse::<Suite>().unwrap(), s);
        assert_eq!(Suite::from_tag(s.tag()).unwrap(), s);
    }
    assert_eq!("国密".parse::<Suite>().unwrap(), Suite::Guomi);
    assert!(matches!(
        "rsa".parse::<Suite>(),
        Err(CryptoError::UnknownSuite(_))
    ));
    assert!(Suite::from_tag(9).is_err());
}
