//! `/healthz` (the process answers) and `/readyz` (the database answers, migrations applied).

use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(s): State<AppState>) -> (StatusCode, &'static str) {
    if s.db.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database not ready")
    }
}
