//! Checkpoint and signed-note tests: round trips, tampering, strict parsing, the exact
//! signature-line format, known answers from the specs, and a cross-check against an
//! independent implementation (the `signed_note` crate, Cloudflare azul).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, SigningKey, Verifier as _};
use sha2::{Digest as _, Sha256};
use xiezhi_ledger::checkpoint::{add_signature, key_hash, open_note, sign_note, MAX_SIGNATURES};
use xiezhi_ledger::{leaf_hash, Checkpoint, CheckpointError, CompactTree, Signer, Verifier};

const ORIGIN: &str = "xiezhi.example/audit";

fn log_signer() -> Signer {
    Signer::new(ORIGIN, SigningKey::from_bytes(&[42u8; 32])).unwrap()
}

fn sample_checkpoint() -> Checkpoint {
    let tree = CompactTree::from_leaves((0u32..1234).map(|i| leaf_hash(&i.to_be_bytes())));
    Checkpoint::new(ORIGIN, tree.size(), tree.root())
}

/// Signs `text` with `signer` (any text, even one that is not a valid checkpoint), so a
/// test can reach the body parser with a correctly signed note.
fn signed(text: &str, signer: &Signer) -> String {
    sign_note(text, signer).unwrap()
}

#[test]
fn sign_open_round_trip() {
    let signer = Signer::generate(ORIGIN).unwrap();
    let checkpoint = sample_checkpoint();
    let note = checkpoint.sign(&signer).unwrap();
    let (opened, names) = Checkpoint::open(&note, &[signer.verifier()]).unwrap();
    assert_eq!(opened, checkpoint);
    assert_eq!(names, vec![ORIGIN.to_owned()]);
}

#[test]
fn round_trip_with_extension_lines_and_empty_tree() {
    let signer = log_signer();
    let mut checkpoint = Checkpoint::new(ORIGIN, 0, xiezhi_ledger::empty_root());
    checkpoint.extensions = vec!["ext one".into(), "ext two".into()];
    let note = checkpoint.sign(&signer).unwrap();
    assert!(note.starts_with(&format!(
        "{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next one\next two\n\n"
    )));
    let (opened, _) = Checkpoint::open(&note, &[signer.verifier()]).unwrap();
    assert_eq!(opened, checkpoint);
}

#[test]
fn signature_line_matches_the_spec_byte_for_byte() {
    let signer = log_signer();
    let checkpoint = sample_checkpoint();
    let note = checkpoint.sign(&signer).unwrap();
    let body = checkpoint.to_note_body();
    assert_eq!(
        body,
        format!(
            "{ORIGIN}\n{}\n{}\n",
            checkpoint.size,
            STANDARD.encode(checkpoint.root)
        )
    );

    // body, blank line, then exactly one line: E2 80 94 (U+2014) 20 name 20 base64 0A.
    let rest = note.strip_prefix(&format!("{body}\n")).unwrap();
    let line = rest.strip_suffix('\n').unwrap();
    assert!(!line.contains('\n'));
    assert_eq!(&line.as_bytes()[..4], b"\xe2\x80\x94 ");
    let (name, encoded) = line["\u{2014} ".len()..].split_once(' ').unwrap();
    assert_eq!(name, ORIGIN);
    let raw = STANDARD.decode(encoded).unwrap();
    assert_eq!(raw.len(), 4 + 64);

    // Key hash: SHA-256(name || 0x0A || 0x01 || public key)[:4], computed independently.
    let public = SigningKey::from_bytes(&[42u8; 32]).verifying_key();
    let mut hasher = Sha256::new();
    hasher.update(ORIGIN.as_bytes());
    hasher.update([0x0a, 0x01]);
    hasher.update(public.as_bytes());
    let digest = hasher.finalize();
    assert_eq!(&raw[..4], &digest[..4]);
    assert_eq!(
        u32::from_be_bytes(raw[..4].try_into().unwrap()),
        signer.key_hash()
    );
    assert_eq!(key_hash(ORIGIN, 0x01, public.as_bytes()), signer.key_hash());

    // The rest is an Ed25519 signature over the body including its final newline.
    let signature = Signature::from_bytes(raw[4..].try_into().unwrap());
    public.verify(body.as_bytes(), &signature).unwrap();
}

