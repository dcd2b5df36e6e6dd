//! The `deckd` command line: users, reviews, decks, maintainers, health checks.
use deckd_testkit as common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::spawned::free_port;
use common::*;
use serde_json::json;

#[tokio::test]
async fn user_add_list_passwd_remove_while_server_runs() {
    let s = TestServer::start().await;
    s.cli_user_add("Carol", "first password 123")
        .await
        .assert_ok();
    let list = s.cli(&["user", "list"]).await;
    list.assert_ok();
    assert!(
        list.stdout.contains("carol"),
        "user list shows the lower-cased name: {}",
        list.stdout
    );
    assert!(!list.stdout.contains("Carol"), "{}", list.stdout);

    // The running server sees the new account at once.
    let token = s.login("carol", "first password 123").await;
    assert_eq!(
        s.post_empty("/CheckUserToken", Some(&token)).await.text,
        "true"
    );

    // Duplicate names are refused.
    s.cli_user_add("carol", "another password 1")
        .await
        .assert_fail();

    // Password change.
    s.cli_stdin(&["user", "passwd", "carol"], Some("second password 456\n"))
        .await
        .assert_ok();
    s.login_raw("carol", "first password 123")
        .await
        .expect(401, "old password after passwd");
    s.login("carol", "second password 456").await;

    // Removal: no more login, old tokens die.
    s.cli(&["user", "remove", "carol"]).await.assert_ok();
    s.login_raw("carol", "second password 456")
        .await
        .expect(401, "login after remove");
    let r = s.post_empty("/CheckUserToken", Some(&token)).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (200, "false"),
        "tokens of a removed user are invalid"
    );
    let list = s.cli(&["user", "list"]).await;
    list.assert_ok();
    assert!(!list.stdout.contains("carol"), "{}", list.stdout);
    // Removing an unknown user fails.
    s.cli(&["user", "remove", "nobody"]).await.assert_fail();
    s.cli_stdin(&["user", "passwd", "nobody"], Some("whatever password\n"))
        .await
        .assert_fail();
}

#[tokio::test]
async fn user_add_refuses_short_password_and_bad_names() {
    let s = TestServer::start().await;
    s.cli_user_add("dan", "short").await.assert_fail();
    s.login_raw("dan", "short")
        .await
        .expect(401, "no account created");
    s.cli_user_add("bad name!", "long enough password")
        .await
        .assert_fail();
    // Without any password on stdin the command fails instead of hanging.
    s.cli_stdin(&["user", "add", "erin"], Some(""))
        .await
        .assert_fail();
}

#[tokio::test]
async fn global_flags_before_or_after_subcommand_and_env() {
    let s = TestServer::start().await;
    s.create_user("frank", "frank password 1").await;
    let dir = s.data_dir().display().to_string();
    for args in [
        vec!["--data-dir", dir.as_str(), "user", "list"],
        vec!["user", "list", "--data-dir", dir.as_str()],
        vec!["user", "--data-dir", dir.as_str(), "list"],
    ] {
        let o = s.cli_raw(&args, None, &[]).await;
        o.assert_ok();
        assert!(o.stdout.contains("frank"), "{args:?}: {}", o.stdout);
    }
    let o = s
        .cli_raw(&["user", "list"], None, &[("DECKD_DATA_DIR", dir.as_str())])
        .await;
    o.assert_ok();
    assert!(o.stdout.contains("frank"), "DECKD_DATA_DIR: {}", o.stdout);

    // --config FILE with data_dir inside, before and after the subcommand.
    let cfg_dir = tempfile::tempdir().unwrap();
    let cfg = cfg_dir.path().join("deckd.toml");
    std::fs::write(&cfg, format!("data_dir = {:?}\n", dir)).unwrap();
    let cfgs = cfg.display().to_string();
    for args in [
        vec!["--config", cfgs.as_str(), "user", "list"],
        vec!["user", "list", "--config", cfgs.as_str()],
    ] {
        let o = s.cli_raw(&args, None, &[]).await;
        o.assert_ok();
        assert!(o.stdout.contains("frank"), "{args:?}: {}", o.stdout);
    }
    // The same file named by DECKD_CONFIG (as a unit's Environment= line would).
    let o = s
        .cli_raw(&["user", "list"], None, &[("DECKD_CONFIG", cfgs.as_str())])
        .await;
    o.assert_ok();
    assert!(o.stdout.contains("frank"), "DECKD_CONFIG: {}", o.stdout);
    // A secret from a file: DECKD_<KEY>_FILE.
    let secret = cfg_dir.path().join("public-url");
    std::fs::write(&secret, "https://decks.example.org\n").unwrap();
    let o = s
        .cli_raw(
            &["check-config"],
            None,
            &[("DECKD_PUBLIC_URL_FILE", secret.to_str().unwrap())],
        )
        .await;
    o.assert_ok();
    assert!(
        o.stdout
            .contains("public_url = \"https://decks.example.org/\""),
        "{}",
        o.stdout
    );
    // check-config accepts the file and rejects unknown keys.
    s.cli_raw(&["check-config", "--config", cfgs.as_str()], None, &[])
        .await
        .assert_ok();
    let bad = cfg_dir.path().join("bad.toml");
    std::fs::write(&bad, "no_such_setting = 1\n").unwrap();
    s.cli_raw(
        &["--config", bad.to_str().unwrap(), "check-config"],
        None,
        &[],
    )
    .await
    .assert_fail();
    s.cli_raw(
        &["--config", "/nonexistent/deckd.toml", "check-config"],
        None,
        &[],
    )
    .await
    .assert_fail();
}

