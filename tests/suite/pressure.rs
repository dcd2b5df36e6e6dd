//! Under memory pressure deckd protects itself: the monitor reads real
//! `memory.current`/`memory.max`/`memory.pressure` files (a temporary directory
//! stands in for the cgroup), large uploads get 503 + Retry-After, small requests
//! keep working, nothing stored is lost, and all is normal again once memory drops.
use deckd_testkit as common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// Safety net against a hung test; no assertion depends on it.
const PATIENCE: Duration = Duration::from_secs(60);

fn write_cgroup(dir: &Path, current: u64, max: &str, psi_some_avg10: f64) {
    std::fs::write(dir.join("memory.max"), format!("{max}\n")).unwrap();
    std::fs::write(dir.join("memory.current"), format!("{current}\n")).unwrap();
    std::fs::write(
        dir.join("memory.pressure"),
        format!("some avg10={psi_some_avg10:.2} avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"),
    )
    .unwrap();
}

/// Publishes a fresh generated deck until the answer's status is `want` (the monitor
/// samples once a second); returns the last answer.
async fn publish_until(s: &TestServer, token: &str, want: u16) -> Resp {
    let start = Instant::now();
    loop {
        let r = s
            .publish_raw(
                token,
                &gen_deck(&format!("Pressure {}", rand_tag(6)), 3, 0).deck,
            )
            .await;
        if r.status == want {
            return r;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the monitor never switched: last answer {} {}",
            r.status,
            r.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends only the head of a POST announcing `len` bytes with `Expect: 100-continue`;
/// returns the response head deckd answers with.
async fn refused_before_the_body(s: &TestServer, path: &str, len: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(s.addr()).await.unwrap();
    let head = format!("POST {path} HTTP/1.1\r\nHost: deckd\r\nContent-Type: text/plain\r\nContent-Length: {len}\r\nExpect: 100-continue\r\n\r\n");
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, sock.read_to_end(&mut answer))
        .await
        .expect("deckd answers without waiting for the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    answer
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn large_uploads_wait_while_memory_is_short_small_requests_keep_working() {
    let cgroup = tempfile::tempdir().unwrap();
    write_cgroup(cgroup.path(), 100 << 20, "268435456", 0.0);
    let dir = cgroup.path().to_path_buf();
    let s = TestServer::start_with(|c| {
        c.monitor_cgroup_dir = Some(dir.clone());
        c.monitor_interval_secs = Duration::from_secs(1);
    })
    .await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let hash = s.publish_demo(&alice).await;

    // 240 MiB of 256 MiB (94 %, above the 85 % default): memory is short.
    write_cgroup(cgroup.path(), 240 << 20, "268435456", 0.0);
    let refused = publish_until(&s, &alice, 503).await;
    let retry_after = refused.header("retry-after");
    assert!(
        retry_after
            .as_deref()
            .is_some_and(|v| v.parse::<u64>().is_ok_and(|n| n > 0)),
        "Retry-After: {retry_after:?}"
    );

    let suggestion = s
        .suggest(
            &bob,
            &hash,
            DEMO_NAME,
            DEMO_UUID,
            vec![note(
                "AbCdEf1234",
                &["What is the capital of France?", "Paris!"],
                &["geo"],
            )],
            "fix",
        )
        .await;
    suggestion.expect(503, "a suggestion upload while memory is short");
    assert!(suggestion.header("retry-after").is_some());
    // Any body announced above pressure_large_body_bytes is refused before it is read: a
    // client that waits for `100 Continue` (as curl does) gets the 503 without sending it.
    let head = refused_before_the_body(&s, "/pullChanges", 2 * 1024 * 1024).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "the unread body ends the connection: {head}"
    );

    // Small requests keep working, and what was stored before is all there.
    assert_eq!(
        s.post_empty("/CheckUserToken", Some(&alice)).await.text,
        "true"
    );
    s.get("/healthz", None)
        .await
        .expect(200, "/healthz under pressure");
    let pulled = s
        .pull(&json!({hash.clone(): sub_value(FIRST_PULL_TS)}))
        .await;
    let deck = &entry_for(&pulled, &hash).expect("the published deck is still served")["deck"];
    assert_eq!(
        note_guids(deck).len(),
        2,
        "both notes of the demo deck survive"
    );

    // Memory drops: large uploads are accepted again.
    write_cgroup(cgroup.path(), 50 << 20, "268435456", 0.0);
    publish_until(&s, &alice, 200).await;
    s.suggest(
        &bob,
        &hash,
        DEMO_NAME,
        DEMO_UUID,
        vec![note(
            "AbCdEf1234",
            &["What is the capital of France?", "Paris!"],
            &["geo"],
        )],
        "fix",
    )
    .await
    .expect(200, "a suggestion once memory is back");

    // Memory PSI alone (tasks stalling on memory) also counts as short.
    write_cgroup(cgroup.path(), 50 << 20, "max", 55.0);
    publish_until(&s, &alice, 503).await;
    write_cgroup(cgroup.path(), 50 << 20, "max", 0.0);
    publish_until(&s, &alice, 200).await;
}
