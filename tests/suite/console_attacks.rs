//! Hostile use of the console's deck pages, settings and notetype editor, and of
//! notetype pushes through `/submitCard`: other people's decks, ids of one deck or
//! suggestion used under another's address, hidden and deleted decks, oversized and
//! malformed forms, markup in every echoed text, and pushes with odd field lists. Each
//! test proves one defence holds (nothing answers 5xx, nothing leaks, no content moves).

use deckd_testkit as common;

use common::console::{input_value, location, Console};
use common::notetypes::*;
use common::*;
use serde_json::{json, Value};

const FRANCE: &str = "AbCdEf1234";
const COLOUR: &str = "XyZ9876543";
const FRONT_ID: i64 = -5032847290344123456;
const BACK_ID: i64 = 4470161023957123456;
const IMG: &str = "<img src=red1x1.png>";
const CARD: (&str, &str, &str) = ("Card 1", "{{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}");
const CSS: &str = ".card { font-family: arial; font-size: 20px; text-align: center; }";

fn deck_path(hash: &str) -> String {
    format!("/console/decks/{hash}")
}

fn notetype_id(path: &str) -> String {
    path.rsplit('/').next().unwrap().to_string()
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

/// The changelog ids a settings page offers to delete.
fn changelog_ids(page: &str) -> Vec<String> {
    page.match_indices("/changelog/")
        .filter_map(|(i, _)| {
            let rest = &page[i + "/changelog/".len()..];
            let end = rest.find('/')?;
            rest[end..]
                .starts_with("/delete")
                .then(|| rest[..end].to_string())
        })
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Every note of a deck as a fresh subscriber pulls it, sorted by GUID.
async fn everything(s: &TestServer, hash: &str) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let pull = s.pull_since(hash, FIRST_PULL_TS).await;
    pulled_layout(entry_for(&pull, hash).expect("the deck"))
}

async fn push(s: &TestServer, token: &str, hash: &str, deck: &Value, owner: bool) -> Resp {
    let body = submit_body(hash, DEMO_NAME, DEMO_NAME, deck, 2, "attack", owner);
    s.submit(token, &body).await
}

/// Alice owns the demo deck (A) and bob a deck of his own (B, another notetype owner);
/// dave subscribes to A; carol is nobody to either.
struct World {
    s: TestServer,
    alice: String,
    bob: String,
    a: String,
    b: String,
}

async fn world() -> World {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    s.user("carol").await;
    let dave = s.user("dave").await;
    let a = s.publish_demo(&alice).await;
    let g = gen_deck("Bob deck", 3, 1);
    let b = s.publish(&bob, &g.deck).await;
    s.post_json("/AddSubscription", Some(&dave), &json!({"deck_hash": a}))
        .await
        .expect(200, "subscribe");
    World {
        s,
        alice,
        bob,
        a,
        b,
    }
}

#[tokio::test]
async fn nobody_else_reaches_a_decks_pages_or_changes_anything_through_any_route() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let a_page = alice.get(&deck_path(&w.a)).await;
    a_page.expect(200, "alice's deck");
    let nt = notetype_path(&a_page.text);
    let nt_id = notetype_id(&nt);
    alice
        .submit(
            &deck_path(&w.a),
            &format!("{}/changelog", deck_path(&w.a)),
            &[("message", "first")],
        )
        .await
        .expect(303, "a changelog");
    let settings = alice.get(&format!("{}/settings", deck_path(&w.a))).await;
    let logs = changelog_ids(&settings.text);
    assert_eq!(logs.len(), 1, "{}", settings.text);
    let ts = sync_point().await;

    // Carol has an account and a valid CSRF token of her own (from her decks page).
    let mut carol = Console::of(&w.s, "carol").await;
    let mine = "/console/decks";
    let base = deck_path(&w.a);
    for path in [
        base.clone(),
        format!("{base}/notes/{FRANCE}"),
        format!("{base}/media?name=red1x1.png"),
        format!("{base}/settings"),
        nt.clone(),
    ] {
        let r = carol.get(&path).await;
        r.expect(403, &path);
        assert!(!r.text.contains("capital of France"), "{path}: {}", r.text);
    }
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (format!("{base}/changelog"), vec![("message", "pwned")]),
        (
            format!("{base}/settings/description"),
            vec![("description", "pwned")],
        ),
        (
            format!("{base}/settings/maintainers"),
            vec![("name", "carol"), ("action", "add")],
        ),
        (
            format!("{base}/settings/protected/{nt_id}"),
            vec![("field", "Back")],
        ),
        (
            format!("{base}/settings/tag-groups"),
            vec![("name", "pwned"), ("action", "add")],
        ),
        (format!("{base}/changelog/{}/delete", logs[0]), vec![]),
        (format!("{base}/delete"), vec![("name", DEMO_NAME)]),
        (
            nt.clone(),
            vec![
                ("f0.from", "0"),
                ("f0.name", "Front"),
                ("t0.name", "Card 1"),
                ("t0.qfmt", "{{Front}}"),
                ("t0.afmt", "x"),
                ("css", ""),
                ("f1.remove", "on"),
                ("f1.from", "1"),
                ("confirm_remove", "on"),
            ],
        ),
    ];
    for (path, form) in &posts {
        carol
            .submit(mine, path, form)
            .await
            .expect(403, &format!("carol posting {path}"));
    }
    // A subscriber sees the deck but changes nothing either.
    let mut dave = Console::of(&w.s, "dave").await;
    dave.get(&base).await.expect(200, "a subscriber's view");
    dave.get(&format!("{base}/notes/{FRANCE}"))
        .await
        .expect(200, "a subscriber's note history");
    dave.get(&nt).await.expect(403, "a subscriber's editor");
    for (path, form) in &posts {
        dave.submit(mine, path, form)
            .await
            .expect(403, &format!("dave posting {path}"));
    }
    assert_eq!(
        w.s.pull_since(&w.a, &ts).await,
        json!([]),
        "nothing changed for subscribers"
    );
    let settings = alice.get(&format!("{base}/settings")).await;
    assert_eq!(changelog_ids(&settings.text), logs);
    assert!(!settings.text.contains("pwned"));
}

