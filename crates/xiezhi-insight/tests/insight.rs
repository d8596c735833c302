//! Insight on small slices of the real data sets (tests/fixtures): the models must learn, not
//! merely run.

use std::path::Path;

use proptest::prelude::*;
use xiezhi_insight::cail::{self, parse_fact, Record};
use xiezhi_insight::extract::{self, IeFormat};
use xiezhi_insight::predict::{Predictor, TrainConfig};
use xiezhi_insight::{batch, data, eval};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn slice() -> (Vec<Record>, Vec<Record>, String) {
    let recs = data::read_jsonl(&fixture("cail2018-slice.jsonl"), cail::parse_record).unwrap();
    let (train, test) = data::split(&recs, 0.25, 7);
    let law = std::fs::read_to_string(fixture("xingfa-excerpt.md")).unwrap();
    (train, test, law)
}

#[test]
fn predictor_beats_the_majority_baseline_on_held_out_facts() {
    let (train, test, law) = slice();
    let (_, r) = eval::evaluate_prediction(&train, &test, &law, TrainConfig::default());
    // Six charges in equal shares: the majority baseline is about 1/6.
    assert!(r.majority_baseline < 0.3, "{r:?}");
    assert!(r.charges.top1_accuracy > 0.7, "{r:?}");
    assert!(r.articles.top1_accuracy > 0.7, "{r:?}");
    assert!(r.term_score > 0.3, "{r:?}");
}

#[test]
fn saved_model_predicts_the_same_and_explains_itself() {
    let (train, test, law) = slice();
    let m = Predictor::train(&train, &law, TrainConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.model");
    m.save(&path).unwrap();
    let back = Predictor::load(&path).unwrap();
    for r in test.iter().take(10) {
        let (a, b) = (m.predict(&r.fact), back.predict(&r.fact));
        assert_eq!(a.labels, b.labels);
        let c = &a.explanation.charges[0];
        assert!(c.decided_by == "learned" || c.decided_by == "statute");
        if c.decided_by == "learned" {
            assert!(!c.top_features.is_empty());
            assert!(c.confidence > 0.0 && c.confidence <= 1.0);
        }
    }
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(Predictor::load(&path).is_err());
}

#[test]
fn the_statute_names_a_charge_no_example_shows() {
    let (train, _, law) = slice();
    let m = Predictor::train(&train, &law, TrainConfig::default());
    assert!(!m.charges().iter().any(|c| c == "抢劫"));
    let fact = "某某市人民检察院指控：2016年5月3日晚，被告人张某在某路段持刀对被害人李某实施抢劫，\
                以暴力、胁迫方法劫取李某现金人民币2000元及手机一部。被告人张某以抢劫罪被提起公诉。";
    let p = m.predict(fact);
    assert_eq!(
        p.labels.accusation,
        vec!["抢劫".to_string()],
        "{:?}",
        p.explanation
    );
    assert_eq!(p.labels.relevant_articles, vec![263]);
    let c = &p.explanation.charges[0];
    assert_eq!(c.decided_by, "statute");
    assert_eq!(c.basis.as_deref(), Some("刑法第263条"));
}

#[test]
fn prediction_lines_need_a_fact() {
    assert!(parse_fact(r#"{"fact": "被告人盗窃"}"#).is_ok());
    assert!(parse_fact(r#"{"facts": "x"}"#)
        .unwrap_err()
        .contains("missing field `fact`"));
    assert!(parse_fact(r#"{"fact": 3}"#)
        .unwrap_err()
        .contains("not a string"));
    assert!(parse_fact("{").unwrap_err().contains("invalid JSON"));
}

#[test]
fn tagger_learns_entities_from_a_slice_and_writes_the_input_shape() {
    let path = fixture("cail2022-slice.jsonl");
    let ex = data::read_jsonl(&path, |l| extract::parse_example(l, IeFormat::Cail2022)).unwrap();
    let (train, test) = data::split(&ex, 0.2, 3);
    let (tagger, r) = eval::evaluate_extraction("cail2022", &train, &test, 5);
    assert!(r.entities.f1 > 0.6, "{r:?}");
    let line = std::fs::read_to_string(&path).unwrap();
    let first = line.lines().next().unwrap();
    let out: serde_json::Value =
        serde_json::from_str(&extract::extract_line(&tagger, first, IeFormat::Cail2022).unwrap())
            .unwrap();
    let input: serde_json::Value = serde_json::from_str(first).unwrap();
    assert_eq!(out["sentText"], input["sentText"]);
    assert_eq!(out["articleId"], input["articleId"]);
    let text: Vec<char> = out["sentText"].as_str().unwrap().chars().collect();
    for m in out["entityMentions"].as_array().unwrap() {
        let (s, e) = (
            m["start"].as_u64().unwrap() as usize,
            m["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            m["text"].as_str().unwrap(),
            text[s..e].iter().collect::<String>()
        );
    }
    assert!(out["relationMentions"].is_array());
}

proptest! {
    /// Article numbers survive the trip to Chinese numerals (as the statute writes them) and
    /// back (as judgments cite them).
    #[test]
    fn article_numerals_round_trip(n in 1u32..1000) {
        let zh = xiezhi_insight::statute::chinese_number(n);
        prop_assert_eq!(xiezhi_insight::elements::parse_number(&zh), Some(n));
    }

    /// Whatever bytes come in, the batch never panics and every non-blank line is either
    /// written or reported.
    #[test]
    fn batch_accounts_for_every_line(lines in proptest::collection::vec(".{0,40}", 0..20)) {
        let input = lines.join("\n");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let s = batch::run(input.as_bytes(), &mut out, &mut err, |l| {
            parse_fact(l).map(|f| f.chars().count().to_string())
        }).unwrap();
        prop_assert_eq!(s.read, s.written + s.failed);
        prop_assert_eq!(String::from_utf8(err).unwrap().lines().count(), s.failed);
        prop_assert_eq!(String::from_utf8(out).unwrap().lines().count(), s.written);
    }

    /// CAIL2021 spans that are not `start;end` inside the text are rejected with a reason.
    #[test]
    fn cail2021_spans_are_checked(a in 0usize..50, b in 0usize..50) {
        let line = format!(
            r#"{{"id":"x","context":"被告人朱某某盗窃电动车","entities":[{{"label":"NHCS","span":["{a};{b}"]}}]}}"#
        );
        let r = extract::parse_example(&line, IeFormat::Cail2021);
        prop_assert_eq!(r.is_ok(), a < b && b <= 11);
    }
}
