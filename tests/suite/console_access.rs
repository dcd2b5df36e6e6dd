//! The web console's front door: first-boot setup with the one-time token, sessions and
//! their cookie, CSRF and cross-site refusals, invites, the administrator's pages and the
//! headers every page carries. Real HTTP against a server on a port-0 listener.

use deckd_testkit as common;

use common::console::{location, Console};
use common::*;

const PW: &str = "correct horse battery";

fn setup_token(s: &TestServer) -> String {
    std::fs::read_to_string(s.data_dir().join("setup-token"))
        .expect("a fresh server writes its setup token")
        .trim()
        .to_string()
}

#[tokio::test]
async fn first_boot_setup_needs_the_token_and_happens_once() {
    let s = TestServer::start().await;
    let mut browser = Console::new(&s);
    let root = browser.get("/").await;
    assert_eq!((root.status, location(&root).as_str()), (303, "/console"));
    let home = browser.get("/console").await;
    assert_eq!(location(&home), "/console/setup");
    assert_eq!(
        location(&browser.get("/console/login").await),
        "/console/setup"
    );
    let page = browser.get("/console/setup").await;
    page.expect(200, "setup page");
    assert!(page.text.contains("deckd setup-token"), "{}", page.text);

    let cli = s.cli(&["setup-token"]).await;
    cli.assert_ok();
    let token = cli.stdout.trim().to_string();
    assert_eq!(
        token,
        setup_token(&s),
        "the CLI prints the token the server wrote"
    );
    assert!(token.len() >= 16);

    let wrong = browser
        .post(
            "/console/setup",
            &[
                ("token", "not-the-token-at-all"),
                ("username", "boss"),
                ("password", PW),
            ],
        )
        .await;
    wrong.expect(403, "a wrong setup token");
    assert!(
        wrong.text.contains("setup token is wrong"),
        "{}",
        wrong.text
    );
    assert!(browser.cookie.is_none());

    let done = browser
        .post(
            "/console/setup",
            &[("token", &token), ("username", "Boss"), ("password", PW)],
        )
        .await;
    assert_eq!(
        (done.status, location(&done).as_str()),
        (303, "/console/admin/users")
    );
    let cookie = done.header("set-cookie").unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/console"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let users = browser.get("/console/admin/users").await;
    users.expect(200, "the new administrator's page");
    assert!(users.text.contains("data-user=\"boss\""), "{}", users.text);
    assert!(
        !s.data_dir().join("setup-token").exists(),
        "the token is used up"
    );

    // Setting up again, even with the old token, creates nothing.
    let mut other = Console::new(&s);
    let again = other
        .post(
            "/console/setup",
            &[("token", &token), ("username", "mallory"), ("password", PW)],
        )
        .await;
    assert_eq!(location(&again), "/console/login");
    assert!(other.cookie.is_none());
    assert_eq!(
        location(&other.get("/console/setup").await),
        "/console/login"
    );
    let cli = s.cli(&["setup-token"]).await;
    assert!(!cli.ok(), "no token once set up");
    s.login_raw("mallory", PW)
        .await
        .expect(401, "no account was made");
    // The administrator is an ordinary add-on user too.
    s.login("boss", PW).await;
}

#[tokio::test]
async fn every_page_and_action_needs_a_session() {
    let s = TestServer::start().await;
    s.create_user("alice", PW).await;
    let mut anonymous = Console::new(&s);
    for path in [
        "/console/review",
        "/console/review/list",
        "/console/review/1",
        "/console/review/1/media?name=a.png",
        "/console/events",
        "/console/account",
        "/console/admin/users",
        "/console/admin/invites",
    ] {
        let r = anonymous.get(path).await;
        assert_eq!(r.status, 303, "{path}: {}", r.text);
        let to = location(&r);
        assert!(
            to.starts_with("/console/login?next=%2Fconsole"),
            "{path} → {to}"
        );
    }
    for path in [
        "/console/logout",
        "/console/review/1/approve",
        "/console/review/1/deny",
        "/console/review/1/field/1/accept",
        "/console/review/1/field/1/edit",
        "/console/account/password",
        "/console/account/browser/1/sign-out",
        "/console/admin/users",
        "/console/admin/users/alice/remove",
        "/console/admin/invites",
    ] {
        let r = anonymous.post(path, &[("csrf", "x")]).await;
        assert_eq!(r.status, 303, "POST {path}: {}", r.text);
    }
    s.login("alice", PW).await;
}

