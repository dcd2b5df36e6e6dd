//! §2.1: stored HTML is sanitised (fields, names, descriptions, templates), while
//! ordinary card markup survives. Fields and tags are checked the way Anki shows them:
//! substituted into card templates (as text, inside quoted attributes, side by side)
//! and parsed by a real HTML5 tokenizer.
use deckd_testkit as common;

use std::cell::RefCell;

use common::*;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};
use serde_json::{json, Value};

const SAFE_MARKUP: [&str; 5] = ["<img src=a.png>", "[sound:x.mp3]", "<b>", "<div>", "<br>"];

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
        f1.contains("<img src=a.png>") && f1.contains("click"),
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
        .suggest_forced(
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
    assert!(a["fields"][1].as_str().unwrap().contains("<img src=a.png>"));
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

// ---------------------------------------------------------------------------------------
// Fields and tags as Anki renders them
// ---------------------------------------------------------------------------------------

/// Card templates that place fields and tags as text, inside double- and single-quoted
/// attributes, and side by side.
const TEMPLATES: &[&str] = &[
    "{{Front}}{{Back}}",
    "{{Front}}<br>{{Back}} {{Tags}}",
    "<img src=\"{{Front}}\">",
    "<img src='{{Back}}'>",
    "<div title='{{Back}}'>x</div>",
    "<div title=\"{{Front}}{{Back}}\">x</div>",
    "<a href=\"{{Front}}\">x</a>",
    "<a href='{{Tags}}'>x</a>",
    "<span class=\"{{Tags}}\">t</span>",
    "<span class='{{Tags}}'>t</span>",
];

/// What Anki does with a template: plain substitution of field text and space-separated tags.
fn render(template: &str, front: &str, back: &str, tags: &[String]) -> String {
    template
        .replace("{{Front}}", front)
        .replace("{{Back}}", back)
        .replace("{{Tags}}", &tags.join(" "))
}

/// One start tag as the HTML5 tokenizer saw it: name and (attribute, value) pairs.
type StartTag = (String, Vec<(String, String)>);

#[derive(Default)]
struct Tags(RefCell<Vec<StartTag>>);

impl TokenSink for Tags {
    type Handle = ();
    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if let Token::TagToken(t) = token {
            if t.kind == TagKind::StartTag {
                let attrs = t
                    .attrs
                    .iter()
                    .map(|a| (a.name.local.to_string(), a.value.to_string()))
                    .collect();
                self.0.borrow_mut().push((t.name.to_string(), attrs));
            }
        }
        TokenSinkResult::Continue
    }
}

/// The start tags of `html`, tokenized by html5ever.
fn start_tags(html: &str) -> Vec<StartTag> {
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tok = Tokenizer::new(Tags::default(), Default::default());
    let _ = tok.feed(&input);
    tok.end();
    tok.sink.0.take()
}

/// A URL scheme that runs script, as a browser reads the attribute (whitespace and
/// controls inside the scheme are ignored).
fn is_script_url(value: &str) -> bool {
    let folded: String = value
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .collect::<String>()
        .to_lowercase();
    ["javascript:", "vbscript:", "livescript:"]
        .iter()
        .any(|s| folded.starts_with(s))
}

