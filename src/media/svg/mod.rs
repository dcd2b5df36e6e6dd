//! SVG sanitising: one streaming pass over the XML (quick-xml) that keeps an allow-list
//! of static SVG elements and attributes, so an SVG can never run code or reach outside
//! itself in a subscriber's card view.
//!
//! The output has no `<script>`, `<foreignObject>`, animation (`animate`, `set`,
//! `animateTransform`, `animateMotion`, `discard`), `on…` handler or namespaced element;
//! no attribute value or `<style>` text with `javascript`/`vbscript`, a scheme, `//host`
//! or `@import`; `url(…)` only as `url(#id)`; `href` only as `#id`, or on `<image>` a
//! base64 PNG, JPEG, GIF or WebP. Comments, the XML declaration, DOCTYPE and processing
//! instructions are dropped, text is re-escaped canonically, and nothing is re-indented,
//! so the cost is linear in the input and the output is a fixed point
//! (`sanitize(sanitize(x)) == sanitize(x)`), which the upload check relies on. Nesting
//! deeper than [`MAX_DEPTH`], more than [`MAX_ELEMENTS`] elements, or more than
//! [`MAX_SVG_BYTES`] in or [`MAX_OUTPUT_BYTES`] out are refused.

mod allow;
mod filter;
mod values;

/// Largest SVG accepted for sanitising (the add-on sends at most 1 MB per batch).
pub const MAX_SVG_BYTES: usize = 1024 * 1024;
/// Deepest element nesting accepted; drawings need a few dozen levels at most.
pub const MAX_DEPTH: usize = 256;
/// Most elements accepted in one SVG.
pub const MAX_ELEMENTS: usize = 100_000;
/// Largest sanitised output (re-escaping can lengthen text a little, never more).
pub const MAX_OUTPUT_BYTES: usize = 2 * MAX_SVG_BYTES;

/// Why an SVG was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SvgError {
    #[error("not an SVG: {0}")]
    NotSvg(String),
    #[error("SVG nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("SVG has more than {MAX_ELEMENTS} elements")]
    TooManyElements,
    #[error(
        "SVG is larger than {MAX_SVG_BYTES} bytes, or its sanitised form than {MAX_OUTPUT_BYTES}"
    )]
    TooLarge,
}

impl SvgError {
    /// True when the SVG exceeds a limit (rather than not being an SVG at all).
    pub fn is_limit(&self) -> bool {
        !matches!(self, Self::NotSvg(_))
    }
}

/// The sanitised SVG, or why it is refused.
pub fn sanitize(input: &[u8]) -> Result<String, SvgError> {
    if input.len() > MAX_SVG_BYTES {
        return Err(SvgError::TooLarge);
    }
    let text = std::str::from_utf8(input).map_err(|_| SvgError::NotSvg("not UTF-8".into()))?;
    filter::run(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_external_refs_are_removed() {
        let evil = br#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)">
  <script>alert(2)</script>
  <a xlink:href="javascript:alert(3)"><circle r="5" onclick="alert(4)"/></a>
  <image href="https://evil.example/x.png"/>
  <foreignObject><iframe src="https://evil.example"/></foreignObject>
  <animate attributeName="href" values="javascript:alert(5)"/><set attributeName="href" to="javascript:alert(6)"/>
  <rect width="10" height="10" fill="red" style="fill:url(http://evil.example/#g)"/>
</svg>"#;
        let clean = sanitize(evil).unwrap();
        for bad in [
            "alert",
            "script",
            "onload",
            "onclick",
            "javascript",
            "evil.example",
            "foreignObject",
            "iframe",
            "animate",
            "<set",
        ] {
            assert!(!clean.contains(bad), "{bad} survived: {clean}");
        }
        assert!(
            clean.contains(r#"<rect width="10" height="10" fill="red"/>"#),
            "{clean}"
        );
        assert_eq!(
            sanitize(clean.as_bytes()).unwrap(),
            clean,
            "sanitising is a fixed point"
        );
    }

    #[test]
    fn ordinary_svg_is_kept_as_written() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 9 9\">\n  <defs><linearGradient id=\"g\"><stop offset=\"0\" stop-color=\"#fff\"/></linearGradient></defs>\n  <rect fill=\"url(#g)\" width=\"9\" height=\"9\"/><text>a &amp; b &lt; c</text>\n</svg>";
        assert_eq!(sanitize(svg.as_bytes()).unwrap(), svg);
        assert_eq!(
            sanitize(br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#).unwrap(),
            r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#
        );
    }

    #[test]
    fn non_svg_is_refused() {
        assert!(matches!(
            sanitize(b"not xml at all"),
            Err(SvgError::NotSvg(_))
        ));
        assert!(matches!(
            sanitize(b"<html><body/></html>"),
            Err(SvgError::NotSvg(_))
        ));
        assert!(matches!(
            sanitize(b"<svg><g></svg>"),
            Err(SvgError::NotSvg(_))
        ));
        assert!(matches!(
            sanitize(b"<!DOCTYPE svg [<!ENTITY x \"javascript:y\">]><svg><a href=\"&x;\"/></svg>"),
            Err(SvgError::NotSvg(_))
        ));
    }

    #[test]
    fn limits_are_refused_early() {
        let deep = format!(
            "<svg>{}{}</svg>",
            "<g>".repeat(MAX_DEPTH),
            "</g>".repeat(MAX_DEPTH)
        );
        assert_eq!(sanitize(deep.as_bytes()), Err(SvgError::TooDeep));
        let ok = format!(
            "<svg>{}{}</svg>",
            "<g>".repeat(MAX_DEPTH - 1),
            "</g>".repeat(MAX_DEPTH - 1)
        );
        assert!(sanitize(ok.as_bytes()).is_ok());
        let many = format!("<svg>{}</svg>", "<g/>".repeat(MAX_ELEMENTS));
        assert_eq!(sanitize(many.as_bytes()), Err(SvgError::TooManyElements));
        assert_eq!(
            sanitize(&vec![b' '; MAX_SVG_BYTES + 1]),
            Err(SvgError::TooLarge)
        );
    }
}