#[tokio::test]
async fn sign_in_sign_out_and_no_open_redirects() {
    let s = TestServer::start().await;
    s.create_user("alice", PW).await;
    let mut b = Console::new(&s);
    let bad = b.sign_in("alice", "wrong password").await;
    bad.expect(401, "a wrong password");
    assert!(bad.text.contains("Invalid username or password"));
    assert!(b.cookie.is_none());

    for (next, to) in [
        ("/console/account", "/console/account"),
        ("https://evil.example/", "/console/"),
        ("//evil.example/x", "/console/"),
        ("/console\\@evil", "/console/"),
    ] {
        let mut b = Console::new(&s);
        let r = b
            .post(
                "/console/login",
                &[("username", "ALICE"), ("password", PW), ("next", next)],
            )
            .await;
        assert_eq!((r.status, location(&r).as_str()), (303, to), "next={next}");
    }

    let r = b.sign_in("alice", PW).await;
    assert_eq!(location(&r), "/console/");
    assert_eq!(location(&b.get("/console/").await), "/console/review");
    b.get("/console/review").await.expect(200, "signed in");
    let token = b.csrf("/console/account").await;
    let out = b.post("/console/logout", &[("csrf", &token)]).await;
    assert_eq!(location(&out), "/console/login");
    assert!(b.cookie.is_none(), "the cookie is cleared");
    let stale = b.cookie.clone();
    assert!(stale.is_none());
}

#[tokio::test]
async fn forms_need_this_sessions_token_and_this_site() {
    let s = TestServer::start().await;
    let mut alice = Console::signed_in(&s, "alice").await;
    let mut bob = Console::signed_in(&s, "bob").await;
    let bobs_token = bob.csrf("/console/account").await;
    let token = alice.csrf("/console/account").await;
    let change = |t: &str| {
        vec![
            ("csrf".to_string(), t.to_string()),
            ("current".to_string(), "alice-password".to_string()),
            ("new".to_string(), "a brand new password".to_string()),
        ]
    };
    for bad in ["", "garbage", bobs_token.as_str()] {
        let form = change(bad);
        let form: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let r = alice.post("/console/account/password", &form).await;
        r.expect(403, "a foreign or missing CSRF token");
    }
    let form = change(&token);
    let form: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let cross = alice
        .post_with(
            "/console/account/password",
            &[("Sec-Fetch-Site", "cross-site")],
            &form,
        )
        .await;
    cross.expect(403, "a cross-site POST");
    let foreign_origin = alice
        .post_with(
            "/console/account/password",
            &[("Origin", "http://evil.example")],
            &form,
        )
        .await;
    foreign_origin.expect(403, "a POST from another origin");
    // Nothing changed: the old password still works.
    s.login("alice", "alice-password").await;

    let ok = alice.post("/console/account/password", &form).await;
    assert_eq!(location(&ok), "/console/account?done=password");
    s.login("alice", "a brand new password").await;
    s.login_raw("alice", "alice-password")
        .await
        .expect(401, "old password");
}