/// Renders a stored note through every template and checks what the browser would see.
#[track_caller]
fn assert_renders_safely(front: &str, back: &str, tags: &[String], what: &str) {
    for template in TEMPLATES {
        let html = render(template, front, back, tags);
        let expected = start_tags(&render(template, "F", "B", &["t".to_string()]));
        let got = start_tags(&html);
        let ctx = || format!("{what}: template {template:?} rendered {html:?}");
        for (name, attrs) in &got {
            assert!(
                ![
                    "script", "iframe", "object", "embed", "svg", "math", "style", "base", "meta",
                    "link"
                ]
                .contains(&name.as_str()),
                "<{name}> in {}",
                ctx()
            );
            for (attr, value) in attrs {
                assert!(
                    !attr.starts_with("on"),
                    "event handler `{attr}` in {}",
                    ctx()
                );
                assert!(!is_script_url(value), "script URL in `{attr}` in {}", ctx());
                let style: String = value
                    .to_lowercase()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                if attr == "style" {
                    for bad in ["url(", "expression(", "javascript:", "@import", "behavior"] {
                        assert!(!style.contains(bad), "`{bad}` in a style in {}", ctx());
                    }
                }
            }
        }
        if template.contains("=\"{{") || template.contains("='{{") {
            // The fields sit inside an attribute: the template's tags are the only ones,
            // with exactly the attributes the template opened.
            let names = |t: &[StartTag]| {
                t.iter()
                    .map(|(n, a)| (n.clone(), a.iter().map(|x| x.0.clone()).collect::<Vec<_>>()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                names(&got),
                names(&expected),
                "attributes changed in {}",
                ctx()
            );
        }
    }
}

/// The fields and tags of every note of a pulled deck.
fn pulled_notes(pull: &Value) -> Vec<(String, String, String, Vec<String>)> {
    all_notes(&pull[0]["deck"])
        .iter()
        .map(|n| {
            let f = |i: usize| n["fields"][i].as_str().unwrap_or_default().to_string();
            let tags = n["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect();
            (n["guid"].as_str().unwrap().to_string(), f(0), f(1), tags)
        })
        .collect()
}

#[track_caller]
fn assert_tag_is_clean(tag: &str) {
    assert!(
        !tag.is_empty()
            && !tag.contains(['<', '>', '"', '\'', '&', '`', '='])
            && !tag.contains(char::is_whitespace),
        "tag {tag:?}"
    );
    assert!(
        !is_script_url(tag) && !tag.to_lowercase().starts_with("data:"),
        "tag {tag:?} starts a script URL"
    );
}

/// Field pairs from the attack on the current build; each pair is one note's Front and Back.
const FIELD_ATTACKS: &[(&str, &str)] = &[
    (
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<span style=\"color: red; background-image: url('http://evil.example/t.png')\">y</span>",
    ),
    ("<img src=x title='", "' onerror='alert(1)'>"),
    ("<img src=x title=\"", "\" onerror=\"alert(1)\">"),
    ("\" onerror=\"alert(1)", "' onmouseover='alert(1)"),
    ("javascript:alert(1)", " \tJaVa\tScRiPt:alert(1)"),
    (
        "<b title=\"x onerror=alert(1) y\">b</b>",
        "<img src=\"a.png\" title=\"a' onerror='alert(1) b\">",
    ),
    (
        "<a href=\"java&#x09;script:alert(1)\">x</a>",
        "` onerror=alert(1) `",
    ),
    (
        "<div style=\"width: expression(alert(1))\">w</div>",
        "<p style=\"behavior: url(x.htc); color: blue\">p</p>",
    ),
    (
        "<svg><script>alert(1)</script></svg>",
        "<math><mi xlink:href=\"javascript:alert(1)\">m</mi></math>",
    ),
    (
        "<div style=\"background:u\\72l(javascript:alert(1))\">e</div>",
        "<div style=\"color:red;/* x */background:url(y)\">c</div>",
    ),
];

const TAG_ATTACKS: &[&str] = &[
    "javascript:alert(1)",
    "onerror=alert(1)",
    "x\"onmouseover=\"alert(1)",
    "<img/src/onerror=alert(1)>",
    "'onfocus='alert(1)",
    "`x`",
    "R&amp;D",
    "VBScript:msgbox",
    "data:text/html,x",
    "plain_tag",
];

fn attack_notes() -> Vec<Value> {
    let tags: Vec<&str> = TAG_ATTACKS.to_vec();
    FIELD_ATTACKS
        .iter()
        .enumerate()
        .map(|(i, (f, b))| note(&format!("Attack{i:04}"), &[f, b], &tags))
        .collect()
}

#[track_caller]
fn assert_pull_is_safe(pull: &Value, what: &str) -> Vec<(String, String, String, Vec<String>)> {
    let notes = pulled_notes(pull);
    for (guid, front, back, tags) in &notes {
        for tag in tags {
            assert_tag_is_clean(tag);
        }
        assert_renders_safely(front, back, tags, &format!("{what}, note {guid}"));
    }
    notes
}

#[tokio::test]
async fn published_attacks_are_safe_in_every_template_context() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let deck = root_deck("Attacks", &new_uuid(), "", attack_notes(), vec![]);
    let hash = s.publish(&alice, &deck).await;
    let pull = s.pull_since(&hash, FIRST_PULL_TS).await;
    let notes = assert_pull_is_safe(&pull, "publish");
    // A note whose first field is empty once cleaned (`<img src=x title='`) is not served,
    // like any note with an empty first field.
    assert!(
        notes.len() >= FIELD_ATTACKS.len() - 1,
        "the other notes are kept: {}",
        notes.len()
    );
    let first = notes.iter().find(|n| n.0 == "Attack0000").unwrap();
    assert!(
        first.2.contains("color:") && first.2.contains("red"),
        "a harmless declaration survives: {:?}",
        first.2
    );
    let tags = &first.3;
    assert!(tags.contains(&"plain_tag".to_string()), "{tags:?}");
    assert!(
        !tags.iter().any(|t| t.to_lowercase().contains("script:")),
        "script-scheme tags are dropped: {tags:?}"
    );
}

#[tokio::test]
async fn suggested_and_approved_attacks_are_safe_in_every_template_context() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let hash = s.publish_demo(&alice).await;
    let ts = sync_point().await;
    let mut notes = attack_notes();
    // An existing note edited with the attack too (review applies field and tag changes).
    notes.push(note(
        "AbCdEf1234",
        &[FIELD_ATTACKS[1].0, FIELD_ATTACKS[1].1],
        &TAG_ATTACKS[..4],
    ));
    let r = s
        .suggest(&bob, &hash, DEMO_NAME, DEMO_UUID, notes, "attack")
        .await;
    r.expect(200, "bob's suggestion");
    s.approve(commit_id(&s.only_pending(&hash).await)).await;
    let pull = s.pull_since(&hash, &ts).await;
    let got = assert_pull_is_safe(&pull, "approved suggestion");
    assert!(
        got.len() >= FIELD_ATTACKS.len(),
        "new and edited notes are pulled: {}",
        got.len()
    );
    let r = s
        .suggest_forced(&alice, &hash, DEMO_NAME, DEMO_UUID, attack_notes())
        .await;
    r.expect(200, "owner's force overwrite");
    let pull = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert_pull_is_safe(&pull, "force overwrite");
}

/// Pieces an attacker can split across two fields and the tags.
const SNIPPETS: &[&str] = &[
    "<img src=x title='",
    "' onerror='alert(1)'>",
    "\"",
    "'",
    "`",
    " onerror=alert(1) ",
    "<img src=x ",
    "onload=",
    "alert(1)>",
    "javascript:",
    "JaVa&#x0A;ScRiPt:",
    "&#106;avascript:",
    "<a href=\"",
    "\">",
    "<div style=\"",
    "background:url(javascript:x)",
    "\" onmouseover=\"x",
    "<b>",
    "</b>",
    "<",
    ">",
    "&",
    "&quot;",
    "&#39;",
    "<!--",
    "-->",
    "<svg/onload=alert(1)>",
    "<style>",
    "x:expression(alert(1))",
    "<p title=\"a b c\">",
    "plain text ",
    "[sound:x.mp3]",
    "{{c1::Paris}}",
    "<br",
    "/",
    "=",
];

const TAG_SNIPPETS: &[&str] = &[
    "javascript:",
    "onerror=",
    "\"",
    "'",
    "<",
    ">",
    "&",
    "`",
    "x",
    "alert(1)",
    " ",
    "data:",
    "=",
    "vbscript:",
];

/// A small deterministic generator (xorshift), so failures can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn join(&mut self, from: &[&str], max: usize) -> String {
        (0..1 + self.below(max))
            .map(|_| from[self.below(from.len())])
            .collect()
    }
}

