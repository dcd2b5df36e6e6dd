//! `deckd user …`

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use deckd::store::{self, Db};
use deckd::{accounts, admin};

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
            let id = admin::create_user_in(db, &name, &password).await?;
            println!(
                "created user {} (id {id})",
                accounts::normalize_username(&name)?
            );
        }
        UserCommand::List => {
            let mut conn = db.reader().acquire().await?;
            for u in store::users::list(&mut conn).await? {
                println!(
                    "{}\t{}\t{}",
                    u.id,
                    u.username,
                    deckd::wire::timestamp::rfc3339(u.created_at)
                );
            }
        }
        UserCommand::Passwd { name } => {
            let name = accounts::normalize_username(&name)?;
            let password = read_password()?;
            accounts::check_password_strength(&password)?;
            let phc =
                tokio::task::spawn_blocking(move || accounts::hash_password(&password)).await??;
            let mut tx = db.begin_write().await?;
            let user = store::users::by_name(&mut tx, &name)
                .await?
                .with_context(|| format!("no user {name}"))?;
            store::users::set_password(&mut tx, &name, &phc).await?;
            store::tokens::remove_all_of(&mut tx, user.id).await?;
            tx.commit().await?;
            println!("password of {name} changed; existing sessions were logged out");
        }
        UserCommand::Remove { name } => {
            let name = accounts::normalize_username(&name)?;
            let mut tx = db.begin_write().await?;
            anyhow::ensure!(
                store::users::remove(&mut tx, &name).await?,
                "no user {name}"
            );
            tx.commit().await?;
            println!("removed user {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