#[tokio::test]
async fn invite_links_make_one_account_each() {
    let s = TestServer::start().await;
    s.create_user("root", PW).await;
    s.cli(&["user", "admin", "root", "on"]).await.assert_ok();
    let mut admin = Console::new(&s);
    admin
        .sign_in("root", PW)
        .await
        .expect(303, "admin signs in");
    let made = admin
        .submit(
            "/console/admin/invites",
            "/console/admin/invites",
            &[("days", "3")],
        )
        .await;
    made.expect(200, "invite made");
    let at = made
        .text
        .find("id=\"invite-link\">")
        .expect("the link is shown");
    let rest = &made.text[at + "id=\"invite-link\">".len()..];
    let link = &rest[..rest.find('<').unwrap()];
    let path = link
        .strip_prefix(s.base_url())
        .expect("the link is on this server");
    assert!(path.starts_with("/console/invite/"), "{link}");

    let mut friend = Console::new(&s);
    friend.get(path).await.expect(200, "sign-up page");
    let joined = friend
        .post(
            path,
            &[("username", "Friend"), ("password", "friend password")],
        )
        .await;
    assert_eq!(location(&joined), "/console/account");
    friend
        .get("/console/account")
        .await
        .expect(200, "signed in after sign-up");
    s.login("friend", "friend password").await;

    let mut second = Console::new(&s);
    second.get(path).await.expect(422, "a used link");
    second
        .post(
            path,
            &[("username", "another"), ("password", "another password")],
        )
        .await
        .expect(422, "a used link makes no account");
    s.login_raw("another", "another password")
        .await
        .expect(401, "no account");
    let list = admin.get("/console/admin/invites").await;
    assert!(list.text.contains(">friend<"), "the list says who used it");
    second
        .get("/console/invite/made-up-token")
        .await
        .expect(422, "an unknown link");
}

#[tokio::test]
async fn administration_is_for_administrators() {
    let s = TestServer::start().await;
    let mut plain = Console::signed_in(&s, "plain").await;
    for path in ["/console/admin/users", "/console/admin/invites"] {
        plain.get(path).await.expect(403, path);
    }
    let token = plain.csrf("/console/account").await;
    plain
        .post(
            "/console/admin/users",
            &[("csrf", &token), ("username", "sneaky"), ("password", PW)],
        )
        .await
        .expect(403, "a plain user cannot create accounts");
    plain
        .post("/console/admin/invites", &[("csrf", &token)])
        .await
        .expect(403, "nor invite");
    s.login_raw("sneaky", PW)
        .await
        .expect(401, "no account was made");
}

#[tokio::test]
async fn a_disabled_account_is_signed_out_everywhere() {
    let s = TestServer::start().await;
    let token = s.cli(&["setup-token"]).await.stdout.trim().to_string();
    let mut admin = Console::new(&s);
    admin
        .post(
            "/console/setup",
            &[("token", &token), ("username", "root"), ("password", PW)],
        )
        .await
        .expect(303, "setup");
    let created = admin
        .submit(
            "/console/admin/users",
            "/console/admin/users",
            &[("username", "carol"), ("password", "carol password")],
        )
        .await;
    assert_eq!(
        location(&created),
        "/console/admin/users?done=created&name=carol"
    );
    let addon = s.login("carol", "carol password").await;
    let mut carol = Console::new(&s);
    carol
        .sign_in("carol", "carol password")
        .await
        .expect(303, "carol signs in");

    admin
        .submit(
            "/console/admin/users",
            "/console/admin/users/carol/disable",
            &[],
        )
        .await
        .expect(303, "disable");
    carol
        .get("/console/account")
        .await
        .expect(303, "her session ended");
    let check = s
        .post_json("/CheckUserToken", Some(&addon), &serde_json::json!({}))
        .await;
    assert_eq!(check.text, "false", "her add-on token ended");
    s.login_raw("carol", "carol password")
        .await
        .expect(401, "no add-on sign-in");
    carol
        .sign_in("carol", "carol password")
        .await
        .expect(401, "no console sign-in");
    admin
        .submit(
            "/console/admin/users",
            "/console/admin/users/root/disable",
            &[],
        )
        .await
        .expect(400, "administrators cannot switch themselves off");

    admin
        .submit(
            "/console/admin/users",
            "/console/admin/users/carol/enable",
            &[],
        )
        .await
        .expect(303, "enable");
    s.login("carol", "carol password").await;
    admin
        .submit(
            "/console/admin/users",
            "/console/admin/users/carol/remove",
            &[("confirm", "not carol")],
        )
        .await
        .expect(422, "removing needs the name typed");
    admin
        .submit(
            "/console/admin/users",
            "/console/admin/users/carol/remove",
            &[("confirm", "carol")],
        )
        .await
        .expect(303, "remove");
    s.login_raw("carol", "carol password")
        .await
        .expect(401, "removed");
}

