use xiezhi_insight::{cail, data, eval, predict::TrainConfig};
fn main() {
    let d = data::shared_data_dir();
    let recs = data::read_jsonl(&d.join("cail2018/train.json"), cail::parse_record).unwrap();
    let (train, test) = data::split(&recs, 0.2, 2018);
    let law = std::fs::read_to_string(data::reference_dir(&d).join("laws/刑法.md")).unwrap();
    let (m, r) = eval::evaluate_prediction(&train, &test, &law, TrainConfig::default());
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
