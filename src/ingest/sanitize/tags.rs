//! Tags, safe where a template shows `{{Tags}}`: Anki inserts them as raw HTML,
//! separated by spaces, as text or inside an attribute (`<span class="{{Tags}}">`).
//!
//! The rule, applied on publish and on every suggestion: each tag loses every `<`, `>`,
//! `"`, `'`, `&`, backtick and `=`, every whitespace or control character and every
//! bidirectional override or isolate (which would let a tag read backwards); a tag
//! left empty, longer than [`MAX_TAG_BYTES`], or starting with a script or data URL
//! scheme (`javascript:`, `vbscript:`, `livescript:`, `data:`, any case) is dropped;
//! duplicates that cleaning creates are dropped too. What is left can neither open
//! markup nor leave a quoted attribute, and a tag can never be an `on…=` handler even
//! in an unquoted attribute.

use std::collections::HashSet;

/// Longest tag kept, in bytes.
pub const MAX_TAG_BYTES: usize = 256;

/// Schemes a tag may not start with.
const SCHEMES: &[&str] = &["javascript:", "vbscript:", "livescript:", "data:"];

/// Cleans tags in place by the module's rule, keeping their order.
pub fn clean_tags(tags: &mut Vec<String>) {
    let mut seen = HashSet::new();
    tags.retain_mut(|tag| {
        if tag.contains(is_removed) {
            tag.retain(|c| !is_removed(c));
        }
        let lower = tag.get(..12).unwrap_or(tag).to_ascii_lowercase();
        let keep = !tag.is_empty()
            && tag.len() <= MAX_TAG_BYTES
            && !SCHEMES.iter().any(|s| lower.starts_with(s));
        keep && seen.insert(tag.clone())
    });
}

fn is_removed(c: char) -> bool {
    matches!(
        c,
        '<' | '>' | '"' | '\'' | '&' | '`' | '=' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    ) || c.is_whitespace()
        || c.is_control()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_lose_markup_and_script_schemes() {
        let mut tags: Vec<String> = [
            "geo",
            "JavaScript:alert(1)",
            "onerror=alert(1)",
            "x\"onmouseover=\"y",
            "<b>",
            "R&D",
            "data:text/html",
            " ",
            "geo",
            "AnkiCollab_Optional::extra::x",
            "javascript",
            "a\u{3000}b",
            "c\u{202E}gpj.exe\u{2066}",
        ]
        .map(String::from)
        .to_vec();
        clean_tags(&mut tags);
        assert_eq!(
            tags,
            [
                "geo",
                "onerroralert(1)",
                "xonmouseovery",
                "b",
                "RD",
                "AnkiCollab_Optional::extra::x",
                "javascript",
                "ab",
                "cgpj.exe"
            ]
        );
        let again = tags.clone();
        clean_tags(&mut tags);
        assert_eq!(tags, again, "a fixed point");
    }
}