#[tokio::test]
async fn review_list_show_approve_deny() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let h1 = s.publish_demo(&alice).await;
    let g = gen_deck("Review Two", 4, 0);
    let h2 = s.publish(&alice, &g.deck).await;
    assert!(s.pending(None).await.is_empty());
    let plain = s.cli(&["review", "list"]).await;
    plain.assert_ok();

    s.suggest(
        &bob,
        &h1,
        DEMO_NAME,
        DEMO_UUID,
        vec![note(
            "AbCdEf1234",
            &["What is the capital of France?", "Paris, FR"],
            &["geo"],
        )],
        "first",
    )
    .await
    .expect(200, "suggest 1");
    s.suggest(
        &bob,
        &h2,
        "Review Two",
        &g.uuid,
        vec![note(&g.notes[0].0, &["x", "y"], &[])],
        "second",
    )
    .await
    .expect(200, "suggest 2");
    s.suggest(
        &bob,
        &h1,
        DEMO_NAME,
        DEMO_UUID,
        vec![note("XyZ9876543", &["Which colour is this?", "red"], &[])],
        "third",
    )
    .await
    .expect(200, "suggest 3");

    let all = s.pending(None).await;
    assert_eq!(all.len(), 3, "{all:?}");
    let ids: Vec<deckd::store::CommitId> = all.iter().map(commit_id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");
    for c in &all {
        assert!(commit_author(c).contains("bob"));
        assert!(
            c["created_at"].is_string() || c["created_at"].is_number(),
            "{c}"
        );
    }
    let rationales: Vec<String> = all.iter().map(|c| c["rationale"].to_string()).collect();
    assert!(
        rationales
            .iter()
            .all(|r| r.contains('2') || r.to_lowercase().contains("updated")),
        "{rationales:?}"
    );
    assert_eq!(s.pending(Some(&h1)).await.len(), 2, "--deck filter");
    assert_eq!(s.pending(Some(&h2)).await.len(), 1, "--deck filter");

    // Plain listing: one line per pending commit, numeric id first.
    let plain = s.cli(&["review", "list"]).await;
    plain.assert_ok();
    let listed: BTreeSet<deckd::store::CommitId> = plain
        .stdout
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .next()
                .and_then(|t| t.trim_start_matches('#').parse().ok())
        })
        .collect();
    assert_eq!(
        listed,
        ids.iter().copied().collect(),
        "plain list: {}",
        plain.stdout
    );

    let show = s.cli(&["review", "show", &ids[0].to_string()]).await;
    show.assert_ok();
    assert!(
        show.stdout.contains("Paris, FR") && show.stdout.contains("first"),
        "{}",
        show.stdout
    );

    s.approve(ids[0]).await;
    s.deny(ids[1], Some("not now")).await;
    s.deny(ids[2], None).await;
    assert!(s.pending(None).await.is_empty());
    // Unknown or already-decided ids fail.
    s.cli(&["review", "approve", "999999"]).await.assert_fail();
    s.cli(&["review", "show", "999999"]).await.assert_fail();
    s.cli(&["review", "deny", &ids[1].to_string()])
        .await
        .assert_fail();

    let v = s.get("/GetNotifications", Some(&bob)).await.json();
    assert_eq!(v["unread_count"], 3, "{v}");
}

#[tokio::test]
async fn deck_list_shows_published_decks() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let h = s.publish_demo(&alice).await;
    let o = s.cli(&["deck", "list"]).await;
    o.assert_ok();
    assert!(o.stdout.contains(&h), "{}", o.stdout);
    assert!(o.stdout.contains(DEMO_NAME), "{}", o.stdout);
}

