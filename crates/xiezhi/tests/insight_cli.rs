//! The insight batch commands end to end: train on the committed slices, then predict and
//! extract through stdin/stdout with malformed lines reported by number.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../xiezhi-insight/tests/fixtures")
        .join(name)
}

fn xiezhi(data: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xiezhi"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn train_predict_and_extract_in_batch() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let slice = fixture("cail2018-slice.jsonl");
    // The statute graph is built from the reference texts, which are not part of the
    // repository; skipped where they are absent, as the statute graph's own tests are.
    let reference = xiezhi_graph::default_reference_dir();
    if !reference.join("laws").exists() {
        eprintln!(
            "reference texts not found at {}: skipped",
            reference.display()
        );
        return;
    }
    let (code, _, err) = xiezhi(
        data,
        &[
            "train",
            "--format",
            "cail2018",
            "--input",
            slice.to_str().unwrap(),
            "--reference",
            reference.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");

    let lines: Vec<String> = std::fs::read_to_string(&slice)
        .unwrap()
        .lines()
        .take(3)
        .map(str::to_string)
        .collect();
    let input = format!("{}\nnot json\n{{\"fact\": 1}}\n\n", lines.join("\n"));
    let errors = data.join("errors.jsonl");
    let (code, out, _) = xiezhi(
        data,
        &[
            "predict",
            "--format",
            "cail2018",
            "--errors",
            errors.to_str().unwrap(),
        ],
        &input,
    );
    assert_eq!(code, 1, "malformed lines make the exit code 1");
    let outs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(outs.len(), 3);
    for o in &outs {
        assert!(!o["accusation"].as_array().unwrap().is_empty());
        assert!(o["relevant_articles"][0].is_u64());
        let t = &o["term_of_imprisonment"];
        assert!(t["imprisonment"].is_u64() && t["death_penalty"].is_boolean());
        assert!(t["life_imprisonment"].is_boolean());
        assert!(o.get("explanation").is_none());
    }
    let errs: Vec<serde_json::Value> = std::fs::read_to_string(&errors)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        errs.iter()
            .map(|e| e["line"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![4, 5]
    );

    let (code, out, _) = xiezhi(
        data,
        &[
            "predict",
            "--format",
            "cail2018",
            "--explain",
            "--errors",
            errors.to_str().unwrap(),
        ],
        &lines[0],
    );
    assert_eq!(code, 0);
    let o: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(o["explanation"]["charges"][0]["decided_by"].is_string());

    // An offence date given in the line picks the 罪名规定 version of the citation; a bad
    // one is reported, not guessed.
    let dated = format!(
        "{{\"fact\": {}, \"offence_date\": \"2014-06-01\"}}\n{{\"fact\": \"被告人盗窃\", \"offence_date\": \"2014-13-01\"}}\n",
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&lines[0]).unwrap()["fact"]).unwrap()
    );
    let (code, out, _) = xiezhi(
        data,
        &[
            "predict",
            "--format",
            "cail2018",
            "--explain",
            "--errors",
            errors.to_str().unwrap(),
        ],
        &dated,
    );
    assert_eq!(code, 1);
    let o: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let path = &o["explanation"]["charges"][0]["statute_path"];
    assert_eq!(path["as_of"], "2014-06-01", "{o}");
    assert_eq!(path["date_source"], "input");
    assert!(std::fs::read_to_string(&errors)
        .unwrap()
        .contains("offence_date"));

    let ie = fixture("cail2022-slice.jsonl");
    let (code, _, err) = xiezhi(
        data,
        &[
            "train",
            "--format",
            "cail2022",
            "--input",
            ie.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let first = std::fs::read_to_string(&ie)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let (code, out, _) = xiezhi(
        data,
        &[
            "extract",
            "--format",
            "cail2022",
            "--errors",
            errors.to_str().unwrap(),
        ],
        &format!("{first}\n{{\"sentText\": 3}}\n"),
    );
    assert_eq!(code, 1);
    let o: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert!(o["entityMentions"]
        .as_array()
        .is_some_and(|m| !m.is_empty()));
    assert!(std::fs::read_to_string(&errors)
        .unwrap()
        .contains("\"line\":2"));

    let judgment = r#"{"text":"被告人林某某犯贩卖毒品罪，贩卖海洛因0.44克，如实供述，判处有期徒刑八个月，并处罚金人民币2000元。"}"#;
    let (code, out, _) = xiezhi(
        data,
        &[
            "extract",
            "--format",
            "judgment",
            "--errors",
            errors.to_str().unwrap(),
        ],
        judgment,
    );
    assert_eq!(code, 0);
    let o: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(o["elements"]["term_months"], 8);
    assert!(o["elements"]["circumstances"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "confession"));
}
