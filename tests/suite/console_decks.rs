//! Running decks in the web console: my decks, a deck's notes (search, subdecks, paging),
//! a note's history, deck media, changelogs, and the notetype editor, whose changes reach
//! subscribers' pulls with every note and no content lost; who may see and do what.

use deckd_testkit as common;

use common::console::{location, Console};
use common::media::*;
use common::notetypes::*;
use common::*;
use serde_json::json;

const FRANCE: &str = "AbCdEf1234";
const COLOUR: &str = "XyZ9876543";

/// Alice publishes the demo deck; bob subscribes; carol is a stranger.
struct World {
    s: TestServer,
    hash: String,
    bob: String,
    carol: String,
}

async fn world() -> World {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let carol = s.user("carol").await;
    let hash = s.publish_demo(&alice).await;
    s.post_json("/AddSubscription", Some(&bob), &json!({"deck_hash": hash}))
        .await
        .expect(200, "subscribe");
    World {
        s,
        hash,
        bob,
        carol,
    }
}

fn deck_path(hash: &str) -> String {
    format!("/console/decks/{hash}")
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn my_decks_lists_what_i_own_maintain_or_subscribe_to_and_nothing_else() {
    let w = world().await;
    let other =
        w.s.publish(
            &w.carol,
            &root_deck(
                "Histology",
                &new_uuid(),
                "",
                vec![note("Cc1", &["q", "a"], &[])],
                vec![],
            ),
        )
        .await;
    let mut alice = Console::of(&w.s, "alice").await;
    let page = alice.get("/console/decks").await;
    page.expect(200, "my decks");
    assert!(
        page.text.contains(DEMO_NAME) && page.text.contains("owner"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("Histology"), "not someone else's deck");
    assert!(
        page.text.contains("2 notes") && page.text.contains("1 subscriber"),
        "{}",
        page.text
    );
    let mut bob = Console::of(&w.s, "bob").await;
    let page = bob.get("/console/decks").await;
    assert!(
        page.text.contains(DEMO_NAME) && page.text.contains("subscriber"),
        "{}",
        page.text
    );
    let mut c = Console::of(&w.s, "carol").await;
    let page = c.get("/console/decks").await;
    assert!(page.text.contains("Histology") && !page.text.contains(DEMO_NAME));
    // Carol sees nothing of alice's deck, and alice nothing of carol's.
    c.get(&deck_path(&w.hash))
        .await
        .expect(403, "a stranger's deck");
    alice
        .get(&deck_path(&other))
        .await
        .expect(403, "a stranger's deck");
    alice
        .get(&format!("{}/notes/Cc1", deck_path(&other)))
        .await
        .expect(403, "a stranger's note");
    alice
        .get("/console/decks/no-such-deck-at-all-here")
        .await
        .expect(404, "an unknown deck");
    Console::new(&w.s)
        .get(&deck_path(&w.hash))
        .await
        .expect(303, "signed out");
}

#[tokio::test]
async fn a_deck_page_shows_notes_as_subscribers_get_them_searchable_and_paged() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let g = gen_deck("Anatomy", 60, 3);
    let hash = s.publish(&alice, &g.deck).await;
    let mut c = Console::of(&s, "alice").await;
    let first = c.get(&deck_path(&hash)).await;
    first.expect(200, "deck page");
    assert_eq!(
        first.text.matches("class=\"card note\"").count(),
        25,
        "25 a page"
    );
    let next = first
        .text
        .split("href=\"")
        .filter_map(|p| p.split('"').next())
        .find(|h| h.contains("after="))
        .expect("a next page link")
        .replace("&amp;", "&");
    let second = c.get(&next).await;
    second.expect(200, "second page");
    assert_eq!(second.text.matches("class=\"card note\"").count(), 25);
    let (guid, path) = g.notes[7].clone();
    let one = c
        .get(&format!(
            "{}?q={}",
            deck_path(&hash),
            urlencode(&guid_text(&g, &guid))
        ))
        .await;
    assert_eq!(
        one.text.matches("class=\"card note\"").count(),
        1,
        "{}",
        one.text
    );
    let in_deck = c
        .get(&format!("{}?deck={}", deck_path(&hash), urlencode(&path)))
        .await;
    let shown = in_deck.text.matches("class=\"card note\"").count();
    let expected = g
        .notes
        .iter()
        .filter(|(_, p)| *p == path || p.starts_with(&format!("{path}::")))
        .count()
        .min(25);
    assert_eq!(shown, expected, "a subdeck and its own subdecks");
    let none = c.get(&format!("{}?q=%25%25%25", deck_path(&hash))).await;
    assert!(
        none.text.contains("No note matches"),
        "% is text, not a wildcard"
    );
    let tagged = c.get(&format!("{}?tag=gen", deck_path(&hash))).await;
    assert!(tagged.text.matches("class=\"card note\"").count() > 0);
    let untagged = c.get(&format!("{}?tag=nosuchtag", deck_path(&hash))).await;
    assert!(untagged.text.contains("No note matches"));
}

/// The first field of a generated note, which the search finds it by.
fn guid_text(g: &GenDeck, guid: &str) -> String {
    all_notes(&g.deck)
        .into_iter()
        .find(|n| n["guid"] == guid)
        .unwrap()["fields"][0]
        .as_str()
        .unwrap()
        .to_string()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn subscribers_see_the_deck_but_change_nothing() {
    let w = world().await;
    let mut bob = Console::of(&w.s, "bob").await;
    let page = bob.get(&deck_path(&w.hash)).await;
    page.expect(200, "a subscriber sees the deck");
    assert!(page.text.contains("What is the capital of France?"));
    assert!(!page.text.contains("/notetypes/"), "no notetype editor");
    assert!(!page.text.contains("Post a changelog"));
    let mut alice = Console::of(&w.s, "alice").await;
    let nt = notetype_path(&alice.get(&deck_path(&w.hash)).await.text);
    bob.get(&nt).await.expect(403, "the notetype editor");
    let r = bob
        .submit(
            &deck_path(&w.hash),
            &format!("{}/changelog", deck_path(&w.hash)),
            &[("message", "hijack")],
        )
        .await;
    r.expect(403, "a subscriber's changelog");
    let ts = sync_point().await;
    assert_eq!(w.s.pull_since(&w.hash, &ts).await, json!([]));
}

#[tokio::test]
async fn a_changelog_posted_in_the_console_reaches_subscribers_alone() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let ts = sync_point().await;
    let r = alice
        .submit(
            &deck_path(&w.hash),
            &format!("{}/changelog", deck_path(&w.hash)),
            &[("message", "New <b>chapter</b> next week")],
        )
        .await;
    r.expect(303, "posted");
    assert!(location(&r).ends_with("?done=changelog"));
    let pull = w.s.pull_since(&w.hash, &ts).await;
    let e = entry_for(&pull, &w.hash).expect("an entry for the changelog alone");
    assert!(
        e["changelog"]
            .as_str()
            .unwrap()
            .contains("New <b>chapter</b> next week"),
        "{e}"
    );
    assert_eq!(e["deck"]["notes"], json!([]));
    let r = alice
        .post(
            &format!("{}/changelog", deck_path(&w.hash)),
            &[("message", "no token")],
        )
        .await;
    r.expect(403, "no CSRF token");
}

#[tokio::test]
async fn a_notes_history_names_each_change_and_its_suggestion() {
    let w = world().await;
    w.s.suggest(
        &w.bob,
        &w.hash,
        DEMO_NAME,
        DEMO_UUID,
        vec![note(
            FRANCE,
            &["What is the capital of France?", "Paris, on the Seine"],
            &["geo", "europe"],
        )],
        "Seine",
    )
    .await
    .expect(200, "suggestion");
    let id = commit_id(&w.s.only_pending(&w.hash).await);
    w.s.approve(id).await;
    let mut alice = Console::of(&w.s, "alice").await;
    let page = alice
        .get(&format!("{}/notes/{FRANCE}", deck_path(&w.hash)))
        .await;
    page.expect(200, "note page");
    assert!(page.text.contains("Paris, on the Seine"), "{}", page.text);
    assert!(
        page.text.contains(&format!("#{id}")) && page.text.contains("by bob"),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("tag added") && page.text.contains("europe"),
        "{}",
        page.text
    );
    alice
        .get(&format!("{}/notes/NoSuchGuid", deck_path(&w.hash)))
        .await
        .expect(404, "unknown note");
}

#[tokio::test]
async fn deck_media_is_served_to_who_may_see_the_deck_only() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    s.user("carol").await;
    let published = s.publish_raw(&alice, &tiny_deck()).await.json();
    let (hash, bulk) = (
        published["message"].as_str().unwrap().to_string(),
        published["bulk_operation_id"].as_str().unwrap().to_string(),
    );
    s.upload_media(
        &alice,
        &hash,
        &[("red1x1.png", COLOUR, red1x1_png())],
        &bulk,
    )
    .await;
    let mut c = Console::of(&s, "alice").await;
    let page = c.get(&deck_path(&hash)).await;
    let src = format!("{}/media?name=red1x1.png", deck_path(&hash));
    assert!(
        page.text.contains(&src),
        "the image points at the deck's media: {}",
        page.text
    );
    c.get(&src).await.expect(200, "the image");
    let mut carol = Console::of(&s, "carol").await;
    carol.get(&src).await.expect(403, "a stranger");
    c.get(&format!("{}/media?name=other.png", deck_path(&hash)))
        .await
        .expect(404, "not this deck's");
}

