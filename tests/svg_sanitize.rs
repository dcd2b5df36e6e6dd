//! `/media/sanitize/svg` and `.svg` uploads: the sanitised SVG references nothing outside
//! itself, carries no script, handler or animation, is a fixed point, and deep nesting is
//! refused quickly with a 4xx and little memory.
use deckd_testkit as common;

use common::media::*;
use common::*;
use quick_xml::events::Event;
use serde_json::{json, Value};

const NS: &str = r#"xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink""#;

/// SVGs from the attack on the current build, each with something active or external.
fn attacks() -> Vec<String> {
    [
        r#"<a><animate attributeName="href" values="javascript:alert(1);https://evil.example"/><text>x</text></a>"#,
        r#"<a><set attributeName="href" to="javascript:alert(1)"/><text>y</text></a>"#,
        r#"<rect width="5" height="5"><animateTransform attributeName="transform" type="rotate" from="0" to="90" dur="1s"/><animateMotion path="M0 0L9 9" dur="1s"/><discard begin="1s"/></rect>"#,
        r#"<image href="https://evil.example/x.png" width="5" height="5"/><use xlink:href="http://evil.example/s.svg#a"/><use href="//evil.example/s.svg#a"/>"#,
        r#"<rect width="5" height="5" style="fill:url(http://evil.example/p.svg#g)" fill="url(https://evil.example/p.svg#g)" stroke="url('//evil.example/#g')"/>"#,
        r#"<style>@import url(http://evil.example/x.css); rect { fill: url(https://evil.example/#g) }</style><rect width="1" height="1"/>"#,
        r#"<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"><text>d</text></a><image href="data:text/html;base64,PHNjcmlwdD4=" width="1" height="1"/><image href="data:image/svg+xml;base64,PHN2Zz4=" width="1" height="1"/>"#,
        r#"<a href="&#106;avascript:alert(1)"><text>e</text></a><a xlink:href="java&#x09;script:alert(1)"><text>f</text></a><a href=" VBScript:msgbox(1)"><text>g</text></a>"#,
        r#"<x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script><foreignObject><iframe src="https://evil.example"/></foreignObject><script><![CDATA[alert(2)]]></script>"#,
        r#"<g onclick="alert(1)" onLoad="alert(2)"><circle r="1" style="behavior:url(x.htc);color:red" filter="url(http://evil.example/f#x)"/></g>"#,
        r#"<rect width="1" height="1" fill="javascript:alert(1)" class="vbscript:x"/><text>&lt;script&gt;</text>"#,
    ]
    .iter()
    .map(|body| format!(r#"<svg {NS} onload="alert(0)">{body}</svg>"#))
    .collect()
}

/// Ordinary SVGs that must come out usable and stay the same when sanitised again.
const ORDINARY: &[(&str, &[&str])] = &[
    (r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#, &["<svg"]),
    (
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24"><path d="M12 2L2 7l10 5 10-5-10-5z" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>"#,
        &["<path", "M12 2L2 7l10 5 10-5-10-5z", "stroke-width"],
    ),
    (
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><defs><linearGradient id="g" x1="0" x2="1"><stop offset="0" stop-color="#f00"/><stop offset="1" stop-color="#00f"/></linearGradient><radialGradient id="r"><stop offset="0.5" style="stop-color:#0f0"/></radialGradient></defs><rect width="100" height="100" fill="url(#g)"/><circle r="9" style="fill: url('#r')"/></svg>"##,
        &["linearGradient", "url(#g)", "stop-color", "#r"],
    ),
    (
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"80\" height=\"20\">\n  <text x=\"10\" y=\"15\" font-family=\"Arial\" font-size=\"12\">Hello &amp; &lt;world&gt; \u{00e9}<tspan font-weight=\"bold\">!</tspan></text>\n</svg>\n",
        &["<text", "Hello &amp; &lt;world&gt;", "<tspan", "\u{00e9}"],
    ),
    (
        r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><defs><circle id="c" r="5"/><clipPath id="k"><rect width="4" height="4"/></clipPath></defs><use href="#c" x="10"/><use xlink:href="#c" x="20" clip-path="url(#k)"/></svg>"##,
        &[r##"href="#c""##, r##"xlink:href="#c""##, "url(#k)"],
    ),
    (
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- Generator: Illustrator -->\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><style>.a{fill:#fff}.b{stroke:url(#g)}</style><g class=\"a\"><path d=\"M0 0h1\"/></g><image width=\"1\" height=\"1\" href=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4z8AAAAMBAQD3A0FDAAAAAElFTkSuQmCC\"/></svg>",
        &[".a{fill:#fff}", "class=\"a\"", "data:image/png;base64,iVBOR"],
    ),
];

async fn sanitize_one(s: &TestServer, token: &str, svg: &str) -> common::Resp {
    s.post_json(
        "/media/sanitize/svg",
        Some(token),
        &json!({"svg_files": [{"filename": "a.svg", "content": svg}]}),
    )
    .await
}

async fn sanitized(s: &TestServer, token: &str, svg: &str) -> String {
    let r = sanitize_one(s, token, svg).await;
    r.expect(200, "sanitize");
    let v: Value = r.json();
    let files = v["sanitized_files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "the SVG is kept: {v} for {svg}");
    let content = files[0]["content"].as_str().unwrap().to_string();
    assert_eq!(files[0]["hash"], md5_hex(content.as_bytes()));
    content
}

/// A raster image inlined as base64: the only `data:` an SVG may keep.
fn is_raster_data(v: &str) -> bool {
    [
        "data:image/png;base64,",
        "data:image/jpeg;base64,",
        "data:image/gif;base64,",
        "data:image/webp;base64,",
    ]
    .iter()
    .any(|p| {
        v.strip_prefix(p).is_some_and(|b| {
            b.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c))
        })
    })
}

/// Every `url(` points inside the document.
fn urls_are_local(folded: &str) -> bool {
    folded.match_indices("url(").all(|(i, _)| {
        folded[i + 4..]
            .trim_start_matches(['\'', '"'])
            .starts_with('#')
    })
}

#[track_caller]
fn assert_inert(svg: &str) {
    let lower = svg.to_lowercase();
    for bad in [
        "javascript",
        "vbscript",
        "<script",
        "foreignobject",
        "<animate",
        "<set",
        "<discard",
        "@import",
        "evil.example",
        "<iframe",
    ] {
        assert!(!lower.contains(bad), "`{bad}` survived: {svg}");
    }
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut in_style = false;
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("output is not XML ({e}): {svg}"))
        {
            Event::Start(e) | Event::Empty(e) => {
                in_style = e.local_name().as_ref() == b"style";
                for a in e.attributes() {
                    let a = a.unwrap();
                    let name = String::from_utf8_lossy(a.key.as_ref()).to_string();
                    let value = a.unescape_value().unwrap().to_string();
                    assert!(
                        !name.to_lowercase().starts_with("on"),
                        "handler {name} in {svg}"
                    );
                    if name == "xmlns" || name.starts_with("xmlns:") {
                        continue;
                    }
                    let folded: String = value
                        .to_lowercase()
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect();
                    if is_raster_data(&value) {
                        continue;
                    }
                    for bad in ["http:", "https:", "//", "data:"] {
                        assert!(
                            !folded.contains(bad),
                            "external `{bad}` in {name}={value:?}: {svg}"
                        );
                    }
                    assert!(
                        urls_are_local(&folded),
                        "url() outside the document in {name}={value:?}: {svg}"
                    );
                    if name.ends_with("href") {
                        assert!(value.starts_with('#'), "href to {value:?}: {svg}");
                    }
                }
            }
            Event::Text(t) if in_style => {
                let css: String = t
                    .decode()
                    .unwrap()
                    .to_lowercase()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                assert!(
                    urls_are_local(&css) && !css.contains("http") && !css.contains("//"),
                    "external CSS: {svg}"
                );
            }
            Event::End(_) => in_style = false,
            Event::Eof => break,
            _ => {}
        }
    }
}

#[tokio::test]
async fn attacks_come_back_inert_and_as_fixed_points() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    for evil in attacks() {
        let clean = sanitized(&s, &alice, &evil).await;
        assert_inert(&clean);
        assert!(clean.starts_with("<svg"), "{clean}");
        assert_eq!(
            sanitized(&s, &alice, &clean).await,
            clean,
            "sanitising is a fixed point"
        );
    }
    let harmless = sanitized(&s, &alice, &attacks()[9]).await;
    assert!(
        harmless.contains("color:red") || harmless.contains("<circle"),
        "harmless parts stay: {harmless}"
    );
}

#[tokio::test]
async fn ordinary_svgs_survive_and_are_fixed_points_that_upload() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let deck = root_deck(
        "Svg Corpus",
        &new_uuid(),
        "",
        vec![note("SvgCorpus1", &["<img src=\"a.svg\">", "x"], &[])],
        vec![],
    );
    let r = s.publish_raw(&alice, &deck).await.json();
    let (hash, bulk) = (
        r["message"].as_str().unwrap().to_string(),
        r["bulk_operation_id"].as_str().unwrap().to_string(),
    );
    for (svg, markers) in ORDINARY {
        let clean = sanitized(&s, &alice, svg).await;
        for m in *markers {
            assert!(clean.contains(m), "`{m}` lost: {svg} -> {clean}");
        }
        assert_inert(&clean);
        assert_eq!(
            sanitized(&s, &alice, &clean).await,
            clean,
            "fixed point for {svg}"
        );
    }
    let icon = sanitized(&s, &alice, ORDINARY[2].0).await;
    s.upload_media(
        &alice,
        &hash,
        &[("a.svg", "SvgCorpus1", icon.as_bytes().to_vec())],
        &bulk,
    )
    .await;
    assert_eq!(
        s.download_media(&alice, &hash, &["a.svg"]).await[0].1,
        icon.as_bytes(),
        "the sanitised SVG is accepted as an upload"
    );
}

