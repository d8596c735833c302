//! Writes `data/statute-sources.tsv`: the reproducible build of the statute graph. Prints the
//! graph's size and, on standard error, how long the build took.
fn main() {
    let started = std::time::Instant::now();
    let g = xiezhi_graph::StatuteGraph::build(&xiezhi_graph::default_reference_dir()).unwrap();
    let built = started.elapsed();
    let path = xiezhi_graph::manifest_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, g.manifest()).unwrap();
    println!("{}", g.manifest().lines().last().unwrap());
    eprintln!("build {:.1} ms", built.as_secs_f64() * 1000.0);
}
