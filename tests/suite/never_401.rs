//! §0.3 / §12.1: a 401 logs the plugin out, so a valid token must never get one,
//! whatever the request. Bad tokens get 401 on the auth-required routes only.
use deckd_testkit as common;

use common::*;
use reqwest::Method;
use serde_json::json;

struct Ctx {
    s: TestServer,
    alice: String,
    bob: String,
    hash: String,
}

async fn ctx() -> Ctx {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let hash = s.publish_demo(&alice).await;
    Ctx {
        s,
        alice,
        bob,
        hash,
    }
}

/// Every API path of §1.2 (except login/refresh/removeToken, handled separately) with a
/// plausible request. `auth_required` follows the "Bearer / req" column.
fn routes(hash: &str) -> Vec<(Method, String, Body, bool)> {
    let tiny_submit = submit_body(
        hash,
        DEMO_NAME,
        DEMO_NAME,
        &root_deck(
            DEMO_NAME,
            DEMO_UUID,
            "",
            vec![note(
                "AbCdEf1234",
                &["What is the capital of France?", "Paris?"],
                &["geo"],
            )],
            vec![],
        ),
        2,
        "probe",
        false,
    );
    let new_deck = gen_deck(&format!("Probe {}", rand_tag(6)), 2, 1);
    vec![
        (
            Method::POST,
            "/GetUserHashFromToken".into(),
            Body::None,
            true,
        ),
        (
            Method::POST,
            "/createDeck".into(),
            Body::Text(gzb64_encode_plugin(&create_deck_envelope(&new_deck.deck))),
            true,
        ),
        (
            Method::POST,
            "/submitCard".into(),
            Body::Text(gzb64_encode_plugin(&tiny_submit)),
            false,
        ),
        (
            Method::POST,
            "/pullChanges".into(),
            Body::Json(json!({hash: sub_value(FIRST_PULL_TS)})),
            false,
        ),
        (
            Method::POST,
            "/CheckDeckAlive".into(),
            Body::Json(json!({"deck_hashes": [hash, "gone-deck-hash"]})),
            false,
        ),
        (
            Method::GET,
            format!("/GetDeckTimestamp/{hash}"),
            Body::None,
            false,
        ),
        (
            Method::GET,
            format!("/GetProtectedFields/{hash}"),
            Body::None,
            false,
        ),
        (
            Method::POST,
            "/AddSubscription".into(),
            Body::Json(json!({"deck_hash": hash})),
            true,
        ),
        (
            Method::POST,
            "/RemoveSubscription".into(),
            Body::Json(json!({"deck_hash": hash})),
            true,
        ),
        (
            Method::POST,
            "/submitChangelog".into(),
            Body::Json(json!({"deck_hash": hash, "changelog": "probe"})),
            true,
        ),
        (
            Method::POST,
            "/requestRemoval".into(),
            Body::Json(
                json!({"remote_deck": hash, "note_guids": ["XyZ9876543"], "commit_text": "probe", "force_overwrite": false}),
            ),
            false,
        ),
        (
            Method::POST,
            "/CreateDeckLink".into(),
            Body::Json(
                json!({"subscriber_deck_hash": hash, "base_deck_hash": "red-blue-green-alpha-bravo-zulu"}),
            ),
            true,
        ),
        (
            Method::POST,
            "/CreateNewNoteLink".into(),
            Body::Json(
                json!({"subscriber_deck_hash": hash, "base_deck_hash": "red-blue-green-alpha-bravo-zulu", "note_guids": ["AbCdEf1234"]}),
            ),
            true,
        ),
        (
            Method::POST,
            "/UploadDeckStats".into(),
            Body::Text(gzb64_encode(
                &json!({"deck_hash": hash, "review_history": {"Demo Deck": {"AbCdEf1234": {"retention": 90, "lapses": 1, "reps": 12}}}}),
            )),
            true,
        ),
        (Method::GET, "/GetNotifications".into(), Body::None, true),
        (
            Method::GET,
            "/GetNotificationsHistory?offset=0&limit=200".into(),
            Body::None,
            true,
        ),
        (
            Method::POST,
            "/MarkNotificationsRead".into(),
            Body::Json(json!({"ids": [1, 2, 3]})),
            true,
        ),
        (
            Method::GET,
            "/GetCommitSnapshot/999999".into(),
            Body::None,
            true,
        ),
        (
            Method::POST,
            "/media/check/bulk".into(),
            Body::Json(
                json!({"deck_hash": hash, "files": [{"hash": "9d3f217f6cfaad7f9d3786af47422d59", "filename": "red1x1.png", "note_guid": "XyZ9876543", "file_size": 69}], "bulk_operation_id": ""}),
            ),
            true,
        ),
        (
            Method::POST,
            "/media/confirm/bulk".into(),
            Body::Json(
                json!({"batch_id": "7b1e5d2c-0a4f-4e8b-b6f1-2c9d8e7a6b50", "confirmed_files": ["9d3f217f6cfaad7f9d3786af47422d59"], "bulk_operation_id": ""}),
            ),
            true,
        ),
        (
            Method::POST,
            "/media/manifest".into(),
            Body::Json(json!({"deck_hash": hash, "filenames": ["red1x1.png"]})),
            true,
        ),
        (
            Method::GET,
            format!("/media/missing/{hash}"),
            Body::None,
            true,
        ),
        // The signed links of a cache-bootstrap entry (docs/protocol.md §2.5): without
        // a token, with a bad one and with the wrong file.
        (
            Method::GET,
            format!("/v1/deck-cache/{hash}/1_0_1_1/archive.zip"),
            Body::None,
            false,
        ),
        (
            Method::GET,
            format!("/v1/deck-cache/{hash}/1_0_1_1/manifest.json?token=bad.token"),
            Body::None,
            false,
        ),
        (
            Method::GET,
            format!("/v1/deck-cache/{hash}/1_0_1_1/other.zip?token=bad.token"),
            Body::None,
            false,
        ),
        (
            Method::POST,
            "/media/sanitize/svg".into(),
            Body::Json(
                json!({"svg_files": [{"filename": "a.svg", "content": "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"}]}),
            ),
            true,
        ),
    ]
}