#[test]
fn modified_size_root_or_origin_fails() {
    let signer = log_signer();
    let checkpoint = sample_checkpoint();
    let note = checkpoint.sign(&signer).unwrap();
    let verifiers = [signer.verifier()];
    let root_b64 = STANDARD.encode(checkpoint.root);

    let mut other_root = checkpoint.root;
    other_root[0] ^= 1;
    let tampered = [
        note.replacen(
            &format!("\n{}\n", checkpoint.size),
            &format!("\n{}\n", checkpoint.size + 1),
            1,
        ),
        note.replacen(&root_b64, &STANDARD.encode(other_root), 1),
        note.replacen(ORIGIN, "xiezhi.example/other", 1),
        // Extra extension line slipped into the body.
        note.replacen(&format!("{root_b64}\n"), &format!("{root_b64}\nextra\n"), 1),
    ];
    for bad in tampered {
        assert_ne!(bad, note);
        assert!(
            matches!(
                Checkpoint::open(&bad, &verifiers),
                Err(CheckpointError::BadSignature { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn modified_signature_fails() {
    let signer = log_signer();
    let note = sample_checkpoint().sign(&signer).unwrap();
    let (body, line) = note.rsplit_once("\n\n").unwrap();
    let (prefix, encoded) = line.trim_end().rsplit_once(' ').unwrap();
    let raw = STANDARD.decode(encoded).unwrap();
    for i in 4..raw.len() {
        let mut bad = raw.clone();
        bad[i] ^= 0x80;
        let note = format!("{body}\n\n{prefix} {}\n", STANDARD.encode(&bad));
        assert!(matches!(
            Checkpoint::open(&note, &[signer.verifier()]),
            Err(CheckpointError::BadSignature { .. })
        ));
    }
}

#[test]
fn wrong_key_fails() {
    let note = sample_checkpoint().sign(&log_signer()).unwrap();
    // Same name, another key: a different key hash, so the signature is from an unknown
    // key and nothing verifies.
    let impostor = Signer::new(ORIGIN, SigningKey::from_bytes(&[7u8; 32])).unwrap();
    assert!(matches!(
        Checkpoint::open(&note, &[impostor.verifier()]),
        Err(CheckpointError::NoKnownSignature)
    ));
    // Same key, another name.
    let renamed = Signer::new("other.example/log", SigningKey::from_bytes(&[42u8; 32])).unwrap();
    assert!(matches!(
        Checkpoint::open(&note, &[renamed.verifier()]),
        Err(CheckpointError::NoKnownSignature)
    ));
    assert!(matches!(
        Checkpoint::open(&note, &[]),
        Err(CheckpointError::NoKnownSignature)
    ));
}

#[test]
fn a_bad_signature_from_a_known_key_rejects_the_note() {
    let log = log_signer();
    let witness = Signer::new("witness.example/w1", SigningKey::from_bytes(&[9u8; 32])).unwrap();
    let note = sample_checkpoint().sign(&log).unwrap();
    // A line claiming to be the witness's key, over other text.
    let forged = sign_note("something else\n", &witness).unwrap();
    let forged_line = forged.rsplit_once("\n\n").unwrap().1;
    let note = format!("{note}{forged_line}");
    // Only the log key known: the forged witness line is ignored.
    assert!(Checkpoint::open(&note, &[log.verifier()]).is_ok());
    // Witness key known too: its bad signature rejects the whole note.
    assert_eq!(
        Checkpoint::open(&note, &[log.verifier(), witness.verifier()]),
        Err(CheckpointError::BadSignature {
            name: "witness.example/w1".into(),
            key_hash: witness.key_hash()
        })
    );
}

#[test]
fn cosignatures_are_ignored_unless_a_verifier_is_given() {
    let log = log_signer();
    let witness = Signer::new("witness.example/w1", SigningKey::from_bytes(&[9u8; 32])).unwrap();
    let checkpoint = sample_checkpoint();
    let note = checkpoint.sign(&log).unwrap();

    // A c2sp.org/tlog-cosignature (type 0x04) line: key hash over 0x04, payload is an
    // 8-byte timestamp and an Ed25519 signature. No type-0x04 verifier exists here.
    let witness_key = SigningKey::from_bytes(&[9u8; 32]);
    let timestamp: u64 = 1_700_000_000;
    let message = format!(
        "cosignature/v1\ntime {timestamp}\n{}",
        checkpoint.to_note_body()
    );
    let signature = ed25519_dalek::Signer::sign(&witness_key, message.as_bytes());
    let mut raw = key_hash(
        "witness.example/w1",
        0x04,
        witness_key.verifying_key().as_bytes(),
    )
    .to_be_bytes()
    .to_vec();
    raw.extend_from_slice(&timestamp.to_be_bytes());
    raw.extend_from_slice(&signature.to_bytes());
    let note = format!(
        "{note}\u{2014} witness.example/w1 {}\n",
        STANDARD.encode(raw)
    );

    // A plain Ed25519 witness signature added afterwards.
    let note = add_signature(&note, &witness).unwrap();
    assert_eq!(note.matches('\u{2014}').count(), 3);

    let (opened, names) = Checkpoint::open(&note, &[log.verifier()]).unwrap();
    assert_eq!(opened, checkpoint);
    assert_eq!(names, vec![ORIGIN.to_owned()]);

    let (_, names) = Checkpoint::open(&note, &[log.verifier(), witness.verifier()]).unwrap();
    assert_eq!(
        names,
        vec![ORIGIN.to_owned(), "witness.example/w1".to_owned()]
    );

    // Re-adding the same witness replaces its line rather than duplicating it.
    let again = add_signature(&note, &witness).unwrap();
    assert_eq!(again.matches('\u{2014}').count(), 3);
}

#[test]
fn malformed_notes_are_rejected() {
    let signer = log_signer();
    let verifiers = [signer.verifier()];
    let note = sample_checkpoint().sign(&signer).unwrap();
    let (body, line) = note.rsplit_once("\n\n").unwrap();
    let line = line.trim_end_matches('\n');
    let (name_part, encoded) = line.rsplit_once(' ').unwrap();

    let cases: Vec<(&str, String)> = vec![
        ("no blank line", format!("{body}\n{line}\n")),
        ("no signatures", format!("{body}\n\n")),
        ("no final newline", format!("{body}\n\n{line}")),
        (
            "hyphen instead of em dash",
            format!("{body}\n\n{}\n", line.replacen('\u{2014}', "-", 1)),
        ),
        (
            "en dash instead of em dash",
            format!("{body}\n\n{}\n", line.replacen('\u{2014}', "\u{2013}", 1)),
        ),
        (
            "no space after dash",
            format!("{body}\n\n{}\n", line.replacen("\u{2014} ", "\u{2014}", 1)),
        ),
        (
            "bad base64",
            format!("{body}\n\n{name_part} {}!\n", &encoded[1..]),
        ),
        (
            "unpadded base64",
            format!("{body}\n\n{name_part} {}\n", encoded.trim_end_matches('=')),
        ),
        (
            "signature too short",
            format!("{body}\n\n{name_part} AAAAAA==\n"),
        ),
        (
            "signature without name",
            format!("{body}\n\n\u{2014} {encoded}\n"),
        ),
        ("trailing garbage", format!("{note}garbage\n")),
        ("CRLF line endings", note.replace('\n', "\r\n")),
        (
            "tab in text",
            note.replacen(ORIGIN, &format!("{ORIGIN}\t"), 1),
        ),
        ("empty line after signatures", format!("{note}\n")),
    ];
    for (what, bad) in cases {
        assert!(
            matches!(
                Checkpoint::open(&bad, &verifiers),
                Err(CheckpointError::MalformedNote(_))
            ),
            "{what}: {:?}",
            Checkpoint::open(&bad, &verifiers)
        );
    }

    // Too many signature lines.
    let mut many = format!("{body}\n\n");
    for _ in 0..=MAX_SIGNATURES {
        many.push_str(line);
        many.push('\n');
    }
    assert!(matches!(
        Checkpoint::open(&many, &verifiers),
        Err(CheckpointError::MalformedNote(_))
    ));
    // Up to the limit is fine (duplicates of one key count once).
    let mut enough = format!("{body}\n\n");
    for _ in 0..16 {
        enough.push_str(line);
        enough.push('\n');
    }
    assert_eq!(
        Checkpoint::open(&enough, &verifiers).unwrap().1,
        vec![ORIGIN.to_owned()]
    );
}

#[test]
fn malformed_checkpoint_bodies_are_rejected_even_when_correctly_signed() {
    let signer = log_signer();
    let verifiers = [signer.verifier()];
    let root = STANDARD.encode(sample_checkpoint().root);
    let bodies = [
        format!("{ORIGIN}\n12\n"),
        format!("\n12\n{root}\n"),
        format!("{ORIGIN}\n012\n{root}\n"),
        format!("{ORIGIN}\n+12\n{root}\n"),
        format!("{ORIGIN}\n-1\n{root}\n"),
        format!("{ORIGIN}\n1 2\n{root}\n"),
        format!("{ORIGIN}\n12 \n{root}\n"),
        format!("{ORIGIN}\n\n{root}\n"),
        format!("{ORIGIN}\n18446744073709551616\n{root}\n"),
        format!("{ORIGIN}\n12\n{}\n", STANDARD.encode([1u8; 31])),
        format!("{ORIGIN}\n12\n{}\n", STANDARD.encode([1u8; 33])),
        format!("{ORIGIN}\n12\n{}\n", root.trim_end_matches('=')),
        format!("{ORIGIN}\n12\n{}\n", root.replace('=', "")),
        format!("{ORIGIN}\n12\n{} \n", root),
        format!("{ORIGIN}\n12\n{root}\n\nextension after an empty line\n"),
    ];
    for body in bodies {
        let note = signed(&body, &signer);
        assert!(
            matches!(
                Checkpoint::open(&note, &verifiers),
                Err(CheckpointError::MalformedCheckpoint(_))
            ),
            "{body:?}: {:?}",
            Checkpoint::open(&note, &verifiers)
        );
    }
    // A well-formed body signed the same way does open.
    let good = signed(&format!("{ORIGIN}\n12\n{root}\n"), &signer);
    assert_eq!(Checkpoint::open(&good, &verifiers).unwrap().0.size, 12);
}

#[test]
fn invalid_checkpoints_are_not_signed() {
    let signer = log_signer();
    let root = sample_checkpoint().root;
    let mut bad = vec![
        Checkpoint::new("", 1, root),
        Checkpoint::new("two\nlines", 1, root),
        Checkpoint::new("tab\there", 1, root),
    ];
    let mut ext = Checkpoint::new(ORIGIN, 1, root);
    ext.extensions = vec![String::new()];
    bad.push(ext);
    for checkpoint in bad {
        assert!(matches!(
            checkpoint.sign(&signer),
            Err(CheckpointError::MalformedCheckpoint(_))
        ));
    }
    assert!(matches!(
        Signer::new("has space", SigningKey::from_bytes(&[1; 32])),
        Err(CheckpointError::InvalidKeyName(_))
    ));
    assert!(sign_note("no final newline", &signer).is_err());
}

#[test]
fn signer_key_file_round_trip() {
    let signer = Signer::generate(ORIGIN).unwrap();
    let bytes = signer.to_bytes();
    assert!(bytes.starts_with(format!("PRIVATE+KEY+{ORIGIN}+").as_bytes()));
    let restored = Signer::from_bytes(&bytes).unwrap();
    assert_eq!(restored.verifier(), signer.verifier());
    let mut with_newline = bytes.to_vec();
    with_newline.push(b'\n');
    assert_eq!(
        Signer::from_bytes(&with_newline).unwrap().verifier(),
        signer.verifier()
    );
    // Debug output never shows the key.
    let debug = format!("{signer:?}");
    assert!(debug.contains(ORIGIN) && !debug.contains(std::str::from_utf8(&bytes).unwrap()));

    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let hex = format!("{:08x}", signer.key_hash());
    let wrong_hash = text.replacen(&hex, &format!("{:08x}", signer.key_hash() ^ 1), 1);
    assert!(matches!(
        Signer::from_bytes(wrong_hash.as_bytes()),
        Err(CheckpointError::KeyHashMismatch { .. })
    ));
    for bad in [
        text.replacen("PRIVATE+KEY+", "PUBLIC+KEY+", 1),
        text.replacen(&hex, "1234567", 1),
        format!("{text}+extra"),
        text[..text.len() - 4].to_owned(),
    ] {
        assert!(Signer::from_bytes(bad.as_bytes()).is_err(), "{bad}");
    }
    // A fresh key differs from the last.
    assert_ne!(
        Signer::generate(ORIGIN).unwrap().verifier(),
        signer.verifier()
    );
}

#[test]
fn verifier_key_parse_and_print() {
    let verifier = log_signer().verifier();
    let vkey = verifier.to_vkey();
    assert_eq!(vkey.parse::<Verifier>().unwrap(), verifier);
    assert_eq!(verifier.to_string(), vkey);
    let (name, rest) = vkey.split_once('+').unwrap();
    let (hex, encoded) = rest.split_once('+').unwrap();
    assert_eq!(name, ORIGIN);
    assert_eq!(hex, format!("{:08x}", verifier.key_hash()));
    let raw = STANDARD.decode(encoded).unwrap();
    assert_eq!(raw[0], 0x01);
    assert_eq!(raw[1..].to_vec(), verifier.verifying_key().to_bytes());

    let mut other_alg = raw.clone();
    other_alg[0] = 0x02;
    assert_eq!(
        Verifier::from_vkey(&format!("{name}+{hex}+{}", STANDARD.encode(&other_alg))),
        Err(CheckpointError::UnsupportedAlgorithm(0x02))
    );
    assert!(matches!(
        Verifier::from_vkey(&format!("{name}+00000000+{encoded}")),
        Err(CheckpointError::KeyHashMismatch { .. })
    ));
    for bad in [
        format!("{name}+{hex}"),
        format!("{name}+{hex}+{encoded}+x"),
        format!("+{hex}+{encoded}"),
        format!("{name}+{}+{encoded}", &hex[1..]),
        format!("{name}+{hex}+{}", STANDARD.encode(&raw[..32])),
        format!("{name}+{hex}+{}!", &encoded[1..]),
        format!("bad name+{hex}+{encoded}"),
    ] {
        assert!(Verifier::from_vkey(&bad).is_err(), "{bad}");
    }
}

/// Known answer from the c2sp.org/signed-note specification ("Example" section): this
/// verifier key verifies this note.
#[test]
fn signed_note_spec_example() {
    let vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    let note = "This is an example message.\n\n\u{2014} example.com/foo \
                Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    let verifier = Verifier::from_vkey(vkey).unwrap();
    assert_eq!(verifier.to_vkey(), vkey);
    let (text, names) = open_note(note, std::slice::from_ref(&verifier)).unwrap();
    assert_eq!(text, "This is an example message.\n");
    assert_eq!(names, vec!["example.com/foo".to_owned()]);
    let altered = note.replacen("example message", "example massage", 1);
    assert!(matches!(
        open_note(&altered, &[verifier]),
        Err(CheckpointError::BadSignature { .. })
    ));
}

/// The c2sp.org/tlog-checkpoint specification's example checkpoint parses; its key is
/// not published, so it opens as "no known signature", not as malformed.
#[test]
fn tlog_checkpoint_spec_example_parses() {
    let note = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
                \u{2014} example.com/behind-the-sofa \
                Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
    assert_eq!(
        Checkpoint::open(note, &[log_signer().verifier()]),
        Err(CheckpointError::NoKnownSignature)
    );
    let body = note.rsplit_once("\n\n").unwrap().0;
    let checkpoint = Checkpoint::parse_body(&format!("{body}\n")).unwrap();
    assert_eq!(checkpoint.origin, "example.com/behind-the-sofa");
    assert_eq!(checkpoint.size, 20_852_163);
    assert_eq!(checkpoint.to_note_body(), format!("{body}\n"));
}

/// Known answers from golang.org/x/mod/sumdb/note, as carried in the `signed_note` 0.2.0
/// crate documentation: the PeterNeumann signer key, verifier key and signed note, and the
/// EnochRoot key generated from an all-zero seed cosigning it.
#[test]
fn go_note_known_answers() {
    let skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    let text = "If you think cryptography is the answer to your problem,\n\
                then you don't know what your problem is.\n";
    let neumann_line = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    let enoch_line = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    let signer = Signer::from_bytes(skey.as_bytes()).unwrap();
    assert_eq!(&signer.to_bytes()[..], skey.as_bytes());
    assert_eq!(signer.verifier().to_vkey(), vkey);
    let note = sign_note(text, &signer).unwrap();
    assert_eq!(note, format!("{text}\n{neumann_line}"));

    let enoch = Signer::new("EnochRoot", SigningKey::from_bytes(&[0u8; 32])).unwrap();
    let cosigned = add_signature(&note, &enoch).unwrap();
    assert_eq!(cosigned, format!("{text}\n{neumann_line}{enoch_line}"));

    let verifier = Verifier::from_vkey(vkey).unwrap();
    let (opened, names) = open_note(&cosigned, &[verifier, enoch.verifier()]).unwrap();
    assert_eq!(opened, text);
    assert_eq!(
        names,
        vec!["PeterNeumann".to_owned(), "EnochRoot".to_owned()]
    );
}

/// Cross-check with an independent implementation: notes produced here verify with the
/// `signed_note` crate, and notes it produces open here.
#[test]
fn cross_check_with_signed_note_crate() {
    use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};

    let signer = Signer::generate(ORIGIN).unwrap();
    let checkpoint = sample_checkpoint();
    let note = checkpoint.sign(&signer).unwrap();

    // Ours -> theirs.
    let theirs_verifier = StandardVerifier::new(&signer.verifier().to_vkey()).unwrap();
    let parsed = Note::from_bytes(note.as_bytes()).unwrap();
    let (verified, unverified) = parsed
        .verify(&VerifierList::new(vec![Box::new(theirs_verifier)]))
        .unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].name(), ORIGIN);
    assert_eq!(verified[0].id(), signer.key_hash());
    assert!(unverified.is_empty());
    assert_eq!(parsed.text(), checkpoint.to_note_body().as_bytes());
    assert_eq!(
        signed_note::key_id(ORIGIN, &{
            let mut k = vec![0x01];
            k.extend_from_slice(&signer.verifier().verifying_key().to_bytes());
            k
        }),
        signer.key_hash()
    );

    // Theirs -> ours, with our key file read by their signer.
    let theirs_signer =
        StandardSigner::new(std::str::from_utf8(&signer.to_bytes()).unwrap()).unwrap();
    let mut theirs = Note::new(checkpoint.to_note_body().as_bytes(), &[]).unwrap();
    theirs
        .add_sigs(&[&theirs_signer as &dyn signed_note::Signer])
        .unwrap();
    let theirs = String::from_utf8(theirs.to_bytes()).unwrap();
    // Ed25519 is deterministic: both implementations produce the same note.
    assert_eq!(theirs, note);
    let (opened, _) = Checkpoint::open(&theirs, &[signer.verifier()]).unwrap();
    assert_eq!(opened, checkpoint);

    // Their generated key pair works here.
    let (skey, vkey) = signed_note::generate_key(&mut rand_core::OsRng, "witness.example/w2");
    let ours = Signer::from_bytes(skey.as_bytes()).unwrap();
    assert_eq!(ours.verifier().to_vkey(), vkey);
    let cosigned = add_signature(&note, &ours).unwrap();
    let their_list = VerifierList::new(vec![
        Box::new(StandardVerifier::new(&vkey).unwrap()),
        Box::new(StandardVerifier::new(&signer.verifier().to_vkey()).unwrap()),
    ]);
    let (verified, _) = Note::from_bytes(cosigned.as_bytes())
        .unwrap()
        .verify(&their_list)
        .unwrap();
    assert_eq!(verified.len(), 2);
}