#[tokio::test]
async fn random_combinations_of_dangerous_snippets_stay_safe() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let mut rng = Rng(0x5eed_c0ff_ee15_bad1);
    let mut generate = |prefix: &str| -> Vec<Value> {
        (0..300)
            .map(|i| {
                let (front, back) = (rng.join(SNIPPETS, 5), rng.join(SNIPPETS, 5));
                let tags: Vec<String> = (0..rng.below(4))
                    .map(|_| rng.join(TAG_SNIPPETS, 3))
                    .collect();
                let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
                note(&format!("{prefix}{i:05}"), &[&front, &back], &tags)
            })
            .collect()
    };
    let uuid = new_uuid();
    let published = generate("Pub");
    let hash = s
        .publish(&alice, &root_deck("Random", &uuid, "", published, vec![]))
        .await;
    let ts = sync_point().await;
    assert!(
        assert_pull_is_safe(&s.pull_since(&hash, FIRST_PULL_TS).await, "random publish").len()
            > 250,
        "most notes keep a first field"
    );
    let suggested = generate("Sug");
    s.suggest(&bob, &hash, "Random", &uuid, suggested, "random")
        .await
        .expect(200, "suggestion");
    s.approve(commit_id(&s.only_pending(&hash).await)).await;
    assert!(
        assert_pull_is_safe(&s.pull_since(&hash, &ts).await, "random suggestion").len() > 250,
        "most notes keep a first field"
    );
}

