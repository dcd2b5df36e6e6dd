//! Layered configuration: built-in defaults < TOML file < `DECKD_*` environment
//! (with `DECKD_<KEY>_FILE` for secrets) < command-line flags.

mod units;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use url::Url;

const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);

/// Everything the server and the admin commands need to know, after all layers are merged.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite database (and later media) lives.
    pub data_dir: PathBuf,
    /// Address the HTTP API binds to.
    pub listen: SocketAddr,
    /// Base URL clients reach this server at; media URLs are built from it.
    #[serde(with = "units::optional_url")]
    pub public_url: Option<Url>,
    /// Tokio worker threads; small by default because a Pi has few cores.
    pub worker_threads: usize,
    /// Read-only SQLite connections (there is always exactly one writer). Streamed pulls
    /// may hold all but one, which stays free for token checks.
    pub read_connections: u32,
    /// How long a statement waits for a lock held by another process (e.g. the CLI).
    #[serde(with = "units::millis")]
    pub busy_timeout_ms: Duration,
    /// Upper bound on cached full-pull answers, in bytes; 0 disables the cache.
    pub pull_cache_bytes: usize,
    /// Largest accepted body for `/createDeck` and `/submitCard`.
    pub max_deck_body_bytes: usize,
    /// Largest accepted body for every other route.
    pub max_small_body_bytes: usize,
    /// Cap on decompressed GZB64 payloads (gzip-bomb guard).
    pub max_decompressed_bytes: u64,
    /// Longest string in any uploaded JSON (a note field, a template, CSS), in decoded bytes.
    pub max_json_string_bytes: u64,
    /// Memory a published deck's tree may keep while it is decoded (names, descriptions,
    /// notetypes and the note being read; the notes themselves go to a spool file).
    pub max_deck_tree_bytes: u64,
    /// Memory a suggestion (`/submitCard`) may keep: its whole tree is held while it is applied.
    pub max_suggestion_bytes: u64,
    /// Memory a statistics upload (`/UploadDeckStats`) may keep.
    pub max_stats_bytes: u64,
    /// Memory all uploads being decoded at once may keep together; an upload that would
    /// go past it is answered 429 with Retry-After.
    pub decode_memory_bytes: u64,
    /// Login attempts allowed per client IP per minute.
    pub login_rate_per_minute: u32,
    /// Proxies whose `X-Forwarded-For`/`X-Real-IP` headers are believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Origins allowed by CORS; empty means no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// Requests slower than this are logged as warnings.
    #[serde(with = "units::millis")]
    pub slow_request_ms: Duration,
    /// How long in-flight requests may take to finish after SIGTERM.
    #[serde(with = "units::secs")]
    pub shutdown_grace_secs: Duration,
    /// Seconds a client may take to send a request's headers; the same timer closes a
    /// keep-alive connection that sits idle this long between requests.
    #[serde(with = "units::secs")]
    pub header_read_timeout_secs: Duration,
    /// Seconds a request body may go without a byte arriving before it is answered 408;
    /// an upload that keeps sending, however slowly, is never cut off.
    #[serde(with = "units::secs")]
    pub body_read_timeout_secs: Duration,
    /// Client connections served at once; more wait in the kernel's accept queue, so idle
    /// sockets cannot use up the file descriptors the database and media files need.
    pub max_connections: usize,
    /// Connections one client address (an IPv6 /64) may hold at once, so one client
    /// trickling bytes cannot take every connection, while a study group behind one
    /// address (about 20 each while syncing media) fits; addresses in `trusted_proxies`
    /// (nginx in front, which limits its own clients) are not counted.
    pub max_connections_per_client: usize,
    /// Default tracing filter, e.g. `info` or `deckd=debug,sqlx=warn`.
    pub log_level: String,
    /// When set (e.g. `/_deckd_media/`), downloads are handed to nginx with `X-Accel-Redirect`.
    pub media_accel_prefix: String,
    /// Largest media file accepted; the add-on skips files above 10 MB anyway.
    pub media_max_file_bytes: u64,
    /// Bytes of media one user may have stored.
    pub media_quota_bytes: u64,
    /// Media uploads one user may make per UTC day.
    pub media_uploads_per_day: u64,
    /// Media downloads one user may make per UTC day.
    pub media_downloads_per_day: u64,
    /// Lifetime of signed upload and download URLs.
    #[serde(with = "units::secs")]
    pub media_token_ttl_secs: Duration,
    /// Memory one image check may allocate while decoding; bigger images are refused.
    pub media_image_max_alloc_bytes: u64,
    /// How long an unreferenced media file is kept before `media gc` removes it.
    #[serde(with = "units::hours")]
    pub media_gc_grace_hours: Duration,
    /// Uploads streamed at once; the rest wait unread, so their buffers stay small.
    pub media_upload_slots: usize,
    /// Disk the deck archives for new subscribers may use (a deck's pull answer and its
    /// media in one zip, fetched instead of one request per file); 0 turns them off.
    pub deck_archive_bytes: u64,
    /// Loopback address for the Prometheus `/metrics` listener; unset keeps metrics off.
    pub metrics_listen: Option<SocketAddr>,
    /// Seconds between resource samples; each one refreshes STATUS, metrics and pressure.
    #[serde(with = "units::secs")]
    pub monitor_interval_secs: Duration,
    /// Host CPU use (percent of all cores) above which a warning is logged.
    pub cpu_warn_percent: f64,
    /// Memory use (percent of the cgroup limit, else of RAM) that warns and sheds large uploads.
    pub memory_warn_percent: f64,
    /// Memory PSI `some avg10` (percent of time stalled) that also counts as memory pressure.
    pub memory_pressure_warn_percent: f64,
    /// Disk use of the data directory's filesystem above which a warning is logged.
    pub disk_warn_percent: f64,
    /// SoC temperature above which a warning is logged (a Pi throttles at 80 °C).
    pub temperature_warn_celsius: f64,
    /// Bodies larger than this get 503 + Retry-After while memory is short.
    pub pressure_large_body_bytes: u64,
    /// cgroup v2 directory to read memory figures from; unset means this process's own cgroup.
    pub monitor_cgroup_dir: Option<PathBuf>,
    /// Lets `serve` run as root; off because a network service should not hold root.
    #[serde(deserialize_with = "figment::util::bool_from_str_or_int")]
    pub allow_root: bool,
    /// Where backups go (e.g. a USB stick); empty means `<data_dir>/backups`.
    pub backup_dir: PathBuf,
    /// Hours between scheduled backups; 0 disables them (`deckd backup now` still works).
    #[serde(with = "units::hours")]
    pub backup_interval_hours: Duration,
    /// Verified backups kept; older ones are pruned only after a new one verified.
    pub backup_keep: usize,
    /// Free space a backup must leave on the backup file system, or it is not started.
    pub backup_min_free_bytes: u64,
    /// At start, replace a damaged database with the newest verified backup (the damaged one is kept).
    pub restore_on_corruption: bool,
    /// Seconds after start before any maintenance job may first run (keeps start-up quick;
    /// a Pi that reboots daily still gets its daily jobs).
    #[serde(with = "units::secs")]
    pub maintenance_start_delay_secs: Duration,
    /// Seconds between WAL checkpoints and incremental vacuums.
    #[serde(with = "units::secs")]
    pub maintenance_interval_secs: Duration,
    /// Seconds between purges of expired tokens, old records and unused media.
    #[serde(with = "units::secs")]
    pub cleanup_interval_secs: Duration,
    /// Days read notifications, statistics uploads and decided suggestions' history are kept.
    #[serde(with = "units::days")]
    pub retention_days: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("deckd-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            worker_threads: 2,
            read_connections: 3,
            busy_timeout_ms: Duration::from_secs(5),
            pull_cache_bytes: 16 * 1024 * 1024,
            max_deck_body_bytes: 250 * 1024 * 1024,
            max_small_body_bytes: 2 * 1024 * 1024,
            max_decompressed_bytes: 256 * 1024 * 1024,
            max_json_string_bytes: 4 * 1024 * 1024,
            max_deck_tree_bytes: 8 * 1024 * 1024,
            max_suggestion_bytes: 24 * 1024 * 1024,
            max_stats_bytes: 16 * 1024 * 1024,
            decode_memory_bytes: 32 * 1024 * 1024,
            login_rate_per_minute: 30,
            trusted_proxies: vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
            ],
            cors_origins: Vec::new(),
            slow_request_ms: Duration::from_millis(500),
            shutdown_grace_secs: Duration::from_secs(10),
            header_read_timeout_secs: Duration::from_secs(10),
            body_read_timeout_secs: Duration::from_secs(30),
            max_connections: 512,
            max_connections_per_client: 128,
            log_level: "info".into(),
            media_accel_prefix: String::new(),
            media_max_file_bytes: 10 * 1024 * 1024,
            media_quota_bytes: 10 * 1024 * 1024 * 1024,
            media_uploads_per_day: 100_000,
            media_downloads_per_day: 100_000,
            media_token_ttl_secs: Duration::from_secs(15 * 60),
            media_image_max_alloc_bytes: 64 * 1024 * 1024,
            media_gc_grace_hours: HOUR * 24,
            media_upload_slots: 4,
            deck_archive_bytes: 1024 * 1024 * 1024,
            metrics_listen: None,
            monitor_interval_secs: Duration::from_secs(15),
            cpu_warn_percent: 80.0,
            memory_warn_percent: 85.0,
            memory_pressure_warn_percent: 20.0,
            disk_warn_percent: 90.0,
            temperature_warn_celsius: 70.0,
            pressure_large_body_bytes: 1024 * 1024,
            monitor_cgroup_dir: None,
            allow_root: false,
            backup_dir: PathBuf::new(),
            backup_interval_hours: HOUR * 24,
            backup_keep: 7,
            backup_min_free_bytes: 64 * 1024 * 1024,
            restore_on_corruption: true,
            maintenance_start_delay_secs: Duration::from_secs(600),
            maintenance_interval_secs: HOUR,
            cleanup_interval_secs: HOUR * 24,
            retention_days: Duration::from_secs(90 * 86_400),
        }
    }
}

