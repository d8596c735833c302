use xiezhi_insight::{cail, data, eval, predict::TrainConfig};
fn main() {
    let d = data::shared_data_dir();
    let recs = data::read_jsonl(&d.join("cail2018/train.json"), cail::parse_record).unwrap();
    let (train, test) = data::split(&recs, 0.2, 2018);
    let law = std::fs::read_to_string(data::reference_dir(&d).join("laws/刑法.md")).unwrap();
    let (m, r) = eval::evaluate_prediction(&train, &test, &law, TrainConfig::default());
    println!("{:?}", eval::evaluate_unseen(&recs, &eval::UNSEEN_CHECK, &law));
    let held = eval::UNSEEN_CHECK;
    let has = |r: &cail::Record| r.meta.accusation.iter().any(|a| held.contains(&a.as_str()));
    let tr: Vec<cail::Record> = recs.iter().filter(|r| !has(r)).cloned().collect();
    let m2 = xiezhi_insight::predict::Predictor::train(&tr, &law, TrainConfig::default());
    for r in recs.iter().filter(|r| has(r)).step_by(20) {
        let p = m2.predict(&r.fact);
        println!("U {:?} truth {:?} p={:.2} | {:?}", p.labels.accusation, r.meta.accusation, p.explanation.charges[0].confidence, p.explanation.statute_matches);
    }
    let mut k = 0;
    for t in &test {
        let p = m.predict(&t.fact);
        if p.explanation.charges.iter().any(|c| c.decided_by == "statute") && k < 15 {
            k += 1;
            println!("{:?} truth {:?} | {:?}", p.labels.accusation, t.meta.accusation, p.explanation.statute_matches);
        }
    }
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
}
#[allow(dead_code)]
fn _x() {}