#[tokio::test]
async fn valid_token_never_gets_401_on_any_route() {
    let Ctx {
        s,
        alice,
        bob,
        hash,
    } = ctx().await;
    let mut failures = Vec::new();
    for token in [&alice, &bob] {
        for (m, path, body, _) in routes(&hash) {
            let r = s.request(m.clone(), &path, Some(token), body).await;
            if r.status == 401 {
                failures.push(format!("{m} {path} → 401 {:?}", r.text));
            }
            if r.status >= 500 {
                failures.push(format!("{m} {path} → {} {:?}", r.status, r.text));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "valid tokens got bad answers:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn valid_token_with_garbage_bodies_never_gets_401() {
    let Ctx { s, alice, hash, .. } = ctx().await;
    let mut failures = Vec::new();
    for (m, path, _, _) in routes(&hash) {
        if m != Method::POST {
            continue;
        }
        let bodies = [
            Body::None,
            Body::Text("garbage".into()),
            Body::Json(json!({})),
            Body::Json(json!([1, 2, 3])),
            Body::Raw("application/octet-stream", vec![0, 159, 146, 150]),
        ];
        for b in bodies {
            let desc = format!("{b:?}");
            let r = s.request(m.clone(), &path, Some(&alice), b).await;
            if r.status == 401 {
                failures.push(format!("{m} {path} body {desc} → 401 {:?}", r.text));
            }
            if r.status >= 500 {
                failures.push(format!(
                    "{m} {path} body {desc} → {} {:?}",
                    r.status, r.text
                ));
            }
        }
    }
    // Path parameters that are not valid hashes / ids.
    for path in [
        "/GetDeckTimestamp/%20",
        "/GetProtectedFields/x",
        "/GetCommitSnapshot/abc",
        "/GetCommitSnapshot/-1",
        "/GetNotificationsHistory?offset=-5&limit=0",
        "/GetNotificationsHistory?limit=abc",
    ] {
        let r = s.get(path, Some(&alice)).await;
        if r.status == 401 || r.status >= 500 {
            failures.push(format!("GET {path} → {} {:?}", r.status, r.text));
        }
    }
    assert!(
        failures.is_empty(),
        "valid tokens got bad answers:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn forbidden_and_unimplemented_are_not_401() {
    let Ctx { s, bob, hash, .. } = ctx().await;
    let r = s
        .post_json(
            "/submitChangelog",
            Some(&bob),
            &json!({"deck_hash": hash, "changelog": "x"}),
        )
        .await;
    r.expect(403, "changelog by non-owner");
    for (path, body) in [
        (
            "/CreateDeckLink",
            json!({"subscriber_deck_hash": hash, "base_deck_hash": "red-blue-green-alpha-bravo-zulu"}),
        ),
        (
            "/CreateNewNoteLink",
            json!({"subscriber_deck_hash": hash, "base_deck_hash": "red-blue-green-alpha-bravo-zulu", "note_guids": ["AbCdEf1234"]}),
        ),
    ] {
        // Bob neither owns nor maintains alice's deck (tests/suite/deck_links.rs has the rest).
        let r = s.post_json(path, Some(&bob), &body).await;
        r.expect(403, path);
        assert!(r.text.contains("Forbidden"), "{path} must explain itself");
    }
    let r = s.get("/GetCommitSnapshot/999999", Some(&bob)).await;
    r.expect(404, "unknown commit snapshot");
    assert_eq!(r.json(), json!({"error": "Commit not found"}));
}

#[tokio::test]
async fn bad_or_missing_token_gets_401_on_auth_required_routes() {
    let Ctx { s, hash, .. } = ctx().await;
    let mut failures = Vec::new();
    for bad in [
        Some("definitely-not-a-valid-token"),
        Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        None,
    ] {
        for (m, path, body, auth_required) in routes(&hash) {
            let r = s.request(m.clone(), &path, bad, body).await;
            if auth_required && r.status != 401 {
                failures.push(format!(
                    "{m} {path} with token {bad:?} → {} {:?} (expected 401)",
                    r.status, r.text
                ));
            }
            if !auth_required
                && r.status == 401
                && path != "/submitCard"
                && path != "/requestRemoval"
            {
                failures.push(format!(
                    "{m} {path} needs no auth but answered 401 for token {bad:?}"
                ));
            }
        }
        let r = s.post_empty("/removeToken", bad).await;
        if r.status != 401 {
            failures.push(format!(
                "POST /removeToken with token {bad:?} → {} (expected 401)",
                r.status
            ));
        }
        let r = s.post_empty("/CheckUserToken", bad).await;
        if r.status != 200 || r.text != "false" {
            failures.push(format!(
                "POST /CheckUserToken with token {bad:?} → {} {:?} (expected 200 false)",
                r.status, r.text
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn login_refresh_and_logout_with_valid_credentials_are_not_401() {
    let s = TestServer::start().await;
    s.create_user("alice", "correct horse battery").await;
    let r = s.login_raw("alice", "correct horse battery").await;
    r.expect(200, "login");
    let v = r.json();
    let r = s
        .post_json(
            "/refreshToken",
            None,
            &json!({"refresh_token": v["refresh_token"]}),
        )
        .await;
    r.expect(200, "refresh");
    let t = r.json()["token"].as_str().unwrap().to_string();
    s.post_empty("/removeToken", Some(&t))
        .await
        .expect(200, "removeToken");
}