const CARD: (&str, &str, &str) = ("Card 1", "{{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}");
const CSS: &str = ".card { font-family: arial; font-size: 20px; text-align: center; }";

#[tokio::test]
async fn a_notetype_edited_in_the_console_reaches_subscribers_with_no_content_lost() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let page = notetype_path(&alice.get(&deck_path(&w.hash)).await.text);
    alice.get(&page).await.expect(200, "the editor");

    // Add a field and rename Back: content stays, templates follow the rename.
    let ts = sync_point().await;
    let r = save_notetype(
        &mut alice,
        &page,
        &[("0", "Front", "1"), ("1", "Answer", "2")],
        &[CARD],
        CSS,
        &[("new.name", "Source")],
    )
    .await;
    r.expect(303, "saved");
    let pull = w.s.pull_since(&w.hash, &ts).await;
    let e = entry_for(&pull, &w.hash).expect("an entry");
    let (names, notes) = pulled_layout(e);
    assert_eq!(names, ["Front", "Answer", "Source"]);
    assert_eq!(
        notes,
        [
            (
                FRANCE.into(),
                strings(&["What is the capital of France?", "Paris", ""])
            ),
            (
                COLOUR.into(),
                strings(&["Which colour is this?", "<img src=red1x1.png>", ""])
            ),
        ]
    );
    assert_eq!(
        e["deck"]["note_models"][0]["tmpls"][0]["afmt"], "{{FrontSide}}<hr id=answer>{{Answer}}",
        "the template follows the rename"
    );

    // Reorder: content moves with its field.
    let ts = sync_point().await;
    let answer_card = (
        "Card 1",
        "{{Front}}",
        "{{FrontSide}}<hr id=answer>{{Answer}}",
    );
    save_notetype(
        &mut alice,
        &page,
        &[
            ("0", "Front", "3"),
            ("1", "Answer", "1"),
            ("2", "Source", "2"),
        ],
        &[answer_card],
        CSS,
        &[],
    )
    .await
    .expect(303, "reordered");
    let (names, notes) =
        pulled_layout(entry_for(&w.s.pull_since(&w.hash, &ts).await, &w.hash).unwrap());
    assert_eq!(names, ["Answer", "Source", "Front"]);
    assert_eq!(
        notes[0].1,
        strings(&["Paris", "", "What is the capital of France?"])
    );

    // Removing needs the confirmation, then deletes only that field.
    let remove = [("f1.remove", "on")];
    let fields = [
        ("0", "Answer", "1"),
        ("1", "Source", "2"),
        ("2", "Front", "3"),
    ];
    let r = save_notetype(&mut alice, &page, &fields, &[answer_card], CSS, &remove).await;
    r.expect(400, "removal without confirmation");
    assert!(r.text.contains("confirm"), "{}", r.text);
    let ts = sync_point().await;
    save_notetype(
        &mut alice,
        &page,
        &fields,
        &[answer_card],
        ".card { color: navy; }",
        &[("f1.remove", "on"), ("confirm_remove", "on")],
    )
    .await
    .expect(303, "removed");
    let e = entry_for(&w.s.pull_since(&w.hash, &ts).await, &w.hash)
        .unwrap()
        .clone();
    let (names, notes) = pulled_layout(&e);
    assert_eq!(names, ["Answer", "Front"]);
    assert_eq!(
        notes[0].1,
        strings(&["Paris", "What is the capital of France?"])
    );
    assert_eq!(e["deck"]["note_models"][0]["css"], ".card { color: navy; }");

    // A template edit alone.
    let ts = sync_point().await;
    save_notetype(
        &mut alice,
        &page,
        &[("0", "Answer", "1"), ("1", "Front", "2")],
        &[(
            "Card 1",
            "<b>{{Front}}</b>",
            "{{FrontSide}}<hr id=answer>{{Answer}}",
        )],
        ".card { color: navy; }",
        &[],
    )
    .await
    .expect(303, "template");
    let e = entry_for(&w.s.pull_since(&w.hash, &ts).await, &w.hash)
        .unwrap()
        .clone();
    assert_eq!(
        e["deck"]["note_models"][0]["tmpls"][0]["qfmt"],
        "<b>{{Front}}</b>"
    );
    assert_eq!(
        pulled_layout(&e).1.len(),
        2,
        "every note of the notetype comes along"
    );
}

