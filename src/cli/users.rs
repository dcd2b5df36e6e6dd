//! `deckd user …`

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use deckd::domain::{self, Actor};
use deckd::store::Db;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account (password from stdin when piped, prompted otherwise).
    Add { name: String },
    /// List accounts.
    List,
    /// Change a password (stdin or prompt, as `add`); logs the user out everywhere.
    Passwd { name: String },
    /// Delete an account, its sessions and the decks it owns.
    Remove { name: String },
    /// Let an account use the console's Admin pages (on), or no longer (off).
    Admin {
        name: String,
        switch: crate::cli::decks::Switch,
    },
}

/// Reads a password: one line from a pipe, or twice from the terminal without echo.
fn read_password() -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_string());
    }
    let first = rpassword::prompt_password("Password: ")?;
    let second = rpassword::prompt_password("Repeat password: ")?;
    anyhow::ensure!(first == second, "the passwords do not match");
    Ok(first)
}

pub async fn run(db: &Db, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Add { name } => {
            let password = read_password()?;
            let user = domain::users::create(db, Actor::Admin, &name, &password).await?;
            println!("created user {} (id {})", user.name, user.id);
        }
        UserCommand::List => {
            for u in domain::users::list(db, Actor::Admin).await? {
                println!(
                    "{}\t{}\t{}",
                    u.id,
                    u.username,
                    deckd::wire::timestamp::rfc3339(u.created_at)
                );
            }
        }
        UserCommand::Passwd { name } => {
            let password = read_password()?;
            let name = domain::users::set_password(db, Actor::Admin, &name, &password).await?;
            println!("password of {name} changed; existing sessions were logged out");
        }
        UserCommand::Remove { name } => {
            let name = domain::users::remove(db, Actor::Admin, &name).await?;
            println!("removed user {name}");
        }
        UserCommand::Admin { name, switch } => {
            let on = switch == crate::cli::decks::Switch::On;
            let name = domain::users::set_admin(db, Actor::Admin, &name, on).await?;
            if on {
                println!("{name} may now administer the box in the console");
            } else {
                println!("{name} no longer administers the box");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `deckd setup-token`: the token the console's setup page asks for, while no account exists.
pub async fn setup_token(db: &Db, data_dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    use domain::setup::TokenState;
    match domain::setup::read_token(db, data_dir).await? {
        TokenState::Pending(token) => {
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        TokenState::NotWritten => {
            eprintln!(
                "no account exists yet, but the server has not written a setup token: start deckd (systemctl start deckd) and run this again"
            );
            Ok(ExitCode::FAILURE)
        }
        TokenState::Done => {
            eprintln!("this box is already set up; sign in to the console, or `deckd user add` an account");
            Ok(ExitCode::FAILURE)
        }
    }
}
