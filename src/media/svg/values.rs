//! Which attribute values and `<style>` sheets may stay: nothing that names a scheme, a
//! host or a script hook, and references only to the document's own ids.

use super::allow;

/// The SVG namespace, the only default namespace kept.
pub const SVG_NS: &str = "http://www.w3.org/2000/svg";
/// The XLink namespace, the only prefix declaration kept (for `xlink:href`).
const XLINK_NS: &str = "http://www.w3.org/1999/xlink";

/// Substrings no kept value or sheet may contain once case and whitespace are folded
/// away: script schemes and hooks, any URL scheme or protocol-relative host, CSS imports,
/// escapes (which could spell any of these) and resource functions other than `url(#…)`.
const FORBIDDEN: &[&str] = &[
    "javascript",
    "vbscript",
    "livescript",
    "expression(",
    "behavior",
    "-moz-binding",
    "http:",
    "https:",
    "ftp:",
    "file:",
    "data:",
    "blob:",
    "//",
    "@import",
    "\\",
    "image(",
    "image-set(",
    "src(",
    "</",
];

/// Rasters an `<image>` may inline.
const RASTER_DATA: &[&str] = &[
    "data:image/png;base64,",
    "data:image/jpeg;base64,",
    "data:image/gif;base64,",
    "data:image/webp;base64,",
];

/// Whether attribute `key="value"` of element `element` stays.
pub fn keep_attribute(element: &str, key: &str, value: &str) -> bool {
    match key {
        "xmlns" => value == SVG_NS,
        "xmlns:xlink" => value == XLINK_NS,
        "href" | "xlink:href" => href_is_safe(element, value),
        "style" => css_is_safe(value),
        _ => allow::attribute(key) && is_inert(value),
    }
}

/// A reference to the document's own element, or an inlined raster on `<image>`/`<feImage>`.
fn href_is_safe(element: &str, value: &str) -> bool {
    let v = value.trim();
    if let Some(id) = v.strip_prefix('#') {
        return id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    }
    matches!(element, "image" | "feImage")
        && RASTER_DATA.iter().any(|p| {
            v.strip_prefix(p).is_some_and(|b| {
                b.bytes().all(|c| {
                    c.is_ascii_alphanumeric() || b"+/=".contains(&c) || c.is_ascii_whitespace()
                })
            })
        })
}

/// A style sheet or inline style that loads nothing and runs nothing.
pub fn css_is_safe(css: &str) -> bool {
    is_inert(css)
}

/// No forbidden substring, and every `url(` points at an id of this document.
fn is_inert(value: &str) -> bool {
    let folded: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .flat_map(char::to_lowercase)
        .collect();
    !FORBIDDEN.iter().any(|f| folded.contains(f))
        && folded.match_indices("url(").all(|(i, _)| {
            folded[i + 4..]
                .trim_start_matches(['\'', '"'])
                .starts_with('#')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_references_and_rasters_stay() {
        assert!(keep_attribute("use", "href", "#icon-1"));
        assert!(!keep_attribute("use", "href", "other.svg#icon"));
        assert!(!keep_attribute("use", "xlink:href", "#x\" onload=\"y"));
        assert!(keep_attribute(
            "image",
            "href",
            "data:image/png;base64,iVBORw0KGgo="
        ));
        assert!(!keep_attribute(
            "a",
            "href",
            "data:image/png;base64,iVBORw0KGgo="
        ));
        assert!(!keep_attribute(
            "image",
            "href",
            "data:image/svg+xml;base64,PHN2Zz4="
        ));
        assert!(keep_attribute("rect", "fill", "url(#g)"));
        assert!(keep_attribute("rect", "fill", "url( '#g' )"));
        assert!(!keep_attribute("rect", "fill", "url(http://x/#g)"));
        assert!(!keep_attribute("rect", "fill", "url(g.svg#g)"));
        assert!(!keep_attribute("rect", "fill", "JaVa\tScript:x"));
        assert!(!keep_attribute("rect", "onclick", "x"));
        assert!(!keep_attribute(
            "svg",
            "xmlns",
            "http://www.w3.org/1999/xhtml"
        ));
        assert!(css_is_safe(".a{fill:url(#g)} .b > .c {stroke:red}"));
        assert!(!css_is_safe("@import 'x.css';"));
        assert!(!css_is_safe(".a{fill:u\\72l(x)}"));
        assert!(!css_is_safe(".a{background:url(//evil/x)}"));
    }
}
