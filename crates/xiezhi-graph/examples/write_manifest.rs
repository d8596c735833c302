//! Writes `data/statute-sources.tsv`: the reproducible build of the statute graph.
fn main() {
    let g = xiezhi_graph::StatuteGraph::build(&xiezhi_graph::default_reference_dir()).unwrap();
    let path = xiezhi_graph::manifest_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, g.manifest()).unwrap();
    print!("{}", g.manifest().lines().last().unwrap());
}
