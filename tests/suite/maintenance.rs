//! Maintenance: incremental vacuum gives space back, the scheduler's media GC keeps
//! what notes use, and a damaged database is recovered from a backup at start.

use deckd_testkit as common;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use common::media::*;
use common::*;
use deckd::store::Db;
use deckd::Config;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

#[tokio::test]
async fn incremental_vacuum_shrinks_the_file_after_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::for_data_dir(dir.path());
    Db::open(&config).await.unwrap().close().await;
    let path = config.database_path();
    let mut conn = SqliteConnectOptions::from_str("sqlite://")
        .unwrap()
        .filename(&path)
        .connect()
        .await
        .unwrap();
    let mode: i64 = sqlx::query_scalar("PRAGMA auto_vacuum")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        mode, 2,
        "the database is created with incremental auto_vacuum"
    );
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
         INSERT INTO users (username, password_hash, created_at) SELECT 'u' || i, hex(randomblob(2000)), 0 FROM n",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    let full = file_len(&path);
    sqlx::query("DELETE FROM users")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert_eq!(file_len(&path), full, "deleting alone gives nothing back");

    let db = Db::open(&config).await.unwrap();
    let report = deckd::maintenance::jobs::compact(&db).await.unwrap();
    db.close().await;
    let after = file_len(&path);
    assert!(
        after < full / 4,
        "file went from {full} to {after} bytes ({report})"
    );
}

#[tokio::test]
async fn scheduled_media_gc_keeps_referenced_media_and_removes_strays() {
    let s = TestServer::start_with(|c| {
        c.cleanup_interval_secs = Duration::from_secs(1);
        c.maintenance_interval_secs = Duration::from_secs(1);
        c.media_gc_grace_hours = Duration::ZERO;
        c.backup_interval_hours = Duration::ZERO;
    })
    .await;
    let token = s.user("alice").await;
    let png = image_bytes(image::ImageFormat::Png, 10, 10, 3);
    let deck = root_deck(
        "Media",
        &new_uuid(),
        "",
        vec![note("UsesIt1", &["q", "<img src=\"u.png\">"], &[])],
        vec![],
    );
    let v = s.publish_raw(&token, &deck).await.json();
    let (hash, bulk) = (
        v["message"].as_str().unwrap().to_string(),
        v["bulk_operation_id"].as_str().unwrap().to_string(),
    );
    s.upload_media(&token, &hash, &[("u.png", "UsesIt1", png.clone())], &bulk)
        .await;
    let stray_hash = "0123456789abcdef0123456789abcdef";
    let stray = s.data_dir().join("media/01").join(stray_hash);
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, b"nobody uses me").unwrap();

    // A second stray written once the first is gone is removed by a later pass, so the
    // pass that removed the first (and would have removed the kept file) has finished.
    let second = stray.with_file_name("01fedcba9876543210fedcba98765432");
    for (file, write) in [(&stray, false), (&second, true)] {
        if write {
            std::fs::write(file, b"nobody uses me either").unwrap();
        }
        let start = std::time::Instant::now();
        while file.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the scheduler never ran media GC"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let kept = s
        .data_dir()
        .join("media")
        .join(&md5_hex(&png)[..2])
        .join(md5_hex(&png));
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        png,
        "referenced media survives GC"
    );
    let got = s.download_media(&token, &hash, &["u.png"]).await;
    assert_eq!(got.len(), 1);
}

/// Runs `launch` on `config` until `stop` fires; returns its result.
fn serve(
    config: Config,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<Result<(), String>>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            deckd::launch(config, listener, async move {
                let _ = rx.await;
            })
            .await
            .map_err(|e| format!("{e:#}"))
        })
    });
    (addr, tx, handle)
}