/// Values given on the command line; `None` leaves the lower layers in charge.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_root: Option<bool>,
}

impl Config {
    /// Defaults with a given data directory: what tests and embedders start from.
    pub fn for_data_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: dir.into(),
            ..Self::default()
        }
    }

    /// Merges every layer; `file` is the `--config` path if one was given.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            anyhow::ensure!(
                path.is_file(),
                "config file {} does not exist",
                path.display()
            );
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment
            .merge(Env::prefixed("DECKD_").filter(|k| {
                !k.as_str().to_ascii_lowercase().ends_with("_file") && !is_cli_only(k.as_str())
            }))
            .merge(Serialized::defaults(secrets_from_files()?))
            .merge(Serialized::defaults(overrides));
        let config: Config = figment.extract().context("invalid configuration")?;
        config.validate()?;
        Ok(config)
    }

    /// Rejects values that would only fail later, at a worse moment.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.worker_threads >= 1,
            "worker_threads must be at least 1"
        );
        anyhow::ensure!(
            self.read_connections >= 1,
            "read_connections must be at least 1"
        );
        anyhow::ensure!(
            self.max_small_body_bytes >= 1024,
            "max_small_body_bytes must be at least 1024"
        );
        anyhow::ensure!(
            self.max_json_string_bytes >= 1024,
            "max_json_string_bytes must be at least 1024"
        );
        for (key, value) in [
            ("max_deck_tree_bytes", self.max_deck_tree_bytes),
            ("max_suggestion_bytes", self.max_suggestion_bytes),
            ("max_stats_bytes", self.max_stats_bytes),
        ] {
            anyhow::ensure!(
                value >= self.max_json_string_bytes && value <= self.decode_memory_bytes,
                "{key} = {value} must lie between max_json_string_bytes ({}) and decode_memory_bytes ({})",
                self.max_json_string_bytes,
                self.decode_memory_bytes
            );
        }
        anyhow::ensure!(
            self.login_rate_per_minute >= 1,
            "login_rate_per_minute must be at least 1"
        );
        anyhow::ensure!(
            self.header_read_timeout_secs >= SECOND,
            "header_read_timeout_secs must be at least 1"
        );
        anyhow::ensure!(
            self.body_read_timeout_secs >= SECOND,
            "body_read_timeout_secs must be at least 1"
        );
        anyhow::ensure!(
            self.max_connections >= 1,
            "max_connections must be at least 1"
        );
        anyhow::ensure!(
            self.max_connections_per_client >= 1,
            "max_connections_per_client must be at least 1"
        );
        if let Some(url) = &self.public_url {
            anyhow::ensure!(
                matches!(url.scheme(), "http" | "https") && url.has_host(),
                "public_url must start with http:// or https://"
            );
        }
        if !self.media_accel_prefix.is_empty() {
            anyhow::ensure!(
                self.media_accel_prefix.starts_with('/') && self.media_accel_prefix.ends_with('/'),
                "media_accel_prefix must start and end with '/', e.g. /_deckd_media/"
            );
        }
        anyhow::ensure!(
            self.media_upload_slots >= 1,
            "media_upload_slots must be at least 1"
        );
        anyhow::ensure!(
            self.media_max_file_bytes >= 1,
            "media_max_file_bytes must be at least 1"
        );
        anyhow::ensure!(
            self.media_token_ttl_secs >= Duration::from_secs(60),
            "media_token_ttl_secs must be at least 60"
        );
        anyhow::ensure!(self.backup_keep >= 1, "backup_keep must be at least 1");
        anyhow::ensure!(
            self.maintenance_interval_secs >= SECOND,
            "maintenance_interval_secs must be at least 1"
        );
        anyhow::ensure!(
            self.cleanup_interval_secs >= SECOND,
            "cleanup_interval_secs must be at least 1"
        );
        tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .context("log_level is not a valid filter")?;
        if let Some(addr) = self.metrics_listen {
            anyhow::ensure!(
                addr.ip().is_loopback(),
                "metrics_listen = {addr} is not a loopback address; /metrics must stay on this host (use 127.0.0.1 or [::1])"
            );
        }
        anyhow::ensure!(
            self.monitor_interval_secs >= SECOND,
            "monitor_interval_secs must be at least 1"
        );
        for (key, value) in [
            ("cpu_warn_percent", self.cpu_warn_percent),
            ("memory_warn_percent", self.memory_warn_percent),
            (
                "memory_pressure_warn_percent",
                self.memory_pressure_warn_percent,
            ),
            ("disk_warn_percent", self.disk_warn_percent),
        ] {
            anyhow::ensure!(
                value > 0.0 && value <= 100.0,
                "{key} must be in (0, 100], got {value}"
            );
        }
        Ok(())
    }

    /// The base URL clients use, derived from `listen` when not configured.
    pub fn effective_public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }

    /// Path of the SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("deckd.sqlite3")
    }

    /// Where backups are written: `backup_dir`, or `<data_dir>/backups` when unset.
    pub fn backup_path(&self) -> PathBuf {
        if self.backup_dir.as_os_str().is_empty() {
            self.data_dir.join("backups")
        } else {
            self.backup_dir.clone()
        }
    }

    /// Root of the content-addressed media store.
    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }
}

/// `DECKD_CONFIG` names the file itself and is not a setting.
fn is_cli_only(key: &str) -> bool {
    key.eq_ignore_ascii_case("config")
}

/// Reads `DECKD_<KEY>_FILE=/path` variables so secrets never sit in the environment.
fn secrets_from_files() -> anyhow::Result<figment::value::Dict> {
    let mut dict = figment::value::Dict::new();
    for (name, path) in std::env::vars() {
        let Some(key) = name
            .strip_prefix("DECKD_")
            .and_then(|k| k.strip_suffix("_FILE"))
        else {
            continue;
        };
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("reading {name}={path}"))?;
        dict.insert(
            key.to_ascii_lowercase(),
            text.trim_end_matches(['\n', '\r']).into(),
        );
    }
    Ok(dict)
}
