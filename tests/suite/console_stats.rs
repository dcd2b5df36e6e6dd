//! A deck's statistics page in the console: figures two subscribers upload through the
//! add-on's own `/UploadDeckStats` summed per subdeck and per note (the hardest notes in
//! order), every chart a well-formed SVG, the switch that asks add-ons for statistics
//! (reaching the pull's `stats_enabled`), subscribers and suggestions per week; who may
//! see and switch what.

use deckd_testkit as common;

use common::console::{csrf_of, location, Console};
use common::*;
use serde_json::{json, Value};

const DECK: &str = "Geography";
const CHARTS: [&str; 6] = [
    "subdecks",
    "hardest",
    "retention",
    "lapses",
    "subscribers",
    "suggestions",
];

/// Alice publishes Geography (a root note, subdecks Europe and Asia); bob and dave
/// subscribe; erin maintains it; carol is a stranger; root administers the box.
struct World {
    s: TestServer,
    hash: String,
    uuid: String,
    bob: String,
    carol: String,
    dave: String,
}

async fn world() -> World {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let carol = s.user("carol").await;
    let dave = s.user("dave").await;
    s.user("erin").await;
    s.user("root").await;
    let uuid = new_uuid();
    let deck = root_deck(
        DECK,
        &uuid,
        "",
        vec![note("Root000001", &["Where is the equator?", "0°"], &[])],
        vec![
            child_deck(
                "Europe",
                vec![
                    note("Europe0001", &["Capital of Portugal?", "Lisbon"], &[]),
                    note("Europe0002", &["Capital of Spain?", "Madrid"], &[]),
                    note("Europe0003", &["Capital of Malta?", "Valletta"], &[]),
                ],
                vec![],
            ),
            child_deck(
                "Asia",
                vec![
                    note("Asia000001", &["Capital of Bhutan?", "Thimphu"], &[]),
                    note("Asia000002", &["Capital of Laos?", "Vientiane"], &[]),
                ],
                vec![],
            ),
        ],
    );
    let hash = s.publish(&alice, &deck).await;
    for who in [&bob, &dave] {
        s.post_json("/AddSubscription", Some(who), &json!({"deck_hash": hash}))
            .await
            .expect(200, "subscribe");
    }
    s.cli(&["deck", "maintainer", "add", &hash, "erin"])
        .await
        .assert_ok();
    s.cli(&["user", "admin", "root", "on"]).await.assert_ok();
    World {
        s,
        hash,
        uuid,
        bob,
        carol,
        dave,
    }
}

fn stats_path(hash: &str) -> String {
    format!("/console/decks/{hash}/stats")
}

/// The add-on's upload: `(guid, retention, lapses, reps)` under the local deck names.
async fn upload(s: &TestServer, token: &str, hash: &str, figures: &[(&str, i64, i64, i64)]) {
    let mut history = serde_json::Map::new();
    for (guid, retention, lapses, reps) in figures {
        let local = if guid.starts_with("Europe") {
            "Geography::Europe"
        } else if guid.starts_with("Asia") {
            "Geography::Asia"
        } else {
            DECK
        };
        history
            .entry(local)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .unwrap()
            .insert(
                guid.to_string(),
                json!({"retention": retention, "lapses": lapses, "reps": reps}),
            );
    }
    let r = s
        .post_gzb64(
            "/UploadDeckStats",
            Some(token),
            &json!({"deck_hash": hash, "review_history": Value::Object(history)}),
        )
        .await;
    r.expect(200, "/UploadDeckStats");
    assert_eq!(r.text, "Thanks for sharing!");
}

/// The cells of the table row whose opening tag carries `attr` (e.g. `data-guid="x"`),
/// markup stripped.
fn row_cells(page: &str, attr: &str) -> Vec<String> {
    let start = page
        .find(attr)
        .unwrap_or_else(|| panic!("no row {attr} in the page:\n{page}"));
    let row = &page[start..start + page[start..].find("</tr>").unwrap()];
    row.split("<td")
        .skip(1)
        .map(|cell| {
            let inner = &cell[cell.find('>').unwrap() + 1..];
            let inner = &inner[..inner.find("</td>").unwrap()];
            let mut text = String::new();
            let mut in_tag = false;
            for c in inner.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.trim().to_string()
        })
        .collect()
}

/// The text of the element with `id`.
fn by_id(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the page:\n{page}"));
    let rest = &page[at..];
    let inner = &rest[rest.find('>').unwrap() + 1..];
    inner[..inner.find('<').unwrap()].trim().to_string()
}

