//! §4 and §9.2: login, refresh, logout, token probe, user hash.
use deckd_testkit as common;

use common::*;
use serde_json::{json, Value};

fn is_alnum(s: &str, len: usize) -> bool {
    s.len() == len && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[track_caller]
fn assert_login_shape(v: &Value, user_id: deckd::store::UserId) {
    let token = v["token"]
        .as_str()
        .unwrap_or_else(|| panic!("token missing: {v}"));
    let refresh = v["refresh_token"]
        .as_str()
        .unwrap_or_else(|| panic!("refresh_token missing: {v}"));
    assert!(
        is_alnum(token, 48),
        "token must be 48 alphanumerics: {token:?}"
    );
    assert!(
        is_alnum(refresh, 64),
        "refresh_token must be 64 alphanumerics: {refresh:?}"
    );
    let exp = v["expires_at"]
        .as_i64()
        .unwrap_or_else(|| panic!("expires_at must be an integer: {v}"));
    let now = now_unix();
    assert!(
        exp > now + 20 * 86400 && exp < now + 40 * 86400,
        "expires_at ~30 days ahead: {exp} vs now {now}"
    );
    assert_eq!(v["user_id"].as_i64(), Some(user_id.0), "user_id: {v}");
}

async fn check_token(s: &TestServer, token: Option<&str>) -> String {
    let r = s.post_empty("/CheckUserToken", token).await;
    r.expect(200, "/CheckUserToken is always 200");
    r.text
}

#[tokio::test]
async fn login_success_shape_and_case_insensitive_username() {
    let s = TestServer::start().await;
    let id = s.create_user("alice", "correct horse battery").await;
    let r = s.login_raw("Alice", "correct horse battery").await;
    r.expect(200, "login with mixed-case username");
    let v = r.json();
    assert_login_shape(&v, id);
    let r2 = s.login_raw("alice", "correct horse battery").await;
    r2.expect(200, "login lower-case");
    assert_login_shape(&r2.json(), id);
    assert_ne!(
        v["token"],
        r2.json()["token"],
        "each login issues a fresh token"
    );
}

#[tokio::test]
async fn bad_password_and_unknown_user_are_401_with_text() {
    let s = TestServer::start().await;
    s.create_user("alice", "correct horse battery").await;
    let r = s.login_raw("alice", "wrong password").await;
    r.expect(401, "bad password");
    assert_eq!(r.text, "Invalid username or password");
    let r = s.login_raw("nobody", "whatever123").await;
    r.expect(401, "unknown user");
    assert_eq!(r.text, "Invalid username or password");
    // Password is case-sensitive.
    s.login_raw("alice", "CORRECT HORSE BATTERY")
        .await
        .expect(401, "password case");
}

#[tokio::test]
async fn check_user_token_is_bare_true_false_and_always_200() {
    let s = TestServer::start().await;
    let token = s.user("alice").await;
    assert_eq!(check_token(&s, Some(&token)).await, "true");
    assert_eq!(check_token(&s, None).await, "false", "missing header");
    assert_eq!(check_token(&s, Some("garbage")).await, "false");
    let fake = "A".repeat(48);
    assert_eq!(check_token(&s, Some(&fake)).await, "false");
    let huge = "x".repeat(2000);
    assert_eq!(
        check_token(&s, Some(&huge)).await,
        "false",
        "over-long token"
    );
    // Wrong scheme / malformed header values.
    for h in ["Basic abc", "Bearer", "Bearer ", "", "Token abc"] {
        let r = s
            .request_auth_header(
                reqwest::Method::POST,
                "/CheckUserToken",
                Some(h),
                Body::None,
            )
            .await;
        r.expect(200, &format!("CheckUserToken with Authorization {h:?}"));
        assert_eq!(r.text, "false", "Authorization {h:?}");
    }
    // The real token still works after all that.
    assert_eq!(check_token(&s, Some(&token)).await, "true");
}

#[tokio::test]
async fn refresh_token_issues_new_working_tokens() {
    let s = TestServer::start().await;
    let id = s.create_user("alice", "correct horse battery").await;
    let v = s.login_raw("alice", "correct horse battery").await.json();
    let refresh = v["refresh_token"].as_str().unwrap();
    let r = s
        .post_json("/refreshToken", None, &json!({"refresh_token": refresh}))
        .await;
    r.expect(200, "/refreshToken");
    let nv = r.json();
    assert_login_shape(&nv, id);
    assert_ne!(nv["token"], v["token"], "new access token");
    assert_ne!(nv["refresh_token"], v["refresh_token"], "new refresh token");
    assert_eq!(check_token(&s, nv["token"].as_str()).await, "true");

    // An unknown refresh token → 401.
    let bad = "z".repeat(64);
    s.post_json("/refreshToken", None, &json!({"refresh_token": bad}))
        .await
        .expect(401, "bad refresh token");
    // An access token is not a refresh token.
    s.post_json("/refreshToken", None, &json!({"refresh_token": v["token"]}))
        .await
        .expect(401, "access token used as refresh token");
}

#[tokio::test]
async fn remove_token_logs_out_that_token() {
    let s = TestServer::start().await;
    let token = s.user("alice").await;
    let other_device = s.login("alice", &password_for("alice")).await;
    let r = s.post_empty("/removeToken", Some(&token)).await;
    r.expect(200, "/removeToken");
    assert_eq!(r.text, "Token successfully removed");
    assert_eq!(
        check_token(&s, Some(&token)).await,
        "false",
        "removed token is invalid"
    );
    assert_eq!(
        check_token(&s, Some(&other_device)).await,
        "true",
        "logging out one device keeps the others signed in"
    );
    // Bad token → 401 on an auth-required route.
    s.post_empty("/removeToken", Some("not-a-token"))
        .await
        .expect(401, "/removeToken with bad token");
    // Logging in again works.
    let t2 = s.login("alice", &password_for("alice")).await;
    assert_eq!(check_token(&s, Some(&t2)).await, "true");
}

#[tokio::test]
async fn several_tokens_per_user_stay_valid() {
    let s = TestServer::start().await;
    s.create_user("alice", "correct horse battery").await;
    let mut tokens = Vec::new();
    for _ in 0..4 {
        tokens.push(s.login("alice", "correct horse battery").await);
    }
    // A refresh on one device must not log the others out either.
    let v = s.login_raw("alice", "correct horse battery").await.json();
    let refreshed = s
        .post_json(
            "/refreshToken",
            None,
            &json!({"refresh_token": v["refresh_token"]}),
        )
        .await;
    refreshed.expect(200, "refresh");
    tokens.push(refreshed.json()["token"].as_str().unwrap().to_string());
    for t in &tokens {
        assert_eq!(
            check_token(&s, Some(t)).await,
            "true",
            "every device token stays valid"
        );
    }
    // And every token can be used for an authenticated call.
    for t in &tokens {
        s.get("/GetNotifications", Some(t))
            .await
            .expect(200, "GetNotifications per device");
    }
}

#[tokio::test]
async fn user_hash_from_token_is_json_string_of_sha256_lowercase() {
    let s = TestServer::start().await;
    s.create_user("alice", "correct horse battery").await;
    let token = s.login("ALICE", "correct horse battery").await;
    let r = s.post_empty("/GetUserHashFromToken", Some(&token)).await;
    r.expect(200, "/GetUserHashFromToken");
    let v: Value = serde_json::from_str(r.text.trim()).expect("a JSON string with quotes");
    assert_eq!(
        v,
        json!("2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90")
    );
    s.post_empty("/GetUserHashFromToken", Some("nope"))
        .await
        .expect(401, "bad token");
}

#[tokio::test]
async fn usernames_created_mixed_case_are_lowercased() {
    let s = TestServer::start().await;
    s.create_user("BoB", "another password 1").await;
    let t = s.login("bob", "another password 1").await;
    let r = s.post_empty("/GetUserHashFromToken", Some(&t)).await;
    r.expect(200, "user hash");
    assert_eq!(r.json(), json!(sha256_hex("bob")));
}