#[tokio::test]
async fn ids_of_another_deck_or_suggestion_are_unknown_under_this_ones_address() {
    let w = world().await;
    let mut bob = Console::of(&w.s, "bob").await;
    let b_nt = notetype_path(&bob.get(&deck_path(&w.b)).await.text);
    let b_nt_id = notetype_id(&b_nt);
    bob.submit(
        &deck_path(&w.b),
        &format!("{}/changelog", deck_path(&w.b)),
        &[("message", "bob's news")],
    )
    .await
    .expect(303, "bob's changelog");
    let b_log =
        changelog_ids(&bob.get(&format!("{}/settings", deck_path(&w.b))).await.text)[0].clone();

    let mut alice = Console::of(&w.s, "alice").await;
    let base = deck_path(&w.a);
    let foreign_nt = format!("{base}/notetypes/{b_nt_id}");
    alice
        .get(&foreign_nt)
        .await
        .expect(404, "bob's notetype under alice's deck");
    alice
        .submit(
            &base,
            &foreign_nt,
            &[
                ("f0.from", "0"),
                ("f0.name", "Hijacked"),
                ("f1.from", "1"),
                ("f1.name", "Back"),
                ("t0.name", "Card 1"),
                ("t0.qfmt", "{{Hijacked}}"),
                ("t0.afmt", "{{Back}}"),
                ("css", "x"),
            ],
        )
        .await
        .expect(404, "saving bob's notetype through alice's deck");
    alice
        .submit(
            &base,
            &format!("{base}/settings/protected/{b_nt_id}"),
            &[("field", "Back")],
        )
        .await
        .expect(404, "protecting a field of bob's notetype");
    let r = alice
        .submit(&base, &format!("{base}/changelog/{b_log}/delete"), &[])
        .await;
    r.expect_4xx("bob's changelog under alice's deck");
    for bogus in ["0", "-1", "9223372036854775807", "abc", "1e3"] {
        alice
            .submit(&base, &format!("{base}/changelog/{bogus}/delete"), &[])
            .await
            .expect_4xx(bogus);
        alice
            .get(&format!("{base}/notetypes/{bogus}"))
            .await
            .expect_4xx(bogus);
    }
    // Bob's deck is untouched.
    let (names, _) = everything(&w.s, &w.b).await;
    assert_eq!(names, ["Front", "Back"]);
    let pull = w.s.pull_since(&w.b, FIRST_PULL_TS).await;
    assert_eq!(all_notes(&entry_for(&pull, &w.b).unwrap()["deck"]).len(), 3);
    assert_eq!(
        changelog_ids(&bob.get(&format!("{}/settings", deck_path(&w.b))).await.text),
        [b_log]
    );
}

#[tokio::test]
async fn a_suggestions_notetype_row_is_decided_only_under_its_own_suggestion() {
    let w = world().await;
    let carol = w.s.login("carol", &password_for("carol")).await;
    // Carol suggests a notetype change (new styling) on alice's deck...
    let mut deck = pushed_demo(
        &[("Front", json!(FRONT_ID)), ("Back", json!(BACK_ID))],
        vec![note(
            FRANCE,
            &["What is the capital of France?", "Paris"],
            &["geo"],
        )],
    );
    deck["note_models"][0]["css"] = json!(".card { color: red; }");
    push(&w.s, &carol, &w.a, &deck, false)
        .await
        .expect(200, "suggestion");
    let x = commit_id(&w.s.only_pending(&w.a).await);
    // ... and a plain one on bob's deck, which alice also reviews as a maintainer.
    let mut bob = Console::of(&w.s, "bob").await;
    bob.submit(
        &format!("{}/settings", deck_path(&w.b)),
        &format!("{}/settings/maintainers", deck_path(&w.b)),
        &[("name", "alice"), ("action", "add")],
    )
    .await
    .expect(303, "alice maintains bob's deck");
    let g = gen_deck("Bob deck", 0, 0);
    let mut other = g.deck.clone();
    other["notes"] = json!([note("zzzzzzzzzz", &["new q", "new a"], &[])]);
    let body = submit_body(&w.b, "Bob deck", "Bob deck", &other, 2, "new", false);
    w.s.submit(&carol, &body)
        .await
        .expect(200, "suggestion on B");
    let y = commit_id(&w.s.only_pending(&w.b).await);

    let mut alice = Console::of(&w.s, "alice").await;
    let page = alice.get(&format!("/console/review/{x}")).await;
    let rows = ids(&page.text, "notetype");
    assert_eq!(rows.len(), 1, "{}", page.text);
    for verb in ["accept", "deny"] {
        let r = alice
            .submit(
                &format!("/console/review/{y}"),
                &format!("/console/review/{y}/notetype/{}/{verb}", rows[0]),
                &[],
            )
            .await;
        r.expect_4xx(&format!("X's row under Y ({verb})"));
    }
    for bogus in ["0", "-1", "99999999", "abc"] {
        alice
            .submit(
                &format!("/console/review/{x}"),
                &format!("/console/review/{x}/notetype/{bogus}/accept"),
                &[],
            )
            .await
            .expect_4xx(bogus);
    }
    // Dave (a subscriber of A, not a reviewer) cannot decide it either.
    let mut dave = Console::of(&w.s, "dave").await;
    dave.submit(
        "/console/decks",
        &format!("/console/review/{x}/notetype/{}/accept", rows[0]),
        &[],
    )
    .await
    .expect(403, "a subscriber accepting");
    // The row is still waiting under X, and the styling unchanged.
    let page = alice.get(&format!("/console/review/{x}")).await;
    assert_eq!(ids(&page.text, "notetype"), rows);
    let pull = w.s.pull_since(&w.a, FIRST_PULL_TS).await;
    assert_eq!(
        entry_for(&pull, &w.a).unwrap()["deck"]["note_models"][0]["css"],
        CSS
    );
    let _ = (&w.alice, &w.bob);
}

