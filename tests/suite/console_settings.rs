//! A deck's settings in the console: description, maintainers, protected fields,
//! optional tag groups, changelogs and deleting the deck, each checked through what the
//! add-on then gets, with who may do what.

use deckd_testkit as common;

use common::console::{location, Console};
use common::*;
use serde_json::{json, Value};

struct World {
    s: TestServer,
    hash: String,
    bob: String,
}

/// Alice publishes the demo deck; bob subscribes; carol is another account.
async fn world() -> World {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    s.user("carol").await;
    let hash = s.publish_demo(&alice).await;
    s.post_json("/AddSubscription", Some(&bob), &json!({"deck_hash": hash}))
        .await
        .expect(200, "subscribe");
    World { s, hash, bob }
}

fn settings(hash: &str) -> String {
    format!("/console/decks/{hash}/settings")
}

fn action(hash: &str, what: &str) -> String {
    format!("/console/decks/{hash}/{what}")
}

/// The only pull entry since `ts`.
async fn entry_since(w: &World, ts: &str) -> Value {
    let pull = w.s.pull_since(&w.hash, ts).await;
    entry_for(&pull, &w.hash)
        .unwrap_or_else(|| panic!("an entry: {pull}"))
        .clone()
}

#[tokio::test]
async fn the_description_reaches_subscribers_cleaned() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let ts = sync_point().await;
    let r = alice
        .submit(
            &settings(&w.hash),
            &action(&w.hash, "settings/description"),
            &[(
                "description",
                "Pharmacology <b>2026</b><script>alert(1)</script>",
            )],
        )
        .await;
    r.expect(303, "saved");
    assert!(location(&r).ends_with("?done=description"));
    let e = entry_since(&w, &ts).await;
    assert_eq!(e["deck"]["desc"], "Pharmacology <b>2026</b>");
    let page = alice.get(&settings(&w.hash)).await;
    assert!(
        page.text.contains("Pharmacology &#60;b&#62;2026") && !page.text.contains("<b>2026"),
        "escaped in the form: {}",
        page.text
    );
}

#[tokio::test]
async fn only_the_owner_names_maintainers_who_may_then_change_the_deck() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let mut carol = Console::of(&w.s, "carol").await;
    carol.get(&settings(&w.hash)).await.expect(403, "not yet");
    alice
        .submit(
            &settings(&w.hash),
            &action(&w.hash, "settings/maintainers"),
            &[("name", "carol"), ("action", "add")],
        )
        .await
        .expect(303, "added");
    let page = carol.get(&settings(&w.hash)).await;
    page.expect(200, "a maintainer's settings");
    assert!(
        !page.text.contains("Delete the deck"),
        "only the owner deletes"
    );
    assert!(page
        .text
        .contains("Only the deck's owner adds and removes maintainers"));
    carol
        .submit(
            &settings(&w.hash),
            &action(&w.hash, "settings/maintainers"),
            &[("name", "bob"), ("action", "add")],
        )
        .await
        .expect(403, "a maintainer names none");
    carol
        .submit(
            &settings(&w.hash),
            &action(&w.hash, "delete"),
            &[("name", DEMO_NAME)],
        )
        .await
        .expect(403, "a maintainer deletes nothing");
    alice
        .submit(
            &settings(&w.hash),
            &action(&w.hash, "settings/maintainers"),
            &[("name", "nobody"), ("action", "add")],
        )
        .await
        .expect(404, "an unknown account");
    alice
        .submit(
            &settings(&w.hash),
            &action(&w.hash, "settings/maintainers"),
            &[("name", "carol"), ("action", "remove")],
        )
        .await
        .expect(303, "removed");
    carol.get(&settings(&w.hash)).await.expect(403, "no longer");
    let mut bob = Console::of(&w.s, "bob").await;
    bob.get(&settings(&w.hash))
        .await
        .expect(403, "a subscriber");
    let _ = &w.bob;
}

#[tokio::test]
async fn protected_fields_reach_subscribers() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let page = alice.get(&settings(&w.hash)).await;
    let start = page
        .text
        .find("/settings/protected/")
        .expect("a protected-fields form");
    let end = start + page.text[start..].find('"').unwrap();
    let form = page.text[start..end].to_string();
    let ts = sync_point().await;
    alice
        .submit(
            &settings(&w.hash),
            &action(&w.hash, form.trim_start_matches('/')),
            &[("field", "Back")],
        )
        .await
        .expect(303, "saved");
    let e = entry_since(&w, &ts).await;
    let fields = &e["protected_fields"][0]["fields"];
    let back = fields
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Back")
        .unwrap_or_else(|| panic!("{e}"));
    assert_eq!(back["protected"], true, "{e}");
    alice
        .submit(
            &settings(&w.hash),
            &action(&w.hash, form.trim_start_matches('/')),
            &[("field", "Nope")],
        )
        .await
        .expect(404, "an unknown field");
}

