//! §2.1: stored HTML is sanitised (fields, names, descriptions, templates), while
//! ordinary card markup survives.
mod common;

use common::*;
use serde_json::{json, Value};

const SAFE_MARKUP: [&str; 5] = [
    "<img src=\"a.png\">",
    "[sound:x.mp3]",
    "<b>",
    "<div>",
    "<br>",
];

#[track_caller]
fn assert_no_script(v: &Value, what: &str) {
    let text = serde_json::to_string(v).unwrap().to_lowercase();
    for bad in [
        "<script",
        "onerror",
        "javascript:",
        "onload",
        "onclick",
        "<iframe",
    ] {
        assert!(
            !text.contains(bad),
            "{what}: `{bad}` survived sanitising: {text}"
        );
    }
}

fn dangerous_deck(name: &str, uuid: &str) -> Value {
    let mut model = basic_model();
    model["name"] = json!("Evil <script>alert(5)</script>Model");
    model["tmpls"][0]["qfmt"] =
        json!("{{Front}}<script>alert(4)</script><img src=\"x.png\" onerror=\"alert(4)\">");
    model["tmpls"][0]["name"] = json!("Card <script>alert(4)</script>1");
    model["flds"][1]["name"] = json!("Back<script>alert(4)</script>");
    let mut d = root_deck(
        name,
        uuid,
        "Desc <b>bold</b><script>alert(3)</script><a href=\"javascript:alert(3)\">link</a>",
        vec![
            note(
                "Danger0001",
                &[
                    "Safe <b>bold</b><div>block</div><br><img src=\"a.png\"> [sound:x.mp3]<script>alert(1)</script>",
                    "<img src=\"a.png\" onerror=\"alert(1)\"><a href=\"javascript:alert(1)\">click</a>",
                ],
                &["tag<script>alert(2)</script>"],
            ),
            note("Danger0002", &["<svg onload=alert(2)><b>x</b>", "<iframe src=\"javascript:alert(2)\"></iframe>plain"], &[]),
        ],
        vec![child_deck("Sub <script>alert(3)</script>deck", vec![note("Danger0003", &["child <b>ok</b>", "<p onclick=\"alert(2)\">p</p>"], &[])], vec![])],
    );
    d["note_models"] = json!([model]);
    // Notes must point at the renamed model (same uuid).
    d
}

#[tokio::test]
async fn published_content_is_sanitised_and_markup_survives() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let uuid = new_uuid();
    let deck = dangerous_deck("Danger <script>alert(3)</script>Deck", &uuid);
    let r = s.publish_raw(&alice, &deck).await;
    r.expect(200, "publish");
    let v = r.json();
    assert_eq!(v["status"], 1, "{v}");
    let hash = v["message"].as_str().unwrap().to_string();
    let pull = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert_eq!(pull.as_array().unwrap().len(), 1);
    assert_no_script(&pull, "pull of a published deck");
    let d = &pull[0]["deck"];
    let n1 = find_note(d, "Danger0001").expect("note 1 kept");
    let f0 = n1["fields"][0].as_str().unwrap();
    for safe in SAFE_MARKUP {
        assert!(f0.contains(safe), "`{safe}` must survive: {f0:?}");
    }
    assert!(f0.contains("Safe "), "{f0:?}");
    let f1 = n1["fields"][1].as_str().unwrap();
    assert!(
        f1.contains("<img src=\"a.png\">") && f1.contains("click"),
        "{f1:?}"
    );
    assert!(
        d["desc"].as_str().unwrap().contains("<b>bold</b>"),
        "{}",
        d["desc"]
    );
    assert!(
        d["name"].as_str().unwrap().contains("Danger"),
        "{}",
        d["name"]
    );
    let n2 = find_note(d, "Danger0002").expect("note 2 kept");
    assert!(n2["fields"][0].as_str().unwrap().contains("<b>x</b>"));
    assert!(n2["fields"][1].as_str().unwrap().contains("plain"));
    let models = d["note_models"].as_array().unwrap();
    assert!(
        models[0]["tmpls"][0]["qfmt"]
            .as_str()
            .unwrap()
            .contains("{{Front}}"),
        "template keeps its field reference"
    );
    assert!(models[0]["name"].as_str().unwrap().contains("Evil"));
    // Child name sanitised but present.
    let child = &d["children"][0];
    assert!(child["name"].as_str().unwrap().contains("Sub"), "{child}");
    let n3 = find_note(d, "Danger0003").unwrap();
    assert_eq!(n3["fields"][0], "child <b>ok</b>");
    // GetProtectedFields is also clean JSON.
    let pf = s.get(&format!("/GetProtectedFields/{hash}"), None).await;
    pf.expect(200, "protected fields");
    assert_no_script(&pf.json(), "protected fields");
}