/// Where the rows with `attr` (e.g. `data-guid="`) appear, in page order: their values.
fn row_keys(page: &str, attr: &str) -> Vec<String> {
    page.split(attr)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

/// Asserts that `svg` is one well-formed SVG document without style attributes, and
/// answers its text content.
fn well_formed_svg(svg: &str, what: &str) -> String {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut root = None;
    let mut depth = 0i32;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) => {
                if depth == 0 {
                    root = Some(String::from_utf8_lossy(e.name().as_ref()).to_string());
                }
                no_style(&e, what);
                depth += 1;
            }
            Ok(quick_xml::events::Event::Empty(e)) => no_style(&e, what),
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Text(t)) => {
                text.push_str(&t.decode().unwrap());
                text.push(' ');
            }
            Ok(quick_xml::events::Event::GeneralRef(r)) => {
                text.push_str(&String::from_utf8_lossy(&r));
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{what} is not well-formed XML: {e}\n{svg}"),
        }
    }
    assert_eq!(root.as_deref(), Some("svg"), "{what}: root element");
    assert_eq!(depth, 0, "{what}: unclosed elements");
    text
}

fn no_style(e: &quick_xml::events::BytesStart, what: &str) {
    for a in e.attributes() {
        let a = a.unwrap_or_else(|e| panic!("{what}: bad attribute: {e}"));
        assert_ne!(a.key.as_ref(), b"style", "{what}: the CSP forbids style=");
    }
}

/// Turns statistics on for the deck `hash` as `c`; answers the statistics page's path.
async fn switch_on(c: &mut Console<'_>, hash: &str) -> String {
    let path = stats_path(hash);
    c.submit(&path, &format!("{path}/switch"), &[("to", "on")])
        .await
        .expect(303, "switch on");
    path
}

async fn chart(c: &mut Console<'_>, hash: &str, name: &str) -> String {
    let r = c
        .get(&format!("{}/chart/{name}.svg", stats_path(hash)))
        .await;
    r.expect(200, name);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("image/svg+xml"),
        "{name}"
    );
    well_formed_svg(&r.text, name)
}

