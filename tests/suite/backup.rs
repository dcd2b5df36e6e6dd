//! Backups, retention and restore: taken while the server writes, restored round
//! trip, pruned to the configured count, failing cleanly on a full disk.

use deckd_testkit as common;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use common::media::*;
use common::*;
use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

async fn publish_with(
    s: &TestServer,
    token: &str,
    name: &str,
    notes: Vec<Value>,
) -> (String, String) {
    let deck = root_deck(name, &new_uuid(), "", notes, vec![]);
    let r = s.publish_raw(token, &deck).await;
    r.expect(200, "/createDeck");
    let v = r.json();
    (
        v["message"].as_str().unwrap().to_string(),
        v["bulk_operation_id"].as_str().unwrap().to_string(),
    )
}

/// Backup folders (name order = time order).
fn backups(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.join("manifest.json").is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

async fn open(path: &Path) -> sqlx::SqliteConnection {
    SqliteConnectOptions::from_str("sqlite://")
        .unwrap()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .unwrap()
}

async fn scalar(conn: &mut sqlx::SqliteConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(conn).await.unwrap()
}

#[tokio::test]
async fn backup_taken_during_concurrent_writes_is_a_consistent_state() {
    let s = TestServer::start().await;
    let token = s.user("alice").await;
    const NOTES: usize = 60;
    // Writers publish decks of NOTES notes each; the backup starts once the first is in.
    let first_published = tokio::sync::Notify::new();
    let writer = async {
        for i in 0..12 {
            let notes = (0..NOTES)
                .map(|n| note(&format!("g{i}x{n}"), &[&format!("q{n}"), "a"], &[]))
                .collect();
            publish_with(&s, &token, &format!("Deck {i}"), notes).await;
            first_published.notify_one();
        }
    };
    let backup = async {
        first_published.notified().await;
        s.cli(&["backup", "now"]).await
    };
    let ((), out) = tokio::join!(writer, backup);
    out.assert_ok();
    let taken = backups(&s.data_dir().join("backups"));
    assert_eq!(taken.len(), 1);
    let m = manifest(&taken[0]);
    assert_eq!(m["verified"], true);

    let mut conn = open(&taken[0].join("deckd.sqlite3")).await;
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(problems, vec!["ok".to_string()]);
    let broken: Vec<(String, i64)> =
        sqlx::query_as("SELECT \"table\", rowid FROM pragma_foreign_key_check")
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
    assert!(
        broken.is_empty(),
        "foreign keys broken in the snapshot: {broken:?}"
    );
    // Each deck in the snapshot is whole: publishing is one transaction.
    let per_deck: Vec<i64> = sqlx::query_scalar(
        "SELECT COUNT(n.id) FROM decks d LEFT JOIN notes n ON n.root = d.id GROUP BY d.id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(
        per_deck.iter().all(|&n| n == NOTES as i64),
        "a deck was caught half-written: {per_deck:?}"
    );
    assert_eq!(scalar(&mut conn, "SELECT COUNT(*) FROM users").await, 1);
    conn.close().await.unwrap();
    let listed = s.cli(&["backup", "list"]).await;
    listed.assert_ok();
    assert!(
        listed
            .stdout
            .contains(taken[0].file_name().unwrap().to_str().unwrap())
            && listed.stdout.contains("yes"),
        "{}",
        listed.stdout
    );
}

#[tokio::test]
async fn restore_round_trip_brings_back_database_and_media_and_refuses_while_serving() {
    let mut s = TestServer::start().await;
    let token = s.user("alice").await;
    let png = image_bytes(image::ImageFormat::Png, 12, 12, 7);
    let (hash, bulk) = publish_with(
        &s,
        &token,
        "Kept Deck",
        vec![note("KeptNote1", &["q", "<img src=\"k.png\">"], &[])],
    )
    .await;
    s.upload_media(&token, &hash, &[("k.png", "KeptNote1", png.clone())], &bulk)
        .await;
    s.cli(&["backup", "now"]).await.assert_ok();
    // A second backup adds no media: the pool already has it.
    s.cli(&["backup", "now"]).await.assert_ok();
    let taken = backups(&s.data_dir().join("backups"));
    assert_eq!(taken.len(), 2);
    assert_eq!(manifest(&taken[0])["media_added"], 1);
    assert_eq!(manifest(&taken[1])["media_added"], 0);
    assert_eq!(manifest(&taken[1])["media"][md5_hex(&png)], png.len());
    publish_with(
        &s,
        &token,
        "Later Deck",
        vec![note("LaterNote1", &["q", "a"], &[])],
    )
    .await;

    let name = taken[1].file_name().unwrap().to_str().unwrap().to_string();
    let refused = s.cli(&["restore", &name]).await;
    refused.assert_fail();
    assert!(
        refused.stderr.contains("deckd is running"),
        "{}",
        refused.stderr
    );

    s.stop().expect("server stopped").expect("clean stop");
    let media_file = s
        .data_dir()
        .join("media")
        .join(&md5_hex(&png)[..2])
        .join(md5_hex(&png));
    std::fs::remove_file(&media_file).unwrap();
    let out = s.cli(&["restore", &name]).await;
    out.assert_ok();
    assert!(
        out.stdout.contains("1 media files were brought back"),
        "{}",
        out.stdout
    );
    assert_eq!(std::fs::read(&media_file).unwrap(), png);
    let aside: Vec<_> = std::fs::read_dir(s.data_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("pre-restore-"))
        .collect();
    assert_eq!(aside.len(), 1, "the previous database is kept aside");
    let mut old = open(&aside[0].path().join("deckd.sqlite3")).await;
    assert_eq!(
        scalar(
            &mut old,
            "SELECT COUNT(*) FROM decks WHERE name = 'Later Deck'"
        )
        .await,
        1
    );
    let mut conn = open(&s.data_dir().join("deckd.sqlite3")).await;
    assert_eq!(
        scalar(
            &mut conn,
            "SELECT COUNT(*) FROM decks WHERE name = 'Kept Deck'"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            &mut conn,
            "SELECT COUNT(*) FROM decks WHERE name = 'Later Deck'"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(&mut conn, "SELECT COUNT(*) FROM media_files").await,
        1
    );
}

#[tokio::test]
async fn retention_keeps_the_configured_count_and_a_full_disk_fails_cleanly() {
    let s = TestServer::start().await;
    s.user("alice").await;
    let dir = s.data_dir().join("elsewhere");
    let dir_s = dir.display().to_string();
    let data = s.data_dir().display().to_string();
    let env = [
        ("DECKD_BACKUP_DIR", dir_s.as_str()),
        ("DECKD_BACKUP_KEEP", "2"),
    ];
    let mut names = Vec::new();
    for _ in 0..4 {
        s.cli_raw(&["--data-dir", &data, "backup", "now"], None, &env)
            .await
            .assert_ok();
        names.push(backups(&dir).last().unwrap().clone());
    }
    assert_eq!(
        backups(&dir),
        names[2..].to_vec(),
        "exactly the two newest are kept"
    );

    // A disk too full for the next backup: the attempt fails, says why, keeps both.
    let full = [
        ("DECKD_BACKUP_DIR", dir_s.as_str()),
        ("DECKD_BACKUP_KEEP", "1"),
        ("DECKD_BACKUP_MIN_FREE_BYTES", "18000000000000000000"),
    ];
    let out = s
        .cli_raw(&["--data-dir", &data, "backup", "now"], None, &full)
        .await;
    out.assert_fail();
    assert!(
        out.stderr.contains("not enough free space"),
        "{}",
        out.stderr
    );
    assert_eq!(
        backups(&dir),
        names[2..].to_vec(),
        "a failed backup prunes nothing"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no half-written backup is left behind"
    );
}

/// A file-size limit (RLIMIT_FSIZE) makes the disk "full" in the middle of the snapshot:
/// the write fails for real, as on a full USB stick, without needing a mount.
#[tokio::test]
async fn running_out_of_space_mid_snapshot_keeps_the_last_good_backup() {
    let mut s = TestServer::start().await;
    let token = s.user("alice").await;
    let notes = (0..400)
        .map(|n| note(&format!("big{n}"), &[&"x".repeat(400), "a"], &[]))
        .collect();
    publish_with(&s, &token, "Big Deck", notes).await;
    s.cli(&["backup", "now"]).await.assert_ok();
    let before = backups(&s.data_dir().join("backups"));
    assert_eq!(before.len(), 1);
    // Stopped, so the live WAL is empty and only the snapshot has to grow past the limit.
    s.stop().expect("server stopped").expect("clean stop");

    let mut cmd = deckd_command();
    cmd.args([
        "--data-dir",
        &s.data_dir().display().to_string(),
        "backup",
        "now",
    ])
    .env("DECKD_BACKUP_KEEP", "1");
    // SAFETY: only async-signal-safe calls (setrlimit, signal) between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            nix::sys::resource::setrlimit(
                nix::sys::resource::Resource::RLIMIT_FSIZE,
                64 * 1024,
                64 * 1024,
            )?;
            nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGXFSZ,
                nix::sys::signal::SigHandler::SigIgn,
            )?;
            Ok(())
        });
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        !out.status.success(),
        "backup must fail when the disk is full"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("snapshot"),
        "the error names the failing step: {stderr}"
    );
    assert_eq!(
        backups(&s.data_dir().join("backups")),
        before,
        "the last good backup survives"
    );
    assert_eq!(manifest(&before[0])["verified"], true);
}
