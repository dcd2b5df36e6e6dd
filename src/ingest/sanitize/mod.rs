//! HTML cleaning for everything a subscriber's Anki will render: no script, no event
//! handler, no `javascript:` URL, no URL in an inline style, while ordinary card HTML
//! survives.
//!
//! Fields get the strict rule ([`field_in_place`]) because Anki pastes them into card
//! templates as raw text: between tags, inside quoted attributes, next to each other.
//! Tags get the rule of [`clean_tags`]. Deck names, descriptions and notetype templates
//! are never pasted into a template; they keep their bytes unless they look active, and
//! then go through the same allow-list cleaner ([`html`]).

mod cleaner;
mod fields;
mod style;
mod tags;

pub use fields::field_in_place;
pub use tags::clean_tags;

/// Markup that can carry script once whitespace and case are folded away; a name,
/// description or template containing one of these goes through the allow-list cleaner.
const SUSPECT: &[&str] = &[
    "<script",
    "<iframe",
    "<frame",
    "<object",
    "<embed",
    "<applet",
    "<svg",
    "<math",
    "<style",
    "<link",
    "<meta",
    "<base",
    "<form",
    "<template",
    "<portal",
    "<!--",
    "javascript:",
    "vbscript:",
    "livescript:",
    "data:",
    "&#",
    "&colon",
    "&tab",
    "&newline",
    "srcdoc",
    "formaction",
    "xlink:",
    "expression(",
    "@import",
    "behavior",
    "url(",
    "`",
];

/// True when the text could run script in a subscriber's Anki.
fn is_suspect(input: &str) -> bool {
    if !input.contains('<') && !input.contains('&') {
        return false;
    }
    let lower = input.to_ascii_lowercase();
    let folded: String = lower
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .collect();
    SUSPECT.iter().any(|s| folded.contains(s)) || has_event_handler(&lower)
}

/// Finds `on<letters>=` attribute names (event handlers) anywhere in the markup.
fn has_event_handler(lower: &str) -> bool {
    let b = lower.as_bytes();
    let mut i = 0;
    while let Some(pos) = lower[i..].find("on") {
        let at = i + pos;
        let boundary = at == 0
            || matches!(
                b[at - 1],
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'"' | b'\''
            );
        let mut j = at + 2;
        while j < b.len() && b[j].is_ascii_alphabetic() {
            j += 1;
        }
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if boundary && j > at + 2 && j < b.len() && b[j] == b'=' {
            return true;
        }
        i = at + 2;
    }
    false
}

/// Cleans a name, description, template or message. Ordinary markup passes through
/// byte for byte; anything that could carry script is rebuilt by the allow-list.
pub fn html(input: &str) -> String {
    if !is_suspect(input) {
        return input.to_string();
    }
    cleaner::clean(input)
}

/// [`html`] in place (only allocates when something had to be removed).
pub fn html_in_place(s: &mut String) {
    if is_suspect(s) {
        *s = cleaner::clean(s);
    }
}

/// CSS is not HTML: only stop it from closing its `<style>` element.
pub fn css(input: &mut String) {
    let lower = input.to_ascii_lowercase();
    if lower.contains("</style") || lower.contains("<script") {
        *input = input.replace('<', "\\3c ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_scripts_keeps_card_html() {
        let dirty = r#"<b>bold</b><script>alert(1)</script><img src="a.png" onerror="x()"><a href="javascript:alert(1)">l</a>[sound:x.mp3]"#;
        let clean = html(dirty);
        assert!(!clean.contains("script"));
        assert!(!clean.contains("onerror"));
        assert!(!clean.contains("javascript:"));
        assert!(clean.contains(r#"<img src="a.png">"#));
        assert!(clean.contains("<b>bold</b>"));
        assert!(clean.contains("[sound:x.mp3]"));
        assert_eq!(html("plain & simple"), "plain & simple");
        assert_eq!(html(&html(dirty)), html(dirty));
    }

    #[test]
    fn ordinary_html_is_untouched() {
        for ok in [
            "{{FrontSide}}<hr id=answer>{{Back}}",
            "<b>x</b><br><img src=a.png>",
            "<div class=\"cloze\">{{c1::one}}</div>",
        ] {
            assert_eq!(html(ok), ok);
        }
    }

    #[test]
    fn obfuscated_script_is_caught() {
        for bad in [
            "<a href=\"java\tscript:alert(1)\">x</a>",
            "<a href=\"&#106;avascript:alert(1)\">x</a>",
            "<img src=x onerror =alert(1)>",
            "<img src=x /onload=alert(1)>",
            "<IMG SRC=x ONERROR=alert(1)>",
            "<svg><script>alert(1)</script></svg>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
        ] {
            let clean = html(bad).to_ascii_lowercase();
            assert!(
                !clean.contains("script:")
                    && !clean.contains("onerror")
                    && !clean.contains("onload")
                    && !clean.contains("<script"),
                "{bad} -> {clean}"
            );
        }
    }
}