async fn wait_ready(addr: std::net::SocketAddr) {
    let http = http_client();
    for _ in 0..400 {
        if http
            .get(format!("http://{addr}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("server never became ready");
}

/// Overwrites every page after the first with garbage, like a failing SD card.
fn corrupt(path: &Path) {
    let len = file_len(path) as usize;
    assert!(len > 8192);
    let mut bytes = std::fs::read(path).unwrap();
    for b in &mut bytes[4096..] {
        *b = 0xA5;
    }
    std::fs::write(path, bytes).unwrap();
}

fn cli(data: &Path, args: &[&str]) -> CliOut {
    let mut full = vec!["--data-dir".to_string(), data.display().to_string()];
    full.extend(args.iter().map(|s| s.to_string()));
    run_cli_blocking(&full, None, &[], data)
}

#[tokio::test]
async fn a_damaged_database_is_restored_from_the_newest_backup_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::for_data_dir(dir.path());
    let (addr, stop, done) = serve(config.clone());
    wait_ready(addr).await;
    let data = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        cli_user_add_blocking(&data, "alice");
        cli(&data, &["backup", "now"])
    })
    .await
    .unwrap();
    out.assert_ok();
    stop.send(()).unwrap();
    done.join().unwrap().unwrap();

    corrupt(&config.database_path());
    let (addr, stop, done) = serve(config.clone());
    wait_ready(addr).await;
    let login = http_client()
        .post(format!("http://{addr}/login"))
        .json(&serde_json::json!({"username": "alice", "password": password_for("alice")}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200, "alice came back with the backup");
    stop.send(()).unwrap();
    done.join().unwrap().unwrap();
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("damaged-"))
        .collect();
    assert_eq!(aside.len(), 1, "the damaged database is kept");
    assert!(aside[0].path().join("deckd.sqlite3").is_file());
}

#[tokio::test]
async fn a_damaged_database_without_a_backup_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::for_data_dir(dir.path());
    let (addr, stop, done) = serve(config.clone());
    wait_ready(addr).await;
    let data = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || cli_user_add_blocking(&data, "alice"))
        .await
        .unwrap();
    stop.send(()).unwrap();
    done.join().unwrap().unwrap();

    corrupt(&config.database_path());
    let damaged = std::fs::read(config.database_path()).unwrap();
    let (_, _stop, done) = serve(config.clone());
    let err = done.join().unwrap().expect_err("must refuse to start");
    assert!(
        err.contains("damaged") && err.contains("no verified backup"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(config.database_path()).unwrap(),
        damaged,
        "the damaged file stays where it was"
    );
}

fn cli_user_add_blocking(data: &Path, name: &str) {
    let mut full = vec!["--data-dir".to_string(), data.display().to_string()];
    full.extend(["user", "add", name].iter().map(|s| s.to_string()));
    run_cli_blocking(&full, Some(&format!("{}\n", password_for(name))), &[], data).assert_ok();
}

/// Rows in `table` matching `filter` (a WHERE clause), read straight from the file.
async fn count(conn: &mut sqlx::SqliteConnection, table: &str, filter: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {filter}"))
        .fetch_one(conn)
        .await
        .unwrap()
}

