//! Slow and idle clients cannot hold deckd's connections: headers sent a byte at a time
//! are cut off after `header_read_timeout_secs`, idle keep-alive connections are closed
//! after the same time, a body that stops arriving is answered 408 (and nothing of it is
//! stored), connections beyond `max_connections` wait until one closes, one client
//! address beyond its share is answered 429, and ordinary requests are served while
//! hundreds of slow clients hang on.

use deckd_testkit as common;

use std::time::Duration;

use common::media::*;
use common::*;
use image::ImageFormat;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest any condition below is waited for; the timeouts under test are 1–3 s.
const BOUND: Duration = Duration::from_secs(30);

async fn server(header_secs: u64, body_secs: u64) -> TestServer {
    TestServer::start_with(|c| {
        c.header_read_timeout_secs = Duration::from_secs(header_secs);
        c.body_read_timeout_secs = Duration::from_secs(body_secs);
    })
    .await
}

/// Reads until the server closes the connection (EOF or reset); answers what arrived,
/// or panics when it is still open after [`BOUND`].
async fn until_closed(tcp: &mut TcpStream, what: &str) -> Vec<u8> {
    let mut got = Vec::new();
    let closed = tokio::time::timeout(BOUND, async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "{what}: the server never closed the connection"
    );
    got
}

