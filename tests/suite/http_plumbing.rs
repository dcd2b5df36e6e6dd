//! Health endpoints, X-Process-Time, login rate limiting, misc HTTP behaviour.
use deckd_testkit as common;

use common::spawned::Deckd;
use common::*;
use serde_json::json;

#[tokio::test]
async fn health_endpoints() {
    let s = TestServer::start().await;
    s.get("/healthz", None).await.expect(200, "/healthz");
    s.get("/readyz", None).await.expect(200, "/readyz");
}

#[tokio::test]
async fn every_response_has_x_process_time() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;
    let responses = vec![
        ("healthz", s.get("/healthz", None).await),
        ("readyz", s.get("/readyz", None).await),
        ("login 401", s.login_raw("alice", "wrong").await),
        (
            "CheckUserToken",
            s.post_empty("/CheckUserToken", Some(&alice)).await,
        ),
        (
            "pullChanges",
            s.pull_raw(&json!({hash.clone(): sub_value(FIRST_PULL_TS)}))
                .await,
        ),
        (
            "pull 400",
            s.pull_raw(&json!({"bad key!": sub_value(FIRST_PULL_TS)}))
                .await,
        ),
        ("unknown route 404", s.get("/no/such/route", None).await),
        (
            "createDeck 400",
            s.post_text("/createDeck", Some(&alice), "garbage").await,
        ),
        ("auth 401", s.get("/GetNotifications", Some("bad")).await),
        (
            "GetDeckTimestamp",
            s.get(&format!("/GetDeckTimestamp/{hash}"), None).await,
        ),
        (
            "media 503",
            s.post_json(
                "/media/manifest",
                Some(&alice),
                &json!({"deck_hash": hash, "filenames": ["a.png"]}),
            )
            .await,
        ),
    ];
    for (what, r) in responses {
        let h = r.header("x-process-time");
        assert!(
            h.as_deref().is_some_and(|v| !v.trim().is_empty()),
            "{what} ({}) lacks X-Process-Time",
            r.status
        );
    }
}

#[tokio::test]
async fn unknown_route_is_404_not_401() {
    let s = TestServer::start().await;
    let t = s.user("alice").await;
    let r = s.get("/definitely/not/here", Some(&t)).await;
    r.expect(404, "unknown route");
    let r = s
        .post_empty("/definitely/not/here", Some("bad-token"))
        .await;
    r.expect(404, "unknown route with bad token");
}

#[tokio::test]
async fn login_rate_limit_eventually_429() {
    let s = TestServer::start_with(|c| c.login_rate_per_minute = 3).await;
    s.create_user("alice", "correct horse battery").await;
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let r = s.login_raw("alice", "correct horse battery").await;
        statuses.push(r.status);
        if r.status == 429 {
            break;
        }
        assert_eq!(
            r.status, 200,
            "before the limit logins succeed: {statuses:?}"
        );
    }
    assert_eq!(
        statuses.last(),
        Some(&429),
        "login must eventually be rate limited: {statuses:?}"
    );
    assert!(
        statuses.len() >= 2,
        "the first login must not be limited: {statuses:?}"
    );
    // Other routes are not affected by the login limiter.
    let r = s.post_empty("/CheckUserToken", None).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (200, "false"),
        "CheckUserToken unaffected"
    );
    s.get("/healthz", None)
        .await
        .expect(200, "healthz unaffected");
}

#[tokio::test]
async fn pull_answer_is_gzb64_text() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;
    let r = s
        .pull_raw(&json!({hash.clone(): sub_value(FIRST_PULL_TS)}))
        .await;
    r.expect(200, "pull");
    let body = r.text.trim();
    assert!(
        !body.is_empty()
            && body
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='),
        "one line of standard base64"
    );
    assert_eq!(body.len() % 4, 0, "padded base64");
    let v = gzb64_decode(body);
    assert_eq!(v[0]["deck_hash"], hash.as_str());
}

#[tokio::test]
async fn json_route_accepts_json_body_regardless_of_extra_fields() {
    // Unknown fields are ignored everywhere (§1.1).
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;
    s.create_user("bob", "bob password 123").await;
    let r = s.post_json("/login", None, &json!({"username": "bob", "password": "bob password 123", "extra": [1, 2], "client": "anki"})).await;
    r.expect(200, "login with extra fields");
    let r = s
        .post_json(
            "/CheckDeckAlive",
            None,
            &json!({"deck_hashes": [hash], "unknown": true}),
        )
        .await;
    r.expect(200, "CheckDeckAlive with extra fields");
    let r = s
        .post_json(
            "/submitChangelog",
            Some(&alice),
            &json!({"deck_hash": hash, "changelog": "ok", "whatever": {}}),
        )
        .await;
    r.expect(200, "submitChangelog with extra fields");
}

#[tokio::test]
async fn every_log_line_of_a_request_names_its_route() {
    // The request's span names the route for every line logged under it: the handler's
    // own, the closing "request served", and those of a wrong method and an unknown path.
    let server = Deckd::start_temp(&[]).await;
    let token = server.user("logger").await;
    server
        .publish_raw(&token, &tiny_deck())
        .await
        .expect(200, "publish");
    server
        .post_json("/GetDeckTimestamp/abc", None, &json!({}))
        .await
        .expect(405, "wrong method");
    server
        .post_json("/no/such/route", None, &json!({}))
        .await
        .expect(404, "unknown path");
    let wanted = [
        ("route=/createDeck user=", "deck published"),
        (
            "route=/createDeck user=",
            "request served method=POST route=/createDeck status=200",
        ),
        ("route=/GetDeckTimestamp/{hash}}", "status=405"),
        ("route=unmatched}", "route=/no/such/route status=404"),
    ];
    // Each line is written before its answer is sent.
    let log = server.log_tail();
    for (span, event) in wanted {
        assert!(
            log.lines().any(|l| l.contains(span) && l.contains(event)),
            "no line with {span:?} and {event:?}; log:\n{log}"
        );
    }
}
