//! Cross-cutting layers: request ids and tracing, `X-Process-Time`, request counts
//! and slow-request warnings, CORS, and the per-IP login rate limit keyed on the client
//! address that trusted proxies vouch for.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response};
use axum::middleware::Next;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, RequestId, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::AppState;
use crate::config::Config;
use crate::system::prometheus;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives every request an `x-request-id` (kept if the proxy already set one).
pub fn request_id() -> SetRequestIdLayer<MakeRequestUuid> {
    SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid)
}

type MakeSpan = fn(&Request) -> tracing::Span;

/// One span per request carrying the fields the journal indexes; `user` and `deck`
/// are filled in by the handlers that learn them.
pub fn trace() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeSpan> {
    TraceLayer::new_for_http()
        .make_span_with(request_span as MakeSpan)
        .on_response(DefaultOnResponse::new().level(Level::DEBUG))
}

fn request_span(req: &Request) -> tracing::Span {
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|r| r.header_value().to_str().ok())
        .unwrap_or("-");
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched");
    let empty = tracing::field::Empty;
    tracing::info_span!("request", request_id = %id, method = %req.method(), route = %route, user = empty, deck = empty)
}

/// Health probes (the watchdog's every few seconds) are neither counted nor logged at info.
fn is_probe(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz")
}

/// Adds `X-Process-Time` (seconds), counts the request and logs it with its status
/// and latency; slower than `slow_request_ms` is a warning.
pub async fn timing(State(s): State<AppState>, req: Request, next: Next) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let route = template
        .clone()
        .unwrap_or_else(|| req.uri().path().to_string());
    let mut resp = next.run(req).await;
    let elapsed = started.elapsed();
    if let Ok(v) = HeaderValue::from_str(&format!("{:.6}", elapsed.as_secs_f64())) {
        resp.headers_mut().insert("x-process-time", v);
    }
    let status = resp.status().as_u16();
    let latency_ms = elapsed.as_millis() as u64;
    prometheus::count_request(template.as_deref().unwrap_or("unmatched"), status);
    let slow = elapsed >= s.config.slow_request_ms;
    if slow {
        tracing::warn!(%method, %route, status, latency_ms, "slow request");
    } else if is_probe(&route) {
        tracing::debug!(%method, %route, status, latency_ms, "request served");
    } else {
        tracing::info!(%method, %route, status, latency_ms, "request served");
    }
    if !is_probe(&route) {
        s.vitals.count_request(slow);
    }
    resp
}

/// CORS only when origins are configured.
pub fn cors(config: &Config) -> CorsLayer {
    if config.cors_origins.is_empty() {
        return CorsLayer::new();
    }
    let origins: Vec<HeaderValue> = config
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_headers(tower_http::cors::Any)
        .allow_methods(tower_http::cors::Any)
}

/// The client address: the peer, or what trusted proxies vouch the client was
/// (docs/forwarded-addresses.md).
#[derive(Clone)]
pub struct ClientIp {
    trusted: Arc<Vec<IpAddr>>,
}

impl ClientIp {
    /// Resolves the client address of a request.
    pub fn of<T>(&self, req: &axum::http::Request<T>) -> Option<IpAddr> {
        let peer = req.extensions().get::<ConnectInfo<SocketAddr>>()?.0.ip();
        Some(client_address(peer, req.headers(), &self.trusted))
    }
}

/// Walks `X-Forwarded-For` from the right, one hop per trusted proxy: the peer, when
/// trusted, vouches for the rightmost entry; that entry, when it is a trusted proxy too,
/// vouches for the next one to its left, and so on. The first untrusted address is the
/// client. An entry that is not an address ends the walk at the last proxy that was
/// believed, and every header line counts, in order, so a client's own header line
/// ahead of the proxy's cannot stand in for it. `X-Real-IP` is never believed: it names
/// one hop and cannot be checked against the chain.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.to_canonical() == ip);
    let mut client = peer.to_canonical();
    let lines: Vec<&HeaderValue> = headers.get_all("x-forwarded-for").iter().collect();
    let hops = lines.iter().rev().flat_map(|line| match line.to_str() {
        Ok(text) => text.rsplit(',').map(parse_hop).collect::<Vec<_>>(),
        Err(_) => vec![None],
    });
    for hop in hops {
        if !is_trusted(client) {
            break;
        }
        match hop {
            Some(ip) => client = ip,
            None => break,
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`[v6]:port`, `v4:port`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))?;
    Some(ip.to_canonical())
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;

    fn extract<T>(&self, req: &axum::http::Request<T>) -> Result<Self::Key, GovernorError> {
        self.of(req).ok_or(GovernorError::UnableToExtractKey)
    }
}

/// `login_rate_per_minute` attempts per client address, refilled evenly.
pub fn login_rate_limit(
    config: &Config,
) -> GovernorLayer<ClientIp, governor::middleware::NoOpMiddleware, Body> {
    let per = config.login_rate_per_minute.max(1);
    let governor = GovernorConfigBuilder::default()
        .per_millisecond((60_000 / u64::from(per)).max(1))
        .burst_size(per)
        .key_extractor(ClientIp {
            trusted: Arc::new(config.trusted_proxies.clone()),
        })
        .finish()
        .expect("rate limit parameters are non-zero");
    GovernorLayer::new(governor).error_handler(|e| {
        let (status, wait) = match &e {
            GovernorError::TooManyRequests { wait_time, .. } => {
                (axum::http::StatusCode::TOO_MANY_REQUESTS, *wait_time)
            }
            _ => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, 1),
        };
        Response::builder()
            .status(status)
            .header("retry-after", wait.max(1).to_string())
            .body(Body::from(format!(
                "Too many login attempts; try again in {} s",
                wait.max(1)
            )))
            .expect("valid response")
    })
}