#[tokio::test]
async fn plain_text_passes_through_unchanged() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let uuid = new_uuid();
    let fields = ["2 < 3 and 5 > 4 & so on", "Tom's \"quoted\" text — ünïcödé"];
    let deck = root_deck(
        "Plain Text",
        &uuid,
        "",
        vec![note("PlainText1", &fields, &["plain"])],
        vec![],
    );
    let hash = s.publish(&alice, &deck).await;
    let pull = s.pull_since(&hash, FIRST_PULL_TS).await;
    let n = find_note(&pull[0]["deck"], "PlainText1").unwrap();
    // Entities may be normalised by an HTML sanitiser; the text content must remain.
    let f0 = n["fields"][0].as_str().unwrap();
    assert!(
        f0 == fields[0] || f0 == "2 &lt; 3 and 5 &gt; 4 &amp; so on",
        "{f0:?}"
    );
    let f1 = n["fields"][1].as_str().unwrap();
    assert!(f1.contains("Tom's") || f1.contains("Tom&#39;s"), "{f1:?}");
    assert!(f1.contains("ünïcödé"), "{f1:?}");
}

#[tokio::test]
async fn force_overwrite_and_approved_suggestions_are_sanitised() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let hash = s.publish_demo(&alice).await;
    let ts = sync_point().await;
    let r = s
        .suggest(
            &alice,
            &hash,
            DEMO_NAME,
            DEMO_UUID,
            vec![note(
                "AbCdEf1234",
                &[
                    "Capital? <script>alert(1)</script>",
                    "<b>Paris</b><img src=\"a.png\" onerror=\"alert(1)\">",
                ],
                &["geo"],
            )],
            "",
            true,
        )
        .await;
    r.expect(200, "owner force_overwrite");
    let r = s
        .suggest(
            &bob,
            &hash,
            DEMO_NAME,
            DEMO_UUID,
            vec![note(
                "XyZ9876543",
                &[
                    "Colour? <a href=\"javascript:alert(2)\">x</a>",
                    "<div>red</div>[sound:x.mp3]<script>alert(2)</script>",
                ],
                &["colours", "geo"],
            )],
            "commit <script>alert(3)</script>text",
            false,
        )
        .await;
    r.expect(200, "bob suggestion");
    let id = commit_id(&s.only_pending(&hash).await);
    s.approve(id).await;
    let pull = s.pull_since(&hash, &ts).await;
    assert_no_script(&pull, "pull after force + approval");
    let d = &pull[0]["deck"];
    let a = find_note(d, "AbCdEf1234").unwrap();
    assert!(a["fields"][0].as_str().unwrap().starts_with("Capital?"));
    assert!(a["fields"][1].as_str().unwrap().contains("<b>Paris</b>"));
    assert!(a["fields"][1]
        .as_str()
        .unwrap()
        .contains("<img src=\"a.png\">"));
    let x = find_note(d, "XyZ9876543").unwrap();
    assert!(
        x["fields"][1]
            .as_str()
            .unwrap()
            .contains("<div>red</div>[sound:x.mp3]"),
        "{}",
        x["fields"][1]
    );
    // The commit text shown to the author is clean too.
    let snap = s.get(&format!("/GetCommitSnapshot/{id}"), Some(&bob)).await;
    snap.expect(200, "snapshot");
    assert_no_script(&snap.json(), "commit snapshot");
}