/// Reads one whole response (headers and a Content-Length body) from a kept-alive connection.
async fn read_response(tcp: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(BOUND, async {
        loop {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap_or(0);
                if got.len() >= end + 4 + len {
                    return;
                }
            }
            let n = tcp.read(&mut buf).await.expect("reading a response");
            assert!(n > 0, "connection closed before a whole response arrived");
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "no whole response arrived");
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn a_client_sending_headers_one_byte_at_a_time_is_disconnected() {
    let s = server(1, 30).await;
    let mut tcp = TcpStream::connect(s.addr()).await.unwrap();
    let head = b"GET /healthz HTTP/1.1\r\nHost: deckd\r\nX-Slow: ";
    let mut sent = 0usize;
    let mut answer = Vec::new();
    let cut = tokio::time::timeout(BOUND, async {
        let mut buf = [0u8; 512];
        loop {
            let b = head.get(sent).copied().unwrap_or(b'a');
            if tcp.write_all(&[b]).await.is_err() {
                return;
            }
            sent += 1;
            tokio::select! {
                r = tcp.read(&mut buf) => match r {
                    Ok(0) | Err(_) => return,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                },
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    })
    .await;
    assert!(
        cut.is_ok(),
        "a client dribbling its headers was never disconnected ({sent} bytes sent)"
    );
    assert!(
        !String::from_utf8_lossy(&answer).contains(" 200 "),
        "the unfinished request was served"
    );
    // On a new connection: the shared client's pooled one may have been closed as idle
    // (after the 1 s timeout) while the slow client was dribbling.
    let fresh = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let r = fresh
        .get(s.url("/healthz"))
        .send()
        .await
        .expect("the server still serves others");
    assert_eq!(r.status(), 200, "the server still serves others");
}

#[tokio::test]
async fn idle_keep_alive_and_silent_connections_are_closed_after_the_idle_timeout() {
    let s = server(1, 30).await;
    let mut served = Vec::new();
    for _ in 0..40 {
        let mut tcp = TcpStream::connect(s.addr()).await.unwrap();
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: deckd\r\n\r\n")
            .await
            .unwrap();
        let answer = read_response(&mut tcp).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            !answer.to_ascii_lowercase().contains("connection: close"),
            "the connection is kept alive: {answer}"
        );
        served.push(tcp);
    }
    let mut silent = Vec::new();
    for _ in 0..40 {
        silent.push(TcpStream::connect(s.addr()).await.unwrap());
    }
    let all = served
        .iter_mut()
        .map(|t| (t, "an idle keep-alive connection"))
        .chain(
            silent
                .iter_mut()
                .map(|t| (t, "a connection that never sent a byte")),
        );
    let closing = all.map(|(tcp, what)| until_closed(tcp, what));
    for leftover in futures_util::future::join_all(closing).await {
        assert!(
            leftover.is_empty() || !String::from_utf8_lossy(&leftover).contains(" 200 "),
            "nothing more was served"
        );
    }
    s.get("/healthz", None)
        .await
        .expect(200, "new connections are still served");
}

#[tokio::test]
async fn a_normal_request_is_served_while_200_slow_clients_hang_on() {
    let s = server(120, 30).await;
    let mut slow = Vec::new();
    for _ in 0..200 {
        let tcp = TcpStream::connect(s.addr()).await.unwrap();
        slow.push(tokio::spawn(dribble_headers(
            tcp,
            Duration::from_millis(500),
        )));
    }
    for _ in 0..5 {
        s.get("/healthz", None)
            .await
            .expect(200, "a normal request among 200 slow clients");
    }
    let alice = s.user("alice").await;
    s.publish_demo(&alice).await;
    assert!(
        slow.iter().all(|t| !t.is_finished()),
        "the slow clients are still hanging on"
    );
    slow.iter().for_each(|t| t.abort());
}

/// A client that sends a request head one byte at a time and never finishes it.
async fn dribble_headers(mut tcp: TcpStream, every: Duration) {
    let head = b"GET /healthz HTTP/1.1\r\nHost: deckd\r\nX-Slow: ";
    for &b in head.iter().chain(std::iter::repeat(&b'a')) {
        if tcp.write_all(&[b]).await.is_err() {
            return;
        }
        tokio::time::sleep(every).await;
    }
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let s = TestServer::start_with(|c| {
        c.header_read_timeout_secs = Duration::from_secs(120);
        c.max_connections = 8;
    })
    .await;
    // Twelve kept-alive clients for eight slots (the harness's own pooled connection may
    // hold one more): at most eight are served, the rest wait unanswered.
    let mut clients = Vec::new();
    for _ in 0..12 {
        let mut tcp = TcpStream::connect(s.addr()).await.unwrap();
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: deckd\r\n\r\n")
            .await
            .unwrap();
        clients.push(tcp);
    }
    let answered = futures_util::future::join_all(clients.iter_mut().map(|tcp| async move {
        tokio::time::timeout(Duration::from_secs(1), read_response(tcp))
            .await
            .is_ok()
    }))
    .await;
    let (served, waiting): (Vec<_>, Vec<_>) = clients
        .into_iter()
        .zip(answered)
        .partition(|(_, answered)| *answered);
    assert!(
        served.len() <= 8,
        "{} connections were served with max_connections = 8",
        served.len()
    );
    assert!(waiting.len() >= 4, "{} connections waited", waiting.len());
    drop(served);
    for (mut tcp, _) in waiting {
        let answer = read_response(&mut tcp).await;
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "a waiting connection is served once slots free: {answer}"
        );
    }
}

/// A connection to `to` from the loopback address `source` (all of 127.0.0.0/8 is local),
/// so one test can be several client addresses.
async fn connect_from(source: [u8; 4], to: std::net::SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((source, 0).into()).unwrap();
    socket.connect(to).await.unwrap()
}

/// `count` connections from `source` that have sent only part of a request's headers.
async fn half_sent_from(source: [u8; 4], count: usize, s: &TestServer) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 0..count {
        let mut tcp = connect_from(source, s.addr()).await;
        tcp.write_all(b"POST /pullChanges HTTP/1.1\r\nHost: deckd\r\n")
            .await
            .unwrap();
        held.push(tcp);
    }
    held
}

/// What a new connection from `source` is answered to `GET /healthz`, read until closed.
async fn healthz_from(s: &TestServer, source: [u8; 4]) -> String {
    let mut tcp = connect_from(source, s.addr()).await;
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: deckd\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    String::from_utf8_lossy(&until_closed(&mut tcp, "a health check").await).into_owned()
}

#[tokio::test]
async fn one_client_address_gets_only_its_share_of_the_connections() {
    let s = TestServer::start_with(|c| {
        c.header_read_timeout_secs = Duration::from_secs(120);
        c.max_connections_per_client = 3;
        c.trusted_proxies = vec![];
    })
    .await;
    // A slowloris from 127.0.0.3: three connections with half-sent headers.
    let held = half_sent_from([127, 0, 0, 3], 3, &s).await;
    let refused = healthz_from(&s, [127, 0, 0, 3]).await;
    assert!(
        refused.starts_with("HTTP/1.1 429")
            && refused.to_ascii_lowercase().contains("retry-after: 5"),
        "a fourth connection from the same address: {refused}"
    );
    let other = healthz_from(&s, [127, 0, 0, 4]).await;
    assert!(
        other.starts_with("HTTP/1.1 200"),
        "another address while the first holds its share: {other}"
    );

    drop(held);
    let deadline = std::time::Instant::now() + BOUND;
    loop {
        let again = healthz_from(&s, [127, 0, 0, 3]).await;
        if again.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the address never got its share back after closing: {again}"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_trusted_proxy_is_not_held_to_one_client_share() {
    let s = TestServer::start_with(|c| {
        c.header_read_timeout_secs = Duration::from_secs(120);
        c.max_connections_per_client = 2;
    })
    .await;
    // nginx in front on loopback (trusted by default) carries every client's connections.
    let _held = half_sent_from([127, 0, 0, 1], 4, &s).await;
    let answer = healthz_from(&s, [127, 0, 0, 1]).await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "a proxy's fifth connection: {answer}"
    );
}

/// Sends `head` and `part` of a body, then stalls with the connection open; answers what
/// the server said before it closed the connection.
async fn stall_body(s: &TestServer, head: String, part: &[u8]) -> String {
    let mut tcp = TcpStream::connect(s.addr()).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(part).await.unwrap();
    String::from_utf8_lossy(&until_closed(&mut tcp, "a stalled body").await).into_owned()
}

#[tokio::test]
async fn a_stalled_media_upload_gets_408_and_stores_nothing() {
    let s = server(10, 1).await;
    let alice = s.user("alice").await;
    let deck = root_deck(
        "Stall",
        &new_uuid(),
        "",
        vec![note("StallNote", &["<img src=\"s.png\">", "y"], &[])],
        vec![],
    );
    let r = s.publish_raw(&alice, &deck).await.json();
    let (hash, bulk) = (
        r["message"].as_str().unwrap(),
        r["bulk_operation_id"].as_str().unwrap(),
    );
    let png = image_bytes(ImageFormat::Png, 300, 300, 9);
    let c = s
        .media_check(
            &alice,
            hash,
            vec![listing("s.png", "StallNote", &png)],
            bulk,
        )
        .await
        .json();
    let url = c["missing_files"][0]["upload_url"]
        .as_str()
        .unwrap()
        .to_string();
    let path = url.strip_prefix(s.base_url()).unwrap();
    let head = format!("PUT {path} HTTP/1.1\r\nHost: deckd\r\nContent-Length: {}\r\nAuthorization: Bearer x\r\n\r\n", png.len());
    let answer = stall_body(&s, head, &png[..png.len() / 2]).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("stalled"), "{answer}");
    assert_eq!(
        stored_file_count(&s),
        0,
        "nothing of the stalled upload is stored"
    );
    assert_eq!(temp_file_count(&s), 0, "no temporary file remains");
    s.media_put(&url, png.clone(), None)
        .await
        .expect(200, "the whole file still uploads");
}