#[tokio::test]
async fn uploaded_figures_are_summed_per_subdeck_and_note_with_the_hardest_in_order() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let path = stats_path(&w.hash);

    // Off: the page says how to turn statistics on, and uploads are not kept.
    let deck_page = alice.get(&format!("/console/decks/{}", w.hash)).await;
    assert!(
        deck_page.text.contains(&format!("href=\"{path}\"")),
        "the deck page links its statistics"
    );
    upload(&w.s, &w.bob, &w.hash, &[("Europe0001", 10, 9, 9)]).await;
    let off = alice.get(&path).await;
    off.expect(200, "stats page while off");
    assert!(off.text.contains("id=\"stats-off\""), "{}", off.text);
    assert!(off.text.contains("Turn statistics on"));
    assert!(!off.text.contains("id=\"notes-reported\""));
    assert_eq!(
        w.s.pull_since(&w.hash, FIRST_PULL_TS).await[0]["stats_enabled"],
        false
    );

    // The button turns them on, for the add-on's next pull too.
    let r = alice
        .submit(&path, &format!("{path}/switch"), &[("to", "on")])
        .await;
    r.expect(303, "switch on");
    assert_eq!(location(&r), format!("{path}?done=on"));
    assert_eq!(
        w.s.pull_since(&w.hash, FIRST_PULL_TS).await[0]["stats_enabled"],
        true
    );
    let empty = alice.get(&location(&r)).await;
    assert!(empty.text.contains("id=\"stats-on\""), "{}", empty.text);
    assert!(
        empty
            .text
            .contains("subscribers' add-ons upload them after their reviews"),
        "{}",
        empty.text
    );
    assert!(empty.text.contains("Turn statistics off"));

    // Two subscribers upload; bob uploads twice and his second figures replace the first.
    upload(
        &w.s,
        &w.bob,
        &w.hash,
        &[
            ("Europe0001", 50, 4, 10),
            ("Europe0002", 90, 0, 8),
            ("Asia000001", 70, 2, 6),
            ("Root000001", 100, 0, 3),
            ("NotOnServer", 0, 50, 50),
        ],
    )
    .await;
    upload(
        &w.s,
        &w.dave,
        &w.hash,
        &[
            ("Europe0001", 30, 6, 12),
            ("Europe0002", 80, 1, 9),
            ("Europe0003", 20, 5, 5),
            ("Asia000001", 90, 0, 4),
            ("Asia000002", 60, 1, 5),
        ],
    )
    .await;
    upload(&w.s, &w.bob, &w.hash, &[("Europe0001", 60, 4, 11)]).await;

    let page = alice.get(&path).await;
    page.expect(200, "stats page");
    assert!(page.text.len() < 50_000, "{} bytes", page.text.len());
    assert_eq!(by_id(&page.text, "reporters"), "2");
    assert_eq!(by_id(&page.text, "notes-reported"), "6");

    // Per subdeck, lowest mean retention first: Europe (60+30+90+80+20)/5, Asia
    // (70+90+60)/3, the root 100.
    assert_eq!(
        row_keys(&page.text, "data-subdeck=\""),
        ["Geography::Europe", "Geography::Asia", "Geography"]
    );
    // Retention, lapses, reviews, subscribers, notes.
    assert_eq!(
        row_cells(&page.text, "data-subdeck=\"Geography::Europe\"")[1..],
        ["56.0 %", "16", "45", "2", "3"]
    );
    assert_eq!(
        row_cells(&page.text, "data-subdeck=\"Geography::Asia\"")[1..],
        ["73.3 %", "3", "15", "2", "2"]
    );
    assert_eq!(
        row_cells(&page.text, "data-subdeck=\"Geography\"")[1..],
        ["100.0 %", "0", "3", "1", "1"]
    );

    // The hardest notes need figures from two subscribers: Europe0003 (20 %, dave only)
    // and the one-subscriber notes are left out.
    assert_eq!(
        row_keys(&page.text, "data-guid=\""),
        ["Europe0001", "Asia000001", "Europe0002"]
    );
    let first = row_cells(&page.text, "data-guid=\"Europe0001\"");
    assert_eq!(
        first,
        [
            "Capital of Portugal?Geography::Europe",
            "45.0 %",
            "10",
            "23",
            "2"
        ]
    );
    assert!(page.text.contains(&format!(
        "href=\"/console/decks/{}/notes/Europe0001\"",
        w.hash
    )));
    assert_eq!(
        row_cells(&page.text, "data-guid=\"Asia000001\"")[1..],
        ["80.0 %", "2", "10", "2"]
    );
    assert_eq!(
        row_cells(&page.text, "data-guid=\"Europe0002\"")[1..],
        ["85.0 %", "1", "17", "2"]
    );
    let linked = alice
        .get(&format!("/console/decks/{}/notes/Europe0001", w.hash))
        .await;
    linked.expect(200, "the hardest note's page");

    // Every chart the page shows answers a well-formed SVG.
    for name in CHARTS {
        assert!(
            page.text
                .contains(&format!("src=\"{path}/chart/{name}.svg\"")),
            "the page shows {name}"
        );
    }
    let subdecks = chart(&mut alice, &w.hash, "subdecks").await;
    assert!(
        subdecks.contains("Europe") && subdecks.contains("Asia"),
        "{subdecks}"
    );
    let hardest = chart(&mut alice, &w.hash, "hardest").await;
    assert!(hardest.contains("Capital of Portugal?"), "{hardest}");
    for name in ["retention", "lapses", "subscribers", "suggestions"] {
        chart(&mut alice, &w.hash, name).await;
    }
    alice
        .get(&format!("{path}/chart/nothing.svg"))
        .await
        .expect(404, "an unknown chart");

    // Off again: the figures stay readable, add-ons stop uploading.
    let r = alice
        .submit(&path, &format!("{path}/switch"), &[("to", "off")])
        .await;
    r.expect(303, "switch off");
    assert_eq!(
        w.s.pull_since(&w.hash, FIRST_PULL_TS).await[0]["stats_enabled"],
        false
    );
    let page = alice.get(&path).await;
    assert!(page.text.contains("id=\"stats-off\""));
    assert_eq!(by_id(&page.text, "notes-reported"), "6");
}

