//! Tunes the statute overrides on `eval::UNSEEN_TUNE` (never on the reported left-out sets):
//! `cargo run --release -p xiezhi-insight --example tune_overrides [slack] [pseudo-weight]`
//! trains without the tuning charges on 80 % of the rest, then prints the candidates with the
//! most left-out recall whose seen-charge top-1 and micro-F1 on the other 20 % stay within
//! `slack` (default 0.005) of the learned model alone.

use xiezhi_insight::predict::{Overrides, Predictor, StatuteSources, TrainConfig};
use xiezhi_insight::{cail, data, eval};

fn main() {
    let shared = data::shared_data_dir();
    let statute = StatuteSources::load(&data::reference_dir(&shared)).expect("statute graph");
    let records =
        data::read_jsonl(&shared.join("cail2018/train.json"), cail::parse_record).expect("data");
    let held = &eval::UNSEEN_TUNE;
    let (rest, unseen) = eval::unseen_split(&records, held);
    let (train, validation) = data::split(&rest, 0.2, 2018);
    let cfg = TrainConfig {
        statute_example_weight: std::env::args().nth(2).map_or(0.0, |a| a.parse().unwrap()),
        ..TrainConfig::default()
    };
    let t0 = std::time::Instant::now();
    let model = Predictor::train(&train, &statute, cfg);
    eprintln!("trained in {:.1} s", t0.elapsed().as_secs_f64());
    let mut grid = vec![Overrides::never(), Overrides::default()];
    for cw in [0.0f32, 0.5] {
        for rb in [0.5f32, 0.8, 0.95, 1.01] {
            for rm in [0.2f32, 0.3, 0.45] {
                for rr in [0.9f32, 1.2, 1.6] {
                    for am in [0.2f32, 0.3, 0.45, f32::INFINITY] {
                        for ar in [1.0f32, 1.3, 1.6] {
                            for us in [f32::NEG_INFINITY, 0.0, 2.0, 4.0, 6.0, 9.0] {
                                grid.push(Overrides {
                                    coverage_weight: cw,
                                    named_below: 0.6,
                                    replace_below: rb,
                                    replace_min: rm,
                                    replace_ratio: rr,
                                    add_min: am,
                                    add_ratio: ar,
                                    unlabeled_shift: us,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    let mut out = eval::tune_overrides(&model, &grid, &validation, &unseen, held);
    let show = |p: &(Overrides, xiezhi_insight::cail::LabelScores, f64)| {
        println!(
            "top1 {:.3} micro {:.3} exact {:.3} recall {:.3} {:?}",
            p.1.top1_accuracy, p.1.micro_f1, p.1.exact_accuracy, p.2, p.0
        )
    };
    show(&out[0]);
    show(&out[1]);
    let slack: f64 = std::env::args()
        .nth(1)
        .map_or(0.005, |a| a.parse().unwrap());
    let (t0, m0) = (out[0].1.top1_accuracy, out[0].1.micro_f1);
    out.retain(|p| p.1.top1_accuracy >= t0 - slack && p.1.micro_f1 >= m0 - slack);
    out.sort_by(|a, b| {
        b.2.total_cmp(&a.2)
            .then(b.1.micro_f1.total_cmp(&a.1.micro_f1))
    });
    for p in out.iter().take(8) {
        show(p);
    }
}
