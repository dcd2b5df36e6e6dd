//! Administration actions on a real SQLite file with no server: accounts, media GC and
//! backups are the administrator's, whether asked by the CLI (the box's administrator)
//! or by an account, which must be marked as an administrator.
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use deckd::domain::{backups, media, users, Actor, DomainError};
use deckd::store::Db;
use indicatif::ProgressBar;

/// A backup taken for `actor`, without progress output.
async fn take_backup(
    db: &Db,
    config: &deckd::Config,
    actor: Actor,
) -> Result<deckd::backup::Report, DomainError> {
    let progress = ProgressBar::hidden();
    backups::take(
        db,
        config,
        actor,
        &progress,
        Arc::new(AtomicBool::new(false)),
    )
    .await
}

async fn open() -> (Db, deckd::Config, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = deckd::Config::for_data_dir(dir.path());
    (Db::open(&config).await.unwrap(), config, dir)
}

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn only_administrators_administer() {
    let (db, config, _dir) = open().await;
    let alice = users::create(&db, Actor::Admin, "alice", PASSWORD)
        .await
        .unwrap();
    let bob = users::create(&db, Actor::Admin, "bob", PASSWORD)
        .await
        .unwrap();
    let alice_acts = Actor::User(alice.id);
    let store = deckd::media::Media::open(&config).unwrap();

    let refused = [
        users::create(&db, alice_acts, "mallory", PASSWORD)
            .await
            .map(drop),
        users::set_password(&db, alice_acts, "bob", "another long password")
            .await
            .map(drop),
        users::remove(&db, alice_acts, "bob").await.map(drop),
        users::list(&db, alice_acts).await.map(drop),
        media::gc(&db, &store, alice_acts, Duration::ZERO)
            .await
            .map(drop),
        backups::list(&db, &config, alice_acts).await.map(drop),
        take_backup(&db, &config, alice_acts).await.map(drop),
    ];
    for (i, r) in refused.into_iter().enumerate() {
        assert!(
            matches!(r, Err(DomainError::NotAdmin)),
            "action {i} by a plain account: {r:?}"
        );
    }
    let names: Vec<String> = users::list(&db, Actor::Admin)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["alice", "bob"], "nothing changed");
    assert!(
        backups::list(&db, &config, Actor::Admin)
            .await
            .unwrap()
            .is_empty(),
        "no backup was taken"
    );

    // Marked as an administrator, the same account may.
    let mut tx = db.begin_write().await.unwrap();
    sqlx::query("UPDATE users SET is_admin = 1 WHERE id = ?")
        .bind(alice.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        users::remove(&db, alice_acts, "bob").await.unwrap(),
        bob.name
    );
    media::gc(&db, &store, alice_acts, Duration::ZERO)
        .await
        .unwrap();
    let taken = take_backup(&db, &config, alice_acts).await.unwrap();
    let listed = backups::list(&db, &config, alice_acts).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, taken.name);
    assert!(listed[0].is_good());
}
