//! Unreviewed content stays private (issue 11, finding 2): a subdeck a non-maintainer
//! suggests, with its notes and description, reaches no pull until the suggestion is
//! approved, and leaves nothing behind when it is denied. Auto-approved changes by the
//! owner still apply at once.

use deckd_testkit as common;

use deckd::domain::{review, Actor, DomainError};

use common::*;
use serde_json::{json, Value};

const ROOT: &str = "Private Deck";
const SUB_PATH: &str = "Private Deck::Suggested Sub";
const SUB_DESC: &str = "a description only the suggestion carries";

/// Every `(node name, note guids)` of a pulled tree.
fn nodes(pull: &Value, hash: &str) -> Vec<(String, Vec<String>)> {
    let Some(entry) = entry_for(pull, hash) else {
        return Vec::new();
    };
    all_nodes(&entry["deck"])
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap_or_default().to_string(),
                note_guids(n),
            )
        })
        .collect()
}

fn has_sub(pull: &Value, hash: &str) -> bool {
    let text = pull.to_string();
    nodes(pull, hash)
        .iter()
        .any(|(name, _)| name == "Suggested Sub")
        || text.contains("SubNote001")
        || text.contains(SUB_DESC)
}

/// Publishes the root deck, returning its hash and uuid.
async fn publish(s: &TestServer, token: &str) -> (String, String) {
    let uuid = new_uuid();
    let deck = root_deck(
        ROOT,
        &uuid,
        "root",
        vec![note("RootNote01", &["root q", "root a"], &[])],
        vec![],
    );
    (s.publish(token, &deck).await, uuid)
}

/// `/submitCard` of a new subdeck under the root, as the add-on sends it from the sideview.
async fn suggest_subdeck(s: &TestServer, token: &str, hash: &str, force: bool) -> Resp {
    let mut sub = child_deck(
        SUB_PATH,
        vec![note("SubNote001", &["sub q", "sub a"], &[])],
        vec![],
    );
    sub["desc"] = json!(SUB_DESC);
    sub["note_models"] = json!([basic_model()]);
    let (rationale, text) = if force {
        (10, "")
    } else {
        (3, "a new subdeck")
    };
    s.submit(
        token,
        &submit_body(hash, SUB_PATH, ROOT, &sub, rationale, text, force),
    )
    .await
}

/// An auto-approved owner edit of the root note: bumps the tree so incremental pulls answer.
async fn owner_edit(s: &TestServer, token: &str, hash: &str, uuid: &str, front: &str) {
    let r = s
        .suggest_forced(
            token,
            hash,
            ROOT,
            uuid,
            vec![note("RootNote01", &[front, "root a"], &[])],
        )
        .await;
    r.expect(200, "owner's auto-approved edit");
}

#[tokio::test]
async fn suggested_subdeck_is_invisible_until_approved() {
    let s = TestServer::start_with(|c| c.pull_cache_bytes = 0).await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let (hash, uuid) = publish(&s, &alice).await;
    let ts = sync_point().await;

    suggest_subdeck(&s, &bob, &hash, false)
        .await
        .expect(200, "bob's subdeck suggestion");
    owner_edit(&s, &alice, &hash, &uuid, "root q v2").await;

    let full = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert!(
        !has_sub(&full, &hash),
        "a new subscriber's full pull shows the unapproved subdeck: {full}"
    );
    let incremental = s.pull_since(&hash, &ts).await;
    assert!(
        entry_for(&incremental, &hash).is_some(),
        "the owner's edit is pulled: {incremental}"
    );
    assert!(
        !has_sub(&incremental, &hash),
        "an incremental pull shows the unapproved subdeck: {incremental}"
    );

    s.approve(commit_id(&s.only_pending(&hash).await)).await;

    let full = s.pull_since(&hash, FIRST_PULL_TS).await;
    let got = nodes(&full, &hash);
    assert!(
        got.contains(&("Suggested Sub".to_string(), vec!["SubNote001".to_string()])),
        "after approval: {got:?}"
    );
    assert!(
        full.to_string().contains(SUB_DESC),
        "the description comes with the approved subdeck"
    );
    let incremental = s.pull_since(&hash, &ts).await;
    assert!(
        has_sub(&incremental, &hash),
        "an existing subscriber gets the approved subdeck: {incremental}"
    );
}