#[tokio::test]
async fn figures_past_any_real_study_are_bounded_and_the_page_still_adds_them_up() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let path = switch_on(&mut alice, &w.hash).await;

    // Sums of these would pass SQLite's integer limit: every subscriber reports the most
    // an i64 holds, a retention over 100 %, and lapses without the reviews they need.
    for token in [&w.bob, &w.dave, &w.carol] {
        upload(
            &w.s,
            token,
            &w.hash,
            &[
                ("Europe0001", 150, i64::MAX, i64::MAX),
                ("Europe0002", -5, 7, 3),
            ],
        )
        .await;
    }

    let page = alice.get(&path).await;
    page.expect(200, "the stats page after hostile uploads");
    assert_eq!(by_id(&page.text, "reporters"), "3");
    // Retention, lapses, reviews, subscribers: reviews at most 1,000,000 each, lapses at
    // most the reviews.
    assert_eq!(
        row_cells(&page.text, "data-guid=\"Europe0001\"")[1..],
        ["100.0 %", "3000000", "3000000", "3"]
    );
    assert_eq!(
        row_cells(&page.text, "data-guid=\"Europe0002\"")[1..],
        ["0.0 %", "9", "9", "3"]
    );
    for name in CHARTS {
        chart(&mut alice, &w.hash, name).await;
    }
}

#[tokio::test]
async fn figures_stored_before_the_bound_are_repaired_by_the_migration() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let path = switch_on(&mut alice, &w.hash).await;
    upload(&w.s, &w.bob, &w.hash, &[("Europe0001", 50, 4, 10)]).await;

    // What an unbounded upload left behind: figures near 2^63 from two subscribers,
    // written beside the server as an older deckd stored them.
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        w.s.config().database_path().display()
    ))
    .await
    .unwrap();
    for user in ["old-upload-1", "old-upload-2"] {
        sqlx::query(
            "INSERT INTO note_stats (note, user_hash, retention, lapses, reps, uploaded_at)
             SELECT id, ?, 170, 9223372036854775807, 9223372036854775807, 0 FROM notes WHERE guid = 'Europe0002'",
        )
        .bind(user)
        .execute(&db)
        .await
        .unwrap();
    }
    alice.get(&path).await.expect(
        500,
        "the page over overflowing sums (what the migration repairs)",
    );

    sqlx::raw_sql(include_str!(
        "../../migrations/0015_bounded_review_figures.sql"
    ))
    .execute(&db)
    .await
    .unwrap();
    let page = alice.get(&path).await;
    page.expect(200, "the stats page once repaired");
    assert_eq!(
        row_cells(&page.text, "data-guid=\"Europe0002\"")[1..],
        ["100.0 %", "2000000", "2000000", "2"]
    );
    // Figures that were within bounds keep their sums.
    assert_eq!(
        row_cells(&page.text, "data-subdeck=\"Geography::Europe\"")[1..],
        ["83.3 %", "2000004", "2000010", "3", "2"]
    );
}

#[tokio::test]
async fn subscribers_and_suggestions_per_week_count_what_happens() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let path = stats_path(&w.hash);
    let page = alice.get(&path).await;
    page.expect(200, "stats page");
    assert_eq!(by_id(&page.text, "subscribers-now"), "2");
    assert_eq!(by_id(&page.text, "suggested-pending"), "0");

    // Carol subscribes: this week counts her.
    w.s.post_json(
        "/AddSubscription",
        Some(&w.carol),
        &json!({"deck_hash": w.hash}),
    )
    .await
    .expect(200, "subscribe");
    let page = alice.get(&path).await;
    assert_eq!(by_id(&page.text, "subscribers-now"), "3");
    let this_week = this_week_row(&page.text);
    assert_eq!(this_week[1], "3", "{this_week:?}");

    // Bob suggests a change: pending this week; approved once decided.
    w.s.suggest(
        &w.bob,
        &w.hash,
        DECK,
        &w.uuid,
        vec![note(
            "Root000001",
            &["Where is the equator, roughly?", "0°"],
            &[],
        )],
        "Clearer",
    )
    .await
    .expect(200, "suggestion");
    let page = alice.get(&path).await;
    assert_eq!(by_id(&page.text, "suggested-pending"), "1");
    assert_eq!(this_week_row(&page.text)[4], "1");
    let id = commit_id(&w.s.only_pending(&w.hash).await);
    w.s.approve(id).await;
    let page = alice.get(&path).await;
    assert_eq!(by_id(&page.text, "suggested-pending"), "0");
    assert_eq!(by_id(&page.text, "suggested-approved"), "1");
    assert_eq!(this_week_row(&page.text)[2], "1");

    // A removed subscription drops out.
    w.s.post_json(
        "/RemoveSubscription",
        Some(&w.carol),
        &json!({"deck_hash": w.hash}),
    )
    .await
    .expect(200, "unsubscribe");
    let page = alice.get(&path).await;
    assert_eq!(by_id(&page.text, "subscribers-now"), "2");
    let subscribers = chart(&mut alice, &w.hash, "subscribers").await;
    assert!(subscribers.contains("Subscribers"), "{subscribers}");
    let suggestions = chart(&mut alice, &w.hash, "suggestions").await;
    for series in ["approved", "denied", "pending"] {
        assert!(
            suggestions.contains(series),
            "legend {series}: {suggestions}"
        );
    }
}

