//! The review actions on a real SQLite file with no server and no socket: a deck is
//! published and a suggestion stored through the ingest functions, then decided through
//! `domain::review` as the console and the CLI do. Checks who may decide, what applying
//! changes, and that a decision is final.
use deckd_testkit as common;

use common::{basic_model, note, root_deck, TINY_DECK_JSON};
use deckd::domain::{review, users, Actor, DomainError};
use deckd::ingest::{publish, suggest, CleanLimits};
use deckd::store::{self, CommitId, Db, UserId};
use deckd::wire::crowdanki::Deck;
use deckd::wire::envelope::{self, SubmitCard};
use serde_json::json;

const LIMITS: CleanLimits = CleanLimits {
    note: 4 << 20,
    tree: 24 << 20,
};

async fn open() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = deckd::Config {
        data_dir: dir.path().to_path_buf(),
        ..deckd::Config::default()
    };
    (Db::open(&config).await.unwrap(), dir)
}

/// Publishes the tiny demo deck as `owner`; answers its hash.
async fn publish_demo(db: &Db, owner: UserId, dir: &std::path::Path) -> String {
    let body = serde_json::to_vec(&json!({ "deck": TINY_DECK_JSON })).unwrap();
    let upload = envelope::create_deck(body.as_slice(), dir, 1 << 20).unwrap();
    match publish::create_deck(db, owner, upload.deck, &upload.notes, LIMITS.note)
        .await
        .unwrap()
    {
        publish::Published::Created { hash } => hash,
        publish::Published::Exists => panic!("a fresh database has no deck"),
    }
}

/// `author` suggests a new back for the demo's first note.
async fn suggest_back(db: &Db, author: UserId, hash: &str, back: &str) -> CommitId {
    let mut deck = root_deck(
        "Demo Deck",
        "6f1d2c8e-3b4a-11ef-9a7c-0242ac120002",
        "",
        vec![note(
            "AbCdEf1234",
            &["What is the capital of France?", back],
            &["geo"],
        )],
        vec![],
    );
    deck["note_models"] = json!([basic_model()]);
    let deck: Deck = serde_json::from_value(deck).unwrap();
    let req = SubmitCard {
        remote_deck: hash.to_string(),
        deck_path: "Demo Deck".into(),
        new_name: "Demo Deck".into(),
        deck,
        rationale: 4,
        commit_text: "typo".into(),
        force_overwrite: false,
    };
    suggest::submit(db, author, req, LIMITS).await.unwrap();
    let mut conn = db.reader().acquire().await.unwrap();
    let pending = store::commits::pending(&mut conn, Some(hash))
        .await
        .unwrap();
    pending.last().expect("the suggestion waits for review").id
}

async fn back_of_first_note(db: &Db, hash: &str) -> String {
    let mut conn = db.reader().acquire().await.unwrap();
    let deck = store::decks::by_hash(&mut conn, hash)
        .await
        .unwrap()
        .unwrap();
    let n = store::notes::find(&mut conn, deck.id, "AbCdEf1234")
        .await
        .unwrap()
        .unwrap();
    store::notes::reviewed_fields(&mut conn, n.id)
        .await
        .unwrap()
        .into_iter()
        .find(|(pos, _)| *pos == 1)
        .map(|(_, c)| c)
        .unwrap_or_default()
}

#[tokio::test]
async fn only_the_decks_people_decide_and_approving_applies_the_change() {
    let (db, dir) = open().await;
    let alice = users::create(&db, Actor::Admin, "alice", "alice-password")
        .await
        .unwrap()
        .id;
    let bob = users::create(&db, Actor::Admin, "bob", "bob-password!")
        .await
        .unwrap()
        .id;
    let carol = users::create(&db, Actor::Admin, "carol", "carol-password")
        .await
        .unwrap()
        .id;
    let hash = publish_demo(&db, alice, dir.path()).await;

    let first = suggest_back(&db, bob, &hash, "Paris, France").await;
    for outsider in [bob, carol] {
        assert!(matches!(
            review::approve(&db, Actor::User(outsider), first).await,
            Err(DomainError::NotMaintainer)
        ));
        assert!(matches!(
            review::deny(&db, Actor::User(outsider), first, None).await,
            Err(DomainError::NotMaintainer)
        ));
    }
    assert_eq!(
        back_of_first_note(&db, &hash).await,
        "Paris",
        "nothing applied yet"
    );

    let done = review::approve(&db, Actor::User(alice), first)
        .await
        .unwrap();
    assert_eq!(done.notes_changed, 1);
    assert_eq!(back_of_first_note(&db, &hash).await, "Paris, France");
    assert!(matches!(
        review::deny(&db, Actor::User(alice), first, Some("late")).await,
        Err(DomainError::Decided { .. })
    ));
    assert!(matches!(
        review::approve(&db, Actor::Admin, CommitId(999_999)).await,
        Err(DomainError::NoCommit(CommitId(999_999)))
    ));

    // The administrator may decide on any deck; a denial changes nothing and notifies.
    let second = suggest_back(&db, bob, &hash, "Lyon").await;
    review::deny(&db, Actor::Admin, second, Some("<b>source?</b>"))
        .await
        .unwrap();
    assert_eq!(back_of_first_note(&db, &hash).await, "Paris, France");
    let mut conn = db.reader().acquire().await.unwrap();
    let told = store::notifications::unread(&mut conn, bob, 10)
        .await
        .unwrap();
    assert_eq!(told.len(), 2, "bob hears of both decisions: {told:?}");
    assert_eq!(told[0].reason.as_deref(), Some("<b>source?</b>"));
}