#[tokio::test]
async fn a_stalled_deck_upload_gets_408_not_401_or_400() {
    let s = server(10, 1).await;
    let alice = s.user("alice").await;
    let body = gzb64_encode_plugin(&create_deck_envelope(&tiny_deck()));
    let head = format!(
        "POST /createDeck HTTP/1.1\r\nHost: deckd\r\nAuthorization: Bearer {alice}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let answer = stall_body(&s, head, &body.as_bytes()[..body.len() / 2]).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let head = "POST /login HTTP/1.1\r\nHost: deckd\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n".to_string();
    let answer = stall_body(&s, head, br#"{"username": "alice", "#).await;
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "a stalled login is 408, never 401: {answer}"
    );
    assert_eq!(
        s.publish(&alice, &tiny_deck()).await,
        DEMO_HASH,
        "the whole deck still publishes"
    );
}

#[tokio::test]
async fn a_slow_body_that_keeps_sending_is_not_cut_off() {
    let s = server(10, 3).await;
    let alice = s.user("alice").await;
    let body = gzb64_encode_plugin(&create_deck_envelope(&tiny_deck()));
    let mut tcp = TcpStream::connect(s.addr()).await.unwrap();
    let head = format!(
        "POST /createDeck HTTP/1.1\r\nHost: deckd\r\nAuthorization: Bearer {alice}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    // 40 pieces 100 ms apart: far longer in all than the 3 s idle timeout, never idle that long.
    let piece = body.len().div_ceil(40);
    for chunk in body.as_bytes().chunks(piece) {
        tcp.write_all(chunk).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let answer =
        String::from_utf8_lossy(&until_closed(&mut tcp, "a slow deck upload").await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
