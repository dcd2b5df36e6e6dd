//! The HTTP surface: one file per wire area, thin handlers, shared plumbing here.

pub mod accounts;
pub mod auth;
pub mod body;
pub mod body_timeout;
pub mod community;
pub mod deck_cache;
pub mod decks;
pub mod health;
pub mod links;
pub mod media;
pub mod middleware;
pub mod notifications;
pub mod pressure;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;

use crate::backup::background::Background;
use crate::bootstrap::Archives;
use crate::config::Config;
use crate::maintenance::MaintenanceStatus;
use crate::media::Media;
use crate::pull::Puller;
use crate::store::Db;
use crate::system::lifecycle::Run;
use crate::system::monitor::history::History;
use crate::system::vitals::Vitals;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub puller: Arc<Puller>,
    pub config: Arc<Config>,
    pub media: Arc<Media>,
    /// Request counts and the memory-pressure flag the monitor sets.
    pub vitals: Arc<Vitals>,
    /// Maintenance and backup outcomes, for STATUS and /metrics.
    pub maintenance: Arc<MaintenanceStatus>,
    /// The memory uploads being decoded may keep together (`decode_memory_bytes`).
    pub decoding: crate::wire::meter::Pool,
    /// Cancelled at shutdown, so long-lived responses (event streams) end.
    pub stop: tokio_util::sync::CancellationToken,
    /// The console's open event streams, bounded overall and per account.
    pub live_pages: Arc<crate::console::events::LivePages>,
    /// The monitor's last 24 hours, for the dashboard's charts.
    pub history: Arc<History>,
    /// This run's start and how the previous one ended, for the dashboard.
    pub run: Arc<Run>,
    /// The backup the dashboard's "Back up now" runs in the background.
    pub backup: Arc<Background>,
    /// Deck archives for new subscribers; `None` when `deck_archive_bytes` is 0.
    pub archives: Option<Arc<Archives>>,
}

/// Every route the add-on calls (docs/protocol.md §1.2) plus health checks.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let auth = Router::new()
        .route("/login", post(accounts::login))
        .route("/refreshToken", post(accounts::refresh))
        .layer(middleware::login_rate_limit(&config));
    let api = Router::new()
        .route("/removeToken", post(accounts::remove_token))
        .route("/CheckUserToken", post(accounts::check_user_token))
        .route("/GetUserHashFromToken", post(accounts::user_hash))
        .route("/createDeck", post(decks::create_deck))
        .route("/submitCard", post(decks::submit_card))
        .route("/CheckDeckAlive", post(decks::check_deck_alive))
        .route("/GetDeckTimestamp/{hash}", get(decks::deck_timestamp))
        .route("/GetProtectedFields/{hash}", get(decks::protected_fields))
        .route("/AddSubscription", post(community::add_subscription))
        .route("/RemoveSubscription", post(community::remove_subscription))
        .route("/submitChangelog", post(decks::submit_changelog))
        .route("/requestRemoval", post(decks::request_removal))
        .route("/CreateDeckLink", post(links::create_deck_link))
        .route("/CreateNewNoteLink", post(links::create_note_links))
        .route("/UploadDeckStats", post(community::upload_deck_stats))
        .route("/GetNotifications", get(notifications::unread))
        .route("/GetNotificationsHistory", get(notifications::history))
        .route("/MarkNotificationsRead", post(notifications::mark_read))
        .route(
            "/GetCommitSnapshot/{id}",
            get(notifications::commit_snapshot),
        )
        .route("/media/check/bulk", post(media::check_bulk))
        .route("/media/confirm/bulk", post(media::confirm_bulk))
        .route("/media/manifest", post(media::manifest))
        .route("/media/missing/{hash}", get(media::missing))
        .route(
            "/media/sanitize/svg",
            post(media::sanitize_svg).layer(DefaultBodyLimit::max(media::SVG_BODY_LIMIT)),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(auth)
        .layer(CompressionLayer::new());
    // Pull answers are already gzip inside base64 and media is compressed already (or
    // served in ranges); compressing them again only costs CPU.
    let pull = Router::new().route("/pullChanges", post(decks::pull_changes));
    let files = Router::new()
        .route("/v1/media/{hash}", get(media::download).put(media::upload))
        .layer(DefaultBodyLimit::max(
            usize::try_from(config.media_max_file_bytes)
                .unwrap_or(usize::MAX)
                .saturating_add(64 * 1024),
        ));
    let archives = Router::new().route(
        "/v1/deck-cache/{hash}/{version}/{file}",
        get(deck_cache::get),
    );
    let console = crate::console::router(&state)
        .route(
            "/",
            get(|| async { axum::response::Redirect::to(crate::console::PREFIX) }),
        )
        .layer(CompressionLayer::new());
    api.merge(pull)
        .merge(files)
        .merge(archives)
        .merge(console)
        .layer(DefaultBodyLimit::max(config.max_small_body_bytes))
        .layer(middleware::cors(&config))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pressure::shed_large_uploads,
        ))
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            body_timeout::answer_408,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::timing,
        ))
        .layer(middleware::trace())
        .layer(middleware::request_id())
        .with_state(state)
}