#[tokio::test]
async fn maintainer_add_allows_force_overwrite() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let h = s.publish_demo(&alice).await;
    let change = |back: &str| {
        vec![note(
            "AbCdEf1234",
            &["What is the capital of France?", back],
            &["geo"],
        )]
    };

    // Before: bob's force_overwrite is only a suggestion.
    let ts = sync_point().await;
    s.suggest_forced(&bob, &h, DEMO_NAME, DEMO_UUID, change("by stranger"))
        .await
        .expect(200, "stranger force");
    assert_eq!(s.pull_since(&h, &ts).await, json!([]));
    assert_eq!(s.pending(Some(&h)).await.len(), 1);
    s.post_json(
        "/submitChangelog",
        Some(&bob),
        &json!({"deck_hash": h, "changelog": "x"}),
    )
    .await
    .expect(403, "changelog by stranger");

    s.cli(&["deck", "maintainer", "add", &h, "bob"])
        .await
        .assert_ok();
    let ts = sync_point().await;
    let r = s
        .suggest_forced(&bob, &h, DEMO_NAME, DEMO_UUID, change("by maintainer"))
        .await;
    r.expect(200, "maintainer force");
    let p = s.pull_since(&h, &ts).await;
    assert_eq!(
        find_note(&p[0]["deck"], "AbCdEf1234").expect("applied at once")["fields"][1],
        "by maintainer"
    );
    assert_eq!(
        s.pending(Some(&h)).await.len(),
        1,
        "the maintainer's change is not queued"
    );
    s.post_json(
        "/submitChangelog",
        Some(&bob),
        &json!({"deck_hash": h, "changelog": "maintained"}),
    )
    .await
    .expect(200, "changelog by maintainer");
    // Every subscriber's add-on receives a changelog: as long as the console's form
    // allows (20,000 characters, whatever their bytes), not longer.
    s.post_json(
        "/submitChangelog",
        Some(&bob),
        &json!({"deck_hash": h, "changelog": "é".repeat(20_000)}),
    )
    .await
    .expect(200, "a changelog of 20,000 characters");
    let r = s
        .post_json(
            "/submitChangelog",
            Some(&bob),
            &json!({"deck_hash": h, "changelog": "x".repeat(20_001)}),
        )
        .await;
    r.expect_4xx("a changelog over 20,000 characters");
    assert!(
        r.text.contains("longer than 20000 characters"),
        "{}",
        r.text
    );

    s.cli(&["deck", "maintainer", "remove", &h, "bob"])
        .await
        .assert_ok();
    let ts = sync_point().await;
    s.suggest_forced(&bob, &h, DEMO_NAME, DEMO_UUID, change("after removal"))
        .await
        .expect(200, "ex-maintainer force");
    assert_eq!(s.pull_since(&h, &ts).await, json!([]), "no longer applied");
    assert_eq!(s.pending(Some(&h)).await.len(), 2);
    // Unknown user / deck fail.
    s.cli(&["deck", "maintainer", "add", &h, "nobody"])
        .await
        .assert_fail();
    s.cli(&[
        "deck",
        "maintainer",
        "add",
        "red-blue-green-alpha-bravo-zulu",
        "bob",
    ])
    .await
    .assert_fail();
}

#[tokio::test]
async fn healthcheck_against_running_and_missing_server() {
    let s = TestServer::start().await;
    let addr = s.addr().to_string();
    let o = s.cli(&["healthcheck", "--listen", &addr]).await;
    o.assert_ok();
    let port = free_port();
    let dead = format!("127.0.0.1:{port}");
    s.cli(&["healthcheck", "--listen", &dead])
        .await
        .assert_fail();
    let o = s
        .cli_raw(&["healthcheck"], None, &[("DECKD_LISTEN", addr.as_str())])
        .await;
    o.assert_ok();
}

#[tokio::test]
async fn serve_subcommand_runs_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let add = run_cli(
        vec![
            "--data-dir".into(),
            d.clone(),
            "user".into(),
            "add".into(),
            "gina".into(),
        ],
        Some("gina password 99\n".into()),
        vec![],
        dir.path().to_path_buf(),
    )
    .await;
    add.assert_ok();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = deckd_command()
        .args([
            "serve",
            "--listen",
            &listen,
            "--data-dir",
            &d,
            "--public-url",
            &format!("http://{listen}"),
        ])
        .current_dir(dir.path())
        .env("DECKD_ALLOW_ROOT", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let http = http_client();
    let mut ready = false;
    for _ in 0..600 {
        if let Ok(r) = http.get(format!("http://{listen}/readyz")).send().await {
            if r.status().as_u16() == 200 {
                ready = true;
                break;
            }
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("deckd serve exited early: {st}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let result = async {
        assert!(ready, "deckd serve never became ready");
        let r = http
            .post(format!("http://{listen}/login"))
            .json(&json!({"username": "gina", "password": "gina password 99"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let hc = run_cli(
            vec!["healthcheck".into(), "--listen".into(), listen.clone()],
            None,
            vec![],
            dir.path().to_path_buf(),
        )
        .await;
        hc.assert_ok();
    };
    // Always stop the child we started, even when an assertion fails.
    let outcome = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(result)).await;
    let _ = child.kill();
    let _ = child.wait();
    if let Err(p) = outcome {
        std::panic::resume_unwind(p);
    }
}
