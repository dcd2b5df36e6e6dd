//! The web console: server-rendered pages under one prefix, from the same binary and
//! port as the add-on's API, calling the same domain functions as the add-on handlers
//! and the CLI. Pages work without JavaScript; the script only keeps counts live.

pub mod account;
pub mod admin;
pub mod assets;
pub mod charts;
pub mod dashboard;
pub mod decks;
pub mod diff;
pub mod entry;
pub mod events;
pub mod media;
pub mod notetypes;
pub mod page;
pub mod review;
pub mod session;
pub mod settings;
pub mod stats;

use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::http::{middleware, AppState};

/// Where the console lives; no add-on route starts with it.
pub const PREFIX: &str = "/console";

/// Scripts and styles come from the console's own files only; nothing may frame it.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every console route, meant to be merged into the main router.
pub fn router(state: &AppState) -> Router<AppState> {
    let entry = Router::new()
        .route("/login", post(entry::login))
        .route("/setup", post(entry::setup))
        .route("/invite/{token}", post(entry::signup))
        .layer(middleware::login_rate_limit(&state.config));
    let pages = Router::new()
        .route("/", get(entry::home))
        .route("/login", get(entry::login_page))
        .route("/logout", post(entry::logout))
        .route("/setup", get(entry::setup_page))
        .route("/invite/{token}", get(entry::signup_page))
        .route("/review", get(review::queue_page))
        .route("/review/list", get(review::queue_list))
        .route("/review/{id}", get(review::suggestion_page))
        .route("/review/{id}/approve", post(review::approve))
        .route("/review/{id}/deny", post(review::deny))
        .route("/review/{id}/media", get(review::media))
        .route(
            "/review/{id}/field/{row}/edit",
            get(review::edit_page).post(review::edit_field),
        )
        .route(
            "/review/{id}/{kind}/{row}/{verb}",
            post(review::decide_change),
        )
        .route("/decks", get(decks::list))
        .route("/decks/{hash}", get(decks::deck_page))
        .route("/decks/{hash}/media", get(decks::media))
        .route("/decks/{hash}/changelog", post(decks::post_changelog))
        .route("/decks/{hash}/notes/{guid}", get(decks::note_page))
        .route("/decks/{hash}/settings", get(settings::page))
        .route(
            "/decks/{hash}/settings/description",
            post(settings::description),
        )
        .route(
            "/decks/{hash}/settings/maintainers",
            post(settings::maintainers),
        )
        .route(
            "/decks/{hash}/settings/protected/{notetype}",
            post(settings::protected),
        )
        .route(
            "/decks/{hash}/settings/tag-groups",
            post(settings::tag_groups),
        )
        .route(
            "/decks/{hash}/settings/restrictions",
            post(settings::restrictions),
        )
        .route(
            "/decks/{hash}/changelog/{id}/delete",
            post(settings::delete_changelog),
        )
        .route(
            "/decks/{hash}/settings/links/{link}/remove",
            post(settings::remove_link),
        )
        .route("/decks/{hash}/delete", post(settings::delete_deck))
        .route("/decks/{hash}/stats", get(stats::page))
        .route("/decks/{hash}/stats/chart/{file}", get(stats::chart))
        .route("/decks/{hash}/stats/switch", post(stats::switch))
        .route(
            "/decks/{hash}/notetypes/{id}",
            get(notetypes::edit_page).post(notetypes::save),
        )
        .route("/events", get(events::stream))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route("/account/{kind}/{id}/sign-out", post(account::sign_out))
        .route(
            "/admin/users",
            get(admin::users_page).post(admin::create_user),
        )
        .route("/admin/users/{name}/{action}", post(admin::user_action))
        .route(
            "/admin/invites",
            get(admin::invites).post(admin::make_invite),
        )
        .route("/admin/invites/{id}/withdraw", post(admin::withdraw_invite))
        .route("/admin/box", get(dashboard::page))
        .route("/admin/box/chart/{file}", get(dashboard::chart))
        .route("/admin/box/backup", post(dashboard::backup_now))
        .merge(entry)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::same_origin_posts,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    Router::new()
        .nest(PREFIX, pages)
        .route(&format!("{PREFIX}/static/{{file}}"), get(assets::serve))
        .route(&format!("{PREFIX}/"), get(entry::home))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}