fn nested(depth: usize) -> String {
    format!(
        "<svg {NS}>{}{}</svg>",
        "<g>".repeat(depth),
        "</g>".repeat(depth)
    )
}

/// Peak resident memory of this process since the last [`reset_peak`], in KiB.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Resets the kernel's peak-RSS mark (Linux ≥ 4.0), answering the current RSS in KiB.
fn reset_peak() -> u64 {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    peak_kib()
}

#[tokio::test]
async fn deep_nesting_is_refused_quickly_with_little_memory() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let r = s
        .publish_raw(
            &alice,
            &root_deck(
                "Deep",
                &new_uuid(),
                "",
                vec![note("DeepNote01", &["<img src=\"d.svg\">", "x"], &[])],
                vec![],
            ),
        )
        .await
        .json();
    let (hash, bulk) = (
        r["message"].as_str().unwrap().to_string(),
        r["bulk_operation_id"].as_str().unwrap().to_string(),
    );
    let before = reset_peak();
    for depth in [5_000, 20_000] {
        let svg = nested(depth);
        let r = sanitize_one(&s, &alice, &svg).await;
        r.expect_4xx(&format!("{depth} levels"));
        assert!(
            r.text.contains("deep") || r.text.contains("nest"),
            "the refusal says why: {}",
            r.text
        );
        let c = s
            .media_check(
                &alice,
                &hash,
                vec![listing("d.svg", "DeepNote01", svg.as_bytes())],
                &bulk,
            )
            .await
            .json();
        let url = c["missing_files"][0]["upload_url"]
            .as_str()
            .unwrap()
            .to_string();
        s.media_put(&url, svg.into_bytes(), None)
            .await
            .expect(422, "deep SVG upload");
    }
    let grown = peak_kib().saturating_sub(before);
    assert!(
        grown < 32 * 1024,
        "peak RSS grew by {grown} KiB while refusing deep SVGs"
    );
    // Many shallow elements are fine and cost linear output.
    let wide = format!(
        "<svg {NS}>{}</svg>",
        "<g><rect width=\"1\" height=\"1\"/></g>".repeat(20_000)
    );
    let clean = sanitized(&s, &alice, &wide).await;
    assert!(
        clean.len() <= wide.len(),
        "output grows at most linearly: {} -> {}",
        wide.len(),
        clean.len()
    );
    let limit = format!(
        "<svg {NS}>{}{}</svg>",
        "<g>".repeat(200),
        "</g>".repeat(200)
    );
    sanitized(&s, &alice, &limit).await;
}