#[tokio::test]
async fn denied_subdeck_vanishes_and_can_be_suggested_again() {
    let s = TestServer::start_with(|c| c.pull_cache_bytes = 0).await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let (hash, uuid) = publish(&s, &alice).await;
    let ts = sync_point().await;

    suggest_subdeck(&s, &bob, &hash, false)
        .await
        .expect(200, "first suggestion");
    s.deny(commit_id(&s.only_pending(&hash).await), Some("not wanted"))
        .await;
    owner_edit(&s, &alice, &hash, &uuid, "root q v2").await;

    let full = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert!(
        !has_sub(&full, &hash),
        "denied subdeck in a full pull: {full}"
    );
    let incremental = s.pull_since(&hash, &ts).await;
    assert!(
        !has_sub(&incremental, &hash),
        "denied subdeck in an incremental pull: {incremental}"
    );

    // Nothing of the denied suggestion is left in the way: the same subdeck is a fresh suggestion.
    suggest_subdeck(&s, &bob, &hash, false)
        .await
        .expect(200, "second suggestion");
    let pending = s.only_pending(&hash).await;
    assert!(
        !has_sub(&s.pull_since(&hash, FIRST_PULL_TS).await, &hash),
        "second suggestion is private too"
    );
    s.approve(commit_id(&pending)).await;
    let got = nodes(&s.pull_since(&hash, FIRST_PULL_TS).await, &hash);
    let subs: Vec<_> = got
        .iter()
        .filter(|(name, _)| name == "Suggested Sub")
        .collect();
    assert_eq!(
        subs,
        vec![&("Suggested Sub".to_string(), vec!["SubNote001".to_string()])],
        "one subdeck after approval: {got:?}"
    );
}

#[tokio::test]
async fn approval_through_the_domain_function_publishes_the_subdeck() {
    let s = TestServer::start_with(|c| c.pull_cache_bytes = 0).await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let (hash, _) = publish(&s, &alice).await;
    suggest_subdeck(&s, &bob, &hash, false)
        .await
        .expect(200, "suggestion");
    let id = commit_id(&s.only_pending(&hash).await);
    assert!(!has_sub(&s.pull_since(&hash, FIRST_PULL_TS).await, &hash));

    let db = deckd::store::Db::open(s.config())
        .await
        .expect("open the server's database");
    let owner = deckd::store::users::by_name(&mut db.reader().acquire().await.unwrap(), "alice")
        .await
        .unwrap()
        .unwrap();
    let bob_id = deckd::store::users::by_name(&mut db.reader().acquire().await.unwrap(), "bob")
        .await
        .unwrap()
        .unwrap();
    let refused = review::approve(&db, Actor::User(bob_id.id), id).await;
    assert!(
        matches!(refused, Err(DomainError::NotMaintainer)),
        "the suggester may not approve his own suggestion: {refused:?}"
    );
    assert!(matches!(
        review::deny(&db, Actor::User(bob_id.id), id, None).await,
        Err(DomainError::NotMaintainer)
    ));
    review::approve(&db, Actor::User(owner.id), id)
        .await
        .expect("approve");
    assert!(
        matches!(
            review::approve(&db, Actor::User(owner.id), id).await,
            Err(DomainError::Decided { .. })
        ),
        "a decided suggestion cannot be decided again"
    );
    assert!(
        has_sub(&s.pull_since(&hash, FIRST_PULL_TS).await, &hash),
        "approved subdeck is pulled"
    );
}

#[tokio::test]
async fn owners_auto_approved_subdeck_applies_at_once() {
    let s = TestServer::start_with(|c| c.pull_cache_bytes = 0).await;
    let alice = s.user("alice").await;
    let (hash, _) = publish(&s, &alice).await;
    let ts = sync_point().await;
    suggest_subdeck(&s, &alice, &hash, true)
        .await
        .expect(200, "owner's auto-approved subdeck");
    assert!(
        s.pending(Some(&hash)).await.is_empty(),
        "nothing waits for review"
    );
    assert!(
        has_sub(&s.pull_since(&hash, FIRST_PULL_TS).await, &hash),
        "full pull"
    );
    assert!(
        has_sub(&s.pull_since(&hash, &ts).await, &hash),
        "incremental pull"
    );
}

#[tokio::test]
async fn force_overwrite_from_a_non_maintainer_is_only_a_suggestion() {
    let s = TestServer::start_with(|c| c.pull_cache_bytes = 0).await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let (hash, _) = publish(&s, &alice).await;
    suggest_subdeck(&s, &bob, &hash, true)
        .await
        .expect(200, "bob's forced subdeck is taken as a suggestion");
    assert_eq!(s.pending(Some(&hash)).await.len(), 1, "it waits for review");
    assert!(
        !has_sub(&s.pull_since(&hash, FIRST_PULL_TS).await, &hash),
        "and stays private"
    );
}