/// Retention removes exactly what is expired or older than `retention_days`, and never
/// deck content, pending suggestions, unread notifications or live sessions.
#[tokio::test]
async fn retention_purges_only_old_records_and_never_deck_content() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let stale_session = s.login("bob", &password_for("bob")).await;
    let hash = s.publish_demo(&alice).await;
    let edit = |back: &str| {
        vec![note(
            "AbCdEf1234",
            &["What is the capital of France?", back],
            &["geo"],
        )]
    };
    for (text, back) in [
        ("old approved", "Paris (a)"),
        ("old denied", "Paris (b)"),
        ("recent approved", "Paris (c)"),
        ("pending", "Paris (d)"),
    ] {
        s.suggest(&bob, &hash, DEMO_NAME, DEMO_UUID, edit(back), text)
            .await
            .expect(200, text);
    }
    let ids: Vec<deckd::store::CommitId> =
        s.pending(Some(&hash)).await.iter().map(commit_id).collect();
    s.approve(ids[0]).await;
    s.deny(ids[1], Some("no")).await;
    s.approve(ids[2]).await;
    let full_before = s.pull_since(&hash, FIRST_PULL_TS).await;

    let path = s.config().database_path();
    let mut conn = SqliteConnectOptions::from_str("sqlite://")
        .unwrap()
        .filename(&path)
        .connect()
        .await
        .unwrap();
    let year_ago = deckd::store::Micros::now().0 - 365 * 86_400 * 1_000_000;
    // Bob read his notifications but one; the first two decisions are a year old.
    for sql in [
        "UPDATE notifications SET is_read = 1".to_string(),
        format!("UPDATE commits SET decided_at = {year_ago} WHERE id IN ({}, {})", ids[0], ids[1]),
        format!("UPDATE notifications SET created_at = {year_ago} WHERE commit_id IN ({}, {})", ids[0], ids[1]),
        format!("UPDATE notifications SET is_read = 0 WHERE commit_id = {}", ids[1]),
        format!("UPDATE auth_tokens SET refresh_expires_at = {year_ago}, expires_at = {year_ago} WHERE id = (SELECT MAX(id) FROM auth_tokens)"),
        "INSERT INTO note_stats (note, user_hash, retention, lapses, reps, uploaded_at) SELECT id, 'old', 90, 0, 5, 0 FROM notes".to_string(),
        format!("INSERT INTO note_stats (note, user_hash, retention, lapses, reps, uploaded_at) SELECT id, 'new', 90, 0, 5, {} FROM notes", deckd::store::Micros::now().0),
        // Upload batches: one expired an hour ago, one open for another hour (microseconds).
        format!("INSERT INTO media_batches (id, user_id, root, created_at, expires_at) SELECT 'expired', MIN(id), (SELECT MIN(id) FROM decks), {year_ago}, {} FROM users", deckd::store::Micros::now().0 - 3_600_000_000),
        format!("INSERT INTO media_batches (id, user_id, root, created_at, expires_at) SELECT 'open', MIN(id), (SELECT MIN(id) FROM decks), {}, {} FROM users", deckd::store::Micros::now().0, deckd::store::Micros::now().0 + 3_600_000_000),
    ] {
        sqlx::query(&sql).execute(&mut conn).await.unwrap();
    }
    let events = |id: deckd::store::CommitId| format!("commit_id = {id}");
    let (old_events, recent_events) = (
        count(&mut conn, "note_events", &events(ids[0])).await,
        count(&mut conn, "note_events", &events(ids[2])).await,
    );
    assert!(
        old_events > 0 && recent_events > 0,
        "both approvals left history events"
    );
    let notes_before = count(&mut conn, "notes", "1").await;
    let fields_before = count(&mut conn, "fields", "1").await;

    let db = Db::open(s.config()).await.unwrap();
    let report = deckd::maintenance::jobs::cleanup(&db, s.config())
        .await
        .unwrap();
    db.close().await;

    assert_eq!(
        count(&mut conn, "auth_tokens", "1").await,
        2,
        "only the expired session is gone ({report})"
    );
    let server = &s;
    let check =
        |t: String| async move { server.post_empty("/CheckUserToken", Some(&t)).await.text };
    assert_eq!(check(stale_session).await, "false");
    for live in [&alice, &bob] {
        assert_eq!(
            check(live.clone()).await,
            "true",
            "live sessions survive retention"
        );
    }
    assert_eq!(
        count(
            &mut conn,
            "notifications",
            &format!("commit_id = {}", ids[0])
        )
        .await,
        0,
        "old read notification purged"
    );
    assert_eq!(
        count(
            &mut conn,
            "notifications",
            &format!("commit_id = {}", ids[1])
        )
        .await,
        1,
        "unread notifications are kept however old"
    );
    assert_eq!(
        count(
            &mut conn,
            "notifications",
            &format!("commit_id = {}", ids[2])
        )
        .await,
        1,
        "recent read notification kept"
    );
    assert_eq!(
        count(&mut conn, "media_batches", "id = 'expired'").await,
        0,
        "expired upload batch purged"
    );
    assert_eq!(
        count(&mut conn, "media_batches", "id = 'open'").await,
        1,
        "open upload batch kept"
    );
    assert_eq!(
        count(&mut conn, "note_stats", "user_hash = 'old'").await,
        0,
        "old statistics purged"
    );
    assert!(
        count(&mut conn, "note_stats", "user_hash = 'new'").await > 0,
        "recent statistics kept"
    );
    assert_eq!(
        count(&mut conn, "note_events", &events(ids[0])).await,
        0,
        "history of old decisions purged"
    );
    assert_eq!(
        count(&mut conn, "note_events", &events(ids[2])).await,
        recent_events,
        "history of recent decisions kept"
    );
    assert_eq!(
        count(&mut conn, "notes", "1").await,
        notes_before,
        "no note is touched"
    );
    assert_eq!(
        count(&mut conn, "fields", "1").await,
        fields_before,
        "no field is touched"
    );
    conn.close().await.unwrap();
    assert_eq!(
        s.pull_since(&hash, FIRST_PULL_TS).await,
        full_before,
        "subscribers see the same deck"
    );
    assert_eq!(
        commit_id(&s.only_pending(&hash).await),
        ids[3],
        "the pending suggestion is untouched"
    );
}