#[tokio::test]
async fn my_sign_ins_are_listed_and_can_be_ended_one_by_one() {
    let s = TestServer::start().await;
    let mut laptop = Console::signed_in(&s, "dana").await;
    let mut phone = Console::new(&s);
    phone
        .sign_in("dana", "dana-password")
        .await
        .expect(303, "phone");
    let addon = s.login("dana", "dana-password").await;
    let page = laptop.get("/console/account").await;
    assert_eq!(
        page.text.matches("/sign-out\"").count(),
        3,
        "two browsers, one add-on"
    );
    let id_of = |page: &str, kind: &str| -> String {
        let marker = format!("/console/account/{kind}/");
        let mut ids: Vec<String> = page
            .match_indices(&marker)
            .map(|(at, _)| {
                let rest = &page[at + marker.len()..];
                rest[..rest.find('/').unwrap()].to_string()
            })
            .collect();
        ids.sort();
        ids.remove(0)
    };
    let addon_id = id_of(&page.text, "addon");
    let r = laptop
        .submit(
            "/console/account",
            &format!("/console/account/addon/{addon_id}/sign-out"),
            &[],
        )
        .await;
    assert_eq!(location(&r), "/console/account?done=signed-out");
    let check = s
        .post_json("/CheckUserToken", Some(&addon), &serde_json::json!({}))
        .await;
    assert_eq!(check.text, "false", "that add-on is signed out");
    phone
        .get("/console/account")
        .await
        .expect(200, "the phone is still signed in");

    // Someone else's sign-in is never found.
    let mut eve = Console::signed_in(&s, "eve").await;
    let dana_browser = id_of(&laptop.get("/console/account").await.text, "browser");
    eve.submit(
        "/console/account",
        &format!("/console/account/browser/{dana_browser}/sign-out"),
        &[],
    )
    .await
    .expect(404, "not eve's");
    laptop
        .get("/console/account")
        .await
        .expect(200, "untouched");
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_assets_are_cached_for_good() {
    let s = TestServer::start().await;
    let mut b = Console::new(&s);
    let page = b.get("/console/setup").await;
    let csp = page.header("content-security-policy").unwrap();
    for rule in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(rule), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    assert!(!page.text.contains("<script>"), "no inline script");
    assert!(page.text.len() < 50 * 1024);
    for ext in ["css", "js"] {
        let at = page
            .text
            .find(&format!(".{ext}\""))
            .unwrap_or_else(|| panic!("no .{ext} link"));
        let start = page.text[..at].rfind("/console/static/").unwrap();
        let href = &page.text[start..at + ext.len() + 1];
        let asset = b.get(href).await;
        asset.expect(200, href);
        assert_eq!(
            asset.header("cache-control").as_deref(),
            Some("public, max-age=31536000, immutable")
        );
        assert!(asset
            .header("content-type")
            .unwrap()
            .starts_with(if ext == "css" {
                "text/css"
            } else {
                "text/javascript"
            }));
    }
    b.get("/console/static/console.0000000000000000.css")
        .await
        .expect(404, "an unknown asset");
}

#[tokio::test]
async fn behind_https_the_session_cookie_is_secure() {
    let s = TestServer::start_with(|c| {
        c.public_url = Some("https://deckd.example".parse().unwrap());
    })
    .await;
    s.create_user("alice", PW).await;
    let mut b = Console::new(&s);
    let r = b.sign_in("alice", PW).await;
    r.expect(303, "sign-in");
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    // A browser posting from the public address passes the origin check.
    let token = b.csrf("/console/account").await;
    let out = b
        .post_with(
            "/console/logout",
            &[("Origin", "https://deckd.example")],
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(location(&out), "/console/login");
}