#[tokio::test]
async fn subdecks_hidden_suggested_decks_and_deleted_decks_have_no_pages() {
    let w = world().await;
    let carol = w.s.login("carol", &password_for("carol")).await;
    // Carol suggests a new subdeck: it stays hidden until approved.
    let child = child_deck(
        "Carol's corner",
        vec![note("cccccccccc", &["cq", "ca"], &[])],
        vec![],
    );
    let hidden = humanhash(child["crowdanki_uuid"].as_str().unwrap());
    let deck = root_deck(DEMO_NAME, DEMO_UUID, "", vec![], vec![child]);
    push(&w.s, &carol, &w.a, &deck, false)
        .await
        .expect(200, "suggestion with a subdeck");
    let mut alice = Console::of(&w.s, "alice").await;
    let mut carol_c = Console::of(&w.s, "carol").await;
    for c in [&mut alice, &mut carol_c] {
        for path in [
            deck_path(&hidden),
            format!("{}/settings", deck_path(&hidden)),
            format!("{}/notes/cccccccccc", deck_path(&hidden)),
        ] {
            let r = c.get(&path).await;
            r.expect_4xx(&path);
            assert!(!r.text.contains("cq"), "{path}");
        }
    }
    carol_c
        .submit(
            "/console/decks",
            &format!("{}/changelog", deck_path(&hidden)),
            &[("message", "mine now")],
        )
        .await
        .expect(403, "the suggester is no maintainer of her hidden subdeck");
    carol_c
        .submit(
            "/console/decks",
            &format!("{}/delete", deck_path(&hidden)),
            &[("name", "Carol's corner")],
        )
        .await
        .expect_4xx("deleting the hidden subdeck");
    // A bogus hash and a deck deleted with a suggestion still waiting.
    alice
        .get(&deck_path("not-a-hash"))
        .await
        .expect_4xx("bogus hash");
    alice
        .get(&deck_path(&"a".repeat(5000)))
        .await
        .expect_4xx("long hash");
    let x = commit_id(&w.s.only_pending(&w.a).await);
    let settings = format!("{}/settings", deck_path(&w.a));
    alice
        .submit(
            &settings,
            &format!("{}/delete", deck_path(&w.a)),
            &[("name", "demo deck")],
        )
        .await
        .expect(400, "the name typed in another case");
    alice
        .submit(
            &settings,
            &format!("{}/delete", deck_path(&w.a)),
            &[("name", DEMO_NAME)],
        )
        .await
        .expect(303, "deleted with a suggestion waiting");
    for path in [
        deck_path(&w.a),
        format!("{}/notes/{FRANCE}", deck_path(&w.a)),
        settings.clone(),
        format!("{}/media?name=red1x1.png", deck_path(&w.a)),
        deck_path(&hidden),
        format!("/console/review/{x}"),
    ] {
        alice.get(&path).await.expect_4xx(&path);
    }
    alice
        .submit(
            "/console/decks",
            &format!("{}/delete", deck_path(&w.a)),
            &[("name", DEMO_NAME)],
        )
        .await
        .expect_4xx("deleting twice");
    alice
        .submit(
            "/console/decks",
            &format!("/console/review/{x}/approve"),
            &[],
        )
        .await
        .expect_4xx("approving a suggestion of a deleted deck");
    let q = alice.get("/console/review").await;
    q.expect(200, "the queue");
    assert!(!q.text.contains("Carol"), "{}", q.text);
}

#[tokio::test]
async fn a_changelog_deleted_twice_is_refused_the_second_time() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let base = deck_path(&w.a);
    for m in ["one", "two"] {
        alice
            .submit(&base, &format!("{base}/changelog"), &[("message", m)])
            .await
            .expect(303, m);
    }
    let settings = format!("{base}/settings");
    let logs = changelog_ids(&alice.get(&settings).await.text);
    assert_eq!(logs.len(), 2);
    let del = format!("{base}/changelog/{}/delete", logs[0]);
    alice
        .submit(&settings, &del, &[])
        .await
        .expect(303, "deleted");
    alice
        .submit(&settings, &del, &[])
        .await
        .expect(400, "again");
    assert_eq!(
        changelog_ids(&alice.get(&settings).await.text),
        [logs[1].clone()]
    );
}

