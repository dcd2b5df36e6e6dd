//! Reviewing in the web console: the queue of my decks only, a suggestion's changes as
//! word diffs, deciding change by change (and editing first), whole decisions with a
//! reason, live counts over Server-Sent Events, media previews, and escaping.

use deckd_testkit as common;

use common::console::{location, Console};
use common::media::*;
use common::*;
use futures_util::StreamExt;
use serde_json::{json, Value};

const FRONT: &str = "What is the capital of France?";

/// Alice publishes the demo deck; Bob (who also subscribes) suggests a change.
struct World {
    s: TestServer,
    hash: String,
    bob: String,
}

async fn world() -> World {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let hash = s.publish_demo(&alice).await;
    World { s, hash, bob }
}

/// Bob's suggestion for the first note: both fields and one tag.
async fn suggest_both_fields(w: &World) -> deckd::store::CommitId {
    w.s.suggest(
        &w.bob,
        &w.hash,
        DEMO_NAME,
        DEMO_UUID,
        vec![note(
            "AbCdEf1234",
            &["What is the capital city of France?", "Paris, France"],
            &["geo", "capital"],
        )],
        "two fixes",
    )
    .await
    .expect(200, "suggestion");
    commit_id(&w.s.only_pending(&w.hash).await)
}

/// The ids a page gives in `data-<what>="…"` attributes, in page order.
fn ids(page: &str, what: &str) -> Vec<String> {
    let marker = format!("data-{what}=\"");
    page.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &page[at + marker.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

async fn first_note_after_pull(w: &World) -> Value {
    let pulled = w.s.pull_since(&w.hash, FIRST_PULL_TS).await;
    let deck = &entry_for(&pulled, &w.hash).expect("the deck")["deck"];
    find_note(deck, "AbCdEf1234").expect("the note")
}

#[tokio::test]
async fn one_field_accepted_another_denied_reaches_subscribers_exactly() {
    let w = world().await;
    let id = suggest_both_fields(&w).await;
    let mut alice = Console::of(&w.s, "alice").await;
    let queue = alice.get("/console/review").await;
    queue.expect(200, "queue");
    assert_eq!(ids(&queue.text, "commit"), vec![id.to_string()]);
    assert!(queue.text.contains("two fixes"));

    let page_path = format!("/console/review/{id}");
    let page = alice.get(&page_path).await;
    page.expect(200, "suggestion page");
    assert!(
        page.text
            .contains("What is the capital <ins>city </ins>of France?"),
        "{}",
        page.text
    );
    assert!(page
        .text
        .contains("<del>Paris</del><ins>Paris, France</ins>"));
    assert!(page.text.contains("+ capital"));
    let fields = ids(&page.text, "field");
    let tags = ids(&page.text, "tag");
    assert_eq!((fields.len(), tags.len()), (2, 1), "{}", page.text);

    let accept_front = alice
        .submit(
            &page_path,
            &format!("{page_path}/field/{}/accept", fields[0]),
            &[],
        )
        .await;
    assert_eq!(location(&accept_front), page_path);
    let half = alice.get(&page_path).await;
    assert!(half.text.contains(">pending<"), "still open: {}", half.text);
    assert_eq!(ids(&half.text, "field"), vec![fields[1].clone()]);
    // Accepted at once: subscribers see the front already.
    let n = first_note_after_pull(&w).await;
    assert_eq!(
        n["fields"],
        json!(["What is the capital city of France?", "Paris"])
    );

    alice
        .submit(
            &page_path,
            &format!("{page_path}/field/{}/deny", fields[1]),
            &[],
        )
        .await
        .expect(303, "deny the back");
    alice
        .submit(
            &page_path,
            &format!("{page_path}/tag/{}/accept", tags[0]),
            &[],
        )
        .await
        .expect(303, "accept the tag");
    let closed = alice.get(&page_path).await;
    assert!(closed.text.contains(">approved<"), "{}", closed.text);
    assert!(
        !closed.text.contains("/accept\""),
        "no actions on a closed suggestion"
    );
    assert!(ids(&alice.get("/console/review").await.text, "commit").is_empty());

    let n = first_note_after_pull(&w).await;
    assert_eq!(
        n["fields"],
        json!(["What is the capital city of France?", "Paris"])
    );
    let tags: Vec<&str> = n["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        tags.contains(&"capital") && tags.contains(&"geo"),
        "{tags:?}"
    );

    let notes = w.s.get("/GetNotifications", Some(&w.bob)).await.json();
    let item = &notes["groups"][0]["notifications"][0];
    assert_eq!(item["status"], "approved", "{notes}");
    assert_eq!(item["commit_id"].as_i64(), Some(id.0));
}

#[tokio::test]
async fn denying_every_change_closes_the_suggestion_as_denied() {
    let w = world().await;
    let id = suggest_both_fields(&w).await;
    let mut alice = Console::of(&w.s, "alice").await;
    let page_path = format!("/console/review/{id}");
    let page = alice.get(&page_path).await;
    for (kind, row) in ids(&page.text, "field")
        .into_iter()
        .map(|r| ("field", r))
        .chain(ids(&page.text, "tag").into_iter().map(|r| ("tag", r)))
    {
        alice
            .submit(&page_path, &format!("{page_path}/{kind}/{row}/deny"), &[])
            .await
            .expect(303, "deny");
    }
    assert!(alice.get(&page_path).await.text.contains(">denied<"));
    let n = first_note_after_pull(&w).await;
    assert_eq!(n["fields"], json!([FRONT, "Paris"]));
    let notes = w.s.get("/GetNotifications", Some(&w.bob)).await.json();
    assert_eq!(notes["groups"][0]["notifications"][0]["status"], "denied");
}

#[tokio::test]
async fn a_reviewer_edits_a_field_before_accepting_and_the_edit_is_cleaned() {
    let w = world().await;
    let id = suggest_both_fields(&w).await;
    let mut alice = Console::of(&w.s, "alice").await;
    let page_path = format!("/console/review/{id}");
    let back = ids(&alice.get(&page_path).await.text, "field")[1].clone();
    let edit_path = format!("{page_path}/field/{back}/edit");
    let edit = alice.get(&edit_path).await;
    edit.expect(200, "the edit page");
    assert!(
        edit.text.contains(">Paris, France</textarea>"),
        "{}",
        edit.text
    );
    alice
        .submit(
            &edit_path,
            &format!("{page_path}/field/{back}/edit"),
            &[("content", "<b>Paris</b> (France)<script>alert(1)</script>")],
        )
        .await
        .expect(303, "edit");
    let page = alice.get(&page_path).await;
    assert!(page.text.contains("<b>Paris</b>"), "{}", page.text);
    assert!(!page.text.contains("<script>alert"), "cleaned");
    alice
        .submit(&page_path, &format!("{page_path}/approve"), &[])
        .await
        .expect(303, "approve the rest");
    let n = first_note_after_pull(&w).await;
    assert_eq!(
        n["fields"],
        json!([
            "What is the capital city of France?",
            "<b>Paris</b> (France)"
        ])
    );
}

#[tokio::test]
async fn a_whole_denial_tells_the_author_why() {
    let w = world().await;
    let id = suggest_both_fields(&w).await;
    let mut alice = Console::of(&w.s, "alice").await;
    let page_path = format!("/console/review/{id}");
    alice
        .submit(
            &page_path,
            &format!("{page_path}/deny"),
            &[("reason", "Keep the short form")],
        )
        .await
        .expect(303, "deny");
    let notes = w.s.get("/GetNotifications", Some(&w.bob)).await.json();
    let item = &notes["groups"][0]["notifications"][0];
    assert_eq!(
        (item["status"].as_str(), item["reason"].as_str()),
        (Some("denied"), Some("Keep the short form"))
    );
    assert!(alice
        .get(&page_path)
        .await
        .text
        .contains("Keep the short form"));
    alice
        .submit(&page_path, &format!("{page_path}/approve"), &[])
        .await
        .expect(422, "a decided suggestion stays decided");
}

#[tokio::test]
async fn a_new_note_is_decided_whole() {
    let w = world().await;
    w.s.suggest(
        &w.bob,
        &w.hash,
        DEMO_NAME,
        DEMO_UUID,
        vec![note(
            "BrandNew01",
            &["Capital of Spain?", "Madrid"],
            &["geo"],
        )],
        "a new card",
    )
    .await
    .expect(200, "new note");
    let id = commit_id(&w.s.only_pending(&w.hash).await);
    let mut alice = Console::of(&w.s, "alice").await;
    let page_path = format!("/console/review/{id}");
    let page = alice.get(&page_path).await;
    assert!(page.text.contains("new note") && page.text.contains("<ins>Madrid</ins>"));
    let field = ids(&page.text, "field")[0].clone();
    alice
        .submit(
            &page_path,
            &format!("{page_path}/field/{field}/accept"),
            &[],
        )
        .await
        .expect(422, "one field of a new note");
    alice
        .submit(&page_path, &format!("{page_path}/approve"), &[])
        .await
        .expect(303, "approve");
    let pulled = w.s.pull_since(&w.hash, FIRST_PULL_TS).await;
    let deck = &entry_for(&pulled, &w.hash).unwrap()["deck"];
    assert_eq!(
        find_note(deck, "BrandNew01").unwrap()["fields"],
        json!(["Capital of Spain?", "Madrid"])
    );
}

#[tokio::test]
async fn nobody_sees_or_decides_a_queue_that_is_not_theirs() {
    let w = world().await;
    let id = suggest_both_fields(&w).await;
    let carol = w.s.user("carol").await;
    let mut other = tiny_deck();
    other["crowdanki_uuid"] = json!("11111111-2222-3333-4444-555555555555");
    other["name"] = json!("Carol's Deck");
    w.s.publish(&carol, &other).await;
    // Carol owns a deck of her own, and the box's administrator maintains nothing.
    let mut carol_c = Console::of(&w.s, "carol").await;
    w.s.create_user("root", &password_for("root")).await;
    w.s.cli(&["user", "admin", "root", "on"]).await.assert_ok();
    let mut root = Console::of(&w.s, "root").await;
    let mut bob_c = Console::of(&w.s, "bob").await;
    let page_path = format!("/console/review/{id}");
    for c in [&mut carol_c, &mut root, &mut bob_c] {
        let queue = c.get("/console/review").await;
        assert!(ids(&queue.text, "commit").is_empty(), "{}", queue.text);
        assert!(!queue.text.contains(DEMO_NAME));
        assert!(ids(&c.get("/console/review/list").await.text, "commit").is_empty());
        c.get(&page_path)
            .await
            .expect(403, "someone else's suggestion");
        c.get(&format!("{page_path}/field/1/edit"))
            .await
            .expect(403, "someone else's edit page");
        c.get(&format!("{page_path}/media?name=red1x1.png"))
            .await
            .expect(403, "someone else's media");
        let token = c.csrf("/console/account").await;
        for action in [
            "approve",
            "deny",
            "field/1/accept",
            "field/1/deny",
            "tag/1/accept",
        ] {
            c.post(&format!("{page_path}/{action}"), &[("csrf", &token)])
                .await
                .expect(403, action);
        }
        c.post(
            &format!("{page_path}/field/1/edit"),
            &[("csrf", &token), ("content", "x")],
        )
        .await
        .expect(403, "edit");
    }
    assert_eq!(commit_id(&w.s.only_pending(&w.hash).await), id, "untouched");
    // Carol's own queue shows her deck with nothing pending.
    let queue = carol_c.get("/console/review").await;
    assert!(
        queue.text.contains("Carol&#39;s Deck") || queue.text.contains("Carol&#x27;s Deck"),
        "{}",
        queue.text
    );
}

#[tokio::test]
async fn a_new_suggestion_reaches_an_open_page_over_server_sent_events() {
    let w = world().await;
    let alice = Console::of(&w.s, "alice").await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let events = http
        .get(w.s.url("/console/events"))
        .header(
            "Cookie",
            format!("deckd_session={}", alice.cookie.clone().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert_eq!(
        events.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let mut body = events.bytes_stream();
    suggest_both_fields(&w).await;
    let mut seen = String::new();
    while !seen.contains("\n\n") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(60), body.next())
            .await
            .expect("an event arrives")
            .expect("the stream stays open")
            .unwrap();
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(seen.starts_with("event: queue\n"), "{seen}");
    let data = seen.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let counts: Value = serde_json::from_str(data).unwrap();
    assert_eq!(counts["total"], 1, "{counts}");
    assert_eq!(counts["decks"][0]["hash"], json!(w.hash));
}

#[tokio::test]
async fn images_show_as_previews_for_reviewers() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let published = s.publish_raw(&alice, &tiny_deck()).await.json();
    let (hash, bulk) = (
        published["message"].as_str().unwrap().to_string(),
        published["bulk_operation_id"].as_str().unwrap().to_string(),
    );
    let mp3 = mp3_bytes(4096);
    s.upload_media(
        &alice,
        &hash,
        &[("red1x1.png", "XyZ9876543", red1x1_png())],
        &bulk,
    )
    .await;
    s.suggest(
        &bob,
        &hash,
        DEMO_NAME,
        DEMO_UUID,
        vec![note(
            "XyZ9876543",
            &[
                "Which colour is this? [sound:say.mp3]",
                "<img src=\"red1x1.png\"> red",
            ],
            &["colours", "geo"],
        )],
        "hint",
    )
    .await
    .expect(200, "suggestion");
    let id = commit_id(&s.only_pending(&hash).await);
    s.upload_media(&bob, &hash, &[("say.mp3", "XyZ9876543", mp3.clone())], "")
        .await;
    let mut c = Console::of(&s, "alice").await;
    let page = c.get(&format!("/console/review/{id}")).await;
    let sound = format!("/console/review/{id}/media?name=say.mp3");
    assert!(
        page.text.contains(&format!(
            "<audio controls preload=\"none\" src=\"{sound}\">"
        )),
        "{}",
        page.text
    );
    let audio = c.get(&sound).await;
    audio.expect(200, "the suggestion's audio");
    assert_eq!(audio.header("content-type").as_deref(), Some("audio/mpeg"));
    assert_eq!(audio.header("content-length"), Some(mp3.len().to_string()));
    let src = format!("/console/review/{id}/media?name=red1x1.png");
    assert!(
        page.text.contains(&format!("src=\"{src}\"")),
        "{}",
        page.text
    );
    let image = c.get(&src).await;
    image.expect(200, "preview");
    assert_eq!(image.header("content-type").as_deref(), Some("image/png"));
    c.get(&format!("/console/review/{id}/media?name=nothere.png"))
        .await
        .expect(404, "an unknown name");
}

#[tokio::test]
async fn user_content_is_escaped_everywhere() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let mut deck = tiny_deck();
    deck["name"] = json!("<img src=x onerror=alert(1)>");
    let hash = s.publish(&alice, &deck).await;
    let name = "<img src=x onerror=alert(1)>";
    s.suggest(
        &bob,
        &hash,
        name,
        DEMO_UUID,
        vec![note(
            "AbCdEf1234",
            &["<script>alert(2)</script>Q", "Paris"],
            &["geo", "<b>t</b>"],
        )],
        "<script>alert(3)</script>see <a href=\"javascript:alert(4)\">this</a>",
    )
    .await
    .expect(200, "suggestion");
    let id = commit_id(&s.only_pending(&hash).await);
    let mut c = Console::of(&s, "alice").await;
    for path in [
        "/console/review".to_string(),
        format!("/console/review/{id}"),
    ] {
        let page = c.get(&path).await;
        page.expect(200, &path);
        for bad in ["<img src=x onerror", "<script>alert", "javascript:alert"] {
            assert!(!page.text.contains(bad), "{bad} in {path}:\n{}", page.text);
        }
        // The deck's name, cleaned at publishing, is shown as text, never as markup.
        assert!(
            page.text.contains("&#60;img src=&#34;x&#34;&#62;"),
            "{}",
            page.text
        );
        assert!(page.text.len() < 50 * 1024);
    }
}

#[tokio::test]
async fn long_queues_and_big_suggestions_come_in_small_pages() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let uuid = new_uuid();
    let notes: Vec<Value> = (0..30)
        .map(|i| {
            note(
                &format!("Big{i:04}"),
                &[&format!("question {i}"), "answer"],
                &[],
            )
        })
        .collect();
    let hash = s
        .publish(&alice, &root_deck("Big", &uuid, "", notes, vec![]))
        .await;
    let changed: Vec<Value> = (0..30)
        .map(|i| {
            note(
                &format!("Big{i:04}"),
                &[&format!("question {i}"), "better answer"],
                &[],
            )
        })
        .collect();
    s.suggest(&bob, &hash, "Big", &uuid, changed, "all of them")
        .await
        .expect(200, "one big suggestion");
    let big = commit_id(&s.only_pending(&hash).await);
    for i in 0..50 {
        s.suggest(
            &bob,
            &hash,
            "Big",
            &uuid,
            vec![note("Big0000", &["question 0", &format!("take {i}")], &[])],
            &format!("take {i}"),
        )
        .await
        .expect(200, "one more");
    }
    let mut c = Console::of(&s, "alice").await;
    let first = c.get("/console/review").await;
    assert_eq!(ids(&first.text, "commit").len(), 50);
    assert_eq!(
        ids(&first.text, "commit")[0],
        big.to_string(),
        "oldest first"
    );
    assert!(first.text.len() < 50 * 1024, "{} bytes", first.text.len());
    let at = first.text.find("rel=\"next\"").expect("a link to the rest");
    let href_at = first.text[..at].rfind("href=\"").unwrap() + "href=\"".len();
    let href = first.text[href_at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let second = c.get(&href).await;
    assert_eq!(ids(&second.text, "commit").len(), 1, "51 in all");
    assert!(!second.text.contains("rel=\"next\""));

    let page_path = format!("/console/review/{big}");
    let page = c.get(&page_path).await;
    assert_eq!(ids(&page.text, "field").len(), 20);
    assert!(page.text.contains("Notes 1–20 of 30"), "{}", page.text);
    assert!(page.text.len() < 50 * 1024);
    let rest = c.get(&format!("{page_path}?page=2")).await;
    assert_eq!(ids(&rest.text, "field").len(), 10);
    assert!(rest.text.contains("Notes 21–30 of 30"));
    let beyond = c.get(&format!("{page_path}?page=99")).await;
    beyond.expect(200, "a page past the end is empty, not an error");
    assert!(ids(&beyond.text, "field").is_empty());
}

/// Words enough for a field of about `bytes` bytes, different for each `seed`.
fn prose(seed: usize, bytes: usize) -> String {
    let mut out = String::new();
    let mut i = 0;
    while out.len() < bytes {
        out.push_str(&format!("word{seed}x{i} "));
        i += 1;
    }
    out
}

#[tokio::test]
async fn long_fields_page_by_size_and_a_huge_field_is_linked_not_shown() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let uuid = new_uuid();
    let guid = |i: usize| format!("Long{i:04}");
    let notes: Vec<Value> = (0..20)
        .map(|i| note(&guid(i), &[&format!("q {i}"), &prose(i, 3000)], &[]))
        .collect();
    let hash = s
        .publish(&alice, &root_deck("Long", &uuid, "", notes, vec![]))
        .await;
    let mut changed: Vec<Value> = (0..20)
        .map(|i| note(&guid(i), &[&format!("q {i}"), &prose(100 + i, 3000)], &[]))
        .collect();
    changed[7] = note(&guid(7), &["q 7", &prose(999, 40_000)], &[]);
    s.suggest(&bob, &hash, "Long", &uuid, changed, "rewrite")
        .await
        .expect(200, "a suggestion of long fields");
    let id = commit_id(&s.only_pending(&hash).await);

    let mut c = Console::of(&s, "alice").await;
    let (mut path, mut fields, mut pages) = (format!("/console/review/{id}"), Vec::new(), 0);
    loop {
        let page = c.get(&path).await;
        page.expect(200, "a page of the suggestion");
        pages += 1;
        assert!(
            page.text.len() < 50 * 1024,
            "page {pages} is {} bytes",
            page.text.len()
        );
        fields.extend(ids(&page.text, "field"));
        if page.text.contains("word999x") {
            panic!("the 40 KB field is shown inline on page {pages}");
        }
        match page.text.find("rel=\"next\"") {
            Some(at) => {
                let href_at = page.text[..at].rfind("href=\"").unwrap() + "href=\"".len();
                path = page.text[href_at..].split('"').next().unwrap().to_string();
            }
            None => break,
        }
    }
    assert_eq!(fields.len(), 20, "every change is on some page, once");
    let distinct: std::collections::BTreeSet<_> = fields.iter().collect();
    assert_eq!(distinct.len(), 20);
    assert!(pages > 2, "6 KB a note cannot fit 20 notes on one page");

    let mut linked = None;
    for p in 1..=pages {
        let page = c.get(&format!("/console/review/{id}?page={p}")).await;
        if let Some(at) = page.text.find("read it whole") {
            let href_at = page.text[..at].rfind("href=\"").unwrap() + "href=\"".len();
            linked = Some(page.text[href_at..].split('"').next().unwrap().to_string());
        }
    }
    let edit = c
        .get(&linked.expect("the long field links to its own page"))
        .await;
    edit.expect(200, "the long field's own page");
    assert!(edit.text.contains("word999x0 "), "the whole field is there");
}

#[tokio::test]
async fn a_live_page_ends_with_its_session_and_gives_its_places_back() {
    let w = world().await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let open_page = |cookie: String| {
        http.get(w.s.url("/console/events"))
            .header("Cookie", format!("deckd_session={cookie}"))
            .send()
    };
    // Someone holding a copy of one of alice's sessions keeps four live pages open.
    let thief = Console::of(&w.s, "alice").await;
    let mut stolen = Vec::new();
    for _ in 0..4 {
        let r = open_page(thief.cookie.clone().unwrap()).await.unwrap();
        assert_eq!(r.status(), 200);
        stolen.push(r);
    }
    // Alice changes her password, which ends every other sign-in; a suggestion arrives.
    let mut alice = Console::of(&w.s, "alice").await;
    let pw = password_for("alice");
    alice
        .submit(
            "/console/account",
            "/console/account/password",
            &[
                ("current", pw.as_str()),
                ("new", "a brand new password 123"),
            ],
        )
        .await
        .expect(303, "password changed");
    suggest_both_fields(&w).await;
    // Each of the ended session's streams closes without sending alice's counts.
    for mut r in stolen {
        let mut got = String::new();
        let ended = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            while let Some(chunk) = r.chunk().await.unwrap_or(None) {
                got.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await;
        assert!(ended.is_ok(), "a stream outlived its session: {got}");
        assert!(
            !got.contains("event: queue"),
            "sent after the session ended: {got}"
        );
    }
    // Her own page gets its place (the server has noticed the closed streams).
    let start = std::time::Instant::now();
    while open_page(alice.cookie.clone().unwrap())
        .await
        .unwrap()
        .status()
        != 200
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the ended session's streams kept their places"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn live_pages_are_bounded_per_account_and_overall_so_the_add_on_keeps_its_connections() {
    let w = world().await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let open_page = |c: &Console<'_>| {
        http.get(w.s.url("/console/events"))
            .header(
                "Cookie",
                format!("deckd_session={}", c.cookie.clone().unwrap()),
            )
            .send()
    };
    let alice = Console::of(&w.s, "alice").await;
    let mut alices = Vec::new();
    for _ in 0..4 {
        let r = open_page(&alice).await.unwrap();
        assert_eq!(r.status(), 200);
        alices.push(r);
    }
    let refused = open_page(&alice).await.unwrap();
    assert_eq!(refused.status(), 429, "a fifth page of one account");
    assert!(refused.headers().contains_key("retry-after"));

    // Seven more accounts fill the rest; the next account is refused with 503.
    let mut others = Vec::new();
    for i in 0..7 {
        let c = Console::signed_in(&w.s, &format!("reader{i}")).await;
        for _ in 0..4 {
            let r = open_page(&c).await.unwrap();
            assert_eq!(r.status(), 200, "reader{i}'s pages are their own share");
            others.push(r);
        }
    }
    let late = Console::signed_in(&w.s, "late").await;
    let refused = open_page(&late).await.unwrap();
    assert_eq!(refused.status(), 503, "32 pages are open");
    assert!(refused.headers().contains_key("retry-after"));
    // The add-on is still served.
    w.s.pull_since(&w.hash, FIRST_PULL_TS).await;

    // A closed page gives its places back (the server notices the closed connection).
    drop(alices.pop());
    let start = std::time::Instant::now();
    loop {
        let r = open_page(&alice).await.unwrap();
        if r.status() == 200 {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "a closed stream never gave its place back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
