//! Deck links over HTTP as the add-on makes them (`/CreateDeckLink`,
//! `/CreateNewNoteLink`): every refusal's status and text (never a 401), linked and
//! skipped notes, what a linked deck's pulls show before and after its base deck changes,
//! merged tags, suggestions forwarded to the base deck, either deck's notetype changing its
//! fields after the notes were linked, and removing a link in the console.

use deckd_testkit as common;

use common::console::{location, Console};
use common::media::red1x1_png;
use common::notetypes::{notetype_field, notetype_path, pulled_layout, save_notetype};
use common::*;
use serde_json::{json, Value};

const BASE_UUID: &str = "4c1f0a2e-7d3b-11ef-9a7c-0242ac120011";
const MINE_UUID: &str = "4c1f0a2e-7d3b-11ef-9a7c-0242ac120022";
const THIRD_UUID: &str = "4c1f0a2e-7d3b-11ef-9a7c-0242ac120033";
const PICTURES_UUID: &str = "4c1f0a2e-7d3b-11ef-9a7c-0242ac120044";

struct World {
    s: TestServer,
    alice: String,
    bob: String,
    carol: String,
    /// Alice's deck, the base.
    base: String,
    /// Bob's deck, which links to the base.
    mine: String,
}

/// Alice publishes "Base" (notes G1, G2, G3, Big); bob publishes "Mine" with his own
/// copies of G1, G2 and Big plus OnlyMine; carol is a third account.
async fn world() -> World {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let carol = s.user("carol").await;
    let big = "b".repeat(100 * 1024);
    let base = s
        .publish(
            &alice,
            &root_deck(
                "Base",
                BASE_UUID,
                "",
                vec![
                    note("G1", &["base front 1", "base back 1"], &["geo", "shared"]),
                    note("G2", &["base front 2", "base back 2"], &["geo"]),
                    note("G3", &["base front 3", "base back 3"], &[]),
                    note("Big", &[&big, "big back"], &["huge"]),
                ],
                vec![],
            ),
        )
        .await;
    let mine = s
        .publish(
            &bob,
            &root_deck(
                "Mine",
                MINE_UUID,
                "",
                vec![
                    note("G1", &["my front 1", "my back 1"], &["mine", "shared"]),
                    note("G2", &["my front 2", "my back 2"], &[]),
                    note("Big", &["small", "mine"], &[]),
                    note("OnlyMine", &["only mine", ""], &["mine"]),
                ],
                vec![],
            ),
        )
        .await;
    World {
        s,
        alice,
        bob,
        carol,
        base,
        mine,
    }
}

async fn deck_link(w: &World, token: &str, subscriber: &str, base: &str) -> Resp {
    w.s.post_json(
        "/CreateDeckLink",
        Some(token),
        &json!({"subscriber_deck_hash": subscriber, "base_deck_hash": base}),
    )
    .await
}

async fn note_link(w: &World, token: &str, subscriber: &str, base: &str, guids: &[&str]) -> Resp {
    w.s.post_json(
        "/CreateNewNoteLink",
        Some(token),
        &json!({"subscriber_deck_hash": subscriber, "base_deck_hash": base, "note_guids": guids}),
    )
    .await
}

#[track_caller]
fn refused(r: &Resp, status: u16, text: &str) {
    assert_eq!(r.status, status, "body: {}", r.text);
    assert!(r.text.contains(text), "{:?} lacks {text:?}", r.text);
}

/// Links Mine to Base and links G1, G2 and Big.
async fn linked_world() -> World {
    let w = world().await;
    deck_link(&w, &w.bob, &w.mine, &w.base)
        .await
        .expect(200, "link");
    let r = note_link(&w, &w.bob, &w.mine, &w.base, &["G1", "G2", "Big"]).await;
    r.expect(200, "note links");
    assert_eq!(r.json(), json!({"linked": 3, "skipped": []}));
    w
}

/// The note `guid` of Mine in a pull from `ts`, if the pull has it.
async fn mine_note(w: &World, ts: &str, guid: &str) -> Option<Value> {
    let pull = w.s.pull_since(&w.mine, ts).await;
    entry_for(&pull, &w.mine).and_then(|e| find_note(&e["deck"], guid))
}

