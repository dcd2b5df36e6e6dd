//! HTML cleaning for everything a subscriber's Anki will render: no script, no event
//! handler, no `javascript:` URL, while ordinary card HTML survives.

use std::sync::LazyLock;

use ammonia::Builder;

static CLEANER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::default();
    b.add_tags(["font", "span", "div", "u", "s", "audio", "video", "source", "hr", "br", "ruby", "rt", "rp"])
        .add_generic_attributes(["style", "class", "id", "dir", "lang", "title", "align"])
        .add_tag_attributes("font", ["color", "face", "size"])
        .add_tag_attributes("img", ["width", "height", "alt", "title"])
        .add_tag_attributes("audio", ["src", "controls"])
        .add_tag_attributes("video", ["src", "controls"])
        .add_tag_attributes("source", ["src", "type"])
        .link_rel(None)
        .strip_comments(true);
    b
});

/// Cleans HTML; text without markup passes through byte for byte.
pub fn html(input: &str) -> String {
    if !input.contains('<') {
        return input.to_string();
    }
    CLEANER.clean(input).to_string()
}

/// Cleans in place (only allocates when there is markup).
pub fn html_in_place(s: &mut String) {
    if s.contains('<') {
        *s = html(s);
    }
}

/// CSS is not HTML: only stop it from closing its `<style>` element.
pub fn css(input: &mut String) {
    let lower = input.to_ascii_lowercase();
    if lower.contains("</style") || lower.contains("<script") {
        *input = input.replace('<', "\\3c ");
    }
}

/// Tags are plain words; anything with markup or whitespace is refused.
pub fn tag_is_safe(tag: &str) -> bool {
    !tag.is_empty() && tag.len() <= 256 && !tag.contains(['<', '>', '"', ' ', '\t', '\n', '\r'])
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
    fn template_markers_survive() {
        assert_eq!(html("{{FrontSide}}<hr id=\"answer\">{{Back}}"), "{{FrontSide}}<hr id=\"answer\">{{Back}}");
    }
}