#[tokio::test]
async fn markup_in_every_echoed_text_is_escaped_or_cleaned() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let base = deck_path(&w.a);
    let settings = format!("{base}/settings");
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    alice
        .submit(&base, &format!("{base}/changelog"), &[("message", evil)])
        .await
        .expect(303, "changelog");
    alice
        .submit(
            &settings,
            &format!("{base}/settings/description"),
            &[("description", evil)],
        )
        .await
        .expect(303, "description");
    alice
        .submit(
            &settings,
            &format!("{base}/settings/tag-groups"),
            &[("name", "<script>alert(3)</script>"), ("action", "add")],
        )
        .await
        .expect(303, "a tag group with markup in its name");
    let nt = notetype_path(&alice.get(&base).await.text);
    save_notetype(
        &mut alice,
        &nt,
        &[
            ("0", "<img src=x onerror=alert(4)>", "1"),
            ("1", "Back", "2"),
        ],
        &[(
            "<b onclick=alert(5)>Card</b>",
            "{{Front}}<script>alert(6)</script>",
            "{{Back}}",
        )],
        "</style><script>alert(7)</script>",
        &[],
    )
    .await
    .expect(303, "a field name with markup");
    // A suggestion with markup in its text and in a suggested field name.
    let carol = w.s.login("carol", &password_for("carol")).await;
    let mut deck = pushed_demo(
        &[
            ("<img src=x onerror=alert(4)>", json!(FRONT_ID)),
            ("Back", json!(BACK_ID)),
            ("<svg onload=alert(8)>", json!(42)),
        ],
        vec![note(
            FRANCE,
            &[
                "What is the capital of France?",
                "Paris<script>alert(9)</script>",
                "x",
            ],
            &["<b>t</b>"],
        )],
    );
    deck["note_models"][0]["name"] = json!("<script>alert(10)</script>");
    let body = submit_body(&w.a, DEMO_NAME, DEMO_NAME, &deck, 2, evil, false);
    w.s.submit(&carol, &body).await.expect(200, "suggestion");
    let x = commit_id(&w.s.only_pending(&w.a).await);
    for path in [
        base.clone(),
        settings.clone(),
        nt.clone(),
        format!("{base}/notes/{FRANCE}"),
        format!("/console/review/{x}"),
        "/console/review".to_string(),
        "/console/decks".to_string(),
    ] {
        let page = alice.get(&path).await;
        page.expect(200, &path);
        for raw in [
            "<script>alert",
            "<svg",
            "<img src=x",
            "<b onclick",
            "onerror=alert(2)",
        ] {
            assert!(
                !page.text.contains(raw),
                "{path} echoes {raw:?} unescaped:\n{}",
                page.text
            );
        }
    }
}

#[tokio::test]
async fn searches_and_paging_take_any_text_as_text() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let mut g = gen_deck("Wild", 30, 0);
    g.deck["notes"][0]["fields"][0] = json!("100% sure_thing \\ o'reilly");
    let hash = s.publish(&alice, &g.deck).await;
    let mut c = Console::of(&s, "alice").await;
    let base = deck_path(&hash);
    let count = |t: &str| t.matches("/notes/").count();
    for (q, expect) in [
        ("%25", 1),
        ("_", 1),
        ("%5C", 1),
        ("reilly", 1),
        ("%27%20OR%201%3D1%20--", 0),
        ("%22%29%3B%20DROP%20TABLE%20notes%3B--", 0),
        ("%25%25%25", 0),
    ] {
        let page = c.get(&format!("{base}?q={q}")).await;
        page.expect(200, q);
        assert_eq!(count(&page.text), expect, "q={q}");
    }
    for q in ["tag=%25", "deck=%25", "deck=Wild%3A%3A%25", "tag=gen%27--"] {
        let page = c.get(&format!("{base}?{q}")).await;
        page.expect(200, q);
        assert_eq!(count(&page.text), 0, "{q}");
    }
    for after in ["-1", "-9223372036854775808", "9223372036854775807", "0"] {
        c.get(&format!("{base}?after={after}"))
            .await
            .expect(200, after);
    }
    for after in ["abc", "1.5", "99999999999999999999", "NaN", "1e3", "%00"] {
        c.get(&format!("{base}?after={after}"))
            .await
            .expect_4xx(after);
    }
    c.get(&format!("{base}?after=1&after=2"))
        .await
        .expect_4xx("repeated after");
    let huge = "x".repeat(30_000);
    let r = c.get(&format!("{base}?q={huge}")).await;
    assert!(r.status < 500, "a 30 KB search: {}", r.status);
    c.get(&format!("{base}/notes/{}", "%25"))
        .await
        .expect(404, "a wildcard GUID");
    c.get(&format!("{base}/media?name=%25"))
        .await
        .expect(404, "a wildcard media name");
    c.get(&format!("{base}/media"))
        .await
        .expect_4xx("no media name");
}

