//! The `xiezhi` command line. `main` maps errors to exit codes; `run` dispatches to the
//! commands, which call library code and print for people (in Chinese).

mod access_cmd;
mod bench_scale;
mod casegraph_cmd;
mod cli;
mod commands;
mod graph_cmd;
mod insight_cmd;
mod justice_cmd;
mod keys_cmd;
mod report;
mod request_cmd;
mod serve_cmd;
mod stats_cmd;
mod supervise_cmd;
mod transfer_cmd;
mod user_cmd;
mod witness_cmd;

use clap::Parser;

/// Ingest allocates many small strings per record; glibc's allocator spent a third of a
/// provincial load consolidating free lists, mimalloc does not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args = cli::Cli::parse();
    match commands::run(args) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("错误 (error): {e:#}");
            std::process::exit(2);
        }
    }
}