#[tokio::test]
async fn the_notetype_editor_refuses_what_anki_would_not_take() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let page = notetype_path(&alice.get(&deck_path(&w.hash)).await.text);
    for (fields, why) in [
        (vec![("0", "Front", "1"), ("1", "front", "2")], "Two fields"),
        (
            vec![("0", "Front", "1"), ("1", "Ba:ck", "2")],
            "may not contain",
        ),
        (vec![("0", "", "1"), ("1", "Back", "2")], "needs a name"),
        (
            vec![("0", "Front", "1"), ("0", "Back", "2"), ("1", "Other", "3")],
            "appears twice",
        ),
        (
            vec![("0", "Front", "1"), ("1", "Back", "2"), ("9", "Other", "3")],
            "no field number",
        ),
        (vec![("0", "Front", "1")], "does not say what happens"),
    ] {
        let r = save_notetype(&mut alice, &page, &fields, &[CARD], CSS, &[]).await;
        r.expect(400, why);
        assert!(r.text.contains(why), "{why}: {}", r.text);
    }
    let r = save_notetype(
        &mut alice,
        &page,
        &[("0", "Front", "1"), ("1", "Back", "2")],
        &[("Card 1", "  ", "{{Back}}")],
        CSS,
        &[],
    )
    .await;
    r.expect(400, "empty front");
    let r = save_notetype(
        &mut alice,
        &page,
        &[("0", "Front", "1"), ("1", "Back", "2")],
        &[CARD],
        CSS,
        &[],
    )
    .await;
    r.expect(303, "nothing changed");
    assert!(location(&r).contains("saved=none"), "{}", location(&r));
    let other = page.rsplit_once('/').unwrap().0.to_string() + "/999999";
    alice
        .get(&other)
        .await
        .expect(404, "a notetype the deck does not use");
    let ts = sync_point().await;
    assert_eq!(
        w.s.pull_since(&w.hash, &ts).await,
        json!([]),
        "nothing reached subscribers"
    );
    let _ = (&w.bob, &w.carol);
}
