use xiezhi_insight::{data, eval, extract};
fn main() {
    let d = data::shared_data_dir();
    for (f, file) in [("cail2022", "cail2022-ie/train.json"), ("cail2021", "cail2021-ie/train.json")] {
        let fmt = extract::IeFormat::parse(f).unwrap();
        let ex = data::read_jsonl(&d.join(file), |l| extract::parse_example(l, fmt)).unwrap();
        let (train, test) = data::split(&ex, 0.2, 2022);
        for epochs in [5, 10] {
            let (_t, r) = eval::evaluate_extraction(f, &train, &test, epochs);
            println!("{epochs} {}", serde_json::to_string(&r).unwrap());
        }
    }
}
