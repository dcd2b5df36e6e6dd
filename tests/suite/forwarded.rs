//! The login rate limit is keyed on the client address that trusted proxies vouch for
//! (docs/forwarded-addresses.md): `X-Forwarded-For` is walked from the right, one hop
//! per trusted proxy, so what a client writes into the header itself never resets its
//! limit; a peer that is not a trusted proxy is keyed on itself whatever it sends.
//! The test client connects from 127.0.0.1, a trusted proxy by default, so it plays
//! nginx: the entries it sends are the ones nginx would forward.

use deckd_testkit as common;

use common::*;
use serde_json::json;

/// Attempts a client gets before 429.
const BURST: u32 = 3;

async fn server() -> TestServer {
    TestServer::start_with(|c| c.login_rate_per_minute = BURST).await
}

/// One failed login carrying `headers`; answers the status.
async fn attempt(s: &TestServer, headers: &[(&str, String)]) -> u16 {
    let mut rb = s
        .http
        .post(s.url("/login"))
        .json(&json!({"username": "nobody", "password": "wrong"}));
    for (name, value) in headers {
        rb = rb.header(*name, value);
    }
    rb.send().await.expect("login request").status().as_u16()
}

/// Sends attempts with fresh header values from `headers(i)` until one is refused with 429;
/// answers how many were let through (bounded, so a limit that never bites fails the test).
async fn attempts_until_limited(
    s: &TestServer,
    headers: impl Fn(u32) -> Vec<(&'static str, String)>,
) -> u32 {
    for i in 0..BURST * 4 {
        match attempt(s, &headers(i)).await {
            429 => return i,
            401 => {}
            other => panic!("attempt {i}: unexpected status {other}"),
        }
    }
    panic!(
        "{} attempts with rotating headers were never rate-limited",
        BURST * 4
    )
}

fn xff(value: String) -> Vec<(&'static str, String)> {
    vec![("x-forwarded-for", value)]
}

#[tokio::test]
async fn a_header_the_client_sends_through_the_proxy_does_not_reset_its_limit() {
    let s = server().await;
    let let_through =
        attempts_until_limited(&s, |i| xff(format!("198.18.0.{i}, 203.0.113.7"))).await;
    assert_eq!(
        let_through, BURST,
        "the real client 203.0.113.7 gets exactly its burst"
    );
    let other = attempt(&s, &xff("198.18.0.1, 203.0.113.8".into())).await;
    assert_eq!(
        other, 401,
        "another real client behind the same proxy has its own limit"
    );
}

#[tokio::test]
async fn a_client_header_line_ahead_of_the_proxy_line_is_not_the_client() {
    let s = server().await;
    let let_through = attempts_until_limited(&s, |i| {
        vec![
            ("x-forwarded-for", format!("198.18.1.{i}")),
            ("x-forwarded-for", "203.0.113.9".to_string()),
        ]
    })
    .await;
    assert_eq!(
        let_through, BURST,
        "only the proxy's own (last) line names the client"
    );
}

#[tokio::test]
async fn an_entry_that_is_not_an_address_ends_the_walk() {
    let s = server().await;
    let let_through = attempts_until_limited(&s, |i| xff(format!("198.18.2.{i}, unknown"))).await;
    assert_eq!(
        let_through, BURST,
        "the walk stops at `unknown`: the client is the proxy itself"
    );
}

#[tokio::test]
async fn x_real_ip_is_not_believed() {
    let s = server().await;
    let let_through =
        attempts_until_limited(&s, |i| vec![("x-real-ip", format!("198.18.3.{i}"))]).await;
    assert_eq!(
        let_through, BURST,
        "rotating X-Real-IP values are all keyed on the peer"
    );
}

#[tokio::test]
async fn a_chain_of_trusted_proxies_is_walked_to_the_first_untrusted_hop() {
    let s = TestServer::start_with(|c| {
        c.login_rate_per_minute = BURST;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
    })
    .await;
    let let_through =
        attempts_until_limited(&s, |i| xff(format!("198.18.4.{i}, 198.51.100.9, 10.0.0.2"))).await;
    assert_eq!(
        let_through, BURST,
        "10.0.0.2 is a proxy, 198.51.100.9 the client"
    );
    let with_port = attempt(
        &s,
        &xff("198.18.4.200, [::ffff:198.51.100.9]:4711, 10.0.0.2".into()),
    )
    .await;
    assert_eq!(
        with_port, 429,
        "a hop written with a port, or IPv4-mapped, is the same client"
    );
}

#[tokio::test]
async fn an_untrusted_peer_is_keyed_on_itself() {
    let s = TestServer::start_with(|c| {
        c.login_rate_per_minute = BURST;
        c.trusted_proxies = vec![];
    })
    .await;
    let let_through = attempts_until_limited(&s, |i| {
        vec![
            ("x-forwarded-for", format!("198.18.5.{i}, 203.0.113.{i}")),
            ("x-real-ip", format!("198.18.6.{i}")),
        ]
    })
    .await;
    assert_eq!(
        let_through, BURST,
        "forwarded headers from an untrusted peer are ignored"
    );
}
