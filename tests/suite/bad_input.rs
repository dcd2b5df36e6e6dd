//! Malformed GZB64 bodies: each gets 400 with a clear text and changes nothing.
use deckd_testkit as common;

use std::io::Write;

use base64::Engine as _;
use common::*;
use serde_json::{json, Value};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// GZB64 of `{"deck": "aaaa…"}` decompressing to `total` bytes, built in chunks.
fn gzip_bomb(total: usize) -> String {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b"{\"deck\": \"").unwrap();
    let chunk = vec![b'a'; 1 << 20];
    let mut written = 0;
    while written < total {
        e.write_all(&chunk).unwrap();
        written += chunk.len();
    }
    e.write_all(b"\"}").unwrap();
    b64(&e.finish().unwrap())
}

/// 300 MiB decompressed (the cap is 256 MiB); built once per test binary.
fn bomb() -> String {
    static BOMB: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| gzip_bomb(300 << 20)).clone()
}

fn nested_arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// A syntactically valid deck whose children are nested `depth` levels deep.
fn deep_children_deck(depth: usize) -> String {
    let mut s = String::new();
    for i in 0..depth {
        s.push_str(&format!("{{\"name\": \"L{i}\", \"crowdanki_uuid\": \"{}\", \"desc\": \"\", \"notes\": [], \"children\": [", new_uuid()));
    }
    for _ in 0..depth {
        s.push_str("]}");
    }
    // Root: wrap as a deck with the basic notetype.
    let mut root = tiny_deck();
    root["name"] = json!("Deep Deck");
    root["crowdanki_uuid"] = json!(new_uuid());
    root["children"] = json!([]);
    let root_text = serde_json::to_string(&root).unwrap();
    root_text.replacen("\"children\":[]", &format!("\"children\":[{s}]"), 1)
}

/// The malformed GZB64 bodies every GZB64 route must refuse.
fn bad_gzb64_bodies() -> Vec<(&'static str, String)> {
    let valid_env = serde_json::to_vec(&create_deck_envelope(&tiny_deck())).unwrap();
    let gz = gzip(&valid_env);
    let mut bad_utf8 = b"{\"deck\": \"".to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    bad_utf8.extend_from_slice(b"\"}");
    vec![
        ("empty body", String::new()),
        ("not base64", "this is not base64 !!! ###".to_string()),
        ("base64 of plain JSON (not gzip)", b64(&valid_env)),
        (
            "base64 of random bytes",
            b64(&[0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]),
        ),
        ("truncated gzip", b64(&gz[..gz.len() / 2])),
        ("gzip header only", b64(&gz[..10])),
        ("truncated base64", {
            let s = b64(&gz);
            s[..s.len() - 7].to_string()
        }),
        ("gzip of invalid UTF-8", b64(&gzip(&bad_utf8))),
        ("gzip of non-JSON text", b64(&gzip(b"hello, world"))),
        (
            "JSON array instead of object",
            gzb64_encode(&json!([1, 2, 3])),
        ),
        ("JSON string", gzb64_encode(&json!("just a string"))),
        ("JSON null", gzb64_encode(&Value::Null)),
        (
            "object without expected fields",
            gzb64_encode(&json!({"nothing": "here"})),
        ),
        (
            "deck is a number",
            gzb64_encode(&json!({"deck": 5, "deck_hash": 5, "remote_deck": 5})),
        ),
        (
            "deeply nested envelope",
            b64(&gzip(nested_arrays(200_000).as_bytes())),
        ),
        (
            "deeply nested object envelope",
            b64(&gzip(
                format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000)).as_bytes(),
            )),
        ),
        ("gzip bomb above the decompressed cap", bomb()),
    ]
}

/// Bodies that are valid GZB64 but whose inner deck string is wrong.
fn bad_inner_decks() -> Vec<(&'static str, String)> {
    vec![
        ("deck string not JSON", "definitely not json".to_string()),
        ("deck string is an array", "[]".to_string()),
        (
            "deck name is a number",
            "{\"name\": 1, \"crowdanki_uuid\": \"x\", \"children\": [], \"notes\": []}".to_string(),
        ),
        ("deck string deeply nested", nested_arrays(200_000)),
        (
            "deck children nested 20000 levels",
            deep_children_deck(20_000),
        ),
        ("note with non-string fields", {
            let mut d = tiny_deck();
            d["name"] = json!("Broken Notes");
            d["crowdanki_uuid"] = json!(new_uuid());
            d["notes"][0]["fields"] = json!([1, {"x": 2}]);
            serde_json::to_string(&d).unwrap()
        }),
    ]
}

struct Snapshot {
    full: Vec<Value>,
    timestamps: Vec<String>,
}

