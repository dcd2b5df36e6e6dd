//! A notetype changed in Anki and pushed by the deck's owner (`/submitCard` with
//! `force_overwrite`) changes the stored notetype; subscribers' next pull carries the new
//! notetype with every note of it, and no content is lost. From anyone else the notes are
//! read through the stored notetype, field by field, whatever order the upload has.

use deckd_testkit as common;

use common::console::Console;
use common::notetypes::*;
use common::*;
use serde_json::{json, Value};

const FRANCE: &str = "AbCdEf1234";
const COLOUR: &str = "XyZ9876543";
const FRONT_ID: i64 = -5032847290344123456;
const BACK_ID: i64 = 4470161023957123456;
/// The colour note's image as the field cleaner stores it.
const IMG: &str = "<img src=red1x1.png>";

async fn push(s: &TestServer, token: &str, hash: &str, deck: &Value) -> Resp {
    let body = submit_body(
        hash,
        DEMO_NAME,
        DEMO_NAME,
        deck,
        10,
        "notetype change",
        true,
    );
    s.submit(token, &body).await
}

async fn setup() -> (TestServer, String, String) {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;
    (s, alice, hash)
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn a_field_added_in_anki_reaches_subscribers_with_every_note() {
    let (s, alice, hash) = setup().await;
    let ts = sync_point().await;
    let deck = pushed_demo(
        &[
            ("Front", json!(FRONT_ID)),
            ("Back", json!(BACK_ID)),
            ("Source", json!(777)),
        ],
        vec![note(
            FRANCE,
            &["What is the capital of France?", "Paris", "Atlas p. 12"],
            &["geo"],
        )],
    );
    push(&s, &alice, &hash, &deck).await.expect(200, "push");
    let pull = s.pull_since(&hash, &ts).await;
    let (names, notes) = pulled_layout(entry_for(&pull, &hash).expect("an entry"));
    assert_eq!(names, ["Front", "Back", "Source"]);
    assert_eq!(
        notes,
        [
            (
                FRANCE.to_string(),
                strings(&["What is the capital of France?", "Paris", "Atlas p. 12"])
            ),
            (
                COLOUR.to_string(),
                strings(&["Which colour is this?", IMG, ""])
            ),
        ],
        "the new field's content is kept, and the note not pushed comes along with it"
    );
    let full = s.pull_since(&hash, FIRST_PULL_TS).await;
    let (names, _) = pulled_layout(entry_for(&full, &hash).unwrap());
    assert_eq!(names, ["Front", "Back", "Source"], "a new subscriber too");
}

#[tokio::test]
async fn a_renamed_field_keeps_its_content_and_its_leftover_copy_is_not_a_new_field() {
    let (s, alice, hash) = setup().await;
    let mut deck = pushed_demo(
        &[("Front", json!(FRONT_ID)), ("Answer", json!(BACK_ID))],
        vec![note(
            FRANCE,
            &["What is the capital of France?", "Paris"],
            &["geo"],
        )],
    );
    deck["note_models"][0]["tmpls"][0]["afmt"] = json!("{{FrontSide}}<hr id=answer>{{Answer}}");
    let ts = sync_point().await;
    push(&s, &alice, &hash, &deck).await.expect(200, "push");
    let pull = s.pull_since(&hash, &ts).await;
    let entry = entry_for(&pull, &hash).expect("an entry");
    let (names, notes) = pulled_layout(entry);
    assert_eq!(names, ["Front", "Answer"]);
    assert_eq!(notes[1].1[1], IMG, "{notes:?}");
    assert_eq!(
        entry["deck"]["note_models"][0]["tmpls"][0]["afmt"],
        "{{FrontSide}}<hr id=answer>{{Answer}}"
    );

    // A subscriber's Anki keeps the old field at the end, with the same id; pushing that
    // back changes nothing about the notetype.
    let mut again = pushed_demo(
        &[
            ("Front", json!(FRONT_ID)),
            ("Answer", json!(BACK_ID)),
            ("Back", json!(BACK_ID)),
        ],
        vec![note(
            FRANCE,
            &["What is the capital of France?", "Paris!", "Paris"],
            &["geo"],
        )],
    );
    again["note_models"][0]["tmpls"][0]["afmt"] = json!("{{FrontSide}}<hr id=answer>{{Answer}}");
    let ts = sync_point().await;
    push(&s, &alice, &hash, &again).await.expect(200, "push");
    let pull = s.pull_since(&hash, &ts).await;
    let (names, notes) = pulled_layout(entry_for(&pull, &hash).unwrap());
    assert_eq!(names, ["Front", "Answer"], "the leftover is not added back");
    assert_eq!(
        notes,
        [(
            FRANCE.to_string(),
            strings(&["What is the capital of France?", "Paris!"])
        )],
        "only the changed note is pulled, with the renamed field's new content"
    );
}

#[tokio::test]
async fn reordered_fields_move_every_notes_content() {
    let (s, alice, hash) = setup().await;
    let ts = sync_point().await;
    let deck = pushed_demo(
        &[("Back", json!(BACK_ID)), ("Front", json!(FRONT_ID))],
        vec![note(
            FRANCE,
            &["Paris", "What is the capital of France?"],
            &["geo"],
        )],
    );
    push(&s, &alice, &hash, &deck).await.expect(200, "push");
    let pull = s.pull_since(&hash, &ts).await;
    let (names, notes) = pulled_layout(entry_for(&pull, &hash).unwrap());
    assert_eq!(names, ["Back", "Front"]);
    assert_eq!(
        notes,
        [
            (
                FRANCE.to_string(),
                strings(&["Paris", "What is the capital of France?"])
            ),
            (COLOUR.to_string(), strings(&[IMG, "Which colour is this?"])),
        ]
    );
}

#[tokio::test]
async fn a_push_without_a_field_neither_removes_it_nor_clears_its_content() {
    let (s, alice, hash) = setup().await;
    let deck = pushed_demo(
        &[
            ("Front", json!(FRONT_ID)),
            ("Back", json!(BACK_ID)),
            ("Source", json!(777)),
        ],
        vec![note(FRANCE, &["Q", "Paris", "Atlas"], &["geo"])],
    );
    push(&s, &alice, &hash, &deck).await.expect(200, "push");
    // A second device of the owner that never pulled the new field pushes an edit.
    let old = pushed_demo(
        &[("Front", json!(FRONT_ID)), ("Back", json!(BACK_ID))],
        vec![note(FRANCE, &["Q", "Paris!"], &["geo"])],
    );
    let ts = sync_point().await;
    push(&s, &alice, &hash, &old).await.expect(200, "push");
    let pull = s.pull_since(&hash, &ts).await;
    let (names, notes) = pulled_layout(entry_for(&pull, &hash).unwrap());
    assert_eq!(names, ["Front", "Back", "Source"]);
    assert_eq!(
        notes,
        [(FRANCE.to_string(), strings(&["Q", "Paris!", "Atlas"]))]
    );
}

#[tokio::test]
async fn template_and_styling_edits_reach_subscribers() {
    let (s, alice, hash) = setup().await;
    let mut deck = pushed_demo(
        &[("Front", json!(FRONT_ID)), ("Back", json!(BACK_ID))],
        vec![note(
            FRANCE,
            &["What is the capital of France?", "Paris"],
            &["geo"],
        )],
    );
    deck["note_models"][0]["css"] = json!(".card { color: navy; }");
    deck["note_models"][0]["tmpls"][0]["qfmt"] = json!("<b>{{Front}}</b>");
    let ts = sync_point().await;
    push(&s, &alice, &hash, &deck).await.expect(200, "push");
    let pull = s.pull_since(&hash, &ts).await;
    let entry = entry_for(&pull, &hash).expect("an entry");
    let model = &entry["deck"]["note_models"][0];
    assert_eq!(model["css"], ".card { color: navy; }");
    assert_eq!(model["tmpls"][0]["qfmt"], "<b>{{Front}}</b>");
    assert_eq!(
        entry["deck"]["notes"].as_array().unwrap().len(),
        2,
        "every note of the notetype comes with it: {entry}"
    );
}

/// The `data-<what>="…"` ids a console page shows, in order.
fn ids(page: &str, what: &str) -> Vec<String> {
    let marker = format!("data-{what}=\"");
    page.match_indices(&marker)
        .map(|(i, _)| {
            let rest = &page[i + marker.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

#[tokio::test]
async fn someone_elses_reordered_upload_suggests_only_what_they_changed() {
    let (s, _alice, hash) = setup().await;
    let bob = s.user("bob").await;
    let deck = pushed_demo(
        &[
            ("Back", json!(BACK_ID)),
            ("Front", json!(FRONT_ID)),
            ("Mnemonic", json!(999)),
        ],
        vec![note(
            FRANCE,
            &["Paris, on the Seine", "What is the capital of France?", "P"],
            &["geo"],
        )],
    );
    let body = submit_body(&hash, DEMO_NAME, DEMO_NAME, &deck, 2, "Seine", false);
    s.submit(&bob, &body).await.expect(200, "suggestion");
    let ts = sync_point().await;
    assert_eq!(
        s.pull_since(&hash, &ts).await,
        json!([]),
        "a suggestion changes nothing before review"
    );
    let id = commit_id(&s.only_pending(&hash).await);
    let mut alice = Console::new(&s);
    alice
        .sign_in("alice", &password_for("alice"))
        .await
        .expect(303, "sign-in");
    let page = alice.get(&format!("/console/review/{id}")).await;
    assert!(page.text.contains("notetype change"), "{}", page.text);
    assert!(
        page.text.contains("Back · Front · Mnemonic"),
        "the proposed fields: {}",
        page.text
    );
    let fields = ids(&page.text, "field");
    assert_eq!(fields.len(), 1, "only Back changes: {}", page.text);
    let nt = ids(&page.text, "notetype");
    assert_eq!(nt.len(), 1);
    let base = format!("/console/review/{id}");
    alice
        .submit(&base, &format!("{base}/field/{}/accept", fields[0]), &[])
        .await
        .expect(303, "accept the field");
    alice
        .submit(&base, &format!("{base}/notetype/{}/deny", nt[0]), &[])
        .await
        .expect(303, "deny the notetype change");
    let pull = s.pull_since(&hash, &ts).await;
    let (names, notes) = pulled_layout(entry_for(&pull, &hash).expect("the approved change"));
    assert_eq!(names, ["Front", "Back"], "the notetype change was denied");
    assert_eq!(
        notes,
        [(
            FRANCE.to_string(),
            strings(&["What is the capital of France?", "Paris, on the Seine"])
        )],
        "each field lands where its name says, not where its position says"
    );
    let closed = alice.get(&base).await;
    assert!(closed.text.contains(">approved<"), "{}", closed.text);
}

#[tokio::test]
async fn someone_elses_notetype_change_waits_for_review_and_applies_when_approved() {
    let (s, _alice, hash) = setup().await;
    let bob = s.user("bob").await;
    let mut deck = pushed_demo(
        &[
            ("Front", json!(FRONT_ID)),
            ("Back", json!(BACK_ID)),
            ("Mnemonic", json!(999)),
        ],
        vec![note(
            FRANCE,
            &["What is the capital of France?", "Paris", "P for Paris"],
            &["geo"],
        )],
    );
    deck["note_models"][0]["css"] = json!(".card { color: teal; }");
    deck["note_models"][0]["tmpls"][0]["qfmt"] = json!("{{Front}} <i>{{Mnemonic}}</i>");
    let body = submit_body(
        &hash,
        DEMO_NAME,
        DEMO_NAME,
        &deck,
        2,
        "a mnemonic field",
        false,
    );
    s.submit(&bob, &body).await.expect(200, "suggestion");
    let id = commit_id(&s.only_pending(&hash).await);
    let show = s.cli(&["review", "show", &id.to_string()]).await;
    show.assert_ok();
    assert!(
        show.stdout.contains("* notetype Basic (demo): fields Front | Back -> Front | Back | Mnemonic; card template Card 1 changes; styling changes"),
        "{}",
        show.stdout
    );
    // The reviewer reads what the upload does to the cards: the template's and the
    // styling's source, escaped, as word diffs.
    let mut alice = Console::of(&s, "alice").await;
    let page = alice.get(&format!("/console/review/{id}")).await;
    page.expect(200, "the suggestion");
    for shown in [
        "Card template “Card 1”: front",
        "{{Front}}<ins> </ins><ins>&#60;i&#62;{{Mnemonic}}&#60;/i&#62;</ins>",
        "<ins>teal;</ins>",
        "<del>arial;</del>",
    ] {
        assert!(page.text.contains(shown), "{shown:?} in {}", page.text);
    }
    assert!(
        !page.text.contains("Card template “Card 1”: back"),
        "an unchanged side is not shown"
    );
    let ts = sync_point().await;
    s.approve(id).await;
    let pull = s.pull_since(&hash, &ts).await;
    let entry = entry_for(&pull, &hash).expect("the approved notetype change");
    let (names, notes) = pulled_layout(entry);
    assert_eq!(names, ["Front", "Back", "Mnemonic"]);
    assert_eq!(
        entry["deck"]["note_models"][0]["css"],
        ".card { color: teal; }"
    );
    assert_eq!(notes.len(), 2, "every note of the notetype: {notes:?}");
    assert_eq!(
        notes[0].1,
        strings(&["What is the capital of France?", "Paris", ""])
    );
}

/// Bob's suggestion of the demo deck's first note unchanged under the notetype as `edit`
/// leaves it: a notetype change alone, waiting for review.
async fn bobs_notetype_change(
    s: &TestServer,
    hash: &str,
    text: &str,
    edit: impl FnOnce(&mut Value),
) -> deckd::store::CommitId {
    let bob = s.user("bob").await;
    let mut deck = pushed_demo(
        &[("Front", json!(FRONT_ID)), ("Back", json!(BACK_ID))],
        vec![note(
            FRANCE,
            &["What is the capital of France?", "Paris"],
            &["geo"],
        )],
    );
    edit(&mut deck["note_models"][0]);
    let body = submit_body(hash, DEMO_NAME, DEMO_NAME, &deck, 2, text, false);
    s.submit(&bob, &body).await.expect(200, "suggestion");
    commit_id(&s.only_pending(hash).await)
}

#[tokio::test]
async fn a_notetype_suggestion_with_megabytes_of_templates_is_measured_not_compared() {
    let (s, _alice, hash) = setup().await;
    let huge = format!("{{{{Front}}}} {}", "<b>x</b> ".repeat(50_000));
    let id = bobs_notetype_change(&s, &hash, "big", |nt| {
        nt["tmpls"][0]["qfmt"] = json!(huge);
        nt["css"] = json!(".card { color: olive; }");
    })
    .await;
    let mut alice = Console::of(&s, "alice").await;
    let page = alice.get(&format!("/console/review/{id}")).await;
    page.expect(200, "the suggestion");
    assert!(
        page.text.contains(&format!(
            "Too long to compare here: 9 bytes before, {} after.",
            huge.len()
        )),
        "{}",
        &page.text[..page.text.len().min(4000)]
    );
    assert!(
        page.text.len() < 100_000,
        "the page holds {} bytes",
        page.text.len()
    );
    assert!(
        page.text.contains("<ins>olive;</ins>"),
        "the styling is still compared"
    );
}

#[tokio::test]
async fn a_suggestion_that_only_changes_the_notetype_is_kept_and_can_be_denied() {
    let (s, _alice, hash) = setup().await;
    let id = bobs_notetype_change(&s, &hash, "red", |nt| {
        nt["css"] = json!(".card { color: red; }");
    })
    .await;
    let mut alice = Console::new(&s);
    alice
        .sign_in("alice", &password_for("alice"))
        .await
        .expect(303, "sign-in");
    let base = format!("/console/review/{id}");
    let page = alice.get(&base).await;
    assert!(
        page.text.contains("<div class=\"muted\">Styling</div>")
            && page.text.contains("<ins>red;</ins>"),
        "{}",
        page.text
    );
    let nt = ids(&page.text, "notetype");
    let ts = sync_point().await;
    alice
        .submit(&base, &format!("{base}/notetype/{}/deny", nt[0]), &[])
        .await
        .expect(303, "denied");
    let closed = alice.get(&base).await;
    assert!(closed.text.contains(">denied<"), "{}", closed.text);
    assert_eq!(s.pull_since(&hash, &ts).await, json!([]));
    assert!(s.pending(Some(&hash)).await.is_empty());
}

#[tokio::test]
async fn an_anki_that_has_not_pulled_a_notetype_change_neither_suggests_nor_pushes_it_back() {
    let (s, alice, hash) = setup().await;
    let bob = s.user("bob").await;
    let mut changed = pushed_demo(
        &[
            ("Front", json!(FRONT_ID)),
            ("Back", json!(BACK_ID)),
            ("Source", json!(777)),
        ],
        vec![note(
            FRANCE,
            &["What is the capital of France?", "Paris", "Atlas p. 12"],
            &["geo"],
        )],
    );
    changed["note_models"][0]["css"] = json!(".card { color: teal; }");
    push(&s, &alice, &hash, &changed).await.expect(200, "push");

    // Bob's Anki still has the notetype as it was published.
    let stale = |back: &str| {
        pushed_demo(
            &[("Front", json!(FRONT_ID)), ("Back", json!(BACK_ID))],
            vec![note(
                FRANCE,
                &["What is the capital of France?", back],
                &["geo"],
            )],
        )
    };
    let body = submit_body(
        &hash,
        DEMO_NAME,
        DEMO_NAME,
        &stale("Paris, on the Seine"),
        2,
        "a better answer",
        false,
    );
    s.submit(&bob, &body).await.expect(200, "suggestion");
    let id = commit_id(&s.only_pending(&hash).await);
    let show = s.cli(&["review", "show", &id.to_string()]).await;
    show.assert_ok();
    assert!(
        !show.stdout.contains("notetype"),
        "an old copy of the notetype is no suggestion: {}",
        show.stdout
    );
    assert!(
        show.stdout.contains("Paris, on the Seine"),
        "{}",
        show.stdout
    );

    // Alice pushes from a second Anki that has not pulled her change either.
    push(&s, &alice, &hash, &stale("Paris"))
        .await
        .expect(200, "stale push");
    s.approve(id).await;
    let full = s.pull_since(&hash, FIRST_PULL_TS).await;
    let entry = entry_for(&full, &hash).expect("the deck");
    let (names, notes) = pulled_layout(entry);
    assert_eq!(names, ["Front", "Back", "Source"], "the new field stays");
    assert_eq!(
        entry["deck"]["note_models"][0]["css"], ".card { color: teal; }",
        "the new styling stays"
    );
    assert_eq!(
        notes[0].1,
        strings(&[
            "What is the capital of France?",
            "Paris, on the Seine",
            "Atlas p. 12"
        ]),
        "bob's field change is applied and the new field keeps its content"
    );
}