#[tokio::test]
async fn oversized_and_malformed_notetype_forms_are_refused_and_change_nothing() {
    let w = world().await;
    let mut alice = Console::of(&w.s, "alice").await;
    let nt = notetype_path(&alice.get(&deck_path(&w.a)).await.text);
    let ts = sync_point().await;
    let ok_fields = [("0", "Front", "1"), ("1", "Back", "2")];
    let big = "x".repeat(150_000);
    let long_name = "n".repeat(101);
    for (fields, templates, css, what) in [
        (
            ok_fields.to_vec(),
            vec![CARD],
            big.as_str(),
            "styling over 100 KB",
        ),
        (
            ok_fields.to_vec(),
            vec![("Card 1", big.as_str(), "{{Back}}")],
            CSS,
            "a template over 100 KB",
        ),
        (
            vec![("0", long_name.as_str(), "1"), ("1", "Back", "2")],
            vec![CARD],
            CSS,
            "a 101-character field name",
        ),
        (
            vec![("0", "Front", "1"), ("1", "BACK", "2"), ("", "x", "3")],
            vec![CARD],
            CSS,
            "an empty field number",
        ),
        (
            vec![
                ("0", "Front", "1"),
                ("1", "back\u{200b}", "2"),
                ("-1", "x", "3"),
            ],
            vec![CARD],
            CSS,
            "a negative field number",
        ),
        (
            vec![("0", "Front", "1"), ("99999999999999999999", "x", "2")],
            vec![CARD],
            CSS,
            "a field number past i64",
        ),
        (ok_fields.to_vec(), vec![], CSS, "no template"),
    ] {
        let r = save_notetype(&mut alice, &nt, &fields, &templates, css, &[]).await;
        r.expect(400, what);
    }
    // A 10 MB styling is refused before anything is read.
    let huge = format!("css={}", "y".repeat(10 * 1024 * 1024));
    let sent = http_client()
        .post(w.s.url(&nt))
        .header(
            "Cookie",
            format!("deckd_session={}", alice.cookie.clone().unwrap()),
        )
        .header("Sec-Fetch-Site", "same-origin")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(huge)
        .send()
        .await;
    if let Ok(r) = sent {
        let status = r.status().as_u16();
        assert!((400..500).contains(&status), "10 MB styling: {status}");
    }
    // Names that differ only by case, and a zero-width twin, of a new field.
    for twin in ["FRONT", "front", " Front "] {
        let r = save_notetype(
            &mut alice,
            &nt,
            &ok_fields,
            &[CARD],
            CSS,
            &[("new.name", twin)],
        )
        .await;
        r.expect(400, twin);
    }
    // 101 fields and 51 templates.
    let names: Vec<String> = (0..101).map(|i| format!("F{i}")).collect();
    let mut many: Vec<(&str, &str, &str)> = vec![("0", "Front", "1"), ("1", "Back", "2")];
    for n in &names[2..] {
        many.push(("0", n.as_str(), "3"));
    }
    let r = save_notetype(&mut alice, &nt, &many, &[CARD], CSS, &[]).await;
    r.expect(400, "101 fields");
    let tnames: Vec<String> = (0..51).map(|i| format!("Card {i}")).collect();
    let cards: Vec<(&str, &str, &str)> = tnames
        .iter()
        .map(|n| (n.as_str(), "{{Front}}", "{{Back}}"))
        .collect();
    let r = save_notetype(&mut alice, &nt, &ok_fields, &cards, CSS, &[]).await;
    r.expect(400, "51 templates");
    // Places that are not numbers fall back to the form order; NaN and infinities sort.
    for (p0, p1) in [("NaN", "1"), ("inf", "-inf"), ("-0", "1e308"), ("abc", "")] {
        let r = save_notetype(
            &mut alice,
            &nt,
            &[("0", "Front", p0), ("1", "Back", p1)],
            &[CARD],
            CSS,
            &[],
        )
        .await;
        assert!(r.status < 500, "{p0}/{p1}: {}", r.status);
    }
    // Without the CSRF token, with a forged one, and cross-site.
    alice
        .post(
            &nt,
            &[
                ("f0.from", "0"),
                ("f0.name", "Front"),
                ("f1.from", "1"),
                ("f1.name", "X"),
                ("t0.name", "Card 1"),
                ("t0.qfmt", "{{Front}}"),
                ("t0.afmt", ""),
                ("css", ""),
            ],
        )
        .await
        .expect_4xx("no CSRF");
    alice
        .post(
            &nt,
            &[
                ("csrf", "AAAA"),
                ("f0.from", "0"),
                ("f0.name", "Front"),
                ("f1.from", "1"),
                ("f1.name", "X"),
                ("t0.name", "Card 1"),
                ("t0.qfmt", "{{Front}}"),
                ("t0.afmt", ""),
                ("css", ""),
            ],
        )
        .await
        .expect_4xx("forged CSRF");
    // Malformed encodings.
    for body in [
        "%",
        "f0.from=%ZZ",
        "a=1&&&&=&=",
        "f0.from[0][1][2]=0",
        "\u{0}=\u{0}",
    ] {
        let r = http_client()
            .post(w.s.url(&nt))
            .header(
                "Cookie",
                format!("deckd_session={}", alice.cookie.clone().unwrap()),
            )
            .header("Sec-Fetch-Site", "same-origin")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let r = Resp {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            text: r.text().await.unwrap(),
        };
        assert!(r.status < 500, "{body:?}: {}", r.status);
    }
    let pull = w.s.pull_since(&w.a, &ts).await;
    // Only the harmless place experiments may have changed the order (they did not rename
    // or drop anything): every note keeps both its fields.
    if let Some(e) = entry_for(&pull, &w.a) {
        let (names, notes) = pulled_layout(e);
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(sorted, ["Back", "Front"], "{names:?}");
        for (_, f) in notes {
            assert_eq!(f.len(), 2);
        }
    }
    let (_, notes) = everything(&w.s, &w.a).await;
    let france = &notes.iter().find(|(g, _)| g == FRANCE).unwrap().1;
    assert!(france.contains(&"Paris".to_string()), "{france:?}");
    assert!(france.contains(&"What is the capital of France?".to_string()));
    let _ = location;
}

