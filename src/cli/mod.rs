//! Command-line interface: `serve` (the default) and the admin commands.

mod backup;
mod decks;
mod health;
mod media;
mod review;
mod users;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use deckd::config::{Config, Overrides};
use deckd::store::Db;

/// Self-hosted server for collaborative Anki decks (AnkiCollab add-on compatible).
#[derive(Debug, Parser)]
#[command(name = "deckd", version, about, long_about = None)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "DECKD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory holding the database (created if missing).
    #[arg(long, global = true, env = "DECKD_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (the default when no command is given).
    Serve(ServeArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(users::UserCommand),
    /// Review pending suggestions.
    #[command(subcommand)]
    Review(review::ReviewCommand),
    /// Inspect decks and manage maintainers.
    #[command(subcommand)]
    Deck(decks::DeckCommand),
    /// Maintain the media store.
    #[command(subcommand)]
    Media(media::MediaCommand),
    /// Take and list backups.
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// Restore a backup (refuses while the server runs unless --stop).
    Restore(backup::RestoreArgs),
    /// Exit 0 only if the running server answers ready.
    Healthcheck(health::HealthArgs),
    /// Validate the configuration and print it as TOML.
    CheckConfig,
    /// Print the one-time token the console's first-boot setup asks for.
    SetupToken,
}

#[derive(Debug, Default, clap::Args)]
struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080.
    #[arg(long, env = "DECKD_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Base URL clients use to reach this server (media URLs are built from it).
    #[arg(long, env = "DECKD_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Serve even when running as root (refused by default).
    #[arg(long)]
    allow_root: bool,
}

/// Parses the layered configuration for this invocation.
fn load_config(cli: &Cli, serve: Option<&ServeArgs>) -> anyhow::Result<Config> {
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        listen: serve.and_then(|s| s.listen),
        public_url: serve
            .and_then(|s| s.public_url.as_deref())
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| url::Url::parse(u).with_context(|| format!("--public-url {u:?} is not a URL")))
            .transpose()?,
        allow_root: serve.and_then(|s| s.allow_root.then_some(true)),
    };
    Config::load(cli.config.as_deref(), &overrides)
}

fn runtime(config: &Config) -> anyhow::Result<tokio::runtime::Runtime> {
    deckd::system::allocator::tune();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.worker_threads)
        .max_blocking_threads(8)
        .thread_name("deckd-worker")
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Runs the chosen command and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let serve_defaults = ServeArgs::default();
    let serve = match &cli.command {
        None => Some(&serve_defaults),
        Some(Command::Serve(args)) => Some(args),
        _ => None,
    };
    let config = load_config(&cli, serve)?;
    if let Some(Command::CheckConfig) = cli.command {
        print!(
            "{}",
            toml::to_string_pretty(&config).context("printing configuration")?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if serve.is_some() {
        deckd::system::root::refuse_root(nix::unistd::geteuid(), config.allow_root)?;
        deckd::system::allocator::restart_without_thread_caches();
        deckd::system::logging::init(&config);
        let rt = runtime(&config)?;
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            deckd::launch(config, listener, deckd::server::shutdown_signal()).await
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let rt = runtime(&config)?;
    rt.block_on(async move {
        match cli.command.expect("serve handled above") {
            Command::Healthcheck(args) => health::run(&config, &args).await,
            Command::User(cmd) => {
                with_db(&config, |db| async move { users::run(&db, cmd).await }).await
            }
            Command::Review(cmd) => {
                with_db(&config, |db| async move { review::run(&db, cmd).await }).await
            }
            Command::Deck(cmd) => {
                with_db(&config, |db| async move { decks::run(&db, cmd).await }).await
            }
            Command::Media(cmd) => {
                let config = &config;
                with_db(
                    config,
                    |db| async move { media::run(&db, config, cmd).await },
                )
                .await
            }
            Command::SetupToken => {
                let dir = config.data_dir.clone();
                with_db(
                    &config,
                    |db| async move { users::setup_token(&db, &dir).await },
                )
                .await
            }
            Command::Backup(cmd) => backup::run(&config, cmd).await,
            Command::Restore(args) => backup::restore(&config, args).await,
            Command::Serve(_) | Command::CheckConfig => unreachable!("handled above"),
        }
    })
}

async fn with_db<F, Fut>(config: &Config, f: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(Db) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<ExitCode>>,
{
    let db = Db::open(config).await?;
    let result = f(db.clone()).await;
    db.close().await;
    result
}