async fn snapshot(s: &TestServer, hashes: &[String]) -> Snapshot {
    let mut full = Vec::new();
    let mut timestamps = Vec::new();
    for h in hashes {
        let mut p = s.pull_since(h, FIRST_PULL_TS).await;
        for e in p.as_array_mut().unwrap() {
            sort_notes(&mut e["deck"]);
        }
        full.push(p);
        timestamps.push(s.get(&format!("/GetDeckTimestamp/{h}"), None).await.text);
    }
    Snapshot { full, timestamps }
}

async fn assert_unchanged(
    s: &TestServer,
    hashes: &[String],
    before: &Snapshot,
    since: &str,
    what: &str,
) {
    let after = snapshot(s, hashes).await;
    assert_eq!(
        after.full, before.full,
        "{what}: published decks must pull identically"
    );
    assert_eq!(
        after.timestamps, before.timestamps,
        "{what}: deck timestamps unchanged"
    );
    for h in hashes {
        assert_eq!(
            s.pull_since(h, since).await,
            json!([]),
            "{what}: nothing new since {since}"
        );
    }
    assert!(
        s.pending(None).await.is_empty(),
        "{what}: nothing queued for review"
    );
    s.get("/healthz", None)
        .await
        .expect(200, &format!("{what}: server still healthy"));
}

async fn setup() -> (TestServer, String, Vec<String>) {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let h1 = s.publish_demo(&alice).await;
    let g = gen_deck("Second Deck", 12, 2);
    let h2 = s.publish(&alice, &g.deck).await;
    (s, alice, vec![h1, h2])
}

/// POSTs a text body; a transport error (server hung up before answering) fails
/// the test with a message naming the case.
async fn send_text(s: &TestServer, path: &str, token: &str, body: String, what: &str) -> Resp {
    match s.try_request(reqwest::Method::POST, path, Some(token), Body::Text(body)).await {
        Ok(r) => r,
        Err(e) => panic!("{path} {what}: no HTTP answer, the connection failed ({e}); the server must answer 400 (and must not drop a kept-alive connection after answering the previous request)"),
    }
}

#[track_caller]
fn assert_400_with_text(r: &Resp, what: &str) {
    // A bomb may trip the longest-string guard before the decompressed cap: 413 then.
    let bomb = what.contains("gzip bomb");
    assert!(
        r.status == 400 || (bomb && r.status == 413),
        "{what}: expected 400, got {} {:?}",
        r.status,
        r.text.chars().take(200).collect::<String>()
    );
    assert!(
        !r.text.trim().is_empty(),
        "{what}: 400 must carry a clear text"
    );
}

#[tokio::test]
async fn create_deck_rejects_bad_gzb64() {
    let (s, alice, hashes) = setup().await;
    let before = snapshot(&s, &hashes).await;
    let since = sync_point().await;
    for (what, body) in bad_gzb64_bodies() {
        let r = send_text(&s, "/createDeck", &alice, body, what).await;
        assert_400_with_text(&r, &format!("/createDeck {what}"));
    }
    for (what, inner) in bad_inner_decks() {
        let r = send_text(
            &s,
            "/createDeck",
            &alice,
            gzb64_encode_plugin(&json!({"deck": inner})),
            what,
        )
        .await;
        assert_400_with_text(&r, &format!("/createDeck {what}"));
    }
    assert_unchanged(&s, &hashes, &before, &since, "/createDeck").await;
    // A later valid publish still works.
    let g = gen_deck("After Garbage", 3, 1);
    assert_eq!(s.publish(&alice, &g.deck).await, g.hash());
}

#[tokio::test]
async fn submit_card_rejects_bad_gzb64() {
    let (s, alice, hashes) = setup().await;
    let before = snapshot(&s, &hashes).await;
    let since = sync_point().await;
    for (what, body) in bad_gzb64_bodies() {
        let r = send_text(&s, "/submitCard", &alice, body, what).await;
        assert_400_with_text(&r, &format!("/submitCard {what}"));
    }
    for (what, inner) in bad_inner_decks() {
        let mut env = submit_body(DEMO_HASH, DEMO_NAME, DEMO_NAME, &tiny_deck(), 10, "", true);
        env["deck"] = json!(inner);
        let r = send_text(&s, "/submitCard", &alice, gzb64_encode_plugin(&env), what).await;
        assert_400_with_text(&r, &format!("/submitCard {what}"));
    }
    // Envelope with a wrong field type.
    let mut env = submit_body(DEMO_HASH, DEMO_NAME, DEMO_NAME, &tiny_deck(), 10, "", true);
    env["force_overwrite"] = json!("yes");
    env["rationale"] = json!("two");
    let r = s.post_gzb64("/submitCard", Some(&alice), &env).await;
    r.expect_4xx("/submitCard with mistyped fields");
    // Bad remote_deck hash.
    let env = submit_body(
        "Not A Hash!",
        DEMO_NAME,
        DEMO_NAME,
        &tiny_deck(),
        10,
        "",
        true,
    );
    let r = s.post_gzb64("/submitCard", Some(&alice), &env).await;
    r.expect(400, "/submitCard invalid deck hash");
    assert_unchanged(&s, &hashes, &before, &since, "/submitCard").await;
}

