//! The `deckd` binary: the server and its admin commands.

use clap::Parser;

mod cli;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("deckd: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