/// Text and attributes of `html` as a browser sees them (character references decoded,
/// style declarations without whitespace), for comparing renderings.
fn rendering(html: &str) -> (Vec<StartTag>, String) {
    let tags = start_tags(html)
        .into_iter()
        .map(|(n, mut a)| {
            a.sort();
            for (k, v) in &mut a {
                if k == "style" {
                    v.retain(|c| !c.is_whitespace());
                }
            }
            (n, a)
        })
        .collect();
    struct Text<'a>(&'a RefCell<String>);
    impl TokenSink for Text<'_> {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            if let Token::CharacterTokens(t) = token {
                self.0.borrow_mut().push_str(&t);
            }
            TokenSinkResult::Continue
        }
    }
    let cell = RefCell::new(String::new());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tok = Tokenizer::new(Text(&cell), Default::default());
    let _ = tok.feed(&input);
    tok.end();
    (tags, cell.take())
}

#[tokio::test]
async fn ordinary_card_html_renders_the_same_after_sanitising() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let ordinary = [
        "<b>bold</b> <i>it</i> <u>u</u><br>next",
        "<div style=\"color: red\">red</div>",
        "<img src=\"x.png\"> and <img src=\"my photo.jpg\" alt=\"a 'quoted' photo\">",
        "[sound:x.mp3] {{c1::Paris::capital}} &nbsp;spaced",
        "MathJax \\(x < y\\) and \\(a&lt;b\\)",
        "<ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby>",
        "<table><tbody><tr><td>a</td><td>b</td></tr></tbody></table>",
        "<ul><li>one</li><li>two</li></ul><ol><li>x</li></ol>",
        "Tom's \"quoted\" text & more",
        "<font color=\"#ff0000\" face=\"Arial\">f</font><span class=\"a b\">s</span>",
    ];
    let notes = ordinary
        .iter()
        .enumerate()
        .map(|(i, f)| note(&format!("Ordinary{i:02}"), &[f, "b"], &["ok"]))
        .collect();
    let hash = s
        .publish(
            &alice,
            &root_deck("Ordinary", &new_uuid(), "", notes, vec![]),
        )
        .await;
    let pull = s.pull_since(&hash, FIRST_PULL_TS).await;
    for (i, original) in ordinary.iter().enumerate() {
        let n = find_note(&pull[0]["deck"], &format!("Ordinary{i:02}")).unwrap();
        let stored = n["fields"][0].as_str().unwrap();
        assert_eq!(
            rendering(stored),
            rendering(original),
            "{original:?} is stored as {stored:?}"
        );
        assert!(
            !stored.contains(['"', '\'', '`']),
            "a stored field never holds a quote: {stored:?}"
        );
        assert_eq!(n["tags"], json!(["ok"]));
    }
}