#[tokio::test]
async fn upload_deck_stats_rejects_bad_gzb64() {
    let (s, alice, hashes) = setup().await;
    let before = snapshot(&s, &hashes).await;
    let since = sync_point().await;
    for (what, body) in bad_gzb64_bodies() {
        let r = send_text(&s, "/UploadDeckStats", &alice, body, what).await;
        assert_400_with_text(&r, &format!("/UploadDeckStats {what}"));
    }
    let r = s
        .post_gzb64(
            "/UploadDeckStats",
            Some(&alice),
            &json!({"deck_hash": hashes[0], "review_history": "nope"}),
        )
        .await;
    assert_400_with_text(&r, "/UploadDeckStats review_history not an object");
    assert_unchanged(&s, &hashes, &before, &since, "/UploadDeckStats").await;
}

#[tokio::test]
async fn json_routes_reject_bad_json_without_side_effects() {
    let (s, alice, hashes) = setup().await;
    let before = snapshot(&s, &hashes).await;
    let since = sync_point().await;
    let deep = nested_arrays(200_000);
    for path in [
        "/pullChanges",
        "/CheckDeckAlive",
        "/submitChangelog",
        "/requestRemoval",
        "/AddSubscription",
        "/MarkNotificationsRead",
    ] {
        for (what, body) in [
            (
                "not JSON",
                Body::Raw("application/json", b"{not json".to_vec()),
            ),
            (
                "deep nesting",
                Body::Raw("application/json", deep.clone().into_bytes()),
            ),
            ("wrong shape", Body::Json(json!([1, 2, 3]))),
        ] {
            let r = s
                .request(reqwest::Method::POST, path, Some(&alice), body)
                .await;
            r.expect_4xx(&format!("{path} {what}"));
        }
    }
    // CheckDeckAlive with a malformed hash → 400.
    s.post_json(
        "/CheckDeckAlive",
        None,
        &json!({"deck_hashes": [hashes[0], "bad hash!"]}),
    )
    .await
    .expect(400, "CheckDeckAlive malformed hash");
    assert_unchanged(&s, &hashes, &before, &since, "JSON routes").await;
}

/// Reads one HTTP/1.1 response with a Content-Length from `r`; returns its status.
fn read_response(r: &mut impl std::io::BufRead, what: &str) -> u16 {
    let mut line = String::new();
    r.read_line(&mut line)
        .unwrap_or_else(|e| panic!("{what}: no response on the kept-alive connection ({e})"));
    assert!(
        line.starts_with("HTTP/1.1 "),
        "{what}: the server closed the connection instead of answering (read {line:?})"
    );
    let status = line[9..12].parse().unwrap();
    let mut length = None;
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = Some(v.trim().parse::<usize>().unwrap());
            }
        }
    }
    let mut body =
        vec![0; length.unwrap_or_else(|| panic!("{what}: response without Content-Length"))];
    r.read_exact(&mut body).unwrap();
    status
}

/// A body refused at its first bytes is still read to the end, so the client's
/// kept-alive connection stays usable for its next request.
#[tokio::test]
async fn early_refusal_keeps_the_connection_usable() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let addr = s.addr();
    tokio::task::spawn_blocking(move || {
        let mut body = b"!!!! this is not base64 ".to_vec();
        body.resize(4 << 20, b'A');
        let mut sock = std::net::TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(120))).unwrap();
        sock.set_write_timeout(Some(std::time::Duration::from_secs(120))).unwrap();
        let head = format!(
            "POST /createDeck HTTP/1.1\r\nHost: deckd\r\nAuthorization: Bearer {alice}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        sock.write_all(head.as_bytes()).unwrap();
        sock.write_all(&body).unwrap_or_else(|e| panic!("the server stopped reading the refused body and hung up ({e})"));
        let mut reader = std::io::BufReader::new(sock.try_clone().unwrap());
        assert_eq!(read_response(&mut reader, "garbage /createDeck"), 400);
        sock.write_all(b"GET /healthz HTTP/1.1\r\nHost: deckd\r\n\r\n").unwrap();
        assert_eq!(read_response(&mut reader, "GET /healthz after the refusal"), 200);
    })
    .await
    .unwrap();
}