#[tokio::test]
async fn optional_tag_groups_reach_subscribers_and_bad_names_are_refused() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let ts = sync_point().await;
    alice
        .submit(
            &settings(&w.hash),
            &action(&w.hash, "settings/tag-groups"),
            &[("name", "Clinical"), ("action", "add")],
        )
        .await
        .expect(303, "added");
    let e = entry_since(&w, &ts).await;
    assert_eq!(e["optional_tags"], json!(["Clinical"]));
    for bad in ["", "two words", "a::b", &"x".repeat(65)] {
        alice
            .submit(
                &settings(&w.hash),
                &action(&w.hash, "settings/tag-groups"),
                &[("name", bad), ("action", "add")],
            )
            .await
            .expect(400, bad);
    }
    alice
        .submit(
            &settings(&w.hash),
            &action(&w.hash, "settings/tag-groups"),
            &[("name", "Clinical"), ("action", "explode")],
        )
        .await
        .expect(400, "an unknown action");
}

#[tokio::test]
async fn a_deleted_changelog_no_longer_reaches_subscribers() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let ts = sync_point().await;
    for message in ["Keep me", "Typo, delete me"] {
        alice
            .submit(
                &format!("/console/decks/{}", w.hash),
                &action(&w.hash, "changelog"),
                &[("message", message)],
            )
            .await
            .expect(303, "posted");
    }
    let page = alice.get(&settings(&w.hash)).await;
    let i = page.text.find("Typo, delete me").unwrap();
    let start = i + page.text[i..].find("/changelog/").unwrap();
    let end = start + page.text[start..].find('"').unwrap();
    let delete = format!("/console/decks/{}{}", w.hash, &page.text[start..end]);
    alice
        .submit(&settings(&w.hash), &delete, &[])
        .await
        .expect(303, "deleted");
    let e = entry_since(&w, &ts).await;
    let log = e["changelog"].as_str().unwrap();
    assert!(log.contains("Keep me") && !log.contains("Typo"), "{log}");
    alice
        .submit(&settings(&w.hash), &delete, &[])
        .await
        .expect(400, "already gone");
}

#[tokio::test]
async fn deleting_a_deck_needs_its_name_and_then_subscribers_learn_it_is_gone() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let r = alice
        .submit(
            &settings(&w.hash),
            &action(&w.hash, "delete"),
            &[("name", "demo deck")],
        )
        .await;
    r.expect(400, "the wrong name");
    assert!(r.text.contains("Type the deck"), "{}", r.text);
    let alive =
        w.s.post_json("/CheckDeckAlive", None, &json!({"deck_hashes": [w.hash]}))
            .await;
    assert_eq!(alive.json(), json!([]), "still there");
    let r = alice
        .submit(
            &settings(&w.hash),
            &action(&w.hash, "delete"),
            &[("name", DEMO_NAME)],
        )
        .await;
    r.expect(303, "deleted");
    assert!(location(&r).ends_with("/console/decks?done=deleted"));
    let alive =
        w.s.post_json("/CheckDeckAlive", None, &json!({"deck_hashes": [w.hash]}))
            .await;
    assert_eq!(
        alive.json(),
        json!([w.hash]),
        "the add-on learns it is gone"
    );
    assert_eq!(w.s.pull_since(&w.hash, FIRST_PULL_TS).await, json!([]));
    alice
        .get(&settings(&w.hash))
        .await
        .expect(404, "no settings");
}

#[tokio::test]
async fn settings_forms_need_the_csrf_token() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    for (path, form) in [
        ("settings/description", vec![("description", "x")]),
        (
            "settings/tag-groups",
            vec![("name", "G"), ("action", "add")],
        ),
        ("delete", vec![("name", DEMO_NAME)]),
    ] {
        alice
            .post(&action(&w.hash, path), &form)
            .await
            .expect(403, path);
    }
    let alive =
        w.s.post_json("/CheckDeckAlive", None, &json!({"deck_hashes": [w.hash]}))
            .await;
    assert_eq!(alive.json(), json!([]), "nothing happened");
}

#[tokio::test]
async fn suggestions_may_add_subdecks_only_while_the_deck_allows_it() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let suggest_subdeck = || async {
        let mut deck = root_deck(DEMO_NAME, DEMO_UUID, "", vec![], vec![]);
        deck["children"] = json!([child_deck(
            "Extra",
            vec![note("NewOne1", &["q", "a"], &[])],
            vec![]
        )]);
        let body = submit_body(&w.hash, DEMO_NAME, DEMO_NAME, &deck, 3, "a subdeck", false);
        w.s.submit(&w.bob, &body).await
    };
    alice
        .submit(
            &settings(&w.hash),
            &action(&w.hash, "settings/restrictions"),
            &[("no_new_subdecks", "on")],
        )
        .await
        .expect(303, "restricted");
    let page = alice.get(&settings(&w.hash)).await;
    assert!(
        page.text.contains("name=\"no_new_subdecks\" checked"),
        "{}",
        page.text
    );
    let r = suggest_subdeck().await;
    r.expect(422, "no new subdecks");
    assert!(r.text.contains("Subdecks are not allowed"), "{}", r.text);
    alice
        .submit(
            &settings(&w.hash),
            &action(&w.hash, "settings/restrictions"),
            &[],
        )
        .await
        .expect(303, "allowed again");
    suggest_subdeck().await.expect(200, "a suggested subdeck");
    let mut bob = Console::of(&w.s, "bob").await;
    bob.submit(
        &format!("/console/decks/{}", w.hash),
        &action(&w.hash, "settings/restrictions"),
        &[("no_new_subdecks", "on")],
    )
    .await
    .expect(403, "a subscriber");
}