fn tags_of(n: &Value) -> Vec<String> {
    n["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn creating_a_link_answers_success_and_every_refusal_is_clear_and_never_401() {
    let w = world().await;
    let third =
        w.s.publish(
            &w.carol,
            &root_deck(
                "Third",
                THIRD_UUID,
                "",
                vec![note("G1", &["third", ""], &[])],
                vec![],
            ),
        )
        .await;
    let unknown = "alpha-bravo-charlie-delta-echo-foxtrot";

    let r = deck_link(&w, &w.carol, &w.mine, &w.base).await;
    refused(&r, 403, "Forbidden");
    let r = deck_link(&w, &w.bob, unknown, &w.base).await;
    refused(&r, 422, &format!("Subscriber deck {unknown} not found"));
    let r = deck_link(&w, &w.bob, &w.mine, unknown).await;
    refused(&r, 422, &format!("Base deck {unknown} not found"));
    let r = deck_link(&w, &w.bob, &w.mine, &w.mine).await;
    refused(&r, 422, "cannot be linked to itself");
    let r = deck_link(&w, &w.bob, &w.mine, "not a hash").await;
    refused(&r, 400, "Invalid deck hash");
    let r =
        w.s.post_json(
            "/CreateDeckLink",
            Some(&w.bob),
            &json!({"subscriber_deck_hash": w.mine}),
        )
        .await;
    r.expect_4xx("a body without base_deck_hash");
    let r =
        w.s.request(
            reqwest::Method::POST,
            "/CreateDeckLink",
            Some(&w.bob),
            Body::Raw("application/json", b"{not json".to_vec()),
        )
        .await;
    r.expect(400, "malformed JSON");
    let r = note_link(&w, &w.bob, &w.mine, &w.base, &["G1"]).await;
    refused(&r, 422, "not linked to that base deck yet");

    let r = deck_link(&w, &w.bob, &w.mine, &w.base).await;
    r.expect(200, "link");
    assert_eq!(r.text, "Success");
    let again = deck_link(&w, &w.bob, &w.mine, &w.base).await;
    assert_eq!((again.status, again.text.as_str()), (200, "Success"));

    // Base → Mine would close the circle Mine → Base → Mine.
    let r = deck_link(&w, &w.alice, &w.base, &w.mine).await;
    refused(&r, 422, "Circular link");
    // Base → Third is fine; then Third → Mine closes Mine → Base → Third → Mine.
    deck_link(&w, &w.alice, &w.base, &third)
        .await
        .expect(200, "base follows third");
    let r = deck_link(&w, &w.carol, &third, &w.mine).await;
    refused(&r, 422, "Circular link");

    // Only a bad token answers 401.
    let r = deck_link(&w, "not-a-token", &w.mine, &w.base).await;
    r.expect(401, "a bad token");
}

#[tokio::test]
async fn a_maintainer_may_link_the_deck_and_others_may_not_link_notes() {
    let w = world().await;
    w.s.cli(&["deck", "maintainer", "add", &w.mine, "carol"])
        .await
        .assert_ok();
    deck_link(&w, &w.carol, &w.mine, &w.base)
        .await
        .expect(200, "a maintainer links");
    let r = note_link(&w, &w.alice, &w.mine, &w.base, &["G1"]).await;
    refused(&r, 403, "Forbidden");
    let r = note_link(&w, &w.carol, &w.mine, &w.base, &["G1"]).await;
    r.expect(200, "a maintainer links notes");
}

#[tokio::test]
async fn note_links_count_linked_and_skipped_notes_and_refuse_huge_lists() {
    let w = world().await;
    deck_link(&w, &w.bob, &w.mine, &w.base)
        .await
        .expect(200, "link");
    let r = note_link(
        &w,
        &w.bob,
        &w.mine,
        &w.base,
        &["G1", "G2", "OnlyMine", "Nowhere", "G3", "G1"],
    )
    .await;
    r.expect(200, "note links");
    assert_eq!(
        r.json(),
        json!({"linked": 2, "skipped": ["OnlyMine", "Nowhere", "G3"]})
    );
    let again = note_link(&w, &w.bob, &w.mine, &w.base, &["G1"]).await;
    assert_eq!(again.json(), json!({"linked": 1, "skipped": []}));

    let r = note_link(&w, &w.bob, &w.mine, &w.base, &[]).await;
    refused(&r, 422, "No notes provided");
    let many: Vec<String> = (0..10_001).map(|i| format!("guid{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let r = note_link(&w, &w.bob, &w.mine, &w.base, &many).await;
    refused(&r, 413, "At most 10000 notes");
    let r = note_link(&w, &w.carol, &w.mine, &w.base, &["G1"]).await;
    refused(&r, 403, "Forbidden");
}

#[tokio::test]
async fn a_linked_deck_pulls_the_base_content_and_follows_base_changes() {
    let w = linked_world().await;
    // Twice: the second full pull is the cached one.
    for _ in 0..2 {
        let g1 = mine_note(&w, FIRST_PULL_TS, "G1").await.expect("G1");
        assert_eq!(g1["fields"], json!(["base front 1", "base back 1"]));
        assert_eq!(tags_of(&g1), ["geo", "mine", "shared"]);
        let big = mine_note(&w, FIRST_PULL_TS, "Big").await.expect("Big");
        assert_eq!(big["fields"][0].as_str().unwrap().len(), 100 * 1024);
        assert_eq!(tags_of(&big), ["huge"]);
        let only = mine_note(&w, FIRST_PULL_TS, "OnlyMine")
            .await
            .expect("OnlyMine");
        assert_eq!(only["fields"], json!(["only mine", ""]));
    }

    let ts = sync_point().await;
    assert!(
        entry_for(&w.s.pull_since(&w.mine, &ts).await, &w.mine).is_none(),
        "nothing changed yet"
    );
    w.s.suggest_forced(
        &w.alice,
        &w.base,
        "Base",
        BASE_UUID,
        vec![note("G1", &["new base front", "base back 1"], &["geo"])],
    )
    .await
    .expect(200, "alice edits G1");
    let pull = w.s.pull_since(&w.mine, &ts).await;
    let entry = entry_for(&pull, &w.mine).expect("the base change makes an entry");
    let guids = note_guids(&entry["deck"]);
    assert_eq!(guids, ["G1"], "only the changed note: {entry}");
    let g1 = find_note(&entry["deck"], "G1").unwrap();
    assert_eq!(g1["fields"], json!(["new base front", "base back 1"]));
    assert_eq!(tags_of(&g1), ["geo", "mine", "shared"]);
    let full = mine_note(&w, FIRST_PULL_TS, "G1").await.unwrap();
    assert_eq!(
        full["fields"][0], "new base front",
        "the cached full pull was replaced"
    );
}

#[tokio::test]
async fn tags_merge_the_base_tags_minus_removed_ones_with_the_decks_own() {
    let w = linked_world().await;
    // Bob drops the inherited "geo" and adds "extra" from Anki (auto-approved).
    w.s.suggest_forced(
        &w.bob,
        &w.mine,
        "Mine",
        MINE_UUID,
        vec![note(
            "G1",
            &["base front 1", "base back 1"],
            &["extra", "mine", "shared"],
        )],
    )
    .await
    .expect(200, "bob's tags");
    let g1 = mine_note(&w, FIRST_PULL_TS, "G1").await.unwrap();
    assert_eq!(tags_of(&g1), ["extra", "mine", "shared"]);
    assert_eq!(g1["fields"], json!(["base front 1", "base back 1"]));
    assert!(
        w.s.pending(Some(&w.base)).await.is_empty(),
        "no field changed, nothing forwarded"
    );

    // The base deck adds "fresh" and drops "shared": Mine follows, and keeps its own
    // "shared" and its removal of "geo".
    let ts = sync_point().await;
    w.s.suggest_forced(
        &w.alice,
        &w.base,
        "Base",
        BASE_UUID,
        vec![note(
            "G1",
            &["base front 1", "base back 1"],
            &["fresh", "geo"],
        )],
    )
    .await
    .expect(200, "alice's tags");
    let g1 = mine_note(&w, &ts, "G1").await.expect("G1 follows");
    assert_eq!(tags_of(&g1), ["extra", "fresh", "mine", "shared"]);

    // A reviewed suggestion removes an inherited tag too.
    w.s.suggest(
        &w.carol,
        &w.mine,
        "Mine",
        MINE_UUID,
        vec![note("G2", &["base front 2", "base back 2"], &[])],
        "no geo",
    )
    .await
    .expect(200, "carol suggests");
    let pending = w.s.only_pending(&w.mine).await;
    w.s.approve(commit_id(&pending)).await;
    let g2 = mine_note(&w, FIRST_PULL_TS, "G2").await.unwrap();
    assert_eq!(tags_of(&g2), Vec::<String>::new());
}

#[tokio::test]
async fn a_suggestion_on_an_inherited_field_goes_to_the_base_deck() {
    let w = world().await;
    // Alice protects Back in her notetype before the notes are linked: Mine then
    // inherits Front only and keeps its own Back.
    w.s.cli(&["deck", "protect", &w.base, "Basic (demo)", "Back"])
        .await
        .assert_ok();
    deck_link(&w, &w.bob, &w.mine, &w.base)
        .await
        .expect(200, "link");
    note_link(&w, &w.bob, &w.mine, &w.base, &["G1"])
        .await
        .expect(200, "note link");
    let g1 = mine_note(&w, FIRST_PULL_TS, "G1").await.unwrap();
    assert_eq!(g1["fields"], json!(["base front 1", "my back 1"]));

    w.s.suggest(
        &w.carol,
        &w.mine,
        "Mine",
        MINE_UUID,
        vec![note(
            "G1",
            &["better front", "better back"],
            &["geo", "mine", "shared"],
        )],
        "typo",
    )
    .await
    .expect(200, "carol suggests");
    let forwarded = w.s.only_pending(&w.base).await;
    assert_eq!(commit_author(&forwarded), "carol");
    assert!(
        forwarded["info"]
            .as_str()
            .unwrap()
            .contains("Forwarded from the linked deck Mine: typo"),
        "{forwarded}"
    );
    let own = w.s.only_pending(&w.mine).await;

    let ts = sync_point().await;
    w.s.approve(commit_id(&forwarded)).await;
    let base_g1 = {
        let pull = w.s.pull_since(&w.base, FIRST_PULL_TS).await;
        find_note(&entry_for(&pull, &w.base).unwrap()["deck"], "G1").unwrap()
    };
    assert_eq!(base_g1["fields"], json!(["better front", "base back 1"]));
    let g1 = mine_note(&w, &ts, "G1").await.expect("Mine follows");
    assert_eq!(g1["fields"], json!(["better front", "my back 1"]));

    w.s.approve(commit_id(&own)).await;
    let g1 = mine_note(&w, FIRST_PULL_TS, "G1").await.unwrap();
    assert_eq!(g1["fields"], json!(["better front", "better back"]));
}

/// Anki's ids of the fields of the notetype both decks use.
const FIELD_IDS: [(&str, i64); 3] = [
    ("Front", -5032847290344123456),
    ("Back", 4470161023957123456),
    ("Source", 777),
];

/// An upload of Mine from an Anki whose notetype has the fields `fields` (in order), with
/// `notes`: `force` as Mine's owner pushing it, else as a suggestion.
async fn upload_mine(w: &World, token: &str, fields: &[&str], notes: Vec<Value>, force: bool) {
    let mut deck = root_deck("Mine", MINE_UUID, "", notes, vec![]);
    let flds: Vec<Value> = fields
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (_, id) = FIELD_IDS.iter().find(|(n, _)| n == name).unwrap();
            let mut f = notetype_field(name, json!(id));
            f["ord"] = json!(i);
            f
        })
        .collect();
    deck["note_models"][0]["flds"] = Value::Array(flds);
    let body = submit_body(&w.mine, "Mine", "Mine", &deck, 2, "layout", force);
    w.s.submit(token, &body).await.expect(200, "upload of Mine");
}

/// The fields of note `guid` of `hash` in a full pull.
async fn fields_in(w: &World, hash: &str, guid: &str) -> Value {
    let pull = w.s.pull_since(hash, FIRST_PULL_TS).await;
    find_note(&entry_for(&pull, hash).unwrap()["deck"], guid).unwrap()["fields"].clone()
}

#[tokio::test]
async fn inherited_fields_follow_their_field_when_either_notetype_changes_its_fields() {
    let w = linked_world().await;

    // Bob's Anki adds Source in front and swaps Front and Back; he pushes it.
    let ts = sync_point().await;
    let only_mine = note("OnlyMine", &["", "", "only mine"], &["mine"]);
    upload_mine(
        &w,
        &w.bob,
        &["Source", "Back", "Front"],
        vec![only_mine],
        true,
    )
    .await;
    let g1 = mine_note(&w, &ts, "G1")
        .await
        .expect("G1 has the new layout");
    assert_eq!(g1["fields"], json!(["", "base back 1", "base front 1"]));
    for _ in 0..2 {
        assert_eq!(
            fields_in(&w, &w.mine, "G2").await,
            json!(["", "base back 2", "base front 2"])
        );
        assert_eq!(
            fields_in(&w, &w.mine, "OnlyMine").await,
            json!(["", "", "only mine"])
        );
    }

    // Alice swaps Base's fields in the console: Base's notes change, Mine's show the same.
    let mut alice = Console::of(&w.s, "alice").await;
    let page = notetype_path(&alice.get(&format!("/console/decks/{}", w.base)).await.text);
    let card = ("Card 1", "{{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}");
    let css = ".card { font-family: arial; font-size: 20px; text-align: center; }";
    let swapped = [("1", "Back", "1"), ("0", "Front", "2")];
    save_notetype(&mut alice, &page, &swapped, &[card], css, &[])
        .await
        .expect(303, "Base reordered");
    assert_eq!(
        fields_in(&w, &w.base, "G1").await,
        json!(["base back 1", "base front 1"])
    );
    for _ in 0..2 {
        assert_eq!(
            fields_in(&w, &w.mine, "G1").await,
            json!(["", "base back 1", "base front 1"])
        );
    }

    // Carol's better Front on Mine (third there, second in Base) goes to Base's Front.
    upload_mine(
        &w,
        &w.carol,
        &["Source", "Back", "Front"],
        vec![note(
            "G1",
            &["", "base back 1", "better front"],
            &["geo", "mine", "shared"],
        )],
        false,
    )
    .await;
    let forwarded = w.s.only_pending(&w.base).await;
    w.s.approve(commit_id(&forwarded)).await;
    assert_eq!(
        fields_in(&w, &w.base, "G1").await,
        json!(["base back 1", "better front"])
    );
    assert_eq!(
        fields_in(&w, &w.mine, "G1").await,
        json!(["", "base back 1", "better front"])
    );

    // Alice removes Front from Base: Mine's notes show their own Front again.
    let ts = sync_point().await;
    let back_card = ("Card 1", "{{Back}}", "{{FrontSide}}");
    save_notetype(
        &mut alice,
        &page,
        &[("0", "Back", "1"), ("1", "Front", "2")],
        &[back_card],
        css,
        &[("f1.remove", "on"), ("confirm_remove", "on")],
    )
    .await
    .expect(303, "Front removed from Base");
    let (names, _) =
        pulled_layout(entry_for(&w.s.pull_since(&w.base, &ts).await, &w.base).unwrap());
    assert_eq!(names, ["Back"]);
    let g1 = mine_note(&w, &ts, "G1")
        .await
        .expect("G1 changes with Base");
    assert_eq!(g1["fields"], json!(["", "base back 1", "my front 1"]));
    assert_eq!(
        fields_in(&w, &w.mine, "G1").await,
        json!(["", "base back 1", "my front 1"])
    );
}

/// A notetype of the demo's shape with its own UUID, name and fields (name, Anki id).
fn notetype(uuid: &str, name: &str, fields: &[(&str, i64)]) -> Value {
    let mut m = basic_model();
    m["crowdanki_uuid"] = json!(uuid);
    m["name"] = json!(name);
    m["flds"] = fields
        .iter()
        .enumerate()
        .map(|(i, (n, id))| {
            let mut f = notetype_field(n, json!(id));
            f["ord"] = json!(i);
            f
        })
        .collect();
    m
}

#[tokio::test]
async fn a_note_moved_to_another_notetype_keeps_its_links_by_field_name() {
    const EXTRA_FIRST: &str = "9a9a0a2e-7d3b-11ef-9a7c-0242ac1200e1";
    const FLIPPED: &str = "9a9a0a2e-7d3b-11ef-9a7c-0242ac1200f1";
    let w = linked_world().await;
    let extra_first = notetype(
        EXTRA_FIRST,
        "Extra first",
        &[("Extra", 1111), ("Front", 2222), ("Back", 3333)],
    );
    let mine_upload = |fields: &[&str]| {
        let g1 = note_with_model("G1", fields, &["geo", "mine", "shared"], EXTRA_FIRST);
        let mut deck = root_deck("Mine", MINE_UUID, "", vec![g1], vec![]);
        deck["note_models"] = json!([basic_model(), extra_first.clone()]);
        deck
    };

    // Bob's Anki moves Mine's G1 to "Extra first" (by field name, as Anki does); he
    // pushes it. Nothing inherited changed, so nothing goes to Base.
    let ts = sync_point().await;
    let deck = mine_upload(&["my extra", "base front 1", "base back 1"]);
    let body = submit_body(&w.mine, "Mine", "Mine", &deck, 10, "", true);
    w.s.submit(&w.bob, &body).await.expect(200, "bob's push");
    assert!(
        w.s.pending(Some(&w.base)).await.is_empty(),
        "nothing forwarded"
    );
    let g1 = mine_note(&w, &ts, "G1").await.expect("G1 changed");
    assert_eq!(
        g1["fields"],
        json!(["my extra", "base front 1", "base back 1"])
    );
    for _ in 0..2 {
        assert_eq!(
            fields_in(&w, &w.mine, "G1").await,
            json!(["my extra", "base front 1", "base back 1"])
        );
    }

    // Alice's Anki moves Base's G1 to "Flipped" [Back, Front]; Mine's fields stay put.
    let ts = sync_point().await;
    let g1 = note_with_model("G1", &["base back 1", "base front 1"], &["geo"], FLIPPED);
    let mut deck = root_deck("Base", BASE_UUID, "", vec![g1], vec![]);
    deck["note_models"] = json!([
        basic_model(),
        notetype(FLIPPED, "Flipped", &[("Back", 5555), ("Front", 6666)])
    ]);
    let body = submit_body(&w.base, "Base", "Base", &deck, 10, "", true);
    w.s.submit(&w.alice, &body)
        .await
        .expect(200, "alice's push");
    assert_eq!(
        fields_in(&w, &w.base, "G1").await,
        json!(["base back 1", "base front 1"])
    );
    let g1 = mine_note(&w, &ts, "G1").await.expect("G1 follows Base");
    assert_eq!(
        g1["fields"],
        json!(["my extra", "base front 1", "base back 1"])
    );
    assert_eq!(
        fields_in(&w, &w.mine, "G1").await,
        json!(["my extra", "base front 1", "base back 1"])
    );

    // Carol's better Front on Mine reaches Base's Front, wherever each side has it.
    let deck = mine_upload(&["my extra", "better front", "base back 1"]);
    let body = submit_body(&w.mine, "Mine", "Mine", &deck, 2, "front", false);
    w.s.submit(&w.carol, &body)
        .await
        .expect(200, "carol's suggestion");
    w.s.approve(commit_id(&w.s.only_pending(&w.base).await))
        .await;
    assert_eq!(
        fields_in(&w, &w.base, "G1").await,
        json!(["base back 1", "better front"])
    );
    assert_eq!(
        fields_in(&w, &w.mine, "G1").await,
        json!(["my extra", "better front", "base back 1"])
    );
}

#[tokio::test]
async fn removing_a_link_in_the_console_brings_back_the_decks_own_content() {
    let w = linked_world().await;
    let settings = format!("/console/decks/{}/settings", w.mine);
    let mut carol = Console::of(&w.s, "carol").await;
    carol.get(&settings).await.expect(403, "not carol's deck");
    let mut bob = Console::of(&w.s, "bob").await;
    let page = bob.get(&settings).await;
    page.expect(200, "settings");
    assert!(
        page.text.contains(&w.base) && page.text.contains("3 linked notes"),
        "the link is listed: {}",
        page.text
    );
    let start = page.text.find("/settings/links/").expect("a remove form");
    let end = start + page.text[start..].find('"').unwrap();
    let action = format!("/console/decks/{}{}", w.mine, &page.text[start..end]);

    let r = bob.post(&action, &[("csrf", "forged")]).await;
    r.expect(403, "a forged form");
    let wrong = format!("/console/decks/{}/settings/links/999999/remove", w.mine);
    bob.submit(&settings, &wrong, &[])
        .await
        .expect(404, "no such link");
    let ts = sync_point().await;
    let r = bob.submit(&settings, &action, &[]).await;
    r.expect(303, "removed");
    assert!(location(&r).ends_with("?done=unlinked"));

    let g1 = mine_note(&w, &ts, "G1").await.expect("G1 changes back");
    assert_eq!(g1["fields"], json!(["my front 1", "my back 1"]));
    assert_eq!(tags_of(&g1), ["mine", "shared"]);
    let page = bob.get(&settings).await;
    assert!(!page.text.contains(&w.base), "{}", page.text);

    // Base changes no longer reach Mine.
    let ts = sync_point().await;
    w.s.suggest_forced(
        &w.alice,
        &w.base,
        "Base",
        BASE_UUID,
        vec![note("G1", &["later base front", "base back 1"], &["geo"])],
    )
    .await
    .expect(200, "alice edits G1");
    assert!(mine_note(&w, &ts, "G1").await.is_none());
    let r = note_link(&w, &w.bob, &w.mine, &w.base, &["G1"]).await;
    refused(&r, 422, "not linked");
}

#[tokio::test]
async fn images_in_inherited_fields_reach_the_linked_decks_subscribers() {
    let w = world().await;
    let png = red1x1_png();
    let r =
        w.s.publish_raw(
            &w.alice,
            &root_deck(
                "Pictures",
                PICTURES_UUID,
                "",
                vec![note("Pic", &["front", "<img src=\"pic.png\">"], &[])],
                vec![],
            ),
        )
        .await;
    r.expect(200, "publish");
    let v = r.json();
    let pictures = v["message"].as_str().unwrap().to_string();
    let bulk = v["bulk_operation_id"].as_str().unwrap().to_string();
    w.s.upload_media(
        &w.alice,
        &pictures,
        &[("pic.png", "Pic", png.clone())],
        &bulk,
    )
    .await;
    w.s.suggest_forced(
        &w.bob,
        &w.mine,
        "Mine",
        MINE_UUID,
        vec![note("Pic", &["front", "no picture"], &[])],
    )
    .await
    .expect(200, "bob's copy");
    assert!(w
        .s
        .download_media(&w.bob, &w.mine, &["pic.png"])
        .await
        .is_empty());
    deck_link(&w, &w.bob, &w.mine, &pictures)
        .await
        .expect(200, "link");
    note_link(&w, &w.bob, &w.mine, &pictures, &["Pic"])
        .await
        .expect(200, "note link");
    let pic = mine_note(&w, FIRST_PULL_TS, "Pic").await.unwrap();
    assert!(
        pic["fields"][1].as_str().unwrap().contains("pic.png"),
        "the base note's image: {pic}"
    );
    let got = w.s.download_media(&w.bob, &w.mine, &["pic.png"]).await;
    assert_eq!(got, vec![("pic.png".to_string(), png)]);
}

#[tokio::test]
async fn deleting_the_base_deck_gives_the_linked_deck_its_own_content_back() {
    let w = linked_world().await;
    let g1 = mine_note(&w, FIRST_PULL_TS, "G1").await.unwrap();
    assert_eq!(g1["fields"][0], "base front 1", "G1 follows the base");
    let ts = sync_point().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let settings = format!("/console/decks/{}/settings", w.base);
    alice
        .submit(
            &settings,
            &format!("/console/decks/{}/delete", w.base),
            &[("name", "Base")],
        )
        .await
        .expect(303, "alice deletes Base");
    let g1 = mine_note(&w, &ts, "G1")
        .await
        .expect("G1 reaches Mine's subscribers again");
    assert_eq!(g1["fields"], json!(["my front 1", "my back 1"]));
    assert_eq!(tags_of(&g1), ["mine", "shared"]);
    assert!(
        mine_note(&w, &ts, "OnlyMine").await.is_none(),
        "notes that followed nothing stay as they were"
    );
}
