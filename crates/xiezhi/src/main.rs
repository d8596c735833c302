//! The `xiezhi` command line. `main` maps errors to exit codes; `run` dispatches to the
//! commands, which call library code and print for people (in Chinese).

mod cli;
mod commands;
mod report;

use clap::Parser;

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
