//! SVG sanitising with Cloudflare's `svg-hush`: scripts, event handlers, foreign objects
//! and external references are removed, so an SVG can never run code in a subscriber's
//! card view. The output is a fixed point, so a sanitised file passes the upload check.

/// Largest SVG accepted for sanitising (the add-on sends at most 1 MB per batch).
pub const MAX_SVG_BYTES: usize = 1024 * 1024;

/// The sanitised SVG, or why the input is not an SVG at all.
pub fn sanitize(input: &[u8]) -> Result<String, String> {
    if input.len() > MAX_SVG_BYTES {
        return Err(format!("larger than {MAX_SVG_BYTES} bytes"));
    }
    let once = run(input)?;
    // svg-hush re-indents; a second pass settles the layout so the result is stable.
    let twice = run(once.as_bytes())?;
    Ok(twice)
}

fn run(input: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(input.len());
    svg_hush::Filter::new()
        .filter(input, &mut out)
        .map_err(|e| e.to_string())?;
    let text =
        String::from_utf8(out).map_err(|_| "sanitiser produced invalid UTF-8".to_string())?;
    if !text.contains("<svg") {
        return Err("no <svg> element".into());
    }
    Ok(text)
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
  <rect width="10" height="10" fill="red"/>
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
        ] {
            assert!(!clean.contains(bad), "{bad} survived: {clean}");
        }
        assert!(clean.contains("<rect"), "{clean}");
        assert_eq!(
            sanitize(clean.as_bytes()).unwrap(),
            clean,
            "sanitising is a fixed point"
        );
    }

    #[test]
    fn non_svg_is_refused() {
        assert!(sanitize(b"not xml at all").is_err());
        assert!(sanitize(b"<html><body/></html>").is_err());
    }
}