#[tokio::test]
async fn odd_owner_pushes_never_lose_or_misplace_content() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;
    let q = "What is the capital of France?";

    // Two fields with the same id: the second matches by name.
    let deck = pushed_demo(
        &[("Front", json!(FRONT_ID)), ("Back", json!(FRONT_ID))],
        vec![note(FRANCE, &[q, "Paris 1"], &["geo"])],
    );
    push(&s, &alice, &hash, &deck, true)
        .await
        .expect(200, "duplicate ids");
    let (names, notes) = everything(&s, &hash).await;
    assert_eq!(names, ["Front", "Back"]);
    assert_eq!(notes[0].1, strings(&[q, "Paris 1"]));
    assert_eq!(notes[1].1, strings(&["Which colour is this?", IMG]));

    // Ids 0 everywhere: fields match by name (in any case).
    let deck = pushed_demo(
        &[("BACK", json!(0)), ("front", json!(0))],
        vec![note(FRANCE, &["Paris 2", q], &["geo"])],
    );
    push(&s, &alice, &hash, &deck, true)
        .await
        .expect(200, "ids 0");
    let (_, notes) = everything(&s, &hash).await;
    let by_name = |names: &[String], notes: &[(String, Vec<String>)], guid: &str, n: &str| {
        let i = names.iter().position(|x| x == n).unwrap();
        notes.iter().find(|(g, _)| g == guid).unwrap().1[i].clone()
    };
    let (names, _) = everything(&s, &hash).await;
    assert_eq!(by_name(&names, &notes, FRANCE, "Front"), q);
    assert_eq!(by_name(&names, &notes, FRANCE, "Back"), "Paris 2");
    assert_eq!(by_name(&names, &notes, COLOUR, "Back"), IMG);

    // Null ids, and two fields of the same name: the twin is a leftover, never content.
    let deck = pushed_demo(
        &[
            ("Front", Value::Null),
            ("Front", json!(7)),
            ("Back", Value::Null),
        ],
        vec![note(FRANCE, &[q, "twin", "Paris 3"], &["geo"])],
    );
    let r = push(&s, &alice, &hash, &deck, true).await;
    assert!(r.status < 500, "null ids: {} {}", r.status, r.text);
    let (names, notes) = everything(&s, &hash).await;
    assert!(!names.iter().any(|n| n == "twin"));
    assert_eq!(by_name(&names, &notes, FRANCE, "Front"), q);
    assert!(
        ["Paris 2", "Paris 3"].contains(&by_name(&names, &notes, FRANCE, "Back").as_str()),
        "{notes:?}"
    );
    assert!(!notes.iter().any(|(_, f)| f.iter().any(|c| c == "twin")));

    // A rename onto an existing field's name is not applied; content follows the id.
    let deck = pushed_demo(
        &[("Front", json!(FRONT_ID)), ("front", json!(BACK_ID))],
        vec![note(FRANCE, &[q, "Paris 4"], &["geo"])],
    );
    push(&s, &alice, &hash, &deck, true)
        .await
        .expect(200, "rename onto Front");
    let (names, notes) = everything(&s, &hash).await;
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["Back", "Front"]);
    assert_eq!(by_name(&names, &notes, FRANCE, "Back"), "Paris 4");

    // No fields, no templates: refused or a no-op, never a loss.
    let mut deck = pushed_demo(&[], vec![note(FRANCE, &[], &["geo"])]);
    deck["note_models"][0]["tmpls"] = json!([]);
    let r = push(&s, &alice, &hash, &deck, true).await;
    assert!(r.status < 500, "no fields: {} {}", r.status, r.text);
    let (names2, notes2) = everything(&s, &hash).await;
    assert_eq!(names2, names);
    assert_eq!(notes2, notes);
    let pull = s.pull_since(&hash, FIRST_PULL_TS).await;
    let tmpls = &entry_for(&pull, &hash).unwrap()["deck"]["note_models"][0]["tmpls"];
    assert_eq!(tmpls.as_array().unwrap().len(), 1, "{tmpls}");

    // 10,000 fields: refused or cut, never a 5xx, never content lost.
    let many: Vec<(String, Value)> = (0..10_000)
        .map(|i| (format!("F{i}"), json!(i + 1)))
        .collect();
    let many_ref: Vec<(&str, Value)> = many.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
    let deck = pushed_demo(&many_ref, vec![note(FRANCE, &[q, "Paris 5"], &["geo"])]);
    let r = push(&s, &alice, &hash, &deck, true).await;
    assert!(
        r.status < 500,
        "10,000 fields: {} {}",
        r.status,
        preview(&r.text)
    );
    let (names3, notes3) = everything(&s, &hash).await;
    assert!(names3.len() <= 10_002);
    assert_eq!(by_name(&names3, &notes3, COLOUR, "Back"), IMG);
    assert_eq!(by_name(&names3, &notes3, FRANCE, "Front"), q);
}

