//! `xiezhi justice risk` and `xiezhi justice hotspots` over an ingested synthetic province:
//! the risk model is trained and scored on a held-out part, with every printed figure in
//! range and explained subjects; the hot-spot detector finds the planted mediation surges.

mod common;

use common::xiezhi;

#[test]
fn risk_model_and_hot_spots_on_a_synthetic_province() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let export = data.join("export");
    let export_arg = export.to_str().unwrap();
    let (code, out, err) = xiezhi(
        data,
        &[
            "synth", "--out", export_arg, "--cases", "3000", "--seed", "5",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = xiezhi(data, &["ingest", export_arg]);
    assert_eq!(code, 0, "{out}\n{err}");

    let (code, out, err) = xiezhi(data, &["justice", "risk", "--export", export_arg, "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let eval = &v["evaluation"];
    let held_out = eval["held_out"].as_u64().unwrap();
    assert!(held_out > 200, "{eval}");
    assert_eq!(v["unlabelled"], 0, "every ingested subject has its label");
    let auc = eval["auc"].as_f64().unwrap();
    assert!(
        auc > 0.5 && auc < 1.0,
        "the intake factors carry signal: {auc}"
    );
    assert!(eval["ece"].as_f64().unwrap() < 0.1, "{eval}");
    let bins = eval["reliability"].as_array().unwrap();
    let counted: u64 = bins.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(
        counted, held_out,
        "the reliability curve covers the held-out part"
    );
    let example = &v["examples"][0];
    assert!(
        !example["factors"].as_array().unwrap().is_empty(),
        "{example}"
    );
    assert!(example["method"].as_str().unwrap().contains("logistic"));
    assert!(data.join("models/correction-risk.json").exists());

    let (code, out, err) = xiezhi(
        data,
        &["justice", "hotspots", "--export", export_arg, "--json"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let e = &v["evaluation"];
    assert!(e["planted"].as_u64().unwrap() >= 6, "{e}");
    assert!(e["recall"].as_f64().unwrap() >= 0.8, "{e}");
    assert!(e["false_alarms_per_1000"].as_f64().unwrap() < 5.0, "{e}");
    let p = &v["petition_evaluation"];
    assert!(p["planted"].as_u64().unwrap() >= 1, "{p}");
    assert_eq!(p["detected"], p["planted"], "{p}");
}