/// The newest row of the weekly figures: week, subscribers, approved, denied, pending.
fn this_week_row(page: &str) -> Vec<String> {
    let table = &page[page.find("id=\"weeks\"").expect("the weekly figures")..];
    let rows: Vec<&str> = table.split("<tr>").skip(2).collect();
    let first = format!("data-x>{}", rows[0]);
    row_cells(&first, "data-x")
}

#[tokio::test]
async fn only_owners_maintainers_and_administrators_see_statistics_and_only_the_first_two_switch() {
    let w = world().await;
    let path = stats_path(&w.hash);
    let switch = format!("{path}/switch");
    let chart_path = format!("{path}/chart/subdecks.svg");

    // Bob subscribes, carol is a stranger: neither sees the page, a chart or the switch.
    for name in ["bob", "carol"] {
        let mut c = Console::of(&w.s, name).await;
        c.get(&path).await.expect(403, "page");
        c.get(&chart_path).await.expect(403, "chart");
        let token = c.csrf("/console/decks").await;
        c.post(&switch, &[("csrf", &token), ("to", "on")])
            .await
            .expect(403, "switch");
    }
    // Bob's deck page (he subscribes) does not link the statistics.
    let mut bob = Console::of(&w.s, "bob").await;
    let deck_page = bob.get(&format!("/console/decks/{}", w.hash)).await;
    deck_page.expect(200, "a subscriber's deck page");
    assert!(!deck_page.text.contains(&path));

    // Signed out: every route leads to sign-in.
    let mut out = Console::new(&w.s);
    for p in [&path, &chart_path] {
        let r = out.get(p).await;
        r.expect(303, "signed out");
        assert!(location(&r).starts_with("/console/login?next="), "{p}");
    }
    let r = out.post(&switch, &[("to", "on")]).await;
    r.expect(303, "signed out switch");
    assert!(location(&r).starts_with("/console/login"));

    // The owner without a CSRF token, or with another session's, changes nothing.
    let mut alice = Console::of(&w.s, "alice").await;
    alice
        .post(&switch, &[("to", "on")])
        .await
        .expect(403, "no CSRF token");
    let foreign = csrf_of(&bob.get("/console/decks").await.text);
    alice
        .post(&switch, &[("csrf", &foreign), ("to", "on")])
        .await
        .expect(403, "another session's token");
    let page = alice.get(&path).await;
    assert!(page.text.contains("id=\"stats-off\""), "still off");
    alice
        .submit(&path, &switch, &[("to", "sideways")])
        .await
        .expect(400, "neither on nor off");

    // Erin maintains the deck: she sees it and switches it.
    let mut erin = Console::of(&w.s, "erin").await;
    erin.get(&path).await.expect(200, "a maintainer");
    erin.get(&chart_path)
        .await
        .expect(200, "a maintainer's chart");
    erin.submit(&path, &switch, &[("to", "on")])
        .await
        .expect(303, "a maintainer switches");
    assert_eq!(
        w.s.pull_since(&w.hash, FIRST_PULL_TS).await[0]["stats_enabled"],
        true
    );

    // The box's administrator reads the page but may not switch another's deck.
    let mut root = Console::of(&w.s, "root").await;
    let page = root.get(&path).await;
    page.expect(200, "an administrator");
    assert!(!page.text.contains("Turn statistics off"), "no switch");
    root.get(&chart_path)
        .await
        .expect(200, "an administrator's chart");
    root.submit(&path, &switch, &[("to", "off")])
        .await
        .expect(403, "an administrator switches nothing");
    assert_eq!(
        w.s.pull_since(&w.hash, FIRST_PULL_TS).await[0]["stats_enabled"],
        true
    );

    // An unknown deck has no statistics page.
    root.get("/console/decks/no-such-deck-at-all-here/stats")
        .await
        .expect(404, "an unknown deck");
}