fn preview(t: &str) -> &str {
    &t[..t.len().min(300)]
}

#[tokio::test]
async fn odd_suggested_notetypes_never_move_content_before_review() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let hash = s.publish_demo(&alice).await;
    let q = "What is the capital of France?";
    let ts = sync_point().await;
    for (fields, contents) in [
        (
            vec![("Front", json!(FRONT_ID)), ("Back", json!(FRONT_ID))],
            vec![q, "P1"],
        ),
        (vec![("Back", json!(0)), ("Front", json!(0))], vec!["P2", q]),
        (
            vec![
                ("Front", Value::Null),
                ("Front", json!(5)),
                ("Back", Value::Null),
            ],
            vec![q, "t", "P3"],
        ),
        (
            vec![("Back", json!(FRONT_ID)), ("Front", json!(BACK_ID))],
            vec![q, "P4"],
        ),
        (vec![], vec![]),
    ] {
        let deck = pushed_demo(&fields, vec![note(FRANCE, &contents, &["geo"])]);
        let r = push(&s, &bob, &hash, &deck, false).await;
        assert!(r.status < 500, "{fields:?}: {} {}", r.status, r.text);
    }
    assert_eq!(
        s.pull_since(&hash, &ts).await,
        json!([]),
        "nothing changes before review"
    );
    let (names, notes) = everything(&s, &hash).await;
    assert_eq!(names, ["Front", "Back"]);
    assert_eq!(notes[0].1, strings(&[q, "Paris"]));
}

// Regressions for what an attack on the console found; each failed before its fix.

#[tokio::test]
async fn a_maintainer_of_one_deck_cannot_change_another_decks_notes() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    s.user("carol").await;
    let a = s.publish_demo(&alice).await;
    // Alice's second deck uses the same notetype (same Anki notetype, same owner).
    let g = gen_deck("Private deck", 2, 0);
    let b = s.publish(&alice, &g.deck).await;
    let mut al = Console::of(&s, "alice").await;
    al.submit(
        &format!("{}/settings", deck_path(&a)),
        &format!("{}/settings/maintainers", deck_path(&a)),
        &[("name", "carol"), ("action", "add")],
    )
    .await
    .expect(303, "carol maintains deck A only");
    let mut carol = Console::of(&s, "carol").await;
    let nt = notetype_path(&carol.get(&deck_path(&a)).await.text);
    let r = save_notetype(
        &mut carol,
        &nt,
        &[("0", "Front", "1")],
        &[("Card 1", "{{Front}}", "gone")],
        CSS,
        &[
            ("f1.from", "1"),
            ("f1.remove", "on"),
            ("confirm_remove", "on"),
        ],
    )
    .await;
    r.expect(403, "the notetype is also deck B's");
    assert!(r.text.contains("decks you do not maintain"), "{}", r.text);
    let settings = format!("{}/settings", deck_path(&a));
    let form = format!("{}/settings/protected/{}", deck_path(&a), notetype_id(&nt));
    carol
        .submit(&settings, &form, &[("field", "Back")])
        .await
        .expect(403, "protecting a field of deck B's notetype");
    let (names, notes) = everything(&s, &b).await;
    assert_eq!(names, ["Front", "Back"]);
    assert!(
        notes.iter().all(|(_, f)| f.len() == 2 && !f[1].is_empty()),
        "{notes:?}"
    );
    // The owner may: every deck using it is hers.
    save_notetype(
        &mut al,
        &nt,
        &[("0", "Front", "1"), ("1", "Back", "2")],
        &[CARD],
        ".card { color: navy; }",
        &[],
    )
    .await
    .expect(303, "the owner changes her notetype");
}

#[tokio::test]
async fn a_notetype_form_longer_than_any_notetype_needs_is_refused_unread() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;
    let mut c = Console::of(&s, "alice").await;
    let nt = notetype_path(&c.get(&deck_path(&hash)).await.text);
    let pairs: Vec<(String, String)> = (0..5_000)
        .map(|i| (format!("f{i}.from"), "0".to_string()))
        .collect();
    let form: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = c.submit(&nt, &nt, &form).await;
    r.expect(413, "5,000 pairs");
}

#[tokio::test]
async fn a_form_made_before_the_notetype_changed_is_refused_and_nothing_is_lost() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;
    let mut c = Console::of(&s, "alice").await;
    let nt = notetype_path(&c.get(&deck_path(&hash)).await.text);
    let opened = input_value(&c.get(&nt).await.text, "version").unwrap();
    // Meanwhile her Anki pushes a third field.
    let mut deck = root_deck(
        DEMO_NAME,
        DEMO_UUID,
        "",
        vec![note(
            FRANCE,
            &["What is the capital of France?", "Paris", "Atlas p. 12"],
            &["geo"],
        )],
        vec![],
    );
    let mut src = deck["note_models"][0]["flds"][1].clone();
    src["name"] = json!("Source");
    src["id"] = json!(777);
    src["ord"] = json!(2);
    deck["note_models"][0]["flds"]
        .as_array_mut()
        .unwrap()
        .push(src);
    push(&s, &alice, &hash, &deck, true)
        .await
        .expect(200, "a field added from Anki");
    let r = save_notetype(
        &mut c,
        &nt,
        &[("0", "Front", "1"), ("1", "Back", "2")],
        &[CARD],
        ".card { color: navy; }",
        &[("version", opened.as_str())],
    )
    .await;
    r.expect(409, "a stale form");
    assert!(r.text.contains("reload the page"), "{}", r.text);
    // A fresh form that leaves a field out is refused too.
    let r = save_notetype(
        &mut c,
        &nt,
        &[("0", "Front", "1"), ("1", "Back", "2")],
        &[CARD],
        CSS,
        &[],
    )
    .await;
    r.expect(400, "a field not mentioned");
    assert!(r.text.contains("Source"), "{}", r.text);
    let (names, notes) = everything(&s, &hash).await;
    assert_eq!(names, ["Front", "Back", "Source"]);
    assert!(
        notes.iter().any(|(_, f)| f[2] == "Atlas p. 12"),
        "{notes:?}"
    );
}

#[tokio::test]
async fn a_suggested_notetype_change_made_before_a_later_edit_cannot_undo_it() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let hash = s.publish_demo(&alice).await;
    let deck = pushed_demo(
        &[
            ("Front", json!(FRONT_ID)),
            ("Back", json!(BACK_ID)),
            ("Mnemonic", json!(999)),
        ],
        vec![note(
            FRANCE,
            &["What is the capital of France?", "Paris", "P"],
            &["geo"],
        )],
    );
    push(&s, &bob, &hash, &deck, false)
        .await
        .expect(200, "suggestion");
    let id = commit_id(&s.only_pending(&hash).await);
    let mut c = Console::of(&s, "alice").await;
    let nt = notetype_path(&c.get(&deck_path(&hash)).await.text);
    save_notetype(
        &mut c,
        &nt,
        &[("0", "Front", "1"), ("1", "Answer", "2")],
        &[(
            "Card 1",
            "<b>{{Front}}</b>",
            "{{FrontSide}}<hr id=answer>{{Answer}}",
        )],
        CSS,
        &[],
    )
    .await
    .expect(303, "renamed");
    let out = s.cli(&["review", "approve", &id.to_string()]).await;
    assert!(!out.ok(), "approving everything would undo the rename");
    assert!(
        out.stderr.contains("changed since this suggestion"),
        "{}",
        out.stderr
    );
    let base = format!("/console/review/{id}");
    let row = ids(&c.get(&base).await.text, "notetype");
    c.submit(&base, &format!("{base}/notetype/{}/accept", row[0]), &[])
        .await
        .expect(409, "accepting it alone");
    c.submit(&base, &format!("{base}/notetype/{}/deny", row[0]), &[])
        .await
        .expect(303, "denied");
    assert!(
        c.get(&base).await.text.contains(">denied<"),
        "the notetype change was all it changed"
    );
    let pull = s.pull_since(&hash, FIRST_PULL_TS).await;
    let e = entry_for(&pull, &hash).unwrap();
    let (names, _) = pulled_layout(e);
    assert_eq!(names, ["Front", "Answer"]);
    assert_eq!(
        e["deck"]["note_models"][0]["tmpls"][0]["qfmt"],
        "<b>{{Front}}</b>"
    );
}

#[tokio::test]
async fn swapping_two_field_names_in_the_console_keeps_templates_pointing_right() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;
    let mut c = Console::of(&s, "alice").await;
    let nt = notetype_path(&c.get(&deck_path(&hash)).await.text);
    save_notetype(
        &mut c,
        &nt,
        &[("0", "Back", "1"), ("1", "Front", "2")],
        &[CARD],
        CSS,
        &[],
    )
    .await
    .expect(303, "names swapped");
    let pull = s.pull_since(&hash, FIRST_PULL_TS).await;
    let t = &entry_for(&pull, &hash).unwrap()["deck"]["note_models"][0]["tmpls"][0];
    assert_eq!(t["qfmt"], "{{Back}}", "{t}");
    assert_eq!(t["afmt"], "{{FrontSide}}<hr id=answer>{{Front}}", "{t}");
}

#[tokio::test]
async fn an_owner_push_cannot_store_field_names_anki_and_the_console_refuse() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;
    let deck = pushed_demo(
        &[
            ("Front", json!(FRONT_ID)),
            ("Front ", json!(BACK_ID)),
            ("a}}{{b:c", json!(55)),
        ],
        vec![note(
            FRANCE,
            &["What is the capital of France?", "Paris", "x"],
            &["geo"],
        )],
    );
    push(&s, &alice, &hash, &deck, true)
        .await
        .expect(200, "push");
    let (names, notes) = everything(&s, &hash).await;
    assert_eq!(names, ["Front", "Back"], "neither name is taken");
    assert!(notes.iter().any(|(_, f)| f[1] == "Paris"), "{notes:?}");
}

#[tokio::test]
async fn searching_finds_text_with_quotes_ampersands_and_angle_brackets() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let mut g = gen_deck("Wild", 3, 0);
    g.deck["notes"][0]["fields"][0] = json!("o'reilly AT&T 1<2");
    let hash = s.publish(&alice, &g.deck).await;
    let mut c = Console::of(&s, "alice").await;
    for q in ["o%27reilly", "AT%26T", "1%3C2"] {
        let page = c.get(&format!("{}?q={q}", deck_path(&hash))).await;
        assert_eq!(page.text.matches("/notes/").count(), 1, "q={q}");
    }
}
